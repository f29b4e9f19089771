import { describe, expect, it } from 'vitest';
import { parseApiKeys } from '../../api/auth.js';
import { buildApi } from '../../api/server.js';
import { silentLogger } from '../../common/logger.js';
import { MetricsRegistry } from '../../common/metrics.js';
import { sha256Hex } from '../../evidence/canonical.js';
import { storageOf, testConfig, testEvidence, useClickHouse } from './helpers.js';

/**
 * Keys created through the API (stored as hashes, revocable), the audit of every /v1 request
 * (allowed or denied, never a secret), and the per-key rate limit, on the real engine.
 */

const config = testConfig([]);
const clickhouse = useClickHouse(config);
const admin = 'admin-key-0123456789abcdef';
const analyst = 'analyst-key-0123456789abcdef';
const auth = (key: string) => ({ authorization: `Bearer ${key}` });

const app = (rateLimit = { rate: 1000, burst: 1000 }) =>
  buildApi({
    storage: storageOf(clickhouse()),
    keys: parseApiKeys([`admin:${admin}`, `analyst:${analyst}`]),
    logger: silentLogger,
    metrics: new MetricsRegistry(),
    rateLimit,
    evidence: testEvidence(storageOf(clickhouse())),
  });

describe('API keys and audit', () => {
  it('admins create, list and revoke keys; only a hash is stored; revoked keys stop working', async () => {
    const api = app();
    expect(
      (
        await api.inject({
          method: 'POST',
          url: '/v1/keys',
          headers: auth(analyst),
          payload: { role: 'admin', name: 'x' },
        })
      ).statusCode,
    ).toBe(403);
    const bad = await api.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: auth(admin),
      payload: { role: 'root', name: 'x' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ error: string }>().error).toContain('role');

    const created = await api.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: auth(admin),
      payload: { role: 'compliance', name: 'audit team' },
    });
    expect(created.statusCode).toBe(201);
    const key = created.json<{ key_id: string; secret: string; role: string }>();
    expect(key.secret).toMatch(new RegExp(`^sw_${key.key_id}_`));
    expect(
      (await api.inject({ method: 'GET', url: '/v1/findings', headers: auth(key.secret) })).statusCode,
    ).toBe(200);
    // Compliance may not triage or manage keys.
    expect((await api.inject({ method: 'GET', url: '/v1/keys', headers: auth(key.secret) })).statusCode).toBe(
      403,
    );

    const stored = await clickhouse().query<{ hash: string; n: number }>(
      `SELECT toString(hash) AS hash, toFloat64(count()) AS n FROM ${clickhouse().table('api_keys')}
       WHERE key_id = {id:String} GROUP BY hash`,
      { id: key.key_id },
    );
    expect(stored).toEqual([{ hash: sha256Hex(key.secret), n: 1 }]);

    const listed = (await api.inject({ method: 'GET', url: '/v1/keys', headers: auth(admin) })).json<{
      keys: Record<string, unknown>[];
    }>().keys;
    expect(listed.find((k) => k.key_id === key.key_id)).toMatchObject({
      role: 'compliance',
      name: 'audit team',
      source: 'api',
    });
    expect(JSON.stringify(listed)).not.toContain(key.secret.slice(16));
    expect(JSON.stringify(listed)).not.toContain(sha256Hex(key.secret));
    const configured = listed.find((k) => k.source === 'config');
    expect(configured).toBeDefined();

    expect(
      (
        await api.inject({
          method: 'DELETE',
          url: `/v1/keys/${String(configured?.key_id)}`,
          headers: auth(admin),
        })
      ).statusCode,
    ).toBe(400);
    expect(
      (await api.inject({ method: 'DELETE', url: '/v1/keys/000000000000', headers: auth(admin) })).statusCode,
    ).toBe(404);
    expect(
      (await api.inject({ method: 'DELETE', url: '/v1/keys/nope', headers: auth(admin) })).statusCode,
    ).toBe(400);
    expect(
      (await api.inject({ method: 'DELETE', url: `/v1/keys/${key.key_id}`, headers: auth(admin) }))
        .statusCode,
    ).toBe(204);
    expect(
      (await api.inject({ method: 'GET', url: '/v1/findings', headers: auth(key.secret) })).statusCode,
    ).toBe(401);
    // Another API process learns of the revocation from storage.
    const other = app();
    expect(
      (await other.inject({ method: 'GET', url: '/v1/findings', headers: auth(key.secret) })).statusCode,
    ).toBe(401);
    await api.close();
    await other.close();
  });

  it('audits every /v1 request, allowed or denied, with latency and never the key', async () => {
    const api = app();
    const marker = `/v1/findings?identity=audit-${String(Date.now())}`;
    expect((await api.inject({ method: 'GET', url: marker, headers: auth(analyst) })).statusCode).toBe(200);
    expect(
      (await api.inject({ method: 'GET', url: marker, headers: auth('wrong-key-0123456789') })).statusCode,
    ).toBe(401);
    expect((await api.inject({ method: 'GET', url: '/v1/keys', headers: auth(analyst) })).statusCode).toBe(
      403,
    );
    expect(
      (await api.inject({ method: 'GET', url: '/v1/no-such-route', headers: auth(analyst) })).statusCode,
    ).toBe(404);
    await api.close(); // flushes the audit batch

    const reader = app();
    const forbidden = await reader.inject({ method: 'GET', url: '/v1/audit', headers: auth(analyst) });
    expect(forbidden.statusCode).toBe(403);
    const log = (
      await reader.inject({ method: 'GET', url: '/v1/audit?limit=1000', headers: auth(admin) })
    ).json<{
      requests: {
        url: string;
        status: number;
        key_id: string;
        role: string;
        latency_ms: number;
        route: string;
      }[];
    }>().requests;
    const mine = log.filter((r) => r.url === marker);
    expect(mine.map((r) => [r.status, r.role]).sort()).toEqual([
      [200, 'analyst'],
      [401, ''],
    ]);
    expect(mine.every((r) => r.latency_ms >= 0)).toBe(true);
    expect(log.some((r) => r.status === 403 && r.url === '/v1/keys' && r.role === 'analyst')).toBe(true);
    expect(log.some((r) => r.status === 404 && r.url === '/v1/no-such-route')).toBe(true);
    const text = JSON.stringify(log);
    expect(text).not.toContain(analyst);
    expect(text).not.toContain('wrong-key-0123456789');
    const filtered = (
      await reader.inject({ method: 'GET', url: '/v1/audit?status=401&limit=1000', headers: auth(admin) })
    ).json<{ requests: { status: number }[] }>().requests;
    expect(filtered.length).toBeGreaterThan(0);
    expect(filtered.every((r) => r.status === 401)).toBe(true);
    expect(
      (await reader.inject({ method: 'GET', url: '/v1/audit?status=abc', headers: auth(admin) })).statusCode,
    ).toBe(400);
    await reader.close();
  });

  it('limits each key to its rate, with Retry-After, without slowing other keys', async () => {
    const api = app({ rate: 1, burst: 2 });
    const get = (key: string) =>
      api.inject({ method: 'GET', url: '/v1/findings?limit=1', headers: auth(key) });
    expect((await get(analyst)).statusCode).toBe(200);
    expect((await get(analyst)).statusCode).toBe(200);
    const limited = await get(analyst);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('1');
    expect(limited.json<{ error: string }>().error).toContain('rate limit');
    expect((await get(admin)).statusCode).toBe(200);
    // Health and metrics are not limited (orchestrators poll them).
    for (let i = 0; i < 5; i += 1)
      expect((await api.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    await api.close();
  });
});

