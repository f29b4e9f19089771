import { describe, expect, it } from 'vitest';
import {
  accessReview,
  fleetReview,
  fleetRow,
  NARROW_AT,
  proposeScope,
  resourceFamily,
  reviewScope,
  summariseUsage,
} from '../../../detectors/access-review.js';
import { parseIdentitiesFile, registryEntry, registryYaml } from '../../../detectors/registry.js';
import type { DeclaredScope, IdentityRecord } from '../../../model/identity.js';
import type { UsageGroup } from '../../../model/usage.js';

/** Access reviews from hand-built usage: declared versus used, approvals, the proposal, the fleet. */

function group(tool: string, over: Partial<UsageGroup> = {}): UsageGroup {
  return {
    tool,
    action: 'tool.call',
    resource_type: '',
    resource_id: '',
    target_domain: '',
    events: 1,
    failures: 0,
    approved: 0,
    first_ts: 1_000,
    last_ts: 2_000,
    approvers: [],
    ...over,
  };
}

const releaseScope: DeclaredScope = {
  tools: ['github.*', 'git.*', 'argo.*'],
  resources: ['repo:acme/*', 'argo_application:*'],
  egressDomains: ['api.github.com', '*.acme.dev'],
  approvalRequired: [{ match: 'deploy', resources: ['argo_application:*-prod'] }],
};

const releaseUsage: UsageGroup[] = [
  group('github.get_pull_request', {
    events: 5,
    resource_type: 'repo',
    resource_id: 'acme/api',
    target_domain: 'API.GitHub.com',
  }),
  group('github.merge', {
    events: 2,
    resource_type: 'repo',
    resource_id: 'acme/api',
    target_domain: 'api.github.com',
  }),
  group('git.push', {
    events: 3,
    action: 'code.push',
    resource_type: 'repo',
    resource_id: 'acme/web',
    failures: 1,
  }),
  group('slack.post_message', { events: 1, target_domain: 'slack.com' }),
  group('pagerduty.ack', { events: 2, approved: 2, approvers: ['bob'], target_domain: 'api.pagerduty.com' }),
  group('github.deploy', {
    action: 'deploy',
    events: 4,
    approved: 3,
    approvers: ['carol', 'dave'],
    resource_type: 'argo_application',
    resource_id: 'api-prod',
  }),
];

function record(over: Partial<IdentityRecord> = {}): IdentityRecord {
  return {
    id: 'release-bot',
    type: 'service_account',
    owner: 'team-platform',
    purpose: 'Cuts releases',
    state: 'active',
    stateChangedAt: null,
    credentials: [{ id: 'gh-app:1', state: 'active', revokedAt: null }],
    scope: releaseScope,
    registered: true,
    ...over,
  };
}

describe('declared versus used scope', () => {
  const review = reviewScope(releaseScope, releaseUsage);

  it('counts what each declared glob covered and lists the ones nothing used', () => {
    expect(review.tools.declared).toEqual([
      { pattern: 'github.*', events: 11, values: 3 },
      { pattern: 'git.*', events: 3, values: 1 },
      { pattern: 'argo.*', events: 0, values: 0 },
    ]);
    expect(review.tools.unused).toEqual(['argo.*']);
    expect(review.egress_domains.unused).toEqual(['*.acme.dev']);
    expect(review.resources.unused).toEqual([]);
    expect(review.unused_share).toBeCloseTo(2 / 7);
  });

  it('lists uses outside the declaration with how many carried an approval; domains compare case-insensitively', () => {
    expect(review.tools.outside).toEqual([
      { value: 'pagerduty.ack', events: 2, approved: 2 },
      { value: 'slack.post_message', events: 1, approved: 0 },
    ]);
    expect(review.egress_domains.outside.map((o) => o.value)).toEqual(['api.pagerduty.com', 'slack.com']);
  });

  it('counts approvals required and obtained per rule, with who approved', () => {
    expect(review.approvals).toEqual([
      { rule: 'deploy on argo_application:*-prod', required: 4, obtained: 3, approvers: ['carol', 'dave'] },
    ]);
  });

  it('reads an identity without a declaration as unconstrained: nothing unused, nothing outside', () => {
    const none = reviewScope(null, releaseUsage);
    expect(none.declared).toBe(false);
    expect(none.unused_share).toBeNull();
    expect(none.tools).toMatchObject({ constrained: false, outside: [], unused: [] });
  });
});

