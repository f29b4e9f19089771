import type { DetectorEvent } from '../model/detector-event.js';
import { FindingBook, findingTerms, type FindingBookOptions } from './findings.js';
import { heldForTriage, holdsOutForGood, WITHHELD_STATUSES } from '../model/baseline-policy.js';
import type { Finding } from '../model/finding.js';
import { PeerIndex } from './peers.js';
import { IdentityProfile } from './profile.js';
import { DAY_MS } from '../common/time.js';
import type { BaselineTermRow } from '../model/terms.js';
import type { IdentityRecord } from '../model/identity.js';
import { DEFAULT_NOVELTY } from './rules/novelty.js';
import { SessionNovelty } from './session.js';
import { termsOf, type Term } from './terms.js';
import { type Detector, type DetectorContext, type Observation } from './types.js';
import { TransitionCounts } from './models/markov.js';
import { learnStep } from './rules/chain-rare-transition.js';
import { ANY_PREV, SESSION_START, type SessionStep, type TransitionRow } from '../model/transitions.js';

/**
 * The detection core: events in, findings out, no I/O. Both the streaming path (after each
 * ingest batch) and the scheduled/offline path feed it the same way: seed it with baseline
 * aggregates, then give it events in (ts, event_id) order; the same inputs give the same
 * findings byte for byte.
 */

export interface EngineOptions extends FindingBookOptions {
  detectors: readonly Detector[];
  /** Null when no registry is configured: policy detectors that need one stay silent. */
  registry: ReadonlyMap<string, IdentityRecord> | null;
  /** How long "first seen" means first seen, for session co-novelty. */
  noveltyWindowMs: number;
  /**
   * A withheld (under-finding) value is learned once seen in this many sessions. Values held
   * for triage (an established identity's new destinations) are never promoted this way.
   */
  promoteAfterSessions: number;
  /**
   * First-seen things count toward a session's co-novelty only once the identity has this many
   * events of history: before that it has no baseline for anything to be new against, and a
   * first session (a console page load, a new role's first run) is all "new".
   */
  sessionNoveltyAfterEvents: number;
  /** Sessions idle this long are forgotten (bounded memory on endless streams). */
  sessionIdleMs: number;
  /** Clock for `created_at`; offline runs pass the event time so output is reproducible. */
  now?: (event: DetectorEvent) => number;
}

export const DEFAULT_ENGINE_OPTIONS: Omit<EngineOptions, 'detectors' | 'registry'> = {
  dedupWindowMs: 7 * DAY_MS,
  maxCitedEvents: 50,
  noveltyWindowMs: 30 * DAY_MS,
  sessionIdleMs: DAY_MS,
  sessionNoveltyAfterEvents: DEFAULT_NOVELTY.warmupEvents,
  promoteAfterSessions: 1,
};

const SESSION_TERM_KINDS = new Set(['tool', 'resource', 'domain']);

function observationsOf(detector: Detector, ctx: DetectorContext): readonly Observation[] {
  if (detector.evaluateAll) return detector.evaluateAll(ctx);
  const observation = detector.evaluate(ctx);
  return observation ? [observation] : [];
}

function termKey(term: Term): string {
  return `${term.kind}\u0000${term.value}`;
}

/** A value kept out of an identity's baseline while a finding (or triage) says so. */
interface Withheld {
  /** Sessions it recurred in while withheld (promotion counts them). */
  sessions: Set<string>;
  /** Held until triage decides: never promoted by recurrence. */
  held: boolean;
}

export class DetectionEngine {
  private readonly profiles = new Map<string, IdentityProfile>();
  private readonly sessions = new Map<string, SessionNovelty>();
  readonly peers = new PeerIndex();
  private readonly book: FindingBook;
  /** identity → terms under an open finding or excluded by triage, not learned until released. */
  private readonly withheld = new Map<string, Map<string, Withheld>>();
  private readonly now: (event: DetectorEvent) => number;
  /** Session id → time of the latest `approval.grant` in it, whoever granted it. */
  private readonly approvals = new Map<string, number>();
  /** identity → its tool-transition counts (history before the next event). */
  private readonly transitions = new Map<string, TransitionCounts>();
  /**
   * Every identity's transitions, bigram level (prev2 summed away): the model's backoff for
   * sparse identities. Seeded from storage, then every step this engine learns is added.
   */
  private readonly fleet = new TransitionCounts({ trigrams: false });
  private sweepAt = 0;
  private registry: ReadonlyMap<string, IdentityRecord> | null;

  constructor(private readonly options: EngineOptions) {
    this.book = new FindingBook(options);
    this.now = options.now ?? (() => Date.now());
    this.registry = options.registry;
  }

  /** A registry edited since the engine started (an identity suspended through the API): from the next event on. */
  setRegistry(registry: ReadonlyMap<string, IdentityRecord> | null): void {
    this.registry = registry;
  }

