import { describe, expect, it } from 'vitest';
import { createDeclaredViolationDetector } from '../../../../detectors/rules/scope-declared-violation.js';
import { context, ev, history, record } from '../fixtures.js';

describe('policy detectors with a registry', () => {
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
