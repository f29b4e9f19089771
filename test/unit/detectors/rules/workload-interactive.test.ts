import { describe, expect, it } from 'vitest';
import { createWorkloadInteractiveDetector } from '../../../../detectors/rules/workload-interactive.js';
import { context, ev, history } from '../fixtures.js';

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
