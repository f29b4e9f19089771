-- Allow rules an analyst attached to a triage decision: baseline values (kind, value) the
-- identity may use from then on. They take effect through baseline_overrides; here they stay in
-- the finding's history, so evidence shows what a decision allowed and why.
ALTER TABLE {{db}}.finding_triage ADD COLUMN IF NOT EXISTS allowed Array(Tuple(kind LowCardinality(String), value String)) DEFAULT [] AFTER assignee;
