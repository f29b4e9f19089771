import { ConfigResourceTypes, Kafka, logLevel, type Admin, type Consumer } from 'kafkajs';
import { describe, expect, inject, it } from 'vitest';

/**
 * The brokers from test/global-setup.ts are real Kafka: topics, keyed produce, a consumer group
 * committing by hand, and committed offsets that reach the log end, on both supported versions.
 */

const MESSAGES = 100;
const KEYS = 10;
const PARTITIONS = 3;

interface Received {
  key: string;
  seq: number;
  partition: number;
}

const unique = (prefix: string): string =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

async function createTopic(admin: Admin, topic: string): Promise<void> {
  const created = await admin.createTopics({
    topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  expect(created).toBe(true);
}

async function produceKeyed(kafka: Kafka, topic: string): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const messages = Array.from({ length: MESSAGES }, (_, seq) => ({
      key: `key-${String(seq % KEYS)}`,
      value: JSON.stringify({ seq }),
    }));
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

/** Resolves once `count` messages were received and their offsets committed, or rejects on timeout. */
async function consumeAndCommit(consumer: Consumer, topic: string, count: number): Promise<Received[]> {
  const received: Received[] = [];
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`received ${String(received.length)} of ${String(count)} messages`));
    }, 60_000);
    void consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        for (const message of batch.messages) {
          const { seq } = JSON.parse(message.value?.toString() ?? '{}') as { seq: number };
          received.push({ key: message.key?.toString() ?? '', seq, partition: batch.partition });
          resolveOffset(message.offset);
        }
        const last = batch.messages.at(-1);
        if (last !== undefined) {
          // The committed offset is the next one to read, hence +1.
          const next = (BigInt(last.offset) + 1n).toString();
          await consumer.commitOffsets([{ topic, partition: batch.partition, offset: next }]);
        }
        await heartbeat();
        if (received.length >= count) resolve();
      },
    });
  });
  try {
    await done;
    return received;
  } finally {
    clearTimeout(timer);
  }
}

async function committedAndEnd(admin: Admin, groupId: string, topic: string) {
  const [ends, [group]] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const committed = new Map((group?.partitions ?? []).map((p) => [p.partition, p.offset]));
  return ends
    .map((end) => ({ partition: end.partition, committed: committed.get(end.partition), end: end.high }))
    .sort((a, b) => a.partition - b.partition);
}

async function roundTrip(brokers: string[]): Promise<void> {
  const kafka = new Kafka({ clientId: 'local-broker-it', brokers, logLevel: logLevel.NOTHING });
  const topic = unique('local-broker-it');
  const groupId = unique('local-broker-it-group');
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopic(admin, topic);
    await produceKeyed(kafka, topic);

    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const received = await consumeAndCommit(consumer, topic, MESSAGES).finally(() => consumer.disconnect());

    expect(received.map((r) => r.seq).sort((a, b) => a - b)).toEqual([...Array(MESSAGES).keys()]);
    // Same key, same partition, in produce order: what per-identity ordering relies on.
    for (let k = 0; k < KEYS; k++) {
      const ofKey = received.filter((r) => r.key === `key-${String(k)}`);
      expect(new Set(ofKey.map((r) => r.partition)).size).toBe(1);
      expect(ofKey.map((r) => r.seq)).toEqual([...ofKey.map((r) => r.seq)].sort((a, b) => a - b));
    }
    expect(new Set(received.map((r) => r.partition)).size).toBeGreaterThan(1);

    const offsets = await committedAndEnd(admin, groupId, topic);
    expect(offsets).toHaveLength(PARTITIONS);
    for (const { partition, committed, end } of offsets)
      expect({ partition, committed }).toEqual({ partition, committed: end });
    expect(offsets.reduce((sum, o) => sum + Number(o.end), 0)).toBe(MESSAGES);
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

/** A broker setting that only Kafka 4 knows, read back: proves which version answered. */
async function shareStateReplication(brokers: string[]): Promise<string | undefined> {
  const kafka = new Kafka({ clientId: 'local-broker-it', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { brokers: nodes } = await admin.describeCluster();
    const name = 'share.coordinator.state.topic.replication.factor';
    const response = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.BROKER, name: String(nodes[0]?.nodeId), configNames: [name] }],
    });
    return response.resources[0]?.configEntries.find((entry) => entry.configName === name)?.configValue;
  } finally {
    await admin.disconnect();
  }
}

const clusters = [
  { name: 'Kafka 4.4.0', brokers: inject('kafkaBrokers') },
  { name: 'Kafka 3.9.2', brokers: inject('kafkaBrokers39') },
];
const local = !process.env.KAFKA_BROKERS;

describe.each(clusters)('local broker: $name', ({ brokers }) => {
  it.skipIf(brokers.length === 0)(
    'creates a 3-partition topic, produces 100 keyed messages, consumes them in a group and commits to the log end',
    async () => {
      await roundTrip(brokers);
    },
  );
});

describe.skipIf(!local || clusters.some((c) => c.brokers.length === 0))('local broker versions', () => {
  it('runs 4.4.0 and 3.9.2 as separate brokers', async () => {
    expect(inject('kafkaBrokers')).not.toEqual(inject('kafkaBrokers39'));
    expect(await shareStateReplication(inject('kafkaBrokers'))).toBe('1');
    expect(await shareStateReplication(inject('kafkaBrokers39'))).toBeUndefined();
  });
});
