/** What has arrived (`GET /v1/events/stats`): per-identity counts, dead-letter reasons, latest events. */

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
