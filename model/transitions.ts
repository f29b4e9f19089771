/**
 * Tool transitions: the rows the learned sequence model (`chain.rare_transition`) is built
 * from. A session is the identity's sequence of tools in (ts, event_id) order; every event of
 * a session is one transition into its `tool` from the two tools before it in that session.
 * Stored per identity × (prev2, prev1, tool) × day in `baseline_transitions`, folded from
 * `actions` by storage/transitions.ts; the pure derivation lives in detectors/models/markov.ts.
 * Events with an empty `session` belong to no sequence and form no transitions.
 */

/**
 * "No earlier event in this session": the history of a session's first event is
 * (SESSION_START, SESSION_START), of its second (SESSION_START, first tool). So a session
 * start is a state like any other ("what does this identity start its sessions with").
 */
export const SESSION_START = '^';

/**
 * "Any earlier tool": `prev2` of a bigram-level row, whose counts are summed over prev2 (the
 * fleet rows). Never a real history: a real one is a tool or SESSION_START.
 */
export const ANY_PREV = '';

/** The identity id of fleet rows (summed over every identity). */
export const FLEET_IDENTITY = '';

/**
 * One trigram row: how often `identity_id` called `tool` right after `prev1`, itself right
 * after `prev2`, in the same session. Bigram (prev1 → tool) and unigram (tool) counts are
 * derived by summing.
 */
export interface TransitionRow {
  identity_id: string;
  prev2: string;
  prev1: string;
  tool: string;
  count: number;
}

/** One step of a session as the engine keeps it (its last two are the next step's history). */
export interface SessionStep {
  tool: string;
  event_id: string;
  ts: number;
}
