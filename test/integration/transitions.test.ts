import { describe, expect, it } from 'vitest';
import { DAY_MS, startOfDay } from '../../common/time.js';
import { countTransitions, fleetRowsOf, type SequencedEvent } from '../../detectors/models/markov.js';
import type { ActionRow } from '../../model/rows.js';
import type { TransitionRow } from '../../model/transitions.js';
import { SESSION_LOOKBACK_MS } from '../../storage/transitions.js';
import { storageOf, testConfig, toolCallRow, useClickHouse } from './helpers.js';

/**
 * The stored transition fold against the real embedded engine: the fold's counts equal the
 * pure core's (detectors/models/markov.ts) over the same events, folding again (or after a
 * crash that lost the watermark) counts nothing twice, and the readers give the same answer
 * before and after folding (the days not folded yet are computed live).
 */

const config = testConfig([]);
const clickhouse = useClickHouse(config);

/** Five days ago at midnight UTC: recent enough for any actions TTL. */
const D0 = startOfDay(Date.now()) - 5 * DAY_MS;
const HOUR = 3_600_000;

const row = toolCallRow;

/** A session: tools a minute apart from `start`, ids `<session>-<i>`. */
function session(identity: string, id: string, start: number, tools: readonly string[]): ActionRow[] {
  return tools.map((tool, i) =>
    row(identity, id, start + i * 60_000, tool, `${id}-${String(i).padStart(3, '0')}`),
  );
}

const events: ActionRow[] = [
  // Day 0
  ...session('agent-a', 'a1', D0 + 9 * HOUR, ['read', 'edit', 'commit', 'push']),
  ...session('agent-a', 'a2', D0 + 11 * HOUR, ['read', 'edit', 'edit', 'commit']),
  ...session('agent-b', 'b1', D0 + 10 * HOUR, ['search', 'read', 'summarize']),
  // Crosses midnight into day 1: the day-1 steps keep their day-0 predecessors.
  ...session('agent-a', 'a3', D0 + DAY_MS - 2 * 60_000, ['read', 'edit', 'commit', 'push', 'deploy']),
  // No session: no transitions.
  row('agent-a', '', D0 + 12 * HOUR, 'read', 'nosession-1'),
  row('agent-a', '', D0 + 12 * HOUR + 1000, 'edit', 'nosession-2'),
  // Day 1: a tie on ts is ordered by event_id.
  row('agent-b', 'b2', D0 + DAY_MS + 8 * HOUR, 'search', 'b2-002'),
  row('agent-b', 'b2', D0 + DAY_MS + 8 * HOUR, 'read', 'b2-001'),
  row('agent-b', 'b2', D0 + DAY_MS + 8 * HOUR + 60_000, 'summarize', 'b2-003'),
  // Day 2 has nothing; day 3
  ...session('agent-a', 'a4', D0 + 3 * DAY_MS + 9 * HOUR, ['read', 'edit', 'commit', 'push']),
  ...session('agent-b', 'b3', D0 + 3 * DAY_MS + 9 * HOUR, ['search', 'search', 'read', 'email']),
  // Day 3 again: a session from day 0 resumes after more than the look-back, so its first
  // step here is a session start (and the second's prev2 is too).
  row('agent-b', 'b0', D0 + 2 * HOUR, 'deploy', 'b0-000'),
  row('agent-b', 'b0', D0 + 3 * DAY_MS + 2 * HOUR, 'read', 'b0-001'),
  row('agent-b', 'b0', D0 + 3 * DAY_MS + 3 * HOUR, 'email', 'b0-002'),
  // Day 4 (today minus one): a session that started on day 3 goes on.
  ...session('agent-b', 'b4', D0 + 4 * DAY_MS - 60_000, ['search', 'read', 'summarize']),
  // Day 5 (today): not complete, never folded.
  ...session('agent-a', 'a5', D0 + 5 * DAY_MS + 60_000, ['read', 'deploy']),
];

const sequenced = (rows: readonly ActionRow[]): SequencedEvent[] =>
  rows.map(({ identity_id, session, ts, event_id, tool }) => ({ identity_id, session, ts, event_id, tool }));

