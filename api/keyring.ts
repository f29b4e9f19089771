import { randomBytes } from 'node:crypto';
import type { ApiAccessRepository } from '../storage/api-access.js';
import { authenticate, ROLES, type ApiKey, type Role } from './auth.js';

/**
 * The keys the API accepts: those from configuration (SCOPEWATCH_API_KEYS) and those created
 * through `POST /v1/keys`, stored as SHA-256 hashes. Stored keys are re-read at most every
 * `refreshMs`, so a key revoked by another API process stops working within that time (at once
 * in the process that revoked it).
 */

export const KEY_REFRESH_MS = 5_000;

/** Created keys look like `sw_<key id>_<secret>`: the id is visible in logs, the secret is not. */
export function newKeySecret(): { keyId: string; secret: string } {
  const keyId = randomBytes(6).toString('hex');
  return { keyId, secret: `sw_${keyId}_${randomBytes(24).toString('base64url')}` };
}

export class KeyRing {
  private stored: ApiKey[] = [];
  private loadedAt = -Infinity;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly configured: readonly ApiKey[],
    private readonly store: Pick<ApiAccessRepository, 'keys'> | null,
    private readonly refreshMs = KEY_REFRESH_MS,
  ) {}

  /** Re-reads stored keys when the last read is older than the refresh interval. */
  async fresh(now = Date.now()): Promise<void> {
    if (!this.store || now - this.loadedAt < this.refreshMs) return;
    this.loading ??= this.reload(now).finally(() => {
      this.loading = null;
    });
    try {
      await this.loading;
    } finally {
      // A failed read is not retried on every request: the next try waits the interval too.
      this.loadedAt = Math.max(this.loadedAt, now);
    }
  }

  async reload(now = Date.now()): Promise<void> {
    if (!this.store) return;
    const rows = await this.store.keys();
    this.stored = rows
      .filter((r) => r.revoked_at === null && (ROLES as readonly string[]).includes(r.role))
      .map((r) => ({ role: r.role as Role, keyId: r.key_id, hash: Buffer.from(r.hash, 'hex') }));
    this.loadedAt = now;
  }

  /** The key presented, if it is one of ours (configured or stored). */
  authenticate(presented: string | undefined): ApiKey | null {
    return authenticate([...this.configured, ...this.stored], presented);
  }

  isConfigured(keyId: string): boolean {
    return this.configured.some((k) => k.keyId === keyId);
  }

  configuredKeys(): readonly ApiKey[] {
    return this.configured;
  }
}
