import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FleetRow } from '../../detectors/access-review.js';
import { parseIdentitiesFile } from '../../detectors/registry.js';
import { readTarGz } from '../../evidence/tar.js';
import { sourceFromArchive, sourceFromJsonText, verifyBundle } from '../../evidence/verify.js';
import type { ActionRow } from '../../model/rows.js';
import {
  ingestDemoAndDetect,
  testApi,
  storageOf,
  testConfig,
  testEvidence,
  toolCallRow,
  useClickHouse,
} from './helpers.js';

/**
 * Access reviews on the real engine: the demo fleet registered from its identity file, the
 * demo traffic judged, then one identity's signed review (JSON and archive, verified offline,
 * byte-identical when asked twice), exact figures for an identity with hand-written actions,
 * and the fleet table.
 */

const config = testConfig([]);
const clickhouse = useClickHouse(config);
const compliance = 'compliance-key-0123456789abcdef';
const analyst = 'analyst-key-0123456789abcdef';
const auth = (key: string) => ({ authorization: `Bearer ${key}` });

interface Bundle {
  parts: {
    review: { totals: { events: number; sessions: number }; unused_share: number | null };
    usage: { tools: { name: string; events: number }[] };
    scope: { tools: { unused: string[]; outside: { value: string; events: number; approved: number }[] } };
    proposed_scope: {
      scope: { tools: string[] };
      notes: { entry: string; change: string }[];
      registry_yaml: string;
    };
    findings: { findings: { finding_id: string }[] };
  };
}

