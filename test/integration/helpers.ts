import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kafka, logLevel, type Admin, type Message } from 'kafkajs';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig, type Config } from '../../common/config.js';
import type { FastifyInstance } from 'fastify';
import { parseApiKeys } from '../../api/auth.js';
import { buildApi } from '../../api/server.js';
import { silentLogger } from '../../common/logger.js';
import { ingestMetrics, MetricsRegistry, type IngestMetrics } from '../../common/metrics.js';
import { startIngestConsumer } from '../../ingest/consumer.js';
import { replayFile } from '../../ingest/replay.js';
import { generateDemoEvents } from '../../demo/generator.js';
import { DetectionRunner } from '../../detectors/runner.js';
import type { ActionRow } from '../../model/rows.js';
import type { PostWriteStage, RowSink } from '../../ingest/sinks.js';
import { ActionsRepository } from '../../storage/actions.js';
import { openClickHouse } from '../../storage/clickhouse.js';
import type { ClickHouseGateway } from '../../storage/gateway.js';
import { repositoriesOf, type Repositories } from '../../storage/repositories.js';
import { prepareSchema } from '../../storage/schema.js';
import type { EvidenceService } from '../../api/evidence-routes.js';
import type { SigningKeys } from '../../app/evidence.js';
import { signedBundles } from '../../app/access-review.js';
import type { ReviewService } from '../../api/review-routes.js';
import { generateSigningKey, publicKeyPem } from '../../evidence/dsse.js';

/** Shared plumbing for integration tests: isolated config, producing, waiting, offsets. */

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export function testConfig(brokers: string[], overrides: Record<string, unknown> = {}): Config {
  const topic = uniqueName('it-actions');
  return loadConfig(
    {},
    {
      dataDir: mkdtempSync(path.join(tmpdir(), 'scopewatch-it-')),
      logLevel: 'warn',
      kafka: { brokers, topic, groupId: uniqueName('it-group'), partitions: 4 },
      ingest: { maxBatchAgeMs: 200, retryInitialMs: 50, retryMaxMs: 500 },
      ...overrides,
    },
  );
}

export function testKafka(brokers: string[]): Kafka {
  return new Kafka({ clientId: 'scopewatch-test', brokers, logLevel: logLevel.NOTHING });
}

export async function produceAll(
  kafka: Kafka,
  topic: string,
  messages: Message[],
  chunk = 2000,
): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += chunk) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + chunk) });
    }
  } finally {
    await producer.disconnect();
  }
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!done(last)) {
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}; last value: ${JSON.stringify(last, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 250));
    last = await probe();
  }
  return last;
}

/** Retries what a busy single-node broker answers with a retriable error (e.g. NOT_COORDINATOR while a group moves). */
export async function retriable<T>(call: () => Promise<T>, attempts = 20): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= attempts || (error as { retriable?: boolean }).retriable !== true) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Committed offset and log end per partition of a topic, for a group. */
export async function offsetsOf(
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<{ partition: number; committed: bigint; end: bigint }[]> {
  const [ends, groups] = await Promise.all([
    retriable(() => admin.fetchTopicOffsets(topic)),
    retriable(() => admin.fetchOffsets({ groupId, topics: [topic] })),
  ]);
  const committed = new Map(
    (groups[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset === '-1' ? '0' : p.offset)]),
  );
  return ends
    .map((e) => ({
      partition: e.partition,
      committed: committed.get(e.partition) ?? 0n,
      end: BigInt(e.high),
    }))
    .sort((a, b) => a.partition - b.partition);
}

export function allCommitted(offsets: { committed: bigint; end: bigint }[]): boolean {
  return offsets.every((o) => o.committed === o.end);
}

/**
 * Opens the embedded engine (migrated) for the test file and closes it afterwards. Returns a
 * getter: the handle exists only once beforeAll has run.
 */
export function useClickHouse(config: Config): () => ClickHouseGateway {
  let ch: ClickHouseGateway | undefined;
  beforeAll(async () => {
    ch = await openClickHouse(config);
    await prepareSchema(ch, config.clickhouse, silentLogger);
  });
  afterAll(async () => {
    await ch?.close();
  });
  return () => {
    if (!ch) throw new Error('ClickHouse is opened in beforeAll');
    return ch;
  };
}

