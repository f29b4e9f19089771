import type { BaselineFacts } from '../../model/finding.js';
import { SESSION_START, type SessionStep } from '../../model/transitions.js';
import {
  describeProbability,
  formatShare,
  tailProbability,
  predictNext,
  scoreStep,
  type PredictedStep,
  type StepScore,
  type TransitionCounts,
} from '../models/markov.js';
import { clamp01, roundScore, severityFromScore, type CitedEvent, type Detector } from '../types.js';

/**
 * `chain.rare_transition`, the pure core: is this step of a session improbable for this
 * identity, relative to its own typical steps from the same place? A hijacked or injected
 * agent reuses its usual tools in an order its work never produces (read a secret, then post
 * it; list the repositories, then delete one). The identity's sessions are modelled as a
 * smoothed second-order Markov chain (detectors/models/markov.ts); the engine keeps the counts
 * and the last two steps of each session and calls `judgeSession` for each event, then
 * `learnStep`.
 *
 * What it takes to fire, each for a reason that holds whatever the data:
 * - the identity knows the tool (a never-used tool is `scope.new_tool`'s finding; this one is
 *   about known tools in a new order) — `knownToolsOnly`;
 * - the identity has left the previous tool (or started a session) at least `minHistory`
 *   times: below that, "it never went from here to there" is no evidence of anything;
 * - it went from the previous tool to this one at most `maxSeen` times before (by default
 *   never): a step it has taken is part of its work, however rare;
 * - the step is at least `minExcessBits` more surprising than the identity's typical step
 *   from the same history (surprisal − entropy). Relative, not absolute: an identity that
 *   does something different after every tool has a high entropy, and a new order there says
 *   less than one from a history that is always followed by the same tool;
 * - the step is at least `minLiftBits` less likely here than the tool is anywhere in the
 *   identity's sessions (surprisal − the tool's context-free surprisal). A rare tool is rare
 *   after anything: without this, an identity whose tools follow no order (any tool after any
 *   other, a few of them rare) would be flagged for every rare tool after a common one, since
 *   a rare tool's surprisal exceeds the average step's cost wherever it happens. This keeps
 *   the finding about the order.
 * - the session is improbable as a whole: the step's p-value (the model's probability of a
 *   step this unlikely or worse from the same history, `tailProbability`) over all the steps
 *   of the session so far, 1 − (1 − p)^k for a session at its k-th step, is at most `alpha`.
 *   An agent that improvises takes a never-seen step in many sessions, and its model says so
 *   (much probability left for unseen successors): one more such step is then no evidence.
 *   Counting the session's steps keeps a long session from being judged k times at the
 *   one-step level. Under the identity's own model, sessions like its history are flagged at
 *   a rate of about `alpha`, whatever its routines: the threshold is a false-alarm rate, not
 *   a fitted constant.
 * The score maps the session's surprisal (−log2 of its p-value) smoothly onto 0..1
 * (s / (s + halfScoreBits): 0.5 when the session is 2^halfScoreBits times rarer than one in
 * two) and is damped by the share
 * of the other identities' departures from the previous tool that went this way (peer backoff:
 * a transition common across the fleet is a workflow this identity had not needed yet, not a
 * sign of a hijack). None of the defaults is fitted to a data set; each is a round number with
 * the meaning given at its field.
 */

export type RareTransitionConfig = {
  /** Departures from the previous tool (or session starts) the identity needs before a step from there is judged. */
  minHistory: number;
  /** A step taken more often than this from the previous tool is the identity's own. */
  maxSeen: number;
  /** Bits more surprising than a typical step from the same history (2^6 = 64 times less likely). */
  minExcessBits: number;
  /** Bits less likely here than the tool is anywhere in the identity's sessions (2^6 = 64 times). */
  minLiftBits: number;
  /** Largest session p-value raised (the false-alarm rate per session the model promises). */
  alpha: number;
  /** Session surprisal (bits) at which the score is 0.5 (2^10: one session in about a thousand). */
  halfScoreBits: number;
  /** Findings below this score (after peer damping) are not raised. */
  minScore: number;
  /** Leave tools the identity never used to scope.new_tool. */
  knownToolsOnly: boolean;
  /** How many of the identity's usual next tools an explanation lists. */
  expectedShown: number;
};

