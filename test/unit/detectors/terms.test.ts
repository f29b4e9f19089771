import { describe, expect, it } from 'vitest';
import { isDestination, resourcePrefix, resourceTypeOf, termsOf } from '../../../detectors/terms.js';
import type { DetectorEvent } from '../../../model/detector-event.js';
import { ev } from './fixtures.js';

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
