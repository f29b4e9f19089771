import { isDestination, type Term } from '../terms.js';
import { severityFromScore, type Detector, type DetectorContext, type Observation } from '../types.js';
import { HELD_FACT } from '../../model/baseline-policy.js';
import {
  destinationTypesOf,
  established,
  isHousekeeping,
  noveltyConfig,
  percent,
  scoreNovelty,
  warmedUp,
  windowMs,
  type NoveltyConfig,
  type NoveltyOverrides,
  type NoveltyScore,
} from './novelty.js';

/**
 * The shape every first-seen detector shares: pick the event's term, skip it when the
 * identity knows it (inside the window) or is still warming up, score it, and describe it.
 * A detector supplies only what differs: which term, how surprising, and the words.
 */

export interface FirstSeenSpec {
  id: string;
  version: string;
  frameworks: readonly string[];
  /** The event's value of this detector's kind, or null when the event has none. */
  term(ctx: DetectorContext): Term | null;
  /**
   * The finding's dedup subject when it is not the term's value: several values then share one
   * finding (the hosts of one registrable domain), and `describe` names them as `members`.
   */
  subject?(ctx: DetectorContext, term: Term): string;
  /** 0..1: how unexpected any new value of this kind is for this identity. */
  surprise(ctx: DetectorContext, term: Term, window: number): number;
  describe(
    ctx: DetectorContext,
    term: Term,
    config: NoveltyConfig,
    score: NoveltyScore,
  ): Pick<Observation, 'title' | 'explanation' | 'facts' | 'members'>;
}

/** What the context tails say, from numbers alone (a finding's facts, or the live context). */
export interface ContextNumbers {
  fleetNew: boolean;
  /** Other identities in the peer view. */
  peersCompared: number;
  /** Whether there is a peer view to speak of at all. */
  peerView: boolean;
  peerShare: number;
  sessionNovel: number;
}

/** "N% of other identities use it." and "K other first-seen things…" tails, when they say something. */
export function contextText(c: ContextNumbers, verb: string): string {
  const peers = c.fleetNew
    ? ` No other identity of the ${String(c.peersCompared)} compared has ${verb} it.`
    : c.peerView
      ? ` ${percent(c.peerShare)} of other identities ${verb} it.`
      : '';
  const session =
    c.sessionNovel > 0
      ? ` ${String(c.sessionNovel)} other first-seen thing${c.sessionNovel === 1 ? '' : 's'} happened earlier in this session.`
      : '';
  return peers + session;
}

/** The context tails for the event being judged. */
export function contextSentences(ctx: DetectorContext, score: NoveltyScore, verb: string): string {
  return contextText(
    {
      fleetNew: score.fleetNew,
      peersCompared: ctx.peers.others(ctx.event.identity_id),
      peerView: ctx.peers.size > 1,
      peerShare: score.peerShare,
      sessionNovel: score.sessionNovel,
    },
    verb,
  );
}

/** The score's context, snapshotted with every first-seen finding. */
export function scoreFacts(score: NoveltyScore): Record<string, number | boolean> {
  return {
    surprise: Math.round(score.surprise * 1000) / 1000,
    peer_share: Math.round(score.peerShare * 1000) / 1000,
    fleet_new: score.fleetNew,
    session_novel_before: score.sessionNovel,
  };
}

export function createFirstSeenDetector(spec: FirstSeenSpec, overrides: NoveltyOverrides = {}): Detector {
  const config = noveltyConfig(overrides);
  const destinations = destinationTypesOf(config);
  return {
    id: spec.id,
    version: spec.version,
    kind: 'behavioural',
    config,
    frameworks: spec.frameworks,
    evaluate(ctx: DetectorContext): Observation | null {
      const term = spec.term(ctx);
      if (!term) return null;
      const window = windowMs(config);
      if (ctx.profile.recall(term, ctx.event.ts, window) || !warmedUp(ctx, config)) return null;
      // A new verb on the identity's own resource (tearing down what it built) is housekeeping;
      // a new destination reached while doing it is still new.
      if (term.kind === 'tool' && isHousekeeping(ctx, config)) return null;
      const destination = isDestination(term, destinations);
      const score = scoreNovelty(ctx, term, spec.surprise(ctx, term, window), config, destination);
      if (score.score < config.minScore) return null;
      const described = spec.describe(ctx, term, config, score);
      // An established identity's new destination stays under its finding until triage: an
      // unreviewed payee does not become trusted by being paid again.
      const held = destination && established(ctx, config);
      return {
        subject: spec.subject?.(ctx, term) ?? term.value,
        term,
        severity: severityFromScore(score.score),
        score: score.score,
        ...described,
        facts: { ...described.facts, [HELD_FACT]: held },
      };
    },
  };
}