export const DEFAULT_RARE_TRANSITION: RareTransitionConfig = {
  minHistory: 20,
  maxSeen: 0,
  minExcessBits: 6,
  minLiftBits: 6,
  alpha: 0.01,
  halfScoreBits: 10,
  minScore: 0.3,
  knownToolsOnly: true,
  expectedShown: 5,
};

/** Defaults with overrides applied; absent overrides keep the default. */
export function rareTransitionConfig(overrides: Partial<RareTransitionConfig> = {}): RareTransitionConfig {
  return {
    minHistory: overrides.minHistory ?? DEFAULT_RARE_TRANSITION.minHistory,
    maxSeen: overrides.maxSeen ?? DEFAULT_RARE_TRANSITION.maxSeen,
    minExcessBits: overrides.minExcessBits ?? DEFAULT_RARE_TRANSITION.minExcessBits,
    minLiftBits: overrides.minLiftBits ?? DEFAULT_RARE_TRANSITION.minLiftBits,
    alpha: overrides.alpha ?? DEFAULT_RARE_TRANSITION.alpha,
    halfScoreBits: overrides.halfScoreBits ?? DEFAULT_RARE_TRANSITION.halfScoreBits,
    minScore: overrides.minScore ?? DEFAULT_RARE_TRANSITION.minScore,
    knownToolsOnly: overrides.knownToolsOnly ?? DEFAULT_RARE_TRANSITION.knownToolsOnly,
    expectedShown: overrides.expectedShown ?? DEFAULT_RARE_TRANSITION.expectedShown,
  };
}

/** The history a next step is judged from: the last two tools (SESSION_START where fewer). */
export function historyOf(earlier: readonly SessionStep[]): { prev2: string; prev1: string } {
  const n = earlier.length;
  return {
    prev2: n >= 2 ? (earlier[n - 2]?.tool ?? SESSION_START) : SESSION_START,
    prev1: n >= 1 ? (earlier[n - 1]?.tool ?? SESSION_START) : SESSION_START,
  };
}

/**
 * Counts the step into `counts` (the identity's; the engine may add it to its fleet counts
 * too). Call after judging: a step is judged against history strictly before it.
 */
export function learnStep(counts: TransitionCounts, earlier: readonly SessionStep[], tool: string): void {
  const { prev2, prev1 } = historyOf(earlier);
  counts.add(prev2, prev1, tool);
}

/** What the other identities do from prev1: the fleet's counts less this identity's own. */
export interface PeerTransitions {
  /** Others' departures from prev1 that went to the tool. */
  count: number;
  /** Others' departures from prev1. */
  history: number;
  /** count / history (0 when the others never left prev1). */
  share: number;
}

/**
 * The fleet includes the identity, so its own counts are subtracted here (clamped at 0: a
 * fleet loaded for an earlier day, or capped, may hold less than the identity alone).
 */
export function peerTransitions(
  identity: TransitionCounts,
  fleet: TransitionCounts,
  prev1: string,
  tool: string,
): PeerTransitions {
  const history = Math.max(0, fleet.bigramTotal(prev1) - identity.bigramTotal(prev1));
  const count = Math.min(
    history,
    Math.max(0, fleet.bigramCount(prev1, tool) - identity.bigramCount(prev1, tool)),
  );
  return { count, history, share: history > 0 ? count / history : 0 };
}

/**
 * The session's p-value when its k-th step (1-based) has p-value `stepP`: the chance that at
 * least one of k steps is this unlikely.
 */
export function sessionPValue(stepP: number, k: number): number {
  // 1 − (1 − p)^k without cancellation for tiny p.
  return -Math.expm1(Math.max(1, k) * Math.log1p(-Math.min(1, Math.max(0, stepP))));
}

/** The score: the session's surprisal mapped onto 0..1, damped by the peers' share of this transition. */
export function scoreOf(sessionBits: number, peerShare: number, config: RareTransitionConfig): number {
  const e = Math.max(0, sessionBits);
  const raw = e / (e + config.halfScoreBits);
  return roundScore(clamp01(raw * (1 - clamp01(peerShare))));
}

export interface RareTransitionInput {
  identityId: string;
  /** The identity's transition counts, strictly before the current event. */
  identity: TransitionCounts;
  /** Every identity's counts (this one included), e.g. Transitions.fleet(day). */
  fleet: TransitionCounts;
  /** The session's steps before the current one, oldest first; only the last two are read. */
  earlier: readonly SessionStep[];
  /** How many steps the session had before the current one (earlier may hold only the last two). */
  stepsBefore?: number;
  current: SessionStep;
}

