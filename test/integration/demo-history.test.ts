import { describe, expect, inject, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { seedDemoHistory } from '../../app/demo.js';
import { WATERMARK } from '../../app/scheduled-detection.js';
import { DetectionRunner } from '../../detectors/runner.js';
import { scalar, storageOf, testConfig, useClickHouse } from './helpers.js';

/**
 * `run --demo` loads the demo agents' past before live traffic: it lands in storage and in the
 * baselines, no detection pass judges it, and it is loaded once, into an empty database only.
 */
describe('demo history', () => {
  const config = testConfig(inject('kafkaBrokers'));
  const ch = useClickHouse(config);

  it('loads days of incident-free habits as already judged, once', async () => {
    const db = ch().database;
    const loaded = await seedDemoHistory(config.ingest, storageOf(ch()), silentLogger, {
      seed: 8,
      watermark: WATERMARK,
    });
    expect(loaded).toBeGreaterThan(10_000);
    expect(await scalar(ch(), `SELECT count() FROM ${db}.actions`)).toBe(loaded);
    // The baselines learned it: every active demo agent has two days of history.
    expect(
      await scalar(
        ch(),
        `SELECT count() FROM (SELECT identity_id FROM ${db}.baseline_terms WHERE kind = 'tool'
         GROUP BY identity_id HAVING dateDiff('day', min(day), max(day)) >= 1)`,
      ),
    ).toBeGreaterThanOrEqual(4);
    // Nothing is left for the scheduled pass to judge.
    const storage = storageOf(ch());
    const runner = new DetectionRunner({ storage, logger: silentLogger, registry: () => null });
    const from = (await storage.detectorState.watermark(WATERMARK)) ?? 0;
    expect((await runner.judgeIngested(from, Date.now())).events).toBe(0);
    expect(
      await seedDemoHistory(config.ingest, storage, silentLogger, { seed: 8, watermark: WATERMARK }),
    ).toBe(0);
  });
});
