import { describe, expect, it } from 'vitest';
import { createDetectors } from '../../detectors/catalog.js';
import { DEFAULT_ENGINE_OPTIONS, DetectionEngine, type EngineOptions } from '../../detectors/engine.js';
import type { DetectorEvent } from '../../model/detector-event.js';
import { dedupKey, FindingBook, riskScore } from '../../detectors/findings.js';
import type { Finding } from '../../model/finding.js';
import { PeerIndex } from '../../detectors/peers.js';
import { IdentityProfile } from '../../detectors/profile.js';
import { DAY_MS } from '../../common/time.js';
import type { IdentityRecord } from '../../model/identity.js';
import {
  createDormantReactivationDetector,
  createRevokedActivityDetector,
  createUnregisteredDetector,
} from '../../detectors/rules/lifecycle.js';
import { createDeclaredViolationDetector } from '../../detectors/rules/scope-declared-violation.js';
import { createNewEgressDetector } from '../../detectors/rules/scope-new-egress.js';
import { createWorkloadInteractiveDetector } from '../../detectors/rules/workload-interactive.js';
import { createNewResourceDetector } from '../../detectors/rules/scope-new-resource.js';
import { createNewToolDetector } from '../../detectors/rules/scope-new-tool.js';
import { createPrivilegeEscalationDetector } from '../../detectors/rules/scope-privilege-escalation.js';
import { SessionNovelty } from '../../detectors/session.js';
import { isRemoval, operationOf, ownResourceRemoved } from '../../detectors/housekeeping.js';
import { isDestination, resourcePrefix, resourceTypeOf, termsOf } from '../../detectors/terms.js';
import type { Detector, DetectorContext, Observation } from '../../detectors/types.js';

const T0 = Date.UTC(2026, 2, 1);
let seq = 0;

function ev(over: Partial<DetectorEvent> = {}): DetectorEvent {
  seq += 1;
  return {
    event_id: `e-${String(seq).padStart(6, '0')}`,
    ts: T0 + seq * 60_000,
    identity_id: 'release-bot',
    identity_type: 'agent',
    identity_credential: '',
    session: `s-${String(Math.floor(seq / 5))}`,
    action: 'api.call',
    tool: 'github.get_pull_request',
    resource_type: 'repo',
    resource_id: 'acme/api',
    target_domain: 'api.github.com',
    outcome: 'success',
    approval_id: '',
    source_ip: '',
    source_user_agent: '',
    ...over,
  };
}

/** A profile with `n` ordinary events spread over `days` days before T0. */
function history(n: number, days = 10, over: Partial<DetectorEvent> = {}): IdentityProfile {
  const profile = new IdentityProfile('release-bot');
  for (let i = 0; i < n; i += 1) {
    const tools = ['github.get_pull_request', 'git.commit', 'git.push'];
    const repos = ['acme/api', 'acme/web', 'acme/docs'];
    profile.observe(
      ev({
        ts: T0 - days * DAY_MS + Math.floor((i * days * DAY_MS) / n),
        tool: tools[i % 3] ?? 'git.commit',
        resource_id: repos[i % 3] ?? 'acme/api',
        action: i % 3 === 0 ? 'api.call' : 'code.push',
        ...over,
      }),
    );
  }
  return profile;
}

function context(
  event: DetectorEvent,
  profile: IdentityProfile,
  over: Partial<DetectorContext> = {},
): DetectorContext {
  return {
    event,
    profile,
    identity: undefined,
    registryLoaded: false,
    peers: new PeerIndex(),
    session: new SessionNovelty(),
    ...over,
  };
}

