-- Messages that could not become canonical events, with the reason and where they came from.
-- `raw` is the message text after secret redaction (the original bytes stay on the DLQ topic).
CREATE TABLE IF NOT EXISTS {{db}}.ingest_errors
(
    received_at   DateTime64(3, 'UTC') DEFAULT now64(3),
    origin        LowCardinality(String),
    topic         LowCardinality(String),
    partition     Int32,
    offset        Int64,
    message_key   String,
    message_ts    DateTime64(3, 'UTC'),
    format        LowCardinality(String),
    reason_code   LowCardinality(String),
    reason        String,
    raw           String CODEC(ZSTD(3)),
    raw_bytes     UInt32,
    raw_sha256    String,
    redactions    Array(Tuple(path String, kind LowCardinality(String), fingerprint String))
)
ENGINE = ReplacingMergeTree(received_at)
PARTITION BY toYYYYMM(received_at)
ORDER BY (topic, partition, offset)
SETTINGS non_replicated_deduplication_window = 10000;
