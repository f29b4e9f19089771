import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Scoped API keys. Configured as `role:secret`; only a SHA-256 of each secret is kept in
 * memory, and comparison is constant-time, so neither logs nor timing reveal a key.
 */

export const ROLES = ['analyst', 'compliance', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface ApiKey {
  role: Role;
  /** A short, non-secret id for audit logs: the first hex digits of the key's hash. */
  keyId: string;
  hash: Buffer;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export function parseApiKeys(specs: readonly string[]): ApiKey[] {
  return specs.map((spec) => {
    const separator = spec.indexOf(':');
    const role = spec.slice(0, separator);
    if (!(ROLES as readonly string[]).includes(role)) throw new Error(`API key has unknown role "${role}"`);
    const hash = sha256(spec.slice(separator + 1));
    return { role: role as Role, keyId: hash.toString('hex').slice(0, 12), hash };
  });
}

export function authenticate(keys: readonly ApiKey[], presented: string | undefined): ApiKey | null {
  if (!presented) return null;
  const hash = sha256(presented);
  // Check every key, not just until a match, to keep timing independent of position.
  let match: ApiKey | null = null;
  for (const key of keys) if (timingSafeEqual(key.hash, hash)) match = key;
  return match;
}

/** Role → what it may do. Admin may do everything. */
export function allowed(role: Role, needed: readonly Role[]): boolean {
  return role === 'admin' || needed.includes(role);
}

/** Reads `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) return auth.slice('Bearer '.length).trim();
  const key = headers['x-api-key'];
  return typeof key === 'string' ? key : undefined;
}
