import { describe, expect, it } from 'vitest';
import { Rng } from '../../../demo/rng.js';
import {
  countTransitions,
  describeProbability,
  expectedSurprisal,
  predictNext,
  probability,
  scoreStep,
  surprisal,
  tailProbability,
  TransitionCounts,
  transitionsOf,
} from '../../../detectors/models/markov.js';
import {
  DEFAULT_RARE_TRANSITION,
  judgeSession,
  learnStep,
  sessionPValue,
} from '../../../detectors/rules/chain-rare-transition.js';
import { SESSION_START, type SessionStep } from '../../../model/transitions.js';

/**
 * The smoothed Markov model's properties over random inputs (hand-written generators on the
 * demo's seeded PRNG, so every case is reproducible from its seed), and the rare-transition
 * detector core on hand-built histories.
 */

const UNKNOWN = '\u0000never-a-tool';
const SEEDS = Array.from({ length: 40 }, (_, i) => i + 1);

interface Scenario {
  tools: string[];
  identity: TransitionCounts;
  fleet: TransitionCounts;
}

/** Sessions of random tools with some habits (a preferred successor per tool), like an agent's. */
function randomSessions(rng: Rng, tools: readonly string[], sessions: number): string[][] {
  const habit = new Map(tools.map((t) => [t, rng.pick(tools)]));
  return Array.from({ length: sessions }, () => {
    const out: string[] = [rng.pick(tools)];
    const length = rng.int(1, 8);
    while (out.length < length) {
      const last = out.at(-1) ?? '';
      out.push(rng.chance(0.7) ? (habit.get(last) ?? rng.pick(tools)) : rng.pick(tools));
    }
    return out;
  });
}

function addSession(counts: TransitionCounts, tools: readonly string[]): void {
  let prev2 = SESSION_START;
  let prev1 = SESSION_START;
  for (const tool of tools) {
    counts.add(prev2, prev1, tool);
    prev2 = prev1;
    prev1 = tool;
  }
}

/** An identity and a fleet that includes it (plus others, some with tools the identity never used). */
function scenario(seed: number): Scenario {
  const rng = new Rng(seed);
  const tools = Array.from({ length: rng.int(2, 12) }, (_, i) => `tool-${String(i)}`);
  const own = tools.slice(0, Math.max(1, rng.int(1, tools.length)));
  const identity = new TransitionCounts();
  const fleet = new TransitionCounts();
  for (const s of randomSessions(rng, own, rng.int(0, 60))) {
    addSession(identity, s);
    addSession(fleet, s);
  }
  for (let other = 0; other < rng.int(0, 4); other++)
    for (const s of randomSessions(rng, tools, rng.int(1, 40))) addSession(fleet, s);
  return { tools, identity, fleet };
}

/** A random history: tools of the scenario, the session start, or a tool nobody used. */
function randomHistory(rng: Rng, tools: readonly string[]): [string, string] {
  const any = (): string =>
    rng.chance(0.15) ? SESSION_START : rng.chance(0.1) ? 'tool-unseen' : rng.pick(tools);
  return [any(), any()];
}

function totalProbability(s: Scenario, prev2: string, prev1: string): number {
  const vocabulary = new Set([...s.fleet.vocabulary(), ...s.identity.vocabulary()]);
  let sum = probability(s.identity, s.fleet, prev2, prev1, UNKNOWN);
  for (const tool of vocabulary) sum += probability(s.identity, s.fleet, prev2, prev1, tool);
  return sum;
}

/** The entropy by brute force over vocabulary ∪ {unknown}. */
function bruteEntropy(s: Scenario, prev2: string, prev1: string): number {
  const vocabulary = new Set([...s.fleet.vocabulary(), ...s.identity.vocabulary()]);
  let h = 0;
  for (const tool of [...vocabulary, UNKNOWN]) {
    const p = probability(s.identity, s.fleet, prev2, prev1, tool);
    h -= p * Math.log2(p);
  }
  return h;
}

