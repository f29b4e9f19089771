import { describe, expect, inject, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { ingestMetrics, MetricsRegistry } from '../../common/metrics.js';
import { startIngestConsumer } from '../../ingest/consumer.js';
import { ClickHouseRowSink } from '../../ingest/writer.js';
import { scalar, testConfig, testKafka, uniqueName, useClickHouse, waitFor } from './helpers.js';

/**
 * Every source format end to end through the real broker into ClickHouse: chosen by the
 * `format` header on the main topic, or by the topic it arrives on (SCOPEWATCH_TOPIC_FORMATS).
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

describe('source formats through Kafka', () => {
  const brokers = inject('kafkaBrokers');
  const base = uniqueName('it-formats');
  const config = testConfig(brokers, {
    kafka: {
      brokers,
      topic: base,
      partitions: 2,
      topicFormats: [`${base}-cloudtrail=cloudtrail`, `${base}-otel=otel`],
    },
  });
  const clickhouse = useClickHouse(config);

  it('reads every format, by header and by topic, and dead-letters naming format and field', async () => {
    const ch = clickhouse();
    const kafka = testKafka(brokers);
    const consumer = await startIngestConsumer({
      config,
      kafka,
      sink: new ClickHouseRowSink(ch.client, ch.database),
      logger: silentLogger,
      metrics: ingestMetrics(new MetricsRegistry()),
    });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const json = (v: unknown): string => JSON.stringify(v);
    await producer.sendBatch({
      acks: -1,
      topicMessages: [
        {
          topic: base,
          messages: [
            { key: 'otel-agent', value: json(otel), headers: { format: 'otel' } },
            { key: 'mcp-agent', value: json(mcp), headers: { format: 'mcp' } },
            { key: 'deploy-bot', value: json(github), headers: { format: 'github' } },
            {
              key: 'x',
              value: json({ ...github, actor: undefined, _document_id: 'gh-bad' }),
              headers: { format: 'github' },
            },
            { key: 'x', value: json(github), headers: { format: 'syslog' } },
          ],
        },
        { topic: `${base}-cloudtrail`, messages: [{ key: 'ci', value: json(cloudtrail) }] },
        // The header wins over the topic's format.
        {
          topic: `${base}-otel`,
          messages: [
            {
              key: 'mcp-agent',
              value: json({ ...mcp, request: { ...mcp.request, id: 2 } }),
              headers: { format: 'mcp' },
            },
            {
              key: 'otel-agent',
              value: json({
                ...otel.resourceSpans[0]?.scopeSpans[0]?.spans[0],
                spanId: 'c7ad6b7169203331',
                resource: otel.resourceSpans[0]?.resource,
              }),
            },
          ],
        },
      ],
    });
    await producer.disconnect();
    await waitFor(
      'rows and errors',
      async () => [
        await scalar(ch, `SELECT count() FROM ${ch.database}.actions`),
        await scalar(ch, `SELECT count() FROM ${ch.database}.ingest_errors`),
      ],
      ([rows, errors]) => rows === 7 && errors === 2,
    );
    await consumer.stop();

    const rows = await (
      await ch.client.query({
        query: `SELECT source_format, identity_id, tool, action FROM ${ch.database}.actions FINAL ORDER BY source_format, tool`,
        format: 'JSONEachRow',
        clickhouse_settings: { insert_deduplication_token: '' },
      })
    ).json<{ source_format: string; identity_id: string; tool: string; action: string }>();
    expect(rows.map((r) => `${r.source_format} ${r.identity_id} ${r.tool} ${r.action}`)).toEqual([
      'cloudtrail arn:aws:iam::111122223333:user/ci s3.amazonaws.com:ListBuckets data.read',
      'cloudtrail arn:aws:iam::111122223333:user/ci secretsmanager.amazonaws.com:GetSecretValue secret.read',
      'github deploy-bot[bot] git.clone data.read',
      'mcp mcp-agent github.list_issues tool.call',
      'mcp mcp-agent github.list_issues tool.call',
      'otel otel-agent get_weather tool.call',
      'otel otel-agent get_weather tool.call',
    ]);
    const reasons = await (
      await ch.client.query({
        query: `SELECT reason FROM ${ch.database}.ingest_errors ORDER BY reason`,
        format: 'JSONEachRow',
        clickhouse_settings: { insert_deduplication_token: '' },
      })
    ).json<{ reason: string }>();
    expect(reasons.map((r) => r.reason)).toEqual([
      'github: actor: missing',
      'unknown format "syslog" (known: canonical, otel, mcp, cloudtrail, github)',
    ]);
  }, 90_000);
});
