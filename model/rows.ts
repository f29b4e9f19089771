import type { ActionClass, Outcome } from './action.js';

/**
 * Row shapes written to ClickHouse (column names = keys). Kept apart from the wire schema:
 * the wire is nested and optional, rows are flat with empty strings for absent values,
 * which is what ClickHouse stores and queries best.
 */

export interface RedactionRow {
  path: string;
  kind: string;
  fingerprint: string;
}

/** Where a message came from: a Kafka coordinate, or a file line for replay (topic `file:<name>`). */
export interface MessageCoordinates {
  origin: 'kafka' | 'file';
  topic: string;
  partition: number;
  /** Kafka offsets are 64-bit: kept as decimal strings end to end. */
  offset: string;
  key: string;
  timestampMs: number;
}

export interface ActionRow {
  event_id: string;
  ts: number;
  schema_version: string;
  source_format: string;
  identity_id: string;
  identity_type: string;
  identity_owner: string;
  identity_instance: string;
  identity_credential: string;
  session: string;
  action: ActionClass;
  tool: string;
  resource_type: string;
  resource_id: string;
  target_domain: string;
  permission: string;
  outcome: Outcome;
  approval_id: string;
  approval_by: string;
  on_behalf_of: string;
  source_system: string;
  source_ip: string;
  source_user_agent: string;
  args: string;
  args_bytes: number;
  attributes: Record<string, string>;
  redactions: RedactionRow[];
  kafka_topic: string;
  kafka_partition: number;
  kafka_offset: string;
}

export interface IngestErrorRow {
  origin: 'kafka' | 'file';
  topic: string;
  partition: number;
  offset: string;
  message_key: string;
  message_ts: number;
  format: string;
  reason_code: string;
  reason: string;
  raw: string;
  raw_bytes: number;
  raw_sha256: string;
  redactions: RedactionRow[];
}
