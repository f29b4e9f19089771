import { describe, expect, it } from 'vitest';
import { PeerIndex } from '../../../../detectors/peers.js';
import { createNewToolDetector } from '../../../../detectors/rules/scope-new-tool.js';
import { SessionNovelty } from '../../../../detectors/session.js';
import { DAY_MS } from '../../../../common/time.js';
import { context, ev, history, T0 } from '../fixtures.js';

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