describe('terms', () => {
  it.each([
    ['acme/api', 'acme/'],
    ['prod-finance', 'prod-'],
    ['https://files.example.com/a/b', 'files.example.com/'],
    ['s3://raw-events/2026/11/part-1', 'raw-events/'],
    ['bucket_logs', 'bucket_'],
    ['US133000000121212121212', ''],
    ['-leading', ''],
    ['trailing-', ''],
    ['acme/', ''],
    ['', ''],
  ])('resourcePrefix(%j) = %j', (id, prefix) => {
    expect(resourcePrefix(id)).toBe(prefix);
  });

  it('extracts one term per kind, typed resources apart from untyped', () => {
    const terms = termsOf(
      ev({ identity_credential: 'AKIA1', resource_id: 'acme/api', target_domain: 'x.io' }),
    );
    expect(terms.map((t) => `${t.kind}=${t.value}`)).toEqual([
      'tool=github.get_pull_request',
      'action=api.call',
      'resource=repo:acme/api',
      'tool_resource=github.get_pull_request\u0001repo:acme/api',
      'resource_prefix=repo:acme/',
      'domain=x.io',
      'credential=AKIA1',
    ]);
    expect(termsOf(ev({ resource_id: '', target_domain: '' })).map((t) => t.kind)).toEqual([
      'tool',
      'action',
    ]);
  });

  it('remembers the resources an identity changed, not those it only read', () => {
    const kinds = (e: DetectorEvent): string[] => termsOf(e).map((t) => t.kind);
    expect(
      termsOf(ev({ action: 'identity.change', resource_type: 'iam_role', resource_id: 'ci' })),
    ).toContainEqual({
      kind: 'resource_changed',
      value: 'iam_role:ci',
    });
    expect(kinds(ev({ action: 'data.read' }))).not.toContain('resource_changed');
    expect(kinds(ev({ action: 'secret.read' }))).not.toContain('resource_changed');
    expect(kinds(ev({ action: 'data.write', resource_id: '' }))).not.toContain('resource_changed');
  });
});

describe('housekeeping', () => {
  it('reads the operation out of tool names of every shape', () => {
    expect(operationOf('iam.amazonaws.com:DeleteRole')).toBe('DeleteRole');
    expect(operationOf('github.repo.destroy')).toBe('destroy');
    expect(operationOf('mcp/filesystem/delete_file')).toBe('delete_file');
    expect(operationOf('delete_file')).toBe('delete_file');
  });

  it.each([
    ['data.delete', 'files.trash', true],
    ['identity.change', 'iam.amazonaws.com:DetachRolePolicy', true],
    ['data.write', 'ec2.amazonaws.com:DisassociateRouteTable', true],
    ['identity.change', 'iam.amazonaws.com:CreateRole', false],
    ['data.read', 'iam.amazonaws.com:DeleteRole', false],
    ['deploy', 'argo.remove_app', true],
    ['api.call', 'delete_file', false],
  ] as const)('%s %s is a removal: %s', (action, tool, removal) => {
    expect(isRemoval({ action, tool })).toBe(removal);
  });

  const built = (): IdentityProfile => {
    const profile = history(60);
    profile.observe(
      ev({
        tool: 'iam.create_role',
        action: 'identity.change',
        resource_type: 'iam_role',
        resource_id: 'ci-runner',
      }),
    );
    profile.observe(
      ev({ tool: 'iam.get_role', action: 'data.read', resource_type: 'iam_role', resource_id: 'admin' }),
    );
    return profile;
  };
  const removal = (resource: string): DetectorEvent =>
    ev({
      tool: 'iam.delete_role',
      action: 'identity.change',
      resource_type: 'iam_role',
      resource_id: resource,
    });
  const window = 30 * DAY_MS;

  it('recognises removing what the identity itself changed, not what it only looked at', () => {
    const profile = built();
    expect(ownResourceRemoved(removal('ci-runner'), profile, window)?.count).toBe(1);
    expect(ownResourceRemoved(removal('admin'), profile, window)).toBeUndefined();
    expect(ownResourceRemoved(removal('never-seen'), profile, window)).toBeUndefined();
  });

  it('forgets ownership outside the window, and for a resource held out of the baseline', () => {
    const profile = built();
    const late = { ...removal('ci-runner'), ts: T0 + 40 * DAY_MS };
    expect(ownResourceRemoved(late, profile, window)).toBeUndefined();
    const held = history(60);
    held.observe(
      ev({
        tool: 'hooks.create',
        action: 'data.write',
        resource_type: 'webhook',
        resource_id: 'https://x.example',
      }),
      (t) => t.kind === 'resource',
    );
    const undo = ev({
      tool: 'hooks.delete',
      action: 'data.delete',
      resource_type: 'webhook',
      resource_id: 'https://x.example',
    });
    expect(ownResourceRemoved(undo, held, window)).toBeUndefined();
  });

  it('keeps scope.new_tool and scope.privilege_escalation quiet about cleaning up, unless configured not to', () => {
    const profile = built();
    const teardown = ev({
      tool: 'iam.delete_role',
      action: 'data.delete',
      resource_type: 'iam_role',
      resource_id: 'ci-runner',
    });
    expect(createNewToolDetector().evaluate(context(teardown, profile))).toBeNull();
    const foreign = { ...teardown, resource_id: 'admin' };
    expect(createNewToolDetector().evaluate(context(foreign, profile))).not.toBeNull();
    // Deleting for the first time is an escalation, except when it is the identity's own file.
    const files = history(60);
    files.observe(
      ev({ tool: 'files.write', action: 'data.write', resource_type: 'file', resource_id: 'out.csv' }),
    );
    files.observe(
      ev({ tool: 'files.read', action: 'data.read', resource_type: 'file', resource_id: 'payroll.csv' }),
    );
    const remove = (id: string): DetectorEvent =>
      ev({ tool: 'files.delete', action: 'data.delete', resource_type: 'file', resource_id: id });
    const escalation = createPrivilegeEscalationDetector();
    expect(escalation.evaluate(context(remove('out.csv'), files))).toBeNull();
    expect(escalation.evaluate(context(remove('payroll.csv'), files))?.subject).toBe('delete');
    // Reaching a new domain while cleaning up is still a new egress.
    const egress = createNewEgressDetector().evaluate(
      context({ ...teardown, target_domain: 'drop.example' }, profile),
    );
    expect(egress?.subject).toBe('drop.example');
    const strict = createNewToolDetector({ housekeeping: false });
    expect(strict.config.housekeeping).toBe(false);
    expect(strict.evaluate(context(teardown, profile))).not.toBeNull();
  });
});

