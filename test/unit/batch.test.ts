import { describe, expect, it } from 'vitest';
import { dedupToken, flushTrigger, PendingBatch } from '../../ingest/batch.js';
import type { PipelineResult } from '../../ingest/pipeline.js';
import { backoffDelay } from '../../ingest/retry.js';
import { chunkByBytes } from '../../ingest/dead-letters.js';

const limits = { maxRows: 3, maxBytes: 1000, maxAgeMs: 500 };

describe('flush policy', () => {
  it('does nothing for an empty batch', () => {
    expect(flushTrigger({ rows: 0, bytes: 0, openedAtMs: null }, limits, 10_000)).toBeNull();
  });
  it('flushes on rows, bytes or age, whichever comes first', () => {
    expect(flushTrigger({ rows: 3, bytes: 10, openedAtMs: 0 }, limits, 1)).toBe('rows');
    expect(flushTrigger({ rows: 1, bytes: 1000, openedAtMs: 0 }, limits, 1)).toBe('bytes');
    expect(flushTrigger({ rows: 1, bytes: 10, openedAtMs: 0 }, limits, 500)).toBe('age');
    expect(flushTrigger({ rows: 1, bytes: 10, openedAtMs: 0 }, limits, 499)).toBeNull();
  });
});

function add(batch: PendingBatch, partition: number, offset: number, result: PipelineResult): void {
  batch.add(
    result,
    {
      key: null,
      value: Buffer.from('{}'),
      format: 'canonical',
      coordinates: {
        origin: 'kafka',
        topic: 't',
        partition,
        offset: String(offset),
        key: '',
        timestampMs: 0,
      },
    },
    1000,
  );
}

describe('pending batch', () => {
  it('tracks offset ranges per partition and commits one past the last', () => {
    const batch = new PendingBatch();
    add(batch, 0, 10, { kind: 'drop', why: 'tombstone' });
    add(batch, 0, 11, { kind: 'drop', why: 'tombstone' });
    add(batch, 1, 7, { kind: 'drop', why: 'tombstone' });
    expect(batch.commitOffsets()).toEqual([
      { topic: 't', partition: 0, offset: '12' },
      { topic: 't', partition: 1, offset: '8' },
    ]);
    expect(batch.messages).toBe(3);
    expect(batch.dropped).toBe(3);
    expect(batch.openedAtMs).toBe(1000);
  });
  it('handles offsets beyond 2^53 exactly', () => {
    const batch = new PendingBatch();
    add(batch, 0, 0, { kind: 'drop', why: 'x' });
    const range = batch.ranges.get('t\u00000');
    if (range) range.last = 9007199254740993n;
    expect(batch.commitOffsets()[0]?.offset).toBe('9007199254740994');
  });
});

describe('insert deduplication token', () => {
  const ranges = [
    { topic: 't', partition: 1, first: 5n, last: 9n },
    { topic: 't', partition: 0, first: 0n, last: 4n },
  ];
  it('is deterministic and independent of range order', () => {
    expect(dedupToken('actions', ranges)).toBe(dedupToken('actions', [...ranges].reverse()));
    expect(dedupToken('actions', ranges)).toMatch(/^actions:[0-9a-f]{40}$/);
  });
  it('differs per table and per range', () => {
    expect(dedupToken('actions', ranges)).not.toBe(dedupToken('ingest_errors', ranges));
    expect(dedupToken('actions', ranges)).not.toBe(
      dedupToken('actions', [{ topic: 't', partition: 0, first: 0n, last: 5n }]),
    );
  });
});

describe('retry backoff', () => {
  const policy = { initialMs: 100, maxMs: 1000 };
  it('grows exponentially, is jittered and capped', () => {
    expect(backoffDelay(1, policy, 0)).toBe(50);
    expect(backoffDelay(1, policy, 0.999)).toBeLessThanOrEqual(100);
    expect(backoffDelay(3, policy, 0)).toBe(200);
    expect(backoffDelay(30, policy, 1)).toBe(1000);
  });
});

describe('DLQ send chunks', () => {
  const record = (bytes: number) => ({ key: null, value: Buffer.alloc(bytes), headers: { r: 'x' } });
  it('keeps each request under the byte budget, oversized records alone, order preserved', () => {
    const records = [record(400), record(400), record(400), record(5000), record(10)];
    const chunks = chunkByBytes(records, 1000);
    expect(chunks.map((c) => c.map((r) => r.value?.length))).toEqual([[400, 400], [400], [5000], [10]]);
    expect(chunkByBytes([], 1000)).toEqual([]);
  });
});
