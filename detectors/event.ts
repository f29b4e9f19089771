import type { ActionClass, Outcome } from '../ingest/schema.js';

/**
 * The slice of a stored action that detectors look at. Read back from `actions` (or taken
 * straight from the rows the ingest batch just wrote), so detectors never depend on the wire
 * format or on ingest internals.
 */
export interface DetectorEvent {
  event_id: string;
  /** Epoch milliseconds. */
  ts: number;
  identity_id: string;
  identity_type: string;
  identity_credential: string;
  session: string;
  action: ActionClass;
  tool: string;
  resource_type: string;
  resource_id: string;
  target_domain: string;
  outcome: Outcome;
  approval_id: string;
  source_ip: string;
  source_user_agent: string;
}

/** Total order used everywhere events are evaluated: time, then id, so ties are deterministic. */
export function compareEvents(a: DetectorEvent, b: DetectorEvent): number {
  if (a.ts !== b.ts) return a.ts - b.ts;
  return a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0;
}
