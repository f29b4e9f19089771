import { startOfDay } from '../common/time.js';
import { compareEvents, type DetectorEvent } from '../model/detector-event.js';
import type { ActionRow, IngestErrorRow } from '../model/rows.js';
import type { SqlGateway } from './gateway.js';
import { insertIsolatingRejects, type InsertOutcome } from './insert-rejects.js';
import { dt } from './sql-values.js';

/**
 * The `actions` table (normalized events) and its companion `ingest_errors` (dead letters):
 * batch writes for ingest, and the reads detection needs — events as of a point in time and
 * events ingested in a window, in judging order.
 */

const EVENT_COLUMNS = `event_id, toFloat64(toUnixTimestamp64Milli(ts)) AS ts, identity_id, identity_type,
  identity_credential, session, action, tool, resource_type, resource_id, target_domain, outcome, approval_id, source_ip, source_user_agent,
  source_format, source_system, identity_owner, identity_instance, permission, approval_by, on_behalf_of, args, attributes`;

export class ActionsRepository {
  constructor(private readonly ch: SqlGateway) {}

  /** Events in judging order. The filter runs in a subquery: the `ts` alias must not shadow the column. */
  private events(where: string, params: Record<string, unknown>): Promise<DetectorEvent[]> {
    return this.ch.query<DetectorEvent>(
      `SELECT ${EVENT_COLUMNS} FROM (SELECT * FROM ${this.ch.table('actions')} FINAL WHERE ${where})
       ORDER BY ts, event_id`,
      params,
    );
  }

  private insert(table: string, rows: readonly object[], token: string): Promise<void> {
    return this.ch.insert(table, rows, { insert_deduplication_token: token });
  }

  /** One ingest batch; `token` is deterministic per offset range, so a retried batch is written once. */
  insertActions(rows: ActionRow[], token: string): Promise<InsertOutcome<ActionRow>> {
    return insertIsolatingRejects(rows, token, (part, t) => this.insert('actions', part, t));
  }

  insertErrors(rows: IngestErrorRow[], token: string): Promise<InsertOutcome<IngestErrorRow>> {
    return insertIsolatingRejects(rows, token, (part, t) => this.insert('ingest_errors', part, t));
  }

  /** Stored rows (before background merges collapse redelivered duplicates). */
  async count(): Promise<number> {
    const [row] = await this.ch.query<{ n: number }>(`SELECT count() AS n FROM ${this.ch.table('actions')}`);
    return row?.n ?? 0;
  }

  /** Whether any event was ever stored (an existing database, not a fresh one). */
  async any(): Promise<boolean> {
    const [row] = await this.ch.query<{ n: number }>(
      `SELECT count() AS n FROM (SELECT 1 FROM ${this.ch.table('actions')} LIMIT 1)`,
    );
    return (row?.n ?? 0) > 0;
  }

  /**
   * For evidence and finding detail: these events of one identity and every event of their
   * sessions, in judging order, at most `cap`: the cited events always, then the earliest of
   * the rest. `truncated` when there were more.
   */
  async withSessions(
    identityId: string,
    eventIds: readonly string[],
    cap: number,
  ): Promise<{ events: DetectorEvent[]; truncated: boolean }> {
    if (eventIds.length === 0) return { events: [], truncated: false };
    const actions = this.ch.table('actions');
    const rows = await this.ch.query<DetectorEvent>(
      `SELECT ${EVENT_COLUMNS} FROM (
         SELECT * FROM ${actions} FINAL
         WHERE identity_id = {id:String}
           AND (event_id IN {ids:Array(String)}
                OR (session != '' AND session IN (
                  SELECT session FROM ${actions} WHERE identity_id = {id:String} AND event_id IN {ids:Array(String)}))))
       ORDER BY event_id IN {ids:Array(String)} DESC, ts, event_id LIMIT {cap:UInt32}`,
      { id: identityId, ids: [...eventIds], cap: cap + 1 },
    );
    const events = rows.slice(0, cap).sort(compareEvents);
    return { events, truncated: rows.length > cap };
  }

  /** Raw events of each identity from the start of its cut's day up to (not including) the cut. */
  async before(cuts: ReadonlyMap<string, number>): Promise<DetectorEvent[]> {
    if (cuts.size === 0) return [];
    return this.events(
      `identity_id IN {ids:Array(String)} AND ts >= {from:DateTime64(3)}
       AND toUnixTimestamp64Milli(ts) < transform(identity_id, {ids:Array(String)}, {cuts:Array(Int64)}, toInt64(0))
       AND toDate(ts) = toDate(fromUnixTimestamp64Milli(transform(identity_id, {ids:Array(String)}, {cuts:Array(Int64)}, toInt64(0)), 'UTC'))`,
      {
        ids: [...cuts.keys()],
        cuts: [...cuts.values()].map((c) => Math.floor(c)),
        from: dt(startOfDay(Math.min(...cuts.values()))),
      },
    );
  }

  /** Identities with events ingested in (from, to]: the scheduled path's work list. */
  identitiesIngested(
    from: number,
    to: number,
    topic?: string,
  ): Promise<{ identity_id: string; min_ts: number }[]> {
    return this.ch.query(
      `SELECT identity_id, toFloat64(toUnixTimestamp64Milli(min(ts))) AS min_ts FROM ${this.ch.table('actions')}
       WHERE ingested_at > {from:DateTime64(3)} AND ingested_at <= {to:DateTime64(3)}
         AND ({topic:String} = '' OR kafka_topic = {topic:String})
       GROUP BY identity_id ORDER BY identity_id`,
      { from: dt(from), to: dt(to), topic: topic ?? '' },
    );
  }

  /** Events of these identities ingested in (from, to], in judging order. */
  async ingested(
    identityIds: readonly string[],
    from: number,
    to: number,
    topic?: string,
  ): Promise<DetectorEvent[]> {
    if (identityIds.length === 0) return [];
    return this.events(
      `identity_id IN {ids:Array(String)}
       AND ingested_at > {from:DateTime64(3)} AND ingested_at <= {to:DateTime64(3)}
       AND ({topic:String} = '' OR kafka_topic = {topic:String})`,
      { ids: identityIds, from: dt(from), to: dt(to), topic: topic ?? '' },
    );
  }
}
