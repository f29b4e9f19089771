import { checkDeclaredScope } from '../registry.js';
import { type Detector, type DetectorContext, type Observation } from '../types.js';
import { listValues } from './novelty.js';

const WHAT = {
  tool: 'tool',
  resource: 'resource',
  egress: 'egress domain',
  approval: 'approval',
} as const;

/** `scope.declared_violation`: an action outside the identity's declared scope. */
export function createDeclaredViolationDetector(): Detector {
  return {
    id: 'scope.declared_violation',
    version: '1.1.0',
    kind: 'policy',
    config: {},
    frameworks: ['OWASP-NHI:NHI5', 'OWASP-AGENTIC:T3', 'NIST-CSF:PR.AA-05'],
    evaluate({ event, identity }: DetectorContext): Observation | null {
      if (!identity?.scope) return null;
      const violations = checkDeclaredScope(identity.scope, event);
      const first = violations[0];
      if (!first) return null;
      const approval = violations.some((v) => v.kind === 'approval');
      const score = approval || violations.length > 1 ? 0.85 : 0.75;
      const lines = violations.map((v) =>
        v.kind === 'approval'
          ? `\`${v.value}\` requires a human approval (${listValues(v.pattern_list)}) and none was referenced`
          : `${WHAT[v.kind]} \`${v.value}\` is outside the declared ${listValues(v.pattern_list)}`,
      );
      return {
        // Grouped by what was violated and with which tool: a stream of posts to ever-new paste
        // sub-domains is one finding with a count, not one per sub-domain.
        subject: `${violations.map((v) => v.kind).join('+')}|${event.tool}`,
        severity: score >= 0.85 ? 'critical' : 'high',
        score,
        title: `${event.identity_id} acted outside its declared scope (${violations.map((v) => WHAT[v.kind]).join(', ')})`,
        explanation: `\`${event.identity_id}\` called \`${event.tool}\`: ${lines.join('; ')}.`,
        facts: {
          violations: violations.map((v) => `${v.kind}:${v.value}`),
          owner: identity.owner,
          purpose: identity.purpose,
        },
      };
    },
  };
}
