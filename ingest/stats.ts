import type { ClickHouseClient } from '@clickhouse/client';

/**
 * What has arrived: per-identity counts, dead-letter reasons and the latest events. Counts use
 * uniqExact(event_id) so redelivered duplicates not yet merged away are not double counted.
 */

export interface IdentityCount {
  identity_id: string;
  events: number;
  tools: number;
  sessions: number;
  first_ts: string;
  last_ts: string;
}

export interface RecentEvent {
  event_id: string;
  ts: string;
  identity_id: string;
  session: string;
  action: string;
  tool: string;
  resource_id: string;
  target_domain: string;
  outcome: string;
}

export interface EventStats {
  total_events: number;
  identities: IdentityCount[];
  dlq: { reason_code: string; messages: number }[];
  recent: RecentEvent[];
}

async function rows<T>(
  client: ClickHouseClient,
  query: string,
  params: Record<string, unknown> = {},
): Promise<T[]> {
  const rs = await client.query({ query, query_params: params, format: 'JSONEachRow' });
  return rs.json<T>();
}

export async function eventStats(
  client: ClickHouseClient,
  database: string,
  recentLimit = 20,
): Promise<EventStats> {
  const [identities, dlq, recent] = await Promise.all([
    rows<IdentityCount>(
      client,
      `SELECT identity_id, toUInt64(uniqExact(event_id)) AS events, toUInt64(uniqExact(tool)) AS tools,
              toUInt64(uniqExact(session)) AS sessions, toString(min(ts)) AS first_ts, toString(max(ts)) AS last_ts
       FROM ${database}.actions GROUP BY identity_id ORDER BY events DESC LIMIT 1000`,
    ),
    rows<{ reason_code: string; messages: number }>(
      client,
      `SELECT reason_code, toUInt64(uniqExact(topic, partition, offset)) AS messages
       FROM ${database}.ingest_errors GROUP BY reason_code ORDER BY messages DESC`,
    ),
    rows<RecentEvent>(
      client,
      `SELECT event_id, toString(ts) AS ts, identity_id, session, action, tool, resource_id, target_domain, outcome
       FROM ${database}.actions ORDER BY ts DESC LIMIT {limit:UInt32}`,
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
