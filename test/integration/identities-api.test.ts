import { describe, expect, it } from 'vitest';
import { parseApiKeys } from '../../api/auth.js';
import { buildApi } from '../../api/server.js';
import { streamingDetectionStage } from '../../app/streaming-detection.js';
import { silentLogger } from '../../common/logger.js';
import { MetricsRegistry } from '../../common/metrics.js';
import type { ActionRow } from '../../model/rows.js';
import { storageOf, testConfig, testEvidence, toolCallRow, useClickHouse } from './helpers.js';

/**
 * Identities through the API: the inventory (risk, activity, lifecycle), one identity, and an
 * admin's registry edit (a suspension) that streaming detection applies from its next batch.
 */

const config = testConfig([]);
const clickhouse = useClickHouse(config);
const admin = 'admin-key-0123456789abcdef';
const analyst = 'analyst-key-0123456789abcdef';
const auth = (key: string) => ({ authorization: `Bearer ${key}` });

const app = () =>
  buildApi({
    storage: storageOf(clickhouse()),
    keys: parseApiKeys([`admin:${admin}`, `analyst:${analyst}`]),
    logger: silentLogger,
    metrics: new MetricsRegistry(),
    evidence: testEvidence(storageOf(clickhouse())),
  });

let offset = 0;
function action(identity: string, ts: number, tool: string): ActionRow {
  offset += 1;
  return toolCallRow(
    identity,
    `${identity}-s${String(Math.floor(offset / 10))}`,
    ts,
    tool,
    `${identity}-${String(offset)}`,
  );
}

describe('identities API', () => {
  it('admins register and suspend identities; detection applies it from the next batch', async () => {
    const api = app();
    const storage = storageOf(clickhouse());
    const stage = await streamingDetectionStage(config.detect, storage, silentLogger);
    const start = Date.now() - 3600_000;
    const batch = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) =>
        action('ops-agent', start + (from + i) * 1000, i % 2 ? 'read' : 'write'),
      );
    const first = batch(0, 30);
    await storage.actions.insertActions(first, 'identities:1');
    await stage.run(first);

    const body = {
      owner: 'platform@example.com',
      purpose: 'nightly ops',
      scope: { tools: ['read', 'write'] },
    };
    expect(
      (
        await api.inject({
          method: 'PUT',
          url: '/v1/identities/ops-agent',
          headers: auth(analyst),
          payload: body,
        })
      ).statusCode,
    ).toBe(403);
    const bad = await api.inject({
      method: 'PUT',
      url: '/v1/identities/ops-agent',
      headers: auth(admin),
      payload: { ...body, state: 'paused' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ error: string }>().error).toContain('state');
    const mismatch = await api.inject({
      method: 'PUT',
      url: '/v1/identities/ops-agent',
      headers: auth(admin),
      payload: { ...body, id: 'other' },
    });
    expect(mismatch.statusCode).toBe(400);
    const registered = await api.inject({
      method: 'PUT',
      url: '/v1/identities/ops-agent',
      headers: auth(admin),
      payload: body,
    });
    expect(registered.statusCode).toBe(200);
    expect(registered.json<{ registered: boolean; scope: { tools: string[] } }>()).toMatchObject({
      registered: true,
      scope: { tools: ['read', 'write'] },
    });

    const suspended = await api.inject({
      method: 'PUT',
      url: '/v1/identities/ops-agent',
      headers: auth(admin),
      payload: { ...body, state: 'suspended', state_changed_at: new Date(start + 40_000).toISOString() },
    });
    expect(suspended.statusCode).toBe(200);
    const second = batch(50, 5);
    await storage.actions.insertActions(second, 'identities:2');
    await stage.run(second);
    const lifecycle = await storage.findings.list(
      { identity: 'ops-agent', detector: 'lifecycle.revoked_activity' },
      10,
    );
    expect(lifecycle).toHaveLength(1);

    const detail = (
      await api.inject({ method: 'GET', url: '/v1/identities/ops-agent', headers: auth(analyst) })
    ).json<{
      record: { state: string; owner: string };
      baseline: { events: number };
      open_findings: number;
    }>();
    expect(detail.record).toMatchObject({ state: 'suspended', owner: 'platform@example.com' });
    expect(detail.baseline.events).toBe(35);
    expect(detail.open_findings).toBeGreaterThan(0);

    const list = (
      await api.inject({ method: 'GET', url: '/v1/identities?lifecycle=suspended', headers: auth(analyst) })
    ).json<{
      identities: { id: string; risk: number; registered: boolean; last_seen: number; events: number }[];
    }>().identities;
    expect(list.map((i) => i.id)).toEqual(['ops-agent']);
    expect(list[0]).toMatchObject({ registered: true, events: 35 });
    expect(list[0]?.risk).toBeGreaterThan(0);
    const all = (
      await api.inject({ method: 'GET', url: '/v1/identities?sort=risk&limit=1000', headers: auth(analyst) })
    ).json<{
      identities: { risk: number }[];
    }>().identities;
    expect(all.map((i) => i.risk)).toEqual([...all.map((i) => i.risk)].sort((a, b) => b - a));
    expect(
      (await api.inject({ method: 'GET', url: '/v1/identities?sort=nope', headers: auth(analyst) }))
        .statusCode,
    ).toBe(400);
    expect(
      (await api.inject({ method: 'GET', url: '/v1/identities/nobody-at-all', headers: auth(analyst) }))
        .statusCode,
    ).toBe(404);
    // Risk over time: 30 days, oldest first, today's point is the current risk.
    const top = list[0];
    if (!top) throw new Error('no identity');
    const topDetail = (
      await api.inject({ method: 'GET', url: `/v1/identities/${top.id}`, headers: auth(analyst) })
    ).json<{ risk: number; risk_over_time: { day: string; risk: number }[] }>();
    expect(topDetail.risk_over_time).toHaveLength(30);
    expect(topDetail.risk_over_time.at(-1)).toEqual({
      day: new Date().toISOString().slice(0, 10),
      risk: topDetail.risk,
    });
    await api.close();
  });
});
