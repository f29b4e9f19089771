-- Findings (contract, see DESIGN.md). A finding is updated in place as repeats arrive (count,
-- last_ts, cited events) and by triage (status, note): each update is a new row version and
-- ReplacingMergeTree keeps the latest; read with FINAL.
CREATE TABLE IF NOT EXISTS {{db}}.findings
(
    finding_id       String,
    detector         LowCardinality(String),
    detector_version LowCardinality(String),
    identity_id      String,
    session          String,
    severity         LowCardinality(String),
    score            Float64,
    title            String,
    explanation      String,
    event_ids        Array(String),
    first_ts         DateTime64(3, 'UTC'),
    last_ts          DateTime64(3, 'UTC'),
    count            UInt32,
    status           LowCardinality(String),
    frameworks       Array(LowCardinality(String)),
    created_at       DateTime64(3, 'UTC'),
    dedup_key        String,
    subject          String,
    term_kind        LowCardinality(String),
    config_hash      String,
    -- The baseline facts the detector relied on, as JSON, frozen when the finding opened:
    -- evidence bundles must show what the detector saw then, not today's baseline.
    baseline         String CODEC(ZSTD(3)),
    note             String,
    updated_at       DateTime64(3, 'UTC'),
    version          UInt64,
    INDEX idx_identity identity_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(version)
ORDER BY finding_id;

-- Triage decisions that change baselines: `allow` teaches a value as normal for an identity,
-- `exclude` keeps it out for good (a confirmed incident).
CREATE TABLE IF NOT EXISTS {{db}}.baseline_overrides
(
    identity_id String,
    kind        LowCardinality(String),
    value       String,
    effect      LowCardinality(String),
    finding_id  String,
    created_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(created_at)
ORDER BY (identity_id, kind, value);

-- How far each detection path has judged events: the scheduled path catches up from here.
CREATE TABLE IF NOT EXISTS {{db}}.detector_state
(
    name       String,
    watermark  DateTime64(3, 'UTC'),
    updated_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY name;

-- Dashboard view: per-identity open findings by severity.
CREATE VIEW IF NOT EXISTS {{db}}.identity_findings_v AS
SELECT
    identity_id,
    countIf(severity = 'critical') AS critical,
    countIf(severity = 'high') AS high,
    countIf(severity = 'medium') AS medium,
    countIf(severity = 'low') AS low,
    max(last_ts) AS last_finding
FROM {{db}}.findings FINAL
WHERE status IN ('open', 'acknowledged')
GROUP BY identity_id;