/** A step judged improbable: what the engine turns into an observation (it sets the severity). */
export interface RareTransition {
  /** Dedup subject: the transition, `prev1 → tool` (`^` for a session start). */
  subject: string;
  score: number;
  title: string;
  explanation: string;
  facts: BaselineFacts;
  /** The earlier steps of the transition, oldest first (the current event is not among them). */
  cite: CitedEvent[];
  step: StepScore;
  peers: PeerTransitions;
  expectedNext: PredictedStep[];
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));
const code = (tool: string): string => `\`${tool}\``;
const bits = (x: number): string => x.toFixed(Math.abs(x) < 1 ? 2 : 1);

/** "N times" for a likelihood ratio, two significant digits, locale-free. */
function times(ratio: number): string {
  if (ratio >= 1e9) return 'more than a billion times';
  if (ratio >= 1e6) return `about ${String(Number((ratio / 1e6).toPrecision(2)))} million times`;
  const n = ratio >= 100 ? Number(ratio.toPrecision(2)) : Math.round(ratio);
  return `about ${String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',')} times`;
}

/**
 * Judges the current step of a session: null when it is ordinary for this identity (or there
 * is too little history to tell), else the finding's score, words, facts and cited events.
 */
export function judgeSession(
  input: RareTransitionInput,
  config: RareTransitionConfig = DEFAULT_RARE_TRANSITION,
): RareTransition | null {
  const { identity, fleet, current } = input;
  const tool = current.tool;
  const { prev2, prev1 } = historyOf(input.earlier);
  // Cheap gates first: this runs for every event.
  if (config.knownToolsOnly && !identity.hasTool(tool)) return null;
  if (identity.bigramTotal(prev1) < config.minHistory) return null;
  if (identity.bigramCount(prev1, tool) > config.maxSeen) return null;

  // The session's p-value reads the identity's successors of prev1 only; the model's
  // entropy (scoreStep) walks the vocabulary: the cheaper gate first.
  const stepP = tailProbability(identity, prev1, tool);
  const k = (input.stepsBefore ?? input.earlier.length) + 1;
  const sessionP = sessionPValue(stepP, k);
  if (sessionP > config.alpha) return null;
  const step = scoreStep(identity, fleet, prev2, prev1, tool);
  if (step.excess < config.minExcessBits || step.lift < config.minLiftBits) return null;
  const peers = peerTransitions(identity, fleet, prev1, tool);
  const score = scoreOf(-Math.log2(sessionP), peers.share, config);
  if (score < config.minScore) return null;

  const expectedNext = predictNext(identity, fleet, prev2, prev1, config.expectedShown);
  const cite = citedSteps(input.earlier);
  return {
    subject: `${prev1} → ${tool}`,
    score,
    ...describe(input, prev2, prev1, step, peers, expectedNext, { stepP, sessionP, k }),
    facts: {
      prev2,
      prev1,
      tool,
      probability: Number(step.probability.toPrecision(3)),
      surprisal_bits: round(step.surprisal, 2),
      expected_bits: round(step.expected, 2),
      excess_bits: round(step.excess, 2),
      base_surprisal_bits: round(step.baseSurprisal, 2),
      lift_bits: round(step.lift, 2),
      step_p_value: Number(stepP.toPrecision(3)),
      session_p_value: Number(sessionP.toPrecision(3)),
      session_step: k,
      history_from_prev1: step.historyCount,
      history_from_pair: step.pairHistoryCount,
      identity_count: step.identityCount,
      peer_count: peers.count,
      peer_history: peers.history,
      peer_share: round(peers.share, 4),
      expected_next: expectedNext.map((n) => `${n.tool} ${formatShare(n.probability)}`),
      session_steps_before: k - 1,
    },
    cite,
    step,
    peers,
    expectedNext,
  };
}

/** The steps the transition came from (prev2's and prev1's events), oldest first. */
function citedSteps(earlier: readonly SessionStep[]): CitedEvent[] {
  return earlier.slice(-2).map((s) => ({ event_id: s.event_id, ts: s.ts }));
}