describe('destinations', () => {
  it.each([
    [{ kind: 'domain', value: 'paste.example.net' }, true],
    [{ kind: 'resource', value: 'recipient:US133000000121212121212' }, true],
    [{ kind: 'resource', value: 'url:https://x.io/a' }, true],
    [{ kind: 'resource', value: 'email:bob@x.io' }, true],
    [{ kind: 'resource', value: 'repo:acme/api' }, false],
    [{ kind: 'resource', value: 'recipient' }, false],
    [{ kind: 'tool', value: 'send_money' }, false],
    [{ kind: 'tool_resource', value: 'send_money\u0001recipient:US1' }, false],
  ] as const)('isDestination(%j) = %j', (term, expected) => {
    expect(isDestination(term)).toBe(expected);
  });

  it('reads the type of a resource key', () => {
    expect(resourceTypeOf('recipient:US1')).toBe('recipient');
    expect(resourceTypeOf('url:https://x.io')).toBe('url');
    expect(resourceTypeOf('GXWCPN')).toBe('');
  });
});

describe('profile', () => {
  it('remembers values inside the window and forgets them after it', () => {
    const profile = history(30, 40);
    const tool = { kind: 'tool', value: 'git.commit' } as const;
    expect(profile.recall(tool, T0, 30 * DAY_MS)).toBeDefined();
    expect(profile.recall(tool, T0 + 60 * DAY_MS, 30 * DAY_MS)).toBeUndefined();
    expect(profile.events).toBe(30);
    expect(profile.historyDays(T0)).toBeCloseTo(40, 0);
  });

  it('rates novelty per tool: a tool that always meets new resources makes new ones unsurprising', () => {
    const profile = new IdentityProfile('support');
    for (let i = 0; i < 50; i += 1) {
      profile.observe(
        ev({
          identity_id: 'support',
          tool: 'zendesk.get_ticket',
          resource_type: 'ticket',
          resource_id: `T-${String(i)}`,
        }),
      );
      profile.observe(
        ev({ identity_id: 'support', tool: 'kb.search', resource_type: 'kb', resource_id: 'kb/main' }),
      );
    }
    expect(profile.noveltyRate('resource', 'zendesk.get_ticket')).toBeGreaterThan(0.9);
    expect(profile.noveltyRate('resource', 'kb.search')).toBeLessThan(0.05);
  });

  it('does not learn withheld terms but still counts the event', () => {
    const profile = new IdentityProfile('a');
    profile.observe(ev({ identity_id: 'a', tool: 'odd.tool' }), (t) => t.kind === 'tool');
    expect(profile.recall({ kind: 'tool', value: 'odd.tool' }, T0 + DAY_MS, DAY_MS * 30)).toBeUndefined();
    expect(profile.events).toBe(1);
  });
});

