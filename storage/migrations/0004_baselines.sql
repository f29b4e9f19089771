-- Per-identity baselines, kept incrementally by materialized views so they outlive the raw
-- `actions` TTL. One row per identity × kind of term × value × day: first/last seen and
-- counts. The day grain lets a detector read "history before day D" exactly, and lets a
-- history window drop old days without rescanning raw events.
-- The term rules mirror detectors/terms.ts (termsOf, resourcePrefix); an integration test
-- checks that both give the same terms.
CREATE TABLE IF NOT EXISTS {{db}}.baseline_terms
(
    identity_id String,
    kind        LowCardinality(String),
    value       String,
    day         Date,
    first_ts    SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    last_ts     SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    events      SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (identity_id, kind, value, day)
-- A materialized view's target needs its own window for insert_deduplication_token to hold.
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.baseline_terms_mv TO {{db}}.baseline_terms AS
-- resourcePrefix(): strip a URL scheme, then up to the first '/' (not first or last), else up
-- to the first of - _ . (not first or last), else no prefix.
WITH
    replaceRegexpOne(resource_id, '^[A-Za-z][A-Za-z0-9+.-]*://', '') AS bare,
    positionUTF8(bare, '/') AS slash,
    multiSearchFirstPositionUTF8(bare, ['-', '_', '.']) AS delim,
    multiIf(
        resource_id = '', '',
        slash > 1 AND slash < lengthUTF8(bare), substringUTF8(bare, 1, slash),
        delim > 1 AND delim < lengthUTF8(bare), substringUTF8(bare, 1, delim),
        '') AS prefix
SELECT
    identity_id,
    term.1 AS kind,
    term.2 AS value,
    toDate(ts) AS day,
    min(ts) AS first_ts,
    max(ts) AS last_ts,
    count() AS events
FROM {{db}}.actions
ARRAY JOIN arrayFilter(t -> t.2 != '', [
    ('tool', tool),
    ('action', action),
    ('resource', if(resource_id = '', '', if(resource_type = '', resource_id, concat(resource_type, ':', resource_id)))),
    ('resource_prefix', if(prefix = '', '', if(resource_type = '', prefix, concat(resource_type, ':', prefix)))),
    ('tool_resource', if(resource_id = '', '', concat(tool, '\x01', if(resource_type = '', resource_id, concat(resource_type, ':', resource_id))))),
    ('domain', target_domain),
    ('credential', identity_credential)
]) AS term
GROUP BY identity_id, kind, value, day;

-- Hourly activity per identity: volume, failures, egress, distinct tools and sessions. The
-- input for rate/outlier detectors and for dashboards.
CREATE TABLE IF NOT EXISTS {{db}}.identity_hourly
(
    identity_id String,
    hour        DateTime('UTC'),
    events      SimpleAggregateFunction(sum, UInt64),
    failures    SimpleAggregateFunction(sum, UInt64),
    egress      SimpleAggregateFunction(sum, UInt64),
    tools       AggregateFunction(uniq, String),
    sessions    AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (identity_id, hour)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.identity_hourly_mv TO {{db}}.identity_hourly AS
SELECT
    identity_id,
    toStartOfHour(ts) AS hour,
    count() AS events,
    countIf(outcome IN ('failure', 'denied', 'error')) AS failures,
    countIf(target_domain != '') AS egress,
    uniqState(tool) AS tools,
    uniqState(session) AS sessions
FROM {{db}}.actions
GROUP BY identity_id, hour;

-- Dashboard view: one row per identity with its baseline at a glance.
CREATE VIEW IF NOT EXISTS {{db}}.identity_baseline_v AS
SELECT
    identity_id,
    min(first_ts) AS first_seen,
    max(last_ts) AS last_seen,
    sumIf(events, kind = 'tool') AS events,
    uniqExactIf(value, kind = 'tool') AS tools,
    uniqExactIf(value, kind = 'resource') AS resources,
    uniqExactIf(value, kind = 'domain') AS domains,
    uniqExactIf(value, kind = 'credential') AS credentials,
    groupUniqArrayIf(value, kind = 'action') AS action_classes
FROM {{db}}.baseline_terms
GROUP BY identity_id;
