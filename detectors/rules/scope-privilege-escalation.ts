import { IMPACT_LEVELS, impactOf, impactRank } from '../impact.js';
import type { ActionClass } from '../../model/action.js';
import {
  roundScore,
  severityFromScore,
  type Detector,
  type DetectorContext,
  type Observation,
} from '../types.js';
import {
  isHousekeeping,
  listValues,
  warmedUp,
  windowMs,
  noveltyConfig,
  type NoveltyOverrides,
} from './novelty.js';

/**
 * `scope.privilege_escalation`: an action class higher on the impact ladder (read → write →
 * delete → admin: secrets, identity changes, deploys) than anything in the identity's history,
 * from write upwards.
 */
export function createPrivilegeEscalationDetector(overrides: NoveltyOverrides = {}): Detector {
  const config = noveltyConfig(overrides);
  return {
    id: 'scope.privilege_escalation',
    version: '1.1.0',
    kind: 'behavioural',
    config,
    frameworks: ['OWASP-NHI:NHI5', 'OWASP-AGENTIC:T3', 'NIST-CSF:PR.AA-05'],
    evaluate(ctx: DetectorContext): Observation | null {
      const { event, profile } = ctx;
      const window = windowMs(config);
      // The common case, cheaply: an action class already in the history is no escalation.
      if (profile.recall({ kind: 'action', value: event.action }, event.ts, window) || !warmedUp(ctx, config))
        return null;
      const level = impactOf(event.action);
      const known = profile.values('action', event.ts, window).map(([action]) => action as ActionClass);
      const previous = Math.max(0, ...known.map((a) => impactRank(impactOf(a))));
      const rank = impactRank(level);
      // Starting to read is not an escalation of privilege; writing, deleting and administering are.
      if (rank <= previous || rank < impactRank('write') || isHousekeeping(ctx, config)) return null;
      const score = roundScore(0.45 + 0.15 * (rank - previous) + (event.outcome === 'success' ? 0.05 : 0));
      if (score < config.minScore) return null;
      const previousLevel = IMPACT_LEVELS[previous] ?? 'none';
      return {
        subject: level,
        term: { kind: 'action', value: event.action },
        severity: severityFromScore(score),
        score,
        title: `${event.identity_id} escalated from ${previousLevel} to ${level} actions`,
        explanation:
          `\`${event.identity_id}\` performed \`${event.action}\` (\`${event.tool}\`, ${event.outcome}), ${/^[aeiou]/.test(level) ? 'an' : 'a'} ${level}-level action; ` +
          `in ${String(config.windowDays)} days its highest level was ${previousLevel} (action classes: ${listValues(known)}).`,
        facts: {
          action: event.action,
          level,
          previous_level: previousLevel,
          known_actions: known,
          history_events: profile.events,
        },
      };
    },
  };
}