describe('the proposed least-privilege scope', () => {
  const proposal = proposeScope(releaseScope, releaseUsage);

  it('narrows globs to the few values used, removes unused ones, adds approved outside uses, excludes the rest', () => {
    expect(proposal.scope.tools).toEqual([
      'github.deploy',
      'github.get_pull_request',
      'github.merge',
      'git.push',
      'pagerduty.ack',
    ]);
    const change = (entry: string) => proposal.notes.find((n) => n.entry === entry)?.change;
    expect(change('github.*')).toBe('narrowed');
    expect(change('argo.*')).toBe('removed');
    expect(change('pagerduty.ack')).toBe('added');
    expect(change('slack.post_message')).toBe('excluded');
    expect(proposal.scope.approval_required).toEqual([
      { match: 'deploy', resources: ['argo_application:*-prod'] },
    ]);
  });

  it('keeps a glob that matched more values than a reviewer could read', () => {
    const many = Array.from({ length: NARROW_AT + 1 }, (_, i) =>
      group('s3:GetObject', { resource_type: 's3_object', resource_id: `raw/${String(i)}` }),
    );
    const wide = proposeScope({ ...releaseScope, tools: ['s3:*'], resources: ['s3_object:raw/*'] }, many);
    expect(wide.scope.resources).toEqual(['s3_object:raw/*']);
    expect(wide.scope.tools).toEqual(['s3:GetObject']);
  });

  it('never proposes an empty list where something was declared (empty means unconstrained)', () => {
    const idle = proposeScope(releaseScope, []);
    expect(idle.scope.tools).toEqual(releaseScope.tools);
    expect(idle.notes.some((n) => n.field === 'tools' && n.reason.includes('unconstrained'))).toBe(true);
  });

  it('never proposes a value an agent named with * or ?: the registry would read it as a wildcard', () => {
    const sneaky = [group('github.merge', { resource_type: 'repo', resource_id: '*', approved: 1 })];
    const declared = proposeScope({ ...releaseScope, resources: ['repo:acme/api'] }, sneaky);
    expect(declared.scope.resources).toEqual(['repo:acme/api']);
    expect(declared.notes.find((n) => n.entry === 'repo:*')).toMatchObject({ change: 'excluded' });
    expect(proposeScope(null, sneaky).scope.resources).toEqual([]);
  });

  it('says one thing per entry when nothing declared was used: the declaration stays, outside uses are excluded', () => {
    const proposal = proposeScope({ ...releaseScope, tools: ['github.*'] }, [group('slack.post')]);
    expect(proposal.scope.tools).toEqual(['github.*']);
    const tools = proposal.notes.filter((n) => n.field === 'tools');
    expect(tools.map((n) => [n.change, n.entry])).toEqual([
      ['kept', 'github.*'],
      ['excluded', 'slack.post'],
    ]);
  });

  it('proposes what was used, resources by family, for an identity that declared nothing', () => {
    const undeclared = proposeScope(null, releaseUsage);
    expect(undeclared.scope.resources).toEqual(['argo_application:api-prod', 'repo:acme/*']);
    expect(undeclared.scope.egress_domains).toEqual(['api.github.com', 'api.pagerduty.com', 'slack.com']);
  });

  it('pastes into the registry file: parsed back, it covers every kept use and declares nothing unused', () => {
    const text = registryYaml([registryEntry(record(), proposal.scope)]);
    const [parsed] = parseIdentitiesFile(text, 'identities.yaml');
    expect(parsed?.owner).toBe('team-platform');
    const again = reviewScope(parsed?.scope ?? null, releaseUsage);
    expect(again.tools.unused).toEqual([]);
    expect(again.egress_domains.unused).toEqual([]);
    // Only the use nobody approved stays outside, for the reviewer to decide.
    expect(again.tools.outside.map((o) => o.value)).toEqual(['slack.post_message']);
    expect(again.egress_domains.outside.map((o) => o.value)).toEqual(['slack.com']);
  });

  it('round-trips lifecycle dates and revoked credentials through the file', () => {
    const revoked = record({
      state: 'revoked',
      stateChangedAt: Date.UTC(2026, 0, 15),
      credentials: [{ id: 'k', state: 'revoked', revokedAt: Date.UTC(2026, 0, 15) }],
    });
    const [parsed] = parseIdentitiesFile(registryYaml([registryEntry(revoked)]), 'x.yaml');
    expect(parsed).toEqual(revoked);
  });
});

