import { startOfDay } from '../../common/time.js';
import { ANY_PREV, SESSION_START, type TransitionRow } from '../../model/transitions.js';

/**
 * A smoothed second-order Markov model of an identity's tool sequences: P(tool | prev2, prev1)
 * for "the next tool of a session, given the two before it". Pure and deterministic: counts in,
 * probabilities out, no clock, no randomness, no I/O.
 *
 * Smoothing is interpolated Witten–Bell along the chain
 *
 *   identity trigram (prev2, prev1) → identity bigram (prev1) → fleet bigram (prev1)
 *     → fleet unigram → uniform over the vocabulary + 1 (one bucket for "a tool never seen")
 *
 * where at every level with N observations and T distinct successors
 *
 *   P(w) = (c(w) + T · P_lower(w)) / (N + T)      (P_lower alone when N = 0).
 *
 * T / (N + T) is the level's estimate that the next step is something it has not seen yet from
 * that history: a history always followed by the same tool keeps almost all mass on it, one
 * with many different successors leaves much to the lower levels. Each level is a mixture of a
 * distribution and the lower one, so the probabilities over vocabulary ∪ {unknown} sum to 1
 * for every history and are never 0.
 *
 * The fleet is every identity, the scored one included: callers pass the fleet's counts as
 * they are and subtract nothing. Its own share of the fleet is small when the fleet is large;
 * when the identity is alone, the fleet levels simply repeat its own bigrams one level lower.
 *
 * The vocabulary is the union of the fleet's and the identity's tools (they are the same when
 * the fleet includes the identity, as it should). Every tool outside it gets the probability
 * of the "unknown" bucket.
 */

const LN2 = Math.LN2;

/** The successors of one history: how often each tool followed it, and the total. */
class Successors {
  total = 0;
  readonly counts = new Map<string, number>();

  add(tool: string, n: number): void {
    this.total += n;
    this.counts.set(tool, (this.counts.get(tool) ?? 0) + n);
  }
}

/** What a history's successors look like from outside (no mutation). */
export interface SuccessorView {
  readonly total: number;
  readonly counts: ReadonlyMap<string, number>;
}

interface CachedEntropy {
  fleet: TransitionCounts;
  fleetRevision: number;
  bits: number;
}

/**
 * Transition counts of one scope: one identity, or the fleet. Nested maps keyed by prev1, then
 * prev2 (no key strings built per lookup). Bigram and unigram counts are kept alongside the
 * trigrams as they are added, so every lookup is a couple of map reads.
 */
export class TransitionCounts {
  /** prev1 → prev2 → successors. */
  private readonly tri = new Map<string, Map<string, Successors>>();
  /** prev1 → successors. */
  private readonly bi = new Map<string, Successors>();
  private readonly uni = new Successors();
  private revisionNo = 0;

  /** Entropy of the predictive distribution per history (prev1 → prev2), see expectedSurprisal. */
  private readonly entropies = new Map<string, Map<string, CachedEntropy>>();
  /** |own vocabulary ∪ fleet vocabulary|, for the fleet and revisions it was computed with. */
  private union: {
    fleet: TransitionCounts;
    fleetRevision: number;
    ownRevision: number;
    size: number;
  } | null = null;
  /** When this is the fleet: Σ p·ln p of the unigram level over a vocabulary of the key's size. */
  private readonly unigramTerms = new Map<number, number>();

  /**
   * `trigrams: false` keeps bigram and unigram counts only (prev2 is ignored and trigram
   * lookups find nothing): the fleet's shape, which the model reads at those levels only.
   */
  constructor(private readonly options: { trigrams: boolean } = { trigrams: true }) {}

  /** Changes with every add: caches computed from these counts compare it. */
  get revision(): number {
    return this.revisionNo;
  }

