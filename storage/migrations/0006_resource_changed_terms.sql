-- Baselines remember which resources each identity changed itself (created, wrote,
-- reconfigured, deleted): the `resource_changed` term, mirroring detectors/terms.ts
-- (CHANGING_ACTIONS). Removing a resource the identity changed inside its window is cleaning up
-- its own work, which the first-seen detectors do not report as drift.
-- A materialized view's query cannot be altered in place: the view is replaced. Migrations run
-- before ingest starts, so no insert falls between the two statements.
DROP VIEW IF EXISTS {{db}}.baseline_terms_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.baseline_terms_mv TO {{db}}.baseline_terms AS
-- resourcePrefix(): strip a URL scheme, then up to the first '/' (not first or last), else up
-- to the first of - _ . (not first or last), else no prefix.
WITH
    if(resource_id = '', '', if(resource_type = '', resource_id, concat(resource_type, ':', resource_id))) AS resource,
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
    ('resource', resource),
    ('resource_prefix', if(prefix = '', '', if(resource_type = '', prefix, concat(resource_type, ':', prefix)))),
    ('tool_resource', if(resource = '', '', concat(tool, '\x01', resource))),
    ('resource_changed', if(action IN ('data.write', 'data.delete', 'identity.change', 'deploy', 'code.commit', 'code.push'), resource, '')),
    ('domain', target_domain),
    ('credential', identity_credential)
]) AS term
GROUP BY identity_id, kind, value, day;

-- Existing history learns the new term from the raw events still retained (on a new database
-- `actions` is empty and this inserts nothing). Days already holding the term are skipped, so
-- applying the migration again after an interruption does not count anything twice.
INSERT INTO {{db}}.baseline_terms
SELECT
    identity_id,
    'resource_changed' AS kind,
    if(resource_type = '', resource_id, concat(resource_type, ':', resource_id)) AS value,
    toDate(ts) AS day,
    min(ts) AS first_ts,
    max(ts) AS last_ts,
    count() AS events
FROM {{db}}.actions
WHERE resource_id != ''
  AND action IN ('data.write', 'data.delete', 'identity.change', 'deploy', 'code.commit', 'code.push')
  AND (identity_id, value, day) NOT IN (
      SELECT identity_id, value, day FROM {{db}}.baseline_terms WHERE kind = 'resource_changed')
GROUP BY identity_id, value, day;
