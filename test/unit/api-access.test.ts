import { describe, expect, it } from 'vitest';
import { parseApiKeys } from '../../api/auth.js';
import { AuditWriter } from '../../api/audit-writer.js';
import { KeyRing, newKeySecret } from '../../api/keyring.js';
import { RateLimiter } from '../../api/rate-limit.js';
import { silentLogger } from '../../common/logger.js';
import { sha256Hex } from '../../evidence/canonical.js';
import type { AuditRow, StoredApiKey } from '../../storage/api-access.js';

const row = (n: number): AuditRow => ({
  at: n,
  key_id: 'k',
  role: 'analyst',
  method: 'GET',
  route: '/v1/findings',
  url: `/v1/findings?n=${String(n)}`,
  status: 200,
  latency_ms: 1,
  ip: '127.0.0.1',
});

describe('RateLimiter', () => {
  it('allows a burst, then the rate, per caller; 0 means unlimited', () => {
    const limiter = new RateLimiter(2, 3);
    expect([0, 0, 0].map(() => limiter.take('a', 1000))).toEqual([0, 0, 0]);
    expect(limiter.take('a', 1000)).toBe(1);
    expect(limiter.take('b', 1000)).toBe(0);
    expect(limiter.take('a', 1500)).toBe(0); // half a second at 2/s: one token back
    expect(limiter.take('a', 1500)).toBe(1);
    const unlimited = new RateLimiter(0, 1);
    expect(Array.from({ length: 100 }, () => unlimited.take('a', 0)).every((w) => w === 0)).toBe(true);
  });
});

describe('AuditWriter', () => {
  it('writes in batches, keeps rows through a failed write, and flushes on close', async () => {
    const written: AuditRow[][] = [];
    let fail = true;
    const writer = new AuditWriter(
      {
        audit: (rows) => {
          if (fail) return Promise.reject(new Error('clickhouse down'));
          written.push([...rows]);
          return Promise.resolve();
        },
      },
      silentLogger,
      60_000,
      3,
    );
    writer.add(row(1));
    writer.add(row(2));
    writer.add(row(3)); // reaches maxRows: a write, which fails
    await writer.flush();
    expect(written).toEqual([]);
    fail = false;
    writer.add(row(4));
    await writer.close();
    expect(written.flat().map((r) => r.at)).toEqual([1, 2, 3, 4]);
  });
});

describe('KeyRing', () => {
  it('accepts configured and stored keys, drops revoked ones, re-reads at most once per interval', async () => {
    const { keyId, secret } = newKeySecret();
    expect(secret.startsWith(`sw_${keyId}_`)).toBe(true);
    const stored: StoredApiKey[] = [
      {
        key_id: keyId,
        role: 'compliance',
        name: 'n',
        hash: sha256Hex(secret),
        created_at: 1,
        created_by: '',
        revoked_at: null,
      },
    ];
    let reads = 0;
    const ring = new KeyRing(
      parseApiKeys(['admin:admin-secret-0123456789']),
      {
        keys: () => {
          reads += 1;
          return Promise.resolve(stored.map((k) => ({ ...k })));
        },
      },
      1000,
    );
    expect(ring.authenticate(secret)).toBeNull();
    await ring.fresh(10_000);
    expect(ring.authenticate(secret)?.role).toBe('compliance');
    expect(ring.authenticate('admin-secret-0123456789')?.role).toBe('admin');
    expect(ring.authenticate('nope')).toBeNull();
    await ring.fresh(10_500);
    expect(reads).toBe(1);
    stored[0] = { ...(stored[0] as StoredApiKey), revoked_at: 5 };
    await ring.fresh(11_001);
    expect(reads).toBe(2);
    expect(ring.authenticate(secret)).toBeNull();
  });
});
