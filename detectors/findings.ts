import { createHash } from 'node:crypto';
import { DAY_MS } from '../common/time.js';
import type { DetectorEvent } from '../model/detector-event.js';
import {
  SEVERITIES,
  type BaselineFacts,
  type Finding,
  type FindingStatus,
  type Severity,
} from '../model/finding.js';
import type { Term } from './terms.js';
import { isTermKind } from '../model/terms.js';
import type { Detector, Observation } from './types.js';

/**
 * Findings (contract, see DESIGN.md) and the pure bookkeeping that turns a stream of
 * observations into deduplicated findings: the same identity + detector + subject inside the
 * dedup window raises `count` and `last_ts` of one finding instead of opening another.
 */

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Stable JSON: keys sorted at every level, so equal values hash equally. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function detectorConfigHash(detector: Pick<Detector, 'id' | 'version' | 'config'>): string {
  return sha256(
    stableStringify({ id: detector.id, version: detector.version, config: detector.config }),
  ).slice(0, 16);
}

export function dedupKey(identityId: string, detectorId: string, subject: string): string {
  return sha256(`${identityId}\n${detectorId}\n${subject}`).slice(0, 32);
}

/**
 * Facts of a finding that gathers several values under its subject (`Observation.members`):
 * the values in first-seen order, how many, and whether more came than the list keeps.
 */
export const MEMBERS_FACT = 'members';
export const MEMBER_COUNT_FACT = 'member_count';
export const MEMBERS_CAPPED_FACT = 'members_capped';
/** A finding lists at most this many members (a random-subdomain flood must not grow it unbounded). */
export const MAX_FINDING_MEMBERS = 50;

/** The members a finding's facts list (none for a finding without members). */
export function membersOf(facts: BaselineFacts): string[] {
  const members = facts[MEMBERS_FACT];
  return Array.isArray(members) ? [...members] : [];
}

/**
 * The baseline values a finding is about: its subject and, when it gathers several values
 * under the subject, each member, all of its term kind (none when it is not about one term).
 * Triage decisions and the terms an open finding keeps out of the baseline apply to each.
 */
export function findingTerms(finding: Pick<Finding, 'term_kind' | 'subject' | 'baseline'>): Term[] {
  const kind = finding.term_kind;
  if (!isTermKind(kind)) return [];
  const values = [finding.subject, ...membersOf(finding.baseline).filter((m) => m !== finding.subject)];
  return values.map((value) => ({ kind, value }));
}

/**
 * `facts` with `values` unioned into its members (first-seen order, at most
 * MAX_FINDING_MEMBERS; `members_capped` once one did not fit). Unchanged facts come back as
 * the same object, so callers can tell whether anything was added.
 */
export function withMembers(facts: BaselineFacts, values: readonly string[]): BaselineFacts {
  const members = membersOf(facts);
  let capped = facts[MEMBERS_CAPPED_FACT] === true;
  let changed = !Array.isArray(facts[MEMBERS_FACT]) || facts[MEMBER_COUNT_FACT] !== members.length;
  for (const value of values) {
    if (members.includes(value)) continue;
    if (members.length < MAX_FINDING_MEMBERS) members.push(value);
    else if (capped) continue;
    else capped = true;
    changed = true;
  }
  if (!changed) return facts;
  return {
    ...facts,
    [MEMBERS_FACT]: members,
    [MEMBER_COUNT_FACT]: members.length,
    ...(capped ? { [MEMBERS_CAPPED_FACT]: true } : {}),
  };
}

export interface FindingBookOptions {
  /** Repeats within this long after a finding's last event join it. */
  dedupWindowMs: number;
  /** A finding cites at most this many events (the first ones; `count` keeps the total). */
  maxCitedEvents: number;
}

/** Open findings by dedup key; records observations and reports which findings changed. */
export class FindingBook {
  private readonly byKey = new Map<string, Finding>();

  constructor(private readonly options: FindingBookOptions) {}

  /** Makes previously stored findings known, so repeats after a restart still deduplicate. */
  load(findings: Iterable<Finding>): void {
    for (const finding of findings) {
      const current = this.byKey.get(finding.dedup_key);
      if (!current || current.last_ts <= finding.last_ts) this.byKey.set(finding.dedup_key, finding);
    }
  }

