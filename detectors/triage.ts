import { triageEffect } from '../model/baseline-policy.js';
import type { Finding, FindingStatus } from '../model/finding.js';
import type { AllowRule } from '../model/terms.js';
import { findingTerms } from './findings.js';
import type { Repositories } from '../storage/repositories.js';

/**
 * An analyst's decision on a finding: the new status (and note) is stored above any concurrent
 * detection write, and when the finding is about one baseline value the decision teaches the
 * baseline (model/baseline-policy.ts): benign → the value is learned, confirmed → kept out.
 * Every decision is also appended to the finding's triage history (evidence bundles show it).
 * Returns the updated finding, or undefined when there is no such finding.
 */
export async function triageFinding(
  storage: Pick<Repositories, 'findings' | 'overrides' | 'records'>,
  id: string,
  status: FindingStatus,
  note: string,
  /** Who decided: the API key's non-secret id ('' when not through the API). */
  keyId = '',
  /** Who the finding is assigned to from now on; undefined keeps the current assignee. */
  assignee?: string,
  /** Baseline values the identity may use from now on, beyond what the status itself teaches. */
  allow: readonly AllowRule[] = [],
): Promise<Finding | undefined> {
  const current = await storage.findings.get(id);
  if (!current) return undefined;
  const updated: Finding = { ...current, status };
  const history = await storage.records.triageOf(id);
  // The history first: a decision is never in effect without its entry in the audit trail.
  await storage.records.addTriage({
    finding_id: id,
    // Strictly after the previous decision, so the history has one order even within a millisecond.
    at: Math.max(Date.now(), (history.at(-1)?.at ?? 0) + 1),
    previous_status: current.status,
    status,
    note,
    assignee: assignee ?? history.at(-1)?.assignee ?? '',
    key_id: keyId,
    allowed: allow.map((a) => ({ ...a })),
  });
  await storage.findings.saveTriaged(updated, note);
  const effect = triageEffect(status);
  // Each value the finding is about: the decision on a registrable domain covers its hosts.
  if (effect)
    for (const term of findingTerms(current))
      await storage.overrides.add({ identity_id: current.identity_id, ...term, effect }, id);
  for (const rule of allow)
    await storage.overrides.add({ identity_id: current.identity_id, ...rule, effect: 'allow' }, id);
  return updated;
}
