import { describe, expect, it } from 'vitest';
import { buildBundle, EVIDENCE, PART_NAMES, type EvidenceInput } from '../../../evidence/bundle.js';
import {
  bundleEntries as entriesOf,
  bundleJson,
  type SignedBundle,
} from '../../../evidence/signed-bundle.js';
import { canonicalBytes, type Json } from '../../../evidence/canonical.js';
import { detectionRecord, nextLink, recordHash, type ChainLink } from '../../../evidence/chain.js';
import { generateSigningKey } from '../../../evidence/dsse.js';
import { readTarGz, writeTarGz } from '../../../evidence/tar.js';
import {
  chainCheck,
  sourceFromArchive,
  sourceFromJson,
  sourceFromJsonText,
  verifyBundle,
  type BundleSource,
} from '../../../evidence/verify.js';
import type { Finding } from '../../../model/finding.js';

/** Evidence bundles end to end without storage: build, verify, and every way to break one. */

const keys = generateSigningKey();
const bundleEntries = (bundle: SignedBundle<(typeof PART_NAMES)[number]>) => entriesOf(EVIDENCE, bundle);

function finding(id: string): Finding {
  return {
    finding_id: id,
    detector: 'scope.new_egress',
    detector_version: '2.1.0',
    identity_id: 'agent-7',
    session: 's-1',
    severity: 'high',
    score: 0.81,
    title: 'agent-7: first egress to paste.example',
    explanation: 'Observed: POST to paste.example; expected: the 4 domains of its history.',
    event_ids: ['e-2'],
    first_ts: 1_770_000_000_000,
    last_ts: 1_770_000_000_000,
    count: 1,
    status: 'open',
    frameworks: ['OWASP-NHI:NHI5', 'OWASP-AGENTIC:T2', 'NIST-CSF:DE.CM-01'],
    created_at: 1_770_000_001_000,
    dedup_key: 'k',
    subject: 'paste.example',
    term_kind: 'domain',
    config_hash: 'abc123',
    baseline: { known_domains: ['api.example'], history_events: 412 },
  };
}

/** A chain of `n` findings' links and the input for the bundle of the i-th. */
function chain(n: number): { links: ChainLink[]; input: (i: number) => EvidenceInput } {
  const links: ChainLink[] = [];
  const records: Json[] = [];
  for (let i = 0; i < n; i += 1) {
    const record = detectionRecord(finding(`f-${String(i)}`), null);
    records.push(record);
    links.push(nextLink('host:1', links.at(-1) ?? null, `f-${String(i)}`, recordHash(record)));
  }
  return {
    links,
    input: (i) => ({
      finding: { ...finding(`f-${String(i)}`) },
      link: links[i] as ChainLink,
      record: records[i] ?? null,
      cited: ['e-2'],
      events: [
        { event_id: 'e-1', ts: 1_769_999_990_000, tool: 'read_secret', target_domain: '' },
        { event_id: 'e-2', ts: 1_770_000_000_000, tool: 'http_post', target_domain: 'paste.example' },
      ],
      eventsTruncated: false,
      triage: [],
    }),
  };
}

const failed = (source: BundleSource, pinned = keys.publicKey): string[] =>
  verifyBundle(source, pinned)
    .checks.filter((c) => !c.ok)
    .map((c) => c.name);

function jsonSource(input: EvidenceInput): BundleSource {
  const source = sourceFromJson(JSON.parse(bundleJson(buildBundle(input, keys.privateKey, keys.publicKey))));
  if (typeof source === 'string') throw new Error(source);
  return source;
}

