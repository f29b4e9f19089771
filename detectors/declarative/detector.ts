import { createHash } from 'node:crypto';
import type { DetectorEvent } from '../../model/detector-event.js';
import type { IdentityProfile } from '../profile.js';
import type { SessionNovelty } from '../session.js';
import { resourceKey } from '../terms.js';
import {
  roundScore,
  severityFromScore,
  type CitedEvent,
  type Detector,
  type DetectorContext,
  type Observation,
} from '../types.js';
import {
  DEFAULT_BASELINE_VIEW,
  priorCount,
  profileBaselineView,
  termKey,
  termsFor,
  type BaselineViewConfig,
} from './baseline-view.js';
import { holds, RuleIndex, type CompiledRule, type MatchInput, type SelectionCache } from './compile.js';
import { AbsenceState, completeChain, SequenceState, type Hit } from './sequence.js';
import { DAY_MS } from '../../common/time.js';
import type { RuleLevel } from './schema.js';

/**
 * The two detectors made of rules: `rules.high_impact` (single events that matter even when
 * the tool is routine) and `chain.sequence` (ordered steps in a session or for an identity).
 * Both score the same way: the rule's level is the impact, and what the identity did before
 * scales it — new for the identity keeps the full score, routine falls toward ROUTINE_FLOOR.
 */

export const LEVEL_SCORE: Readonly<Record<RuleLevel, number>> = {
  informational: 0.2,
  low: 0.35,
  medium: 0.55,
  high: 0.75,
  critical: 0.9,
};

/** The share of a rule's impact left when the identity does this all the time. */
export const ROUTINE_FLOOR = 0.4;

export interface RuleDetectorConfig extends BaselineViewConfig {
  /** Observations below this score are not raised. */
  minScore: number;
}

export const DEFAULT_RULE_DETECTOR: RuleDetectorConfig = { ...DEFAULT_BASELINE_VIEW, minScore: 0.35 };

/** 1 for a first time, falling with each earlier time: 1/(1 + log2(1 + n)). */
export function noveltyFactor(prior: number): number {
  return 1 / (1 + Math.log2(1 + prior));
}

export function ruleScore(level: RuleLevel, prior: number): { score: number; factor: number } {
  const factor = ROUTINE_FLOOR + (1 - ROUTINE_FLOOR) * noveltyFactor(prior);
  return { score: roundScore(LEVEL_SCORE[level] * factor), factor: Math.round(factor * 1000) / 1000 };
}

/** Per scope object (an engine session, an identity profile): sequence states and session memory. */
interface ScopeState {
  sequences: Map<string, SequenceState>;
  absences: Map<string, AbsenceState>;
  /** Values seen earlier in the session, for `new_in_session` (only kinds some rule asks about). */
  seen: Set<string>;
}

/** Absences of session rules by session id: the approver's events count for the agent's chain. */
interface SharedSession {
  lastTs: number;
  absences: Map<string, AbsenceState>;
}