describe('scope.new_tool', () => {
  const detector = createNewToolDetector();

  it('fires on a tool never used, explaining the baseline with numbers', () => {
    const profile = history(60);
    const observation = detector.evaluate(
      context(ev({ tool: 'iam.create_access_key', action: 'identity.change' }), profile),
    );
    expect(observation).not.toBeNull();
    expect(observation?.subject).toBe('iam.create_access_key');
    expect(observation?.explanation).toContain('for the first time');
    expect(observation?.explanation).toContain('60 calls with 3 tools');
    expect(observation?.facts.known_tool_count).toBe(3);
    expect(['high', 'critical']).toContain(observation?.severity);
  });

  it('is silent for a known tool, and during warm-up', () => {
    expect(detector.evaluate(context(ev({ tool: 'git.commit' }), history(60)))).toBeNull();
    expect(detector.evaluate(context(ev({ tool: 'iam.create_access_key' }), history(5)))).toBeNull();
  });

  it('honours warm-up days and the history window from its config', () => {
    const strict = createNewToolDetector({ warmupDays: 30 });
    expect(
      strict.evaluate(context(ev({ tool: 'iam.x', action: 'identity.change' }), history(60, 10))),
    ).toBeNull();
    const shortWindow = createNewToolDetector({ windowDays: 1 });
    const stale = history(60, 40);
    const later = ev({ ts: T0 + 10 * DAY_MS, tool: 'git.commit', action: 'code.push' });
    expect(shortWindow.evaluate(context(later, stale))).not.toBeNull();
  });

  it('weighs a tool most peers use less than one nobody uses', () => {
    const profile = history(60);
    const event = ev({ tool: 'slack.post', action: 'api.call' });
    const peers = new PeerIndex();
    for (const id of ['a', 'b', 'c', 'd']) peers.add(id, { kind: 'tool', value: 'slack.post' });
    peers.addIdentity('release-bot');
    const lonely = createNewToolDetector({ minScore: 0 }).evaluate(context(event, profile));
    const common = createNewToolDetector({ minScore: 0 }).evaluate(context(event, profile, { peers }));
    expect(common?.score ?? 1).toBeLessThan(lonely?.score ?? 0);
    expect(common?.explanation).toContain('100% of other identities use it');
  });

  it('scores higher when other first-seen things happened earlier in the session', () => {
    const profile = history(60);
    const event = ev({ tool: 'http.post', action: 'network.egress' });
    const busy = new SessionNovelty();
    busy.add({ kind: 'tool', value: 'vault.read' }, event.ts);
    busy.add({ kind: 'domain', value: 'paste.example' }, event.ts);
    const alone = createNewToolDetector({ minScore: 0 }).evaluate(context(event, profile));
    const together = createNewToolDetector({ minScore: 0 }).evaluate(
      context(event, profile, { session: busy }),
    );
    expect(together?.score ?? 0).toBeGreaterThan(alone?.score ?? 1);
  });
});

