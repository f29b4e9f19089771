import { loadRules } from '../app/rules.js';
import { createDetectors } from '../detectors/catalog.js';
import { DEFAULT_ENGINE_OPTIONS, DetectionEngine } from '../detectors/engine.js';
import type { Detector } from '../detectors/types.js';
import type { DetectorEvent } from '../model/detector-event.js';
import { liveEvents } from './live-events.js';

/**
 * npm run bench:engine — the pure detection engine alone, no storage: 200,000 generated events
 * of 2,000 identities replayed as history (learnOnly), then 200,000 judged (process), for
 * three detector sets measured in the same run: the first-seen and policy detectors only,
 * those plus the rule packs, and everything (the rule packs and the transition model). The
 * last line is one JSON object; `ratio` is everything's judged events/s over the first set's.
 */

const EVENTS = 400_000;
const IDENTITIES = 2_000;
const ROUNDS = 3;

/** Judged events per second for one detector set (history learned first, not timed). */
function judgedPerSecond(detectors: Detector[], stream: readonly DetectorEvent[]): number {
  const engine = new DetectionEngine({
    ...DEFAULT_ENGINE_OPTIONS,
    detectors,
    registry: null,
    now: (e) => e.ts,
  });
  const half = stream.length / 2;
  for (let i = 0; i < half; i += 1) engine.learnOnly(stream[i] as DetectorEvent);
  const t = performance.now();
  for (let i = half; i < stream.length; i += 1) engine.process(stream[i] as DetectorEvent);
  return Math.round(half / ((performance.now() - t) / 1000));
}

const stream = [
  ...liveEvents({ start: Date.UTC(2026, 0, 1), count: EVENTS, identities: IDENTITIES, sessionEvery: 20_000 }),
];
const rules = loadRules();
const sets: Record<string, () => Detector[]> = {
  first_seen_eps: () => createDetectors().filter((d) => d.id !== 'chain.rare_transition'),
  rules_eps: () => createDetectors({}, rules).filter((d) => d.id !== 'chain.rare_transition'),
  all_eps: () => createDetectors({}, rules),
};
// Interleaved rounds, best of each: a busy machine slows whichever set it catches.
const best: Record<string, number> = {};
for (let round = 0; round < ROUNDS; round += 1)
  for (const [name, make] of Object.entries(sets))
    best[name] = Math.max(best[name] ?? 0, judgedPerSecond(make(), stream));
for (const [name, eps] of Object.entries(best))
  process.stdout.write(`${name.padEnd(16)} ${String(eps)} judged events/s\n`);
const figures = {
  ...best,
  rules: rules.length,
  ratio: Math.round(((best.all_eps ?? 0) / (best.first_seen_eps ?? 1)) * 100) / 100,
};
process.stdout.write(`${JSON.stringify(figures)}\n`);
