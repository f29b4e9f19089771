-- Baselines remember which resources each identity changed itself (created, wrote,
-- reconfigured, deleted): the `resource_changed` term, mirroring detectors/terms.ts
-- (CHANGING_ACTIONS). Removing a resource the identity changed inside its window is cleaning up
-- its own work, which the first-seen detectors do not report as a new tool or an escalation.
-- A second view into the same table: baseline_terms_mv (0004) stays as it is.
CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.baseline_changed_terms_mv TO {{db}}.baseline_terms AS
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
GROUP BY identity_id, value, day;

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
