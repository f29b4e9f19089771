import { chainHash, GENESIS_HASH } from '../evidence/chain.js';
import type { SqlGateway } from './gateway.js';

/**
 * A fleet with a long findings history, generated inside ClickHouse for `bench:api`: registered
 * identities with declared scopes, their sessions of actions, one identity with a large review
 * period of activity, and findings over all of them with their evidence chain and triage
 * history, each written as the product writes it so the real repositories read it back.
 *
 * Everything is a function of (identity, session, position) or of the finding's number, so the
 * findings can cite actions that exist without joining anything:
 *  - identity i is `agent-00042`; i = 0 is the review identity;
 *  - event (i, s, k) is `e-00042-s-k`, the k-th event of session s of identity i, at the
 *    session's (hashed) start + k × 15 s (+ jitter): sessions lie anywhere in the period;
 *  - a finding picks an identity (skewed: a few noisy identities own many findings), one of
 *    its sessions and 1–3 consecutive events of it, a detector (weighted), a severity and
 *    score, a status (about half still open), and is created a minute after its last event.
 * The detection records (`finding_records`) are the canonical JSON the product hashes, chained
 * per day (one chain per writing process, as if ingest restarted daily); the chain hashes are
 * computed here, in order, exactly as `nextLink` would.
 */

export interface SyntheticFleet {
  /** Epoch ms where the period starts; every event and finding lies in [start, start + span). */
  start: number;
  span: number;
  identities: number;
  findings: number;
  /** Sessions per identity, and events per session. */
  sessions: number;
  sessionEvents: number;
  /** Actions of the review identity (rounded down to whole sessions). */
  reviewActions: number;
}

/** The identity name of identity number `i` (as the SQL below spells it). */
export function identityName(i: number): string {
  return `agent-${String(i).padStart(5, '0')}`;
}

/** The identity with `reviewActions` actions over the period. */
export const REVIEW_IDENTITY = identityName(0);

/** Detectors with their share of findings (per mille), version, term kind, frameworks and title. */
const DETECTORS = [
  [
    'scope.new_tool',
    200,
    '1.1.0',
    'tool',
    ['OWASP-NHI:NHI5', 'OWASP-AGENTIC:T2', 'NIST-CSF:DE.CM-09'],
    'New tool',
  ],
  [
    'scope.new_resource',
    200,
    '1.1.0',
    'resource',
    ['OWASP-NHI:NHI5', 'OWASP-AGENTIC:T3', 'NIST-CSF:DE.CM-09'],
    'New resource',
  ],
  [
    'scope.new_egress',
    150,
    '1.2.0',
    'domain',
    ['OWASP-NHI:NHI5', 'OWASP-AGENTIC:T2', 'NIST-CSF:DE.CM-01'],
    'New egress destination',
  ],
  [
    'scope.declared_violation',
    100,
    '1.1.0',
    '',
    ['OWASP-NHI:NHI5', 'OWASP-AGENTIC:T3', 'NIST-CSF:PR.AA-05'],
    'Outside declared scope',
  ],
  [
    'scope.privilege_escalation',
    50,
    '1.1.0',
    '',
    ['OWASP-NHI:NHI5', 'OWASP-AGENTIC:T3', 'NIST-CSF:PR.AA-05'],
    'Privilege escalation',
  ],
  [
    'approval.bypass',
    60,
    '1.0.0',
    '',
    ['OWASP-AGENTIC:T10', 'OWASP-NHI:NHI5', 'NIST-CSF:PR.AA-05'],
    'Action without required approval',
  ],
  [
    'chain.rare_transition',
    100,
    '1.0.0',
    '',
    ['OWASP-AGENTIC:T2', 'OWASP-AGENTIC:T6', 'NIST-CSF:DE.AE-02'],
    'Rare tool transition',
  ],
  [
    'lifecycle.revoked_activity',
    20,
    '1.0.0',
    '',
    ['OWASP-NHI:NHI1', 'OWASP-NHI:NHI7', 'NIST-CSF:PR.AA-01'],
    'Activity on a revoked credential',
  ],
  [
    'lifecycle.dormant_reactivation',
    30,
    '1.0.0',
    '',
    ['OWASP-NHI:NHI1', 'NIST-CSF:DE.CM-09'],
    'Dormant identity reactivated',
  ],
  [
    'identity.unregistered',
    10,
    '1.0.0',
    '',
    ['OWASP-NHI:NHI9', 'NIST-CSF:ID.AM-01'],
    'Unregistered identity',
  ],
  [
    'identity.workload_interactive_use',
    20,
    '1.0.0',
    '',
    ['OWASP-NHI:NHI2', 'OWASP-NHI:NHI7', 'NIST-CSF:DE.CM-03'],
    'Interactive use of a workload identity',
  ],
  ['rules.high_impact', 40, '1.0.0', '', ['OWASP-AGENTIC:T2'], 'High-impact action'],
  ['chain.sequence', 20, '1.0.0', '', ['OWASP-AGENTIC:T2', 'OWASP-AGENTIC:T6'], 'Suspicious sequence'],
] as const;

