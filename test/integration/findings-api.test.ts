import { beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { DetectionRunner } from '../../detectors/runner.js';
import { EMPTY_EVENT_DETAILS, type DetectorEvent } from '../../model/detector-event.js';
import type { Finding } from '../../model/finding.js';
import { ingestDemoAndDetect, testApi, storageOf, testConfig, useClickHouse } from './helpers.js';

/** The findings API over findings the detectors really produced (real engine): roles, filters, paging, triage. */

const config = testConfig([]);
const clickhouse = useClickHouse(config);
const analyst = 'analyst-key-0123456789abcdef';
const compliance = 'compliance-key-0123456789abcdef';
const auth = (key: string) => ({ authorization: `Bearer ${key}` });

describe('findings API', () => {
  const app = () => testApi(clickhouse(), [`analyst:${analyst}`, `compliance:${compliance}`]);

  beforeAll(async () => {
    const ch = clickhouse();
    await ingestDemoAndDetect(ch, config, { seed: 31, count: 3_000, file: 'traffic.jsonl' });
  });

  it('needs a key', async () => {
    expect((await app().inject({ method: 'GET', url: '/v1/findings' })).statusCode).toBe(401);
  });

  it('lists, filters and pages through findings', async () => {
    const api = app();
    const all = (
      await api.inject({ method: 'GET', url: '/v1/findings?limit=1000', headers: auth(compliance) })
    ).json<{
      findings: Finding[];
      next_cursor: string | null;
    }>();
    expect(all.findings.length).toBeGreaterThan(3);
    expect(all.next_cursor).toBeNull();
    const detector = all.findings[0]?.detector ?? '';
    const filtered = (
      await api.inject({ method: 'GET', url: `/v1/findings?detector=${detector}`, headers: auth(analyst) })
    ).json<{ findings: Finding[] }>();
    expect(filtered.findings.every((f) => f.detector === detector)).toBe(true);
    const pages: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const url: string = `/v1/findings?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page: { findings: Finding[]; next_cursor: string | null } = (
        await api.inject({ method: 'GET', url, headers: auth(analyst) })
      ).json<{
        findings: Finding[];
        next_cursor: string | null;
      }>();
      pages.push(...page.findings.map((f) => f.finding_id));
      cursor = page.next_cursor;
    }
    expect(pages).toEqual(all.findings.map((f) => f.finding_id));
  });

  it('rejects bad input with a 400 that says what is wrong', async () => {
    const response = await app().inject({
      method: 'GET',
      url: '/v1/findings?severity=urgent',
      headers: auth(analyst),
    });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ error: string }>().error).toContain('severity');
    expect(
      (await app().inject({ method: 'GET', url: '/v1/findings/f-nope', headers: auth(analyst) })).statusCode,
    ).toBe(404);
  });

  it('triage: analysts may change status, compliance may not; bad statuses are refused', async () => {
    const api = app();
    const [first] = (
      await api.inject({ method: 'GET', url: '/v1/findings?limit=1', headers: auth(analyst) })
    ).json<{
      findings: Finding[];
    }>().findings;
    expect(first).toBeDefined();
    const url = `/v1/findings/${first?.finding_id ?? ''}`;
    const forbidden = await api.inject({
      method: 'PATCH',
      url,
      headers: auth(compliance),
      payload: { status: 'resolved' },
    });
    expect(forbidden.statusCode).toBe(403);
    const bad = await api.inject({
      method: 'PATCH',
      url,
      headers: auth(analyst),
      payload: { status: 'done' },
    });
    expect(bad.statusCode).toBe(400);
    const ok = await api.inject({
      method: 'PATCH',
      url,
      headers: auth(analyst),
      payload: { status: 'false_positive', note: 'expected: new release tooling' },
    });
    expect(ok.statusCode).toBe(200);
    expect((await api.inject({ method: 'GET', url, headers: auth(analyst) })).json<Finding>().status).toBe(
      'false_positive',
    );
  });

  it('shows an identity with its baseline and risk', async () => {
    const api = app();
    const response = await api.inject({
      method: 'GET',
      url: '/v1/identities/release-bot',
      headers: auth(analyst),
    });
    expect(response.statusCode).toBe(200);
    const body = response.json<{ baseline: { events: number; tools: number }; risk: number }>();
    expect(body.baseline.events).toBeGreaterThan(0);
    expect(body.risk).toBeGreaterThanOrEqual(0);
    expect(body.risk).toBeLessThanOrEqual(100);
    expect(
      (await api.inject({ method: 'GET', url: '/v1/identities/nobody', headers: auth(analyst) })).statusCode,
    ).toBe(404);
  });
  it('sorts by time or score with cursors that stay stable while findings arrive; filters by score and text', async () => {
    const api = app();
    const get = async (query: string) => {
      const response = await api.inject({
        method: 'GET',
        url: `/v1/findings?${query}`,
        headers: auth(analyst),
      });
      expect(response.statusCode).toBe(200);
      return response.json<{ findings: Finding[]; next_cursor: string | null }>();
    };
    const all = (await get('limit=1000')).findings;
    const pages: Finding[][] = [];
    let cursor: string | null = null;
    do {
      const page = await get(`sort=time&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      pages.push(page.findings);
      cursor = page.next_cursor;
      if (pages.length === 1) {
        // A finding arriving mid-way is newer than every page: it never shows up in later ones.
        const [template] = all;
        if (!template) throw new Error('no findings');
        await storageOf(clickhouse()).findings.saveDetected([
          { ...template, finding_id: 'f-arrived-later', created_at: Date.now(), status: 'open' },
        ]);
      }
    } while (cursor);
    const seen = pages.flat();
    expect(seen.map((f) => f.finding_id).sort()).toEqual(all.map((f) => f.finding_id).sort());
    const times = seen.map((f) => f.created_at);
    expect(times).toEqual([...times].sort((a, b) => b - a));

    const byScore = (await get('sort=score&limit=1000')).findings.map((f) => f.score);
    expect(byScore).toEqual([...byScore].sort((a, b) => b - a));
    const threshold = byScore[Math.floor(byScore.length / 2)] ?? 0;
    const high = (await get(`min_score=${String(threshold)}&limit=1000`)).findings;
    expect(high.length).toBeGreaterThan(0);
    expect(high.every((f) => f.score >= threshold)).toBe(true);
    const word = (all[0]?.title ?? '').split(/\s+/).find((w) => w.length > 4) ?? 'agent';
    const texts = (await get(`q=${encodeURIComponent(word.toUpperCase())}&limit=1000`)).findings;
    expect(texts.length).toBeGreaterThan(0);
    expect(texts.every((f) => f.title.toLowerCase().includes(word.toLowerCase()))).toBe(true);

    const scoreCursor = (await get('sort=score&limit=1')).next_cursor ?? '';
    const wrongSort = await api.inject({
      method: 'GET',
      url: `/v1/findings?sort=time&cursor=${scoreCursor}`,
      headers: auth(analyst),
    });
    expect(wrongSort.statusCode).toBe(400);
    expect(wrongSort.json<{ error: string }>().error).toContain('sort=score');
    const garbage = await api.inject({
      method: 'GET',
      url: '/v1/findings?sort=time&cursor=%7B%7D',
      headers: auth(analyst),
    });
    expect(garbage.statusCode).toBe(400);
    expect(
      (await api.inject({ method: 'GET', url: '/v1/findings?sort=risky', headers: auth(analyst) }))
        .statusCode,
    ).toBe(400);
  });

  it('detail carries the session, identity and triage; closing needs a reason; history in order', async () => {
    const api = app();
    const list = (
      await api.inject({ method: 'GET', url: '/v1/findings?status=open&limit=1000', headers: auth(analyst) })
    ).json<{ findings: Finding[] }>().findings;
    const target = list.find((f) => f.event_ids.length > 0);
    if (!target) throw new Error('no open finding with cited events');
    const url = `/v1/findings/${target.finding_id}`;
    const detail = (await api.inject({ method: 'GET', url, headers: auth(compliance) })).json<
      Finding & { events: { event_id: string; session: string }[]; triage: unknown[]; assignee: string }
    >();
    expect(detail.finding_id).toBe(target.finding_id);
    expect(detail.baseline).toEqual(target.baseline);
    const ids = new Set(detail.events.map((e) => e.event_id));
    expect(target.event_ids.every((id) => ids.has(id))).toBe(true);
    expect(detail.triage).toEqual([]);
    expect(detail.assignee).toBe('');

    const noReason = await api.inject({
      method: 'PATCH',
      url,
      headers: auth(analyst),
      payload: { status: 'resolved' },
    });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json<{ error: string }>().error).toContain('note');
    const assigned = await api.inject({
      method: 'PATCH',
      url,
      headers: auth(analyst),
      payload: { status: 'acknowledged', assignee: 'dana@example.com' },
    });
    expect(assigned.statusCode).toBe(200);
    const resolved = await api.inject({
      method: 'PATCH',
      url,
      headers: auth(analyst),
      payload: { status: 'resolved', note: 'confirmed: token rotated' },
    });
    expect(resolved.statusCode).toBe(200);
    const history = (
      await api.inject({ method: 'GET', url: `${url}/triage`, headers: auth(compliance) })
    ).json<{ triage: { previous_status: string; status: string; assignee: string; note: string }[] }>()
      .triage;
    expect(history.map((t) => [t.previous_status, t.status, t.assignee])).toEqual([
      ['open', 'acknowledged', 'dana@example.com'],
      ['acknowledged', 'resolved', 'dana@example.com'],
    ]);
    expect(history[1]?.note).toBe('confirmed: token rotated');
    expect(
      (await api.inject({ method: 'GET', url, headers: auth(analyst) })).json<{ assignee: string }>()
        .assignee,
    ).toBe('dana@example.com');
    expect(
      (await api.inject({ method: 'GET', url: '/v1/findings/f-nope/triage', headers: auth(analyst) }))
        .statusCode,
    ).toBe(404);
  });

  it('an allow rule on a closing decision feeds the baseline and stays in the history', async () => {
    const api = app();
    const list = (
      await api.inject({ method: 'GET', url: '/v1/findings?status=open&limit=1000', headers: auth(analyst) })
    ).json<{ findings: Finding[] }>().findings;
    const target = list[0];
    if (!target) throw new Error('no open finding');
    const url = `/v1/findings/${target.finding_id}`;
    const patch = (payload: object) => api.inject({ method: 'PATCH', url, headers: auth(analyst), payload });
    const rule = { kind: 'tool', value: 'vendor.sync_contacts' };

    const own = await patch({
      status: 'resolved',
      note: 'confirmed',
      allow: [{ kind: target.term_kind || 'tool', value: target.subject }],
    });
    if (target.term_kind) {
      expect(own.statusCode).toBe(400);
      expect(own.json<{ error: string }>().error).toContain('stays out of the baseline');
    }
    const withoutReason = await patch({ status: 'acknowledged', allow: [rule] });
    expect(withoutReason.statusCode).toBe(400);
    expect(withoutReason.json<{ error: string }>().error).toContain('allow');
    const badKind = await patch({
      status: 'false_positive',
      note: 'vendor job',
      allow: [{ kind: 'planet', value: 'x' }],
    });
    expect(badKind.statusCode).toBe(400);
    expect(badKind.json<{ error: string }>().error).toContain('allow.0.kind');

    expect(
      (await patch({ status: 'false_positive', note: 'the vendor sync is expected', allow: [rule] }))
        .statusCode,
    ).toBe(200);
    const overrides = await storageOf(clickhouse()).overrides.forIdentities([target.identity_id]);
    expect(overrides).toContainEqual({ identity_id: target.identity_id, ...rule, effect: 'allow' });
    const history = (await api.inject({ method: 'GET', url: `${url}/triage`, headers: auth(analyst) })).json<{
      triage: { allowed: unknown[] }[];
    }>().triage;
    expect(history.at(-1)?.allowed).toEqual([rule]);

    // The next detection pass knows the tool: using it raises no first-seen tool finding.
    const runner = new DetectionRunner({
      storage: storageOf(clickhouse()),
      logger: silentLogger,
      registry: () => null,
    });
    const use = (tool: string, n: number): DetectorEvent => ({
      ...EMPTY_EVENT_DETAILS,
      event_id: `allow-check-${tool}`,
      ts: Date.now() + n,
      identity_id: target.identity_id,
      identity_type: 'agent',
      identity_credential: '',
      session: 'allow-check',
      action: 'tool.call',
      tool,
      resource_type: '',
      resource_id: '',
      target_domain: '',
      outcome: 'success',
      approval_id: '',
      source_ip: '',
      source_user_agent: '',
    });
    const { findings } = await runner.judge([use(rule.value, 0), use('vendor.never_allowed', 1)]);
    const newTools = findings.filter((f) => f.detector === 'scope.new_tool').map((f) => f.subject);
    expect(newTools).not.toContain(rule.value);
    expect(newTools).toContain('vendor.never_allowed');
  });
});
