-- Whether a finding's value is held out of the baseline until triage decides (an established
-- identity's new destination), as a column of its own: the peer view and dashboards filter on
-- it without parsing the evidence snapshot. The policy it serves is model/baseline-policy.ts.
-- Rows written before this migration carry the flag only inside `baseline` (the detector's
-- facts): the DEFAULT reads it from there, so old rows answer correctly at once, and
-- MATERIALIZE COLUMN writes it into their parts. New rows always set the column.
ALTER TABLE {{db}}.findings
    ADD COLUMN IF NOT EXISTS held_for_triage Bool DEFAULT JSONExtractBool(baseline, 'held_for_triage')
    AFTER baseline;

ALTER TABLE {{db}}.findings MATERIALIZE COLUMN held_for_triage;