  /**
   * Adds history from the baseline aggregates (before any event is processed for it). Call it
   * after `loadFindings` and `applyOverride`: values they hold out of the baseline (confirmed
   * incidents, destinations under review) are skipped here too.
   * `countPeers`: also count these identities in the peer view (when it was not loaded whole).
   */
  seed(rows: Iterable<BaselineTermRow>, countPeers = true): void {
    for (const row of rows) {
      if (this.isHeld(row.identity_id, row)) continue;
      const profile = this.profileOf(row.identity_id);
      const hadIt = profile.recall(row, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER) !== undefined;
      profile.addBaseline(row);
      if (countPeers && !hadIt) this.peers.add(row.identity_id, row);
    }
  }

  /** The fleet's transition counts as stored (bigram-level rows), before any event is processed. */
  seedFleetTransitions(rows: Iterable<TransitionRow>): void {
    for (const row of rows) this.fleet.add(ANY_PREV, row.prev1, row.tool, row.count);
  }

  /** Identities' stored transition counts (history before their cut day). */
  seedTransitions(rows: Iterable<TransitionRow>): void {
    for (const row of rows) this.transitionsOf(row.identity_id).addRow(row);
  }

  /**
   * The last steps of a session that began before the history being replayed (oldest first),
   * so the replay's first steps have their real predecessors. Not learned: the stored counts
   * already hold them.
   */
  seedSessionTail(identityId: string, session: string, step: SessionStep): void {
    const state = this.sessionOf({ identity_id: identityId, session, ts: step.ts });
    state.step(step);
    state.lastTs = Math.max(state.lastTs, step.ts);
  }

  /** Creates an identity's profile with no history (known to have none, so it is not reloaded). */
  touch(identityId: string): void {
    this.profileOf(identityId);
  }

  /** Folds an event into the baseline without judging it (history replayed on hydration). */
  learnOnly(event: DetectorEvent): void {
    const profile = this.profileOf(event.identity_id);
    const session = this.sessionOf(event);
    const ctx = this.contextOf(event, profile, session);
    for (const detector of this.options.detectors) detector.track?.(ctx);
    this.learn(event, profile, session);
  }

  private contextOf(
    event: DetectorEvent,
    profile: IdentityProfile,
    session: SessionNovelty,
  ): DetectorContext {
    return {
      event,
      profile,
      identity: this.registry?.get(event.identity_id),
      registryLoaded: this.registry !== null,
      peers: this.peers,
      session,
      approvalInSession: event.session !== '' && this.approvals.has(event.session),
      transitions: { identity: this.transitionsOf(event.identity_id), fleet: this.fleet },
    };
  }

  private transitionsOf(identityId: string): TransitionCounts {
    let counts = this.transitions.get(identityId);
    if (!counts) {
      counts = new TransitionCounts();
      this.transitions.set(identityId, counts);
    }
    return counts;
  }

  /**
   * A value triage allowed for an identity (false positive): normal from now on. `live`: the
   * decision arrived while this engine runs, so its peer view learns of it too (a hydrating
   * engine's peer view comes from ClickHouse, which already reflects it).
   */
  allow(identityId: string, term: Term, live = false): void {
    const profile = this.profileOf(identityId);
    const known = profile.recall(term, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER) !== undefined;
    this.withheld.get(identityId)?.delete(termKey(term));
    profile.allow(term);
    if (live && !known) this.peers.add(identityId, term);
  }

  /**
   * Applies one triage decision: the latest per value, so apply them after `loadFindings` —
   * an allow outranks older findings on the same value.
   */
  applyOverride(override: Term & { identity_id: string; effect: 'allow' | 'exclude' }, live = false): void {
    if (override.effect === 'allow') this.allow(override.identity_id, override, live);
    else this.exclude(override.identity_id, override, live);
  }

  /** Terms withheld for good by triage (confirmed incidents). */
  exclude(identityId: string, term: Term, live = false): void {
    this.withhold(identityId, term, true);
    const profile = this.profiles.get(identityId);
    if (live && profile?.recall(term, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER))
      this.peers.remove(identityId, term);
    profile?.forget(term);
  }

  /** Status changes made by triage while this engine runs: repeats join or open findings accordingly. */
  refreshStatuses(findings: Iterable<Finding>): void {
    this.book.load(findings);
  }

  /** Previously stored findings, so repeats deduplicate across restarts. */
  loadFindings(findings: Iterable<Finding>): void {
    const list = [...findings];
    this.book.load(list);
    // Every value the finding is about: a grouped finding (one registrable domain) holds each
    // of its hosts out, as it did while this engine raised it.
    for (const f of list)
      if (WITHHELD_STATUSES.has(f.status))
        for (const term of findingTerms(f)) this.withhold(f.identity_id, term, holdsOutForGood(f));
  }

  private withhold(identityId: string, term: Term, held: boolean): void {
    let terms = this.withheld.get(identityId);
    if (!terms) {
      terms = new Map();
      this.withheld.set(identityId, terms);
    }
    const current = terms.get(termKey(term));
    if (current) current.held ||= held;
    else terms.set(termKey(term), { sessions: new Set(), held });
  }

