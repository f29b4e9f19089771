-- Canonical agent actions (scopewatch.action/v1), one row per event.
-- ReplacingMergeTree collapses redelivered events: the sort key ends with event_id, and a
-- replayed event carries the same identity and ts, so duplicates meet in the same partition.
-- Read with FINAL (or by distinct event_id) when exact counts matter.
CREATE TABLE IF NOT EXISTS {{db}}.actions
(
    event_id            String,
    ts                  DateTime64(3, 'UTC'),
    ingested_at         DateTime64(3, 'UTC') DEFAULT now64(3),
    schema_version      LowCardinality(String),
    source_format       LowCardinality(String),
    identity_id         String,
    identity_type       LowCardinality(String),
    identity_owner      LowCardinality(String),
    identity_instance   String,
    identity_credential String,
    session             String,
    action              LowCardinality(String),
    tool                LowCardinality(String),
    resource_type       LowCardinality(String),
    resource_id         String,
    target_domain       LowCardinality(String),
    permission          LowCardinality(String),
    outcome             LowCardinality(String),
    approval_id         String,
    approval_by         String,
    on_behalf_of        String,
    source_system       LowCardinality(String),
    source_ip           String,
    source_user_agent   String,
    -- Redacted, size-capped JSON of the tool arguments.
    args                String CODEC(ZSTD(3)),
    args_bytes          UInt32,
    attributes          Map(LowCardinality(String), String),
    -- Where secrets were found and removed: the fingerprint, never the value.
    redactions          Array(Tuple(path String, kind LowCardinality(String), fingerprint String)),
    kafka_topic         LowCardinality(String),
    kafka_partition     Int32,
    kafka_offset        Int64,
    INDEX idx_event_id event_id TYPE bloom_filter(0.001) GRANULARITY 4,
    INDEX idx_session session TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(ts)
ORDER BY (identity_id, ts, event_id)
-- The window makes insert_deduplication_token work on a non-replicated table: a batch
-- retried after an ambiguous failure (timeout, crash before commit) is written once.
SETTINGS non_replicated_deduplication_window = 10000;
