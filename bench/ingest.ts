import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { openStorage } from '../app/storage.js';
import { loadConfig } from '../common/config.js';
import { DAY_MS } from '../common/time.js';
import { createLogger, silentLogger } from '../common/logger.js';
import { ingestMetrics, MetricsRegistry } from '../common/metrics.js';
import { createDemoStream } from '../demo/generator.js';
import { startIngestConsumer } from '../ingest/consumer.js';
import { ensureTopics } from '../ingest/topics.js';
import { startLocalBroker } from '../kafka/local-broker.js';

/**
 * npm run bench:ingest — produce N realistic events to a real broker, then measure in the same
 * run (a) bare kafkajs consumption (decode only) and (b) the full pipeline into ClickHouse.
 * Prints events/s for both, their ratio and peak RSS; the last line is one JSON object.
 * Rates are measured from the first message seen to the last one handled, so consumer-group
 * join time is not counted against either side. The pipeline runs in a child process of its
 * own, as `scopewatch ingest` does, so its peak RSS is the ingest process's alone (not the
 * producer's garbage or the bare consumer's buffers).
 */

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 6);
const log = createLogger('info');

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 50);

function eps(count: number, ms: number): number {
  return Math.round((count / ms) * 1000);
}

async function produce(kafka: Kafka, topic: string): Promise<{ ms: number; avgBytes: number }> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const stream = createDemoStream({ seed: 2024, startMs: Date.now() - DAY_MS });
  const started = Date.now();
  let bytes = 0;
  const chunk = 5_000;
  const inFlight: Promise<unknown>[] = [];
  for (let sent = 0; sent < EVENTS; sent += chunk) {
    const messages = [];
    for (let i = 0; i < Math.min(chunk, EVENTS - sent); i++) {
      const { key, event } = stream.next();
      const value = JSON.stringify(event);
      bytes += value.length;
      messages.push({ key, value });
    }
    inFlight.push(producer.send({ topic, acks: 1, compression: CompressionTypes.None, messages }));
    if (inFlight.length >= 4) await inFlight.shift();
  }
  await Promise.all(inFlight);
  await producer.disconnect();
  return { ms: Date.now() - started, avgBytes: Math.round(bytes / EVENTS) };
}

async function bareConsume(kafka: Kafka, topic: string): Promise<number> {
  const consumer = kafka.consumer({
    groupId: `bench-bare-${String(Date.now())}`,
    maxBytesPerPartition: 4 * 1024 * 1024,
    maxBytes: 32 * 1024 * 1024,
    maxWaitTimeInMs: 250,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let first = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  let last = 0;
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 3,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      first ||= Date.now();
      for (const message of batch.messages) {
        if (message.value) JSON.parse(message.value.toString('utf8'));
        seen += 1;
      }
      resolveOffset(batch.lastOffset());
      await heartbeat();
      if (seen >= EVENTS) {
        last = Date.now();
        done();
      }
    },
  });
  await finished;
  await consumer.disconnect();
  return last - first;
}

async function pipelineConsume(brokers: string[], topic: string, dataDir: string): Promise<number> {
  const config = loadConfig(process.env, {
    dataDir,
    kafka: { brokers, topic, groupId: `bench-pipeline-${String(Date.now())}`, partitions: PARTITIONS },
  });
  const storage = await openStorage(config, silentLogger);
  const metrics = ingestMetrics(new MetricsRegistry());
  const kafka = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING });
  const consumer = await startIngestConsumer({
    kafka: config.kafka,
    ingest: config.ingest,
    client: kafka,
    sink: storage.actions,
    logger: silentLogger,
    metrics,
  });
  // Start the clock at the first message in: the pending gauge rises as soon as one arrives.
  const started = await new Promise<number>((resolve) => {
    const poll = setInterval(() => {
      if (metrics.pendingMessages.get() > 0 || metrics.messages.get() > 0) {
        clearInterval(poll);
        resolve(Date.now());
      }
    }, 5);
  });
  while (metrics.messages.get() < EVENTS) await new Promise((resolve) => setTimeout(resolve, 20));
  const elapsed = Date.now() - started;
  await consumer.stop();
  const rows = await storage.actions.count();
  if (rows < EVENTS) throw new Error(`pipeline wrote ${String(rows)} rows, expected ${String(EVENTS)}`);
  await storage.close();
  return elapsed;
}

