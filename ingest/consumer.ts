import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { dlqTopicOf, type IngestSettings, type KafkaSettings } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import type { IngestMetrics } from '../common/metrics.js';
import { KafkaDlqSender } from './dead-letters.js';
import { BatchFlusher, flushSettings } from './flusher.js';
import { createPipeline } from './pipeline.js';
import type { FormatAdapter } from './adapters/types.js';
import type { MessageCoordinates } from '../model/rows.js';
import { consumedTopics, ensureTopics } from './topics.js';
import { ADAPTERS } from './adapters/index.js';
import type { PostWriteStage, RowSink } from './sinks.js';

/**
 * The Kafka side of ingest. Messages are processed as they arrive and appended to the shared
 * batch; their offsets are resolved (the consumer's position moves on) but committed only by
 * the flusher after ClickHouse has the rows. When writes fail, intake pauses so memory stays
 * bounded while the flusher retries; heartbeats continue, so the group does not rebalance.
 */

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface IngestConsumerOptions {
  kafka: KafkaSettings;
  ingest: IngestSettings;
  client: Kafka;
  sink: RowSink;
  /** Run on each batch once written, before its offsets commit (e.g. streaming detection). */
  stages?: readonly PostWriteStage[];
  logger: Logger;
  metrics: IngestMetrics;
  adapters?: readonly FormatAdapter[];
}

export interface RunningConsumer {
  /** Flush what is buffered, commit, leave the group. Idempotent. */
  stop(): Promise<void>;
  /** Resolves if the consumer crashes for good (kafkajs gave up); the process should exit. */
  crashed: Promise<Error>;
  assignment(): ReadonlyMap<string, number[]>;
}

/** Header that tells the consumer a message's format (issue #3 adds more than `canonical`). */
export const FORMAT_HEADER = 'format';

