import { describe, expect, inject, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import {
  scalar,
  testConfig,
  testKafka,
  uniqueName,
  useClickHouse,
  waitFor,
  startTestConsumer,
} from './helpers.js';

/**
 * Every source format end to end through the real broker into ClickHouse, twice: chosen by
 * the `format` header on the main topic, and by the topic it arrives on
 * (SCOPEWATCH_TOPIC_FORMATS). Records an adapter cannot read reach the dead-letter topic and
 * `ingest_errors` with a reason naming the format and the field.
 */

const T = Date.now() - 60_000;
const otel = {
  resourceSpans: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'otel-agent' } }] },
      scopeSpans: [
        {
          spans: [
            {
              traceId: '0af7651916cd43dd8448eb211c80319c',
              spanId: 'b7ad6b7169203331',
              name: 'execute_tool get_weather',
              startTimeUnixNano: `${String(T)}000000`,
              attributes: [
                { key: 'gen_ai.operation.name', value: { stringValue: 'execute_tool' } },
                { key: 'gen_ai.tool.name', value: { stringValue: 'get_weather' } },
              ],
            },
          ],
        },
      ],
    },
  ],
};
const mcp = {
  ts: new Date(T).toISOString(),
  client: { id: 'mcp-agent' },
  session: 's-1',
  server: { name: 'github' },
  request: {
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'list_issues', arguments: { repo: 'acme/api' } },
  },
  response: { jsonrpc: '2.0', id: 1, result: { content: [] } },
};
const cloudtrail = {
  Records: [
    {
      eventID: 'ct-1',
      eventTime: new Date(T).toISOString(),
      eventSource: 's3.amazonaws.com',
      eventName: 'ListBuckets',
      readOnly: true,
      userIdentity: {
        type: 'IAMUser',
        arn: 'arn:aws:iam::111122223333:user/ci',
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      },
    },
    {
      eventID: 'ct-2',
      eventTime: new Date(T).toISOString(),
      eventSource: 'secretsmanager.amazonaws.com',
      eventName: 'GetSecretValue',
      requestParameters: { secretId: 'prod/db' },
      userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/ci' },
    },
  ],
};
const github = {
  '@timestamp': T,
  _document_id: 'gh-1',
  action: 'git.clone',
  actor: 'deploy-bot[bot]',
  actor_is_bot: true,
  repo: 'acme/api',
};

const canonical = {
  event_id: 'can-1',
  ts: T,
  identity: { id: 'canonical-agent', type: 'agent' },
  action: 'tool.call',
  tool: 'search',
};
const otelSpan = otel.resourceSpans[0]?.scopeSpans[0]?.spans[0];

/** One sample per format; `variant` keeps the source ids apart so both routes write rows. */
function sample(format: string, variant: string): Record<string, unknown> {
  switch (format) {
    case 'canonical':
      return { ...canonical, event_id: `can-${variant}` };
    case 'otel':
      return {
        resourceSpans: [
          {
            ...otel.resourceSpans[0],
            scopeSpans: [{ spans: [{ ...otelSpan, spanId: `b7ad6b716920333${variant}` }] }],
          },
        ],
      };
    case 'mcp':
      return { ...mcp, request: { ...mcp.request, id: Number(variant) } };
    case 'cloudtrail':
      return {
        Records: cloudtrail.Records.map((r) => ({ ...r, eventID: `${r.eventID}-${variant}` })),
      };
    default:
      return { ...github, _document_id: `gh-${variant}` };
  }
}

const FORMATS = ['otel', 'mcp', 'cloudtrail', 'github'];

async function readDlq(kafka: Kafka, topic: string, expected: number) {
  const reader = kafka.consumer({ groupId: uniqueName('it-formats-dlq') });
  await reader.connect();
  await reader.subscribe({ topic, fromBeginning: true });
  const records: { format: string; reason: string; topic: string }[] = [];
  await reader.run({
    eachMessage: ({ message }) => {
      const header = (name: string) => message.headers?.[name]?.toString() ?? '';
      records.push({
        format: header('scopewatch.format'),
        reason: header('scopewatch.reason'),
        topic: header('scopewatch.source.topic'),
      });
      return Promise.resolve();
    },
  });
  await waitFor(
    'DLQ records',
    () => Promise.resolve(records.length),
    (n) => n >= expected,
  );
  await reader.disconnect();
  return records;
}

