import { createHash } from 'node:crypto';
import { CompressionTypes, type Producer } from 'kafkajs';
import type { IngestErrorRow, MessageCoordinates, RedactionRow } from '../model/rows.js';
import type { KeyedMessage, RawMessage } from './message.js';
import { redactJson, redactString } from './redaction/index.js';
import type { DlqReasonCode } from './result.js';

/**
 * Dead letters, all of them: a message that can never be stored is kept twice, as a row of
 * `ingest_errors` (why, where from, a redacted copy) and as the original bytes on the
 * dead-letter topic (with the reason and source coordinates as headers), so a fixed message
 * can be found, understood and replayed as it was sent. Nothing else in ingest builds either.
 */

export interface DlqSender {
  send(records: DlqRecord[]): Promise<void>;
}

const MAX_RAW_CHARS = 64 * 1024;

/** A dead-lettered message as it will be produced to the DLQ topic: original bytes plus why. */
export interface DlqRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

export function dlqHeaders(
  coordinates: MessageCoordinates,
  format: string,
  reasonCode: string,
  reason: string,
) {
  return {
    'scopewatch.reason_code': reasonCode,
    'scopewatch.reason': reason,
    'scopewatch.format': format,
    'scopewatch.source.topic': coordinates.topic,
    'scopewatch.source.partition': String(coordinates.partition),
    'scopewatch.source.offset': coordinates.offset,
    'scopewatch.source.timestamp': String(coordinates.timestampMs),
  };
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

/** Both copies of a dead letter: the `ingest_errors` row and the DLQ topic record. */
export function deadLetter(
  message: KeyedMessage,
  reasonCode: DlqReasonCode,
  reason: string,
  error: IngestErrorRow = buildErrorRow(message, reasonCode, reason),
): { error: IngestErrorRow; record: DlqRecord } {
  return {
    error,
    record: {
      key: message.key,
      value: message.value,
      headers: dlqHeaders(message.coordinates, message.format, reasonCode, reason),
    },
  };
}

/** A row storage refused (it passed validation, so this is rare): dead-lettered from its message. */
export function storageRejected(
  source: KeyedMessage,
  reason: string,
): { error: IngestErrorRow; record: DlqRecord } {
  const why = `storage rejected the row: ${reason}`;
  return deadLetter(source, 'storage_rejected', why);
}

/**
 * Brokers refuse record batches over `message.max.bytes` (1 MiB by default) and dead letters are
 * often the oversized messages: sends are split so one request stays under that, with a
 * record larger than the budget travelling alone (the source topic accepted it, so the DLQ
 * topic, created with the same broker defaults, does too).
 */
export const MAX_REQUEST_BYTES = 900 * 1024;

export function chunkByBytes(records: readonly DlqRecord[], maxBytes: number): DlqRecord[][] {
  const chunks: DlqRecord[][] = [];
  let current: DlqRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size =
      (record.value?.length ?? 0) +
      (record.key?.length ?? 0) +
      Object.entries(record.headers).reduce((n, [k, v]) => n + k.length + v.length, 0);
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Dead-letter topic producer: the original bytes and key, with the reason and source
 * coordinates as headers, so a fixed message can be replayed as it was sent.
 */
export class KafkaDlqSender implements DlqSender {
  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
  ) {}

  async send(records: DlqRecord[]): Promise<void> {
    for (const chunk of chunkByBytes(records, MAX_REQUEST_BYTES)) {
      await this.producer.send({
        topic: this.topic,
        acks: -1,
        compression: CompressionTypes.None,
        messages: chunk.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
      });
    }
  }
}
