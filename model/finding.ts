/**
 * Findings — **contract** (DESIGN.md "Findings"): what a detector concluded about one
 * identity, deduplicated on identity + detector + subject, with the baseline facts it rested on.
 */

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const FINDING_STATUSES = ['open', 'acknowledged', 'resolved', 'false_positive', 'suppressed'] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

/** The baseline facts a decision rested on, snapshotted with the finding for evidence. */
export type BaselineFacts = Record<string, string | number | boolean | string[]>;

export interface Finding {
  finding_id: string;
  detector: string;
  detector_version: string;
  identity_id: string;
  session: string;
  severity: Severity;
  score: number;
  title: string;
  explanation: string;
  event_ids: string[];
  first_ts: number;
  last_ts: number;
  count: number;
  status: FindingStatus;
  frameworks: string[];
  created_at: number;
  /** identity + detector + subject, hashed: what repeats deduplicate on. */
  dedup_key: string;
  subject: string;
  /** Kind of baseline term the subject is ('' when the finding is not about one term). */
  term_kind: string;
  /** Hash of the detector's id, version and config: which rules produced it. */
  config_hash: string;
  /** The baseline facts as the detector saw them when the finding opened. */
  baseline: BaselineFacts;
}
