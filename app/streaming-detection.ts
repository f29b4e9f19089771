import type { DetectSettings } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import { DetectionRunner } from '../detectors/runner.js';
import type { PostWriteStage } from '../ingest/sinks.js';
import type { Repositories } from '../storage/repositories.js';
import { liveRegistry } from './registry.js';
import { loadRules } from './rules.js';

/**
 * Streaming detection as ingest's post-write stage: each batch is judged once it is in
 * ClickHouse, before its offsets commit. A failure forgets the in-memory state (it may be
 * half-updated) and is left to the scheduled pass, which judges anything this path missed.
 */
export async function streamingDetectionStage(
  detect: DetectSettings,
  storage: Repositories,
  logger: Logger,
): Promise<PostWriteStage> {
  const registry = await liveRegistry(detect, storage.identities);
  const runner = new DetectionRunner({
    storage,
    logger,
    registry: registry.current,
    overrides: detect.detectors,
    rules: loadRules(detect.rulesDir),
  });
  return {
    name: 'streaming detection',
    async run(rows) {
      try {
        await registry.refresh();
        await runner.judge(rows);
      } catch (error) {
        runner.reset();
        throw error;
      }
    },
  };
}
