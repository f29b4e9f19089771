-- The identity registry: owner, purpose, lifecycle, credentials and declared scope per
-- non-human identity. Rows come from the identities file (source 'file'), the API ('api'), or
-- from events for identities nobody registered (source 'events', registered = 0). Updates are
-- new versions; ReplacingMergeTree keeps the latest per id (read with FINAL).
CREATE TABLE IF NOT EXISTS {{db}}.identities
(
    id               String,
    type             LowCardinality(String),
    owner            String,
    purpose          String,
    state            LowCardinality(String),
    state_changed_at Nullable(DateTime64(3, 'UTC')),
    credentials      Array(Tuple(id String, state LowCardinality(String), revoked_at Nullable(DateTime64(3, 'UTC')))),
    -- The declared scope as JSON ('' = none): globs are read whole by the detectors.
    scope_json       String,
    registered       UInt8,
    source           LowCardinality(String),
    first_seen       Nullable(DateTime64(3, 'UTC')),
    updated_at       DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY id;
