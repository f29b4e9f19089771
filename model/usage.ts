/** What an identity did in a period, as access reviews read it from `actions`. */

/** The identity's actions in the period with the same tool, action, resource and destination. */
export interface UsageGroup {
  tool: string;
  action: string;
  resource_type: string;
  resource_id: string;
  target_domain: string;
  events: number;
  failures: number;
  /** Events that referenced a human approval. */
  approved: number;
  first_ts: number;
  last_ts: number;
  /** Who approved (a few of them). */
  approvers: string[];
}

/** One identity's activity in the period, as the fleet table reads it (distinct values, capped). */
export interface FleetUsage {
  identity_id: string;
  events: number;
  last_ts: number;
  tools: string[];
  resources: { type: string; id: string }[];
  domains: string[];
}
