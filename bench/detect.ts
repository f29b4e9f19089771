import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../common/config.js';
import { silentLogger } from '../common/logger.js';
import { DAY_MS } from '../common/time.js';
import type { DetectorEvent } from '../model/detector-event.js';
import { liveEvents } from './live-events.js';
import { DetectionRunner } from '../detectors/runner.js';
import { loadRules } from '../app/rules.js';
import { openStorage } from '../app/storage.js';
import { writeSyntheticHistory } from '../storage/synthetic-history.js';
import { peakRssMb, timed } from './measure.js';

/**
 * npm run bench:detect — detection at fleet scale on the embedded engine:
 *  1. history: BENCH_EVENTS (default 10M) generated events for BENCH_IDENTITIES (10,000)
 *     identities over 30 days, written to `actions` inside ClickHouse (the materialized views
 *     maintain the baselines as they go);
 *  2. baseline build: the baseline aggregates rebuilt from scratch from those stored events,
 *     with the view's own SELECT (what a backfill or a re-baseline costs);
 *  3. streaming detection: BENCH_STREAM (500k) new events in ingest-sized batches through the
 *     streaming runner (hydration from the aggregates, all detectors, findings written).
 * Prints the figures and peak RSS; the last line is one JSON object.
 */

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const IDENTITIES = Number(process.env.BENCH_IDENTITIES ?? 10_000);
const STREAM = Number(process.env.BENCH_STREAM ?? 500_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 20_000);

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'scopewatch-bench-detect-'));
  const config = loadConfig({}, { dataDir, logLevel: 'warn', clickhouse: { actionsTtlDays: 0 } });
  const storage = await openStorage(config, silentLogger);
  try {
    const now = Date.now();
    const historyStart = now - 31 * DAY_MS;
    process.stdout.write(`history: ${String(EVENTS)} events, ${String(IDENTITIES)} identities, 30 days\n`);
    const history = await timed('  generated + stored (views maintaining baselines)', () =>
      writeSyntheticHistory(storage.gateway, {
        start: historyStart,
        span: 30 * DAY_MS,
        events: EVENTS,
        identities: IDENTITIES,
      }),
    );
    const build = await timed('  baseline build from stored events', () => storage.baselines.rebuild());
    process.stdout.write(`  baseline rows (identity × term × day): ${String(build.value)}\n`);
    // The sequence model's counts: every complete day folded, as the scheduled pass does.
    const fold = await timed('  tool transitions folded (30 days)', () =>
      storage.transitions.fold(now - DAY_MS),
    );
    process.stdout.write(
      `  transition rows (identity × transition × day): ${String(fold.value.rows)} in ${String(fold.value.days.length)} days\n`,
    );

    // Every detector on, the shipped rule packs included, as `scopewatch run` builds it.
    const runner = new DetectionRunner({
      storage,
      logger: silentLogger,
      registry: () => null,
      rules: loadRules(),
    });
    let findings = 0;
    let batch: DetectorEvent[] = [];
    // The first batch meets (almost) every identity and hydrates its profile from the
    // aggregates; later batches are the steady state. Both are reported.
    let firstBatchMs = 0;
    const judge = async (events: DetectorEvent[]): Promise<void> => {
      const t = performance.now();
      findings += (await runner.judge(events)).findings.length;
      const ms = performance.now() - t;
      if (firstBatchMs === 0) firstBatchMs = ms;
      if (process.env.BENCH_VERBOSE) process.stdout.write(`  batch ${String(Math.round(ms))} ms\n`);
    };
    const stream = await timed(
      `streaming detection of ${String(STREAM)} events (batches of ${String(BATCH)})`,
      async () => {
        for (const event of liveEvents({
          start: now - DAY_MS,
          count: STREAM,
          identities: IDENTITIES,
          sessionEvery: 200_000,
        })) {
          batch.push(event);
          if (batch.length === BATCH) {
            await judge(batch);
            batch = [];
          }
        }
        if (batch.length > 0) await judge(batch);
      },
    );
    const figures = {
      events: EVENTS,
      identities: IDENTITIES,
      history_eps: Math.round(EVENTS / (history.ms / 1000)),
      baseline_build_s: Math.round((build.ms + fold.ms) / 100) / 10,
      baseline_rows: build.value,
      terms_build_s: Math.round(build.ms / 100) / 10,
      transitions_fold_s: Math.round(fold.ms / 100) / 10,
      transition_rows: fold.value.rows,
      stream_events: STREAM,
      detect_eps: Math.round(STREAM / (stream.ms / 1000)),
      first_batch_s: Math.round(firstBatchMs / 100) / 10,
      steady_eps: Math.round((STREAM - BATCH) / ((stream.ms - firstBatchMs) / 1000)),
      findings_touched: findings,
      peak_rss_mb: peakRssMb(),
    };
    process.stdout.write(
      `streaming detection: ${String(figures.detect_eps)} events/s overall; first batch (hydrating ${String(IDENTITIES)} profiles) ` +
        `${String(figures.first_batch_s)} s, then ${String(figures.steady_eps)} events/s; ` +
        `${String(findings)} findings opened/updated; peak RSS ${String(figures.peak_rss_mb)} MB\n`,
    );
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await storage.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
