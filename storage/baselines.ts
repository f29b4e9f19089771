import { EXCLUDING_STATUSES, REVIEW_STATUSES } from '../model/baseline-policy.js';
import { isTermKind, type BaselineTermRow, type TermKind } from '../model/terms.js';
import type { SqlGateway } from './gateway.js';

/**
 * The baselines: `baseline_terms` (per identity × term × day, fed by materialized views from
 * `actions`) read as of a point in time, the peer view across identities, and the per-identity
 * summary view.
 */

export interface PeerCounts {
  identities: string[];
  holders: { kind: TermKind; value: string; n: number }[];
}

export class BaselinesRepository {
  constructor(private readonly ch: SqlGateway) {}

  /**
   * Baseline rows for each identity from days strictly before its cut's day, merged over days;
   * the same-day remainder comes from the raw events (`ActionsRepository.before`), so together
   * they are exactly "everything this identity did before its cut".
   */
  async asOf(cuts: ReadonlyMap<string, number>): Promise<BaselineTermRow[]> {
    if (cuts.size === 0) return [];
    const rows = await this.ch.query<Omit<BaselineTermRow, 'kind'> & { kind: string }>(
      `SELECT identity_id, kind, value, toFloat64(toUnixTimestamp64Milli(f)) AS first_ts,
              toFloat64(toUnixTimestamp64Milli(l)) AS last_ts, toFloat64(c) AS count
       FROM (
         SELECT identity_id, kind, value, min(first_ts) AS f, max(last_ts) AS l, sum(events) AS c
         FROM ${this.ch.table('baseline_terms')}
         WHERE identity_id IN {ids:Array(String)}
           AND day < toDate(fromUnixTimestamp64Milli(toInt64(transform(identity_id, {ids:Array(String)}, {cuts:Array(Float64)}, 0.0)), 'UTC'))
         GROUP BY identity_id, kind, value)
       ORDER BY identity_id, kind, value`,
      { ids: [...cuts.keys()], cuts: [...cuts.values()] },
    );
    return rows.filter((r): r is BaselineTermRow => isTermKind(r.kind));
  }

  /**
   * How many identities hold each tool / resource / domain (before `before`'s day): the peer
   * view. Values an identity holds out of its baseline (model/baseline-policy.ts: confirmed
   * incidents, destinations held for triage) do not count for it, as in the engine.
   */
  async peerCounts(before: number): Promise<PeerCounts> {
    const params = { before, excluding: EXCLUDING_STATUSES, reviewing: REVIEW_STATUSES };
    const terms = this.ch.table('baseline_terms');
    const cut = `day < toDate(fromUnixTimestamp64Milli(toInt64({before:Float64}), 'UTC'))`;
    const identities = await this.ch.query<{ identity_id: string }>(
      `SELECT DISTINCT identity_id FROM ${terms} WHERE ${cut} ORDER BY identity_id`,
      params,
    );
    const holders = await this.ch.query<{ kind: string; value: string; n: number }>(
      `SELECT kind, value, toFloat64(uniqExact(identity_id)) AS n FROM ${terms}
       WHERE ${cut} AND kind IN ('tool', 'resource', 'domain')
         AND (identity_id, kind, value) NOT IN (
           -- a finding's values: its subject and the members it gathers (detectors/findings.ts)
           SELECT identity_id, term_kind,
                  arrayJoin(arrayDistinct(arrayConcat([subject], JSONExtract(baseline, 'members', 'Array(String)')))) AS value
           FROM ${this.ch.table('findings')} FINAL
           WHERE term_kind != ''
             AND (status IN {excluding:Array(String)}
                  OR (status IN {reviewing:Array(String)} AND held_for_triage))
             -- the latest triage decision per value outranks older findings on it
             AND (identity_id, term_kind, value) NOT IN (
               SELECT identity_id, kind, value FROM ${this.ch.table('baseline_overrides')} FINAL
               WHERE effect = 'allow')
           UNION ALL
           SELECT identity_id, kind, value FROM ${this.ch.table('baseline_overrides')} FINAL WHERE effect = 'exclude')
       GROUP BY kind, value`,
      params,
    );
    return {
      identities: identities.map((r) => r.identity_id),
      holders: holders.filter((h): h is PeerCounts['holders'][number] => isTermKind(h.kind)),
    };
  }

  /** When each of these identities was first seen using a tool (identities never seen are absent). */
  async firstSeen(identityIds: readonly string[]): Promise<Map<string, number>> {
    if (identityIds.length === 0) return new Map();
    const rows = await this.ch.query<{ identity_id: string; first_seen: number }>(
      `SELECT identity_id, toFloat64(toUnixTimestamp64Milli(min(first_ts))) AS first_seen
       FROM ${this.ch.table('baseline_terms')} WHERE identity_id IN {ids:Array(String)} AND kind = 'tool'
       GROUP BY identity_id`,
      { ids: identityIds },
    );
    return new Map(rows.map((r) => [r.identity_id, r.first_seen]));
  }

  /** Every identity's activity at a glance: first and last seen (ms) and events, from the aggregates. */
  async activity(): Promise<Map<string, { first_seen: number; last_seen: number; events: number }>> {
    const rows = await this.ch.query<{
      identity_id: string;
      first_seen: number;
      last_seen: number;
      events: number;
    }>(
      `SELECT identity_id, toFloat64(toUnixTimestamp64Milli(min(first_ts))) AS first_seen,
              toFloat64(toUnixTimestamp64Milli(max(last_ts))) AS last_seen, toFloat64(sum(events)) AS events
       FROM ${this.ch.table('baseline_terms')} WHERE kind = 'tool' GROUP BY identity_id`,
    );
    return new Map(rows.map(({ identity_id, ...r }) => [identity_id, r]));
  }

  /** One identity's baseline summary (the `identity_baseline_v` view); undefined if never seen. */
  async summary(identityId: string): Promise<Record<string, unknown> | undefined> {
    const [row] = await this.ch.query<Record<string, unknown>>(
      `SELECT identity_id, toString(first_seen) AS first_seen, toString(last_seen) AS last_seen,
         toFloat64(events) AS events, toFloat64(tools) AS tools, toFloat64(resources) AS resources,
         toFloat64(domains) AS domains, toFloat64(credentials) AS credentials, action_classes
       FROM ${this.ch.table('identity_baseline_v')} WHERE identity_id = {id:String}`,
      { id: identityId },
    );
    return row;
  }

  /**
   * Rebuilds the aggregates from the stored events with the materialized view's own SELECT
   * (what a backfill or a re-baseline costs); returns the number of rows.
   */
  async rebuild(): Promise<number> {
    const [view] = await this.ch.query<{ as_select: string }>(
      `SELECT as_select FROM system.tables WHERE database = {db:String} AND name = 'baseline_terms_mv'`,
      { db: this.ch.database },
    );
    if (!view) throw new Error('baseline_terms_mv not found');
    await this.ch.command(`TRUNCATE TABLE ${this.ch.table('baseline_terms')}`);
    await this.ch.command(
      `INSERT INTO ${this.ch.table('baseline_terms')} ${view.as_select}`,
      {},
      // The view's SELECT groups by the table's whole key: each block's keys are distinct.
      { max_insert_threads: '2', optimize_on_insert: 0 },
    );
    const [rows] = await this.ch.query<{ n: number }>(
      `SELECT toFloat64(count()) AS n FROM ${this.ch.table('baseline_terms')}`,
    );
    return rows?.n ?? 0;
  }
}
