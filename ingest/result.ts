/**
 * The one result every ingest step returns, end to end (PostHog's pipeline results):
 * - `ok`: carry on, with what the step produced;
 * - `dlq`: the message can never be stored; dead-letter it with a reason code and a readable
 *   reason naming the field;
 * - `drop`: nothing to keep and nothing wrong (a tombstone, an LLM span that is no action).
 */

export const DLQ_REASON_CODES = [
  'empty',
  'too_large',
  'invalid_utf8',
  'invalid_json',
  'not_an_object',
  'schema_violation',
  'unknown_format',
  'unmappable',
  'storage_rejected',
] as const;
export type DlqReasonCode = (typeof DLQ_REASON_CODES)[number];

export interface Dlq {
  kind: 'dlq';
  reasonCode: DlqReasonCode;
  reason: string;
}

export interface Drop {
  kind: 'drop';
  why: string;
}

export type StepResult<T extends object> = ({ kind: 'ok' } & T) | Dlq | Drop;

export function dlq(reasonCode: DlqReasonCode, reason: string): Dlq {
  return { kind: 'dlq', reasonCode, reason };
}
