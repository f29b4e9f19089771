import { describe, expect, inject, it } from 'vitest';
import type { Message } from 'kafkajs';
import { ingestMetrics, MetricsRegistry } from '../../common/metrics.js';
import { generateDemoEvents } from '../../demo/generator.js';
import { malformedSamples } from '../../demo/malformed.js';
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
 * End to end against a real Kafka broker and the real (embedded) ClickHouse engine:
 * 20,000 messages, 1,000 of them malformed in many ways, some valid ones carrying secrets.
 */

const VALID = 19_000;
const MALFORMED = 1_000;

// Built by concatenation so secret scanners do not flag this file.
const SECRETS = {
  github: ['gh', 'p_', 'R4nd0mTok3nF0rTests0nly0123456789ab'].join(''),
  openai: ['sk-', 'proj-', 'Qw3rTy8uIoP1aSdFgHjKlZxCvBnM0123456789'].join(''),
  aws: ['AKIA', 'Z7XQ4M2PLK9RT3VB'].join(''),
  password: 'correct-horse-battery-staple-42',
};

function withSecrets(i: number, event: Record<string, unknown>): Record<string, unknown> {
  switch (i % 4) {
    case 0:
      return { ...event, args: { headers: { authorization: `Bearer ${SECRETS.github}` }, n: i } };
    case 1:
      return { ...event, attributes: { api_key: SECRETS.openai } };
    case 2:
      return { ...event, args: { db: { user: 'svc', password: SECRETS.password } } };
    default:
      return { ...event, resource: { type: 'object', id: `s3://logs/${SECRETS.aws}/dump.csv` } };
  }
}

function buildMessages(): { messages: Message[]; kinds: Set<string> } {
  const events = generateDemoEvents({ seed: 11, startMs: Date.now() - 3_600_000 }, VALID);
  const messages: Message[] = events.map((e, i) => ({
    key: e.key,
    value: JSON.stringify(i % 10 === 0 ? withSecrets(i / 10, e.event as Record<string, unknown>) : e.event),
  }));
  const kinds = new Set<string>();
  for (let i = 0; messages.length < VALID + MALFORMED; i++) {
    for (const sample of malformedSamples(i)) {
      if (messages.length >= VALID + MALFORMED) break;
      kinds.add(sample.kind);
      // Spread the bad ones through the stream, some with a secret inside.
      const value =
        i % 3 === 0 ? Buffer.concat([sample.bytes, Buffer.from(` ${SECRETS.github}`)]) : sample.bytes;
      const at = ((kinds.size + i * 131) * 7919 + messages.length) % messages.length;
      messages.splice(at, 0, { key: `bad-${sample.kind}`, value });
    }
  }
  return { messages, kinds };
}