describe('markov model: properties over random counts', () => {
  it('probabilities over vocabulary ∪ {unknown} sum to 1 for any history', () => {
    for (const seed of SEEDS) {
      const s = scenario(seed);
      const rng = new Rng(seed * 7919);
      for (let i = 0; i < 25; i++) {
        const [prev2, prev1] = randomHistory(rng, s.tools);
        expect(Math.abs(totalProbability(s, prev2, prev1) - 1), `seed ${String(seed)}`).toBeLessThan(1e-9);
      }
    }
  });

  it('sums to 1 also when the fleet misses some of the identity’s tools, and when both are empty', () => {
    const identity = new TransitionCounts();
    addSession(identity, ['a', 'b', 'c']);
    const fleet = new TransitionCounts();
    addSession(fleet, ['a', 'x']);
    const s = { tools: ['a', 'b', 'c', 'x'], identity, fleet };
    for (const [p2, p1] of [
      [SESSION_START, SESSION_START],
      ['a', 'b'],
      ['b', 'c'],
      ['zz', 'zz'],
    ] as const)
      expect(Math.abs(totalProbability(s, p2, p1) - 1)).toBeLessThan(1e-9);
    const empty = new TransitionCounts();
    expect(probability(empty, empty, SESSION_START, SESSION_START, 'anything')).toBe(1);
  });

  it('never gives probability 0, for known or unknown tools and histories', () => {
    for (const seed of SEEDS) {
      const s = scenario(seed);
      const rng = new Rng(seed * 104729);
      for (let i = 0; i < 25; i++) {
        const [prev2, prev1] = randomHistory(rng, s.tools);
        for (const tool of [...s.tools, UNKNOWN, 'tool-unseen']) {
          const p = probability(s.identity, s.fleet, prev2, prev1, tool);
          expect(p).toBeGreaterThan(0);
          expect(Number.isFinite(surprisal(s.identity, s.fleet, prev2, prev1, tool))).toBe(true);
        }
      }
    }
  });

  it('observing a transition again never raises its surprisal', () => {
    for (const seed of SEEDS) {
      const s = scenario(seed);
      const rng = new Rng(seed * 31337);
      for (let i = 0; i < 30; i++) {
        const [prev2, prev1] = randomHistory(rng, s.tools);
        const tool = rng.chance(0.1) ? `new-${String(i)}` : rng.pick(s.tools);
        const before = surprisal(s.identity, s.fleet, prev2, prev1, tool);
        // The fleet includes the identity: an observation counts in both.
        s.identity.add(prev2, prev1, tool);
        s.fleet.add(prev2, prev1, tool);
        const after = surprisal(s.identity, s.fleet, prev2, prev1, tool);
        expect(after, `seed ${String(seed)} ${prev2} ${prev1} → ${tool}`).toBeLessThanOrEqual(before + 1e-12);
      }
    }
  });

  it('the expected surprisal is the exact entropy, cached and invalidated by adds', () => {
    for (const seed of SEEDS) {
      const s = scenario(seed);
      const rng = new Rng(seed * 65537);
      for (let i = 0; i < 20; i++) {
        const [prev2, prev1] = randomHistory(rng, s.tools);
        const h = expectedSurprisal(s.identity, s.fleet, prev2, prev1);
        expect(Math.abs(h - bruteEntropy(s, prev2, prev1)), `seed ${String(seed)}`).toBeLessThan(1e-9);
        // Cached: the same value again.
        expect(expectedSurprisal(s.identity, s.fleet, prev2, prev1)).toBe(h);
        // Any add may change it; the cached value must follow (identity only, fleet only, both).
        const tool = rng.chance(0.2) ? `new-${String(i)}` : rng.pick(s.tools);
        const which = rng.int(0, 2);
        if (which !== 1)
          s.identity.add(prev2, rng.chance(0.5) ? prev1 : rng.pick(s.tools), tool, rng.int(1, 3));
        if (which !== 0) s.fleet.add(rng.pick(s.tools), prev1, tool, rng.int(1, 3));
        expect(
          Math.abs(expectedSurprisal(s.identity, s.fleet, prev2, prev1) - bruteEntropy(s, prev2, prev1)),
        ).toBeLessThan(1e-9);
      }
    }
  });

  it('is deterministic: the same input gives the same output', () => {
    for (const seed of SEEDS.slice(0, 10)) {
      const a = scenario(seed);
      const b = scenario(seed);
      const rng = new Rng(seed);
      for (let i = 0; i < 20; i++) {
        const [prev2, prev1] = randomHistory(rng, a.tools);
        const tool = rng.pick([...a.tools, UNKNOWN]);
        expect(scoreStep(a.identity, a.fleet, prev2, prev1, tool)).toEqual(
          scoreStep(b.identity, b.fleet, prev2, prev1, tool),
        );
        expect(predictNext(a.identity, a.fleet, prev2, prev1)).toEqual(
          predictNext(b.identity, b.fleet, prev2, prev1),
        );
      }
      expect(a.identity.rows('x')).toEqual(b.identity.rows('x'));
    }
  });

  it('a history always followed by one tool costs little; an unseen step from it costs much more', () => {
    const identity = new TransitionCounts();
    for (let i = 0; i < 50; i++) addSession(identity, ['read', 'edit', 'commit']);
    const fleet = new TransitionCounts();
    for (let i = 0; i < 50; i++) addSession(fleet, ['read', 'edit', 'commit']);
    addSession(fleet, ['commit', 'read']);
    const usual = scoreStep(identity, fleet, SESSION_START, 'read', 'edit');
    const odd = scoreStep(identity, fleet, SESSION_START, 'read', 'commit');
    expect(usual.seenByIdentity).toBe(true);
    expect(usual.excess).toBeLessThan(0.5);
    expect(odd.seenByIdentity).toBe(false);
    expect(odd.historyCount).toBe(50);
    expect(odd.excess).toBeGreaterThan(8);
  });
});