describe('source formats through Kafka', () => {
  const brokers = inject('kafkaBrokers');
  const base = uniqueName('it-formats');
  const config = testConfig(brokers, {
    kafka: {
      brokers,
      topic: base,
      partitions: 2,
      topicFormats: FORMATS.map((f) => `${base}-${f}=${f}`),
    },
  });
  const clickhouse = useClickHouse(config);

  it('reads every format by header and by topic, drops non-actions, dead-letters naming format and field', async () => {
    const ch = clickhouse();
    const kafka = testKafka(brokers);
    const consumer = await startTestConsumer(config, kafka, ch);
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const json = (v: unknown): string => JSON.stringify(v);
    const noToolName = structuredClone(sample('otel', '9'));
    const spans = (noToolName.resourceSpans as typeof otel.resourceSpans)[0]?.scopeSpans[0]?.spans ?? [];
    if (spans[0]) spans[0].attributes = spans[0].attributes.filter((a) => a.key !== 'gen_ai.tool.name');
    const chatOnly = {
      ...otelSpan,
      spanId: 'd7ad6b7169203331',
      attributes: [{ key: 'gen_ai.operation.name', value: { stringValue: 'chat' } }],
    };
    await producer.sendBatch({
      acks: -1,
      topicMessages: [
        {
          topic: base,
          messages: [
            // By header, every format (canonical also by default, without one).
            ...['canonical', ...FORMATS].map((f) => ({
              key: f,
              value: json(sample(f, '1')),
              headers: { format: f },
            })),
            { key: 'canonical', value: json(sample('canonical', '2')) },
            {
              key: 'x',
              value: json({ ...github, actor: undefined, _document_id: 'gh-bad' }),
              headers: { format: 'github' },
            },
            { key: 'x', value: json({ ...mcp, client: undefined }), headers: { format: 'mcp' } },
            { key: 'x', value: json(github), headers: { format: 'syslog' } },
          ],
        },
        // By topic: no header at all.
        ...FORMATS.map((f) => ({
          topic: `${base}-${f}`,
          messages: [{ key: f, value: json(sample(f, '2')) }],
        })),
        {
          topic: `${base}-otel`,
          messages: [
            // The header wins over the topic's format.
            { key: 'mcp', value: json(sample('mcp', '3')), headers: { format: 'mcp' } },
            { key: 'otel', value: json(noToolName) },
            { key: 'otel', value: json(chatOnly) },
          ],
        },
        {
          topic: `${base}-cloudtrail`,
          messages: [
            { key: 'x', value: json({ Records: [{ ...cloudtrail.Records[0], eventName: undefined }] }) },
          ],
        },
      ],
    });
    await producer.disconnect();
    // 2 canonical + 2 otel + 3 mcp + 4 cloudtrail (2 records × 2) + 2 github; 5 dead letters.
    await waitFor(
      'rows and errors',
      async () => [
        await scalar(ch, `SELECT count() FROM ${ch.database}.actions FINAL`),
        await scalar(ch, `SELECT count() FROM ${ch.database}.ingest_errors FINAL`),
      ],
      ([rows, errors]) => rows === 13 && errors === 5,
    );
    const dlq = await readDlq(kafka, config.kafka.dlqTopic ?? '', 5);
    await consumer.stop();

    const rows = await ch.query<{
      source_format: string;
      kafka_topic: string;
      identity_id: string;
      tool: string;
      action: string;
      source_system: string;
    }>(
      `SELECT source_format, kafka_topic, identity_id, tool, action, source_system FROM ${ch.database}.actions FINAL`,
    );
    const route = (topic: string) => (topic === base ? 'main' : topic.slice(base.length + 1));
    expect(
      rows
        .map(
          (r) =>
            `${r.source_format} via ${route(r.kafka_topic)}: ${r.identity_id} ${r.tool} ${r.action} ${r.source_system}`,
        )
        .sort(),
    ).toEqual([
      'canonical via main: canonical-agent search tool.call ',
      'canonical via main: canonical-agent search tool.call ',
      'cloudtrail via cloudtrail: arn:aws:iam::111122223333:user/ci s3.amazonaws.com:ListBuckets data.read aws.cloudtrail',
      'cloudtrail via cloudtrail: arn:aws:iam::111122223333:user/ci secretsmanager.amazonaws.com:GetSecretValue secret.read aws.cloudtrail',
      'cloudtrail via main: arn:aws:iam::111122223333:user/ci s3.amazonaws.com:ListBuckets data.read aws.cloudtrail',
      'cloudtrail via main: arn:aws:iam::111122223333:user/ci secretsmanager.amazonaws.com:GetSecretValue secret.read aws.cloudtrail',
      'github via github: deploy-bot[bot] git.clone data.read github.audit',
      'github via main: deploy-bot[bot] git.clone data.read github.audit',
      'mcp via main: mcp-agent github.list_issues tool.call mcp',
      'mcp via mcp: mcp-agent github.list_issues tool.call mcp',
      'mcp via otel: mcp-agent github.list_issues tool.call mcp',
      'otel via main: otel-agent get_weather tool.call otel',
      'otel via otel: otel-agent get_weather tool.call otel',
    ]);

    const expectedReasons = [
      'cloudtrail: Records[0].eventName: missing',
      'github: actor: missing',
      'mcp: client.id: missing: the gateway must log who called',
      'otel: resourceSpans[0].scopeSpans[0].spans[0].attributes.gen_ai.tool.name: missing on a tool span',
      'unknown format "syslog" (known: canonical, otel, mcp, cloudtrail, github)',
    ];
    const stored = await ch.query<{ format: string; reason_code: string; reason: string }>(
      `SELECT format, reason_code, reason FROM ${ch.database}.ingest_errors FINAL ORDER BY reason`,
    );
    expect(stored.map((r) => r.reason)).toEqual(expectedReasons);
    expect(stored.map((r) => r.reason_code)).toEqual([
      'unmappable',
      'unmappable',
      'unmappable',
      'unmappable',
      'unknown_format',
    ]);
    // The dead-letter topic has the same reasons, with the format each record was read as.
    expect(dlq.map((r) => r.reason).sort()).toEqual(expectedReasons);
    expect(dlq.find((r) => r.reason.startsWith('cloudtrail:'))).toMatchObject({
      format: 'cloudtrail',
      topic: `${base}-cloudtrail`,
    });
    expect(dlq.find((r) => r.reason.startsWith('otel:'))?.topic).toBe(`${base}-otel`);
  }, 120_000);
});
