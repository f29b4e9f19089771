import { dlq, type StepResult } from './result.js';

/**
 * Bytes → JSON value, with a typed reason for every way a message can fail before schema
 * validation. Pure: no I/O, no clock.
 */

export type DecodeResult = StepResult<{ json: Record<string, unknown>; text: string }>;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

export function decodeMessage(value: Buffer | null, maxBytes: number): DecodeResult {
  // A null value is a Kafka tombstone: a deliberate deletion marker carrying no event.
  if (value === null) return { kind: 'drop', why: 'tombstone' };
  if (value.length === 0) return dlq('empty', 'message is empty (0 bytes)');
  if (value.length > maxBytes)
    return dlq(
      'too_large',
      `message is ${String(value.length)} bytes, over the ${String(maxBytes)}-byte limit (SCOPEWATCH_MAX_MESSAGE_BYTES)`,
    );
  let text: string;
  try {
    text = utf8.decode(value);
  } catch {
    return dlq('invalid_utf8', 'message is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return dlq('invalid_json', `message is not valid JSON: ${detail}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return dlq('not_an_object', `message must be one JSON object, got ${describeJsonType(json)}`);
  return { kind: 'ok', json: json as Record<string, unknown>, text };
}
