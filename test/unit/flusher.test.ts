import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { ingestMetrics, MetricsRegistry } from '../../common/metrics.js';
import type { DlqRecord } from '../../ingest/dead-letters.js';
import { BatchFlusher, type FlusherOptions } from '../../ingest/flusher.js';
import type { KeyedMessage } from '../../ingest/message.js';
import { createPipeline } from '../../ingest/pipeline.js';
import type { RowSink } from '../../ingest/sinks.js';
import type { ActionRow, IngestErrorRow } from '../../model/rows.js';
import type { InsertOutcome } from '../../storage/insert-rejects.js';

/**
 * The flusher's order, without Kafka or ClickHouse: actions → post-write stages → dead letters
 * (ingest_errors, then the DLQ topic) → commit, each step retried until durable; a failing
 * stage never holds back the commit; nothing commits before the rows are written.
 */

const pipeline = createPipeline({ maxMessageBytes: 64 * 1024, argsMaxBytes: 1024 });

function message(offset: number, value: string): KeyedMessage {
  return {
    key: Buffer.from('agent'),
    value: Buffer.from(value),
    format: 'canonical',
    coordinates: {
      origin: 'kafka',
      topic: 'agent-actions',
      partition: 0,
      offset: String(offset),
      key: 'agent',
      timestampMs: 1,
    },
  };
}

const valid = (id: string): string =>
  JSON.stringify({
    event_id: id,
    ts: '2026-01-01T00:00:00Z',
    identity: { id: 'agent' },
    action: 'tool.call',
    tool: 'search',
  });

class Recorder implements RowSink {
  readonly log: string[] = [];
  actionFailures = 0;
  /** Event ids storage refuses, as a type error would. */
  refuse = new Set<string>();

  insertActions(rows: ActionRow[], token: string): Promise<InsertOutcome<ActionRow>> {
    if (this.actionFailures > 0) {
      this.actionFailures -= 1;
      this.log.push('actions failed');
      return Promise.reject(new Error('clickhouse down'));
    }
    this.log.push(`actions ${String(rows.length)} ${token.split(':')[0] ?? ''}`);
    return Promise.resolve({
      rejected: rows
        .filter((r) => this.refuse.has(r.event_id))
        .map((row) => ({ row, reason: 'TYPE_MISMATCH' })),
    });
  }

  insertErrors(rows: IngestErrorRow[]): Promise<InsertOutcome<IngestErrorRow>> {
    this.log.push(`errors ${rows.map((r) => r.reason_code).join(',')}`);
    return Promise.resolve({ rejected: [] });
  }
}

function flusherWith(sink: Recorder, extra: Partial<FlusherOptions> = {}): BatchFlusher {
  return new BatchFlusher({
    sink,
    dlq: {
      send: (records: DlqRecord[]) => {
        sink.log.push(`dlq ${records.map((r) => r.headers['scopewatch.reason_code'] ?? '').join(',')}`);
        return Promise.resolve();
      },
    },
    commit: (offsets) => {
      sink.log.push(`commit ${offsets.map((o) => `${String(o.partition)}@${o.offset}`).join(',')}`);
      return Promise.resolve();
    },
    limits: { maxRows: 1000, maxBytes: 1 << 20, maxAgeMs: 1000 },
    retryPolicy: { initialMs: 1, maxMs: 2 },
    logger: silentLogger,
    metrics: ingestMetrics(new MetricsRegistry()),
    ...extra,
  });
}

function add(flusher: BatchFlusher, offset: number, value: string): void {
  const m = message(offset, value);
  flusher.add(pipeline(m), m);
}

describe('batch flusher', () => {
  it('writes actions, runs the stages on them, then dead letters, then commits', async () => {
    const sink = new Recorder();
    const flusher = flusherWith(sink, {
      stages: [
        {
          name: 'detect',
          run: (rows) => {
            sink.log.push(`detect ${rows.map((r) => r.event_id).join(',')}`);
            return Promise.resolve();
          },
        },
      ],
    });
    add(flusher, 10, valid('e-1'));
    add(flusher, 11, '{not json');
    add(flusher, 12, valid('e-2'));
    const stats = await flusher.flush('test');
    expect(sink.log).toEqual([
      'actions 2 actions',
      'detect e-1,e-2',
      'errors invalid_json',
      'dlq invalid_json',
      'commit 0@13',
    ]);
    expect(stats).toEqual({ messages: 3, rows: 2, dlq: 1 });
  });

  it('a failing stage is logged and skipped: the batch still commits', async () => {
    const sink = new Recorder();
    const flusher = flusherWith(sink, {
      stages: [{ name: 'detect', run: () => Promise.reject(new Error('engine broke')) }],
    });
    add(flusher, 5, valid('e-1'));
    await flusher.flush('test');
    expect(sink.log).toEqual(['actions 1 actions', 'errors ', 'commit 0@6']);
  });

  it('rows storage refuses become dead letters and are not handed to the stages', async () => {
    const sink = new Recorder();
    sink.refuse.add('e-bad');
    const seen: string[] = [];
    const flusher = flusherWith(sink, {
      stages: [
        {
          name: 'detect',
          run: (rows) => {
            seen.push(...rows.map((r) => r.event_id));
            return Promise.resolve();
          },
        },
      ],
    });
    add(flusher, 1, valid('e-ok'));
    add(flusher, 2, valid('e-bad'));
    const stats = await flusher.flush('test');
    expect(seen).toEqual(['e-ok']);
    expect(sink.log.slice(-3)).toEqual(['errors storage_rejected', 'dlq storage_rejected', 'commit 0@3']);
    expect(stats).toEqual({ messages: 2, rows: 1, dlq: 1 });
  });

  it('retries the actions write until it succeeds, and commits only after it', async () => {
    const sink = new Recorder();
    sink.actionFailures = 2;
    const flusher = flusherWith(sink);
    add(flusher, 7, valid('e-1'));
    await flusher.flush('test');
    expect(sink.log).toEqual([
      'actions failed',
      'actions failed',
      'actions 1 actions',
      'errors ',
      'commit 0@8',
    ]);
  });

  it('commits nothing when it gives up on a write (the batch is redelivered)', async () => {
    const sink = new Recorder();
    sink.actionFailures = 100;
    const flusher = flusherWith(sink);
    add(flusher, 7, valid('e-1'));
    await expect(flusher.flush('shutdown', { shouldGiveUp: () => true })).rejects.toThrow('clickhouse down');
    expect(sink.log.some((l) => l.startsWith('commit'))).toBe(false);
  });
});