describe('access reviews', () => {
  let evidence: ReturnType<typeof testEvidence>;
  const app = () => testApi(clickhouse(), [`analyst:${analyst}`, `compliance:${compliance}`], evidence);
  const get = (url: string, key = compliance) => app().inject({ method: 'GET', url, headers: auth(key) });
  const now = Date.now();
  const from = now - 6 * 3600_000;
  const to = now + 3600_000;
  const period = `from=${String(from)}&to=${String(to)}`;

  beforeAll(async () => {
    const ch = clickhouse();
    const storage = storageOf(ch);
    evidence = testEvidence(storage);
    const registry = parseIdentitiesFile(readFileSync('demo/identities.yaml', 'utf8'), 'identities.yaml');
    await storage.identities.upsert(
      [
        ...registry,
        {
          id: 'probe-agent',
          type: 'agent',
          owner: 'qa',
          purpose: 'reads code and runs tests',
          state: 'active',
          stateChangedAt: null,
          credentials: [],
          scope: { tools: ['repo.*', 'run_tests'], resources: [], egressDomains: [], approvalRequired: [] },
          registered: true,
        },
      ],
      'file',
    );
    const probe: ActionRow[] = [
      toolCallRow('probe-agent', 'p-1', now - 3000, 'repo.read_file', 'probe-1'),
      toolCallRow('probe-agent', 'p-1', now - 2000, 'repo.read_file', 'probe-2'),
      toolCallRow('probe-agent', 'p-2', now - 1000, 'repo.read_file', 'probe-3'),
      {
        ...toolCallRow('probe-agent', 'p-2', now - 500, 'shell.exec', 'probe-4'),
        approval_id: 'chg-1',
        approval_by: 'bob',
      },
      toolCallRow('probe-agent', 'p-3', now - 400, 'http.post', 'probe-5'),
      // Outside the period: not counted.
      toolCallRow('probe-agent', 'p-0', from - 1000, 'run_tests', 'probe-0'),
    ];
    await storage.actions.insertActions(probe, 'review:probe');
    await ingestDemoAndDetect(ch, config, { seed: 11, count: 3_000, file: 'review-traffic.jsonl' });
  });

  it('reviews one identity exactly: usage, declared versus used, and the proposal with its reasons', async () => {
    const response = await get(`/v1/identities/probe-agent/review?${period}`);
    expect(response.statusCode).toBe(200);
    const { parts } = response.json<Bundle>();
    expect(parts.review.totals).toMatchObject({ events: 5, sessions: 3 });
    expect(parts.usage.tools.map((t) => [t.name, t.events])).toEqual([
      ['repo.read_file', 3],
      ['http.post', 1],
      ['shell.exec', 1],
    ]);
    expect(parts.scope.tools.unused).toEqual(['run_tests']);
    expect(parts.scope.tools.outside).toEqual([
      { value: 'http.post', events: 1, approved: 0 },
      { value: 'shell.exec', events: 1, approved: 1 },
    ]);
    expect(parts.review.unused_share).toBe(0.5);
    expect(parts.proposed_scope.scope.tools).toEqual(['repo.read_file', 'shell.exec']);
    expect(parts.proposed_scope.notes.find((n) => n.entry === 'http.post')?.change).toBe('excluded');
    const [pasted] = parseIdentitiesFile(parts.proposed_scope.registry_yaml, 'proposal.yaml');
    expect(pasted).toMatchObject({
      id: 'probe-agent',
      owner: 'qa',
      scope: { tools: ['repo.read_file', 'shell.exec'] },
    });
  });

  it('signs the review: it verifies offline with the pinned key, as JSON and as an archive, and is byte-identical when asked twice', async () => {
    const url = `/v1/identities/release-bot/review?${period}`;
    const [a, b] = [await get(url), await get(url)];
    expect(a.statusCode).toBe(200);
    expect(a.body).toBe(b.body);
    const source = sourceFromJsonText(a.body);
    if (typeof source === 'string') throw new Error(source);
    const verified = verifyBundle(source, evidence.keys.publicKey);
    expect(verified.checks.filter((c) => !c.ok)).toEqual([]);
    expect(verified.checks.map((c) => c.name)).toContain('subject');
    expect(a.json<Bundle>().parts.review.totals.events).toBeGreaterThan(0);

    const archive = await get(`${url}&format=archive`);
    expect(archive.headers['content-type']).toBe('application/gzip');
    const fromArchive = sourceFromArchive(readTarGz(archive.rawPayload));
    if (typeof fromArchive === 'string') throw new Error(fromArchive);
    expect(verifyBundle(fromArchive, evidence.keys.publicKey).ok).toBe(true);

    // One changed byte in a part is caught, and named.
    const tampered = a.body.replace('"release-bot"', '"release-bog"');
    const changed = sourceFromJsonText(tampered);
    if (typeof changed === 'string') throw new Error(changed);
    const failed = verifyBundle(changed, evidence.keys.publicKey);
    expect(failed.ok).toBe(false);
    expect(failed.checks.filter((c) => !c.ok).map((c) => c.name)[0]).toMatch(/^part /);
  });

  it('answers 404 for an unknown identity, 400 naming the field for a bad period, 403 for analysts', async () => {
    expect((await get(`/v1/identities/nobody-at-all/review?${period}`)).statusCode).toBe(404);
    const backwards = await get(`/v1/identities/release-bot/review?from=${String(to)}&to=${String(from)}`);
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json<{ error: string }>().error).toContain('from');
    const long = await get(`/v1/identities/release-bot/review?from=0&to=${String(to)}`);
    expect(long.statusCode).toBe(400);
    const format = await get(`/v1/identities/release-bot/review?format=pdf`);
    expect(format.json<{ error: string }>().error).toContain('format');
    expect((await get(`/v1/identities/release-bot/review`, analyst)).statusCode).toBe(403);
    expect((await get(`/v1/review`, analyst)).statusCode).toBe(403);
  });

  it('lists the fleet, most urgent first: a revoked identity still acting is to investigate', async () => {
    const response = await get(`/v1/review?${period}`);
    expect(response.statusCode).toBe(200);
    const rows = response.json<{ identities: FleetRow[] }>().identities;
    const legacy = rows.find((r) => r.identity_id === 'legacy-sync');
    expect(legacy).toMatchObject({
      lifecycle: 'revoked',
      verdict: 'investigate',
      active_after_lifecycle_end: true,
    });
    expect(rows[0]?.verdict).toBe('investigate');
    expect(rows.find((r) => r.identity_id === 'probe-agent')).toMatchObject({
      verdict: 'right-size',
      unused_share: 0.5,
      events: 5,
    });
    const csv = await get(`/v1/review?${period}&format=csv`);
    expect(csv.headers['content-type']).toContain('text/csv');
    const [header, ...lines] = csv.body.trim().split('\r\n');
    expect(header?.split(',')).toContain('unused_share');
    expect(lines).toHaveLength(rows.length);
  });
});
