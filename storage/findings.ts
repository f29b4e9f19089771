import { heldForTriage } from '../model/baseline-policy.js';
import { FINDING_STATUSES, SEVERITIES, type BaselineFacts, type Finding } from '../model/finding.js';
import type { FindingRecordsRepository } from './finding-records.js';
import type { SqlGateway } from './gateway.js';
import { dt, END_OF_TIME_MS } from './sql-values.js';

/**
 * The `findings` table: detection writes new row versions as repeats arrive, triage writes
 * status changes, and ReplacingMergeTree keeps the latest version of each finding (read FINAL).
 */

/**
 * Row versions are time-based (µs since the epoch, ~1.8e15 today). Triage writes sit this far
 * above, so a detection write that read a finding just before an analyst changed it can never
 * replace the analyst's row; detection then continues from the stored version + 1, carrying the
 * status and note it read. Kept below 2^53 so versions stay exact in JavaScript.
 */
export const TRIAGE_VERSION_BIAS = 4e15;

export interface FindingFilter {
  identity?: string;
  detector?: string;
  severity?: string;
  status?: string;
  from?: number;
  to?: number;
  /** Findings scoring at least this. */
  minScore?: number;
  /** Case-insensitive text the title contains. */
  text?: string;
}

export const FINDING_SORTS = ['time', 'score'] as const;
export type FindingSort = (typeof FINDING_SORTS)[number];

/** Where a page ended: the sort key's value and the finding id of its last finding. */
export interface PagePosition {
  key: number;
  id: string;
}

/** Sort keys as fixed SQL (never from input): time = creation time in ms, which never changes. */
const SORT_KEYS: Readonly<Record<FindingSort, { key: string; keyType: string }>> = {
  time: { key: 'toUnixTimestamp64Milli(created_at)', keyType: 'Int64' },
  score: { key: 'score', keyType: 'Float64' },
};

const FILTER = `({identity:String} = '' OR identity_id = {identity:String})
  AND ({detector:String} = '' OR detector = {detector:String})
  AND ({severity:String} = '' OR severity = {severity:String})
  AND ({status:String} = '' OR status = {status:String})
  AND last_ts >= {from:DateTime64(3)} AND first_ts <= {to:DateTime64(3)}
  AND score >= {min_score:Float64}
  AND ({text:String} = '' OR positionCaseInsensitiveUTF8(title, {text:String}) > 0)`;

function filterParams(filter: FindingFilter): Record<string, unknown> {
  return {
    identity: filter.identity ?? '',
    detector: filter.detector ?? '',
    severity: filter.severity ?? '',
    status: filter.status ?? '',
    from: dt(filter.from ?? 0),
    to: dt(filter.to ?? END_OF_TIME_MS),
    min_score: filter.minScore ?? 0,
    text: filter.text ?? '',
  };
}

interface FindingRow extends Omit<Finding, 'first_ts' | 'last_ts' | 'created_at' | 'baseline'> {
  first_ts: number;
  last_ts: number;
  created_at: number;
  baseline: string;
}

const FINDING_SELECT = `finding_id, detector, detector_version, identity_id, session, severity, score, title,
  explanation, event_ids, toFloat64(toUnixTimestamp64Milli(first_ts)) AS first_ts,
  toFloat64(toUnixTimestamp64Milli(last_ts)) AS last_ts, count, status, frameworks,
  toFloat64(toUnixTimestamp64Milli(created_at)) AS created_at, dedup_key, subject, term_kind, config_hash, baseline`;

function toFinding(row: FindingRow): Finding {
  const severity = SEVERITIES.find((s) => s === row.severity) ?? 'low';
  const status = FINDING_STATUSES.find((s) => s === row.status) ?? 'open';
  return { ...row, severity, status, baseline: JSON.parse(row.baseline || '{}') as BaselineFacts };
}

export class FindingsRepository {
  private version = 0;

  constructor(
    private readonly ch: SqlGateway,
    /** Where a finding's detection record joins the evidence chain when it is first stored. */
    private readonly records: Pick<FindingRecordsRepository, 'append'>,
  ) {}

  /**
   * Findings matching `where`, ordered by `order.key` (fixed SQL) then finding_id. Filter and
   * key are computed inside: the output aliases (first_ts, created_at, …) must not shadow them.
   */
  private async select(
    where: string,
    params: Record<string, unknown>,
    tail = '',
    order: { key: string; dir: 'ASC' | 'DESC' } = { key: 'finding_id', dir: 'ASC' },
  ): Promise<Finding[]> {
    const by = `sort_key ${order.dir}, finding_id ${order.dir}`;
    const rows = await this.ch.query<FindingRow>(
      `SELECT ${FINDING_SELECT} FROM (
         SELECT *, ${order.key} AS sort_key FROM ${this.ch.table('findings')} FINAL WHERE ${where}
         ORDER BY ${by} ${tail})
       ORDER BY ${by}`,
      params,
    );
    return rows.map(toFinding);
  }

  /** Strictly increasing per process, and above any earlier process's versions (time-based: µs). */
  private nextVersion(now: number): number {
    this.version = Math.max(this.version + 1, now * 1000);
    return this.version;
  }

  private async write(
    now: number,
    rows: readonly { finding: Finding; note: string; version: number }[],
  ): Promise<void> {
    await this.ch.insert(
      'findings',
      rows.map(({ finding, note, version }) => ({
        ...finding,
        baseline: JSON.stringify(finding.baseline),
        held_for_triage: heldForTriage(finding.baseline),
        note,
        updated_at: now,
        version,
      })),
    );
  }

  /** Writes findings as new row versions (the latest version wins under FINAL). */
  async save(findings: readonly Finding[], note = ''): Promise<void> {
    await this.records.append(findings);
    const now = Date.now();
    await this.write(
      now,
      findings.map((finding) => ({ finding, note, version: this.nextVersion(now) })),
    );
  }

