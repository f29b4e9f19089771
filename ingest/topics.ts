import type { Kafka } from 'kafkajs';
import { dlqTopicOf, type KafkaSettings } from '../common/config.js';
import type { Logger } from '../common/logger.js';

/** The topics the ingest consumer reads: the main one and any per-format topics. */
export function consumedTopics(settings: Pick<KafkaSettings, 'topic' | 'topicFormats'>): string[] {
  return [...new Set([settings.topic, ...Object.keys(settings.topicFormats)])];
}

/**
 * Topics are created explicitly: broker auto-creation races with the first produce on KRaft
 * and picks the broker's default partition count instead of ours.
 */
export async function ensureTopics(kafka: Kafka, settings: KafkaSettings, logger: Logger): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = [...new Set([...consumedTopics(settings), dlqTopicOf(settings)])].filter(
      (t) => !existing.has(t),
    );
    if (wanted.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: wanted.map((topic) => ({
        topic,
        numPartitions: settings.partitions,
        replicationFactor: settings.replicationFactor,
      })),
    });
    logger.info('topics created', { topics: wanted, partitions: settings.partitions });
  } finally {
    await admin.disconnect();
  }
}
