import type { BaselineFacts, Finding, FindingStatus } from './finding.js';

/**
 * The one owner of "which values stay out of an identity's baseline", read by the engine (in
 * memory), the findings repository (the `held_for_triage` column it writes) and the peer view
 * in ClickHouse (which filters on that column with the statuses below):
 * - a finding under review (open, acknowledged) keeps its value out while recurrence has not
 *   made it routine; when the detector held it for triage (an established identity's new
 *   destination) it stays out however often it recurs;
 * - a confirmed incident (resolved) keeps it out for good;
 * - triage that calls it benign (false positive, suppressed) teaches the baseline the value.
 */

/** The fact a detector sets on a finding whose value must wait for triage, whatever recurs. */
export const HELD_FACT = 'held_for_triage';

/** Statuses under which a finding's value is still being decided. */
export const REVIEW_STATUSES = ['open', 'acknowledged'] as const satisfies readonly FindingStatus[];
/** Statuses whose value stays out of the baseline for good. */
export const EXCLUDING_STATUSES = ['resolved'] as const satisfies readonly FindingStatus[];

/** Statuses whose subject stays out of the baseline (for now or for good). */
export const WITHHELD_STATUSES: ReadonlySet<FindingStatus> = new Set([
  ...REVIEW_STATUSES,
  ...EXCLUDING_STATUSES,
]);

/** What a triage decision teaches the baseline about the finding's value, if anything. */
export function triageEffect(status: FindingStatus): 'allow' | 'exclude' | null {
  if (status === 'false_positive' || status === 'suppressed') return 'allow';
  if ((EXCLUDING_STATUSES as readonly FindingStatus[]).includes(status)) return 'exclude';
  return null;
}

/** Whether the detector held this finding's value for triage (the `held_for_triage` column). */
export function heldForTriage(facts: BaselineFacts): boolean {
  return facts[HELD_FACT] === true;
}

/** Whether the value stays out however often it recurs (confirmed, or held for triage). */
export function holdsOutForGood(finding: Pick<Finding, 'status' | 'baseline'>): boolean {
  return (
    (EXCLUDING_STATUSES as readonly FindingStatus[]).includes(finding.status) ||
    heldForTriage(finding.baseline)
  );
}
