import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { canonicalBytes, canonicalize, sha256Hex, type Json } from './canonical.js';
import type { ChainLink } from './chain.js';
import { keyId, publicKeyPem, signEnvelope, type DsseEnvelope } from './dsse.js';
import { frameworkMapping } from './frameworks.js';
import type { TarEntry } from './tar.js';

/**
 * Evidence bundles (DESIGN.md "Evidence bundle", a contract): the parts an auditor needs for
 * one finding, each canonical JSON (RFC 8785) with its SHA-256 in a manifest, the manifest
 * signed with Ed25519 in a DSSE envelope. Pure: the same inputs give the same bytes (Ed25519
 * signatures are deterministic and nothing here reads a clock).
 */

export const BUNDLE_FORMAT = 'scopewatch.evidence/v1';
export const MANIFEST_TYPE = 'application/vnd.scopewatch.evidence-manifest+json';

/** Part names, in bundle order. */
export const PART_NAMES = ['finding', 'detection_record', 'events', 'triage', 'frameworks', 'chain'] as const;
export type PartName = (typeof PART_NAMES)[number];

export interface EvidenceInput {
  /** The finding as it stands now (status, count, cited events). */
  finding: { finding_id: string; identity_id: string; frameworks: readonly string[] } & Record<
    string,
    unknown
  >;
  /** Its link in the chain and the detection record that link hashes. */
  link: ChainLink;
  record: Json;
  /** The cited events' ids, and every stored event of their sessions (ts, event_id order). */
  cited: readonly string[];
  events: readonly Json[];
  /** Whether the sessions were cut at the per-session cap. */
  eventsTruncated: boolean;
  triage: readonly Json[];
}

export interface Manifest {
  format: typeof BUNDLE_FORMAT;
  subject: { finding_id: string; identity_id: string };
  parts: { name: PartName; sha256: string; bytes: number }[];
  chain: ChainLink;
  signer: { keyid: string };
}

export interface EvidenceBundle {
  format: typeof BUNDLE_FORMAT;
  envelope: DsseEnvelope;
  /** The signer's public key, for convenience: verification should pin it (`--pubkey`). */
  public_key: string;
  parts: Record<PartName, Json>;
}

export const ManifestSchema = z
  .object({
    format: z.literal(BUNDLE_FORMAT),
    subject: z.object({ finding_id: z.string(), identity_id: z.string() }).strict(),
    parts: z.array(
      z
        .object({ name: z.enum(PART_NAMES), sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number() })
        .strict(),
    ),
    chain: z
      .object({
        chain: z.string(),
        seq: z.number().int().positive(),
        finding_id: z.string(),
        record_hash: z.string(),
        prev_hash: z.string(),
        chain_hash: z.string(),
      })
      .strict(),
    signer: z.object({ keyid: z.string() }).strict(),
  })
  .strict();

/** The parts as JSON values, in bundle order. */
export function bundleParts(input: EvidenceInput): Record<PartName, Json> {
  return {
    finding: JSON.parse(canonicalize(input.finding)) as Json,
    detection_record: input.record,
    events: { cited: [...input.cited], truncated: input.eventsTruncated, events: [...input.events] },
    triage: [...input.triage],
    frameworks: frameworkMapping(input.finding.frameworks).map((c) => ({ ...c })),
    chain: { ...input.link },
  };
}

export function buildBundle(
  input: EvidenceInput,
  privateKey: KeyObject,
  publicKey: KeyObject,
): EvidenceBundle {
  const parts = bundleParts(input);
  const manifest: Manifest = {
    format: BUNDLE_FORMAT,
    subject: { finding_id: input.finding.finding_id, identity_id: input.finding.identity_id },
    parts: PART_NAMES.map((name) => {
      const bytes = canonicalBytes(parts[name]);
      return { name, sha256: sha256Hex(bytes), bytes: bytes.length };
    }),
    chain: { ...input.link },
    signer: { keyid: keyId(publicKey) },
  };
  const envelope = signEnvelope(MANIFEST_TYPE, canonicalBytes(manifest), privateKey);
  return { format: BUNDLE_FORMAT, envelope, public_key: publicKeyPem(publicKey), parts };
}

/** The bundle as one canonical JSON document (what the API and `scopewatch evidence` write). */
export function bundleJson(bundle: EvidenceBundle): string {
  return canonicalize(bundle);
}

/** The archive layout: the envelope, the key, and each part as its canonical bytes. */
export const ENVELOPE_ENTRY = 'manifest.dsse.json';
export const KEY_ENTRY = 'public-key.pem';
const partEntry = (name: PartName): string => `parts/${name}.json`;

/** The part an archive entry holds, null when the entry is not a part. */
export function partNameOf(entry: string): PartName | null {
  return PART_NAMES.find((name) => partEntry(name) === entry) ?? null;
}

export function bundleEntries(bundle: EvidenceBundle): TarEntry[] {
  return [
    { name: ENVELOPE_ENTRY, data: canonicalBytes(bundle.envelope) },
    { name: KEY_ENTRY, data: Buffer.from(bundle.public_key) },
    ...PART_NAMES.map((name) => ({ name: partEntry(name), data: canonicalBytes(bundle.parts[name]) })),
  ];
}
