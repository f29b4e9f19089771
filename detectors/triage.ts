import { triageEffect } from '../model/baseline-policy.js';
import type { Finding, FindingStatus } from '../model/finding.js';
import { isTermKind } from '../model/terms.js';
import type { Repositories } from '../storage/repositories.js';

/**
 * An analyst's decision on a finding: the new status (and note) is stored above any concurrent
 * detection write, and when the finding is about one baseline value the decision teaches the
 * baseline (model/baseline-policy.ts): benign → the value is learned, confirmed → kept out.
 * Returns the updated finding, or undefined when there is no such finding.
 */
export async function triageFinding(
  storage: Pick<Repositories, 'findings' | 'overrides'>,
  id: string,
  status: FindingStatus,
  note: string,
): Promise<Finding | undefined> {
  const current = await storage.findings.get(id);
  if (!current) return undefined;
  const updated: Finding = { ...current, status };
  await storage.findings.saveTriaged(updated, note);
  const effect = triageEffect(status);
  if (effect && isTermKind(current.term_kind))
    await storage.overrides.add(
      { identity_id: current.identity_id, kind: current.term_kind, value: current.subject, effect },
      id,
    );
  return updated;
}
