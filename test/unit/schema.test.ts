import { describe, expect, it } from 'vitest';
import { ActionEventSchema, type ActionEventInput } from '../../model/action.js';

const valid: ActionEventInput = {
  event_id: '01J9Z3K4V6W8X0Y2Z4A6B8C0D2',
  ts: '2026-03-01T12:00:00.250Z',
  identity: { id: 'release-bot', type: 'service_account', owner: 'team-platform' },
  session: 'run-42',
  action: 'code.push',
  tool: 'git.push',
  resource: { type: 'repo', id: 'acme/api' },
  outcome: 'success',
  args: { branch: 'main' },
  attributes: { model: 'gpt-x' },
};

function issuesOf(input: unknown): string[] {
  const parsed = ActionEventSchema.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((i) => i.path.join('.'));
}

describe('scopewatch.action/v1 schema', () => {
  it('accepts a complete event and normalises ts to epoch ms', () => {
    const parsed = ActionEventSchema.parse(valid);
    expect(parsed.ts).toBe(Date.parse('2026-03-01T12:00:00.250Z'));
    expect(parsed.identity.id).toBe('release-bot');
  });

  it('accepts the minimal event with epoch-ms ts', () => {
    const parsed = ActionEventSchema.parse({
      ts: 1772366400000,
      identity: { id: 'a' },
      action: 'other',
      tool: 't',
    });
    expect(parsed.ts).toBe(1772366400000);
    expect(parsed.event_id).toBeUndefined();
  });

  it('accepts RFC 3339 offsets and ignores unknown top-level fields', () => {
    const parsed = ActionEventSchema.parse({ ...valid, ts: '2026-03-01T13:00:00+01:00', future_field: 1 });
    expect(parsed.ts).toBe(Date.parse('2026-03-01T12:00:00Z'));
  });

  const invalid: [string, unknown, string][] = [
    ['missing identity', { ...valid, identity: undefined }, 'identity'],
    ['empty identity id', { ...valid, identity: { id: '' } }, 'identity.id'],
    ['missing tool', { ...valid, tool: undefined }, 'tool'],
    ['tool as number', { ...valid, tool: 42 }, 'tool'],
    ['unknown action', { ...valid, action: 'code.yolo' }, 'action'],
    ['unknown outcome', { ...valid, outcome: 'meh' }, 'outcome'],
    ['unknown identity type', { ...valid, identity: { id: 'x', type: 'robot' } }, 'identity.type'],
    ['ts without zone', { ...valid, ts: '2026-03-01T12:00:00' }, 'ts'],
    ['ts as words', { ...valid, ts: 'yesterday' }, 'ts'],
    ['ts before 2000', { ...valid, ts: 0 }, 'ts'],
    ['ts far in the future', { ...valid, ts: Date.now() + 7 * 86_400_000 }, 'ts'],
    ['fractional epoch', { ...valid, ts: 1772366400000.5 }, 'ts'],
    ['args as string', { ...valid, args: 'x=1' }, 'args'],
    ['args as array', { ...valid, args: [1, 2] }, 'args'],
    ['attributes with number values', { ...valid, attributes: { n: 1 } }, 'attributes.n'],
    ['event_id too long', { ...valid, event_id: 'x'.repeat(129) }, 'event_id'],
    ['resource id not a string', { ...valid, resource: { id: 7 } }, 'resource.id'],
  ];
  for (const [name, input, path] of invalid) {
    it(`rejects ${name} and names the field`, () => {
      expect(issuesOf(input)).toContain(path);
    });
  }
});
