import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Kafka } from 'kafkajs';
import { buildApi } from '../api/server.js';
import { parseApiKeys, type ApiKey } from '../api/auth.js';
import type { Config } from '../common/config.js';
import { isSourceFormat, SOURCE_FORMATS } from '../common/formats.js';
import { createLogger, type Logger } from '../common/logger.js';
import { ingestMetrics, MetricsRegistry } from '../common/metrics.js';
import { onShutdown } from '../common/shutdown.js';
import { packageRoot } from '../common/paths.js';
import { produceDemo } from '../demo/produce.js';
import { startIngestConsumer } from '../ingest/consumer.js';
import { replayFile } from '../ingest/replay.js';
import type { EventStats } from '../ingest/stats.js';
import type { Finding } from '../model/finding.js';
import { ClickHouseRowSink } from '../ingest/writer.js';
import { createKafka } from '../kafka/client.js';
import { startLocalBroker, type LocalBroker } from '../kafka/local-broker.js';
import { openClickHouse, type ClickHouse } from '../sql/client.js';
import { prepareSchema } from '../sql/setup.js';
import { DetectionRunner } from '../detectors/runner.js';
import { DetectionStore } from '../detectors/store.js';
import { DetectingRowSink } from '../detectors/streaming-sink.js';
import { seedDemoHistory } from '../demo/history.js';
import { startScheduledDetection, syncRegistry, WATERMARK } from './detect-commands.js';
import { IdentityStore } from '../detectors/registry-store.js';
import type { Flags } from './scopewatch.js';

/** The CLI commands. Each builds what it needs from the config and owns its shutdown. */

function positiveIntFlag(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got "${value}"`);
  return n;
}

async function openStorage(config: Config, logger: Logger): Promise<ClickHouse> {
  const ch = await openClickHouse(config);
  await prepareSchema(ch, config, logger);
  logger.info('clickhouse ready', { mode: ch.mode, database: ch.database });
  return ch;
}

/** Brokers from config, or a local broker started for this process (the zero-setup path). */
async function kafkaBrokers(
  config: Config,
  logger: Logger,
): Promise<{ brokers: string[]; local: LocalBroker | null }> {
  if (config.kafka.brokers && config.kafka.brokers.length > 0)
    return { brokers: config.kafka.brokers, local: null };
  logger.info('KAFKA_BROKERS not set: starting a local Kafka broker', { version: config.kafka.localVersion });
  const local = await startLocalBroker({
    version: config.kafka.localVersion,
    workDir: path.join(config.dataDir, 'kafka'),
    logger,
  });
  logger.info('local Kafka broker ready', { brokers: local.brokers });
  return { brokers: local.brokers, local };
}

function requireBrokers(config: Config): string[] {
  const brokers = config.kafka.brokers;
  if (!brokers || brokers.length === 0) {
    throw new Error(
      'KAFKA_BROKERS (or --brokers) is required for this command; `scopewatch run` starts a local broker',
    );
  }
  return brokers;
}

const localKeyFile = (config: Config): string => path.join(config.dataDir, 'api-key');

/**
 * API keys from config; with none configured (local runs), a random admin key is generated and
 * written to DATA_DIR/api-key (mode 0600) so `scopewatch stats` and curl can use it.
 */
function apiKeys(config: Config, logger: Logger): ApiKey[] {
  if (config.api.keys.length > 0) return parseApiKeys(config.api.keys);
  const secret = randomBytes(24).toString('base64url');
  mkdirSync(config.dataDir, { recursive: true });
  writeFileSync(localKeyFile(config), `${secret}\n`, { mode: 0o600 });
  logger.warn('SCOPEWATCH_API_KEYS not set: generated a local admin key', { key_file: localKeyFile(config) });
  return parseApiKeys([`admin:${secret}`]);
}

async function startApi(config: Config, ch: ClickHouse, logger: Logger, registry: MetricsRegistry) {
  const app = buildApi({ ch, keys: apiKeys(config, logger), logger, metrics: registry });
  await app.listen({ host: config.api.host, port: config.api.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.api.port;
  logger.info('api listening', { url: `http://${config.api.host}:${String(port)}` });
  return app;
}

/** The consumer (with streaming detection): the ingest half shared by `run` and `ingest`. */
async function startIngest(
  config: Config,
  ch: ClickHouse,
  brokers: string[],
  logger: Logger,
  registry: MetricsRegistry,
) {
  const metrics = ingestMetrics(registry);
  const kafka = createKafka(config, brokers, logger);
  const rowSink = new ClickHouseRowSink(ch.client, ch.database);
  const sink = config.detect.streaming
    ? new DetectingRowSink(rowSink, await streamingRunner(config, ch, logger), logger)
    : rowSink;
  const consumer = await startIngestConsumer({ config, kafka, sink, logger, metrics });
  return { kafka, consumer, metrics };
}