function rulesHash(rules: readonly CompiledRule[]): string {
  const text = rules
    .map((r) => `${r.id}\u0000${r.file}\u0000${JSON.stringify([r.level, r.condition, r.sequence, r.tags])}`)
    .sort()
    .join('\n');
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

function describeEvent(e: DetectorEvent): string {
  const target = e.target_domain
    ? ` to ${e.target_domain}`
    : e.resource_id
      ? ` on ${resourceKey(e.resource_type, e.resource_id)}`
      : '';
  const outcome = e.outcome !== 'success' && e.outcome !== 'unknown' ? ` (${e.outcome})` : '';
  return `\`${e.tool}\` (${e.action})${target}${outcome} [${e.event_id} at ${new Date(e.ts).toISOString()}]`;
}

/** What the observation is about, for deduplication: the last step's destination, resource or tool. */
function subjectOf(rule: CompiledRule, e: DetectorEvent): string {
  const what = e.target_domain || resourceKey(e.resource_type, e.resource_id) || e.tool;
  return `${rule.id}\u0000${what}`;
}

function newTermsOf(input: MatchInput): string[] {
  const kinds = ['destination', 'tool', 'resource', 'credential'] as const;
  return kinds
    .filter((k) => input.baseline.isNew(k))
    .map(
      (k) =>
        `${k}: ${termsFor(input.event, k)
          .map((t) => t.value)
          .join(', ')}`,
    );
}

function seconds(ms: number): string {
  if (ms < 120_000) return `${String(Math.round(ms / 1000))} s`;
  if (ms < 7_200_000) return `${String(Math.round(ms / 60_000))} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

function observation(
  rule: CompiledRule,
  kindLabel: string,
  steps: readonly DetectorEvent[],
  input: MatchInput,
  profile: IdentityProfile,
  config: RuleDetectorConfig,
): Observation | null {
  const last = steps[steps.length - 1];
  if (!last) return null;
  const prior = priorCount(last, profile, config.windowMs);
  const { score, factor } = ruleScore(rule.level, prior);
  if (score < config.minScore) return null;
  const novel = newTermsOf(input);
  const lines = steps.map((e, i) => {
    const gap = i > 0 ? `, ${seconds(e.ts - (steps[i - 1]?.ts ?? e.ts))} later` : '';
    return `${steps.length > 1 ? `step ${String(i + 1)}: ` : ''}${describeEvent(e)}${gap}`;
  });
  const absences = rule.sequence?.absent.map((a) => {
    const from = a.after >= 0 ? (rule.sequence?.steps[a.after]?.name ?? '') : 'the start of the window';
    const to = rule.sequence?.steps[a.before]?.name ?? '';
    const same = a.sameNames.length ? ` for the same ${a.sameNames.join(', ')}` : '';
    return `no \`${a.where}\`${same} between ${from} and ${to}`;
  });
  const history =
    profile.events === 0
      ? 'The identity has no history to compare with.'
      : prior === 0
        ? `In ${String(profile.events)} earlier events the identity never did this (${last.tool}${novel.length ? `; new: ${novel.join('; ')}` : ''}).`
        : `The identity did this ${String(prior)} time${prior === 1 ? '' : 's'} before in its history window, so it weighs ${String(Math.round(factor * 100))}% of the rule's ${rule.level} impact.`;
  const explanation = [
    `${kindLabel} \`${rule.id}\` (${rule.level}): ${rule.title}.`,
    `Observed: ${lines.join('; ')}.`,
    absences?.length ? `Expected and absent: ${absences.join('; ')}.` : '',
    history,
  ]
    .filter((s) => s !== '')
    .join(' ');
  const cite: CitedEvent[] = steps.slice(0, -1).map((e) => ({ event_id: e.event_id, ts: e.ts }));
  return {
    subject: subjectOf(rule, last),
    severity: severityFromScore(score),
    score,
    title: `${last.identity_id}: ${rule.title}`,
    explanation,
    facts: {
      rule: rule.id,
      rule_level: rule.level,
      rule_file: rule.file.split(/[\\/]/).pop() ?? rule.file,
      steps: steps.map((e) => `${e.event_id} ${e.tool}`),
      prior_count: prior,
      novelty_factor: factor,
      new_terms: novel,
      history_events: profile.events,
    },
    cite,
    frameworks: rule.tags,
  };
}

interface DetectorParts {
  id: string;
  version: string;
  rules: readonly CompiledRule[];
  config: RuleDetectorConfig;
}

function baseDetector(
  parts: DetectorParts,
): Pick<Detector, 'id' | 'version' | 'kind' | 'config' | 'frameworks'> {
  return {
    id: parts.id,
    version: parts.version,
    kind: 'policy',
    config: {
      rules: parts.rules.length,
      rules_hash: rulesHash(parts.rules),
      min_score: parts.config.minScore,
    },
    frameworks: [],
  };
}

/** `rules.high_impact`: single-event rules. */
export function createHighImpactDetector(
  rules: readonly CompiledRule[],
  config: RuleDetectorConfig = DEFAULT_RULE_DETECTOR,
): Detector {
  const singles = rules.filter((r) => r.condition !== undefined);
  const index = new RuleIndex(singles);
  const evaluateAll = (ctx: DetectorContext): Observation[] => {
    const candidates = index.candidates(ctx.event);
    if (candidates.length === 0) return [];
    const input: MatchInput = {
      event: ctx.event,
      baseline: profileBaselineView(ctx.event, ctx.profile, undefined, config),
    };
    const out: Observation[] = [];
    const cache: SelectionCache = new Map();
    for (const { rule, known } of candidates) {
      if (!rule.condition || !holds(rule, rule.condition, input, cache, known)) continue;
      const o = observation(rule, 'High-impact rule', [ctx.event], input, ctx.profile, config);
      if (o) out.push(o);
    }
    return out;
  };
  return {
    ...baseDetector({ id: 'rules.high_impact', version: '1.0.0', rules: singles, config }),
    evaluate: (ctx) => evaluateAll(ctx)[0] ?? null,
    evaluateAll,
  };
}