interface PipelineChildResult {
  elapsedMs: number;
  peakRssMb: number;
}

/** Runs pipelineConsume in a fresh process and returns its timing and peak RSS. */
function pipelineInChild(brokers: string[], topic: string, dataDir: string): Promise<PipelineChildResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], {
      env: {
        ...process.env,
        BENCH_ROLE: 'pipeline',
        BENCH_BROKERS: brokers.join(','),
        BENCH_TOPIC: topic,
        BENCH_DATA: dataDir,
      },
      execArgv: process.execArgv,
    });
    child.once('message', (message) => {
      resolve(message as PipelineChildResult);
    });
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`pipeline child exited with ${String(code)}`));
    });
  });
}

async function pipelineChild(): Promise<void> {
  const elapsedMs = await pipelineConsume(
    (process.env.BENCH_BROKERS ?? '').split(','),
    process.env.BENCH_TOPIC ?? '',
    process.env.BENCH_DATA ?? '',
  );
  clearInterval(sampler);
  const result: PipelineChildResult = { elapsedMs, peakRssMb: Math.round(peakRss / 1024 / 1024) };
  process.send?.(result, () => process.exit(0));
}

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), 'scopewatch-bench-'));
  const external = process.env.KAFKA_BROKERS?.split(',');
  const broker = external
    ? null
    : await startLocalBroker({ version: '4.4.0', workDir: path.join(work, 'kafka'), logger: log });
  const brokers = external ?? broker?.brokers ?? [];
  try {
    const kafka = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING });
    const topic = `bench-${String(Date.now())}`;
    await ensureTopics(
      kafka,
      loadConfig({}, { kafka: { topic, partitions: PARTITIONS } }).kafka,
      silentLogger,
    );
    log.info('producing', { events: EVENTS, partitions: PARTITIONS });
    const produced = await produce(kafka, topic);
    console.log(
      `produced ${String(EVENTS)} events (avg ${String(produced.avgBytes)} B) in ${String(produced.ms)} ms: ${String(eps(EVENTS, produced.ms))} events/s`,
    );

    const bareMs = await bareConsume(kafka, topic);
    const bare = eps(EVENTS, bareMs);
    console.log(`bare kafkajs consumption (decode only): ${String(bare)} events/s (${String(bareMs)} ms)`);

    const child = await pipelineInChild(brokers, topic, path.join(work, 'data'));
    const pipeline = eps(EVENTS, child.elapsedMs);
    console.log(
      `full pipeline into ClickHouse: ${String(pipeline)} events/s (${String(child.elapsedMs)} ms)`,
    );

    const ratio = Math.round((pipeline / bare) * 100) / 100;
    const peakRssMb = child.peakRssMb;
    const benchRssMb = Math.round(peakRss / 1024 / 1024);
    console.log(
      `ratio pipeline/bare: ${String(ratio)}; peak RSS of the ingest process: ${String(peakRssMb)} MB ` +
        `(producer + bare consumer process: ${String(benchRssMb)} MB)`,
    );
    console.log(
      JSON.stringify({
        pipeline_eps: pipeline,
        bare_eps: bare,
        ratio,
        peak_rss_mb: peakRssMb,
        events: EVENTS,
        avg_event_bytes: produced.avgBytes,
      }),
    );
  } finally {
    clearInterval(sampler);
    await broker?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

(process.env.BENCH_ROLE === 'pipeline' ? pipelineChild() : main()).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
