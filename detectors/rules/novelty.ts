import { ownResourceRemoved } from '../housekeeping.js';
import { impactWeight } from '../impact.js';
import { DAY_MS } from '../../common/time.js';
import { DESTINATION_RESOURCE_TYPES, type Term } from '../terms.js';
import { clamp01, roundScore, type DetectorContext } from '../types.js';

/**
 * The shared arithmetic of the first-seen detectors. A value is new when the identity did not
 * use it inside the history window. How much that matters rises with the action's impact, with
 * other first-seen things earlier in the same session, with a denied/failed outcome (probing),
 * and with a destination no identity in the fleet has made part of its work; it falls with
 * how common the value is among the identity's peers.
 */

export type NoveltyConfig = {
  /** History window: values not seen for longer are forgotten. */
  windowDays: number;
  /** Warm-up: an identity needs this many events… */
  warmupEvents: number;
  /** …and this many days of history before its novelty means anything. */
  warmupDays: number;
  /** Findings below this score are not raised. */
  minScore: number;
  /**
   * History an identity needs before its set of destinations counts as established: from then
   * on a new destination is held for triage and may score as fleet-new. A young identity is
   * still discovering where its work goes.
   */
  establishedDays: number;
  /**
   * Resource types that name a destination (comma-separated, sorted: the config is hashed into
   * every finding). Egress domains always are destinations.
   */
  destinationTypes: string;
  /**
   * Removing a resource the identity itself changed inside the window (tearing down what it
   * built) is housekeeping: not reported as a new tool or an escalation.
   */
  housekeeping: boolean;
};

/** Per-detector settings as configured: the destination types come as a list. */
export type NoveltyOverrides = Partial<Omit<NoveltyConfig, 'destinationTypes'>> & {
  destinationTypes?: readonly string[];
};

export const DEFAULT_NOVELTY: NoveltyConfig = {
  windowDays: 30,
  warmupEvents: 20,
  warmupDays: 0,
  minScore: 0.35,
  establishedDays: 1,
  destinationTypes: [...DESTINATION_RESOURCE_TYPES].sort().join(','),
  housekeeping: true,
};

/** Defaults with overrides applied; absent overrides keep the default. */
export function noveltyConfig(overrides: NoveltyOverrides = {}): NoveltyConfig {
  return {
    windowDays: overrides.windowDays ?? DEFAULT_NOVELTY.windowDays,
    warmupEvents: overrides.warmupEvents ?? DEFAULT_NOVELTY.warmupEvents,
    warmupDays: overrides.warmupDays ?? DEFAULT_NOVELTY.warmupDays,
    minScore: overrides.minScore ?? DEFAULT_NOVELTY.minScore,
    establishedDays: overrides.establishedDays ?? DEFAULT_NOVELTY.establishedDays,
    destinationTypes: overrides.destinationTypes
      ? [...new Set(overrides.destinationTypes)].sort().join(',')
      : DEFAULT_NOVELTY.destinationTypes,
    housekeeping: overrides.housekeeping ?? DEFAULT_NOVELTY.housekeeping,
  };
}

/** The configured destination types as a set. */
export function destinationTypesOf(config: NoveltyConfig): ReadonlySet<string> {
  return new Set(config.destinationTypes.split(',').filter((t) => t !== ''));
}

export function windowMs(config: NoveltyConfig): number {
  return config.windowDays * DAY_MS;
}

export function warmedUp(ctx: DetectorContext, config: NoveltyConfig): boolean {
  const { profile, event } = ctx;
  return profile.events >= config.warmupEvents && profile.historyDays(event.ts) >= config.warmupDays;
}

/** Whether the event tears down the identity's own work and the detector treats that as housekeeping. */
export function isHousekeeping(ctx: DetectorContext, config: NoveltyConfig): boolean {
  return config.housekeeping && ownResourceRemoved(ctx.event, ctx.profile, windowMs(config)) !== undefined;
}

/** Whether the identity has history enough for a new destination to mean a change in its work. */
export function established(ctx: DetectorContext, config: NoveltyConfig): boolean {
  return ctx.profile.historyDays(ctx.event.ts) >= config.establishedDays;
}

/** Weights of the novelty score's terms. */
const W = { surprise: 0.55, impact: 0.2, session: 0.2, failed: 0.1, fleet: 0.35, peers: 0.3 } as const;

/**
 * Below this surprise (more than three in four uses meet a new value) new destinations are the
 * identity's routine — a support agent e-mailing each new customer — and being new to the fleet
 * too says proportionally less: every new customer is.
 */
const ROUTINE_SURPRISE = 0.25;

/**
 * Surprise of a new value in a family the identity already works in (a new repository of an
 * organisation it pushes to, a new host of a registrable domain it already reaches) relative
 * to an entirely new family.
 */
export const KNOWN_FAMILY_SURPRISE = 0.8;

/** "Nobody else uses it" means something only with a few other identities to compare with. */
export const MIN_FLEET_PEERS = 3;

export interface NoveltyScore {
  score: number;
  /** 0..1: how unexpected any new value of this kind was for this identity. */
  surprise: number;
  peerShare: number;
  sessionNovel: number;
  /** An established identity's destination none of (at least MIN_FLEET_PEERS) others has learned. */
  fleetNew: boolean;
}

/**
 * `surprise`: how unexpected any new value of this kind is for this identity (1 − its own
 * smoothed rate of meeting new values), before context raises or lowers it.
 */
export function scoreNovelty(
  ctx: DetectorContext,
  term: Term,
  surprise: number,
  config: NoveltyConfig,
  destination: boolean,
): NoveltyScore {
  const { event } = ctx;
  const peerShare = ctx.peers.share(term, event.identity_id, false);
  const sessionNovel = ctx.session.count;
  const failed = event.outcome === 'denied' || event.outcome === 'failure' || event.outcome === 'error';
  // Data, money or messages going somewhere no one in the fleet sends to is what exfiltration
  // and injected instructions look like; a destination peers already use is ordinary business.
  const fleetNew =
    destination &&
    peerShare === 0 &&
    ctx.peers.others(event.identity_id) >= MIN_FLEET_PEERS &&
    established(ctx, config);
  const raw =
    W.surprise * surprise +
    W.impact * impactWeight(event.action) +
    W.session * Math.min(1, sessionNovel / 2) +
    (failed ? W.failed : 0) +
    (fleetNew ? W.fleet * Math.min(1, surprise / ROUTINE_SURPRISE) : 0) -
    W.peers * peerShare;
  return { score: roundScore(clamp01(raw)), surprise, peerShare, sessionNovel, fleetNew };
}

/** Human phrasing of a list: at most `max` values, then "and N more". */
export function listValues(values: readonly string[], max = 5): string {
  if (values.length === 0) return 'none';
  const shown = values.slice(0, max).map((v) => `\`${v}\``);
  const more = values.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${String(more)} more` : shown.join(', ');
}

export function formatDate(ts: number): string {
  return new Date(ts).toISOString().slice(0, 10);
}

export function percent(share: number): string {
  return `${String(Math.round(share * 100))}%`;
}