/** The detector ids, for filters. */
export const SYNTHETIC_DETECTORS: readonly string[] = DETECTORS.map((d) => d[0]);

// --- SQL fragments (fixed text, never input). Strings built here never need JSON escaping. ---

const strArray = (items: readonly string[]): string => `[${items.map((s) => `'${s}'`).join(', ')}]`;
const jsonStrings = (arrayExpr: string): string =>
  `concat('[', arrayStringConcat(arrayMap(x_ -> concat('"', x_, '"'), ${arrayExpr}), ','), ']')`;
const pad = (i: string): string => `leftPad(toString(${i}), 5, '0')`;
const idOf = (i: string): string => `concat('agent-', ${pad(i)})`;
const typeOf = (i: string): string => `if(${i} % 10 = 9, 'service_account', 'agent')`;
const ownerOf = (i: string): string => `concat('team-', toString(${i} % 40))`;
const purposeOf = (i: string): string =>
  `['code review', 'ticket triage', 'billing reconciliation', 'data export', 'deploy automation'][1 + ${i} % 5]`;
const stateOf = (i: string): string =>
  `multiIf(${i} % 100 = 98, 'suspended', ${i} % 100 = 99, 'revoked', 'active')`;
/** Epoch ms of the state change (Nullable: null while active). */
const stateChangedMs = (i: string): string =>
  `if(${i} % 100 >= 98, toNullable(toInt64({start:Int64} + cityHash64(${i}, 'state') % {span:UInt64})), NULL)`;
const credentialOf = (i: string): string => `concat('cred-', ${idOf(i)}, '-1')`;
const scopeTools = (i: string): string =>
  `arrayMap(t_ -> concat('tool-', toString(${i} % 89 + t_)), range(10))`;
const scopeResources = (i: string): string => `[concat('repo:org-', toString(${i} % 50), '/*')]`;
const scopeEgress = (i: string): string => `[concat('*.svc', toString(${i} % 30), '.example.com')]`;
const approvalResources = (i: string): string => `[concat('repo:org-', toString(${i} % 50), '/repo-0')]`;
const nullableMs = (expr: string): string => `ifNull(toString(${expr}), 'null')`;

/** `scope_json` as IdentitiesRepository.upsert writes it (JSON.stringify of a DeclaredScope). */
const scopeJson = (i: string): string =>
  `concat('{"tools":', ${jsonStrings(scopeTools(i))}, ',"resources":', ${jsonStrings(scopeResources(i))},
    ',"egressDomains":', ${jsonStrings(scopeEgress(i))},
    ',"approvalRequired":[{"match":"code.commit","resources":', ${jsonStrings(approvalResources(i))}, '}]}')`;