describe('scope.new_resource', () => {
  const detector = createNewResourceDetector({ minScore: 0 });

  it('names the family the identity never touched', () => {
    const observation = detector.evaluate(
      context(ev({ tool: 'git.push', resource_id: 'prod-finance/ledger', action: 'code.push' }), history(60)),
    );
    expect(observation?.explanation).toContain('none matching `prod-finance/*`');
    expect(observation?.facts.prefix_known).toBe(false);
  });

  it('scores a new member of a known family lower than a new family', () => {
    const profile = history(60);
    const known = detector.evaluate(
      context(ev({ tool: 'git.push', resource_id: 'acme/billing', action: 'code.push' }), profile),
    );
    const unknown = detector.evaluate(
      context(ev({ tool: 'git.push', resource_id: 'evil/billing', action: 'code.push' }), profile),
    );
    expect(known?.facts.prefix_known).toBe(true);
    expect(known?.score ?? 1).toBeLessThan(unknown?.score ?? 0);
  });

  it('treats the type as the family of opaque ids the identity already works with many of', () => {
    const profile = new IdentityProfile('support');
    for (let i = 0; i < 40; i += 1)
      profile.observe(
        ev({
          identity_id: 'support',
          tool: 'get_reservation',
          resource_type: 'reservation_id',
          resource_id: `R${String(i % 4)}X${String(i)}`.slice(0, 6),
        }),
      );
    const opaque = (type: string): DetectorEvent =>
      ev({ identity_id: 'support', tool: 'get_reservation', resource_type: type, resource_id: 'QKRY03' });
    const member = detector.evaluate(context(opaque('reservation_id'), profile));
    const stranger = detector.evaluate(context(opaque('payment_card'), profile));
    expect(member?.facts.prefix_known).toBe(true);
    expect(stranger?.facts.prefix_known).toBe(false);
    expect(member?.score ?? 1).toBeLessThan(stranger?.score ?? 0);
  });

  it('raises a destination nobody in the fleet uses above one its peers use', () => {
    const profile = history(60);
    const peers = new PeerIndex();
    for (const id of ['a', 'b', 'c', 'd']) peers.add(id, { kind: 'tool', value: 'git.push' });
    for (const id of ['a', 'b']) peers.add(id, { kind: 'resource', value: 'recipient:ACME-PAYROLL' });
    const send = (to: string): DetectorEvent =>
      ev({ tool: 'send_money', action: 'tool.call', resource_type: 'recipient', resource_id: to });
    const fleetNew = detector.evaluate(context(send('US133000000121212121212'), profile, { peers }));
    const common = detector.evaluate(context(send('ACME-PAYROLL'), profile, { peers }));
    expect(fleetNew?.facts.fleet_new).toBe(true);
    expect(common?.facts.fleet_new).toBe(false);
    expect(fleetNew?.score ?? 0).toBeGreaterThan((common?.score ?? 1) + 0.3);
    expect(fleetNew?.explanation).toContain('No other identity');
    // Fewer than three other identities say nothing about the fleet.
    const small = new PeerIndex();
    small.add('a', { kind: 'tool', value: 'git.push' });
    const alone = detector.evaluate(context(send('US133000000121212121212'), profile, { peers: small }));
    expect(alone?.facts.fleet_new).toBe(false);
  });

  it('takes its destination types from its config', () => {
    const profile = history(60);
    const payee = (types?: string[]): Observation | null =>
      createNewResourceDetector({ minScore: 0, ...(types ? { destinationTypes: types } : {}) }).evaluate(
        context(
          ev({ tool: 'pay', action: 'tool.call', resource_type: 'payee', resource_id: 'ACME-9' }),
          profile,
        ),
      );
    expect(payee()?.facts.held_for_triage).toBe(false);
    expect(payee(['payee'])?.facts.held_for_triage).toBe(true);
    expect(createNewResourceDetector({ destinationTypes: ['url', 'payee', 'url'] }).config).toMatchObject({
      destinationTypes: 'payee,url',
    });
  });

  it('ignores events without a resource and known resources', () => {
    expect(detector.evaluate(context(ev({ resource_id: '' }), history(60)))).toBeNull();
    expect(
      detector.evaluate(
        context(ev({ resource_id: 'acme/api', tool: 'github.get_pull_request' }), history(60)),
      ),
    ).toBeNull();
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
    expect(observation?.subject).toBe('paste.example.net');
    expect(observation?.explanation).toContain('`api.github.com`');
    expect(observation?.term).toEqual({ kind: 'domain', value: 'paste.example.net' });
  });
});

describe('scope.privilege_escalation', () => {
  const detector = createPrivilegeEscalationDetector();
  it('fires when the action class climbs above anything in the history', () => {
    const observation = detector.evaluate(context(ev({ action: 'deploy', tool: 'argo.sync' }), history(60)));
    expect(observation?.subject).toBe('admin');
    expect(observation?.facts.previous_level).toBe('write');
  });
  it('is silent at or below the highest level seen', () => {
    expect(detector.evaluate(context(ev({ action: 'data.read' }), history(60)))).toBeNull();
    expect(detector.evaluate(context(ev({ action: 'code.commit' }), history(60)))).toBeNull();
  });
  it('does not call starting to read an escalation', () => {
    const callsOnly = history(60, 10, { action: 'tool.call' });
    expect(detector.evaluate(context(ev({ action: 'data.read' }), callsOnly))).toBeNull();
    expect(detector.evaluate(context(ev({ action: 'data.write' }), callsOnly))?.subject).toBe('write');
  });
});

