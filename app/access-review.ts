import {
  accessReview,
  actedAfterLifecycleEnd,
  fleetReview,
  type FleetRow,
} from '../detectors/access-review.js';
import { registryEntry, registryYaml } from '../detectors/registry.js';
import { canonicalize, type Json } from '../evidence/canonical.js';
import { identityJson } from '../evidence/chain.js';
import { buildReviewBundle, type ReviewBundle } from '../evidence/review-bundle.js';
import type { IdentityRecord } from '../model/identity.js';
import type { Repositories } from '../storage/repositories.js';
import type { ReviewPeriod } from '../api/review-routes.js';
import type { EvidenceService } from '../api/evidence-routes.js';
import type { ReviewService } from '../api/review-routes.js';
import { evidenceBundle, type SigningKeys } from './evidence.js';

export type { FleetRow };

/**
 * Access reviews from storage: one identity's period (its actions grouped, its findings with
 * their triage, its record) judged by the pure core and signed as a bundle; and the fleet table.
 * Nothing here reads a clock: the same period over the same data gives the same bytes.
 */

/** Action groups read per review; an identity with more in one period is reviewed on its busiest. */
export const REVIEW_GROUP_CAP = 100_000;
/** Findings listed per review (most recent first). */
export const REVIEW_FINDING_CAP = 1000;

type ReviewStorage = Pick<Repositories, 'usage' | 'identities' | 'findings' | 'records' | 'baselines'>;

/** The record of an identity nobody registered: no declared scope, so everything used is proposed. */
function unregistered(id: string): IdentityRecord {
  return {
    id,
    type: 'agent',
    owner: '',
    purpose: '',
    state: 'active',
    stateChangedAt: null,
    credentials: [],
    scope: null,
    registered: false,
  };
}

const asJson = (value: unknown): Json => JSON.parse(canonicalize(value)) as Json;

/** The signed review of one identity for a period; undefined when the identity is unknown. */
export async function accessReviewBundle(
  storage: ReviewStorage,
  identityId: string,
  period: ReviewPeriod,
  keys: SigningKeys,
): Promise<ReviewBundle | undefined> {
  const [records, usage, findings] = await Promise.all([
    storage.identities.byIds([identityId]),
    storage.usage.groups(identityId, period.from, period.to, REVIEW_GROUP_CAP),
    storage.findings.page(
      { identity: identityId, from: period.from, to: period.to - 1 },
      'time',
      REVIEW_FINDING_CAP,
    ),
  ]);
  let record = records.get(identityId);
  if (!record) {
    if (usage.groups.length === 0 && !(await storage.baselines.summary(identityId))) return undefined;
    record = unregistered(identityId);
  }
  const triage = await storage.records.triageFor(findings.map((f) => f.finding_id));
  const review = accessReview({
    identity: record,
    period,
    groups: usage.groups,
    groupsTruncated: usage.truncated,
    sessions: usage.sessions,
  });
  const openFindings = findings.filter((f) => f.status === 'open' || f.status === 'acknowledged').length;
  const entry = registryEntry(record, review.proposed.scope);
  return buildReviewBundle(
    { identity_id: identityId, from: period.from, to: period.to },
    {
      review: asJson({
        identity_id: identityId,
        period,
        totals: review.totals,
        unused_share: review.scope.unused_share,
        open_findings: openFindings,
        active_after_lifecycle_end: actedAfterLifecycleEnd(record, review.totals.last_ts),
      }),
      identity: identityJson(record),
      usage: asJson(review.usage),
      scope: asJson(review.scope),
      proposed_scope: asJson({
        scope: review.proposed.scope,
        notes: review.proposed.notes,
        registry_entry: entry,
        registry_yaml: registryYaml([entry]),
      }),
      findings: asJson({
        truncated: findings.length >= REVIEW_FINDING_CAP,
        findings: findings.map((f) => ({
          finding_id: f.finding_id,
          detector: f.detector,
          severity: f.severity,
          score: f.score,
          title: f.title,
          status: f.status,
          first_ts: f.first_ts,
          last_ts: f.last_ts,
          count: f.count,
          triage: triage.get(f.finding_id) ?? [],
        })),
      }),
    },
    keys.privateKey,
    keys.publicKey,
  );
}

/** The fleet table for a period: every registered or active identity, most urgent first. */
export async function fleetReviewTable(
  storage: Pick<Repositories, 'usage' | 'identities' | 'findings'>,
  period: ReviewPeriod,
): Promise<FleetRow[]> {
  const [records, usage, open] = await Promise.all([
    storage.identities.loadAll(),
    storage.usage.fleet(period.from, period.to),
    storage.findings.openRisk(),
  ]);
  const openBy = new Map<string, number>();
  for (const f of open) openBy.set(f.identity_id, (openBy.get(f.identity_id) ?? 0) + 1);
  // Identities recorded only because they were once seen, and silent now, are no one's to review.
  const reviewable = new Map([...records].filter(([id, r]) => r.registered || usage.has(id)));
  return fleetReview(reviewable, usage, openBy);
}

/** What the API signs and serves: findings' evidence, identities' reviews, the fleet table. */
export function signedBundles(
  storage: ReviewStorage & Pick<Repositories, 'actions'>,
  keys: SigningKeys,
): EvidenceService & ReviewService {
  return {
    publicKeyPem: keys.publicKeyPem,
    bundle: (id) => evidenceBundle(storage, id, keys),
    review: (id, period) => accessReviewBundle(storage, id, period, keys),
    fleet: (period) => fleetReviewTable(storage, period),
  };
}