/** `chain.sequence`: ordered steps inside a session or for an identity. */
export function createSequenceDetector(
  rules: readonly CompiledRule[],
  config: RuleDetectorConfig = DEFAULT_RULE_DETECTOR,
): Detector {
  const chains = rules.filter((r) => r.sequence !== undefined);
  const index = new RuleIndex(chains);
  const sessionKinds = [...new Set(chains.flatMap((r) => r.sessionTerms))];
  // State lives on the engine's own session and profile objects: it is dropped with them.
  const bySession = new WeakMap<SessionNovelty, ScopeState>();
  const byIdentity = new WeakMap<IdentityProfile, ScopeState>();
  const sharedSessions = new Map<string, SharedSession>();
  const longestWithin = Math.max(DAY_MS, ...chains.map((r) => r.sequence?.withinMs ?? 0));
  let sweepAt = 0;
  let seq = 0;

  const scopeOf = <K extends object>(map: WeakMap<K, ScopeState>, key: K): ScopeState => {
    let state = map.get(key);
    if (!state) {
      state = { sequences: new Map(), absences: new Map(), seen: new Set() };
      map.set(key, state);
    }
    return state;
  };

  const sharedOf = (session: string, ts: number): SharedSession => {
    let shared = sharedSessions.get(session);
    if (!shared) {
      shared = { lastTs: ts, absences: new Map() };
      sharedSessions.set(session, shared);
    }
    shared.lastTs = Math.max(shared.lastTs, ts);
    return shared;
  };

  const sweep = (ts: number): void => {
    if (ts < sweepAt) return;
    sweepAt = ts + 3_600_000;
    for (const [id, shared] of sharedSessions)
      if (ts - shared.lastTs > longestWithin) sharedSessions.delete(id);
  };

  const step = (ctx: DetectorContext, report: boolean): Observation[] => {
    const { event } = ctx;
    sweep(event.ts);
    // Most events can match no step or absence of any chain (RuleIndex): they only feed the
    // session's memory of values, when some rule asks `new_in_session`.
    const candidates = index.candidates(event);
    if (candidates.length === 0 && sessionKinds.length === 0) return [];
    seq += 1;
    const hit: Hit = { seq, event };
    const sessionState = scopeOf(bySession, ctx.session);
    const out: Observation[] = [];
    const cache: SelectionCache = new Map();
    const input: MatchInput | undefined =
      candidates.length > 0
        ? { event, baseline: profileBaselineView(event, ctx.profile, sessionState.seen, config) }
        : undefined;
    for (const { rule, known } of input ? candidates : []) {
      const sequence = rule.sequence;
      if (!sequence || !input) continue;
      const bySessionRule = sequence.by === 'session';
      const scope = bySessionRule ? sessionState : scopeOf(byIdentity, ctx.profile);
      // Session rules share absences by session id (the approver's events count for the agent).
      const absenceStore = (): Map<string, AbsenceState> =>
        bySessionRule && event.session ? sharedOf(event.session, event.ts).absences : scope.absences;
      const held = (condition: CompiledRule['condition']): boolean =>
        condition !== undefined && holds(rule, condition, input, cache, known);

      let absences: AbsenceState | undefined;
      for (let i = 0; i < sequence.absent.length; i += 1) {
        if (!held(sequence.absent[i]?.condition)) continue;
        if (!absences) {
          const store = absenceStore();
          absences = store.get(rule.id);
          if (!absences) {
            absences = new AbsenceState(sequence);
            store.set(rule.id, absences);
          }
          absences.expire(event.ts);
        }
        absences.add(i, hit);
      }

      let state = scope.sequences.get(rule.id);
      const last = sequence.steps.length - 1;
      const lastStep = sequence.steps[last];
      if (report && lastStep && held(lastStep.condition)) {
        absences ??= sequence.absent.length > 0 ? absenceStore().get(rule.id) : undefined;
        state?.expire(event.ts);
        absences?.expire(event.ts);
        const chain =
          sequence.steps.length === 1 || state
            ? completeChain(state ?? new SequenceState(sequence), absences, hit)
            : null;
        if (chain) {
          const o = observation(
            rule,
            'Chain rule',
            chain.map((h) => h.event),
            input,
            ctx.profile,
            config,
          );
          if (o) out.push(o);
        }
      }
      for (let i = 0; i < last; i += 1) {
        if (!held(sequence.steps[i]?.condition)) continue;
        if (!state) {
          state = new SequenceState(sequence);
          scope.sequences.set(rule.id, state);
        }
        state.expire(event.ts);
        state.addCandidate(i, hit);
      }
      if (state?.empty) scope.sequences.delete(rule.id);
    }
    for (const kind of sessionKinds) for (const t of termsFor(event, kind)) sessionState.seen.add(termKey(t));
    return out;
  };

  return {
    ...baseDetector({ id: 'chain.sequence', version: '1.0.0', rules: chains, config }),
    evaluate: (ctx) => step(ctx, true)[0] ?? null,
    evaluateAll: (ctx) => step(ctx, true),
    track: (ctx) => {
      step(ctx, false);
    },
  };
}
