import type { Kafka } from 'kafkajs';
import type { Config } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import { ingestMetrics, type IngestMetrics, type MetricsRegistry } from '../common/metrics.js';
import { startIngestConsumer, type RunningConsumer } from '../ingest/consumer.js';
import { createKafka } from '../kafka/client.js';
import type { Storage } from './storage.js';
import { streamingDetectionStage } from './streaming-detection.js';

/** The consumer, with streaming detection as its post-write stage unless turned off: `run` and `ingest`. */
export async function startIngestService(
  config: Pick<Config, 'kafka' | 'ingest' | 'detect'>,
  storage: Storage,
  brokers: string[],
  logger: Logger,
  registry: MetricsRegistry,
): Promise<{ kafka: Kafka; consumer: RunningConsumer; metrics: IngestMetrics }> {
  const metrics = ingestMetrics(registry);
  const kafka = createKafka(config.kafka, brokers, logger);
  const stages = config.detect.streaming
    ? [await streamingDetectionStage(config.detect, storage, logger.child({ component: 'detect' }))]
    : [];
  const consumer = await startIngestConsumer({
    kafka: config.kafka,
    ingest: config.ingest,
    client: kafka,
    sink: storage.actions,
    stages,
    logger,
    metrics,
  });
  return { kafka, consumer, metrics };
}

/** A consumer that kafkajs gave up on takes the process down (non-zero exit) so a supervisor restarts it. */
export function exitOnCrash(
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
