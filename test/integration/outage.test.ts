import { describe, expect, inject, it } from 'vitest';
import { ingestMetrics, MetricsRegistry } from '../../common/metrics.js';
import { generateDemoEvents } from '../../demo/generator.js';
import {
  allCommitted,
  offsetsOf,
  produceAll,
  scalar,
  testConfig,
  testKafka,
  useClickHouse,
  waitFor,
  startTestConsumer,
} from './helpers.js';

/**
 * ClickHouse refusing writes for a while. The refusal is real: the table's
 * parts_to_throw_insert is lowered so the engine answers every insert with TOO_MANY_PARTS,
 * exactly as an overloaded server does. No offset may move past unwritten rows, and after
 * the table accepts writes again every event arrives.
 */

describe('ClickHouse outage', () => {
  const brokers = inject('kafkaBrokers');
  const config = testConfig(brokers);
  const kafka = testKafka(brokers);
  const clickhouse = useClickHouse(config);

  const distinct = (): Promise<number> =>
    scalar(clickhouse(), `SELECT uniqExact(event_id) AS n FROM ${clickhouse().database}.actions`);

  it('commits nothing past unwritten rows and loses nothing after recovery', async () => {
    const ch = clickhouse();
    const events = generateDemoEvents({ seed: 3, startMs: Date.now() - 600_000 }, 6_000);
    const messages = events.map((e) => ({ key: e.key, value: JSON.stringify(e.event) }));
    const registry = new MetricsRegistry();
    const metrics = ingestMetrics(registry);
    const consumer = await startTestConsumer(config, kafka, ch, { metrics });
    const admin = kafka.admin();
    await admin.connect();
    const offsets = () => offsetsOf(admin, config.kafka.groupId, config.kafka.topic);

    await produceAll(kafka, config.kafka.topic, messages.slice(0, 1_000));
    await waitFor('first 1,000', distinct, (n) => n >= 1_000);
    await waitFor('first commit', offsets, allCommitted);
    const before = await offsets();

    await ch.command(`ALTER TABLE ${ch.database}.actions MODIFY SETTING parts_to_throw_insert = 1`);
    try {
      await produceAll(kafka, config.kafka.topic, messages.slice(1_000));
      await waitFor(
        'write retries',
        () => Promise.resolve(metrics.retries.total()),
        (n) => n >= 3,
        30_000,
      );
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(await distinct()).toBe(1_000);
      const during = await offsets();
      expect(during.map((o) => o.committed)).toEqual(before.map((o) => o.committed));
      expect(during.some((o, i) => o.end > (before[i]?.end ?? 0n))).toBe(true);
      expect(metrics.paused.get()).toBe(1);
    } finally {
      await ch.command(`ALTER TABLE ${ch.database}.actions RESET SETTING parts_to_throw_insert`);
    }

    await waitFor('all 6,000 after recovery', distinct, (n) => n >= 6_000, 60_000);
    await waitFor('offsets at log end', offsets, allCommitted);
    expect(metrics.paused.get()).toBe(0);
    await consumer.stop();
    await admin.disconnect();
    expect(await distinct()).toBe(6_000);
  });
});