  /** Whether triage or an open finding keeps this value out of the baseline whatever happens next. */
  private isHeld(identityId: string, term: Term): boolean {
    return this.withheld.get(identityId)?.get(termKey(term))?.held === true;
  }

  /**
   * Whether a term stays out of the baseline for this event. A withheld value that keeps
   * coming back in `promoteAfterSessions` different sessions is part of the work now: it is
   * learned (the open finding still cites its first sightings for triage). Held values (an
   * established identity's new destinations) and confirmed incidents stay out until triage
   * says otherwise.
   */
  private isWithheld(event: DetectorEvent, term: Term): boolean {
    const withheld = this.withheld.get(event.identity_id)?.get(termKey(term));
    if (!withheld) return false;
    if (withheld.held) return true;
    const { sessions } = withheld;
    sessions.add(event.session || `t${String(Math.floor(event.ts / this.options.sessionIdleMs))}`);
    if (sessions.size < this.options.promoteAfterSessions) return true;
    this.withheld.get(event.identity_id)?.delete(termKey(term));
    return false;
  }

  hasProfile(identityId: string): boolean {
    return this.profiles.has(identityId);
  }

  private profileOf(identityId: string): IdentityProfile {
    let profile = this.profiles.get(identityId);
    if (!profile) {
      profile = new IdentityProfile(identityId);
      this.profiles.set(identityId, profile);
    }
    return profile;
  }

  private sessionOf(event: Pick<DetectorEvent, 'identity_id' | 'session' | 'ts'>): SessionNovelty {
    // Events without a session form one rolling session per identity, bounded by idleness.
    const key = `${event.identity_id}\u0000${event.session}`;
    let session = this.sessions.get(key);
    if (session && event.ts - session.lastTs > this.options.sessionIdleMs && !event.session)
      session = undefined;
    if (!session) {
      session = new SessionNovelty();
      this.sessions.set(key, session);
    }
    return session;
  }

  /** Drops idle sessions now and then; cheap enough to run every simulated hour. */
  private sweepSessions(ts: number): void {
    if (ts < this.sweepAt) return;
    this.sweepAt = ts + 3600_000;
    for (const [key, session] of this.sessions)
      if (ts - session.lastTs > this.options.sessionIdleMs) this.sessions.delete(key);
    for (const [key, at] of this.approvals)
      if (ts - at > this.options.sessionIdleMs) this.approvals.delete(key);
  }

  /** Judges one event against everything before it, then folds it into the baseline. */
  process(event: DetectorEvent): Finding[] {
    this.sweepSessions(event.ts);
    const profile = this.profileOf(event.identity_id);
    const session = this.sessionOf(event);
    const ctx = this.contextOf(event, profile, session);
    const touched: Finding[] = [];
    for (const detector of this.options.detectors)
      for (const observation of observationsOf(detector, ctx)) {
        touched.push(this.book.record(detector, event, observation, this.now(event)));
        if (observation.term)
          this.withhold(event.identity_id, observation.term, heldForTriage(observation.facts));
      }
    this.learn(event, profile, session);
    return touched;
  }

  private learn(event: DetectorEvent, profile: IdentityProfile, session: SessionNovelty): void {
    const terms = termsOf(event);
    if (profile.events >= this.options.sessionNoveltyAfterEvents)
      for (const term of terms)
        if (SESSION_TERM_KINDS.has(term.kind) && !this.recent(profile, term, event.ts))
          session.add(term, event.ts);
    session.lastTs = Math.max(session.lastTs, event.ts);
    this.learnTransition(event, session);
    if (event.action === 'approval.grant' && event.session)
      this.approvals.set(event.session, Math.max(this.approvals.get(event.session) ?? 0, event.ts));
    // Peers count what an identity has learned: a value held under review is not yet evidence
    // that it is normal anywhere. (Most identities hold nothing back: no closure for them.)
    const withheld = this.withheld.has(event.identity_id)
      ? (t: Term): boolean => this.isWithheld(event, t)
      : undefined;
    for (const term of profile.observe(event, withheld, terms)) this.peers.add(event.identity_id, term);
  }

  /** The step into the identity's and the fleet's counts, then into the session's history. */
  private learnTransition(event: DetectorEvent, session: SessionNovelty): void {
    // As in storage: events outside a session form no sequence (model/transitions.ts).
    if (event.session === '') return;
    learnStep(this.transitionsOf(event.identity_id), session.steps, event.tool);
    this.fleet.add(ANY_PREV, session.steps.at(-1)?.tool ?? SESSION_START, event.tool);
    session.step({ tool: event.tool, event_id: event.event_id, ts: event.ts });
  }

  private recent(profile: IdentityProfile, term: Term, ts: number): boolean {
    return profile.recall(term, ts, this.options.noveltyWindowMs) !== undefined;
  }
}