/** `identityJson(record)` as canonical JSON (RFC 8785: keys sorted, no whitespace). */
const identityJson = (i: string): string =>
  `concat('{"credentials":[{"id":"', ${credentialOf(i)}, '","revoked_at":', ${nullableMs(stateChangedMs(i))},
    ',"state":"', ${stateOf(i)}, '"}],"id":"', ${idOf(i)}, '","owner":"', ${ownerOf(i)},
    '","purpose":"', ${purposeOf(i)}, '","registered":true,"scope":{"approval_required":[{"match":"code.commit","resources":',
    ${jsonStrings(approvalResources(i))}, '}],"egress_domains":', ${jsonStrings(scopeEgress(i))},
    ',"resources":', ${jsonStrings(scopeResources(i))}, ',"tools":', ${jsonStrings(scopeTools(i))},
    '},"state":"', ${stateOf(i)}, '","state_changed_at":', ${nullableMs(stateChangedMs(i))},
    ',"type":"', ${typeOf(i)}, '"}')`;

/** Epoch ms of event (i, s, k): sessions start anywhere in the period, events 15 s apart. */
const eventMs = (i: string, s: string, k: string): string =>
  `(toInt64({start:Int64}) + toInt64(cityHash64(${i}, ${s}) % {session_span:UInt64})
    + toInt64(${k}) * 15000 + toInt64(cityHash64(${i}, ${s}, ${k}) % 15000))`;
const eventId = (i: string, s: string, k: string): string =>
  `concat('e-', ${pad(i)}, '-', toString(${s}), '-', toString(${k}))`;
const sessionOf = (i: string, s: string): string => `concat(${idOf(i)}, '-s', toString(${s}))`;
const ms = (column: string): string => `toString(toUnixTimestamp64Milli(${column}))`;

/** The detection record of a `findings` row (columns of that table, i = identity number) as canonical JSON. */
const RECORD_JSON = `concat('{"baseline":', baseline, ',"config_hash":"', config_hash, '","count":', toString(count),
  ',"created_at":', ${ms('created_at')}, ',"dedup_key":"', dedup_key, '","detector":"', toString(detector),
  '","detector_version":"', toString(detector_version), '","event_ids":', ${jsonStrings('event_ids')},
  ',"explanation":"', explanation, '","finding_id":"', finding_id, '","first_ts":', ${ms('first_ts')},
  ',"frameworks":', ${jsonStrings('arrayMap(f_ -> toString(f_), frameworks)')},
  ',"identity":', ${identityJson('toUInt64(substring(identity_id, 7))')},
  ',"identity_id":"', identity_id, '","last_ts":', ${ms('last_ts')}, ',"score":', toString(score),
  ',"session":"', session, '","severity":"', toString(severity), '","subject":"', subject,
  '","term_kind":"', toString(term_kind), '","title":"', title, '"}')`;

/** The chain a finding's record joins: one per day, as if the writing process restarted daily. */
const CHAIN_OF = `concat('synthetic-ingest:', toString(toYYYYMMDD(created_at)))`;

function params(fleet: SyntheticFleet, now: number): Record<string, unknown> {
  const perSession = fleet.sessionEvents;
  return {
    start: Math.round(fleet.start),
    span: Math.round(fleet.span),
    // Sessions start early enough to end inside the period.
    session_span: Math.round(fleet.span - perSession * 15_000 - 60_000),
    now: Math.round(now),
    ids: fleet.identities,
    sessions: fleet.sessions,
    per: perSession,
    review: reviewSessions(fleet) * perSession,
    review_sessions: reviewSessions(fleet),
  };
}

function reviewSessions(fleet: SyntheticFleet): number {
  return Math.floor(fleet.reviewActions / fleet.sessionEvents);
}

/** How many actions the fleet has: the review identity's, then `sessions` sessions of every other. */
export function actionCount(fleet: SyntheticFleet): number {
  return (
    reviewSessions(fleet) * fleet.sessionEvents +
    (fleet.identities - 1) * fleet.sessions * fleet.sessionEvents
  );
}

