import { createHash } from 'node:crypto';
import { DAY_MS } from '../common/time.js';
import type { DetectorEvent } from '../model/detector-event.js';
import { SEVERITIES, type Finding, type Severity } from '../model/finding.js';
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
      return current;
    }
    const finding: Finding = {
      finding_id: `f-${sha256(`${key}\n${event.event_id}`).slice(0, 24)}`,
      detector: detector.id,
      detector_version: detector.version,
      identity_id: event.identity_id,
      session: event.session,
      severity: observation.severity,
      score: observation.score,
      title: observation.title,
      explanation: observation.explanation,
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
      baseline: observation.facts,
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
