import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { ADAPTERS } from './adapters/index.js';
import type { AdapterResult, FormatAdapter } from './adapters/types.js';

export type { AdapterResult, FormatAdapter } from './adapters/types.js';
export { canonicalAdapter } from './adapters/types.js';
import { decodeMessage, type DlqReasonCode } from './decode.js';
import { normalizeEvent } from './normalize.js';
import { redactJson, redactString } from './redaction.js';
import type { ActionRow, IngestErrorRow, MessageCoordinates, RedactionRow } from '../model/rows.js';
import { ActionEventSchema, type ActionEvent } from '../model/action.js';

/**
 * The per-message ingest pipeline, shared by the Kafka consumer and file replay:
 * decode → adapt (format → canonical candidates) → validate → normalize + redact.
 * Every message ends as exactly one typed result: OK (rows to write), DLQ (why, with the
 * error row to record) or DROP (nothing to keep, e.g. a tombstone). Pure: no I/O.
 */

export interface RawMessage {
  value: Buffer | null;
  format: string;
  coordinates: MessageCoordinates;
}

export type PipelineResult =
  | { kind: 'ok'; rows: ActionRow[] }
  | { kind: 'dlq'; reasonCode: DlqReasonCode; reason: string; error: IngestErrorRow }
  | { kind: 'drop'; why: string };

export interface PipelineOptions {
  maxMessageBytes: number;
  argsMaxBytes: number;
  adapters?: readonly FormatAdapter[];
}

const MAX_RAW_CHARS = 64 * 1024;
const MAX_REPORTED_ISSUES = 5;

export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): string {
  const shown = issues.slice(0, MAX_REPORTED_ISSUES).map((issue) => {
    const where = issue.path.map(String).join('.');
    return `${prefix}${where || '(root)'}: ${issue.message}`;
  });
  const more = issues.length - shown.length;
  return more > 0 ? `${shown.join('; ')}; and ${String(more)} more` : shown.join('; ');
}

/**
 * The stored copy of a rejected message: text, size-capped, with secrets removed. When the
 * message parsed as JSON the redaction can use key names (e.g. `password`), otherwise only
 * the known token formats are found.
 */
export function buildErrorRow(
  message: RawMessage,
  reasonCode: DlqReasonCode,
  reason: string,
  parsed?: Record<string, unknown>,
): IngestErrorRow {
  const bytes = message.value ?? Buffer.alloc(0);
  const redactions: RedactionRow[] = [];
  let raw: string;
  if (parsed !== undefined) {
    const redacted = redactJson(parsed, 'raw');
    redactions.push(...redacted.redactions);
    raw = JSON.stringify(redacted.value);
  } else {
    const redacted = redactString(bytes.subarray(0, MAX_RAW_CHARS * 4).toString('utf8'));
    for (const r of redacted.redactions)
      redactions.push({ path: 'raw', kind: r.kind, fingerprint: r.fingerprint });
    raw = redacted.text;
  }
  const { coordinates } = message;
  return {
    origin: coordinates.origin,
    topic: coordinates.topic,
    partition: coordinates.partition,
    offset: coordinates.offset,
    message_key: coordinates.key,
    message_ts: coordinates.timestampMs,
    format: message.format,
    reason_code: reasonCode,
    reason,
    raw: raw.length > MAX_RAW_CHARS ? raw.slice(0, MAX_RAW_CHARS) : raw,
    raw_bytes: bytes.length,
    raw_sha256: createHash('sha256').update(bytes).digest('hex'),
    redactions,
  };
}

export function createPipeline(options: PipelineOptions): (message: RawMessage) => PipelineResult {
  const adapters = new Map((options.adapters ?? ADAPTERS).map((a) => [a.name, a]));

  const reject = (
    message: RawMessage,
    reasonCode: DlqReasonCode,
    reason: string,
    parsed?: Record<string, unknown>,
  ): PipelineResult => ({
    kind: 'dlq',
    reasonCode,
    reason,
    error: buildErrorRow(message, reasonCode, reason, parsed),
  });

  return (message) => {
    const adapter = adapters.get(message.format);
    if (!adapter) {
      const known = [...adapters.keys()].join(', ');
      return reject(message, 'unknown_format', `unknown format "${message.format}" (known: ${known})`);
    }
    const decoded = decodeMessage(message.value, options.maxMessageBytes);
    if (decoded.kind === 'drop') return decoded;
    if (decoded.kind === 'dlq') return reject(message, decoded.reasonCode, decoded.reason);

    let adapted: AdapterResult;
    try {
      adapted = adapter.adapt(decoded.json);
    } catch (error) {
      // A bug in an adapter must not stop the consumer on one message (it would be redelivered
      // forever): dead-letter it with the error, where it can be found and replayed once fixed.
      return reject(
        message,
        'unmappable',
        `${message.format}: adapter failed: ${String(error)}`,
        decoded.json,
      );
    }
    if (adapted.kind === 'drop') return adapted;
    if (adapted.kind === 'invalid')
      return reject(
        message,
        'unmappable',
        `${message.format}: ${adapted.field}: ${adapted.problem}`,
        decoded.json,
      );
    const candidates = adapted.events;
    const events: ActionEvent[] = [];
    for (const [index, candidate] of candidates.entries()) {
      const parsed = ActionEventSchema.safeParse(candidate);
      if (!parsed.success) {
        const prefix = candidates.length > 1 ? `event ${String(index)}: ` : '';
        const reason = `${message.format}: ${formatIssues(parsed.error.issues, prefix)}`;
        return reject(message, 'schema_violation', reason, decoded.json);
      }
      events.push(parsed.data);
    }
    const raw = message.value ?? Buffer.alloc(0);
    const rows = events.map((event, index) =>
      normalizeEvent(event, {
        format: message.format,
        coordinates: message.coordinates,
        raw,
        index,
        argsMaxBytes: options.argsMaxBytes,
      }),
    );
    return { kind: 'ok', rows };
  };
}
