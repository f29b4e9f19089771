import path from 'node:path';
import type { Config } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { MetricsRegistry } from '../common/metrics.js';
import { packageRoot } from '../common/paths.js';
import { onShutdown } from '../common/shutdown.js';
import { startApiServer } from './api-server.js';
import { collectConsumerLag } from './consumer-lag.js';
import { startMetricsServer } from './metrics-server.js';
import { createKafka } from '../kafka/client.js';
import { produceDemoTraffic, seedDemoHistory, type DemoTraffic } from './demo.js';
import { exitOnCrash, startIngestService } from './ingest-service.js';
import { kafkaBrokers, requireBrokers } from './kafka.js';
import { startScheduledDetection, WATERMARK } from './scheduled-detection.js';
import { openStorage } from './storage.js';

/**
 * The long-running processes: each composes its services from the config, runs until SIGINT or
 * SIGTERM, and stops them in the order that loses nothing (intake first, storage and the broker
 * last). They never return.
 */

function never(): Promise<never> {
  return new Promise(() => undefined);
}

export interface RunAllOptions {
  /** Demo traffic (and its history and registry); undefined = only what arrives on the topic. */
  demo?: DemoTraffic;
  /** Progress lines for the terminal, every 10 s. */
  progress: (line: string) => void;
}

/** `run`: local broker (unless KAFKA_BROKERS), ClickHouse, ingest with streaming detection, the API and the scheduled pass. */
export async function runAllInOne(config: Config, options: RunAllOptions): Promise<never> {
  // The demo ships its own registry so policy findings (revoked identity, out-of-scope egress)
  // show up without any setup; an explicit SCOPEWATCH_IDENTITIES wins.
  if (options.demo && !config.detect.identitiesFile)
    config = {
      ...config,
      detect: { ...config.detect, identitiesFile: path.join(packageRoot(), 'demo', 'identities.yaml') },
    };
  const logger = createLogger(config.logLevel);
  const registry = new MetricsRegistry();
  const { brokers, local } = await kafkaBrokers(config, logger);
  const storage = await openStorage(config, logger);
  // Before anything judges: the demo agents' past, so live traffic is judged against habits.
  if (options.demo)
    await seedDemoHistory(config.ingest, storage, logger, {
      seed: options.demo.seed + 1,
      watermark: WATERMARK,
    });
  const { kafka, consumer, metrics } = await startIngestService(config, storage, brokers, logger, registry);
  const lag = collectConsumerLag(kafka, config.kafka, registry);
  const api = await startApiServer(config, storage, logger, registry);
  const scheduler = await startScheduledDetection(
    config.detect,
    storage,
    logger.child({ component: 'detect' }),
  );

  const demoAbort = new AbortController();
  const demo = options.demo
    ? produceDemoTraffic(kafka, config.kafka.topic, options.demo, logger, demoAbort.signal)
    : Promise.resolve();

  const progress = setInterval(() => {
    options.progress(
      `ingested ${String(metrics.rowsWritten.get())} events, dead-lettered ${String(metrics.dlq.total())}; ` +
        `see them: npx scopewatch stats (or GET /v1/events/stats)`,
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
    await api.close();
    await lag.close();
    await storage.close();
    await local?.stop();
  });
  exitOnCrash(consumer, logger, shutdown);
  return never();
}

/** `ingest`: the consumer (and streaming detection) against a broker and ClickHouse. */
export async function runIngestService(config: Config): Promise<never> {
  const logger = createLogger(config.logLevel);
  const storage = await openStorage(config, logger);
  const brokers = requireBrokers(config.kafka);
  const registry = new MetricsRegistry();
  const { kafka, consumer } = await startIngestService(config, storage, brokers, logger, registry);
  const lag = collectConsumerLag(kafka, config.kafka, registry);
  const port = config.metrics.port;
  const server =
    port === undefined
      ? null
      : await startMetricsServer(registry, { host: config.metrics.host, port }, logger);
  const shutdown = onShutdown(async (signal) => {
    logger.info('shutting down', { signal });
    server?.close();
    await consumer.stop();
    await lag.close();
    await storage.close();
  });
  exitOnCrash(consumer, logger, shutdown);
  return never();
}

/** `api`: the HTTP API alone; with KAFKA_BROKERS its /metrics also reads the ingest group's lag. */
export async function runApiService(config: Config): Promise<never> {
  const logger = createLogger(config.logLevel);
  const storage = await openStorage(config, logger);
  const registry = new MetricsRegistry();
  const brokers = config.kafka.brokers ?? [];
  const lag =
    brokers.length > 0
      ? collectConsumerLag(createKafka(config.kafka, brokers, logger), config.kafka, registry)
      : null;
  const api = await startApiServer(config, storage, logger, registry);
  onShutdown(async () => {
    await api.close();
    await lag?.close();
    await storage.close();
  });
  return never();
}

/** `detect`: the scheduled path as its own service, against a ClickHouse server. */
export async function runDetectService(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel).child({ component: 'detect' });
  const storage = await openStorage(config, logger);
  const scheduler = await startScheduledDetection(config.detect, storage, logger);
  await new Promise<void>((resolve) => {
    onShutdown(async () => {
      await scheduler.stop();
      await storage.close();
      resolve();
    });
  });
}
