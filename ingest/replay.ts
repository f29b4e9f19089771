import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { IngestSettings } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import type { IngestMetrics } from '../common/metrics.js';
import { BatchFlusher, flushSettings } from './flusher.js';
import type { FormatAdapter } from './adapters/types.js';
import { createPipeline } from './pipeline.js';
import type { PostWriteStage, RowSink } from './sinks.js';

/**
 * Backfill through the same pipeline and writer as Kafka, from any async source of messages:
 * a file (`replayFile`), or messages already in memory (demo history). Each message's
 * coordinates are the source's name (topic `file:<name>`) and its position, so replaying the
 * same source twice writes the same rows (and the same deterministic event ids) again,
 * deduplicated. In a file each line is one message; a `.json`/`.json.gz` file is one JSON
 * document instead (CloudTrail's S3 delivery files are): its records are the messages,
 * numbered from 1.
 */

/** One message of a replay source and its position in it (line or record number, from 1). */
export interface ReplayMessage {
  position: number;
  bytes: Buffer;
}

const NEWLINE = 0x0a;

/** Byte-level line splitting: decoding as text first would hide invalid UTF-8 from the pipeline. */
export async function* readLines(stream: Readable): AsyncGenerator<Buffer> {
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    for (let i = data.indexOf(NEWLINE); i !== -1; i = data.indexOf(NEWLINE, start)) {
      yield data.subarray(start, i);
      start = i + 1;
    }
    data = data.subarray(start);
    carry = Buffer.from(data);
  }
  if (carry.length > 0) yield carry;
}

export function openInput(file: string): Readable {
  const stream = createReadStream(file);
  return file.endsWith('.gz') ? stream.pipe(createGunzip()) : stream;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Whole-document files, as opposed to JSON Lines. */
export function isDocumentFile(file: string): boolean {
  return /\.json(\.gz)?$/i.test(file);
}

/**
 * One JSON document → the messages in it: the elements of a top-level array, the `Records` of
 * a CloudTrail delivery file (which can be many megabytes, far over the per-message limit,
 * while each record is small), else the document itself. Bytes that do not parse stay one
 * message, so the pipeline dead-letters them with the parse error. Pure.
 */
export function documentMessages(bytes: Buffer): Buffer[] {
  let json: unknown;
  try {
    json = JSON.parse(strictUtf8.decode(bytes));
  } catch {
    return [bytes];
  }
  const records = Array.isArray(json)
    ? json
    : typeof json === 'object' && json !== null && Array.isArray((json as { Records?: unknown }).Records)
      ? (json as { Records: unknown[] }).Records
      : undefined;
  if (records === undefined) return [bytes];
  return records.map((record) => Buffer.from(JSON.stringify(record)));
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The messages of a file with their position (line number, or record number in a document). */
export async function* fileMessages(file: string): AsyncGenerator<ReplayMessage> {
  if (isDocumentFile(file)) {
    const messages = documentMessages(await readAll(openInput(file)));
    for (const [i, bytes] of messages.entries()) yield { position: i + 1, bytes };
    return;
  }
  let lineNumber = 0;
  for await (const line of readLines(openInput(file))) {
    lineNumber += 1;
    if (!isBlank(line)) yield { position: lineNumber, bytes: line };
  }
}

function isBlank(line: Buffer): boolean {
  for (const byte of line) if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) return false;
  return true;
}

export interface ReplayResult {
  read: number;
  written: number;
  dlq: number;
}

/** Messages held in memory, numbered from 1 as a file's lines would be. */
export function* memoryMessages(messages: Iterable<Buffer>): Generator<ReplayMessage> {
  let position = 0;
  for (const bytes of messages) yield { position: ++position, bytes };
}

export interface ReplayOptions {
  source: AsyncIterable<ReplayMessage> | Iterable<ReplayMessage>;
  /** The source's name: coordinates (topic `file:<name>`), dedup tokens and derived event ids use it. */
  name: string;
  format: string;
  ingest: IngestSettings;
  sink: RowSink;
  /** Post-write stages (none for a backfill; detection judges it on its own schedule). */
  stages?: readonly PostWriteStage[];
  logger: Logger;
  metrics: IngestMetrics;
  adapters?: readonly FormatAdapter[];
}

export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const { ingest, format, name } = options;
  const pipeline = createPipeline({ ...ingest, adapters: options.adapters });
  const { limits, retryPolicy } = flushSettings(ingest);
  const flusher = new BatchFlusher({
    sink: options.sink,
    stages: options.stages,
    dlq: null,
    commit: null,
    // Replays have no idle periods: only size matters.
    limits: { ...limits, maxAgeMs: Number.MAX_SAFE_INTEGER },
    retryPolicy,
    logger: options.logger.child({ component: 'replay', source: name }),
    metrics: options.metrics,
  });
  const topic = `file:${name}`;
  const result: ReplayResult = { read: 0, written: 0, dlq: 0 };
  const account = (stats: { rows: number; dlq: number }): void => {
    result.written += stats.rows;
    result.dlq += stats.dlq;
  };
  for await (const { position, bytes } of options.source) {
    result.read += 1;
    const message = {
      key: null,
      value: bytes,
      format,
      coordinates: {
        origin: 'file' as const,
        topic,
        partition: 0,
        offset: String(position),
        key: '',
        timestampMs: Date.now(),
      },
    };
    flusher.add(pipeline(message), message);
    if (flusher.due() !== null) account(await flusher.flush('size'));
  }
  account(await flusher.flush('end'));
  return result;
}

/** A file, by its base name: `.jsonl[.gz]` lines, or one `.json[.gz]` document. */
export function replayFile(
  options: Omit<ReplayOptions, 'source' | 'name'> & { file: string },
): Promise<ReplayResult> {
  const { file, ...rest } = options;
  return replay({ ...rest, source: fileMessages(file), name: path.basename(file) });
}