describe('usage summary and the whole review', () => {
  it('groups by tool, resource family and destination, busiest first', () => {
    const usage = summariseUsage(releaseUsage);
    expect(usage.tools[0]).toMatchObject({ name: 'github.get_pull_request', events: 5 });
    expect(usage.resource_families.map((l) => [l.name, l.events])).toEqual([
      ['repo:acme/*', 10],
      ['argo_application:api-prod', 4],
    ]);
    expect(usage.destinations[0]).toMatchObject({ name: 'api.github.com', events: 7 });
    expect(resourceFamily('', 'prod-db')).toBe('prod-db');
  });

  it('totals the period', () => {
    const review = accessReview({
      identity: record(),
      period: { from: 0, to: 10_000 },
      groups: releaseUsage,
      groupsTruncated: false,
      sessions: 3,
    });
    expect(review.totals).toEqual({
      events: 17,
      failures: 1,
      approved: 5,
      sessions: 3,
      first_ts: 1_000,
      last_ts: 2_000,
      groups_truncated: false,
    });
  });
});

describe('the fleet table', () => {
  const usage = (id: string, over: Partial<{ events: number; last_ts: number; tools: string[] }> = {}) => ({
    identity_id: id,
    events: 10,
    last_ts: Date.UTC(2026, 5, 1),
    tools: ['github.merge'],
    resources: [{ type: 'repo', id: 'acme/api' }],
    domains: ['api.github.com'],
    ...over,
  });

  it('flags a revoked identity still acting, an idle one, one to right-size, and passes one acting within use', () => {
    const revoked = record({ id: 'old', state: 'revoked', stateChangedAt: Date.UTC(2026, 0, 15) });
    expect(fleetRow('old', revoked, usage('old'), 0)).toMatchObject({
      verdict: 'investigate',
      active_after_lifecycle_end: true,
    });
    expect(fleetRow('idle', record({ id: 'idle' }), undefined, 0)).toMatchObject({
      verdict: 'idle',
      events: 0,
    });
    expect(fleetRow('wide', record({ id: 'wide' }), usage('wide'), 1)).toMatchObject({
      verdict: 'right-size',
      declared_entries: 7,
      unused_declared: 4,
    });
    const narrow = record({
      scope: {
        tools: ['github.*'],
        resources: ['repo:acme/*'],
        egressDomains: ['api.github.com'],
        approvalRequired: [],
      },
    });
    expect(fleetRow('n', narrow, usage('n'), 0)).toMatchObject({ verdict: 'ok', unused_share: 0 });
  });

  it('puts the most urgent first and lists identities only seen in events', () => {
    const rows = fleetReview(
      new Map([
        ['old', record({ id: 'old', state: 'revoked', stateChangedAt: 0 })],
        ['idle', record({ id: 'idle' })],
      ]),
      new Map([
        ['old', usage('old')],
        ['stranger', usage('stranger')],
      ]),
      new Map([['stranger', 2]]),
    );
    expect(rows.map((r) => [r.identity_id, r.verdict])).toEqual([
      ['old', 'investigate'],
      ['idle', 'idle'],
      ['stranger', 'ok'],
    ]);
    expect(rows[2]).toMatchObject({ registered: false, open_findings: 2 });
  });
});