  add(prev2: string, prev1: string, tool: string, n = 1): void {
    if (!Number.isFinite(n) || n < 0)
      throw new Error(`transition count must be a finite number ≥ 0, got ${n}`);
    if (n === 0) return;
    // A tool new to this scope changes the vocabulary, which every history's distribution
    // depends on; otherwise only histories ending in prev1 (their bigram level) change.
    // (Checked before touching: most counts never had an entropy computed, and this runs for
    // every event.)
    if (this.entropies.size > 0) {
      if (this.uni.counts.has(tool)) this.entropies.delete(prev1);
      else this.entropies.clear();
    }
    if (this.unigramTerms.size > 0) this.unigramTerms.clear();
    if (this.options.trigrams) {
      let byPrev2 = this.tri.get(prev1);
      if (byPrev2 === undefined) {
        byPrev2 = new Map();
        this.tri.set(prev1, byPrev2);
      }
      let triSucc = byPrev2.get(prev2);
      if (triSucc === undefined) {
        triSucc = new Successors();
        byPrev2.set(prev2, triSucc);
      }
      triSucc.add(tool, n);
    }
    let biSucc = this.bi.get(prev1);
    if (biSucc === undefined) {
      biSucc = new Successors();
      this.bi.set(prev1, biSucc);
    }
    biSucc.add(tool, n);
    this.uni.add(tool, n);
    this.revisionNo += 1;
  }

  addRow(row: TransitionRow): void {
    this.add(row.prev2, row.prev1, row.tool, row.count);
  }

  addRows(rows: readonly TransitionRow[]): this {
    for (const row of rows) this.addRow(row);
    return this;
  }

  /** Successors of (prev2, prev1); undefined when never seen. */
  trigram(prev2: string, prev1: string): SuccessorView | undefined {
    return this.tri.get(prev1)?.get(prev2);
  }

  /** Successors of prev1 (summed over prev2); undefined when never seen. */
  bigram(prev1: string): SuccessorView | undefined {
    return this.bi.get(prev1);
  }

  /** Every tool with its count (all transitions into it, session starts included). */
  unigram(): SuccessorView {
    return this.uni;
  }

  trigramCount(prev2: string, prev1: string, tool: string): number {
    return this.tri.get(prev1)?.get(prev2)?.counts.get(tool) ?? 0;
  }

  bigramCount(prev1: string, tool: string): number {
    return this.bi.get(prev1)?.counts.get(tool) ?? 0;
  }

  unigramCount(tool: string): number {
    return this.uni.counts.get(tool) ?? 0;
  }

  /** How often this scope left the history (prev2, prev1). */
  trigramTotal(prev2: string, prev1: string): number {
    return this.tri.get(prev1)?.get(prev2)?.total ?? 0;
  }

  /** How often this scope left prev1, whatever came before it. */
  bigramTotal(prev1: string): number {
    return this.bi.get(prev1)?.total ?? 0;
  }

  /** All transitions counted (= events in sessions). */
  get total(): number {
    return this.uni.total;
  }

  /** Distinct tools that followed (prev2, prev1): Witten–Bell's T. */
  trigramDistinct(prev2: string, prev1: string): number {
    return this.tri.get(prev1)?.get(prev2)?.counts.size ?? 0;
  }

  bigramDistinct(prev1: string): number {
    return this.bi.get(prev1)?.counts.size ?? 0;
  }

  hasTool(tool: string): boolean {
    return this.uni.counts.has(tool);
  }

  get vocabularySize(): number {
    return this.uni.counts.size;
  }

  /** The tools of this scope, sorted. */
  vocabulary(): string[] {
    return [...this.uni.counts.keys()].sort();
  }

  /** Back to rows (identity_id as given), sorted by prev1, prev2, tool: for tests and snapshots. */
  rows(identityId: string): TransitionRow[] {
    const out: TransitionRow[] = [];
    for (const [prev1, byPrev2] of this.tri)
      for (const [prev2, succ] of byPrev2)
        for (const [tool, count] of succ.counts)
          out.push({ identity_id: identityId, prev2, prev1, tool, count });
    return out.sort(compareRows);
  }

  /** |this vocabulary ∪ fleet vocabulary|, cached until either changes. */
  unionVocabularySize(fleet: TransitionCounts): number {
    const u = this.union;
    if (u?.fleet === fleet && u.fleetRevision === fleet.revisionNo && u.ownRevision === this.revisionNo)
      return u.size;
    let size = fleet.uni.counts.size;
    if (fleet !== this) for (const tool of this.uni.counts.keys()) if (!fleet.uni.counts.has(tool)) size += 1;
    this.union = { fleet, fleetRevision: fleet.revisionNo, ownRevision: this.revisionNo, size };
    return size;
  }

