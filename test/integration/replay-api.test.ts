import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildApi } from '../../api/server.js';
import { parseApiKeys } from '../../api/auth.js';
import { silentLogger } from '../../common/logger.js';
import { ingestMetrics, MetricsRegistry } from '../../common/metrics.js';
import { packageRoot } from '../../common/paths.js';
import { generateDemoEvents } from '../../demo/generator.js';
import { malformedSamples } from '../../demo/malformed.js';
import { replayFile } from '../../ingest/replay.js';
import type { EventStats } from '../../model/event-stats.js';
import { storageOf, testConfig, testEvidence, useClickHouse } from './helpers.js';

/** File replay through the same pipeline, then the stats API over what arrived (real engine). */

const config = testConfig([]);
const clickhouse = useClickHouse(config);

function writeInput(name: string, gzip: boolean): { file: string; valid: number; bad: number } {
  const events = generateDemoEvents({ seed: 21, startMs: Date.now() - 7_200_000 }, 3_000);
  const lines = events.map((e) => JSON.stringify(e.event));
  const bad = malformedSamples(4)
    .filter((s) => !s.bytes.includes(0x0a) && s.bytes.length > 0 && s.bytes.toString().trim() !== '')
    .map((s) => s.bytes);
  const body = Buffer.concat([
    ...lines.map((l) => Buffer.from(`${l}\n`)),
    ...bad.map((b) => Buffer.concat([b, Buffer.from('\n')])),
    Buffer.from('\n   \n'),
  ]);
  const file = path.join(config.dataDir, name);
  writeFileSync(file, gzip ? gzipSync(body) : body);
  return { file, valid: lines.length, bad: bad.length };
}

describe('replay', () => {
  it('backfills a .jsonl.gz file, dead-letters bad lines, and is idempotent', async () => {
    const input = writeInput('history.jsonl.gz', true);
    const ch = clickhouse();
    const run = () =>
      replayFile({
        file: input.file,
        format: 'canonical',
        ingest: config.ingest,
        sink: storageOf(ch).actions,
        logger: silentLogger,
        metrics: ingestMetrics(new MetricsRegistry()),
      });
    const first = await run();
    expect(first).toEqual({ read: input.valid + input.bad, written: input.valid, dlq: input.bad });
    await run();
    const [counts] = await ch.query<{ rows: string; ids: string }>(
      `SELECT count() AS rows, uniqExact(event_id) AS ids FROM ${ch.database}.actions FINAL WHERE kafka_topic = 'file:history.jsonl.gz'`,
    );
    expect(Number(counts?.rows)).toBe(input.valid);
    expect(Number(counts?.ids)).toBe(input.valid);
  });
});

describe('stats API', () => {
  const analyst = 'analyst-key-0123456789abcdef';
  const app = () =>
    buildApi({
      storage: storageOf(clickhouse()),
      keys: parseApiKeys([`analyst:${analyst}`]),
      logger: silentLogger,
      metrics: new MetricsRegistry(),
      evidence: testEvidence(storageOf(clickhouse())),
    });

  it('requires a valid key', async () => {
    const api = app();
    expect((await api.inject({ method: 'GET', url: '/v1/events/stats' })).statusCode).toBe(401);
    const wrong = await api.inject({
      method: 'GET',
      url: '/v1/events/stats',
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual({ error: expect.stringMatching(/API key/) as unknown });
  });

  it('rejects bad query parameters with a 400 that says why', async () => {
    const response = await app().inject({
      method: 'GET',
      url: '/v1/events/stats?recent=lots',
      headers: { authorization: `Bearer ${analyst}` },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ error: string }>().error).toMatch(/recent/);
  });

  it('shows counts per identity, DLQ reasons and recent events', async () => {
    const response = await app().inject({
      method: 'GET',
      url: '/v1/events/stats?recent=5',
      headers: { 'x-api-key': analyst },
    });
    expect(response.statusCode).toBe(200);
    const stats = response.json<EventStats>();
    expect(stats.total_events).toBeGreaterThan(0);
    expect(stats.identities.length).toBeGreaterThanOrEqual(4);
    expect(stats.identities.reduce((s, i) => s + i.events, 0)).toBe(stats.total_events);
    expect(stats.recent).toHaveLength(5);
    expect(stats.dlq.length).toBeGreaterThan(0);
  });

  it('serves health, readiness and metrics', async () => {
    const api = app();
    expect((await api.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await api.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ready' });
    expect((await api.inject({ method: 'GET', url: '/metrics' })).body).toContain(
      'scopewatch_api_requests_total',
    );
    expect((await api.inject({ method: 'GET', url: '/v1/nothing' })).statusCode).toBe(404);
  });
});

describe('CLI', () => {
  it('replay prints one JSON line with read/written/dlq', async () => {
    const input = writeInput('cli.jsonl', false);
    const cli = path.join(packageRoot(), 'dist', 'bin', 'scopewatch.js');
    const run = promisify(execFile);
    // A separate process needs its own data directory: embedded ClickHouse allows one process per directory.
    const { stdout } = await run(
      process.execPath,
      [cli, 'replay', '--input', input.file, '--format', 'canonical'],
      {
        env: {
          ...process.env,
          SCOPEWATCH_DATA_DIR: path.join(config.dataDir, 'cli'),
          SCOPEWATCH_LOG_LEVEL: 'error',
        },
      },
    );
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      read: input.valid + input.bad,
      written: input.valid,
      dlq: input.bad,
    });
  });
});
