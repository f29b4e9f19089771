-- Who a finding is assigned to, as of each triage decision ('' = nobody): the current assignee
-- is the latest decision's.
ALTER TABLE {{db}}.finding_triage ADD COLUMN IF NOT EXISTS assignee String DEFAULT '' AFTER note;
