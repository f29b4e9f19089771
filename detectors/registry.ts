// Placeholder replaced by the registry branch merge (same exported names).
import type { IdentityType } from '../ingest/schema.js';
export type LifecycleState = 'active' | 'suspended' | 'revoked';
export interface CredentialRecord {
  id: string;
  state: LifecycleState;
  revokedAt: number | null;
}
export interface DeclaredScope {
  tools: string[];
  resources: string[];
  egressDomains: string[];
  approvalRequired: string[];
}
export interface IdentityRecord {
  id: string;
  type: IdentityType;
  owner: string;
  purpose: string;
  state: LifecycleState;
  stateChangedAt: number | null;
  credentials: CredentialRecord[];
  scope: DeclaredScope | null;
  registered: boolean;
}
export interface ScopeCheck {
  kind: 'tool' | 'resource' | 'egress' | 'approval';
  pattern_list: string[];
  value: string;
}
export function checkDeclaredScope(
  _scope: DeclaredScope,
  _event: {
    tool: string;
    action: string;
    resource_type: string;
    resource_id: string;
    target_domain: string;
    approval_id: string;
  },
): ScopeCheck[] {
  return [];
}
export function lifecycleAt(
  identity: IdentityRecord,
  _credentialId: string,
  _ts: number,
): { state: LifecycleState; since: number | null; subject: 'identity' | 'credential' } {
  return { state: identity.state, since: identity.stateChangedAt, subject: 'identity' };
}
export function parseIdentitiesFile(_text: string, _fileName: string): IdentityRecord[] {
  return [];
}
