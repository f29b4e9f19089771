import { describe, expect, it } from 'vitest';
import {
  dedupKey,
  FindingBook,
  findingTerms,
  MAX_FINDING_MEMBERS,
  riskOverTime,
  riskScore,
} from '../../../detectors/findings.js';
import { createNewToolDetector } from '../../../detectors/rules/scope-new-tool.js';
import type { Detector, Observation } from '../../../detectors/types.js';
import { DAY_MS } from '../../../common/time.js';
import type { BaselineFacts, Finding } from '../../../model/finding.js';
import { ev, T0 } from './fixtures.js';

describe('findings book', () => {
  const detector: Detector = createNewToolDetector();
  const observation = {
    subject: 'x.tool',
    severity: 'high' as const,
    score: 0.7,
    title: 't',
    explanation: 'e',
    facts: {},
  };

  it('repeats inside the window raise count and last_ts; outside it open a new finding', () => {
    const book = new FindingBook({ dedupWindowMs: DAY_MS, maxCitedEvents: 2 });
    const a = book.record(detector, ev({ ts: T0 }), observation, T0);
    const b = book.record(
      detector,
      ev({ ts: T0 + 3600_000 }),
      { ...observation, severity: 'critical', score: 0.9 },
      T0,
    );
    const c = book.record(detector, ev({ ts: T0 + 7200_000 }), observation, T0);
    expect(b).toBe(a);
    expect(c.count).toBe(3);
    expect(c.event_ids).toHaveLength(2);
    expect(c.severity).toBe('critical');
    expect(c.last_ts).toBe(T0 + 7200_000);
    const later = book.record(detector, ev({ ts: T0 + 3 * DAY_MS }), observation, T0);
    expect(later.finding_id).not.toBe(a.finding_id);
  });

  it('derives ids from the dedup key and the first event: same input, same id', () => {
    const event = ev();
    const one = new FindingBook({ dedupWindowMs: DAY_MS, maxCitedEvents: 5 }).record(
      detector,
      event,
      observation,
      1,
    );
    const two = new FindingBook({ dedupWindowMs: DAY_MS, maxCitedEvents: 5 }).record(
      detector,
      event,
      observation,
      2,
    );
    expect(one.finding_id).toBe(two.finding_id);
    expect(one.dedup_key).toBe(dedupKey(event.identity_id, detector.id, 'x.tool'));
  });

  it('unions members into the facts and renders the explanation again only when one is added', () => {
    const explain = (facts: BaselineFacts): string =>
      `hosts: ${String(facts.member_count)} (${Array.isArray(facts.members) ? facts.members.join(' ') : ''})`;
    const host = (value: string): Observation => ({
      ...observation,
      subject: 'paste.example',
      term: { kind: 'domain', value },
      facts: { held_for_triage: true },
      members: { values: [value], explain },
    });
    const book = new FindingBook({ dedupWindowMs: DAY_MS, maxCitedEvents: 5 });
    const a = book.record(detector, ev({ ts: T0 }), host('a.paste.example'), T0);
    expect(a.baseline).toEqual({ held_for_triage: true, members: ['a.paste.example'], member_count: 1 });
    expect(a.explanation).toBe('hosts: 1 (a.paste.example)');
    book.record(detector, ev({ ts: T0 + 1 }), host('b.paste.example'), T0);
    const c = book.record(detector, ev({ ts: T0 + 2 }), host('a.paste.example'), T0);
    expect(c).toBe(a);
    expect(c.count).toBe(3);
    expect(c.baseline.members).toEqual(['a.paste.example', 'b.paste.example']);
    expect(c.explanation).toBe('hosts: 2 (a.paste.example b.paste.example)');
    expect(findingTerms(c)).toEqual([
      { kind: 'domain', value: 'paste.example' },
      { kind: 'domain', value: 'a.paste.example' },
      { kind: 'domain', value: 'b.paste.example' },
    ]);
    // A flood of hosts is listed up to a cap, and the facts say when it was reached.
    for (let i = 0; i < MAX_FINDING_MEMBERS + 5; i += 1)
      book.record(detector, ev({ ts: T0 + 10 + i }), host(`h${String(i)}.paste.example`), T0);
    expect(c.baseline.member_count).toBe(MAX_FINDING_MEMBERS);
    expect(c.baseline.members_capped).toBe(true);
    expect(findingTerms({ term_kind: '', subject: 'x', baseline: {} })).toEqual([]);
    // A finding stored by an older detector version, opened without members, keeps its words.
    const older = new FindingBook({ dedupWindowMs: DAY_MS, maxCitedEvents: 5 });
    const stored = { ...a, event_ids: [], baseline: { held_for_triage: true }, explanation: 'old words' };
    older.load([stored]);
    const joined = older.record(detector, ev({ ts: T0 + 1 }), host('b.paste.example'), T0);
    expect(joined.finding_id).toBe(a.finding_id);
    expect(joined.explanation).toBe('old words');
    expect(joined.baseline).toEqual({ held_for_triage: true });
  });

  it('risk decays with time and ignores closed findings', () => {
    const f = (severity: Finding['severity'], status: Finding['status'], last: number) => ({
      severity,
      status,
      last_ts: last,
    });
    const now = T0 + 30 * DAY_MS;
    const fresh = riskScore([f('critical', 'open', now)], now);
    const old = riskScore([f('critical', 'open', T0)], now);
    expect(fresh).toBeGreaterThan(old);
    expect(riskScore([f('critical', 'false_positive', now)], now)).toBe(0);
    expect(riskScore([], now)).toBe(0);
  });

  it('risk over time: each day counts the findings open by then, with the status triage gave them then', () => {
    const day0 = Math.floor(T0 / DAY_MS) * DAY_MS;
    const now = day0 + 4 * DAY_MS + 3_600_000;
    const findings = [
      {
        finding_id: 'a',
        severity: 'critical' as const,
        first_ts: day0 + DAY_MS + 10,
        last_ts: day0 + DAY_MS + 10,
      },
      {
        finding_id: 'b',
        severity: 'high' as const,
        first_ts: day0 + 2 * DAY_MS + 10,
        last_ts: day0 + 3 * DAY_MS,
      },
    ];
    // `a` was closed on day 3 (and stays closed); `b` is still open.
    const triage = new Map([['a', [{ at: day0 + 3 * DAY_MS + 5, status: 'false_positive' as const }]]]);
    const series = riskOverTime(findings, triage, 5, now);
    expect(series.map((p) => p.day)).toEqual(
      [0, 1, 2, 3, 4].map((i) => new Date(day0 + i * DAY_MS).toISOString().slice(0, 10)),
    );
    const [d0, d1, d2, d3, d4] = series.map((p) => p.risk);
    expect(d0).toBe(0);
    expect(d1).toBeGreaterThan(0);
    expect(d2).toBeGreaterThan(d1 ?? 0);
    // Closing `a` lowers day 3's risk below day 2's although `b` got a fresh event on day 3.
    expect(d3).toBeLessThan(d2 ?? 0);
    expect(d3).toBe(
      riskScore([{ severity: 'high', status: 'open', last_ts: day0 + 3 * DAY_MS }], day0 + 4 * DAY_MS - 1),
    );
    // The last point is today, as of now.
    expect(d4).toBe(riskScore([{ severity: 'high', status: 'open', last_ts: day0 + 3 * DAY_MS }], now));
  });
});
