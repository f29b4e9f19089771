import type { EventStats, IdentityCount, RecentEvent } from '../model/event-stats.js';
import type { SqlGateway } from './gateway.js';

/**
 * What has arrived: per-identity counts, dead-letter reasons and the latest events. Counts use
 * uniqExact(event_id) so redelivered duplicates not yet merged away are not double counted.
 */
export class EventStatsRepository {
  constructor(private readonly ch: SqlGateway) {}

  /** Dead letters stored, by reason (each message once, however often it was redelivered). */
  async deadLetters(): Promise<{ reason_code: string; messages: number }[]> {
    return this.ch.query<{ reason_code: string; messages: number }>(
      `SELECT reason_code, toFloat64(uniqExact(topic, partition, offset)) AS messages
       FROM ${this.ch.table('ingest_errors')} GROUP BY reason_code ORDER BY reason_code`,
    );
  }

  async summary(recentLimit = 20): Promise<EventStats> {
    const { ch } = this;
    const [identities, dlq, recent] = await Promise.all([
      ch.query<IdentityCount>(
        `SELECT identity_id, toUInt64(uniqExact(event_id)) AS events, toUInt64(uniqExact(tool)) AS tools,
              toUInt64(uniqExact(session)) AS sessions, toString(min(ts)) AS first_ts, toString(max(ts)) AS last_ts
       FROM ${ch.table('actions')} GROUP BY identity_id ORDER BY events DESC LIMIT 1000`,
      ),
      ch.query<{ reason_code: string; messages: number }>(
        `SELECT reason_code, toUInt64(uniqExact(topic, partition, offset)) AS messages
       FROM ${ch.table('ingest_errors')} GROUP BY reason_code ORDER BY messages DESC`,
      ),
      ch.query<RecentEvent>(
        `SELECT event_id, toString(ts) AS ts, identity_id, session, action, tool, resource_id, target_domain, outcome
       FROM ${ch.table('actions')} ORDER BY ts DESC LIMIT {limit:UInt32}`,
        { limit: recentLimit },
      ),
    ]);
    const toNumber = <T extends object>(list: T[], keys: (keyof T)[]): T[] =>
      list.map((row) => {
        const copy = { ...row };
        for (const key of keys) copy[key] = Number(copy[key]) as T[keyof T];
        return copy;
      });
    const identityCounts = toNumber(identities, ['events', 'tools', 'sessions']);
    return {
      total_events: identityCounts.reduce((sum, i) => sum + i.events, 0),
      identities: identityCounts,
      dlq: toNumber(dlq, ['messages']),
      recent,
    };
  }
}
