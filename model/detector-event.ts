import type { ActionRow } from './rows.js';

/**
 * The slice of a stored action that detectors look at: read back from `actions` (or taken
 * straight from the rows an ingest batch just wrote), so detectors depend on the stored row
 * shape only, never on the wire format or on ingest internals.
 */
export type DetectorEvent = Pick<
  ActionRow,
  | 'event_id'
  | 'ts'
  | 'identity_id'
  | 'identity_type'
  | 'identity_credential'
  | 'session'
  | 'action'
  | 'tool'
  | 'resource_type'
  | 'resource_id'
  | 'target_domain'
  | 'outcome'
  | 'approval_id'
  | 'source_ip'
  | 'source_user_agent'
  | 'source_format'
  | 'source_system'
  | 'identity_owner'
  | 'identity_instance'
  | 'permission'
  | 'approval_by'
  | 'on_behalf_of'
  | 'args'
  | 'attributes'
>;

/** Total order used everywhere events are evaluated: time, then id, so ties are deterministic. */
export function compareEvents(a: DetectorEvent, b: DetectorEvent): number {
  if (a.ts !== b.ts) return a.ts - b.ts;
  return a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0;
}

/** The fields most detectors never read, empty: for events built by hand (tests, benchmarks). */
export const EMPTY_EVENT_DETAILS: Pick<
  DetectorEvent,
  | 'source_format'
  | 'source_system'
  | 'identity_owner'
  | 'identity_instance'
  | 'permission'
  | 'approval_by'
  | 'on_behalf_of'
  | 'args'
  | 'attributes'
> = {
  source_format: '',
  source_system: '',
  identity_owner: '',
  identity_instance: '',
  permission: '',
  approval_by: '',
  on_behalf_of: '',
  args: '',
  attributes: {},
};
