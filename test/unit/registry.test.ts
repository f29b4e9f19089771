import { describe, expect, it } from 'vitest';
import {
  checkDeclaredScope,
  compileGlob,
  lifecycleAt,
  matchesAny,
  parseIdentitiesFile,
  RegistryError,
} from '../../detectors/registry.js';
import type { DeclaredScope } from '../../model/identity.js';

const YAML = `
identities:
  - id: release-bot
    type: service_account
    owner: team-platform
    purpose: ships releases
    state_changed_at: 2026-01-10T00:00:00Z
    credentials:
      - id: gh-app:1
      - id: gh-app:old
        state: revoked
        revoked_at: 2026-02-01T00:00:00Z
    scope:
      tools: ["github.*", "git.*"]
      resources: ["repo:acme/*"]
      egress_domains: ["*.github.com", "registry.npmjs.org"]
      approval_required:
        - code.push
        - "argo.*"
        - match: deploy
          resources: ["argo_application:*-prod"]
  - id: legacy-sync
    state: revoked
    state_changed_at: 2026-01-15T00:00:00Z
`;

describe('identities file', () => {
  it('parses YAML with defaults and timestamps', () => {
    const [bot, legacy] = parseIdentitiesFile(YAML, 'ids.yaml');
    expect(bot?.scope?.egressDomains).toEqual(['*.github.com', 'registry.npmjs.org']);
    expect(bot?.scope?.approvalRequired).toEqual([
      { match: 'code.push', resources: [] },
      { match: 'argo.*', resources: [] },
      { match: 'deploy', resources: ['argo_application:*-prod'] },
    ]);
    expect(bot?.credentials[1]).toEqual({
      id: 'gh-app:old',
      state: 'revoked',
      revokedAt: Date.parse('2026-02-01T00:00:00Z'),
    });
    expect(legacy).toMatchObject({
      type: 'agent',
      state: 'revoked',
      scope: null,
      registered: true,
      owner: '',
    });
  });

  it('parses JSON by extension', () => {
    const records = parseIdentitiesFile(
      JSON.stringify({ identities: [{ id: 'a', type: 'workload' }] }),
      'ids.json',
    );
    expect(records[0]?.type).toBe('workload');
  });

  it.each([
    ['identities: [{ id: a, type: robot }]', /identity "a": type/],
    ['identities: [{ id: a, colour: red }]', /identity "a".*colour/],
    ['identities: [{ id: a }, { id: a }]', /"a" is listed twice/],
    ['identities: [{ id: a, state_changed_at: yesterday }]', /identity "a": state_changed_at/],
    ['identities: [{ id: a, scope: { approval_required: [launch] } }]', /approval_required: "launch"/],
    [
      'identities: [{ id: a, scope: { approval_required: [{ match: deploy, where: prod }] } }]',
      /identity "a": scope.approval_required/,
    ],
    ['nobody: []', /identities/],
    ['identities: [ {', /not valid YAML/],
  ])('rejects %j with a message naming the problem', (text, message) => {
    expect(() => parseIdentitiesFile(text, 'ids.yaml')).toThrow(RegistryError);
    expect(() => parseIdentitiesFile(text, 'ids.yaml')).toThrow(message);
  });
});

describe('globs', () => {
  it('matches * and ? and treats regex metacharacters literally', () => {
    expect(compileGlob('s3:Get*')('s3:GetObject')).toBe(true);
    expect(compileGlob('s3:Get*')('s3:PutObject')).toBe(false);
    expect(compileGlob('v?.api')('v1.api')).toBe(true);
    expect(compileGlob('a.b')('axb')).toBe(false);
    expect(compileGlob('(x)+[y]')('(x)+[y]')).toBe(true);
  });
  it('matches domains case-insensitively when asked', () => {
    expect(matchesAny(['*.github.com'], 'API.GitHub.com', true)).toBe(true);
    expect(matchesAny(['*.github.com'], 'github.com', true)).toBe(false);
    expect(matchesAny(['*.github.com'], 'a.b.github.com', true)).toBe(true);
  });
});