describe('evidence bundles', () => {
  const { links, input } = chain(3);

  it('verify, as JSON and as an archive, with the key pinned or the bundle’s own', () => {
    const bundle = buildBundle(input(1), keys.privateKey, keys.publicKey);
    const result = verifyBundle(jsonSource(input(1)), keys.publicKey);
    expect(result.checks.map((c) => c.name)).toEqual([
      'key',
      'signature',
      'manifest',
      ...PART_NAMES.map((p) => `part ${p}`),
      'chain link',
      'subject',
    ]);
    expect(result.ok).toBe(true);
    expect(result.link).toEqual(links[1]);
    const archive = sourceFromArchive(readTarGz(writeTarGz(bundleEntries(bundle), 0)));
    if (typeof archive === 'string') throw new Error(archive);
    expect(verifyBundle(archive, keys.publicKey).ok).toBe(true);
    // The bundle's own key shows the parts are intact for that key, never who signed: not verified.
    const own = verifyBundle(archive, null);
    expect(own.ok).toBe(false);
    expect(own.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['key']);
    expect(own.checks[0]?.detail).toContain('not pinned');
    expect(bundle.parts.frameworks).toContainEqual(expect.objectContaining({ id: 'EU-AI-ACT:ART12' }));
  });

  it("accepts the JSON form only as written, and archives only with a bundle's entries", () => {
    const text = bundleJson(buildBundle(input(1), keys.privateKey, keys.publicKey));
    const exact = sourceFromJsonText(text);
    if (typeof exact === 'string') throw new Error(exact);
    expect(verifyBundle(exact, keys.publicKey).ok).toBe(true);
    expect(sourceFromJsonText(`${text}\n`)).not.toBeTypeOf('string');
    expect(sourceFromJsonText(JSON.stringify(JSON.parse(text), null, 2))).toMatch(/not the canonical JSON/);
    // A duplicate key another parser would read differently.
    expect(sourceFromJsonText(text.replace('{"envelope":', '{"format":"x","envelope":'))).toMatch(
      /canonical/,
    );
    const entries = bundleEntries(buildBundle(input(1), keys.privateKey, keys.publicKey));
    expect(sourceFromArchive([...entries, { name: 'parts/extra.json', data: Buffer.from('{}') }])).toMatch(
      /entries a bundle does not: parts\/extra.json/,
    );
  });

  it('is byte-identical when built twice from the same data', () => {
    const a = bundleJson(buildBundle(input(0), keys.privateKey, keys.publicKey));
    const b = bundleJson(buildBundle(input(0), keys.privateKey, keys.publicKey));
    expect(a).toBe(b);
    const entries = bundleEntries(buildBundle(input(0), keys.privateKey, keys.publicKey));
    expect(writeTarGz(entries, 7).equals(writeTarGz(entries, 7))).toBe(true);
  });

  it('fails on any flipped byte of any part, naming the part', () => {
    const bundle = buildBundle(input(2), keys.privateKey, keys.publicKey);
    for (const name of PART_NAMES) {
      const bytes = canonicalBytes(bundle.parts[name]);
      for (const at of [0, Math.floor(bytes.length / 2), bytes.length - 1]) {
        const source = sourceFromArchive(readTarGz(writeTarGz(bundleEntries(bundle), 0)));
        if (typeof source === 'string') throw new Error(source);
        const changed = Buffer.from(bytes);
        changed[at] = (changed[at] ?? 0) ^ 0x01;
        source.parts.set(name, changed);
        expect(failed(source)).toContain(`part ${name}`);
      }
    }
  });

  it('fails on a changed value in the JSON form, a missing or extra part, and another key', () => {
    const tampered = JSON.parse(bundleJson(buildBundle(input(1), keys.privateKey, keys.publicKey))) as {
      parts: { finding: { score: number }; triage: unknown[] };
    };
    tampered.parts.finding.score = 0.1;
    const source = sourceFromJson(tampered);
    if (typeof source === 'string') throw new Error(source);
    expect(failed(source)).toEqual(['part finding']);

    const missing = jsonSource(input(1));
    missing.parts.delete('triage');
    expect(failed(missing)).toEqual(['manifest', 'part triage']);

    const other = generateSigningKey();
    const result = verifyBundle(jsonSource(input(1)), other.publicKey);
    expect(result.ok).toBe(false);
    expect(result.checks.find((c) => c.name === 'signature')?.detail).toMatch(/signed by key/);
  });

  it('fails when a bundle is signed by a key other than the pinned one', () => {
    const other = generateSigningKey();
    const forged = buildBundle(input(1), other.privateKey, other.publicKey);
    const source = sourceFromJson(JSON.parse(bundleJson(forged)));
    if (typeof source === 'string') throw new Error(source);
    expect(failed(source)).toContain('signature');
  });

  it('across bundles: consecutive records pass, a removed or altered one fails saying where', () => {
    expect(chainCheck(links).ok).toBe(true);
    const gap = chainCheck([links[0] as ChainLink, links[2] as ChainLink]);
    expect(gap.ok).toBe(false);
    expect(gap.detail).toMatch(/records #2–#2 are missing between f-0 and f-2/);
    const altered = links.map((l) => ({ ...l }));
    if (altered[1]) altered[1].record_hash = 'f'.repeat(64);
    const broken = chainCheck(altered);
    expect(broken.ok).toBe(false);
    expect(broken.detail).toContain('record #2');
  });

  it('a record that does not hash to its link fails the chain link check', () => {
    const bad = input(1);
    bad.record = { ...(bad.record as Record<string, never>), score: 0.99 };
    expect(failed(jsonSource(bad))).toEqual(['chain link']);
  });
});