/** Every identity registered (source 'file'), with a declared scope; 1% suspended, 1% revoked. */
export async function writeSyntheticIdentities(ch: SqlGateway, fleet: SyntheticFleet): Promise<void> {
  await ch.command(
    `INSERT INTO ${ch.table('identities')} (id, type, owner, purpose, state, state_changed_at, credentials, scope_json,
       registered, source, first_seen, updated_at)
     SELECT ${idOf('number')}, ${typeOf('number')}, ${ownerOf('number')}, ${purposeOf('number')}, ${stateOf('number')},
       fromUnixTimestamp64Milli(${stateChangedMs('number')}, 'UTC'),
       [tuple(${credentialOf('number')}, ${stateOf('number')}, fromUnixTimestamp64Milli(${stateChangedMs('number')}, 'UTC'))],
       ${scopeJson('number')}, 1, 'file', fromUnixTimestamp64Milli(toInt64({start:Int64}), 'UTC'),
       fromUnixTimestamp64Milli(toInt64({start:Int64}), 'UTC')
     FROM numbers({ids:UInt64})`,
    params(fleet, Date.now()),
  );
}

/**
 * The actions: first the review identity's sessions, then `sessions` sessions of every other
 * identity. Mostly in-scope tools, resources and domains, with a few percent outside them.
 * Written to `actions`, so the materialized views maintain the baselines as from ingest.
 */
export async function writeSyntheticActions(ch: SqlGateway, fleet: SyntheticFleet): Promise<void> {
  const p = params(fleet, Date.now());
  await ch.command(
    `INSERT INTO ${ch.table('actions')} (event_id, ts, ingested_at, schema_version, source_format, identity_id,
       identity_type, identity_owner, identity_credential, session, action, tool, resource_type, resource_id,
       target_domain, outcome, approval_id, source_system, source_ip, args, args_bytes, kafka_topic,
       kafka_partition, kafka_offset)
     SELECT
       ${eventId('i', 's', 'k')},
       fromUnixTimestamp64Milli(${eventMs('i', 's', 'k')}, 'UTC'),
       fromUnixTimestamp64Milli(${eventMs('i', 's', 'k')} + 2000, 'UTC'),
       'scopewatch.action/v1', 'canonical', ${idOf('i')}, ${typeOf('i')}, ${ownerOf('i')}, ${credentialOf('i')},
       ${sessionOf('i', 's')},
       ['tool.call', 'api.call', 'data.read', 'data.write', 'code.commit'][1 + cityHash64(i, s, k, 1) % 5] AS act,
       concat('tool-', toString(i % 89 + if(cityHash64(i, s, k, 2) % 100 < 96, cityHash64(i, s, k, 3) % 10,
                                             10 + cityHash64(i, s, k, 3) % 2))),
       'repo',
       concat('org-', toString(if(cityHash64(i, s, k, 4) % 50 = 0, (i + 1) % 50, i % 50)),
              '/repo-', toString(cityHash64(i, s, k, 5) % 8)) AS res,
       multiIf(cityHash64(i, s, k, 6) % 1000 < 200,
                 concat('api', toString(cityHash64(i, s, k, 7) % 4), '.svc', toString(i % 30), '.example.com'),
               cityHash64(i, s, k, 6) % 1000 < 205, concat('exfil-', toString(cityHash64(i, s, k, 7) % 3), '.example.net'),
               ''),
       multiIf(cityHash64(i, s, k, 8) % 100 < 97, 'success', cityHash64(i, s, k, 8) % 100 < 99, 'failure', 'denied'),
       if(act = 'code.commit' AND cityHash64(i, s, k, 9) % 10 < 8, concat('appr-', toString(cityHash64(i, s, k, 9) % 100000)), ''),
       'synthetic', concat('10.', toString(i % 200), '.', toString(intDiv(i, 200) % 250), '.', toString(s % 250)),
       concat('{"path":"', res, '","query":"q', toString(cityHash64(i, s, k, 10) % 1000), '"}') AS a,
       length(a), 'agent-actions', toInt32(n % 12), toInt64(n)
     FROM (
       SELECT number AS n,
         if(n < {review:UInt64}, 0, 1 + (n - {review:UInt64}) % ({ids:UInt64} - 1)) AS i,
         if(n < {review:UInt64}, n, intDiv(n - {review:UInt64}, {ids:UInt64} - 1)) AS j,
         intDiv(j, {per:UInt64}) AS s,
         j % {per:UInt64} AS k
       FROM numbers({n:UInt64}))`,
    { ...p, n: actionCount(fleet) },
    { max_insert_threads: '2' },
  );
}