  record(detector: Detector, event: DetectorEvent, observation: Observation, now: number): Finding {
    const key = dedupKey(event.identity_id, detector.id, observation.subject);
    const current = this.byKey.get(key);
    const joinable =
      current !== undefined &&
      (current.status === 'open' || current.status === 'acknowledged') &&
      event.ts - current.last_ts <= this.options.dedupWindowMs &&
      event.ts >= current.first_ts;
    const cited = [...(observation.cite ?? []), { event_id: event.event_id, ts: event.ts }];
    if (joinable) {
      if (current.event_ids.includes(event.event_id)) return current;
      current.count += 1;
      current.last_ts = Math.max(current.last_ts, event.ts);
      for (const c of cited)
        if (current.event_ids.length < this.options.maxCitedEvents && !current.event_ids.includes(c.event_id))
          current.event_ids.push(c.event_id);
      if (observation.score > current.score) current.score = observation.score;
      if (severityRank(observation.severity) > severityRank(current.severity))
        current.severity = observation.severity;
      // A new member (another host of the same registrable domain) is part of the story: the
      // facts list it and the explanation is rendered again from them. Only a finding that was
      // opened with members (not one stored by an older detector version) gathers them.
      if (observation.members && Array.isArray(current.baseline[MEMBERS_FACT])) {
        const merged = withMembers(current.baseline, observation.members.values);
        if (merged !== current.baseline) {
          current.baseline = merged;
          current.explanation = observation.members.explain(merged);
        }
      }
      return current;
    }
    const facts = observation.members
      ? withMembers(observation.facts, observation.members.values)
      : observation.facts;
    const finding: Finding = {
      finding_id: `f-${sha256(`${key}\n${event.event_id}`).slice(0, 24)}`,
      detector: detector.id,
      detector_version: detector.version,
      identity_id: event.identity_id,
      session: event.session,
      severity: observation.severity,
      score: observation.score,
      title: observation.title,
      explanation: observation.members ? observation.members.explain(facts) : observation.explanation,
      event_ids: [...new Set(cited.map((c) => c.event_id))].slice(0, this.options.maxCitedEvents),
      first_ts: Math.min(...cited.map((c) => c.ts)),
      last_ts: event.ts,
      count: 1,
      status: 'open',
      frameworks: [...(observation.frameworks ?? detector.frameworks)],
      created_at: now,
      dedup_key: key,
      subject: observation.subject,
      term_kind: observation.term?.kind ?? '',
      config_hash: detectorConfigHash(detector),
      baseline: facts,
    };
    this.byKey.set(key, finding);
    return finding;
  }
}

const SEVERITY_WEIGHT: Record<Severity, number> = { low: 1, medium: 3, high: 7, critical: 15 };

/**
 * Per-identity risk: open findings weighted by severity, each halving in weight every
 * `halfLifeDays` since its last event, squashed to 0..100 so dashboards can threshold it.
 */
export function riskScore(
  findings: Iterable<Pick<Finding, 'severity' | 'status' | 'last_ts'>>,
  now: number,
  halfLifeDays = 7,
): number {
  let sum = 0;
  for (const f of findings) {
    if (f.status !== 'open' && f.status !== 'acknowledged') continue;
    const ageDays = Math.max(0, (now - f.last_ts) / DAY_MS);
    sum += SEVERITY_WEIGHT[f.severity] * Math.pow(0.5, ageDays / halfLifeDays);
  }
  return Math.round(100 * (1 - Math.exp(-sum / 20)) * 10) / 10;
}

/** A triage decision as risk history reads it: when, and the status it set. */
export interface StatusChange {
  at: number;
  status: FindingStatus;
}

/**
 * The identity's risk at the end of each of the last `days` UTC days (oldest first): each
 * finding counts from its first event, with the status its triage history gave it by then, and
 * as fresh as its last event up to that day.
 */
export function riskOverTime(
  findings: readonly Pick<Finding, 'finding_id' | 'severity' | 'first_ts' | 'last_ts'>[],
  triage: ReadonlyMap<string, readonly StatusChange[]>,
  days: number,
  now: number,
): { day: string; risk: number }[] {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const out: { day: string; risk: number }[] = [];
  for (let i = days - 1; i >= 0; i -= 1) {
    const start = today - i * DAY_MS;
    const end = Math.min(start + DAY_MS - 1, now);
    const asOf = findings
      .filter((f) => f.first_ts <= end)
      .map((f) => {
        let status: FindingStatus = 'open';
        for (const change of triage.get(f.finding_id) ?? []) if (change.at <= end) status = change.status;
        return { severity: f.severity, status, last_ts: Math.min(f.last_ts, end) };
      });
    out.push({ day: new Date(start).toISOString().slice(0, 10), risk: riskScore(asOf, end) });
  }
  return out;
}
