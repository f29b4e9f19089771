import type { DetectorEvent } from '../../model/detector-event.js';
import { checkDeclaredScope } from '../registry.js';
import { approvedActionOf } from '../terms.js';
import {
  roundScore,
  severityFromScore,
  type Detector,
  type DetectorContext,
  type Observation,
} from '../types.js';
import { listValues, percent } from './novelty.js';
import { DEFAULT_BASELINE_VIEW } from '../declarative/baseline-view.js';

/**
 * `approval.bypass`: a high-impact action with neither an approval reference (`approval.id`)
 * nor an `approval.grant` earlier in its session — for identities that are governed by
 * approval: the registry declares the action as needing one, or the identity's own history
 * shows this kind of action done with approvals. For an identity that never works with
 * approvals a missing one is its normal (the chain rules judge such pipelines instead).
 */

const HIGH_IMPACT_ACTIONS: ReadonlySet<string> = new Set(['deploy', 'data.delete', 'identity.change']);

/** Money leaving: tool names of payment and transfer operations, whatever the platform. */
const PAYMENT_TOOL =
  /(^|[^a-z])(pay|payment|payments|payout|transfer|send_money|wire|refund|charge|transaction)s?([^a-z]|$)/i;

export function isHighImpact(event: Pick<DetectorEvent, 'action' | 'tool'>): boolean {
  return HIGH_IMPACT_ACTIONS.has(event.action) || PAYMENT_TOOL.test(event.tool);
}

export function createApprovalBypassDetector(): Detector {
  const windowMs = DEFAULT_BASELINE_VIEW.windowMs;
  return {
    id: 'approval.bypass',
    version: '1.0.0',
    kind: 'policy',
    config: { window_days: windowMs / 86_400_000 },
    frameworks: ['OWASP-AGENTIC:T10', 'OWASP-NHI:NHI5', 'NIST-CSF:PR.AA-05'],
    evaluate(ctx: DetectorContext): Observation | null {
      const { event, profile, identity } = ctx;
      if (event.approval_id || ctx.approvalInSession || event.outcome === 'denied') return null;
      const declared = identity?.scope
        ? checkDeclaredScope(identity.scope, { ...event, approval_id: '' }).filter(
            (v) => v.kind === 'approval',
          )
        : [];
      const covered = approvedActionOf(event);
      if (declared.length === 0 && !isHighImpact(event)) return null;
      const approved =
        profile.recall({ kind: 'approved_action', value: covered }, event.ts, windowMs)?.count ?? 0;
      const total =
        event.action === 'tool.call' || event.action === 'api.call'
          ? (profile.recall({ kind: 'tool', value: event.tool }, event.ts, windowMs)?.count ?? 0)
          : (profile.recall({ kind: 'action', value: event.action }, event.ts, windowMs)?.count ?? 0);
      if (declared.length === 0 && approved === 0) return null;
      // How reliably this identity's `covered` actions carried approvals: the more reliably, the
      // stranger one without. A declaration makes it required whatever the history says.
      const share = total > 0 ? Math.min(1, approved / total) : 0;
      const score = roundScore(declared.length > 0 ? 0.85 : 0.5 + 0.4 * share);
      const expected =
        declared.length > 0
          ? `its declared scope requires an approval (${listValues(declared.flatMap((v) => v.pattern_list))})`
          : `${String(approved)} of its ${String(total)} earlier \`${covered}\` actions in ${String(windowMs / 86_400_000)} days (${percent(share)}) carried a human approval`;
      return {
        subject: `${covered}\u0000${event.resource_id}`,
        severity: severityFromScore(score),
        score,
        title: `${event.identity_id} performed ${covered} without an approval`,
        explanation:
          `\`${event.identity_id}\` ran \`${event.tool}\` (${event.action})${event.resource_id ? ` on \`${event.resource_id}\`` : ''} ` +
          `[${event.event_id}] with no approval reference and no approval granted earlier in session ` +
          `\`${event.session || '(none)'}\`; expected one because ${expected}.`,
        facts: {
          covered_action: covered,
          declared: declared.length > 0,
          approved_before: approved,
          total_before: total,
          approved_share: Math.round(share * 1000) / 1000,
        },
      };
    },
  };
}
