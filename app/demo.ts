import type { Kafka } from 'kafkajs';
import type { IngestSettings } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import { ingestMetrics, MetricsRegistry } from '../common/metrics.js';
import { DEMO_HISTORY_DAYS, demoHistoryEvents } from '../demo/history.js';
import { produceDemo, type ProduceDemoResult } from '../demo/produce.js';
import { memoryMessages, replay } from '../ingest/replay.js';
import type { Repositories } from '../storage/repositories.js';

/** The demo's two halves: its incident-free past loaded as history, and live traffic to Kafka. */

/** detector_state marker: the history is loaded once per database. */
const HISTORY_MARKER = 'demo-history';

/**
 * Loads the history into storage as already judged: written through the normal pipeline (so
 * the baselines' materialized views learn it), then the scheduled watermark is moved past it
 * so no detection pass judges it. Only into an empty database, once; returns the events loaded
 * (0 when skipped).
 */
export async function seedDemoHistory(
  ingest: IngestSettings,
  storage: Pick<Repositories, 'actions' | 'detectorState'>,
  logger: Logger,
  options: { seed: number; watermark: string; now?: number },
): Promise<number> {
  if ((await storage.detectorState.watermark(HISTORY_MARKER)) !== null) return 0;
  // A database with events but no history marker predates it: its unjudged events must not be
  // skipped by moving the watermark.
  if (await storage.actions.any()) return 0;
  const events = demoHistoryEvents(options.seed, options.now ?? Date.now());
  const result = await replay({
    source: memoryMessages(events.map((e) => Buffer.from(JSON.stringify(e.event)))),
    name: 'demo-history.jsonl',
    format: 'canonical',
    ingest,
    sink: storage.actions,
    logger,
    metrics: ingestMetrics(new MetricsRegistry()),
  });
  const judgedThrough = Date.now();
  await storage.detectorState.setWatermark(options.watermark, judgedThrough);
  await storage.detectorState.setWatermark(HISTORY_MARKER, judgedThrough);
  logger.info('demo history loaded', { days: DEMO_HISTORY_DAYS, events: result.written });
  return result.written;
}

export interface DemoTraffic {
  seed: number;
  eventsPerSecond: number;
  durationMs?: number;
  maxEvents?: number;
}

/** Live demo traffic to the topic until it is done or `signal` aborts. */
export async function produceDemoTraffic(
  kafka: Kafka,
  topic: string,
  traffic: DemoTraffic,
  logger: Logger,
  signal: AbortSignal,
): Promise<ProduceDemoResult> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const result = await produceDemo({ producer, topic, ...traffic, signal, logger });
    logger.info('demo traffic finished', { ...result });
    return result;
  } finally {
    await producer.disconnect();
  }
}