describe('declared scope', () => {
  const scope: DeclaredScope = {
    tools: ['github.*', 'git.*'],
    resources: ['repo:acme/*'],
    egressDomains: ['*.github.com'],
    approvalRequired: [
      { match: 'deploy', resources: [] },
      { match: 'argo.*', resources: [] },
    ],
  };
  const base = {
    tool: 'git.push',
    action: 'code.push',
    resource_type: 'repo',
    resource_id: 'acme/api',
    target_domain: 'api.github.com',
    approval_id: '',
  };

  it('accepts what is inside every list', () => {
    expect(checkDeclaredScope(scope, base)).toEqual([]);
  });
  it('reports each kind of violation', () => {
    expect(checkDeclaredScope(scope, { ...base, tool: 'aws.s3' }).map((v) => v.kind)).toEqual(['tool']);
    expect(checkDeclaredScope(scope, { ...base, resource_id: 'evil/api' }).map((v) => v.value)).toEqual([
      'repo:evil/api',
    ]);
    expect(checkDeclaredScope(scope, { ...base, target_domain: 'paste.example' }).map((v) => v.kind)).toEqual(
      ['egress'],
    );
    expect(
      checkDeclaredScope(scope, { ...base, tool: 'github.x', action: 'deploy' }).map((v) => v.kind),
    ).toEqual(['approval']);
    expect(
      checkDeclaredScope(scope, { ...base, tool: 'github.x', action: 'deploy', approval_id: 'CAB-1' }),
    ).toEqual([]);
  });
  it('an approval rule may name the resources it applies to', () => {
    const prodOnly: DeclaredScope = {
      ...scope,
      approvalRequired: [{ match: 'deploy', resources: ['argo_application:*-prod'] }],
    };
    const deploy = { ...base, tool: 'github.x', action: 'deploy', resource_type: 'argo_application' };
    expect(
      checkDeclaredScope(prodOnly, { ...deploy, resource_id: 'api-staging' }).map((v) => v.kind),
    ).toEqual(['resource']);
    const [, approval] = checkDeclaredScope(prodOnly, { ...deploy, resource_id: 'api-prod' });
    expect(approval).toEqual({
      kind: 'approval',
      pattern_list: ['deploy on argo_application:*-prod'],
      value: 'deploy github.x on argo_application:api-prod',
    });
    // An action that does not name its resource cannot show it is exempt.
    expect(
      checkDeclaredScope(prodOnly, { ...deploy, resource_type: '', resource_id: '' }).map((v) => v.kind),
    ).toEqual(['approval']);
  });
  it('an empty list does not constrain', () => {
    expect(
      checkDeclaredScope(
        { tools: [], resources: [], egressDomains: [], approvalRequired: [] },
        { ...base, tool: 'x' },
      ),
    ).toEqual([]);
  });
});

describe('lifecycle', () => {
  const [bot, legacy] = parseIdentitiesFile(YAML, 'ids.yaml');
  it('applies an identity state from the time it changed', () => {
    if (!legacy || !bot) throw new Error('fixture');
    expect(lifecycleAt(legacy, '', Date.parse('2026-01-01T00:00:00Z')).state).toBe('active');
    expect(lifecycleAt(legacy, '', Date.parse('2026-02-01T00:00:00Z'))).toMatchObject({
      state: 'revoked',
      subject: 'identity',
    });
  });
  it('applies a revoked credential only to that credential', () => {
    if (!bot) throw new Error('fixture');
    const after = Date.parse('2026-03-01T00:00:00Z');
    expect(lifecycleAt(bot, 'gh-app:old', after)).toMatchObject({ state: 'revoked', subject: 'credential' });
    expect(lifecycleAt(bot, 'gh-app:1', after).state).toBe('active');
    expect(lifecycleAt(bot, 'gh-app:old', Date.parse('2026-01-20T00:00:00Z')).state).toBe('active');
  });
});