async function streamingRunner(config: Config, ch: ClickHouse, logger: Logger): Promise<DetectionRunner> {
  const registry = await syncRegistry(config, new IdentityStore(ch.client, ch.database));
  return new DetectionRunner({
    store: new DetectionStore(ch.client, ch.database),
    logger: logger.child({ component: 'detect' }),
    registry: () => registry,
    overrides: config.detect.detectors,
  });
}

/** A consumer that kafkajs gave up on takes the process down (non-zero exit) so a supervisor restarts it. */
function exitOnCrash(
  consumer: { crashed: Promise<Error> },
  logger: Logger,
  shutdown: () => Promise<void>,
): void {
  void consumer.crashed.then((error) => {
    logger.error('consumer crashed', { error });
    process.exitCode = 1;
    void shutdown();
  });
}

function never(): Promise<void> {
  return new Promise(() => undefined);
}

export async function runAll(config: Config, flags: Flags): Promise<void> {
  // The demo ships its own registry so policy findings (revoked identity, out-of-scope egress)
  // show up without any setup; an explicit SCOPEWATCH_IDENTITIES wins.
  if (flags.demo && !config.detect.identitiesFile)
    config = {
      ...config,
      detect: { ...config.detect, identitiesFile: path.join(packageRoot(), 'demo', 'identities.yaml') },
    };
  const logger = createLogger(config.logLevel);
  const registry = new MetricsRegistry();
  const { brokers, local } = await kafkaBrokers(config, logger);
  const ch = await openStorage(config, logger);
  // Before anything judges: the demo agents' past, so live traffic is judged against habits.
  if (flags.demo)
    await seedDemoHistory(config, ch, logger, {
      seed: positiveIntFlag(flags.seed, 'seed', 7) + 1,
      watermark: WATERMARK,
    });
  const { kafka, consumer, metrics } = await startIngest(config, ch, brokers, logger, registry);
  const app = await startApi(config, ch, logger, registry);
  const scheduler = await startScheduledDetection(config, ch, logger.child({ component: 'detect' }));

  const demoAbort = new AbortController();
  let demo: Promise<unknown> = Promise.resolve();
  if (flags.demo) demo = startDemo(kafka, config, flags, logger, demoAbort.signal);

  const progress = setInterval(() => {
    process.stdout.write(
      `ingested ${String(metrics.rowsWritten.get())} events, dead-lettered ${String(metrics.dlq.total())}; ` +
        `see them: npx scopewatch stats (or GET /v1/events/stats)\n`,
    );
  }, 10_000);
  progress.unref();

  const shutdown = onShutdown(async (signal) => {
    logger.info('shutting down', { signal });
    clearInterval(progress);
    demoAbort.abort();
    await demo;
    await consumer.stop();
    await scheduler.stop();
    await app.close();
    await ch.close();
    await local?.stop();
  });
  exitOnCrash(consumer, logger, shutdown);
  await never();
}

async function startDemo(kafka: Kafka, config: Config, flags: Flags, logger: Logger, signal: AbortSignal) {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const result = await produceDemo({
      producer,
      topic: config.kafka.topic,
      seed: positiveIntFlag(flags.seed, 'seed', 7),
      eventsPerSecond: positiveIntFlag(flags.rate, 'rate', 200),
      durationMs:
        flags.duration === undefined ? undefined : positiveIntFlag(flags.duration, 'duration', 1) * 1000,
      maxEvents: flags.count === undefined ? undefined : positiveIntFlag(flags.count, 'count', 1),
      signal,
      logger,
    });
    logger.info('demo traffic finished', { ...result });
    return result;
  } finally {
    await producer.disconnect();
  }
}

export async function runIngest(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel);
  const ch = await openStorage(config, logger);
  const { consumer } = await startIngest(config, ch, requireBrokers(config), logger, new MetricsRegistry());
  const shutdown = onShutdown(async (signal) => {
    logger.info('shutting down', { signal });
    await consumer.stop();
    await ch.close();
  });
  exitOnCrash(consumer, logger, shutdown);
  await never();
}

export async function runApi(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel);
  const registry = new MetricsRegistry();
  const ch = await openStorage(config, logger);
  const app = await startApi(config, ch, logger, registry);
  onShutdown(async () => {
    await app.close();
    await ch.close();
  });
  await never();
}

export async function runMigrate(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel);
  const ch = await openClickHouse(config);
  try {
    const result = await prepareSchema(ch, config, logger);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await ch.close();
  }
}

