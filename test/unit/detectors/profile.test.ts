import { describe, expect, it } from 'vitest';
import { IdentityProfile } from '../../../detectors/profile.js';
import { DAY_MS } from '../../../common/time.js';
import { ev, history, T0 } from './fixtures.js';

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