  /** @internal the cached entropy of a history, when still valid for this fleet. */
  cachedEntropy(fleet: TransitionCounts, prev2: string, prev1: string): number | undefined {
    const entry = this.entropies.get(prev1)?.get(prev2);
    return entry?.fleet === fleet && entry.fleetRevision === fleet.revisionNo ? entry.bits : undefined;
  }

  /** @internal */
  cacheEntropy(fleet: TransitionCounts, prev2: string, prev1: string, bits: number): void {
    let byPrev2 = this.entropies.get(prev1);
    if (byPrev2 === undefined) {
      byPrev2 = new Map();
      this.entropies.set(prev1, byPrev2);
    }
    byPrev2.set(prev2, { fleet, fleetRevision: fleet.revisionNo, bits });
  }

  /**
   * @internal As the fleet: Σ p·ln p over vocabulary ∪ {unknown} of the unigram level
   * (fleet unigram smoothed with the uniform floor) for a vocabulary of `v` tools.
   */
  unigramTerm(v: number): number {
    const cached = this.unigramTerms.get(v);
    if (cached !== undefined) return cached;
    const p0 = 1 / (v + 1);
    const n = this.uni.total;
    const t = this.uni.counts.size;
    let sum: number;
    if (n === 0) sum = Math.log(p0);
    else {
      sum = 0;
      for (const c of this.uni.counts.values()) {
        const p = (c + t * p0) / (n + t);
        sum += p * Math.log(p);
      }
      // Tools of the vocabulary the fleet never saw, and the unknown bucket: the floor's share.
      const q = (t * p0) / (n + t);
      sum += (v - t + 1) * q * Math.log(q);
    }
    this.unigramTerms.set(v, sum);
    return sum;
  }
}

