import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../../../common/time.js';
import { DetectionEngine } from '../../../../detectors/engine.js';
import { FindingBook } from '../../../../detectors/findings.js';
import { createNewEgressDetector, registrableDomain } from '../../../../detectors/rules/scope-new-egress.js';
import type { DetectorEvent } from '../../../../model/detector-event.js';
import type { Finding } from '../../../../model/finding.js';
import { context, ev, history, options, resetSeq, T0 } from '../fixtures.js';

/** 60 ordinary calls to api.github.com over ten days (established, warmed up). */
function habits(): DetectorEvent[] {
  resetSeq();
  return Array.from({ length: 60 }, (_, i) =>
    ev({ ts: T0 - 10 * DAY_MS + i * 4 * 3600_000, session: `h${String(Math.floor(i / 5))}` }),
  );
}

const post = (host: string, n: number, session = 'x1'): DetectorEvent =>
  ev({
    event_id: `post-${host}-${String(n)}`,
    ts: T0 + n * 60_000,
    session,
    tool: 'http.post',
    action: 'network.egress',
    resource_type: 'url',
    resource_id: '',
    target_domain: host,
  });

const egressOnly = () => options({ detectors: [createNewEgressDetector()] });

/** Runs events through `engine`; the latest state of each egress finding. */
function judge(engine: DetectionEngine, events: DetectorEvent[]): Finding[] {
  const out = new Map<string, Finding>();
  for (const e of events) for (const f of engine.process(e)) out.set(f.finding_id, structuredClone(f));
  return [...out.values()];
}

describe('registrableDomain', () => {
  it('is the public suffix plus one label, hosts and addresses it cannot place are their own', () => {
    expect(registrableDomain('a1b2.paste-site.example')).toBe('paste-site.example');
    expect(registrableDomain('x.y.paste-site.example')).toBe('paste-site.example');
    expect(registrableDomain('paste-site.example')).toBe('paste-site.example');
    expect(registrableDomain('uploads.github.com')).toBe('github.com');
    expect(registrableDomain('a.b.co.uk')).toBe('b.co.uk');
    // Unknown suffixes count as one label (the list's default rule).
    expect(registrableDomain('k8s.prod.corp.internal')).toBe('corp.internal');
    // The private section keeps tenants of shared hosting apart.
    expect(registrableDomain('raw-events.s3.amazonaws.com')).toBe('raw-events.s3.amazonaws.com');
    expect(registrableDomain('acme.github.io')).toBe('acme.github.io');
    for (const host of ['10.0.0.1', '2001:db8::1', 'localhost', ''])
      expect(registrableDomain(host)).toBe(host);
  });
});

describe('scope.new_egress', () => {
  it('fires on a new destination and lists the known ones', () => {
    const observation = createNewEgressDetector({ minScore: 0 }).evaluate(
      context(
        ev({ tool: 'http.post', target_domain: 'paste.example.net', action: 'network.egress' }),
        history(60),
      ),
    );
    expect(observation?.subject).toBe('example.net');
    expect(observation?.explanation).toContain('`api.github.com`');
    expect(observation?.explanation).toContain('reached `paste.example.net` through `http.post`');
    expect(observation?.term).toEqual({ kind: 'domain', value: 'paste.example.net' });
    expect(observation?.facts).toMatchObject({
      domain: 'paste.example.net',
      registrable_domain: 'example.net',
      members: ['paste.example.net'],
      member_count: 1,
    });
  });

  it('words a host that is its own registrable domain as before', () => {
    const observation = createNewEgressDetector({ minScore: 0 }).evaluate(
      context(
        ev({ tool: 'http.post', target_domain: 'drop.example', action: 'network.egress' }),
        history(60),
      ),
    );
    expect(observation?.subject).toBe('drop.example');
    expect(observation?.explanation).toMatch(
      /^`release-bot` reached `drop\.example` through `http\.post` for the first time; in 30 days it contacted 1 domain: `api\.github\.com`\./,
    );
  });

  it('random subdomains of one site are one finding that lists and counts the hosts', () => {
    const engine = new DetectionEngine(egressOnly());
    for (const e of habits()) engine.process(e);
    const findings = judge(engine, [
      post('a1b2.paste-site.example', 1),
      post('c3d4.paste-site.example', 2),
      post('a1b2.paste-site.example', 3, 'x2'),
    ]);
    expect(findings).toHaveLength(1);
    const [finding] = findings;
    expect(finding?.subject).toBe('paste-site.example');
    expect(finding?.title).toBe('release-bot reached a new domain: paste-site.example');
    expect(finding?.count).toBe(3);
    expect(finding?.baseline).toMatchObject({
      registrable_domain: 'paste-site.example',
      members: ['a1b2.paste-site.example', 'c3d4.paste-site.example'],
      member_count: 2,
      held_for_triage: true,
    });
    expect(finding?.explanation).toContain(
      'reached 2 new hosts of `paste-site.example`: `a1b2.paste-site.example`, `c3d4.paste-site.example` (the first through `http.post`)',
    );
    // Each host stays out of the baseline until triage: a later use of either joins again.
    const again = judge(engine, [post('c3d4.paste-site.example', 4, 'x3')]);
    expect(again.map((f) => [f.finding_id, f.count])).toEqual([[finding?.finding_id, 4]]);
  });

  it('a finding that joins hosts after a restart reads byte for byte as one kept in memory', () => {
    const detector = createNewEgressDetector();
    const profile = history(60);
    const seen = [post('a1b2.paste-site.example', 1), post('c3d4.paste-site.example', 2)].map((e) => {
      const observation = detector.evaluate(context(e, profile));
      if (!observation) throw new Error(`no observation for ${e.target_domain}`);
      return { e, observation };
    });
    const book = (): FindingBook => new FindingBook({ dedupWindowMs: 7 * DAY_MS, maxCitedEvents: 50 });
    const kept = book();
    for (const { e, observation } of seen) kept.record(detector, e, observation, e.ts);
    const [first, second] = seen;
    if (!first || !second) throw new Error('two observations');
    const before = book();
    const stored = JSON.parse(
      JSON.stringify(before.record(detector, first.e, first.observation, first.e.ts)),
    ) as Finding;
    const after = book();
    after.load([stored]);
    const resumed = after.record(detector, second.e, second.observation, second.e.ts);
    const inMemory = kept.record(detector, second.e, second.observation, second.e.ts);
    expect(JSON.stringify(resumed)).toBe(JSON.stringify(inMemory));
    expect(resumed.baseline.members).toEqual(['a1b2.paste-site.example', 'c3d4.paste-site.example']);
  });

  it('a new host of a registrable domain the identity already reaches scores lower', () => {
    const detector = createNewEgressDetector({ minScore: 0 });
    const profile = history(60);
    const egress = (host: string) =>
      detector.evaluate(context(ev({ tool: 'git.push', action: 'code.push', target_domain: host }), profile));
    const sibling = egress('uploads.github.com');
    const stranger = egress('uploads.gitlab-mirror.example');
    expect(sibling?.subject).toBe('github.com');
    expect(sibling?.facts).toMatchObject({
      registrable_domain: 'github.com',
      sibling_hosts: ['api.github.com'],
    });
    expect(sibling?.title).toBe('release-bot reached a new host of github.com');
    expect(sibling?.explanation).toContain(
      'a new host of `github.com`, where it already used `api.github.com`',
    );
    expect(stranger?.facts.sibling_hosts).toEqual([]);
    expect(stranger?.explanation).toContain('a domain (`gitlab-mirror.example`) it never contacted');
    expect(sibling?.score ?? 1).toBeLessThan(stranger?.score ?? 0);
  });
});
