import { DAY_MS, startOfDay } from '../common/time.js';
import { ANY_PREV, FLEET_IDENTITY, SESSION_START, type TransitionRow } from '../model/transitions.js';
import type { SqlGateway } from './gateway.js';
import { dt } from './sql-values.js';

/**
 * `baseline_transitions`: per identity × (prev2, prev1, tool) × day, how often the identity
 * called `tool` after `prev1` after `prev2` in one session (model/transitions.ts). A transition
 * needs the session's earlier events, so no materialized view can keep it: `fold` computes
 * complete days from `actions` and records each in `baseline_transitions_folded`, and the
 * readers add the days after the last folded one live from `actions`, the same computation,
 * so they are exact whether or not the fold has run. The pure reference is
 * detectors/models/markov.ts (`transitionsOf`); an integration test checks both agree.
 *
 * Sessions: per (identity_id, session), events in (ts, event_id) order, read with FINAL (a
 * redelivered event is one event). Events with an empty session form no transitions. A
 * transition counts on the day of its `tool` event; its prev1/prev2 may be from earlier days,
 * back to SESSION_LOOKBACK_MS before the start of that day.
 */

/**
 * How far before the start of an event's day its session's earlier events count as its
 * predecessors: a session idle for longer starts afresh, as the engine forgets sessions idle
 * for a day (DEFAULT_ENGINE_OPTIONS.sessionIdleMs). It also bounds what a fold reads before
 * its first day, however long the history.
 */
export const SESSION_LOOKBACK_MS = DAY_MS;

/** Fleet rows kept: the most frequent (prev1, tool) pairs. Bounds memory in every engine. */
export const FLEET_ROW_CAP = 200_000;

/** Days folded by one query: longer windows sort more at once, shorter ones re-read more look-back. */
export const FOLD_WINDOW_DAYS = 7;

export interface FoldResult {
  /** UTC day starts (epoch ms) whose transitions were inserted, oldest first. */
  days: number[];
  /** Rows inserted (identity × transition × day). */
  rows: number;
  /** The watermark afterwards: the last folded day, null when nothing was ever folded. */
  through: number | null;
}

/** The last two events before a session's day, for a replay that starts mid-session. */
export interface SessionTailStep {
  identity_id: string;
  session: string;
  tool: string;
  event_id: string;
  ts: number;
}

