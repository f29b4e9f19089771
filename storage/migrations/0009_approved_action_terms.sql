-- Baselines remember which action classes each identity performs with a human approval
-- reference: the `approved_action` term (the class, or the tool of an unclassified call),
-- mirroring detectors/terms.ts (approvedActionOf). An identity whose deploys
-- carry approvals is governed by approval; one such deploy without any is `approval.bypass`.
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
    ('credential', identity_credential),
    ('approved_action', if(approval_id = '', '', if(action IN ('tool.call', 'api.call'), tool, toString(action))))
]) AS term
GROUP BY identity_id, kind, value, day;

-- Existing history learns the new term from the raw events still retained. Days already
-- holding the term are skipped, so applying the migration again does not count anything twice.
INSERT INTO {{db}}.baseline_terms
SELECT
    identity_id,
    'approved_action' AS kind,
    if(action IN ('tool.call', 'api.call'), tool, toString(action)) AS value,
    toDate(ts) AS day,
    min(ts) AS first_ts,
    max(ts) AS last_ts,
    count() AS events
FROM {{db}}.actions
WHERE approval_id != ''
  AND (identity_id, value, day) NOT IN (
      SELECT identity_id, value, day FROM {{db}}.baseline_terms WHERE kind = 'approved_action')
GROUP BY identity_id, value, day;