describe('p-values of a step and of a session', () => {
  it("a new step's p-value is the identity's escape rate from prev1, T / (N + T)", () => {
    const c = new TransitionCounts();
    for (let i = 0; i < 90; i++) addSession(c, ['read', 'edit']);
    for (let i = 0; i < 10; i++) addSession(c, ['read', 'search']);
    // From `read`: 100 departures to 2 tools.
    expect(tailProbability(c, 'read', 'push')).toBeCloseTo(2 / 102, 12);
    // A known step: itself and every step at most as familiar.
    expect(tailProbability(c, 'read', 'search')).toBeCloseTo(12 / 102, 12);
    expect(tailProbability(c, 'read', 'edit')).toBe(1);
    // Nothing known from a state: no evidence at all.
    expect(tailProbability(c, 'edit', 'read')).toBe(1);
  });

  it("more of the same routine only lowers a new step's p-value; a new successor raises it", () => {
    for (const seed of SEEDS) {
      const rng = new Rng(seed);
      const c = new TransitionCounts();
      addSession(c, ['a', 'b']);
      addSession(c, ['a', 'c']);
      let last = tailProbability(c, 'a', 'z');
      for (let i = 0; i < 50; i++) {
        addSession(c, ['a', rng.pick(['b', 'c'])]);
        const p = tailProbability(c, 'a', 'z');
        expect(p).toBeLessThanOrEqual(last + 1e-12);
        expect(p).toBeGreaterThan(0);
        last = p;
      }
      addSession(c, ['a', 'd']);
      expect(tailProbability(c, 'a', 'z')).toBeGreaterThan(last);
    }
  });

  it('a session of k steps is at least as likely to hold one such step as one step is, and never above 1', () => {
    for (const p of [0, 1e-12, 1e-6, 0.001, 0.01, 0.3, 1]) {
      expect(sessionPValue(p, 1)).toBeCloseTo(p, 12);
      let last = sessionPValue(p, 1);
      for (const k of [2, 5, 20, 1000]) {
        const q = sessionPValue(p, k);
        expect(q).toBeGreaterThanOrEqual(last);
        expect(q).toBeLessThanOrEqual(1);
        last = q;
      }
    }
    // Tiny p: no cancellation, k · p to first order.
    expect(sessionPValue(1e-12, 10)).toBeCloseTo(1e-11, 20);
  });
});

