import cron from 'node-cron';
import type { DetectSettings } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import { DetectionRunner } from '../detectors/runner.js';
import type { DetectorStateRepository } from '../storage/detector-state.js';
import type { Repositories } from '../storage/repositories.js';
import type { Transitions } from '../storage/transitions.js';
import { DAY_MS } from '../common/time.js';
import { liveRegistry } from './registry.js';
import { loadRules } from './rules.js';

/** detector_state name of the scheduled path's watermark (events ingested up to it are judged). */
export const WATERMARK = 'scheduled';
/** Events younger than this are left to the next run: inserts still in flight must land first. */
const SETTLE_MS = 5_000;

/** One scheduled pass: everything ingested since the watermark, then the watermark moves. */
export async function scheduledPass(
  runner: DetectionRunner,
  state: DetectorStateRepository,
  logger: Logger,
): Promise<string[]> {
  const from = (await state.watermark(WATERMARK)) ?? 0;
  const to = Date.now() - SETTLE_MS;
  if (to <= from) return [];
  const result = await runner.judgeIngested(from, to);
  await state.setWatermark(WATERMARK, to);
  if (result.events > 0)
    logger.info('detection pass', { events: result.events, findings: result.findings.length });
  return result.identities;
}

/**
 * Folds complete days of tool transitions into `baseline_transitions`, so the sequence model
 * outlives raw-event retention and hydration reads a day's aggregate, not its events. A day is
 * folded once it is a day old: events arriving later than that for it would not be counted.
 */
export async function foldTransitions(transitions: Transitions, logger: Logger): Promise<void> {
  const folded = await transitions.fold(Date.now() - DAY_MS);
  if (folded.days.length > 0)
    logger.info('folded tool transitions', { days: folded.days.length, rows: folded.rows });
}

/**
 * The scheduled path: one pass now (catch-up after downtime), then one per cron tick. A slow
 * pass is never overlapped; the next tick continues from the watermark.
 */
export async function startScheduledDetection(
  detect: DetectSettings,
  storage: Repositories,
  logger: Logger,
): Promise<{ stop: () => Promise<void> }> {
  const registry = await liveRegistry(detect, storage.identities);
  const runner = new DetectionRunner({
    storage,
    logger,
    registry: registry.current,
    overrides: detect.detectors,
    rules: loadRules(detect.rulesDir),
  });
  let running: Promise<void> | null = null;
  const pass = async (): Promise<void> => {
    if (running) return;
    running = (async () => {
      try {
        await registry.refresh();
        const met = await scheduledPass(runner, storage.detectorState, logger);
        await foldTransitions(storage.transitions, logger);
        const unregistered = await storage.identities.recordUnregistered(met);
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
  const task = cron.schedule(detect.schedule, () => void pass());
  return {
    stop: async () => {
      await task.stop();
      if (running) await running;
    },
  };
}
