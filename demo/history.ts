import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../common/config.js';
import { ingestMetrics, MetricsRegistry } from '../common/metrics.js';
import type { Logger } from '../common/logger.js';
import { DAY_MS } from '../common/time.js';
import { DetectionStore } from '../detectors/store.js';
import { replayFile } from '../ingest/replay.js';
import { ClickHouseRowSink } from '../ingest/writer.js';
import type { ClickHouse } from '../sql/client.js';
import { createDemoStream, DEMO_RAMP_UP_LEAD_MS, type DemoEvent } from './generator.js';

/**
 * The demo's past: days of the same agents doing their normal work, with no incidents, loaded
 * as history before live traffic starts. A real deployment judges agents against what they
 * did last week; without a past, the first minutes of the demo would be every agent's normal
 * habits showing up for the first time.
 */

export const DEMO_HISTORY_DAYS = 2;
/** Slower than live traffic: enough sessions for every habit, few enough to load in seconds. */
const HISTORY_EVENTS_PER_IDENTITY_HOUR = 120;
/** detector_state marker: the history is loaded once per database. */
const HISTORY_MARKER = 'demo-history';

/** Incident-free demo events from `days` before `endMs` up to where live traffic will begin. */
export function demoHistoryEvents(seed: number, endMs: number, days = DEMO_HISTORY_DAYS): DemoEvent[] {
  const stream = createDemoStream({
    seed,
    startMs: endMs - days * DAY_MS,
    eventsPerIdentityHour: HISTORY_EVENTS_PER_IDENTITY_HOUR,
    incidentRate: 0,
  });
  // Live traffic starts its clock a ramp-up lead in the past: history stops before that.
  const until = endMs - DEMO_RAMP_UP_LEAD_MS;
  const events: DemoEvent[] = [];
  for (let next = stream.next(); tsOf(next) < until; next = stream.next()) events.push(next);
  return events;
}

function tsOf(demo: DemoEvent): number {
  const { ts } = demo.event;
  return typeof ts === 'number' ? ts : Date.parse(ts);
}

/**
 * Loads the history into storage as already judged: written through the normal pipeline (so
 * the baselines' materialized views learn it), then the scheduled watermark is moved past it
 * so no detection pass judges it. Only into an empty database, once; returns the events loaded
 * (0 when skipped).
 */
export async function seedDemoHistory(
  config: Config,
  ch: ClickHouse,
  logger: Logger,
  options: { seed: number; watermark: string; now?: number },
): Promise<number> {
  const store = new DetectionStore(ch.client, ch.database);
  if ((await store.watermark(HISTORY_MARKER)) !== null) return 0;
  // A database with events but no history marker predates it: its unjudged events must not be
  // skipped by moving the watermark.
  const existing = await ch.client.query({
    query: `SELECT count() AS n FROM (SELECT 1 FROM ${ch.database}.actions LIMIT 1)`,
    format: 'JSONEachRow',
  });
  if (Number((await existing.json<{ n: string | number }>())[0]?.n ?? 0) > 0) return 0;
  const now = options.now ?? Date.now();
  const events = demoHistoryEvents(options.seed, now);
  const file = path.join(config.dataDir, 'demo-history.jsonl');
  await writeFile(file, events.map((e) => `${JSON.stringify(e.event)}\n`).join(''));
  const result = await replayFile({
    file,
    format: 'canonical',
    config,
    sink: new ClickHouseRowSink(ch.client, ch.database),
    logger,
    metrics: ingestMetrics(new MetricsRegistry()),
  });
  const judgedThrough = Date.now();
  await store.setWatermark(options.watermark, judgedThrough);
  await store.setWatermark(HISTORY_MARKER, judgedThrough);
  logger.info('demo history loaded', { days: DEMO_HISTORY_DAYS, events: result.written });
  return result.written;
}
