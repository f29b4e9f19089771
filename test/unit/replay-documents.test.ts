import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../common/config.js';
import { silentLogger } from '../../common/logger.js';
import { ingestMetrics, MetricsRegistry } from '../../common/metrics.js';
import { documentMessages, isDocumentFile, replayFile } from '../../ingest/replay.js';
import type { ActionRow, IngestErrorRow } from '../../model/rows.js';
import type { RowSink } from '../../ingest/sinks.js';
import type { InsertOutcome } from '../../storage/insert-rejects.js';

/** Replay of whole-document files (CloudTrail S3 delivery files) next to JSON Lines, without ClickHouse. */

class MemorySink implements RowSink {
  readonly actions: ActionRow[] = [];
  readonly errors: IngestErrorRow[] = [];
  insertActions(rows: ActionRow[]): Promise<InsertOutcome<ActionRow>> {
    this.actions.push(...rows);
    return Promise.resolve({ rejected: [] });
  }
  insertErrors(rows: IngestErrorRow[]): Promise<InsertOutcome<IngestErrorRow>> {
    this.errors.push(...rows);
    return Promise.resolve({ rejected: [] });
  }
}

const dir = mkdtempSync(path.join(tmpdir(), 'scopewatch-replay-doc-'));
const config = loadConfig({}, { dataDir: dir, ingest: { maxMessageBytes: 4096 } });

function record(i: number): Record<string, unknown> {
  return {
    eventVersion: '1.08',
    userIdentity: {
      type: 'AssumedRole',
      arn: `arn:aws:sts::111122223333:assumed-role/etl-role/run-${String(i % 3)}`,
      accountId: '111122223333',
      accessKeyId: 'ASIAEXAMPLEKEY000002',
    },
    eventTime: '2026-03-01T10:00:00Z',
    eventSource: 's3.amazonaws.com',
    eventName: 'GetObject',
    awsRegion: 'eu-west-1',
    sourceIPAddress: '203.0.113.9',
    requestParameters: { bucketName: 'lake', key: `part-${String(i)}.parquet`, note: 'é'.repeat(200) },
    readOnly: true,
    eventID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    recipientAccountId: '111122223333',
  };
}

async function replay(file: string, format = 'cloudtrail') {
  const sink = new MemorySink();
  const result = await replayFile({
    file,
    format,
    ingest: config.ingest,
    sink,
    logger: silentLogger,
    metrics: ingestMetrics(new MetricsRegistry()),
  });
  return { result, sink };
}

describe('replay of JSON documents', () => {
  it('splits arrays and CloudTrail Records; other documents and bad bytes stay one message', () => {
    expect(documentMessages(Buffer.from('[{"a":1},{"b":2}]')).map(String)).toEqual(['{"a":1}', '{"b":2}']);
    expect(documentMessages(Buffer.from('{"Records":[{"a":1}]}')).map(String)).toEqual(['{"a":1}']);
    expect(documentMessages(Buffer.from('{"resourceSpans":[]}')).map(String)).toEqual([
      '{"resourceSpans":[]}',
    ]);
    expect(documentMessages(Buffer.from('{"Records":'))).toHaveLength(1);
    expect(documentMessages(Buffer.from([0x7b, 0xff, 0x7d]))).toHaveLength(1);
    expect(isDocumentFile('x/CloudTrail_eu-west-1_20260301T1000Z_abc.json.gz')).toBe(true);
    expect(isDocumentFile('x.jsonl.gz')).toBe(false);
  });

  it('replays a gzipped delivery file larger than the message limit, record by record, idempotently', async () => {
    const records = Array.from({ length: 120 }, (_, i) => record(i));
    const file = path.join(dir, 'CloudTrail_eu-west-1_20260301T1000Z_x.json.gz');
    // Pretty-printed on purpose: one document over many lines, far over maxMessageBytes (4 KiB).
    writeFileSync(file, gzipSync(JSON.stringify({ Records: records }, null, 2)));
    const first = await replay(file);
    expect(first.result).toEqual({ read: 120, written: 120, dlq: 0 });
    expect(new Set(first.sink.actions.map((r) => r.identity_id))).toEqual(
      new Set(['arn:aws:iam::111122223333:role/etl-role']),
    );
    expect(first.sink.actions[5]).toMatchObject({
      event_id: records[5]?.eventID,
      kafka_topic: 'file:CloudTrail_eu-west-1_20260301T1000Z_x.json.gz',
      kafka_offset: '6',
      session: 'run-2',
    });
    const second = await replay(file);
    expect(second.sink.actions.map((r) => r.event_id)).toEqual(first.sink.actions.map((r) => r.event_id));
  });

  it('reads JSON Lines whose lines are Records documents too', async () => {
    const file = path.join(dir, 'batches.jsonl');
    const lines = [
      { Records: [record(1), record(2)] },
      { Records: [record(3)] },
      { Records: [{ ...record(4), eventSource: undefined }] },
    ];
    writeFileSync(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    const { result, sink } = await replay(file);
    expect(result).toEqual({ read: 3, written: 3, dlq: 1 });
    expect(sink.errors[0]?.reason).toBe('cloudtrail: Records[0].eventSource: missing');
  });
});
