import { readFile } from 'node:fs/promises';
import cron from 'node-cron';
import type { Config } from '../common/config.js';
import { createLogger, type Logger } from '../common/logger.js';
import { onShutdown } from '../common/shutdown.js';
import { analyze } from '../detectors/analyze.js';
import { parseIdentitiesFile } from '../detectors/registry.js';
import type { IdentityRecord } from '../model/identity.js';
import { DetectionRunner } from '../detectors/runner.js';
import { DetectionStore } from '../detectors/store.js';
import { IdentityStore, syncIdentitiesFile } from '../detectors/registry-store.js';
import { openClickHouse, type ClickHouse } from '../sql/client.js';
import { prepareSchema } from '../sql/setup.js';
import type { Flags } from './scopewatch.js';

/** Detection commands: `analyze` (offline, deterministic) and `detect` (scheduled service). */

export async function loadRegistry(
  file: string | undefined,
): Promise<ReadonlyMap<string, IdentityRecord> | null> {
  if (!file) return null;
  const records = parseIdentitiesFile(await readFile(file, 'utf8'), file);
  return new Map(records.map((r) => [r.id, r]));
}

export async function runAnalyze(config: Config, flags: Flags): Promise<void> {
  if (!flags.input) throw new Error('analyze needs --input FILE (.jsonl or .jsonl.gz)');
  if (!flags.out) throw new Error('analyze needs --out FILE (findings, one JSON object per line)');
  const logger = createLogger(config.logLevel);
  const result = await analyze({
    baseline: flags.baseline,
    input: flags.input,
    format: flags.format ?? 'canonical',
    out: flags.out,
    registry: await loadRegistry(flags.identities ?? config.detect.identitiesFile),
    overrides: config.detect.detectors,
    logger,
  });
  process.stdout.write(
    `${JSON.stringify({ baseline: result.baseline, input: result.input, findings: result.findings, out: flags.out })}\n`,
  );
}

/**
 * The registry the detectors use: the file (if configured) synced into `identities`, then the
 * registered identities read back (so API edits count too). Null without a file: nothing is
 * "unregistered" when nobody keeps a registry.
 */
export async function syncRegistry(
  config: Config,
  identities: IdentityStore,
): Promise<ReadonlyMap<string, IdentityRecord> | null> {
  const file = config.detect.identitiesFile;
  if (!file) return null;
  await syncIdentitiesFile(identities, file);
  const all = await identities.loadAll();
  return new Map([...all].filter(([, record]) => record.registered));
}

/** detector_state name of the scheduled path's watermark (events ingested up to it are judged). */
export const WATERMARK = 'scheduled';
/** Events younger than this are left to the next run: inserts still in flight must land first. */
const SETTLE_MS = 5_000;

/** One scheduled pass: everything ingested since the watermark, then the watermark moves. */
export async function scheduledPass(
  runner: DetectionRunner,
  store: DetectionStore,
  logger: Logger,
): Promise<string[]> {
  const from = (await store.watermark(WATERMARK)) ?? 0;
  const to = Date.now() - SETTLE_MS;
  if (to <= from) return [];
  const result = await runner.judgeIngested(from, to);
  await store.setWatermark(WATERMARK, to);
  if (result.events > 0)
    logger.info('detection pass', { events: result.events, findings: result.findings.length });
  return result.identities;
}

/**
 * The scheduled path: one pass now (catch-up after downtime), then one per cron tick. A slow
 * pass is never overlapped; the next tick continues from the watermark.
 */
export async function startScheduledDetection(
  config: Config,
  ch: ClickHouse,
  logger: Logger,
): Promise<{ stop: () => Promise<void> }> {
  const store = new DetectionStore(ch.client, ch.database);
  const identities = new IdentityStore(ch.client, ch.database);
  let registry = await syncRegistry(config, identities);
  const runner = new DetectionRunner({
    store,
    logger,
    registry: () => registry,
    overrides: config.detect.detectors,
  });
  let running: Promise<void> | null = null;
  const pass = async (): Promise<void> => {
    if (running) return;
    running = (async () => {
      try {
        registry = await syncRegistry(config, identities);
        const met = await scheduledPass(runner, store, logger);
        const unregistered = await identities.recordUnregistered(met);
        if (unregistered > 0) logger.info('recorded unregistered identities', { count: unregistered });
      } catch (error) {
        logger.error('detection pass failed; retried on the next tick', { error });
      } finally {
        running = null;
      }
    })();
    await running;
  };
  await pass();
  const task = cron.schedule(config.detect.schedule, () => void pass());
  return {
    stop: async () => {
      await task.stop();
      if (running) await running;
    },
  };
}

/** `detect`: the scheduled path as its own service, against a ClickHouse server. */
export async function runDetect(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel).child({ component: 'detect' });
  const ch = await openClickHouse(config);
  await prepareSchema(ch, config, logger);
  const scheduler = await startScheduledDetection(config, ch, logger);
  await new Promise<void>((resolve) => {
    onShutdown(async () => {
      await scheduler.stop();
      await ch.close();
      resolve();
    });
  });
}
