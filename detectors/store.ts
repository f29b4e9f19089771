import { startOfDay } from '../common/time.js';
import type { ClickHouseClient } from '@clickhouse/client';
import type { DetectorEvent } from '../model/detector-event.js';
import {
  FINDING_STATUSES,
  type BaselineFacts,
  type Finding,
  type FindingStatus,
  SEVERITIES,
} from '../model/finding.js';
import { type BaselineTermRow, TERM_KINDS, type TermKind } from '../model/terms.js';
import { HELD_FACT } from './types.js';

/**
 * Detection's ClickHouse I/O: baselines as of a point in time, events to judge, findings,
 * triage overrides and watermarks. Parameterised SQL only. Every call passes the same
 * complete settings because the embedded engine applies settings with SET on a shared
 * connection (an insert_deduplication_token left over from ingest would silently drop
 * findings otherwise).
 */

const SETTINGS = {
  insert_deduplication_token: '',
  output_format_json_quote_64bit_integers: 0,
  date_time_input_format: 'basic',
} as const;

/** DateTime64(3) parameters travel as fractional epoch seconds. */
function dt(ms: number): string {
  return (ms / 1000).toFixed(3);
}

const EVENT_COLUMNS = `event_id, toFloat64(toUnixTimestamp64Milli(ts)) AS ts, identity_id, identity_type,
  identity_credential, session, action, tool, resource_type, resource_id, target_domain, outcome, approval_id, source_ip, source_user_agent`;

