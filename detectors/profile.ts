import { DAY_MS } from '../common/time.js';
import type { BaselineTermRow, TermKind } from '../model/terms.js';
import type { DetectorEvent } from '../model/detector-event.js';
import { resourceTypeOf, termsOf, toolOfToolResource, type Term } from './terms.js';

/**
 * What one identity did before the event being judged: per kind of term, when each value was
 * first and last seen and how often. Built from ClickHouse's baseline aggregates (history) and
 * then folded forward event by event, so a detector always sees "everything before this event"
 * and nothing after it. Pure data + arithmetic; no I/O.
 */

export interface TermStats {
  firstTs: number;
  lastTs: number;
  count: number;
}

export class IdentityProfile {
  private readonly terms = new Map<TermKind, Map<string, TermStats>>();
  /** Per tool: calls that named a resource, and how many different resources they named. */
  private readonly toolResources = new Map<string, { uses: number; distinct: number }>();
  /** Per resource type: how many different resources of it. */
  private readonly resourceTypes = new Map<string, number>();
  /** Per kind: total uses and distinct values. */
  private readonly totals = new Map<TermKind, { uses: number; distinct: number }>();
  firstTs: number | null = null;
  lastTs: number | null = null;
  events = 0;
  constructor(readonly identityId: string) {}

  /** Adds aggregated history (several rows for one value merge: min first, max last, sum count). */
  addBaseline(row: BaselineTermRow): void {
    this.merge(row.kind, row.value, row.first_ts, row.last_ts, row.count);
    // Every event has exactly one `tool` term, so tool counts are the event counts.
    if (row.kind === 'tool') {
      this.events += row.count;
      this.firstTs = this.firstTs === null ? row.first_ts : Math.min(this.firstTs, row.first_ts);
      this.lastTs = this.lastTs === null ? row.last_ts : Math.max(this.lastTs, row.last_ts);
    }
  }

  /**
   * A value triage allowed: known from now on and never aged out of the window, without
   * counting as activity (event totals, first/last seen stay as they are).
   */
  allow(term: Term): void {
    this.merge(term.kind, term.value, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 0);
  }

  /** A value confirmed as part of an incident: no longer counts as known (rates keep their history). */
  forget(term: Term): void {
    this.terms.get(term.kind)?.delete(term.value);
  }

  /**
   * Folds an event in; `withheld` terms (values under an open finding) count as activity but
   * are not learned. `terms` is termsOf(event), when the caller has it already. Returns the
   * terms this identity learned for the first time (its peers' view).
   */
  observe(
    event: DetectorEvent,
    withheld?: (term: Term) => boolean,
    terms: readonly Term[] = termsOf(event),
  ): Term[] {
    const learned: Term[] = [];
    for (const term of terms) {
      if (withheld?.(term)) continue;
      if (this.merge(term.kind, term.value, event.ts, event.ts, 1)) learned.push(term);
    }
    this.events += 1;
    this.firstTs = this.firstTs === null ? event.ts : Math.min(this.firstTs, event.ts);
    this.lastTs = this.lastTs === null ? event.ts : Math.max(this.lastTs, event.ts);
    return learned;
  }

  /** Adds one observation of a value (this runs for every term of every event); true when it is new. */
  private merge(kind: TermKind, value: string, firstTs: number, lastTs: number, count: number): boolean {
    let byValue = this.terms.get(kind);
    if (byValue === undefined) {
      byValue = new Map();
      this.terms.set(kind, byValue);
    }
    let total = this.totals.get(kind);
    if (total === undefined) {
      total = { uses: 0, distinct: 0 };
      this.totals.set(kind, total);
    }
    total.uses += count;
    const known = byValue.get(value);
    if (kind === 'tool_resource') this.countToolResource(value, count, known === undefined);
    if (known !== undefined) {
      if (firstTs < known.firstTs) known.firstTs = firstTs;
      if (lastTs > known.lastTs) known.lastTs = lastTs;
      known.count += count;
      return false;
    }
    total.distinct += 1;
    if (kind === 'resource') {
      const type = resourceTypeOf(value);
      this.resourceTypes.set(type, (this.resourceTypes.get(type) ?? 0) + 1);
    }
    byValue.set(value, { firstTs, lastTs, count });
    return true;
  }

  private countToolResource(value: string, uses: number, isNew: boolean): void {
    const tool = toolOfToolResource(value);
    let counts = this.toolResources.get(tool);
    if (counts === undefined) {
      counts = { uses: 0, distinct: 0 };
      this.toolResources.set(tool, counts);
    }
    counts.uses += uses;
    if (isNew) counts.distinct += 1;
  }

  /**
   * How often this identity meets something new, as a smoothed rate (Laplace): a support
   * agent that opens a new ticket id on every call makes "new ticket" unremarkable, a bot
   * that always deploys to the same three clusters does not.
   */
  noveltyRate(kind: 'tool' | 'domain' | 'resource', tool?: string): number {
    if (kind === 'resource' && tool !== undefined) {
      const counts = this.toolResources.get(tool);
      if (counts && counts.uses > 0) return (counts.distinct + 1) / (counts.uses + 2);
    }
    const total = this.totals.get(kind) ?? { uses: 0, distinct: 0 };
    return (total.distinct + 1) / (total.uses + 2);
  }

  /** How many different resources of this type the identity has used (ever). */
  resourcesOfType(type: string): number {
    return this.resourceTypes.get(type) ?? 0;
  }

  /** Stats of a value if it was seen inside the window ending at `at`. */
  recall(term: Term, at: number, windowMs: number): TermStats | undefined {
    const stats = this.terms.get(term.kind)?.get(term.value);
    if (!stats || stats.lastTs < at - windowMs) return undefined;
    return stats;
  }

  /** Values of one kind seen inside the window, most frequent first. */
  values(kind: TermKind, at: number, windowMs: number): [string, TermStats][] {
    const byValue = this.terms.get(kind);
    if (!byValue) return [];
    return [...byValue.entries()]
      .filter(([, s]) => s.lastTs >= at - windowMs)
      .sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : 1));
  }

  /** Days between the first event and `at`: how long this identity has been observed. */
  historyDays(at: number): number {
    return this.firstTs === null ? 0 : Math.max(0, (at - this.firstTs) / DAY_MS);
  }
}