describe('ingest: Kafka → ClickHouse', () => {
  const brokers = inject('kafkaBrokers');
  const config = testConfig(brokers);
  const kafka = testKafka(brokers);
  const clickhouse = useClickHouse(config);

  it('writes 19,000 valid events once, dead-letters 1,000 bad ones with reasons, and stores no secret', async () => {
    const ch = clickhouse();
    const { messages, kinds } = buildMessages();
    expect(kinds.size).toBeGreaterThanOrEqual(10);
    expect(messages).toHaveLength(VALID + MALFORMED);

    const metrics = ingestMetrics(new MetricsRegistry());
    const consumer = await startTestConsumer(config, kafka, ch, { metrics });
    await produceAll(kafka, config.kafka.topic, messages);

    const db = ch.database;
    await waitFor(
      'all rows',
      () => scalar(ch, `SELECT uniqExact(event_id) AS n FROM ${db}.actions`),
      (n) => n >= VALID,
    );
    await waitFor(
      'all errors',
      () => scalar(ch, `SELECT uniqExact(topic, partition, offset) AS n FROM ${db}.ingest_errors`),
      (n) => n >= MALFORMED,
    );
    const admin = kafka.admin();
    await admin.connect();
    await waitFor(
      'offsets committed',
      () => offsetsOf(admin, config.kafka.groupId, config.kafka.topic),
      allCommitted,
    );
    await consumer.stop();

    expect(await scalar(ch, `SELECT uniqExact(event_id) AS n FROM ${db}.actions`)).toBe(VALID);
    expect(await scalar(ch, `SELECT count() AS n FROM ${db}.actions FINAL`)).toBe(VALID);
    expect(await scalar(ch, `SELECT count() AS n FROM ${db}.ingest_errors FINAL`)).toBe(MALFORMED);
    expect(await scalar(ch, `SELECT countIf(reason = '') AS n FROM ${db}.ingest_errors`)).toBe(0);
    const reasonKinds = await scalar(ch, `SELECT uniqExact(reason_code) AS n FROM ${db}.ingest_errors`);
    expect(reasonKinds).toBeGreaterThanOrEqual(6);

    // The DLQ topic holds every bad message: original bytes, reason and source coordinates.
    const dlqEnds = await admin.fetchTopicOffsets(config.kafka.dlqTopic ?? '');
    const dlqCount = dlqEnds.reduce((sum, p) => sum + Number(p.high), 0);
    expect(dlqCount).toBe(MALFORMED);
    const reader = kafka.consumer({ groupId: `${config.kafka.groupId}-dlq-reader` });
    await reader.connect();
    await reader.subscribe({ topic: config.kafka.dlqTopic ?? '', fromBeginning: true });
    const dlqRecords: { reason: string; offset: string; value: Buffer | null }[] = [];
    await reader.run({
      eachMessage: async ({ message }) => {
        dlqRecords.push({
          reason: message.headers?.['scopewatch.reason']?.toString() ?? '',
          offset: message.headers?.['scopewatch.source.offset']?.toString() ?? '',
          value: message.value,
        });
        await Promise.resolve();
      },
    });
    await waitFor(
      'DLQ read back',
      () => Promise.resolve(dlqRecords.length),
      (n) => n >= MALFORMED,
    );
    await reader.disconnect();
    await admin.disconnect();
    expect(dlqRecords.every((r) => r.reason.length > 0 && r.offset.length > 0)).toBe(true);
    const originals = new Set(messages.map((m) => (m.value as Buffer | string).toString()));
    expect(dlqRecords.every((r) => originals.has((r.value ?? Buffer.alloc(0)).toString()))).toBe(true);

    // No secret value anywhere in ClickHouse: dump every stored row as text and search it.
    for (const table of ['actions', 'ingest_errors']) {
      const text = JSON.stringify(await ch.query(`SELECT * FROM ${db}.${table}`));
      for (const [name, secret] of Object.entries(SECRETS)) {
        expect(text.includes(secret), `${name} secret found in ${table}`).toBe(false);
      }
    }
    expect(
      await scalar(ch, `SELECT countIf(length(redactions) > 0) AS n FROM ${db}.actions`),
    ).toBeGreaterThanOrEqual(VALID / 10);
    expect(metrics.rowsWritten.get()).toBeGreaterThanOrEqual(VALID);
  });

  it('works against Kafka 3.9 as well', async () => {
    const ch = clickhouse();
    const brokers39 = inject('kafkaBrokers39');
    const config39 = { ...config, kafka: { ...testConfig(brokers39).kafka } };
    const kafka39 = testKafka(brokers39);
    const events = generateDemoEvents({ seed: 5, startMs: Date.now() - 60_000 }, 2_000);
    const consumer = await startTestConsumer(config39, kafka39, ch);
    await produceAll(
      kafka39,
      config39.kafka.topic,
      events.map((e) => ({ key: e.key, value: JSON.stringify(e.event) })),
    );
    const topic = config39.kafka.topic;
    await waitFor(
      'rows from the 3.9 broker',
      () =>
        scalar(
          ch,
          `SELECT uniqExact(event_id) AS n FROM ${ch.database}.actions WHERE kafka_topic = {topic:String}`,
          {
            topic,
          },
        ),
      (n) => n >= 2_000,
    );
    const admin = kafka39.admin();
    await admin.connect();
    await waitFor('offsets committed', () => offsetsOf(admin, config39.kafka.groupId, topic), allCommitted);
    await admin.disconnect();
    await consumer.stop();
  });
});