  /**
   * Detection output. A repeat rewrites a finding that triage may have changed since the
   * engine loaded it: the stored status and note win (and the engine's copy learns the status),
   * so detection never reopens a finding or drops an analyst's note. A triage that lands
   * between this read and the write still wins: see `TRIAGE_VERSION_BIAS`.
   */
  async saveDetected(findings: readonly Finding[]): Promise<void> {
    if (findings.length === 0) return;
    const stored = await this.ch.query<{ finding_id: string; status: string; note: string; version: number }>(
      `SELECT finding_id, status, note, toFloat64(version) AS version
       FROM ${this.ch.table('findings')} FINAL WHERE finding_id IN {ids:Array(String)}`,
      { ids: findings.map((f) => f.finding_id) },
    );
    const byId = new Map(stored.map((r) => [r.finding_id, r]));
    const now = Date.now();
    // Into the chain first: a crash before the write below leaves a record whose finding the
    // retried save stores; the other order could leave a stored finding that is never recorded.
    await this.records.append(findings.filter((f) => !byId.has(f.finding_id)));
    await this.write(
      now,
      findings.map((finding) => {
        const current = byId.get(finding.finding_id);
        const status = FINDING_STATUSES.find((s) => s === current?.status);
        if (status) finding.status = status;
        const version = this.nextVersion(now);
        return {
          finding,
          note: current?.note ?? '',
          version: current ? Math.max(version, current.version + 1) : version,
        };
      }),
    );
  }

  /** An analyst's decision: a row version above any detection write (see TRIAGE_VERSION_BIAS). */
  async saveTriaged(finding: Finding, note: string): Promise<void> {
    const now = Date.now();
    await this.write(now, [{ finding, note, version: this.nextVersion(now) + TRIAGE_VERSION_BIAS }]);
  }

  /** Findings that can still absorb repeats or withhold terms, for these identities. */
  async active(identityIds: readonly string[], since: number): Promise<Finding[]> {
    if (identityIds.length === 0) return [];
    return this.select(
      `identity_id IN {ids:Array(String)} AND (last_ts >= {since:DateTime64(3)} OR status IN ('open', 'acknowledged', 'resolved'))`,
      { ids: identityIds, since: dt(since) },
    );
  }

  /** Findings given a status by triage after `since` (ms), each with when (`at`). */
  async triagedSince(since: number): Promise<(Finding & { at: number })[]> {
    const rows = await this.ch.query<FindingRow & { at: number }>(
      `SELECT ${FINDING_SELECT}, toFloat64(toUnixTimestamp64Milli(updated_at)) AS at
       FROM ${this.ch.table('findings')} FINAL
       WHERE updated_at > {since:DateTime64(3)} AND status != 'open' ORDER BY finding_id`,
      { since: dt(since) },
    );
    return rows.map(({ at, ...row }) => ({ ...toFinding(row), at }));
  }

  list(filter: FindingFilter, limit: number, after?: string): Promise<Finding[]> {
    return this.select(
      `${FILTER} AND finding_id > {after:String}`,
      { ...filterParams(filter), after: after ?? '', limit },
      'LIMIT {limit:UInt32}',
    );
  }

  /**
   * One page in `sort` order after `after` (the previous page's last position). By id and by
   * time (creation, which never changes) a page never repeats or skips a finding however many
   * arrive meanwhile; by score, a repeat that raises a finding's score can move it to an
   * earlier page.
   */
  async page(
    filter: FindingFilter,
    sort: FindingSort,
    limit: number,
    after?: PagePosition,
  ): Promise<Finding[]> {
    const { key, keyType } = SORT_KEYS[sort];
    const position = after
      ? `AND (${key} < {after_key:${keyType}} OR (${key} = {after_key:${keyType}} AND finding_id < {after_id:String}))`
      : '';
    return this.select(
      `${FILTER} ${position}`,
      { ...filterParams(filter), after_key: after?.key ?? 0, after_id: after?.id ?? '', limit },
      'LIMIT {limit:UInt32}',
      { key, dir: 'DESC' },
    );
  }

  /** How many findings there are per detector, severity and status (for /metrics). */
  countsBy(): Promise<{ detector: string; severity: string; status: string; n: number }[]> {
    return this.ch.query(
      `SELECT toString(detector) AS detector, toString(severity) AS severity, toString(status) AS status,
              toFloat64(count()) AS n
       FROM (SELECT detector, severity, status FROM ${this.ch.table('findings')} FINAL)
       GROUP BY detector, severity, status ORDER BY detector, severity, status`,
    );
  }

  /** What risk is computed from, for every open or acknowledged finding. */
  async openRisk(): Promise<Pick<Finding, 'identity_id' | 'severity' | 'status' | 'last_ts'>[]> {
    const rows = await this.ch.query<{
      identity_id: string;
      severity: string;
      status: string;
      last_ts: number;
    }>(
      `SELECT identity_id, severity, status, toFloat64(toUnixTimestamp64Milli(last_ts)) AS last_ts
       FROM (SELECT identity_id, severity, status, last_ts FROM ${this.ch.table('findings')} FINAL
             WHERE status IN ('open', 'acknowledged'))`,
    );
    return rows.map((r) => ({
      identity_id: r.identity_id,
      severity: SEVERITIES.find((s) => s === r.severity) ?? 'low',
      status: FINDING_STATUSES.find((s) => s === r.status) ?? 'open',
      last_ts: r.last_ts,
    }));
  }

  async get(id: string): Promise<Finding | undefined> {
    const [finding] = await this.select('finding_id = {id:String}', { id });
    return finding;
  }
}