/**
 * The findings (as FindingsRepository writes them: one row version each, triaged ones with
 * the triage version bias) and, for every finding not open, its triage decision.
 */
export async function writeSyntheticFindings(
  ch: SqlGateway,
  fleet: SyntheticFleet,
  now: number,
): Promise<void> {
  const cumulative: number[] = [];
  for (const d of DETECTORS) cumulative.push((cumulative.at(-1) ?? 0) + d[1]);
  const detectors = strArray(DETECTORS.map((d) => d[0]));
  const versions = strArray(DETECTORS.map((d) => d[2]));
  const kinds = strArray(DETECTORS.map((d) => d[3]));
  const frameworks = `[${DETECTORS.map((d) => strArray(d[4])).join(', ')}]`;
  const titles = strArray(DETECTORS.map((d) => d[5]));
  // Subject per detector, in DETECTORS order (x_h: the finding's own hash).
  const subjects = `[
    concat('tool-', toString(x_i % 89 + 10 + x_h % 2)),
    concat('repo:org-', toString((x_i + 1) % 50), '/repo-', toString(x_h % 8)),
    concat('exfil-', toString(x_h % 3), '.example.net'),
    concat('tool-', toString(x_i % 89 + 10 + x_h % 2)),
    ['repo:admin', 'org:owner', 'iam:PassRole'][1 + x_h % 3],
    'code.commit',
    concat('tool-', toString(x_i % 89 + x_h % 10), ' > tool-', toString(x_i % 89 + bitShiftRight(x_h, 8) % 10)),
    ${credentialOf('x_i')},
    ${idOf('x_i')},
    ${idOf('x_i')},
    'Mozilla/5.0 (X11; Linux x86_64)',
    ['prod-db-write', 'secret-read', 'mass-delete', 'payment-create'][1 + x_h % 4],
    ['read-then-exfiltrate', 'escalate-then-write'][1 + x_h % 2]]`;
  await ch.command(
    `INSERT INTO ${ch.table('findings')} (finding_id, detector, detector_version, identity_id, session, severity, score,
       title, explanation, event_ids, first_ts, last_ts, count, status, frameworks, created_at, dedup_key, subject,
       term_kind, config_hash, baseline, held_for_triage, note, updated_at, version)
     SELECT
       concat('f-', substring(lower(hex(SHA256(concat(x_dedup, '\\n', x_events[1], '\\n', toString(x_n))))), 1, 24)),
       x_detector, ${versions}[x_d], x_identity, ${sessionOf('x_i', 'x_s')}, x_severity, x_score,
       concat(${titles}[x_d], ': ', x_subject, ' (', x_identity, ')'),
       concat(x_identity, ' used ', x_subject, ' in session ', ${sessionOf('x_i', 'x_s')}, '; it is not in its ',
              toString(x_days), '-day baseline of ', toString(x_known), ' values, and ', toString(x_h % 100),
              '% of identities owned by ', ${ownerOf('x_i')}, ' use it.'),
       x_events,
       fromUnixTimestamp64Milli(${eventMs('x_i', 'x_s', 'x_k')}, 'UTC'),
       fromUnixTimestamp64Milli(x_last, 'UTC'),
       x_c, x_status, ${frameworks}[x_d], fromUnixTimestamp64Milli(x_created, 'UTC'), x_dedup, x_subject,
       ${kinds}[x_d], substring(lower(hex(SHA256(concat(x_detector, '@', ${versions}[x_d])))), 1, 16),
       concat('{"baseline_days":', toString(x_days), ',"held_for_triage":', if(x_held, 'true', 'false'),
              ',"known_values":', toString(x_known), ',"peer_share":', toString((x_h % 100) / 100),
              ',"value":"', x_subject, '"}'),
       x_held,
       multiIf(x_status = 'acknowledged', 'looking into it', x_status = 'resolved', 'credential rotated',
               x_status = 'false_positive', 'expected: new tool rollout', x_status = 'suppressed', 'noisy in staging', ''),
       fromUnixTimestamp64Milli(x_updated, 'UTC'),
       toUInt64(x_updated) * 1000 + if(x_status = 'open', 0, 4000000000000000)
     FROM (
       SELECT number AS x_n,
         cityHash64(x_n, 0) AS x_h,
         toUInt64(floor({ids:UInt64} * pow((cityHash64(x_n, 1) % 1000000) / 1000000, 1.5))) AS x_i,
         ${idOf('x_i')} AS x_identity,
         cityHash64(x_n, 2) % if(x_i = 0, {review_sessions:UInt64}, {sessions:UInt64}) AS x_s,
         cityHash64(x_n, 3) % ({per:UInt64} - 2) AS x_k,
         1 + cityHash64(x_n, 4) % 3 AS x_c,
         arrayFirstIndex(w_ -> cityHash64(x_n, 5) % 1000 < w_, [${cumulative.join(', ')}]) AS x_d,
         ${detectors}[x_d] AS x_detector,
         ${subjects}[x_d] AS x_subject,
         substring(lower(hex(SHA256(concat(x_identity, '\\n', x_detector, '\\n', x_subject)))), 1, 32) AS x_dedup,
         arrayMap(j_ -> ${eventId('x_i', 'x_s', 'x_k + j_')}, range(x_c)) AS x_events,
         ${eventMs('x_i', 'x_s', 'x_k + x_c - 1')} AS x_last,
         x_last + 1000 + toInt64(cityHash64(x_n, 9) % 60000) AS x_created,
         cityHash64(x_n, 6) % 1000 AS x_sv,
         multiIf(x_sv < 450, 'low', x_sv < 800, 'medium', x_sv < 960, 'high', 'critical') AS x_severity,
         multiIf(x_sv < 450, 10 + x_h % 30, x_sv < 800, 40 + x_h % 25, x_sv < 960, 65 + x_h % 25, 90 + x_h % 11) / 100 AS x_score,
         cityHash64(x_n, 8) % 100 AS x_st,
         multiIf(x_st < 55, 'open', x_st < 67, 'acknowledged', x_st < 82, 'resolved', x_st < 94, 'false_positive',
                 'suppressed') AS x_status,
         x_d = 3 AND x_st < 67 AND x_h % 3 = 0 AS x_held,
         7 + x_h % 24 AS x_days,
         3 + bitShiftRight(x_h, 16) % 40 AS x_known,
         if(x_status = 'open', x_created,
            least(x_created + 600000 + toInt64(cityHash64(x_n, 10) % 259200000), toInt64({now:Int64}))) AS x_updated
       FROM numbers({findings:UInt64}))`,
    { ...params(fleet, now), findings: fleet.findings },
    { max_insert_threads: '2' },
  );
  await ch.command(
    `INSERT INTO ${ch.table('finding_triage')} (finding_id, at, previous_status, status, note, assignee, key_id)
     SELECT finding_id, updated_at, 'open', status, note, concat('analyst-', toString(cityHash64(finding_id) % 20)),
       'synthetic000'
     FROM ${ch.table('findings')} WHERE status != 'open'`,
  );
}