describe('lifecycle.dormant_reactivation', () => {
  it('fires after a silence longer than the threshold, not before', () => {
    const detector = createDormantReactivationDetector({ dormantDays: 30 });
    const profile = history(60, 10);
    expect(detector.evaluate(context(ev({ ts: T0 + 5 * DAY_MS }), profile))).toBeNull();
    const observation = detector.evaluate(context(ev({ ts: T0 + 45 * DAY_MS }), profile));
    expect(observation?.title).toContain('after 45 days');
  });
});

describe('identity.unregistered', () => {
  const detector = createUnregisteredDetector();
  const registered: IdentityRecord = {
    id: 'release-bot',
    type: 'agent',
    owner: 'platform',
    purpose: 'ships releases',
    state: 'active',
    stateChangedAt: null,
    credentials: [],
    scope: null,
    registered: true,
  };
  it('needs a registry to mean anything', () => {
    expect(detector.evaluate(context(ev(), history(1)))).toBeNull();
    expect(detector.evaluate(context(ev(), history(1), { registryLoaded: true }))).not.toBeNull();
    expect(
      detector.evaluate(context(ev(), history(1), { registryLoaded: true, identity: registered })),
    ).toBeNull();
  });
});

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
});

describe('engine', () => {
  const options = (over: Partial<EngineOptions> = {}): EngineOptions => ({
    ...DEFAULT_ENGINE_OPTIONS,
    detectors: createDetectors(),
    registry: null,
    now: (e) => e.ts,
    ...over,
  });

  function run(events: DetectorEvent[], over: Partial<EngineOptions> = {}): Finding[] {
    const engine = new DetectionEngine(options(over));
    const out = new Map<string, Finding>();
    for (const e of events) for (const f of engine.process(e)) out.set(f.finding_id, structuredClone(f));
    return [...out.values()];
  }

  const stream = (): DetectorEvent[] => {
    seq = 0;
    const events: DetectorEvent[] = [];
    for (let i = 0; i < 80; i += 1)
      events.push(ev({ tool: i % 2 ? 'git.commit' : 'git.push', action: 'code.push' }));
    // The same suspicious recipient in three later sessions: the finding stays open and cites each.
    for (const s of ['x1', 'x2', 'x3'])
      events.push(ev({ session: s, tool: 'git.push', resource_id: 'evil/repo', action: 'code.push' }));
    events.push(ev({ session: 'x4', tool: 'git.push', resource_id: 'evil/repo', action: 'code.push' }));
    return events;
  };

  it('counts co-novelty only once the identity has a baseline: a first session is all new', () => {
    seq = 0;
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

  /**
   * 60 ordinary calls by each of five agents over `historyHours`, then `payer` pays the same
   * new recipient in three sessions.
   */
  const payments = (historyHours = 48): DetectorEvent[] => {
    seq = 0;
    const events: DetectorEvent[] = [];
    for (let i = 0; i < 60; i += 1)
      for (const id of ['payer', 'p1', 'p2', 'p3', 'p4'])
        events.push(
          ev({
            ts: T0 + Math.floor((i * historyHours * 3600_000) / 60),
            identity_id: id,
            tool: i % 2 ? 'get_balance' : 'send_money',
            action: 'tool.call',
            resource_type: 'recipient',
            resource_id: i % 2 ? '' : 'ACME-PAYROLL',
            target_domain: '',
          }),
        );
    for (const [n, session] of ['y1', 'y2', 'y3'].entries())
      events.push(
        ev({
          ts: T0 + (historyHours + n + 1) * 3600_000,
          identity_id: 'payer',
          session,
          tool: 'send_money',
          action: 'tool.call',
          resource_type: 'recipient',
          resource_id: 'US133000000121212121212',
          target_domain: '',
        }),
      );
    return events;
  };
  /** `payer` paying the recipient again days later (after an engine restart, say). */
  const payAgain = (): DetectorEvent =>
    ev({
      event_id: 'e-pay-again',
      identity_id: 'payer',
      tool: 'send_money',
      action: 'tool.call',
      resource_type: 'recipient',
      resource_id: 'US133000000121212121212',
      ts: T0 + 4 * DAY_MS,
    });
  const recipientFindings = (engine: DetectionEngine, events: DetectorEvent[]): Finding[] => {
    const out = new Map<string, Finding>();
    for (const e of events)
      for (const f of engine.process(e))
        if (f.subject === 'recipient:US133000000121212121212') out.set(f.finding_id, structuredClone(f));
    return [...out.values()];
  };

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

describe('policy detectors with a registry', () => {
  const record: IdentityRecord = {
    id: 'release-bot',
    type: 'service_account',
    owner: 'team-platform',
    purpose: 'ships releases',
    state: 'active',
    stateChangedAt: null,
    credentials: [{ id: 'old-key', state: 'revoked', revokedAt: T0 - DAY_MS }],
    scope: {
      tools: ['git.*'],
      resources: [],
      egressDomains: ['api.github.com'],
      approvalRequired: [{ match: 'deploy', resources: [] }],
    },
    registered: true,
  };

  it('lifecycle.revoked_activity: a revoked credential in use is critical', () => {
    const detector = createRevokedActivityDetector();
    const observation = detector.evaluate(
      context(ev({ identity_credential: 'old-key' }), history(1), { identity: record }),
    );
    expect(observation?.severity).toBe('critical');
    expect(observation?.explanation).toContain('credential `old-key`');
    expect(
      detector.evaluate(context(ev({ identity_credential: 'new-key' }), history(1), { identity: record })),
    ).toBeNull();
    const revoked = { ...record, state: 'suspended' as const, stateChangedAt: T0 };
    expect(detector.evaluate(context(ev(), history(1), { identity: revoked }))?.score).toBe(0.8);
  });

  it('scope.declared_violation: names what was outside the scope', () => {
    const detector = createDeclaredViolationDetector();
    const observation = detector.evaluate(
      context(ev({ tool: 'argo.sync', action: 'deploy', target_domain: 'argo.internal' }), history(1), {
        identity: record,
      }),
    );
    expect(observation?.facts.violations).toEqual([
      'tool:argo.sync',
      'egress:argo.internal',
      'approval:deploy argo.sync on repo:acme/api',
    ]);
    expect(observation?.severity).toBe('critical');
    expect(
      detector.evaluate(
        context(ev({ tool: 'git.push', action: 'code.push' }), history(1), { identity: record }),
      ),
    ).toBeNull();
    expect(detector.evaluate(context(ev({ tool: 'argo.sync' }), history(1)))).toBeNull();
  });
});

describe('identity.workload_interactive_use', () => {
  const detector = createWorkloadInteractiveDetector();
  it('flags a workload credential used from a desktop CLI, not from servers', () => {
    const laptop = ev({
      identity_type: 'workload',
      source_user_agent: 'aws-cli/1.18.136 Python/3.8.5 Darwin/19.5.0 botocore/1.17',
    });
    expect(detector.evaluate(context(laptop, history(0)))?.facts.client).toBe('Darwin');
    const server = ev({
      identity_type: 'workload',
      source_user_agent: 'aws-sdk-go/1.44.157 (go1.19.3; linux; amd64)',
    });
    expect(detector.evaluate(context(server, history(0)))).toBeNull();
    const human = ev({ identity_type: 'human', source_user_agent: 'Mozilla/5.0 (Macintosh)' });
    expect(detector.evaluate(context(human, history(0)))).toBeNull();
  });
});

describe('catalog', () => {
  it('applies per-detector settings and refuses unknown detector ids', () => {
    const detectors = createDetectors({ 'scope.new_tool': { warmupEvents: 99 } });
    expect(detectors.find((d) => d.id === 'scope.new_tool')?.config.warmupEvents).toBe(99);
    expect(detectors.find((d) => d.id === 'scope.new_egress')?.config.warmupEvents).toBe(20);
    expect(() => createDetectors({ 'scope.new_tools': {} })).toThrow(/unknown detector scope.new_tools/);
  });
});
