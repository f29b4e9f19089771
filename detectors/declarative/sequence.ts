import type { DetectorEvent } from '../../model/detector-event.js';
import type { CompiledSequence } from './compile.js';
import type { FieldReader } from './fields.js';

/**
 * Ordered-step matching for one rule in one scope (a session, or an identity): the events that
 * matched each step and each absence are remembered (bounded, newest kept), and an event that
 * matches the last step looks back for a chain. The search prefers the latest candidate for
 * every step: a later start keeps the chain inside `within` and leaves the least room for an
 * absent event (an approval) between steps; it backtracks when `same` constraints or an
 * absence rule out the latest one. Pure: state in, chain out.
 */

export interface Hit {
  /** Position in the detector's event order (strictly increasing). */
  seq: number;
  event: DetectorEvent;
}

/** Candidates kept per step and absences kept per rule and scope. */
export const MAX_CANDIDATES = 16;
export const MAX_ABSENCES = 64;
const SEARCH_BUDGET = 4096;

/** Events that matched a rule's steps (all but the last), per step, newest last. */
export class SequenceState {
  readonly candidates: Hit[][];

  constructor(readonly sequence: CompiledSequence) {
    this.candidates = sequence.steps.slice(0, -1).map(() => []);
  }

  addCandidate(step: number, hit: Hit): void {
    push(this.candidates[step], hit, MAX_CANDIDATES);
  }

  /** Drops what can no longer start a chain ending at `ts`. */
  expire(ts: number): void {
    expireHits(this.candidates, ts - this.sequence.withinMs);
  }

  get empty(): boolean {
    return this.candidates.every((c) => c.length === 0);
  }
}

/**
 * Events that matched a rule's absence clauses, per clause. Kept apart from the steps: in a
 * session the steps are one identity's, but an absent event (an approval) may be anyone's.
 */
export class AbsenceState {
  readonly hits: Hit[][];

  constructor(readonly sequence: CompiledSequence) {
    this.hits = sequence.absent.map(() => []);
  }

  add(clause: number, hit: Hit): void {
    push(this.hits[clause], hit, MAX_ABSENCES);
  }

  expire(ts: number): void {
    expireHits(this.hits, ts - this.sequence.withinMs);
  }

  get empty(): boolean {
    return this.hits.every((h) => h.length === 0);
  }
}

function expireHits(lists: Hit[][], horizon: number): void {
  for (const list of lists) {
    let drop = 0;
    while (drop < list.length && (list[drop]?.event.ts ?? 0) < horizon) drop += 1;
    if (drop > 0) list.splice(0, drop);
  }
}

function push(list: Hit[] | undefined, hit: Hit, max: number): void {
  if (!list) return;
  list.push(hit);
  if (list.length > max) list.shift();
}

function key(readers: readonly FieldReader[], event: DetectorEvent): string {
  return readers.map((r) => [...r(event)].sort().join('\u0001')).join('\u0000');
}

function sameValues(readers: readonly FieldReader[], a: DetectorEvent, b: DetectorEvent): boolean {
  return readers.length === 0 || key(readers, a) === key(readers, b);
}

/** Whether an absence clause is broken (an absent event occurred) for this assignment of steps. */
function absenceBroken(
  sequence: CompiledSequence,
  absences: AbsenceState | undefined,
  chain: readonly Hit[],
  clause: number,
): boolean {
  const rule = sequence.absent[clause];
  const hits = absences?.hits[clause];
  if (!rule || !hits) return false;
  const before = chain[rule.before];
  if (!before) return false;
  const after = rule.after >= 0 ? chain[rule.after] : undefined;
  const fromTs = (chain[chain.length - 1]?.event.ts ?? 0) - sequence.withinMs;
  return hits.some(
    (h) =>
      h.seq < before.seq &&
      (after ? h.seq > after.seq : h.event.ts >= fromTs) &&
      sameValues(rule.same, h.event, before.event),
  );
}

/** Whether the joins between `step` and the later (already chosen) steps hold. */
function joined(sequence: CompiledSequence, chain: readonly Hit[], step: number): boolean {
  for (const j of sequence.joins) {
    if (Math.min(j.left, j.right) !== step) continue;
    const left = chain[j.left];
    const right = chain[j.right];
    if (!left || !right) continue;
    const values = new Set(j.leftField(left.event));
    if (!j.rightField(right.event).some((v) => values.has(v))) return false;
  }
  return true;
}

/**
 * The chain ending with `last`, or null. `last` must already have matched the final step;
 * the state holds earlier events only.
 */
export function completeChain(
  state: SequenceState,
  absences: AbsenceState | undefined,
  last: Hit,
): Hit[] | null {
  const { sequence } = state;
  const n = sequence.steps.length;
  const chain: Hit[] = new Array<Hit>(n);
  chain[n - 1] = last;
  const start = last.event.ts - sequence.withinMs;
  const valid = (): boolean => sequence.absent.every((_, i) => !absenceBroken(sequence, absences, chain, i));
  // Bounded search: candidates are few per step, but an absence that breaks every chain would
  // otherwise try every combination.
  let budget = SEARCH_BUDGET;

  const fill = (step: number): boolean => {
    budget -= 1;
    if (budget < 0) return false;
    if (step < 0) return valid();
    const next = chain[step + 1];
    const candidates = state.candidates[step] ?? [];
    for (let i = candidates.length - 1; i >= 0; i -= 1) {
      const hit = candidates[i];
      if (!hit || !next || hit.seq >= next.seq || hit.event.ts < start) continue;
      if (!sameValues(sequence.same, hit.event, last.event)) continue;
      chain[step] = hit;
      if (!joined(sequence, chain, step)) continue;
      if (fill(step - 1)) return true;
    }
    return false;
  };
  return fill(n - 2) ? chain : null;
}