/**
 * Every finding's detection record in `finding_records`, chained per day in creation order.
 * Record hashes come from ClickHouse (SHA-256 of the canonical JSON built above); the chain
 * hashes, which depend on each other, are computed here in chain order. Returns how many links and chains.
 */
export async function writeSyntheticRecords(
  ch: SqlGateway,
  fleet: SyntheticFleet,
): Promise<{ links: number; chains: number }> {
  // The records embed the identity as registered, whose state change dates depend on the period.
  const p = params(fleet, Date.now());
  const links = ch.table('synthetic_chain_links');
  await ch.command(`DROP TABLE IF EXISTS ${links}`);
  await ch.command(
    `CREATE TABLE ${links} (link_finding_id String, chain String, seq UInt64, record_hash String, prev_hash String,
       chain_hash String) ENGINE = MergeTree ORDER BY link_finding_id`,
  );
  try {
    // Every record's hash, in chain order (one scan), then the chain hashes in that order.
    const rows = await ch.query<{ chain: string; finding_id: string; record_hash: string }>(
      `SELECT ${CHAIN_OF} AS chain, finding_id, lower(hex(SHA256(${RECORD_JSON}))) AS record_hash
       FROM ${ch.table('findings')} ORDER BY chain, created_at, finding_id`,
      p,
    );
    let chains = 0;
    let seq = 0;
    let prev = GENESIS_HASH;
    let batch: object[] = [];
    for (const [index, row] of rows.entries()) {
      if (index === 0 || rows[index - 1]?.chain !== row.chain) {
        chains += 1;
        seq = 0;
        prev = GENESIS_HASH;
      }
      seq += 1;
      const hash = chainHash(prev, row.record_hash);
      batch.push({
        link_finding_id: row.finding_id,
        chain: row.chain,
        seq,
        record_hash: row.record_hash,
        prev_hash: prev,
        chain_hash: hash,
      });
      prev = hash;
      if (batch.length === 100_000) {
        await ch.insert('synthetic_chain_links', batch);
        batch = [];
      }
    }
    await ch.insert('synthetic_chain_links', batch);
    await ch.command(
      `INSERT INTO ${ch.table('finding_records')} (seq, chain, finding_id, recorded_at, record, record_hash, prev_hash,
         chain_hash)
       SELECT l.seq, l.chain, f.finding_id, f.created_at, ${RECORD_JSON}, l.record_hash, l.prev_hash, l.chain_hash
       FROM ${ch.table('findings')} AS f INNER JOIN ${links} AS l ON f.finding_id = l.link_finding_id`,
      p,
      { max_insert_threads: '2' },
    );
    return { links: rows.length, chains };
  } finally {
    await ch.command(`DROP TABLE IF EXISTS ${links}`);
  }
}

/** Finding ids in a fixed pseudo-random order (`seed`): the ones a benchmark asks for. */
export async function sampleFindingIds(ch: SqlGateway, n: number, seed: number): Promise<string[]> {
  const rows = await ch.query<{ finding_id: string }>(
    `SELECT finding_id FROM ${ch.table('findings')} ORDER BY cityHash64(finding_id, {seed:UInt64}) LIMIT {n:UInt32}`,
    { seed, n },
  );
  return rows.map((r) => r.finding_id);
}

/** Rows and active parts per table (what FINAL reads merge across). */
export function tableSizes(
  ch: SqlGateway,
  tables: readonly string[],
): Promise<{ table: string; rows: number; parts: number; bytes: number }[]> {
  return ch.query(
    `SELECT table, toFloat64(sum(rows)) AS rows, toFloat64(count()) AS parts, toFloat64(sum(bytes_on_disk)) AS bytes
     FROM system.parts WHERE database = {db:String} AND table IN {tables:Array(String)} AND active
     GROUP BY table ORDER BY table`,
    { db: ch.database, tables: [...tables] },
  );
}
