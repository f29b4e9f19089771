import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { packageRoot } from '../../common/paths.js';
import { generateDemoEvents } from '../../demo/generator.js';
import { ensureTopics } from '../../ingest/topics.js';
import { openClickHouse } from '../../storage/clickhouse.js';
import { allCommitted, exited, offsetsOf, produceAll, testConfig, testKafka, waitFor } from './helpers.js';

/**
 * Crash safety: the ingest process is SIGKILLed repeatedly while 100,000 events stream in,
 * and restarted each time. Afterwards every event is present exactly once and the group's
 * offsets are at the log end.
 */

const TOTAL = 100_000;
const KILLS = 5;
const cli = path.join(packageRoot(), 'dist', 'bin', 'scopewatch.js');

describe('crash safety', () => {
  it('loses and duplicates nothing across repeated SIGKILLs', async () => {
    expect(existsSync(cli), `${cli} missing: run \`npm run build\` first`).toBe(true);
    const brokers = inject('kafkaBrokers');
    const config = testConfig(brokers, { ingest: { maxBatchAgeMs: 200, maxBatchRows: 5000 } });
    const kafka = testKafka(brokers);
    await ensureTopics(kafka, config.kafka, silentLogger);

    const env = {
      ...process.env,
      KAFKA_BROKERS: brokers.join(','),
      SCOPEWATCH_DATA_DIR: config.dataDir,
      SCOPEWATCH_TOPIC: config.kafka.topic,
      SCOPEWATCH_CONSUMER_GROUP: config.kafka.groupId,
      SCOPEWATCH_BATCH_MAX_ROWS: '5000',
      SCOPEWATCH_BATCH_MAX_AGE_MS: '200',
      SCOPEWATCH_LOG_LEVEL: 'error',
    };
    let stderr = '';
    const start = (): ChildProcess => {
      const child = spawn(process.execPath, [cli, 'ingest'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-4000);
      });
      return child;
    };

    const events = generateDemoEvents({ seed: 99, startMs: Date.now() - 86_400_000 }, TOTAL);
    const messages = events.map((e) => ({ key: e.key, value: JSON.stringify(e.event) }));
    // Produce slowly enough that the kills land while events are still streaming in.
    const producing = (async () => {
      for (let i = 0; i < messages.length; i += 2_000) {
        await produceAll(kafka, config.kafka.topic, messages.slice(i, i + 2_000));
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();

    const admin = kafka.admin();
    await admin.connect();
    const progress: string[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      const child = start();
      await new Promise((resolve) => setTimeout(resolve, 2_500 + kill * 700));
      child.kill('SIGKILL');
      await exited(child);
      const offsets = await offsetsOf(admin, config.kafka.groupId, config.kafka.topic);
      progress.push(offsets.map((o) => `${o.committed.toString()}/${o.end.toString()}`).join(' '));
    }
    await producing;

    const last = start();
    await waitFor(
      'all offsets committed',
      () => offsetsOf(admin, config.kafka.groupId, config.kafka.topic),
      allCommitted,
      120_000,
    );
    last.kill('SIGTERM');
    expect(await exited(last), stderr).toBe(0);
    await admin.disconnect();

    // Some kills must have happened mid-stream for this test to mean anything.
    expect(
      progress.some((p) => p.split(' ').some((pair) => pair.split('/')[0] !== pair.split('/')[1])),
      progress.join('\n'),
    ).toBe(true);

    const ch = await openClickHouse(config);
    try {
      const count = async (query: string): Promise<number> => {
        const [row] = await ch.query<{ n: string }>(query);
        return Number(row?.n);
      };
      expect(await count(`SELECT uniqExact(event_id) AS n FROM ${ch.database}.actions`)).toBe(TOTAL);
      expect(await count(`SELECT count() AS n FROM ${ch.database}.actions FINAL`)).toBe(TOTAL);
    } finally {
      await ch.close();
    }
  }, 300_000);
});