/** Every repository over the test's ClickHouse, and the gateway (what the API and services are handed). */
export function storageOf(ch: ClickHouseGateway): Repositories & { gateway: ClickHouseGateway } {
  return { ...repositoriesOf(ch), gateway: ch };
}

/** First column of the first row as a number (ClickHouse returns 64-bit integers as strings). */
export async function scalar(
  ch: ClickHouseGateway,
  query: string,
  params: Record<string, unknown> = {},
): Promise<number> {
  const [row] = await ch.query<Record<string, string | number>>(query, params);
  return Number(Object.values(row ?? {})[0] ?? 0);
}

/** The ingest consumer as `scopewatch ingest` runs it, writing to the test's ClickHouse (or `sink`). */
export function startTestConsumer(
  config: Config,
  kafka: Kafka,
  ch: ClickHouseGateway,
  options: { sink?: RowSink; stages?: readonly PostWriteStage[]; metrics?: IngestMetrics } = {},
): ReturnType<typeof startIngestConsumer> {
  return startIngestConsumer({
    kafka: config.kafka,
    ingest: config.ingest,
    client: kafka,
    sink: options.sink ?? new ActionsRepository(ch),
    stages: options.stages,
    logger: silentLogger,
    metrics: options.metrics ?? ingestMetrics(new MetricsRegistry()),
  });
}

/** Exit code of a child process, once it has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      resolve(code);
    });
  });
}

/** An evidence service over this storage, signing with a key made for the test. */
export function testEvidence(storage: Repositories): EvidenceService & ReviewService & { keys: SigningKeys } {
  const { privateKey, publicKey } = generateSigningKey();
  const keys: SigningKeys = { privateKey, publicKey, publicKeyPem: publicKeyPem(publicKey) };
  return { keys, ...signedBundles(storage, keys) };
}

/** The API as the services build it, over the test's ClickHouse, with these `role:secret` keys. */
export function testApi(
  ch: ClickHouseGateway,
  keys: readonly string[],
  evidence: EvidenceService & ReviewService = testEvidence(storageOf(ch)),
): FastifyInstance {
  return buildApi({
    storage: storageOf(ch),
    keys: parseApiKeys([...keys]),
    logger: silentLogger,
    metrics: new MetricsRegistry(),
    evidence,
  });
}

/** Demo traffic (`count` events over the last four hours) replayed into `actions`, then judged. */
export async function ingestDemoAndDetect(
  ch: ClickHouseGateway,
  config: Config,
  options: { seed: number; count: number; file: string },
): Promise<void> {
  const storage = storageOf(ch);
  const file = path.join(config.dataDir, options.file);
  const events = generateDemoEvents(
    { seed: options.seed, startMs: Date.now() - 4 * 3600_000, incidentRate: 0.1 },
    options.count,
  );
  writeFileSync(file, events.map((e) => JSON.stringify(e.event)).join('\n'));
  await replayFile({
    file,
    format: 'canonical',
    ingest: config.ingest,
    sink: storage.actions,
    logger: silentLogger,
    metrics: ingestMetrics(new MetricsRegistry()),
  });
  await new DetectionRunner({ storage, logger: silentLogger, registry: () => null }).judgeIngested(
    0,
    Date.now() + 1000,
  );
}

let toolCallOffset = 0;

/** A stored `tool.call` row with everything else empty: the shape session and registry tests need. */
export function toolCallRow(
  identity: string,
  session: string,
  ts: number,
  tool: string,
  eventId: string,
): ActionRow {
  toolCallOffset += 1;
  return {
    event_id: eventId,
    ts,
    schema_version: 'scopewatch.action/v1',
    source_format: 'canonical',
    identity_id: identity,
    identity_type: 'agent',
    identity_owner: '',
    identity_instance: '',
    identity_credential: '',
    session,
    action: 'tool.call',
    tool,
    resource_type: '',
    resource_id: '',
    target_domain: '',
    permission: '',
    outcome: 'success',
    approval_id: '',
    approval_by: '',
    on_behalf_of: '',
    source_system: '',
    source_ip: '',
    source_user_agent: '',
    args: '{}',
    args_bytes: 2,
    attributes: {},
    redactions: [],
    kafka_topic: 'file:test',
    kafka_partition: 0,
    kafka_offset: String(toolCallOffset),
  };
}
