import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeys } from '../../api/auth.js';
import { verifyBundleFiles } from '../../app/evidence.js';
import { chainProblems } from '../../evidence/chain.js';
import { FindingRecordsRepository } from '../../storage/finding-records.js';
import { readTarGz } from '../../evidence/tar.js';
import { sourceFromArchive, sourceFromJson, verifyBundle } from '../../evidence/verify.js';
import type { Finding } from '../../model/finding.js';
import {
  ingestDemoAndDetect,
  testApi,
  storageOf,
  testConfig,
  testEvidence,
  useClickHouse,
} from './helpers.js';

/**
 * Evidence end to end on the real engine: findings the detectors produced are chained as they
 * are stored, the API serves signed bundles (JSON and archive) that verify offline, triage
 * shows in them, and the detection record does not move when the baseline does.
 */

const config = testConfig([]);
const clickhouse = useClickHouse(config);
const analyst = 'analyst-key-0123456789abcdef';
const compliance = 'compliance-key-0123456789abcdef';
const auth = (key: string) => ({ authorization: `Bearer ${key}` });

describe('evidence bundles', () => {
  let evidence: ReturnType<typeof testEvidence>;
  const app = () => testApi(clickhouse(), [`analyst:${analyst}`, `compliance:${compliance}`], evidence);

  beforeAll(async () => {
    const ch = clickhouse();
    evidence = testEvidence(storageOf(ch));
    await ingestDemoAndDetect(ch, config, { seed: 5, count: 3_000, file: 'evidence-traffic.jsonl' });
  });

  const findings = async (): Promise<Finding[]> =>
    (await app().inject({ method: 'GET', url: '/v1/findings?limit=1000', headers: auth(compliance) })).json<{
      findings: Finding[];
    }>().findings;

  it('chains every stored finding, once, in one unbroken chain', async () => {
    const all = await findings();
    expect(all.length).toBeGreaterThan(3);
    const records = storageOf(clickhouse()).records;
    const head = await records.head();
    expect(head?.seq).toBe(all.length);
    const links = await records.links();
    expect(chainProblems(links)).toEqual([]);
    expect(new Set(links.map((l) => l.finding_id))).toEqual(new Set(all.map((f) => f.finding_id)));
    // Saving the same findings again (a repeat, a retried batch) adds no record.
    await storageOf(clickhouse()).findings.saveDetected(all.slice(0, 2));
    expect((await records.head())?.seq).toBe(all.length);

    // Two writers (say ingest's streaming detection and the scheduled pass, in two processes)
    // appending at the same time each extend their own chain: no position is claimed twice.
    const template = all[0];
    if (!template) throw new Error('no finding');
    const writer = (chain: string) =>
      new FindingRecordsRepository(clickhouse(), storageOf(clickhouse()).identities, chain);
    const made = (prefix: string) =>
      Array.from({ length: 5 }, (_, i) => ({ ...template, finding_id: `f-${prefix}-${String(i)}` }));
    await Promise.all([
      writer('host-a:1').append(made('a1')),
      writer('host-b:1').append(made('b1')),
      writer('host-a:1').append(made('a2')),
      writer('host-b:1').append(made('b2')),
    ]);
    const both = await records.links();
    expect(chainProblems(both)).toEqual([]);
    expect(both.filter((l) => l.chain === 'host-a:1').map((l) => l.seq)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
    // A record removed from a chain is reported with the positions missing.
    const gap = both.filter((l) => !(l.chain === 'host-b:1' && l.seq === 4));
    expect(chainProblems(gap)).toEqual([
      expect.stringMatching(/^chain host-b:1: records #4–#4 are missing between f-b\d-\d and f-b\d-\d$/),
    ]);
  });

  it('serves a signed bundle only to compliance, 404 for unknown ids, 400 for bad formats', async () => {
    const api = app();
    const [first] = await findings();
    const url = `/v1/findings/${first?.finding_id ?? ''}/evidence`;
    expect((await api.inject({ method: 'GET', url, headers: auth(analyst) })).statusCode).toBe(403);
    expect((await api.inject({ method: 'GET', url })).statusCode).toBe(401);
    expect(
      (await api.inject({ method: 'GET', url: '/v1/findings/f-nope/evidence', headers: auth(compliance) }))
        .statusCode,
    ).toBe(404);
    const bad = await api.inject({ method: 'GET', url: `${url}?format=zip`, headers: auth(compliance) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ error: string }>().error).toContain('format');

    const json = await api.inject({ method: 'GET', url, headers: auth(compliance) });
    expect(json.statusCode).toBe(200);
    const source = sourceFromJson(json.json());
    if (typeof source === 'string') throw new Error(source);
    const verified = verifyBundle(source, evidence.keys.publicKey);
    expect(verified.checks.filter((c) => !c.ok)).toEqual([]);
    const again = await api.inject({ method: 'GET', url, headers: auth(compliance) });
    expect(again.body).toBe(json.body);

    const archive = await api.inject({
      method: 'GET',
      url: `${url}?format=archive`,
      headers: auth(compliance),
    });
    expect(archive.headers['content-type']).toBe('application/gzip');
    const entries = readTarGz(archive.rawPayload);
    expect(entries.map((e) => e.name)).toContain('parts/detection_record.json');
    const fromArchive = sourceFromArchive(entries);
    if (typeof fromArchive === 'string') throw new Error(fromArchive);
    expect(verifyBundle(fromArchive, evidence.keys.publicKey).ok).toBe(true);
    const archiveAgain = await api.inject({
      method: 'GET',
      url: `${url}?format=archive`,
      headers: auth(compliance),
    });
    expect(archiveAgain.rawPayload.equals(archive.rawPayload)).toBe(true);

    const key = await api.inject({ method: 'GET', url: '/v1/keys/signing', headers: auth(analyst) });
    expect(key.body).toBe(evidence.publicKeyPem);

    // Prometheus: findings by detector, severity and status, and request latency by route.
    const metrics = (await api.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^scopewatch_findings\{detector="[^"]+",severity="[^"]+",status="open"\} \d+$/m);
    expect(metrics).toContain('# TYPE scopewatch_dead_letters gauge');
    expect(metrics).toContain(
      'scopewatch_api_request_duration_seconds_bucket{le="+Inf",route="/v1/findings/:id/evidence"}',
    );
  });

  it('shows triage with who decided, keeps the detection record as detected, verifies offline', async () => {
    const api = app();
    const all = await findings();
    const target = all.find((f) => f.status === 'open');
    if (!target) throw new Error('no open finding');
    const url = `/v1/findings/${target.finding_id}/evidence`;
    const before = (await api.inject({ method: 'GET', url, headers: auth(compliance) })).json<{
      parts: { detection_record: unknown; triage: unknown[] };
    }>();
    expect(before.parts.triage).toEqual([]);

    const patched = await api.inject({
      method: 'PATCH',
      url: `/v1/findings/${target.finding_id}`,
      headers: auth(analyst),
      payload: { status: 'acknowledged', note: 'looking into it' },
    });
    expect(patched.statusCode).toBe(200);
    // The baseline moves on (a rebuild from the stored events): the record must not.
    await storageOf(clickhouse()).baselines.rebuild();
    const after = (await api.inject({ method: 'GET', url, headers: auth(compliance) })).json<{
      parts: {
        detection_record: unknown;
        triage: { status: string; previous_status: string; key_id: string }[];
      };
    }>();
    expect(after.parts.detection_record).toEqual(before.parts.detection_record);
    expect(after.parts.triage).toEqual([
      expect.objectContaining({
        previous_status: 'open',
        status: 'acknowledged',
        note: 'looking into it',
        key_id: parseApiKeys([`analyst:${analyst}`])[0]?.keyId,
      }),
    ]);

    // Offline, as `scopewatch verify` does: two consecutive bundles and their chain; then one
    // changed byte, and a missing bundle between two others.
    const own = storageOf(clickhouse()).records;
    const [a, b, c] = (await own.links()).filter((l) => l.chain === own.chain);
    const files = await Promise.all(
      [a, b, c].map(async (link, i) => {
        const out = path.join(config.dataDir, `bundle-${String(i)}.json`);
        const body = await api.inject({
          method: 'GET',
          url: `/v1/findings/${link?.finding_id ?? ''}/evidence`,
          headers: auth(compliance),
        });
        writeFileSync(out, body.body);
        return out;
      }),
    );
    const pubkey = path.join(config.dataDir, 'signing.pub.pem');
    writeFileSync(pubkey, evidence.publicKeyPem);
    const [f0, f1, f2] = files as [string, string, string];
    expect(verifyBundleFiles([f0, f1, f2], pubkey).ok).toBe(true);
    const gap = verifyBundleFiles([f0, f2], pubkey);
    expect(gap.ok).toBe(false);
    expect(gap.chain?.detail).toContain('missing');
    const bundle = JSON.parse(readFileSync(f1, 'utf8')) as { parts: { finding: { title: string } } };
    bundle.parts.finding.title += ' (edited)';
    writeFileSync(f1, JSON.stringify(bundle));
    const tampered = verifyBundleFiles([f1], pubkey);
    expect(tampered.ok).toBe(false);
    expect(tampered.files[0]?.verification.checks.filter((ch) => !ch.ok).map((ch) => ch.name)).toEqual([
      'part finding',
    ]);
  });
});
