/**
 * The things a baseline remembers per identity (one value per kind per event) and the rows
 * of the `baseline_terms` aggregates they are stored as. Extraction lives in
 * detectors/terms.ts; the migrations mirror it in SQL.
 */
export const TERM_KINDS = [
  'tool',
  'resource',
  'resource_prefix',
  'tool_resource',
  'resource_changed',
  'domain',
  'action',
  'credential',
  'approved_action',
] as const;
export type TermKind = (typeof TERM_KINDS)[number];

/** One row of the baseline aggregates, the unit profiles are loaded from. */
export interface BaselineTermRow {
  identity_id: string;
  kind: TermKind;
  value: string;
  first_ts: number;
  last_ts: number;
  count: number;
}

/** A triage decision about one baseline value: learn it (`allow`) or keep it out for good (`exclude`). */
/** A baseline value an analyst allows an identity (a triage decision's explicit allow rule). */
export interface AllowRule {
  kind: TermKind;
  value: string;
}

export interface Override {
  identity_id: string;
  kind: TermKind;
  value: string;
  effect: 'allow' | 'exclude';
}

export function isTermKind(kind: string): kind is TermKind {
  return (TERM_KINDS as readonly string[]).includes(kind);
}
