import type { Config } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { ingestMetrics, MetricsRegistry } from '../common/metrics.js';
import { onShutdown } from '../common/shutdown.js';
import type { ProduceDemoResult } from '../demo/produce.js';
import { replayFile, type ReplayResult } from '../ingest/replay.js';
import { ensureTopics } from '../ingest/topics.js';
import { createKafka } from '../kafka/client.js';
import { openClickHouse } from '../storage/clickhouse.js';
import type { MigrateResult } from '../storage/migrate.js';
import { prepareSchema } from '../storage/schema.js';
import { produceDemoTraffic, type DemoTraffic } from './demo.js';
import { requireBrokers } from './kafka.js';
import { openStorage } from './storage.js';

/** The one-shot commands: do the work, return what to print. */

export async function migrateSchema(config: Config): Promise<MigrateResult> {
  const logger = createLogger(config.logLevel);
  const ch = await openClickHouse(config);
  try {
    return await prepareSchema(ch, config.clickhouse, logger, true);
  } finally {
    await ch.close();
  }
}

/** `replay`: a file through the ingest pipeline into ClickHouse (no streaming detection). */
export async function replayInput(config: Config, file: string, format: string): Promise<ReplayResult> {
  const logger = createLogger(config.logLevel);
  const storage = await openStorage(config, logger);
  try {
    return await replayFile({
      file,
      format,
      ingest: config.ingest,
      sink: storage.actions,
      logger,
      metrics: ingestMetrics(new MetricsRegistry()),
    });
  } finally {
    await storage.close();
  }
}

/** `demo`: demo traffic to an existing broker until done or interrupted. */
export async function produceDemoOnly(config: Config, traffic: DemoTraffic): Promise<ProduceDemoResult> {
  const logger = createLogger(config.logLevel);
  const kafka = createKafka(config.kafka, requireBrokers(config.kafka), logger);
  await ensureTopics(kafka, config.kafka, logger);
  const abort = new AbortController();
  onShutdown(() => {
    abort.abort();
    return Promise.resolve();
  });
  return produceDemoTraffic(kafka, config.kafka.topic, traffic, logger, abort.signal);
}
