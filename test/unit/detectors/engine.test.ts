import { describe, expect, it } from 'vitest';
import { DetectionEngine } from '../../../detectors/engine.js';
import { createDetectors } from '../../../detectors/catalog.js';
import type { DetectorEvent } from '../../../model/detector-event.js';
import type { Finding } from '../../../model/finding.js';
import { ev, options, payAgain, payments, recipientFindings, resetSeq, run, stream, T0 } from './fixtures.js';

describe('engine', () => {
  it('counts co-novelty only once the identity has a baseline: a first session is all new', () => {
    resetSeq();
    // A new identity's first session: twenty tools, every one of them new, then two more.
    const events = Array.from({ length: 20 }, (_, i) =>
      ev({
        identity_id: 'fresh-role',
        session: 'first',
        tool: `console.describe_${String(i)}`,
        resource_id: '',
        target_domain: '',
      }),
    );
    for (const tool of ['iam.create_user', 'iam.attach_user_policy'])
      events.push(
        ev({
          identity_id: 'fresh-role',
          session: 'first',
          tool,
          action: 'identity.change',
          resource_id: '',
          target_domain: '',
        }),
      );
    const detectors = createDetectors({ 'scope.new_tool': { minScore: 0 } });
    const novel = run(events, { detectors })
      .filter((f) => f.detector === 'scope.new_tool')
      .map((f) => [f.subject, f.baseline.session_novel_before]);
    expect(novel).toEqual([
      ['iam.create_user', 0],
      ['iam.attach_user_policy', 1],
    ]);
    const counted = run(events, { detectors, sessionNoveltyAfterEvents: 0 }).filter(
      (f) => f.detector === 'scope.new_tool',
    );
    expect(counted.map((f) => f.baseline.session_novel_before)).toEqual([20, 21]);
  });

  it('is deterministic: the same events give identical findings', () => {
    expect(JSON.stringify(run(stream()))).toBe(JSON.stringify(run(stream())));
  });

  it('keeps a flagged value out of the baseline until it recurs in enough sessions', () => {
    const findings = run(stream(), { promoteAfterSessions: 3 }).filter(
      (f) => f.detector === 'scope.new_resource',
    );
    expect(findings).toHaveLength(1);
    // Sessions x1, x2 cite it; at x3 the value is promoted to normal and stops being new.
    expect(findings[0]?.count).toBe(3);
    const once = run(stream(), { promoteAfterSessions: 1 }).filter(
      (f) => f.detector === 'scope.new_resource',
    );
    expect(once[0]?.count).toBe(1);
  });

  it('treats a value allowed by triage as known without counting it as activity', () => {
    const events = stream();
    const allowed = new DetectionEngine(options());
    allowed.allow('release-bot', { kind: 'resource', value: 'repo:evil/repo' });
    const fresh = new DetectionEngine(options());
    const hits = (engine: DetectionEngine): number =>
      events.reduce(
        (n, e) => n + engine.process(e).filter((f) => f.detector === 'scope.new_resource').length,
        0,
      );
    expect(hits(fresh)).toBe(1);
    expect(hits(allowed)).toBe(0);
  });

  it('holds a new destination under its finding however often it recurs, until triage', () => {
    const events = payments();
    const [held] = recipientFindings(new DetectionEngine(options({ promoteAfterSessions: 1 })), events);
    // Every session that pays it again is cited: the value was never learned as normal.
    expect(held?.count).toBe(3);
    expect(held?.baseline.fleet_new).toBe(true);
    // Triage allows it (false positive): paying it is normal from then on.
    const triaged = new DetectionEngine(options());
    const history = events.slice(0, -2);
    recipientFindings(triaged, history);
    triaged.applyOverride({
      identity_id: 'payer',
      kind: 'resource',
      value: 'recipient:US133000000121212121212',
      effect: 'allow',
    });
    expect(recipientFindings(triaged, events.slice(-2))).toEqual([]);
  });

  it('lets a young identity learn its destinations: nothing is established to drift from yet', () => {
    const [young] = recipientFindings(new DetectionEngine(options()), payments(6));
    expect(young?.count).toBe(1);
    expect(young?.baseline.held_for_triage).toBe(false);
    expect(young?.baseline.fleet_new).toBe(false);
  });

  it('counts only learned values in the peer view: a destination under review is not common', () => {
    const engine = new DetectionEngine(options());
    recipientFindings(engine, payments());
    const held = { kind: 'resource', value: 'recipient:US133000000121212121212' } as const;
    expect(engine.peers.share(held, 'p1', false)).toBe(0);
    expect(engine.peers.share({ kind: 'resource', value: 'recipient:ACME-PAYROLL' }, 'p1', true)).toBe(1);
  });

  it('seeds history without the destinations its live findings hold out', () => {
    const engine = new DetectionEngine(options());
    const [finding] = recipientFindings(engine, payments());
    const restarted = new DetectionEngine(options());
    if (finding) restarted.loadFindings([finding]);
    restarted.seed([
      {
        identity_id: 'payer',
        kind: 'resource',
        value: 'recipient:US133000000121212121212',
        first_ts: T0,
        last_ts: T0,
        count: 3,
      },
      ...['payer', 'p1', 'p2', 'p3'].map((id) => ({
        identity_id: id,
        kind: 'tool' as const,
        value: 'send_money',
        first_ts: T0,
        last_ts: T0,
        count: 90,
      })),
    ]);
    const touched = restarted.process(payAgain()).filter((f) => f.detector === 'scope.new_resource');
    expect(touched.map((f) => f.finding_id)).toEqual([finding?.finding_id]);
    expect(touched[0]?.count).toBe(4);
  });

  it('an allow outranks older findings on the value, and live triage moves the peer view', () => {
    const engine = new DetectionEngine(options());
    const [finding] = recipientFindings(engine, payments());
    const value = { kind: 'resource', value: 'recipient:US133000000121212121212' } as const;
    expect(engine.peers.share(value, 'p1', false)).toBe(0);
    engine.applyOverride({ identity_id: 'payer', ...value, effect: 'allow' }, true);
    expect(engine.peers.share(value, 'p1', false)).toBe(0.25);
    engine.applyOverride({ identity_id: 'payer', ...value, effect: 'exclude' }, true);
    expect(engine.peers.share(value, 'p1', false)).toBe(0);
    // A fresh engine: findings first, then the latest decision, then the history.
    const fresh = new DetectionEngine(options());
    if (finding) fresh.loadFindings([finding, { ...finding, finding_id: 'f-older', status: 'open' }]);
    fresh.applyOverride({ identity_id: 'payer', ...value, effect: 'allow' });
    fresh.seed([
      { identity_id: 'payer', ...value, first_ts: T0, last_ts: T0, count: 3 },
      { identity_id: 'payer', kind: 'tool', value: 'send_money', first_ts: T0, last_ts: T0, count: 90 },
    ]);
    expect(fresh.process(payAgain()).filter((f) => f.detector === 'scope.new_resource')).toEqual([]);
  });

  it('never learns a value excluded by triage', () => {
    const engine = new DetectionEngine(options({ promoteAfterSessions: 1 }));
    engine.exclude('release-bot', { kind: 'resource', value: 'repo:evil/repo' });
    let hits = 0;
    for (const e of stream())
      hits += engine.process(e).filter((f) => f.detector === 'scope.new_resource').length;
    expect(hits).toBe(4);
  });
});