export async function runReplay(config: Config, flags: Flags): Promise<void> {
  if (!flags.input)
    throw new Error('replay needs --input FILE (.jsonl[.gz] lines, or a .json[.gz] document)');
  const format = flags.format ?? 'canonical';
  // Every line would be dead-lettered as "unknown format": say so before opening anything.
  if (!isSourceFormat(format))
    throw new Error(`--format must be one of ${SOURCE_FORMATS.join(', ')}, got "${format}"`);
  const logger = createLogger(config.logLevel);
  const ch = await openStorage(config, logger);
  try {
    const result = await replayFile({
      file: flags.input,
      format,
      config,
      sink: new ClickHouseRowSink(ch.client, ch.database),
      logger,
      metrics: ingestMetrics(new MetricsRegistry()),
    });
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await ch.close();
  }
}

export async function runDemo(config: Config, flags: Flags): Promise<void> {
  const logger = createLogger(config.logLevel);
  const kafka = createKafka(config, requireBrokers(config), logger);
  const { ensureTopics } = await import('../ingest/topics.js');
  await ensureTopics(kafka, config, logger);
  const abort = new AbortController();
  onShutdown(() => {
    abort.abort();
    return Promise.resolve();
  });
  const result = await startDemo(kafka, config, flags, logger, abort.signal);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Renders stats for a terminal: identities table, DLQ reasons, latest events. */
export function formatStats(stats: EventStats): string {
  const lines = [
    `events: ${String(stats.total_events)}`,
    '',
    'identity                        events  tools  sessions  last seen',
  ];
  for (const i of stats.identities) {
    lines.push(
      `${i.identity_id.padEnd(30)} ${String(i.events).padStart(7)} ${String(i.tools).padStart(6)} ${String(i.sessions).padStart(9)}  ${i.last_ts}`,
    );
  }
  lines.push(
    '',
    `dead-lettered: ${stats.dlq.map((d) => `${d.reason_code}=${String(d.messages)}`).join(' ') || 'none'}`,
  );
  lines.push('', 'recent events:');
  for (const e of stats.recent) {
    const target = e.target_domain || e.resource_id;
    lines.push(
      `  ${e.ts}  ${e.identity_id.padEnd(16)} ${e.action.padEnd(14)} ${e.tool}${target ? ` → ${target}` : ''} (${e.outcome})`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** GET a /v1 path of a running API with the configured (or locally generated) key. */
async function apiGet<T>(config: Config, pathAndQuery: string): Promise<T> {
  const url = config.client.apiUrl ?? `http://127.0.0.1:${String(config.api.port)}`;
  let key = config.client.apiKey;
  if (!key) {
    try {
      key = readFileSync(localKeyFile(config), 'utf8').trim();
    } catch {
      throw new Error(
        `no API key: pass --key, set SCOPEWATCH_API_KEY, or run \`scopewatch run\` (writes ${localKeyFile(config)})`,
      );
    }
  }
  const response = await fetch(new URL(pathAndQuery, url), { headers: { authorization: `Bearer ${key}` } });
  const body = (await response.json()) as T | { error: string };
  if (!response.ok || (typeof body === 'object' && body !== null && 'error' in body)) {
    const message =
      typeof body === 'object' && body !== null && 'error' in body ? body.error : response.statusText;
    throw new Error(`API ${String(response.status)}: ${message}`);
  }
  return body;
}

export async function runStats(config: Config, flags: Flags): Promise<void> {
  const body = await apiGet<EventStats>(config, '/v1/events/stats');
  process.stdout.write(flags.json ? `${JSON.stringify(body)}\n` : formatStats(body));
}

export function formatFindings(findings: readonly Finding[]): string {
  if (findings.length === 0) return 'no findings yet\n';
  const lines = findings.map(
    (f) =>
      `${new Date(f.last_ts).toISOString()}  ${f.severity.padEnd(8)} ${f.score.toFixed(2)}  ${f.detector.padEnd(28)} ` +
      `${f.identity_id}  ×${String(f.count)}\n    ${f.explanation}`,
  );
  return `${lines.join('\n')}\n`;
}

export async function runFindings(config: Config, flags: Flags): Promise<void> {
  const query = new URLSearchParams({ limit: '1000' });
  if (flags.identity) query.set('identity', flags.identity);
  const body = await apiGet<{ findings: Finding[] }>(config, `/v1/findings?${query.toString()}`);
  const ranked = [...body.findings].sort((a, b) => b.score - a.score || b.last_ts - a.last_ts);
  process.stdout.write(flags.json ? `${JSON.stringify(ranked)}\n` : formatFindings(ranked.slice(0, 50)));
}