function headerString(message: KafkaMessage, name: string): string | undefined {
  const value = message.headers?.[name];
  if (value === undefined) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

export async function startIngestConsumer(options: IngestConsumerOptions): Promise<RunningConsumer> {
  const { kafka: settings, ingest, client: kafka, logger, metrics } = options;
  const log = logger.child({ component: 'ingest' });
  // Checked before connecting: the config knows the built-in formats, a caller may pass others.
  const known = (options.adapters ?? ADAPTERS).map((a) => a.name);
  for (const [mapped, format] of Object.entries(settings.topicFormats))
    if (!known.includes(format))
      throw new Error(
        `SCOPEWATCH_TOPIC_FORMATS: topic ${mapped} maps to unknown format "${format}" (known: ${known.join(', ')})`,
      );
  await ensureTopics(kafka, settings, log);

  const pipeline = createPipeline({ ...ingest, adapters: options.adapters });
  const consumer: Consumer = kafka.consumer({
    groupId: settings.groupId,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
    maxBytesPerPartition: 4 * 1024 * 1024,
    maxBytes: 32 * 1024 * 1024,
    maxWaitTimeInMs: 250,
    retry: { retries: 10 },
  });
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await Promise.all([consumer.connect(), producer.connect()]);

  const topicFormats = settings.topicFormats;
  // The main topic plus any per-format topics (e.g. raw CloudTrail shipped to its own topic).
  const topics = consumedTopics(settings);
  const all = topics.map((topic) => ({ topic }));
  const assigned = new Map<string, number[]>();
  // Mutable state shared by eachBatch, the timer and stop(): kept in one object so every reader sees writes.
  const state = { paused: false, stopping: false, inFlightBatches: 0 };
  const stopRequested = (): boolean => state.stopping;

  const pauseIntake = (why: string): void => {
    if (state.paused) return;
    state.paused = true;
    metrics.paused.set(1);
    consumer.pause(all);
    log.warn('intake paused', { why });
  };
  const resumeIntake = (): void => {
    if (!state.paused || state.stopping) return;
    state.paused = false;
    metrics.paused.set(0);
    consumer.resume(all);
    log.info('intake resumed');
  };

  const flusher = new BatchFlusher({
    sink: options.sink,
    stages: options.stages,
    dlq: new KafkaDlqSender(producer, dlqTopicOf(settings)),
    // Only partitions still assigned to us: committing a revoked one could move its new owner backwards.
    commit: async (offsets) => {
      const owned = offsets.filter((o) => assigned.get(o.topic)?.includes(o.partition) === true);
      if (owned.length > 0) await consumer.commitOffsets(owned);
    },
    ...flushSettings(ingest),
    logger: log,
    metrics,
    onDegraded: () => {
      pauseIntake('writes failing');
    },
    onRecovered: resumeIntake,
  });

  const flush = async (trigger: string): Promise<void> => {
    await flusher.flush(trigger);
    // Intake was paused because the batch outgrew its limit while a flush was running.
    if (!flusher.isDegraded && flusher.pendingBytes < ingest.maxBatchBytes * 2) resumeIntake();
  };

  const eachBatch = async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) => {
    if (state.stopping) return;
    state.inFlightBatches += 1;
    try {
      for (const message of batch.messages) {
        // Re-read on every message: stop() may have been called while this batch was awaiting.
        if (!isRunning() || isStale() || stopRequested()) break;
        // The producer's header wins; else the topic's configured format; else canonical.
        const format = headerString(message, FORMAT_HEADER) ?? topicFormats[batch.topic] ?? 'canonical';
        const coordinates: MessageCoordinates = {
          origin: 'kafka',
          topic: batch.topic,
          partition: batch.partition,
          offset: message.offset,
          key: message.key?.toString('utf8') ?? '',
          timestampMs: Number(message.timestamp),
        };
        const raw = { key: message.key ?? null, value: message.value, format, coordinates };
        flusher.add(pipeline(raw), raw);
        resolveOffset(message.offset);
      }
      await heartbeat();
      if (flusher.due() === null) return;
      // Double buffering: the previous batch may still be writing while this one filled up.
      while (flusher.isFlushing) {
        if (flusher.isDegraded) {
          // Writes are failing: stop fetching instead of blocking here; the timer flushes later.
          pauseIntake('writes failing');
          return;
        }
        await Promise.race([flusher.idle(), sleep(1_000)]);
        await heartbeat();
      }
      const due = flusher.due();
      if (due !== null) startFlush(due);
    } finally {
      state.inFlightBatches -= 1;
    }
  };

  /**
   * Flushes run in the background so decoding the next batch overlaps the ClickHouse insert of
   * this one; the flusher serialises them, and they retry until they succeed.
   */
  const startFlush = (trigger: string): void => {
    flush(trigger).catch((error: unknown) => {
      log.error('flush failed', { error });
    });
  };

  // Age-based flushes: eachBatch only runs when messages arrive, so a quiet topic needs a timer.
  const timer = setInterval(
    () => {
      if (state.stopping || flusher.isFlushing || flusher.due() === null) return;
      startFlush('age');
    },
    Math.max(50, Math.floor(ingest.maxBatchAgeMs / 2)),
  );
  timer.unref();

  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    assigned.clear();
    for (const [t, partitions] of Object.entries(event.payload.memberAssignment)) assigned.set(t, partitions);
    log.info('partitions assigned', { assignment: event.payload.memberAssignment });
  });

  let rejectCrash: (error: Error) => void = () => undefined;
  const crashed = new Promise<Error>((resolve) => {
    rejectCrash = resolve;
  });
  consumer.on(consumer.events.CRASH, (event) => {
    if (!event.payload.restart) rejectCrash(event.payload.error);
  });

  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: settings.partitionsConsumedConcurrently,
    eachBatch,
  });

  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      state.stopping = true;
      clearInterval(timer);
      consumer.pause(all);
      const deadline = Date.now() + 20_000;
      while (state.inFlightBatches > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      try {
        // Commit before leaving the group: kafkajs' stop() leaves it, after which commits are refused.
        await flusher.flush('shutdown', { shouldGiveUp: () => Date.now() > deadline });
      } catch (error) {
        log.error('final flush failed; unflushed messages will be redelivered', { error });
      }
      await consumer.disconnect();
      await producer.disconnect();
      log.info('consumer stopped');
    })();
    return stopped;
  };

  return { stop, crashed, assignment: () => assigned };
}
