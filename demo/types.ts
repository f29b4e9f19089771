import type { ActionEventInput, IdentityType } from '../model/action.js';

/**
 * The demo's public shapes: the events it emits, the identities that act in them, and the
 * kinds of incident it injects (ground truth the events themselves never give away).
 */

export const INCIDENT_KINDS = [
  'new_tool',
  'new_egress_after_secret_read',
  'deploy_without_approval',
  'revoked_identity_activity',
  'credential_created_then_used',
] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];

export interface DemoEvent {
  /** The Kafka key: the acting identity's id, so one identity's events stay in order. */
  key: string;
  event: ActionEventInput;
  /** Ground truth for detector tests; nothing inside `event` gives it away. */
  incident?: IncidentKind;
}

export interface DemoIdentity {
  readonly id: string;
  readonly type: IdentityType;
  readonly owner: string;
  readonly purpose: string;
  /** Fingerprint of the credential it acts with (never the secret itself). */
  readonly credential: string;
  /** Tools it uses in normal sessions. */
  readonly tools: readonly string[];
  readonly resources: readonly string[];
  /** Hosts it normally talks to. */
  readonly domains: readonly string[];
  /** Revoked in the registry: any activity at all is an incident. */
  readonly revoked: boolean;
}