describe('engine: the transition model', () => {
  /** `sessions` routine sessions of a CI identity (checkout → build → test → deploy), 4 events each. */
  function routine(sessions: number): DetectorEvent[] {
    resetSeq();
    const events: DetectorEvent[] = [];
    for (let s = 0; s < sessions; s++)
      for (const tool of ['ci.checkout', 'ci.build', 'ci.test', 'ci.deploy'])
        events.push(
          ev({ identity_id: 'ci-bot', session: `r-${String(s)}`, tool, resource_id: '', target_domain: '' }),
        );
    return events;
  }
  const skip = (): DetectorEvent[] =>
    ['ci.checkout', 'ci.deploy'].map((tool) =>
      ev({ identity_id: 'ci-bot', session: 'odd', tool, resource_id: '', target_domain: '' }),
    );
  const rare = (findings: readonly Finding[]): Finding[] =>
    findings.filter((f) => f.detector === 'chain.rare_transition');

  it('flags a step a routine identity never took, citing the step before it', () => {
    const events = [...routine(800), ...skip()];
    const [finding, ...more] = rare(run(events));
    expect(more).toEqual([]);
    expect(finding?.subject).toBe('ci.checkout → ci.deploy');
    const odd = events.slice(-2).map((e) => e.event_id);
    expect(finding?.event_ids).toEqual(odd);
    expect(finding?.explanation).toContain('never to `ci.deploy`');
    expect(finding?.explanation).toContain('usually went on to `ci.build`');
    expect(finding?.baseline.history_from_prev1).toBe(800);
  });

  it('stays silent while the routine is too short for a new step to be significant', () => {
    expect(rare(run([...routine(100), ...skip()]))).toEqual([]);
  });

  it('learns transitions from replayed history exactly as from judged events', () => {
    const events = [...routine(800), ...skip()];
    const judged = run(events);
    // Hydration: the first 700 sessions replayed without judging, the rest judged.
    const engine = new DetectionEngine(options());
    const out = new Map<string, Finding>();
    events.forEach((e, i) => {
      if (i < 2800) engine.learnOnly(e);
      else for (const f of engine.process(e)) out.set(f.finding_id, f);
    });
    expect(rare([...out.values()])).toEqual(rare(judged));
  });

  it('continues a session from the tail seeded before the replay', () => {
    const events = [...routine(800), ...skip()];
    const [checkout, deploy] = events.slice(-2);
    if (!checkout || !deploy) throw new Error('two events');
    const engine = new DetectionEngine(options());
    for (const e of events.slice(0, -2)) engine.learnOnly(e);
    // The session's first step happened before the cut: only its tail is known.
    engine.seedSessionTail('ci-bot', 'odd', {
      tool: 'ci.checkout',
      event_id: checkout.event_id,
      ts: checkout.ts,
    });
    const [finding] = rare(engine.process(deploy));
    expect(finding?.subject).toBe('ci.checkout → ci.deploy');
    expect(finding?.event_ids).toEqual([checkout.event_id, deploy.event_id]);
  });

  it('damps a step the rest of the fleet takes routinely', () => {
    const engine = new DetectionEngine(options());
    engine.seedFleetTransitions([
      { identity_id: '', prev2: '', prev1: 'ci.checkout', tool: 'ci.deploy', count: 5000 },
    ]);
    const events = [...routine(800), ...skip()];
    const out: Finding[] = [];
    for (const e of events) out.push(...engine.process(e));
    const alone = rare(run(events))[0]?.score ?? 0;
    expect(alone).toBeGreaterThan(0);
    expect(rare(out)[0]?.score ?? 0).toBeLessThan(alone);
  });
});