/** The UTC day of each identity's cut (a ClickHouse Date), from `{ids}` and `{cuts}`. */
const CUT_DAY = `toDate(fromUnixTimestamp64Milli(toInt64(transform(identity_id, {ids:Array(String)}, {cuts:Array(Float64)}, 0.0)), 'UTC'))`;

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export class Transitions {
  constructor(private readonly ch: SqlGateway) {}

  /**
   * Transitions (grouped per identity, prev2, prev1, tool, day) of the session events from
   * `{from:DateTime64(3)}` on that match `scope` and `until` (fixed fragments with bound
   * parameters; `{start:String}` is SESSION_START, `{lookback_s:UInt32}` SESSION_LOOKBACK_MS
   * in seconds). One window over each session gives every event its two predecessors; a
   * predecessor older than the start of the event's day minus the look-back does not count
   * (the step is a session start), so a range of many days computes exactly what one query
   * per day would, and the events read before `from` are only the look-back's.
   */
  private transitionsSql(scope: string, until: string): string {
    const actions = this.ch.table('actions');
    const recent = (ts: string): string =>
      `${ts} >= toStartOfDay(ts) - toIntervalSecond({lookback_s:UInt32})`;
    return `
      SELECT identity_id, prev2, prev1, tool, day, count() AS events
      FROM (
        SELECT identity_id, tool, toDate(ts) AS day,
               if(${recent('p1_ts')}, p1, {start:String}) AS prev1,
               if(${recent('p2_ts')}, p2, {start:String}) AS prev2
        FROM (
          SELECT identity_id, ts, toString(tool) AS tool,
                 lagInFrame(toString(tool), 1, {start:String}) OVER w AS p1,
                 lagInFrame(ts, 1, toDateTime64(0, 3, 'UTC')) OVER w AS p1_ts,
                 lagInFrame(toString(tool), 2, {start:String}) OVER w AS p2,
                 lagInFrame(ts, 2, toDateTime64(0, 3, 'UTC')) OVER w AS p2_ts
          FROM ${actions} FINAL
          WHERE session != '' AND (${scope}) AND (${until})
            AND ts >= {from:DateTime64(3)} - toIntervalSecond({lookback_s:UInt32})
          WINDOW w AS (PARTITION BY identity_id, session ORDER BY ts, event_id
                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
        )
        WHERE ts >= {from:DateTime64(3)}
      )
      GROUP BY identity_id, prev2, prev1, tool, day`;
  }

  /** The last folded day (UTC day start, epoch ms), null when nothing was folded yet. */
  async lastFolded(): Promise<number | null> {
    const [row] = await this.ch.query<{ n: number; day: number }>(
      `SELECT toFloat64(count()) AS n, toFloat64(toUnixTimestamp(toDateTime(max(day), 'UTC'))) * 1000 AS day
       FROM ${this.ch.table('baseline_transitions_folded')}`,
    );
    return row && row.n > 0 ? row.day : null;
  }

  /**
   * Folds every complete day after the last folded one, up to `throughDay` (a UTC day start,
   * exclusive; a later time is taken as its day's start). Days go in windows of up to
   * FOLD_WINDOW_DAYS, each one INSERT … SELECT computed by the server (the rows never travel
   * through this process; one query over a week costs about a third of seven one-day ones),
   * and the watermark moves after each window. Readers never count rows past the watermark,
   * so a fold interrupted between an insert and its watermark left rows nobody reads: the
   * next fold removes them before it starts, and every day is counted once however often a
   * fold is interrupted. The first fold starts at the first day with session events.
   *
   * Events that arrive for a day after it was folded are not counted: pass a `throughDay`
   * that leaves ingest lag behind (e.g. yesterday's start when events arrive within a day).
   */
  async fold(throughDay: number): Promise<FoldResult> {
    const end = startOfDay(throughDay);
    const last = await this.lastFolded();
    const start = last === null ? await this.firstSessionDay(end) : last + DAY_MS;
    const result: FoldResult = { days: [], rows: 0, through: last };
    if (start === null || start >= end) return result;

    await this.removeUnfolded(start);
    const days = (
      await this.ch.query<{ day: number }>(
        `SELECT DISTINCT toFloat64(toUnixTimestamp(toDateTime(toDate(ts), 'UTC'))) * 1000 AS day
         FROM ${this.ch.table('actions')}
         WHERE session != '' AND ts >= {from:DateTime64(3)} AND ts < {to:DateTime64(3)}
         ORDER BY day`,
        { from: dt(start), to: dt(end) },
      )
    ).map((d) => d.day);
    for (let from = start; from < end; from += FOLD_WINDOW_DAYS * DAY_MS) {
      const to = Math.min(end, from + FOLD_WINDOW_DAYS * DAY_MS);
      const inWindow = days.filter((d) => d >= from && d < to);
      if (inWindow.length === 0) continue;
      await this.ch.command(
        `INSERT INTO ${this.ch.table('baseline_transitions')} (identity_id, prev2, prev1, tool, day, events)
         SELECT identity_id, prev2, prev1, tool, day, events
         FROM (${this.transitionsSql('1', 'ts < {to:DateTime64(3)}')})`,
        { from: dt(from), to: dt(to), lookback_s: SESSION_LOOKBACK_MS / 1000, start: SESSION_START },
        // Exactness comes from removing unfolded rows, not from deduplication: a window folded
        // again after that removal must not be dropped as a repeat of the rows removed. The
        // SELECT groups by the table's whole key, so there is nothing to merge on insert.
        { insert_deduplicate: 0, optimize_on_insert: 0 },
      );
      const [inserted] = await this.ch.query<{ n: number }>(
        `SELECT toFloat64(count()) AS n FROM ${this.ch.table('baseline_transitions')}
         WHERE day >= toDate({from:DateTime64(3)}) AND day < toDate({to:DateTime64(3)})`,
        { from: dt(from), to: dt(to) },
      );
      await this.markFolded(to - DAY_MS);
      result.through = to - DAY_MS;
      result.days.push(...inWindow);
      result.rows += inserted?.n ?? 0;
    }
    // Days without session events are complete too: the watermark moves past them.
    const lastDay = end - DAY_MS;
    if (result.through !== lastDay) await this.markFolded(lastDay);
    result.through = lastDay;
    return result;
  }

  /** Rows of days past the watermark: what an interrupted fold inserted before recording it. */
  private async removeUnfolded(from: number): Promise<void> {
    const table = this.ch.table('baseline_transitions');
    const params = { from: dt(from) };
    const [left] = await this.ch.query<{ n: number }>(
      `SELECT toFloat64(count()) AS n FROM ${table} WHERE day >= toDate({from:DateTime64(3)})`,
      params,
    );
    if ((left?.n ?? 0) > 0)
      await this.ch.command(`DELETE FROM ${table} WHERE day >= toDate({from:DateTime64(3)})`, params);
  }

  private async markFolded(day: number): Promise<void> {
    await this.ch.insert('baseline_transitions_folded', [{ day: isoDay(day), folded_at: Date.now() }]);
  }

  private async firstSessionDay(before: number): Promise<number | null> {
    const [row] = await this.ch.query<{ n: number; day: number }>(
      `SELECT toFloat64(count()) AS n, toFloat64(toUnixTimestamp(toDateTime(toDate(min(ts)), 'UTC'))) * 1000 AS day
       FROM ${this.ch.table('actions')} WHERE session != '' AND ts < {before:DateTime64(3)}`,
      { before: dt(before) },
    );
    return row && row.n > 0 ? row.day : null;
  }

  /**
   * Each identity's transitions strictly before the UTC day of its cut, summed over days:
   * folded days up to the watermark, and later days before the cut's day computed live from
   * `actions` (the same computation). Rows sorted by identity, prev1, prev2, tool.
   */
  async asOf(cuts: ReadonlyMap<string, number>): Promise<TransitionRow[]> {
    if (cuts.size === 0) return [];
    const last = await this.lastFolded();
    const liveFrom = last === null ? 0 : last + DAY_MS;
    const liveNeeded = startOfDay(Math.max(...cuts.values())) > liveFrom;
    const params = {
      ids: [...cuts.keys()],
      cuts: [...cuts.values()],
      from: dt(liveFrom),
      lookback_s: SESSION_LOOKBACK_MS / 1000,
      start: SESSION_START,
    };
    const folded = `
      SELECT identity_id, prev2, prev1, tool, events FROM ${this.ch.table('baseline_transitions')}
      WHERE identity_id IN {ids:Array(String)} AND day < ${CUT_DAY} AND day < toDate({from:DateTime64(3)})`;
    const live = `
      SELECT identity_id, prev2, prev1, tool, events FROM (${this.transitionsSql(
        'identity_id IN {ids:Array(String)}',
        `toDate(ts) < ${CUT_DAY}`,
      )})`;
    return this.ch.query<TransitionRow>(
      `SELECT identity_id, toString(prev2) AS prev2, toString(prev1) AS prev1, toString(tool) AS tool,
              toFloat64(sum(events)) AS count
       FROM (${liveNeeded ? `${folded} UNION ALL ${live}` : folded})
       GROUP BY identity_id, prev2, prev1, tool
       ORDER BY identity_id, prev1, prev2, tool`,
      params,
    );
  }

  /**
   * The fleet's bigram-level counts before `before`'s UTC day: every identity's transitions
   * summed over identities and prev2 (identity_id FLEET_IDENTITY, prev2 ANY_PREV), folded and
   * live as in `asOf`. Capped at the FLEET_ROW_CAP most frequent (prev1, tool) pairs: the
   * rarest pairs of a very large fleet are dropped, which only makes the fleet levels of the
   * model a little less sure of them (they fall back to the unigram).
   */
  async fleet(before: number): Promise<TransitionRow[]> {
    const cutDay = startOfDay(before);
    const last = await this.lastFolded();
    const liveFrom = last === null ? 0 : last + DAY_MS;
    const params = {
      from: dt(liveFrom),
      lookback_s: SESSION_LOOKBACK_MS / 1000,
      to: dt(cutDay),
      start: SESSION_START,
      any: ANY_PREV,
      fleet: FLEET_IDENTITY,
      cap: FLEET_ROW_CAP,
    };
    const folded = `
      SELECT prev1, tool, events FROM ${this.ch.table('baseline_transitions')}
      WHERE day < toDate({to:DateTime64(3)}) AND day < toDate({from:DateTime64(3)})`;
    const live = `
      SELECT prev1, tool, events FROM (${this.transitionsSql('1', 'ts < {to:DateTime64(3)}')})`;
    return this.ch.query<TransitionRow>(
      `SELECT {fleet:String} AS identity_id, {any:String} AS prev2, toString(prev1) AS prev1,
              toString(tool) AS tool, toFloat64(sum(events)) AS count
       FROM (${cutDay > liveFrom ? `${folded} UNION ALL ${live}` : folded})
       GROUP BY prev1, tool
       ORDER BY count DESC, prev1, tool
       LIMIT {cap:UInt32}`,
      params,
    );
  }

  /**
   * For a replay of each identity's cut day (ActionsRepository.before) and the events after
   * it: the last two events before that day of every session the identity continued on or
   * after its cut day, oldest first per session, so the first transitions replayed or judged
   * get their real predecessors.
   */
  async sessionTails(cuts: ReadonlyMap<string, number>): Promise<SessionTailStep[]> {
    if (cuts.size === 0) return [];
    const actions = this.ch.table('actions');
    const ids = [...cuts.keys()];
    const continued = `identity_id IN {ids:Array(String)} AND session != '' AND toDate(ts) >= ${CUT_DAY}`;
    return this.ch.query<SessionTailStep>(
      `SELECT identity_id, session, tool, event_id, toFloat64(toUnixTimestamp64Milli(t)) AS ts FROM (
         SELECT identity_id, session, toString(tool) AS tool, event_id, ts AS t
         FROM ${actions} FINAL
         WHERE identity_id IN {ids:Array(String)} AND session != '' AND toDate(ts) < ${CUT_DAY}
           AND ts >= fromUnixTimestamp64Milli(toInt64(transform(identity_id, {ids:Array(String)}, {cuts:Array(Float64)}, 0.0)), 'UTC') - toIntervalDay(1)
           AND (identity_id, session) IN (SELECT identity_id, session FROM ${actions} WHERE ${continued})
         ORDER BY identity_id, session, t DESC, event_id DESC
         LIMIT 2 BY identity_id, session)
       ORDER BY identity_id, session, ts, event_id`,
      { ids, cuts: [...cuts.values()] },
    );
  }
}