describe('transitionsOf: the reference derivation', () => {
  it('orders each session by (ts, event_id), starts from SESSION_START, skips events without a session', () => {
    const e = (session: string, ts: number, id: string, tool: string) => ({
      identity_id: 'a',
      session,
      ts,
      event_id: id,
      tool,
    });
    const steps = transitionsOf([
      e('s1', 2, 'e3', 'c'),
      e('s1', 1, 'e2', 'b'),
      e('s1', 1, 'e1', 'a'),
      e('', 1, 'e0', 'x'),
      e('s2', 5, 'f1', 'a'),
    ]);
    expect(steps.map((t) => [t.prev2, t.prev1, t.tool])).toEqual([
      ['^', '^', 'a'],
      ['^', 'a', 'b'],
      ['a', 'b', 'c'],
      ['^', '^', 'a'],
    ]);
    expect(countTransitions([e('s1', 1, 'e1', 'a'), e('s2', 1, 'e2', 'a')])).toEqual([
      { identity_id: 'a', prev2: '^', prev1: '^', tool: 'a', count: 2 },
    ]);
  });

  it('starts a session afresh where a predecessor is older than the look-back before its day', () => {
    const day = 86_400_000;
    const at = (d: number, hour: number) => d * day + hour * 3_600_000;
    const e = (ts: number, id: string, tool: string) => ({
      identity_id: 'a',
      session: 's',
      ts,
      event_id: id,
      tool,
    });
    const events = [
      e(at(0, 23), 'e1', 'a'),
      e(at(1, 22), 'e2', 'b'),
      e(at(1, 23), 'e3', 'c'),
      e(at(3, 0), 'e4', 'd'),
    ];
    // e1 is 23 h before e2 and within a day of the start of e2's day: it counts. e3 is 25 h
    // before e4 and before the day ahead of e4's: e4 starts afresh.
    expect(transitionsOf(events, day).map((t) => [t.prev2, t.prev1, t.tool])).toEqual([
      ['^', '^', 'a'],
      ['^', 'a', 'b'],
      ['a', 'b', 'c'],
      ['^', '^', 'd'],
    ]);
    // No look-back: only the same day's steps count.
    expect(transitionsOf(events, 0).map((t) => [t.prev2, t.prev1, t.tool])).toEqual([
      ['^', '^', 'a'],
      ['^', '^', 'b'],
      ['^', 'b', 'c'],
      ['^', '^', 'd'],
    ]);
    // Without one (the default), every earlier step counts.
    expect(transitionsOf(events).at(-1)).toMatchObject({ prev2: 'b', prev1: 'c', tool: 'd' });
  });
});

describe('describeProbability', () => {
  it('puts probabilities into words', () => {
    expect(describeProbability(0.999)).toBe('almost certain');
    expect(describeProbability(0.35)).toBe('about 35%');
    expect(describeProbability(0.004)).toBe('about 1 in 250');
    expect(describeProbability(1 / 4123)).toBe('about 1 in 4,100');
    expect(describeProbability(3e-7)).toBe('about 1 in 3.3 million');
    expect(describeProbability(1e-12)).toBe('less than 1 in a billion');
    expect(describeProbability(0.0004, { identityCount: 0, fleetShare: 0.02 })).toBe(
      'never seen for this identity; 2% across the fleet; model: about 1 in 2,500',
    );
  });
});

