import { createHash } from 'node:crypto';
import { deadLetter, type DlqRecord } from './dead-letters.js';
import type { KeyedMessage } from './message.js';
import type { PipelineResult } from './pipeline.js';
import type { ActionRow, IngestErrorRow, MessageCoordinates } from '../model/rows.js';

/**
 * The batch being accumulated between flushes, and the pure policy deciding when to flush.
 * A batch remembers which offset range of each partition it covers: that range is what gets
 * committed after the write, and what makes the insert deduplication token deterministic.
 */

export interface FlushLimits {
  maxRows: number;
  maxBytes: number;
  maxAgeMs: number;
}

export type FlushTrigger = 'rows' | 'bytes' | 'age';

export function flushTrigger(
  state: { rows: number; bytes: number; openedAtMs: number | null },
  limits: FlushLimits,
  nowMs: number,
): FlushTrigger | null {
  if (state.openedAtMs === null) return null;
  if (state.rows >= limits.maxRows) return 'rows';
  if (state.bytes >= limits.maxBytes) return 'bytes';
  if (nowMs - state.openedAtMs >= limits.maxAgeMs) return 'age';
  return null;
}

export interface OffsetRange {
  topic: string;
  partition: number;
  first: bigint;
  last: bigint;
}

/** Per-message overhead so many tiny messages still count towards the byte limit. */
const ROW_OVERHEAD_BYTES = 64;

export class PendingBatch {
  readonly actions: ActionRow[] = [];
  readonly errors: IngestErrorRow[] = [];
  readonly dlq: DlqRecord[] = [];
  readonly ranges = new Map<string, OffsetRange>();
  messages = 0;
  dropped = 0;
  bytes = 0;
  openedAtMs: number | null = null;

  add(result: PipelineResult, message: KeyedMessage, nowMs: number): void {
    this.openedAtMs ??= nowMs;
    this.messages += 1;
    this.bytes += (message.value?.length ?? 0) + ROW_OVERHEAD_BYTES;
    this.track(message.coordinates);
    switch (result.kind) {
      case 'ok':
        for (const row of result.rows) this.actions.push(row);
        break;
      case 'dlq': {
        const letter = deadLetter(message, result.reasonCode, result.reason, result.error);
        this.errors.push(letter.error);
        this.dlq.push(letter.record);
        break;
      }
      case 'drop':
        this.dropped += 1;
        break;
    }
  }

  private track(coordinates: MessageCoordinates): void {
    const id = `${coordinates.topic}\u0000${String(coordinates.partition)}`;
    const offset = BigInt(coordinates.offset);
    const range = this.ranges.get(id);
    if (!range) {
      this.ranges.set(id, {
        topic: coordinates.topic,
        partition: coordinates.partition,
        first: offset,
        last: offset,
      });
    } else {
      if (offset < range.first) range.first = offset;
      if (offset > range.last) range.last = offset;
    }
  }

  get isEmpty(): boolean {
    return this.messages === 0;
  }

  /** Offsets to commit once this batch is written: one past the last message of each partition. */
  commitOffsets(): { topic: string; partition: number; offset: string }[] {
    return [...this.ranges.values()].map((r) => ({
      topic: r.topic,
      partition: r.partition,
      offset: (r.last + 1n).toString(),
    }));
  }
}

/**
 * Deterministic insert_deduplication_token for a table and the offset ranges a batch covers.
 * The same messages always give the same token, so an insert retried after an ambiguous
 * failure (timeout after the server already wrote it) is written once.
 */
export function dedupToken(table: string, ranges: Iterable<OffsetRange>): string {
  const parts = [...ranges]
    .map((r) => `${r.topic}/${String(r.partition)}/${r.first.toString()}-${r.last.toString()}`)
    .sort();
  return `${table}:${createHash('sha256').update(parts.join(',')).digest('hex').slice(0, 40)}`;
}
