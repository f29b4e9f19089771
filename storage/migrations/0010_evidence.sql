-- Evidence (DESIGN.md "Evidence bundle"): the hash chain over findings and the triage history.
--
-- One immutable detection record per finding, written when the finding is first stored: the
-- finding as it opened (the baseline snapshot the detector saw, detector id / version / config
-- hash) and the identity record as it was then, as canonical JSON. Each record names its
-- predecessor's chain hash, so a record deleted or altered later breaks the chain for every
-- record after it. Append-only: nothing updates or deletes these rows.
CREATE TABLE IF NOT EXISTS {{db}}.finding_records
(
    seq         UInt64,
    finding_id  String,
    recorded_at DateTime64(3, 'UTC'),
    record      String CODEC(ZSTD(3)),
    record_hash FixedString(64),
    prev_hash   FixedString(64),
    chain_hash  FixedString(64),
    INDEX idx_finding finding_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = MergeTree
ORDER BY seq;

-- Every triage decision, in order: the `findings` table keeps only the latest status, an
-- auditor wants who changed what, when, from what, and why.
CREATE TABLE IF NOT EXISTS {{db}}.finding_triage
(
    finding_id      String,
    at              DateTime64(3, 'UTC'),
    previous_status LowCardinality(String),
    status          LowCardinality(String),
    note            String,
    key_id          String
)
ENGINE = MergeTree
ORDER BY (finding_id, at);