/** The detector core on hand-built histories. */
describe('chain.rare_transition: judgeSession', () => {
  const T = Date.UTC(2026, 2, 1);

  function counts(sessions: number, extra: readonly (readonly string[])[] = []): TransitionCounts {
    const c = new TransitionCounts();
    for (let i = 0; i < sessions; i++)
      addSession(
        c,
        i % 5 === 4 ? ['read', 'edit', 'edit', 'commit', 'push'] : ['read', 'edit', 'commit', 'push'],
      );
    for (const s of extra) addSession(c, s);
    return c;
  }

  /** The identity's counts plus other identities' sessions. */
  function fleetOf(identity: TransitionCounts, others: readonly (readonly string[])[]): TransitionCounts {
    const f = new TransitionCounts().addRows(identity.rows('me'));
    for (const s of others) addSession(f, s);
    return f;
  }

  const steps = (...tools: string[]): SessionStep[] =>
    tools.map((tool, i) => ({ tool, event_id: `ev-${String(i + 1)}`, ts: T + i * 1000 }));

  const otherWork = Array.from({ length: 30 }, () => ['search', 'read', 'summarize']);

  it('fires on a step the identity never took from a state it left many times', () => {
    const identity = counts(600);
    const fleet = fleetOf(identity, otherWork);
    const earlier = steps('read', 'edit');
    const current = { tool: 'push', event_id: 'ev-3', ts: T + 5000 };
    const result = judgeSession({ identityId: 'release-bot', identity, fleet, earlier, current });
    expect(result).not.toBeNull();
    if (!result) return;
    expect(result.subject).toBe('edit → push');
    expect(result.score).toBeGreaterThan(DEFAULT_RARE_TRANSITION.minScore);
    expect(result.score).toBeLessThanOrEqual(1);
    expect(result.step.seenByIdentity).toBe(false);
    expect(result.step.historyCount).toBe(720);
    expect(result.cite).toEqual([
      { event_id: 'ev-1', ts: T },
      { event_id: 'ev-2', ts: T + 1000 },
    ]);
    expect(result.title).toBe('release-bot made an unusual step: edit → push');
    // What was expected (its usual next tools with probabilities) and what happened, with ids.
    expect(result.explanation).toContain(
      '`release-bot` called `push` (event ev-3) right after `edit` (event ev-2',
    );
    expect(result.explanation).toMatch(/usually went on to `commit` \(\d+%\)/);
    expect(result.explanation).toContain('never to `push`');
    expect(result.explanation).toMatch(/bits more/);
    expect(result.facts.expected_next).toEqual(
      expect.arrayContaining([expect.stringMatching(/^commit \d+%$/)]),
    );
    expect(result.facts.identity_count).toBe(0);
    expect(
      Object.values(result.facts).every(
        (v) => ['string', 'number', 'boolean'].includes(typeof v) || Array.isArray(v),
      ),
    ).toBe(true);
  });

  it('stays silent on a routine step', () => {
    const identity = counts(40);
    const fleet = fleetOf(identity, otherWork);
    for (const [earlier, tool] of [
      [steps('read', 'edit'), 'commit'],
      [steps('read'), 'edit'],
      [steps('edit', 'edit'), 'commit'],
      [steps(), 'read'],
    ] as const)
      expect(
        judgeSession({ identityId: 'me', identity, fleet, earlier, current: { tool, event_id: 'x', ts: T } }),
      ).toBeNull();
  });

  it('stays silent when the identity has too little history from that state', () => {
    const identity = counts(5);
    const fleet = fleetOf(identity, otherWork);
    const judged = judgeSession({
      identityId: 'me',
      identity,
      fleet,
      earlier: steps('read', 'edit'),
      current: { tool: 'push', event_id: 'x', ts: T },
    });
    expect(judged).toBeNull();
    // The same step fires once the identity has taken the routine often enough for a new
    // step to be significant over a whole session.
    const long = counts(600);
    expect(
      judgeSession({
        identityId: 'me',
        identity: long,
        fleet: fleetOf(long, otherWork),
        earlier: steps('read', 'edit'),
        current: { tool: 'push', event_id: 'x', ts: T },
      }),
    ).not.toBeNull();
  });

  it('leaves a tool the identity never used to scope.new_tool', () => {
    const identity = counts(40);
    const fleet = fleetOf(identity, otherWork);
    const current = { tool: 'summarize', event_id: 'x', ts: T };
    expect(judgeSession({ identityId: 'me', identity, fleet, earlier: steps('read'), current })).toBeNull();
  });

  it('scores a transition lower when the fleet makes it commonly', () => {
    const identity = counts(600);
    const rareInFleet = fleetOf(identity, otherWork);
    const commonInFleet = fleetOf(identity, [
      ...otherWork,
      ...Array.from({ length: 30 }, () => ['read', 'edit', 'push']),
    ]);
    const input = {
      identityId: 'me',
      identity,
      earlier: steps('read', 'edit'),
      current: { tool: 'push', event_id: 'x', ts: T },
    };
    const rare = judgeSession({ ...input, fleet: rareInFleet });
    const common = judgeSession({ ...input, fleet: commonInFleet });
    expect(rare).not.toBeNull();
    expect(common?.score ?? 0).toBeLessThan(rare?.score ?? 0);
    if (common) expect(common.peers.share).toBeGreaterThan(0.3);
  });

  it('judges session starts too, and learns steps as they are taken', () => {
    const identity = counts(600);
    const fleet = fleetOf(identity, otherWork);
    const current = { tool: 'commit', event_id: 'first', ts: T };
    const start = judgeSession({ identityId: 'me', identity, fleet, earlier: [], current });
    expect(start?.title).toBe('me started a session with an unusual tool: commit');
    expect(start?.cite).toEqual([]);
    expect(start?.explanation).toContain('started 600 sessions, usually with `read`');
    // Learned: the identity's own step is no longer unseen.
    learnStep(identity, [], 'commit');
    expect(identity.bigramCount(SESSION_START, 'commit')).toBe(1);
    expect(judgeSession({ identityId: 'me', identity, fleet, earlier: [], current })).toBeNull();
  });

  it('on random routines: silent on every routine step, fires on injected out-of-order steps', () => {
    for (const seed of [1, 2, 3]) {
      const rng = new Rng(seed);
      const tools = Array.from({ length: 12 }, (_, i) => `t${String(i)}`);
      // Five identities, each a random routine: every tool has one to three usual successors.
      const routines = Array.from(
        { length: 5 },
        () => new Map(tools.map((t) => [t, Array.from({ length: rng.int(1, 3) }, () => rng.pick(tools))])),
      );
      const starts = routines.map(() => rng.pick(tools));
      const identities = routines.map(() => new TransitionCounts());
      const fleet = new TransitionCounts();
      let routineFired = 0;
      let injectedFired = 0;
      let outOfOrder = 0;
      for (let s = 0; s < 3000; s++) {
        const k = s % 5;
        const routine = routines[k] ?? new Map<string, string[]>();
        const identity = identities[k] ?? new TransitionCounts();
        const own = [...new Set([...routine.values()].flat())];
        const length = rng.int(3, 12);
        const injectAt = s > 2500 && rng.chance(0.1) ? rng.int(1, length - 1) : -1;
        let earlier: SessionStep[] = [];
        let tool = starts[k] ?? 't0';
        for (let j = 0; j < length; j++) {
          // An injected step: one of the identity's own tools, whatever the routine says.
          if (j === injectAt) {
            tool = rng.pick(own);
            const prev = earlier.at(-1)?.tool;
            if (prev !== undefined && !(routine.get(prev) ?? []).includes(tool)) outOfOrder += 1;
          }
          const current = { tool, event_id: `${String(s)}-${String(j)}`, ts: s };
          const judged = judgeSession({ identityId: String(k), identity, fleet, earlier, current });
          if (judged && j === injectAt) injectedFired += 1;
          else if (judged && s > 200) routineFired += 1;
          learnStep(identity, earlier, tool);
          learnStep(fleet, earlier, tool);
          earlier = [...earlier.slice(-1), current];
          tool = rng.pick(routine.get(tool) ?? tools);
        }
      }
      expect(routineFired, `seed ${String(seed)}`).toBe(0);
      // A session-level p-value at alpha 0.01 needs hundreds of departures per state; a share of
      // the out-of-order steps (those from the states with the fewest successors) clears it.
      expect(outOfOrder, `seed ${String(seed)}`).toBeGreaterThan(20);
      expect(injectedFired, `seed ${String(seed)}`).toBeGreaterThanOrEqual(Math.ceil(outOfOrder * 0.15));
    }
  });

  it('rarely fires for an identity whose tools follow no order at all', () => {
    const rng = new Rng(7);
    const tools = Array.from({ length: 30 }, (_, i) => `t${String(i)}`);
    const identity = new TransitionCounts();
    const fleet = new TransitionCounts();
    let earlier: SessionStep[] = [];
    let fired = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      if (i % 20 === 0) earlier = [];
      const current = { tool: rng.pick(tools), event_id: String(i), ts: i };
      if (judgeSession({ identityId: 'x', identity, fleet, earlier, current })) fired += 1;
      learnStep(identity, earlier, current.tool);
      learnStep(fleet, earlier, current.tool);
      earlier = [...earlier.slice(-1), current];
    }
    expect(fired / n).toBeLessThan(0.001);
  });

  it('is deterministic', () => {
    const run = () => {
      const identity = counts(40);
      const fleet = fleetOf(identity, otherWork);
      return judgeSession({
        identityId: 'me',
        identity,
        fleet,
        earlier: steps('read', 'edit'),
        current: { tool: 'push', event_id: 'x', ts: T },
      });
    };
    expect(run()).toEqual(run());
  });
});