/** The pure core's rows for the events strictly before each identity's cut day. */
function expected(cuts: ReadonlyMap<string, number>): TransitionRow[] {
  // Transitions are counted on their tool event's day, with predecessors from any earlier day:
  // count over all the events, then keep the transitions whose event is before the cut day.
  const before = events.filter((e) => {
    const cut = cuts.get(e.identity_id);
    return cut !== undefined && e.ts < startOfDay(cut);
  });
  return countTransitions(sequenced(before), SESSION_LOOKBACK_MS);
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const sorted = (rows: readonly TransitionRow[]): TransitionRow[] =>
  [...rows].sort(
    (a, b) =>
      cmp(a.identity_id, b.identity_id) ||
      cmp(a.prev1, b.prev1) ||
      cmp(a.prev2, b.prev2) ||
      cmp(a.tool, b.tool),
  );

describe('transitions: folded from actions, read as of a cut', () => {
  it('folds complete days exactly, idempotently, and reads the same before and after', async () => {
    const ch = clickhouse();
    const storage = storageOf(ch);
    await storage.actions.insertActions(events, 'transitions:batch-1');
    // A redelivered event (another batch, same event): FINAL makes it one.
    const first = events[0];
    if (!first) throw new Error('no events');
    await storage.actions.insertActions([{ ...first, kafka_offset: '9999' }], 'transitions:batch-2');

    const today = D0 + 5 * DAY_MS;
    const cutsList: ReadonlyMap<string, number>[] = [
      new Map([
        ['agent-a', today + HOUR],
        ['agent-b', today + HOUR],
      ]),
      new Map([
        ['agent-a', D0 + DAY_MS + HOUR],
        ['agent-b', D0 + 4 * DAY_MS + HOUR],
      ]),
      new Map([['agent-b', D0 + 6 * DAY_MS]]),
      new Map([['agent-a', D0 + HOUR]]),
    ];

    const t = storage.transitions;
    expect(await t.lastFolded()).toBeNull();
    const beforeFold = await Promise.all(cutsList.map((cuts) => t.asOf(cuts)));
    cutsList.forEach((cuts, i) => {
      expect(sorted(beforeFold[i] ?? [])).toEqual(sorted(expected(cuts)));
    });
    const fleetBefore = await t.fleet(today);

    // Part of the way first: day 4's reads then come live, and its first transition of b4
    // needs a predecessor from the folded day 3.
    const partly = await t.fold(D0 + 4 * DAY_MS);
    expect(partly.days).toEqual([D0, D0 + DAY_MS, D0 + 3 * DAY_MS]);
    expect(await Promise.all(cutsList.map((cuts) => t.asOf(cuts)))).toEqual(beforeFold);
    expect(await t.fleet(today)).toEqual(fleetBefore);

    const folded = await t.fold(today);
    expect(folded.days).toEqual([D0 + 4 * DAY_MS]);
    expect(folded.through).toBe(today - DAY_MS);
    expect(await t.lastFolded()).toBe(today - DAY_MS);

    // Per day, the stored rows are the pure core's transitions of that day's events.
    const perDay = await ch.query<{ day: string; n: number }>(
      `SELECT toString(day) AS day, toFloat64(sum(events)) AS n FROM ${ch.table('baseline_transitions')}
       GROUP BY day ORDER BY day`,
    );
    const pureByDay = new Map<string, number>();
    const seen = new Set<string>();
    for (const e of events) {
      if (e.session === '' || e.ts >= today || seen.has(e.event_id)) continue;
      seen.add(e.event_id);
      const day = new Date(startOfDay(e.ts)).toISOString().slice(0, 10);
      pureByDay.set(day, (pureByDay.get(day) ?? 0) + 1);
    }
    expect(perDay).toEqual([...pureByDay].sort().map(([day, n]) => ({ day, n })));

    const afterFold = await Promise.all(cutsList.map((cuts) => t.asOf(cuts)));
    expect(afterFold).toEqual(beforeFold);
    expect(await t.fleet(today)).toEqual(fleetBefore);

    // Folding again folds nothing; losing the watermark (a crash after the insert) and
    // folding again writes every day once: rows past the watermark are removed first.
    expect((await t.fold(today)).days).toEqual([]);
    await ch.command(`TRUNCATE TABLE ${ch.table('baseline_transitions_folded')}`);
    expect((await t.fold(today)).days).toEqual([D0, D0 + DAY_MS, D0 + 3 * DAY_MS, D0 + 4 * DAY_MS]);
    expect(await Promise.all(cutsList.map((cuts) => t.asOf(cuts)))).toEqual(beforeFold);
    expect(await t.fleet(today)).toEqual(fleetBefore);

    // The fleet: every identity's rows summed over identities and prev2.
    const all = expected(cutsList[0] ?? new Map());
    const fleetExpected = fleetRowsOf(all).sort(
      (a, b) => b.count - a.count || cmp(a.prev1, b.prev1) || cmp(a.tool, b.tool),
    );
    expect(fleetBefore).toEqual(fleetExpected);

    // A day's replay starting mid-session gets the session's last two earlier steps.
    const tails = await t.sessionTails(new Map([['agent-a', D0 + DAY_MS + HOUR]]));
    expect(tails.map((s) => [s.session, s.tool, s.event_id])).toEqual([
      ['a3', 'read', 'a3-000'],
      ['a3', 'edit', 'a3-001'],
    ]);
  });
});
