import { pickIncident } from './incidents.js';
import { ACTIVE_PROFILES, PROFILE_BY_ID } from './personas.js';
import { Rng, times } from './rng.js';
import type { Profile, ScriptCtx } from './session-script.js';
import type { DemoEvent } from './types.js';
import { materialize } from './wire-format.js';

/**
 * Realistic demo traffic in scopewatch.action/v1: a handful of non-human identities doing
 * their normal work in sessions (`personas.ts`, `normal-sessions.ts`), plus rare injected
 * incidents for the detectors to find (`incidents.ts`), written out by `wire-format.ts`. This
 * module drives them: it decides when each identity starts a session and interleaves the
 * overlapping sessions into one time-ordered stream.
 *
 * Pure and deterministic: every value derives from `seed` and `startMs` through one seeded
 * PRNG (no Math.random, no clock), so a seed reproduces byte-identical traffic for tests,
 * benchmarks and bug reports.
 */

export interface DemoOptions {
  seed: number;
  /** Simulated time of the stream's start (epoch ms); time only moves forward from here. */
  startMs: number;
  /** Mean events per hour for each active identity (default 7,200). */
  eventsPerIdentityHour?: number;
  /** Probability that a session is replaced by an injected incident (default 0.03). */
  incidentRate?: number;
}

/**
 * Dense enough that a million events span well under two days, so callers can backfill from
 * `now - 24h` without crossing the schema's "at most a day ahead" limit. Think fleets (many
 * concurrent runs per identity), not a single process.
 */
const DEFAULT_EVENTS_PER_IDENTITY_HOUR = 7_200;
const DEFAULT_INCIDENT_RATE = 0.03;

/**
 * A fresh stream starts with no sessions in flight, so until they overlap in steady state it
 * covers simulated time faster than its long-run rate: paced by count, its timestamps settle
 * this far ahead of the wall clock (measured; independent of the rate, since it comes from how
 * long sessions last). Producers start the stream this much in the past to stay near real time.
 */
export const DEMO_RAMP_UP_LEAD_MS = 85_000;

/** The per-identity rate that makes the whole stream average `eventsPerSecond`. */
export function eventsPerIdentityHourFor(eventsPerSecond: number): number {
  return (eventsPerSecond * 3_600) / ACTIVE_PROFILES.length;
}

// ---------------------------------------------------------------------------------------------
// Sessions: normal work or an incident, laid out in time
// ---------------------------------------------------------------------------------------------

interface Planned {
  at: number;
  item: DemoEvent;
}

/** Decides what a new session of `profile` is (normal or an incident) and lays out its events. */
function planSession(profile: Profile, startMs: number, rng: Rng, incidentRate: number): Planned[] {
  const variant = rng.chance(incidentRate) ? pickIncident(rng) : undefined;
  const actor = variant ? PROFILE_BY_ID[variant.identity] : profile;
  const [minGap, maxGap] = actor.gapMs;
  const ctx: ScriptCtx = { rng, startMs, identityId: actor.identity.id, gap: () => rng.int(minGap, maxGap) };
  const steps = (variant?.build ?? actor.script)(ctx);
  const session = actor.open(rng, startMs);
  let at = startMs;
  return steps.map((s) => {
    at += s.gapMs;
    return { at, item: materialize(s, actor, session, at, rng) };
  });
}

// ---------------------------------------------------------------------------------------------
// The stream: a discrete-event simulation over overlapping sessions
// ---------------------------------------------------------------------------------------------

type TimerBody = { kind: 'event'; item: DemoEvent } | { kind: 'session'; profile: Profile };
interface Timer {
  at: number;
  seq: number;
  body: TimerBody;
}

/** Binary min-heap on (at, seq): equal times come out in insertion order, so output is stable. */
class TimerQueue {
  private readonly heap: Timer[] = [];
  private seq = 0;

  push(at: number, body: TimerBody): void {
    const heap = this.heap;
    heap.push({ at, seq: this.seq++, body });
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): Timer {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined) throw new Error('demo timer queue is empty');
    if (heap.length === 0) return top;
    heap[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < heap.length && this.less(l, min)) min = l;
      if (r < heap.length && this.less(r, min)) min = r;
      if (min === i) return top;
      this.swap(i, min);
      i = min;
    }
  }

  private less(i: number, j: number): boolean {
    const a = this.heap[i];
    const b = this.heap[j];
    if (a === undefined || b === undefined) return false;
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i];
    const b = this.heap[j];
    if (a === undefined || b === undefined) return;
    this.heap[i] = b;
    this.heap[j] = a;
  }
}

function resolveOptions(opts: DemoOptions): Required<DemoOptions> {
  const resolved = {
    seed: opts.seed,
    startMs: opts.startMs,
    eventsPerIdentityHour: opts.eventsPerIdentityHour ?? DEFAULT_EVENTS_PER_IDENTITY_HOUR,
    incidentRate: opts.incidentRate ?? DEFAULT_INCIDENT_RATE,
  };
  if (!Number.isFinite(resolved.seed)) throw new RangeError('demo seed must be a finite number');
  if (!Number.isSafeInteger(resolved.startMs))
    throw new RangeError('demo startMs must be integer epoch milliseconds');
  if (!(resolved.eventsPerIdentityHour > 0 && Number.isFinite(resolved.eventsPerIdentityHour)))
    throw new RangeError('eventsPerIdentityHour must be a positive number');
  if (!(resolved.incidentRate >= 0 && resolved.incidentRate <= 1))
    throw new RangeError('incidentRate must be within [0, 1]');
  return resolved;
}

/**
 * Infinite, time-ordered demo traffic. Each active identity starts sessions at random; sessions
 * overlap freely and the queue interleaves their events, so `ts` never goes backwards.
 */
export function createDemoStream(opts: DemoOptions): { next(): DemoEvent } {
  const { seed, startMs, eventsPerIdentityHour, incidentRate } = resolveOptions(opts);
  const rng = new Rng(seed);
  const queue = new TimerQueue();
  const msPerEvent = 3_600_000 / eventsPerIdentityHour;
  /** Only for the first start; afterwards each session's real length sets the pace. */
  const typicalSessionEvents = 7;
  for (const profile of ACTIVE_PROFILES) {
    queue.push(Math.round(startMs + rng.exp(msPerEvent * typicalSessionEvents)), {
      kind: 'session',
      profile,
    });
  }
  return {
    next(): DemoEvent {
      for (;;) {
        const { at, body } = queue.pop();
        if (body.kind === 'event') return body.item;
        const planned = planSession(body.profile, at, rng, incidentRate);
        for (const p of planned) queue.push(p.at, { kind: 'event', item: p.item });
        // The wait until this identity's next session scales with the events this one made,
        // so the long-run rate is exactly eventsPerIdentityHour whatever the session lengths.
        const wait = Math.round(rng.exp(msPerEvent * planned.length));
        queue.push(at + wait, body);
      }
    },
  };
}

export function generateDemoEvents(opts: DemoOptions, count: number): DemoEvent[] {
  const stream = createDemoStream(opts);
  return times(count, () => stream.next());
}
