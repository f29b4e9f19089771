import { describe, expect, it } from 'vitest';
import { createPrivilegeEscalationDetector } from '../../../../detectors/rules/scope-privilege-escalation.js';
import { context, ev, history } from '../fixtures.js';

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
