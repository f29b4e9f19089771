import type { Admin, Kafka } from 'kafkajs';
import type { KafkaSettings } from '../common/config.js';
import type { MetricsRegistry } from '../common/metrics.js';
import { consumedTopics } from '../ingest/topics.js';

/**
 * Consumer lag for /metrics, read from the broker at scrape time: per partition, the log end
 * offset minus the ingest group's committed offset. Read from the broker rather than from the
 * consumer, so a stuck or dead consumer shows a growing lag instead of its last good figure.
 */

export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

/** Lag per partition (by topic, then partition) of the topics `groupId` consumes; a partition never committed lags by all it holds. */
export async function readConsumerLag(
  admin: Admin,
  groupId: string,
  topics: readonly string[],
): Promise<PartitionLag[]> {
  const [committed, ends] = await Promise.all([
    admin.fetchOffsets({ groupId, topics: [...topics] }),
    Promise.all(topics.map(async (topic) => ({ topic, offsets: await admin.fetchTopicOffsets(topic) }))),
  ]);
  const committedAt = new Map<string, number>();
  for (const t of committed)
    for (const p of t.partitions) committedAt.set(`${t.topic}/${String(p.partition)}`, Number(p.offset));
  const lags: PartitionLag[] = [];
  for (const { topic, offsets } of ends)
    for (const p of offsets) {
      const end = Number(p.high);
      const done = committedAt.get(`${topic}/${String(p.partition)}`) ?? -1;
      lags.push({
        topic,
        partition: p.partition,
        lag: Math.max(0, end - (done >= 0 ? done : Number(p.low))),
      });
    }
  // The broker answers partitions in no particular order.
  return lags.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
}

/** Registers the lag gauges on `registry`; `close` disconnects the admin client it keeps. */
export function collectConsumerLag(
  kafka: Kafka,
  settings: Pick<KafkaSettings, 'groupId' | 'topic' | 'topicFormats'>,
  registry: MetricsRegistry,
): { close: () => Promise<void> } {
  const perPartition = registry.gauge(
    'scopewatch_consumer_lag',
    'Messages not yet committed by the ingest group, per topic and partition (read from the broker at most every 15 s)',
  );
  const total = registry.gauge('scopewatch_consumer_lag_total', 'Consumer lag summed over partitions');
  let admin: Admin | null = null;
  registry.collect('consumer_lag', 15_000, async () => {
    if (!admin) {
      const client = kafka.admin();
      await client.connect();
      admin = client;
    }
    const lags = await readConsumerLag(admin, settings.groupId, consumedTopics(settings));
    perPartition.reset();
    for (const l of lags) perPartition.set(l.lag, { topic: l.topic, partition: String(l.partition) });
    total.set(lags.reduce((n, l) => n + l.lag, 0));
  });
  return {
    close: async () => {
      await admin?.disconnect();
    },
  };
}
