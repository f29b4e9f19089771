import { describe, expect, inject, it } from 'vitest';
import { collectConsumerLag, readConsumerLag } from '../../app/consumer-lag.js';
import { silentLogger } from '../../common/logger.js';
import { MetricsRegistry } from '../../common/metrics.js';
import { ensureTopics } from '../../ingest/topics.js';
import { produceAll, retriable, testConfig, testKafka } from './helpers.js';

/** Consumer lag as /metrics reads it from a real broker: end offsets minus the group's commits. */

describe('consumer lag', () => {
  it('counts what the group has not committed, per partition, and follows its commits', async () => {
    const config = testConfig(inject('kafkaBrokers'));
    const settings = { ...config.kafka, partitions: 2 };
    const kafka = testKafka(inject('kafkaBrokers'));
    await ensureTopics(kafka, settings, silentLogger);
    await produceAll(
      kafka,
      settings.topic,
      Array.from({ length: 10 }, (_, i) => ({ value: `m${String(i)}`, partition: i % 2 })),
    );
    const admin = kafka.admin();
    await admin.connect();
    try {
      // Nothing committed yet: every message lags.
      expect(await retriable(() => readConsumerLag(admin, settings.groupId, [settings.topic]))).toEqual([
        { topic: settings.topic, partition: 0, lag: 5 },
        { topic: settings.topic, partition: 1, lag: 5 },
      ]);
      await retriable(() =>
        admin.setOffsets({
          groupId: settings.groupId,
          topic: settings.topic,
          partitions: [{ partition: 0, offset: '4' }],
        }),
      );
      const registry = new MetricsRegistry();
      const lag = collectConsumerLag(kafka, settings, registry);
      const text = await registry.scrape((collector, error) => {
        throw new Error(`${collector}: ${String(error)}`);
      });
      await lag.close();
      expect(text).toContain(`scopewatch_consumer_lag{partition="0",topic="${settings.topic}"} 1`);
      expect(text).toContain(`scopewatch_consumer_lag{partition="1",topic="${settings.topic}"} 5`);
      expect(text).toContain('scopewatch_consumer_lag_total 6');
    } finally {
      await admin.disconnect();
    }
  });
});
