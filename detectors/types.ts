import type { BaselineFacts, Severity } from '../model/finding.js';
import type { DetectorEvent } from '../model/detector-event.js';
import type { IdentityProfile } from './profile.js';
import type { PeerIndex } from './peers.js';
import type { IdentityRecord } from '../model/identity.js';
import type { SessionNovelty } from './session.js';
import type { TransitionCounts } from './models/markov.js';
import type { Term } from './terms.js';

/** Everything a detector may look at when judging one event. All of it describes the past. */
export interface DetectorContext {
  event: DetectorEvent;
  /** The identity's behaviour strictly before `event`. */
  profile: IdentityProfile;
  /** The registry entry; undefined when the identity is not registered. */
  identity: IdentityRecord | undefined;
  /** False when no registry was loaded at all: "unregistered" then means nothing. */
  registryLoaded: boolean;
  peers: PeerIndex;
  /** First-seen things earlier in the same session (this event's not yet counted). */
  session: SessionNovelty;
  /**
   * An `approval.grant` by anyone earlier in this session (session ids are shared by the agent
   * and its approver), as far as this engine has seen: approvals judged by another consumer
   * are only known through the action's own `approval.id`.
   */
  approvalInSession?: boolean;
  /**
   * The transition model's inputs: the identity's and the fleet's tool-transition counts
   * strictly before `event`. Absent when the engine keeps none (hand-built contexts).
   */
  transitions?: { identity: TransitionCounts; fleet: TransitionCounts };
}

/** What a detector says about one event: a finding to open or to add to. */
export interface Observation {
  /** Dedup subject: with identity and detector, the finding's key (e.g. the new tool's name). */
  subject: string;
  /**
   * The baseline term the finding is about (a first-seen tool, resource, domain, action class).
   * While the finding is open the term is not learned as normal: a suspicious value does not
   * become baseline just by recurring; triage decides (allow → learned, incident → never).
   */
  term?: Term;
  severity: Severity;
  score: number;
  title: string;
  explanation: string;
  /** The baseline facts the decision rested on, snapshotted with the finding for evidence. */
  facts: BaselineFacts;
  /**
   * Earlier events the finding rests on too (a chain's first steps), oldest first: cited
   * before the event being judged, and the finding starts at the first of them.
   */
  cite?: readonly CitedEvent[];
  /** Control ids of this observation when they differ per observation (a rule's own tags). */
  frameworks?: readonly string[];
  /**
   * Values gathered under one subject (the hosts of one registrable domain): this event's,
   * each a value of `term.kind` under review like `term` itself. The finding book keeps their
   * union in the finding's facts (`members`, `member_count`, see detectors/findings.ts) and
   * renders the explanation from those facts, again whenever a repeat adds a member.
   */
  members?: ObservationMembers;
}

export interface ObservationMembers {
  /** The values this event adds (usually one: the host it reached). */
  values: readonly string[];
  /**
   * The explanation of a finding with these facts, its members included. A pure function of
   * the facts, so a finding re-rendered after a restart (facts read back from storage) reads
   * byte for byte as one kept in memory.
   */
  explain(facts: BaselineFacts): string;
}

export interface CitedEvent {
  event_id: string;
  ts: number;
}

export interface Detector {
  readonly id: string;
  readonly version: string;
  /** `behavioural` detectors wait for warm-up; `policy` ones fire from the first event. */
  readonly kind: 'behavioural' | 'policy';
  readonly config: Readonly<Record<string, number | string | boolean>>;
  /** Control ids this kind of finding maps to (OWASP NHI / Agentic Top 10, NIST CSF 2.0). */
  readonly frameworks: readonly string[];
  evaluate(ctx: DetectorContext): Observation | null;
  /** Detectors that can report several things about one event (rule packs) implement this instead. */
  evaluateAll?(ctx: DetectorContext): readonly Observation[];
  /**
   * Stateful detectors (sequences) also see history replayed on hydration, so a scheduled
   * engine's state matches a streaming one's: they update their state and report nothing.
   */
  track?(ctx: DetectorContext): void;
}

export function severityFromScore(score: number): Severity {
  if (score >= 0.85) return 'critical';
  if (score >= 0.7) return 'high';
  if (score >= 0.5) return 'medium';
  return 'low';
}

export function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

/** Rounded for stable output: findings must serialise byte-identically run to run. */
export function roundScore(x: number): number {
  return Math.round(clamp01(x) * 1000) / 1000;
}
