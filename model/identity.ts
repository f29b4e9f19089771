import type { IdentityType } from './action.js';

/**
 * An identity record (contract, see DESIGN.md "Identities and declared scope"): who owns a
 * non-human identity, what it is for, its lifecycle, its credentials and its declared scope.
 * The registry file, the `identities` table and the API all speak this shape.
 */

export const LIFECYCLE_STATES = ['active', 'suspended', 'revoked'] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

export interface CredentialRecord {
  id: string;
  state: LifecycleState;
  /** Epoch ms from which the credential is revoked/suspended; null = since always. */
  revokedAt: number | null;
}

export interface DeclaredScope {
  /** Globs over the event's tool, e.g. `github.*`, `s3:Get*`. */
  tools: string[];
  /** Globs over `resource_type:resource_id` or the bare resource id, e.g. `repo:acme/*`, `prod-*`. */
  resources: string[];
  /** Globs over target_domain; `*.x.com` matches sub-domains of x.com (not x.com itself). */
  egressDomains: string[];
  /** Actions that need an `approval.id`. */
  approvalRequired: ApprovalRule[];
}

/** An action class or tool glob that needs approval, optionally only on some resources. */
export interface ApprovalRule {
  match: string;
  /** Globs like `DeclaredScope.resources`; empty = on any resource. */
  resources: string[];
}

export interface IdentityRecord {
  id: string;
  type: IdentityType;
  owner: string;
  purpose: string;
  state: LifecycleState;
  /** Epoch ms since when the current state holds; null = always. */
  stateChangedAt: number | null;
  credentials: CredentialRecord[];
  /** Null = no declared scope: policy detectors do not apply. */
  scope: DeclaredScope | null;
  /** False = only seen in events, never registered. */
  registered: boolean;
}