/** Events in judging order. The filter runs in a subquery: the `ts` alias must not shadow the column. */
function eventQuery(actions: string, where: string): string {
  return `SELECT ${EVENT_COLUMNS} FROM (SELECT * FROM ${actions} FINAL WHERE ${where})
    ORDER BY ts, event_id`;
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

function findingQuery(findings: string, where: string): string {
  return `SELECT ${FINDING_SELECT} FROM (SELECT * FROM ${findings} FINAL WHERE ${where}) ORDER BY finding_id`;
}

function isTermKind(kind: string): kind is TermKind {
  return (TERM_KINDS as readonly string[]).includes(kind);
}

function toFinding(row: FindingRow): Finding {
  const severity = SEVERITIES.find((s) => s === row.severity) ?? 'low';
  const status = FINDING_STATUSES.find((s) => s === row.status) ?? 'open';
  return { ...row, severity, status, baseline: JSON.parse(row.baseline || '{}') as BaselineFacts };
}

export interface FindingFilter {
  identity?: string;
  detector?: string;
  severity?: string;
  status?: string;
  from?: number;
  to?: number;
}

export interface Override {
  identity_id: string;
  kind: TermKind;
  value: string;
  effect: 'allow' | 'exclude';
}

/**
 * Row versions of `findings` are time-based (µs since the epoch, ~1.8e15 today). Triage writes
 * sit this far above, so a detection write that read a finding just before an analyst changed it
 * can never replace the analyst's row; detection then continues from the stored version + 1,
 * carrying the status and note it read. Kept below 2^53 so versions stay exact in JavaScript.
 */
export const TRIAGE_VERSION_BIAS = 4e15;

type OverrideRow = Omit<Override, 'kind' | 'effect'> & { kind: string; effect: string };

function toOverrides(rows: readonly OverrideRow[]): Override[] {
  return rows.flatMap((r) =>
    isTermKind(r.kind) && (r.effect === 'allow' || r.effect === 'exclude')
      ? [{ identity_id: r.identity_id, kind: r.kind, value: r.value, effect: r.effect }]
      : [],
  );
}

export class DetectionStore {
  private version = 0;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly database: string,
  ) {}

  private table(name: string): string {
    return `${this.database}.${name}`;
  }

  protected async rows<T>(query: string, params: Record<string, unknown>): Promise<T[]> {
    const result = await this.client.query({
      query,
      query_params: params,
      format: 'JSONEachRow',
      clickhouse_settings: SETTINGS,
    });
    return result.json<T>();
  }

  private async insert(table: string, values: readonly object[]): Promise<void> {
    if (values.length === 0) return;
    await this.client.insert({
      table: this.table(table),
      values,
      format: 'JSONEachRow',
      clickhouse_settings: SETTINGS,
    });
  }

  /**
   * Baseline rows for each identity from days strictly before its cut's day, merged over days;
   * the same-day remainder comes from `eventsBefore` (raw events), so together they are
   * exactly "everything this identity did before its cut".
   */
  async baselineRows(cuts: ReadonlyMap<string, number>): Promise<BaselineTermRow[]> {
    if (cuts.size === 0) return [];
    const rows = await this.rows<Omit<BaselineTermRow, 'kind'> & { kind: string }>(
      `SELECT identity_id, kind, value, toFloat64(toUnixTimestamp64Milli(f)) AS first_ts,
              toFloat64(toUnixTimestamp64Milli(l)) AS last_ts, toFloat64(c) AS count
       FROM (
         SELECT identity_id, kind, value, min(first_ts) AS f, max(last_ts) AS l, sum(events) AS c
         FROM ${this.table('baseline_terms')}
         WHERE identity_id IN {ids:Array(String)}
           AND day < toDate(fromUnixTimestamp64Milli(toInt64(transform(identity_id, {ids:Array(String)}, {cuts:Array(Float64)}, 0.0)), 'UTC'))
         GROUP BY identity_id, kind, value)
       ORDER BY identity_id, kind, value`,
      { ids: [...cuts.keys()], cuts: [...cuts.values()] },
    );
    return rows.filter((r): r is BaselineTermRow => isTermKind(r.kind));
  }

  /** Raw events of each identity from the start of its cut's day up to (not including) the cut. */
  async eventsBefore(cuts: ReadonlyMap<string, number>): Promise<DetectorEvent[]> {
    if (cuts.size === 0) return [];
    return this.rows<DetectorEvent>(
      eventQuery(
        this.table('actions'),
        `identity_id IN {ids:Array(String)} AND ts >= {from:DateTime64(3)}
         AND toUnixTimestamp64Milli(ts) < transform(identity_id, {ids:Array(String)}, {cuts:Array(Int64)}, toInt64(0))
         AND toDate(ts) = toDate(fromUnixTimestamp64Milli(transform(identity_id, {ids:Array(String)}, {cuts:Array(Int64)}, toInt64(0)), 'UTC'))`,
      ),
      {
        ids: [...cuts.keys()],
        cuts: [...cuts.values()].map((c) => Math.floor(c)),
        from: dt(startOfDay(Math.min(...cuts.values()))),
      },
    );
  }

  /**
   * How many identities hold each tool / resource / domain (before `before`'s day): the peer
   * view. Values an identity holds out of its baseline (destinations under review, confirmed
   * incidents) do not count for it, as in the engine.
   */
  async peerCounts(
    before: number,
  ): Promise<{ identities: string[]; holders: { kind: TermKind; value: string; n: number }[] }> {
    const params = { before, held: HELD_FACT };
    const cut = `day < toDate(fromUnixTimestamp64Milli(toInt64({before:Float64}), 'UTC'))`;
    const identities = await this.rows<{ identity_id: string }>(
      `SELECT DISTINCT identity_id FROM ${this.table('baseline_terms')} WHERE ${cut} ORDER BY identity_id`,
      params,
    );
    const holders = await this.rows<{ kind: string; value: string; n: number }>(
      `SELECT kind, value, toFloat64(uniqExact(identity_id)) AS n FROM ${this.table('baseline_terms')}
       WHERE ${cut} AND kind IN ('tool', 'resource', 'domain')
         AND (identity_id, kind, value) NOT IN (
           SELECT identity_id, term_kind, subject FROM ${this.table('findings')} FINAL
           WHERE term_kind != ''
             AND (status = 'resolved'
                  OR (status IN ('open', 'acknowledged') AND JSONExtractBool(baseline, {held:String})))
             -- the latest triage decision per value outranks older findings on it
             AND (identity_id, term_kind, subject) NOT IN (
               SELECT identity_id, kind, value FROM ${this.table('baseline_overrides')} FINAL
               WHERE effect = 'allow')
           UNION ALL
           SELECT identity_id, kind, value FROM ${this.table('baseline_overrides')} FINAL WHERE effect = 'exclude')
       GROUP BY kind, value`,
      params,
    );
    return {
      identities: identities.map((r) => r.identity_id),
      holders: holders.filter((h): h is { kind: TermKind; value: string; n: number } => isTermKind(h.kind)),
    };
  }

  /** Identities with events ingested in (from, to]: the scheduled path's work list. */
  async identitiesIngested(
    from: number,
    to: number,
    topic?: string,
  ): Promise<{ identity_id: string; min_ts: number }[]> {
    return this.rows(
      `SELECT identity_id, toFloat64(toUnixTimestamp64Milli(min(ts))) AS min_ts FROM ${this.table('actions')}
       WHERE ingested_at > {from:DateTime64(3)} AND ingested_at <= {to:DateTime64(3)}
         AND ({topic:String} = '' OR kafka_topic = {topic:String})
       GROUP BY identity_id ORDER BY identity_id`,
      { from: dt(from), to: dt(to), topic: topic ?? '' },
    );
  }

  /** Events of these identities ingested in (from, to], in judging order. */
  async eventsIngested(
    identityIds: readonly string[],
    from: number,
    to: number,
    topic?: string,
  ): Promise<DetectorEvent[]> {
    if (identityIds.length === 0) return [];
    return this.rows<DetectorEvent>(
      eventQuery(
        this.table('actions'),
        `identity_id IN {ids:Array(String)}
         AND ingested_at > {from:DateTime64(3)} AND ingested_at <= {to:DateTime64(3)}
         AND ({topic:String} = '' OR kafka_topic = {topic:String})`,
      ),
      { ids: identityIds, from: dt(from), to: dt(to), topic: topic ?? '' },
    );
  }

  /** Findings that can still absorb repeats or withhold terms, for these identities. */
  async activeFindings(identityIds: readonly string[], since: number): Promise<Finding[]> {
    if (identityIds.length === 0) return [];
    const rows = await this.rows<FindingRow>(
      findingQuery(
        this.table('findings'),
        `identity_id IN {ids:Array(String)} AND (last_ts >= {since:DateTime64(3)} OR status IN ('open', 'acknowledged', 'resolved'))`,
      ),
      { ids: identityIds, since: dt(since) },
    );
    return rows.map(toFinding);
  }

  async overrides(identityIds: readonly string[]): Promise<Override[]> {
    if (identityIds.length === 0) return [];
    const rows = await this.rows<{ identity_id: string; kind: string; value: string; effect: string }>(
      `SELECT identity_id, kind, value, effect FROM ${this.table('baseline_overrides')} FINAL
       WHERE identity_id IN {ids:Array(String)} ORDER BY identity_id, kind, value`,
      { ids: identityIds },
    );
    return toOverrides(rows);
  }

  /** Writes findings as new row versions (the latest version wins under FINAL). */
  async saveFindings(findings: readonly Finding[], note = ''): Promise<void> {
    const now = Date.now();
    await this.writeFindings(
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
    const stored = await this.rows<{ finding_id: string; status: string; note: string; version: number }>(
      `SELECT finding_id, status, note, toFloat64(version) AS version
       FROM ${this.table('findings')} FINAL WHERE finding_id IN {ids:Array(String)}`,
      { ids: findings.map((f) => f.finding_id) },
    );
    const byId = new Map(stored.map((r) => [r.finding_id, r]));
    const now = Date.now();
    await this.writeFindings(
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

  private async writeFindings(
    now: number,
    rows: readonly { finding: Finding; note: string; version: number }[],
  ): Promise<void> {
    await this.insert(
      'findings',
      rows.map(({ finding, note, version }) => ({
        ...finding,
        baseline: JSON.stringify(finding.baseline),
        note,
        updated_at: now,
        version,
      })),
    );
  }

  /** Triage decided after `since` (ms): new baseline overrides and findings given a status. */
  async triageSince(since: number): Promise<{ overrides: Override[]; findings: Finding[]; until: number }> {
    const [overrides, changed] = await Promise.all([
      this.rows<OverrideRow & { at: number }>(
        `SELECT identity_id, kind, value, effect, toFloat64(toUnixTimestamp64Milli(created_at)) AS at
         FROM ${this.table('baseline_overrides')} FINAL
         WHERE created_at > {since:DateTime64(3)} ORDER BY created_at, identity_id, kind, value`,
        { since: dt(since) },
      ),
      this.rows<FindingRow & { at: number }>(
        `SELECT ${FINDING_SELECT}, toFloat64(toUnixTimestamp64Milli(updated_at)) AS at
         FROM ${this.table('findings')} FINAL
         WHERE updated_at > {since:DateTime64(3)} AND status != 'open' ORDER BY finding_id`,
        { since: dt(since) },
      ),
    ]);
    return {
      overrides: toOverrides(overrides),
      findings: changed.map(({ at: _at, ...row }) => toFinding(row)),
      until: Math.max(since, ...overrides.map((r) => r.at), ...changed.map((r) => r.at)),
    };
  }

  /** Strictly increasing per process, and above any earlier process's versions (time-based: µs). */
  private nextVersion(now: number): number {
    this.version = Math.max(this.version + 1, now * 1000);
    return this.version;
  }

  async findings(filter: FindingFilter, limit: number, after?: string): Promise<Finding[]> {
    const rows = await this.rows<FindingRow>(
      `${findingQuery(
        this.table('findings'),
        `({identity:String} = '' OR identity_id = {identity:String})
         AND ({detector:String} = '' OR detector = {detector:String})
         AND ({severity:String} = '' OR severity = {severity:String})
         AND ({status:String} = '' OR status = {status:String})
         AND last_ts >= {from:DateTime64(3)} AND first_ts <= {to:DateTime64(3)}
         AND finding_id > {after:String}`,
      )} LIMIT {limit:UInt32}`,
      {
        identity: filter.identity ?? '',
        detector: filter.detector ?? '',
        severity: filter.severity ?? '',
        status: filter.status ?? '',
        from: dt(filter.from ?? 0),
        to: dt(filter.to ?? 4102444800000),
        after: after ?? '',
        limit,
      },
    );
    return rows.map(toFinding);
  }

  async finding(id: string): Promise<Finding | undefined> {
    const rows = await this.rows<FindingRow>(
      findingQuery(this.table('findings'), 'finding_id = {id:String}'),
      { id },
    );
    const [row] = rows;
    return row ? toFinding(row) : undefined;
  }

  /**
   * Triage: a new status (and note). `false_positive`/`suppressed` with a term teach the
   * baseline the value (allow); `resolved` keeps it out for good (confirmed incident).
   */
  async triage(id: string, status: FindingStatus, note: string): Promise<Finding | undefined> {
    const current = await this.finding(id);
    if (!current) return undefined;
    const updated: Finding = { ...current, status };
    const now = Date.now();
    await this.writeFindings(now, [
      { finding: updated, note, version: this.nextVersion(now) + TRIAGE_VERSION_BIAS },
    ]);
    if (current.term_kind && isTermKind(current.term_kind)) {
      const effect =
        status === 'false_positive' || status === 'suppressed'
          ? 'allow'
          : status === 'resolved'
            ? 'exclude'
            : null;
      if (effect)
        await this.insert('baseline_overrides', [
          {
            identity_id: current.identity_id,
            kind: current.term_kind,
            value: current.subject,
            effect,
            finding_id: id,
            created_at: Date.now(),
          },
        ]);
    }
    return updated;
  }

  async watermark(name: string): Promise<number | null> {
    const rows = await this.rows<{ w: number }>(
      `SELECT toFloat64(toUnixTimestamp64Milli(watermark)) AS w FROM ${this.table('detector_state')} FINAL WHERE name = {name:String}`,
      { name },
    );
    return rows[0]?.w ?? null;
  }

  async setWatermark(name: string, watermark: number): Promise<void> {
    await this.insert('detector_state', [{ name, watermark, updated_at: Date.now() }]);
  }
}
