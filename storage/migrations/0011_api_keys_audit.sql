-- API keys created through the API or CLI (keys from configuration are never stored): the
-- SHA-256 of the secret, never the secret. Revocation is a new version with revoked_at set.
CREATE TABLE IF NOT EXISTS {{db}}.api_keys
(
    key_id     String,
    role       LowCardinality(String),
    name       String,
    hash       FixedString(64),
    created_at DateTime64(3, 'UTC'),
    created_by String,
    revoked_at Nullable(DateTime64(3, 'UTC')),
    updated_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY key_id;

-- Every /v1 request, allowed or denied: who (key id and role, never the key), what, outcome
-- and latency. Append-only; kept a year.
CREATE TABLE IF NOT EXISTS {{db}}.api_audit
(
    at         DateTime64(3, 'UTC'),
    key_id     String,
    role       LowCardinality(String),
    method     LowCardinality(String),
    route      LowCardinality(String),
    url        String,
    status     UInt16,
    latency_ms Float64,
    ip         String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (at, key_id)
TTL toDateTime(at) + INTERVAL 365 DAY;