describe('OpenAPI document', () => {
  it('documents every /v1 route from the zod schemas the routes validate with', async () => {
    const api = app();
    const response = await api.inject({ method: 'GET', url: '/docs/json' });
    expect(response.statusCode).toBe(200);
    const doc = response.json<{
      openapi: string;
      paths: Record<
        string,
        Record<
          string,
          { parameters?: { name: string; in: string; schema: { enum?: string[] } }[]; requestBody?: unknown }
        >
      >;
    }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(
      Object.keys(doc.paths)
        .filter((p) => p.startsWith('/v1'))
        .sort(),
    ).toEqual([
      '/v1/audit',
      '/v1/events/stats',
      '/v1/findings',
      '/v1/findings/{id}',
      '/v1/findings/{id}/evidence',
      '/v1/findings/{id}/triage',
      '/v1/identities',
      '/v1/identities/{id}',
      '/v1/identities/{id}/review',
      '/v1/keys',
      '/v1/keys/signing',
      '/v1/keys/{id}',
      '/v1/review',
    ]);
    const list = doc.paths['/v1/findings']?.get?.parameters ?? [];
    expect(list.map((p) => p.name)).toEqual(
      expect.arrayContaining(['min_score', 'q', 'sort', 'cursor', 'severity']),
    );
    expect(list.find((p) => p.name === 'sort')?.schema.enum).toEqual(['id', 'time', 'score']);
    expect(doc.paths['/v1/findings/{id}']?.patch?.requestBody).toBeDefined();
    expect(doc.paths['/v1/identities/{id}']?.put?.requestBody).toBeDefined();
    const ui = await api.inject({ method: 'GET', url: '/docs/' });
    expect([200, 302]).toContain(ui.statusCode);
    await api.close();
  });
});
