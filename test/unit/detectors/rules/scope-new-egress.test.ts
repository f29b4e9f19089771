import { describe, expect, it } from 'vitest';
import { createNewEgressDetector } from '../../../../detectors/rules/scope-new-egress.js';
import { context, ev, history } from '../fixtures.js';

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