function describe(
  input: RareTransitionInput,
  prev2: string,
  prev1: string,
  step: StepScore,
  peers: PeerTransitions,
  expectedNext: readonly PredictedStep[],
  odds: { stepP: number; sessionP: number; k: number },
): { title: string; explanation: string } {
  const { identityId, current, earlier } = input;
  const tool = current.tool;
  const last = earlier.at(-1);
  const before = earlier.at(-2);
  const fromStart = prev1 === SESSION_START || last === undefined;

  const happened = fromStart
    ? `\`${identityId}\` started a session with ${code(tool)} (event ${current.event_id}).`
    : `\`${identityId}\` called ${code(tool)} (event ${current.event_id}) right after ${code(prev1)} (event ${last.event_id}` +
      (before && prev2 !== SESSION_START
        ? `, which followed ${code(prev2)}, event ${before.event_id})`
        : `)`) +
      '.';

  const pair =
    !fromStart && prev2 !== SESSION_START && step.pairHistoryCount > 0
      ? ` (${String(step.pairHistoryCount)} of them right after ${code(prev2)})`
      : '';
  const usual = expectedNext.map((n) => `${code(n.tool)} (${formatShare(n.probability)})`).join(', ');
  const n = String(step.historyCount);
  const expected = fromStart
    ? `Before this it started ${n} sessions${usual ? `, usually with ${usual}` : ''}; ` +
      (step.identityCount === 0
        ? `never with ${code(tool)}.`
        : `only ${String(step.identityCount)} with ${code(tool)}.`)
    : `Before this it left ${code(prev1)} ${n} times${pair}${usual ? ` and usually went on to ${usual}` : ''}; ` +
      (step.identityCount === 0
        ? `never to ${code(tool)}.`
        : `only ${String(step.identityCount)} time${step.identityCount === 1 ? '' : 's'} to ${code(tool)}.`);

  const numbers =
    ` Its transition model gives this step ${describeProbability(step.probability)} ` +
    `(${bits(step.surprisal)} bits) where a typical step from here costs ${bits(step.expected)} bits: ` +
    `${bits(step.excess)} bits more, ${times(2 ** step.excess)} less likely than usual. ` +
    `Wherever it comes in its sessions, ${code(tool)} is ${describeProbability(2 ** -step.baseSurprisal)} of its steps: ` +
    `it is the order that is unusual. ` +
    `The chance of a step this unlikely or worse from here is ${describeProbability(odds.stepP)}` +
    (odds.k > 1
      ? `; of at least one in ${String(odds.k)} steps (the session so far), ${describeProbability(odds.sessionP)}.`
      : '.');

  const peerWords =
    peers.history === 0
      ? ` No other identity has a history from ${fromStart ? 'a session start' : code(prev1)} to compare with.`
      : peers.count === 0
        ? ` Other identities never did this either (${String(peers.history)} of their steps ${fromStart ? 'started sessions' : `left ${code(prev1)}`}).`
        : ` Among other identities it is ${formatShare(peers.share)} of ${String(peers.history)} steps ${fromStart ? 'starting a session' : `from ${code(prev1)}`}, which lowers the score.`;

  const title = fromStart
    ? `${identityId} started a session with an unusual tool: ${tool}`
    : `${identityId} made an unusual step: ${prev1} → ${tool}`;
  return { title, explanation: `${happened} ${expected}${numbers}${peerWords}` };
}

/**
 * The detector: judges each session step of an identity the engine keeps transition counts for
 * (the engine learns the step after every detector has seen it). Steps outside a session form
 * no sequence and are never judged.
 */
export function createRareTransitionDetector(overrides: Partial<RareTransitionConfig> = {}): Detector {
  const config = rareTransitionConfig(overrides);
  return {
    id: 'chain.rare_transition',
    version: '1.0.0',
    kind: 'behavioural',
    config: { ...config },
    frameworks: ['OWASP-AGENTIC:T2', 'OWASP-AGENTIC:T6', 'NIST-CSF:DE.AE-02'],
    evaluate({ event, session, transitions }) {
      if (!transitions || event.session === '') return null;
      const rare = judgeSession(
        {
          stepsBefore: session.stepCount,
          identityId: event.identity_id,
          identity: transitions.identity,
          fleet: transitions.fleet,
          earlier: session.steps,
          current: { tool: event.tool, event_id: event.event_id, ts: event.ts },
        },
        config,
      );
      if (!rare) return null;
      return {
        subject: rare.subject,
        severity: severityFromScore(rare.score),
        score: rare.score,
        title: rare.title,
        explanation: rare.explanation,
        facts: rare.facts,
        cite: rare.cite,
      };
    },
  };
}