function compareRows(a: TransitionRow, b: TransitionRow): number {
  return (
    compareStrings(a.identity_id, b.identity_id) ||
    compareStrings(a.prev1, b.prev1) ||
    compareStrings(a.prev2, b.prev2) ||
    compareStrings(a.tool, b.tool)
  );
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One Witten–Bell level over a lower distribution's probability of the same tool. */
function mix(succ: SuccessorView | undefined, tool: string, lower: number): number {
  if (succ === undefined || succ.total === 0) return lower;
  const t = succ.counts.size;
  return ((succ.counts.get(tool) ?? 0) + t * lower) / (succ.total + t);
}

/** A level's weight on the level below: T / (N + T), 1 when it saw nothing. */
function backoff(succ: SuccessorView | undefined): number {
  if (succ === undefined || succ.total === 0) return 1;
  const t = succ.counts.size;
  return t / (succ.total + t);
}

/**
 * P(tool | prev2, prev1) for this identity. Any tool outside the vocabulary gets the unknown
 * bucket's probability.
 */
export function probability(
  identity: TransitionCounts,
  fleet: TransitionCounts,
  prev2: string,
  prev1: string,
  tool: string,
): number {
  const p0 = 1 / (identity.unionVocabularySize(fleet) + 1);
  const p1 = mix(fleet.unigram(), tool, p0);
  const p2 = mix(fleet.bigram(prev1), tool, p1);
  const p3 = mix(identity.bigram(prev1), tool, p2);
  return mix(identity.trigram(prev2, prev1), tool, p3);
}

/**
 * P(tool) for this identity regardless of where in a session: its unigram over the fleet's
 * unigram over the uniform floor (Witten–Bell as above). What the tool costs without context:
 * `surprisal − baseSurprisal` is how much less likely the *order* makes it (its pointwise
 * mutual information with the history, negated), apart from how rare the tool is anyway.
 */
export function baseProbability(identity: TransitionCounts, fleet: TransitionCounts, tool: string): number {
  const p0 = 1 / (identity.unionVocabularySize(fleet) + 1);
  return mix(identity.unigram(), tool, mix(fleet.unigram(), tool, p0));
}

/** −log2 P(tool | prev2, prev1): the step's cost in bits. */
export function surprisal(
  identity: TransitionCounts,
  fleet: TransitionCounts,
  prev2: string,
  prev1: string,
  tool: string,
): number {
  return -Math.log2(probability(identity, fleet, prev2, prev1, tool));
}

/**
 * The entropy (bits) of the predictive distribution from (prev2, prev1): what a next step from
 * this history costs this identity on average. A step's excess over it says how much more
 * surprising it is than the identity's typical step from the same place, which is what makes
 * an identity with fixed routines and one with varied work comparable.
 *
 * Exact over vocabulary ∪ {unknown}, in time proportional to the history's successors: every
 * tool that never followed prev1 (for the identity or the fleet) gets the fleet unigram's
 * probability times the same product of backoff weights, so their part of the sum follows
 * from one per-fleet sum over the vocabulary (cached on the fleet). Cached per history; the
 * cache is dropped for the histories an add changes.
 */
export function expectedSurprisal(
  identity: TransitionCounts,
  fleet: TransitionCounts,
  prev2: string,
  prev1: string,
): number {
  const cached = identity.cachedEntropy(fleet, prev2, prev1);
  if (cached !== undefined) return cached;
  const v = identity.unionVocabularySize(fleet);
  const p0 = 1 / (v + 1);
  const uni = fleet.unigram();
  const fleetBi = fleet.bigram(prev1);
  const idBi = identity.bigram(prev1);
  const idTri = identity.trigram(prev2, prev1);

  const seen = new Set<string>();
  for (const succ of [idTri, idBi, fleetBi]) if (succ) for (const tool of succ.counts.keys()) seen.add(tool);

  let sumPlnP = 0;
  let sumP1 = 0;
  let sumP1lnP1 = 0;
  for (const tool of seen) {
    const p1 = mix(uni, tool, p0);
    const p = mix(idTri, tool, mix(idBi, tool, mix(fleetBi, tool, p1)));
    sumPlnP += p * Math.log(p);
    sumP1 += p1;
    sumP1lnP1 += p1 * Math.log(p1);
  }
  // Every other tool (and the unknown bucket): p = B · p1 with B the product of backoffs.
  const b = backoff(idTri) * backoff(idBi) * backoff(fleetBi);
  const restP1 = Math.max(0, 1 - sumP1);
  if (b > 0 && restP1 > 0) sumPlnP += b * Math.log(b) * restP1 + b * (fleet.unigramTerm(v) - sumP1lnP1);
  const bits = Math.max(0, -sumPlnP / LN2);
  identity.cacheEntropy(fleet, prev2, prev1, bits);
  return bits;
}

/**
 * The step's p-value under the identity's model: the probability of a next step the identity
 * has taken from prev1 at most as often as this one (for a step it never took from there, the
 * probability of any step new to it from there). It answers "how often does this identity do
 * something this unfamiliar from here", which is what a new step is evidence against: an
 * identity that always follows prev1 with the same tool leaves little room (a new step is
 * news), one whose next step varies leaves much (a new step is routine). How rare the new
 * tool is elsewhere does not enter: among steps the identity never took, the model's ordering
 * rests on the fleet's unigram, which says how common a tool is, not how unexpected the step.
 * Read from the identity's own departures from prev1 alone, Witten–Bell's escape T / (N + T)
 * standing for "a step new from here": the trigram level rests on a subset of the same
 * departures and the fleet levels include them, so chaining their escape weights would count
 * that evidence two or three times (a session's first step has the same history at every
 * level) and promise p-values far below the identity's real rate of new steps. The fleet's
 * say is the score's peer damping.
 */
export function tailProbability(identity: TransitionCounts, prev1: string, tool: string): number {
  const own = identity.bigram(prev1);
  if (own === undefined || own.total === 0) return 1;
  const count = own.counts.get(tool) ?? 0;
  // Witten–Bell at the identity's bigram level alone: T / (N + T) for "a step new from here",
  // c / (N + T) for each known one.
  let tail = own.counts.size;
  for (const c of own.counts.values()) if (c <= count) tail += c;
  return Math.min(1, tail / (own.total + own.counts.size));
}

/** One step judged against the identity's model. */
export interface StepScore {
  /** P(tool | prev2, prev1), smoothed. */
  probability: number;
  /** −log2 probability. */
  surprisal: number;
  /** Entropy from this history: a typical step's surprisal. */
  expected: number;
  /** surprisal − expected: bits more surprising than a typical step from here (may be < 0). */
  excess: number;
  /** −log2 baseProbability: the tool's cost anywhere in the identity's sessions. */
  baseSurprisal: number;
  /** surprisal − baseSurprisal: bits the history adds (> 0: the order makes the tool less likely). */
  lift: number;
  /** The identity went from prev1 to this tool before (whatever came before prev1). */
  seenByIdentity: boolean;
  /** How often the identity left prev1: the evidence its expectations from there rest on. */
  historyCount: number;
  /** How often the identity went prev1 → tool. */
  identityCount: number;
  /** How often the identity left (prev2, prev1), and went on to this tool from there. */
  pairHistoryCount: number;
  pairCount: number;
  /** The identity used this tool at all before. */
  toolKnown: boolean;
  /** Fleet (every identity, this one included): prev1 → tool, and departures from prev1. */
  fleetCount: number;
  fleetHistoryCount: number;
}

export function scoreStep(
  identity: TransitionCounts,
  fleet: TransitionCounts,
  prev2: string,
  prev1: string,
  tool: string,
): StepScore {
  const p = probability(identity, fleet, prev2, prev1, tool);
  const s = -Math.log2(p);
  const expected = expectedSurprisal(identity, fleet, prev2, prev1);
  const identityCount = identity.bigramCount(prev1, tool);
  const base = -Math.log2(baseProbability(identity, fleet, tool));
  return {
    probability: p,
    surprisal: s,
    expected,
    excess: s - expected,
    baseSurprisal: base,
    lift: s - base,
    seenByIdentity: identityCount > 0,
    historyCount: identity.bigramTotal(prev1),
    identityCount,
    pairHistoryCount: identity.trigramTotal(prev2, prev1),
    pairCount: identity.trigramCount(prev2, prev1, tool),
    toolKnown: identity.hasTool(tool),
    fleetCount: fleet.bigramCount(prev1, tool),
    fleetHistoryCount: fleet.bigramTotal(prev1),
  };
}

export interface PredictedStep {
  tool: string;
  probability: number;
  /** How often the identity went prev1 → tool. */
  count: number;
}

/**
 * The identity's usual next tools from (prev2, prev1): every tool it went to from prev1 (or
 * from the pair), most probable first under the model, ties by name; at most `limit`.
 */
export function predictNext(
  identity: TransitionCounts,
  fleet: TransitionCounts,
  prev2: string,
  prev1: string,
  limit = 5,
): PredictedStep[] {
  const tools = new Set<string>();
  for (const succ of [identity.trigram(prev2, prev1), identity.bigram(prev1)])
    if (succ) for (const tool of succ.counts.keys()) tools.add(tool);
  return [...tools]
    .map((tool) => ({
      tool,
      probability: probability(identity, fleet, prev2, prev1, tool),
      count: identity.bigramCount(prev1, tool),
    }))
    .sort((a, b) => b.probability - a.probability || compareStrings(a.tool, b.tool))
    .slice(0, limit);
}

/** The smallest slice of the fields of a stored event a transition needs. */
export interface SequencedEvent {
  identity_id: string;
  session: string;
  ts: number;
  event_id: string;
  tool: string;
}

/** One transition: an event with the two tools before it in its session. */
export interface Transition {
  identity_id: string;
  prev2: string;
  prev1: string;
  tool: string;
  event_id: string;
  ts: number;
}

/**
 * Every event's transition, the reference the stored fold (storage/transitions.ts) must agree
 * with: per (identity, session), events in (ts, event_id) order, each one a transition from the
 * two tools before it (SESSION_START where there are fewer). Events with an empty session
 * form no transitions. A predecessor more than `lookbackMs` before the start of the event's
 * UTC day does not count (the session is taken to start afresh). Output in (identity,
 * session, ts, event_id) order.
 */
export function transitionsOf(events: readonly SequencedEvent[], lookbackMs = Infinity): Transition[] {
  const sessions = new Map<string, Map<string, SequencedEvent[]>>();
  for (const e of events) {
    if (e.session === '') continue;
    let byId = sessions.get(e.identity_id);
    if (byId === undefined) {
      byId = new Map();
      sessions.set(e.identity_id, byId);
    }
    const list = byId.get(e.session);
    if (list) list.push(e);
    else byId.set(e.session, [e]);
  }
  const out: Transition[] = [];
  for (const identity of [...sessions.keys()].sort(compareStrings)) {
    const byId = sessions.get(identity);
    if (!byId) continue;
    for (const session of [...byId.keys()].sort(compareStrings)) {
      const list = [...(byId.get(session) ?? [])].sort(
        (a, b) => a.ts - b.ts || compareStrings(a.event_id, b.event_id),
      );
      for (const [i, e] of list.entries()) {
        const oldest = startOfDay(e.ts) - lookbackMs;
        const before = (k: number): string => {
          const p = list[i - k];
          return p !== undefined && p.ts >= oldest ? p.tool : SESSION_START;
        };
        out.push({
          identity_id: identity,
          prev2: before(2),
          prev1: before(1),
          tool: e.tool,
          event_id: e.event_id,
          ts: e.ts,
        });
      }
    }
  }
  return out;
}

/** transitionsOf summed into rows per (identity, prev2, prev1, tool), sorted. */
export function countTransitions(events: readonly SequencedEvent[], lookbackMs = Infinity): TransitionRow[] {
  const counts = new Map<string, TransitionCounts>();
  for (const t of transitionsOf(events, lookbackMs)) {
    let c = counts.get(t.identity_id);
    if (c === undefined) {
      c = new TransitionCounts();
      counts.set(t.identity_id, c);
    }
    c.add(t.prev2, t.prev1, t.tool);
  }
  return [...counts].flatMap(([id, c]) => c.rows(id)).sort(compareRows);
}

/** Rows summed over identities and prev2: the fleet's bigram-level rows (prev2 = ANY_PREV). */
export function fleetRowsOf(rows: readonly TransitionRow[]): TransitionRow[] {
  const fleet = new TransitionCounts();
  for (const r of rows) fleet.add(ANY_PREV, r.prev1, r.tool, r.count);
  return fleet.rows('');
}

/** Integer with thousands separators, locale-free (output must be the same everywhere). */
function groupThousands(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** "1 in N" with N rounded to two significant digits: 1 in 250, 1 in 4,100, 1 in 3.2 million. */
function oneIn(p: number): string {
  const n = 1 / p;
  const digits = Math.floor(Math.log10(n));
  const rounded = digits < 2 ? Math.round(n) : Number(n.toPrecision(2));
  if (rounded >= 1e9) return 'less than 1 in a billion';
  if (rounded >= 1e6) return `about 1 in ${String(Number((rounded / 1e6).toPrecision(2)))} million`;
  return `about 1 in ${groupThousands(rounded)}`;
}

/** A share as a percentage: whole percents from 1%, one significant digit below ("0.3%"). */
export function formatShare(share: number): string {
  if (share <= 0) return '0%';
  if (share >= 0.995) return share >= 1 ? '100%' : '99%';
  const pct = share * 100;
  if (pct >= 1) return `${String(Math.round(pct))}%`;
  if (pct < 0.001) return '<0.001%';
  return `${String(Number(pct.toPrecision(1)))}%`;
}

/** What the counts behind a probability say, for the words around it. */
export interface ProbabilityContext {
  /** How often the identity made this step before. */
  identityCount: number;
  /** Share of the fleet's departures from the same tool that went this way (others, ideally). */
  fleetShare?: number;
}

/**
 * A probability in words: "about 35%", "about 1 in 250", "less than 1 in a billion"; with
 * context, led by what the counts say ("never seen for this identity; 2% across the fleet;
 * model: about 1 in 4,100").
 */
export function describeProbability(p: number, context?: ProbabilityContext): string {
  const words = !(p > 0)
    ? 'impossible'
    : p >= 0.995
      ? 'almost certain'
      : p >= 0.1
        ? `about ${formatShare(p)}`
        : oneIn(p);
  if (context === undefined) return words;
  const parts: string[] = [];
  if (context.identityCount === 0) parts.push('never seen for this identity');
  else
    parts.push(
      `seen ${String(context.identityCount)} time${context.identityCount === 1 ? '' : 's'} for this identity`,
    );
  if (context.fleetShare !== undefined)
    parts.push(
      context.fleetShare > 0
        ? `${formatShare(context.fleetShare)} across the fleet`
        : 'never across the fleet',
    );
  parts.push(`model: ${words}`);
  return parts.join('; ');
}
