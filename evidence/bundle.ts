import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { canonicalize, type Json } from './canonical.js';
import type { ChainLink } from './chain.js';
import { frameworkMapping } from './frameworks.js';
import { sealBundle, type BundleKind, type SignedBundle } from './signed-bundle.js';

/**
 * Evidence bundles (DESIGN.md "Evidence bundle", a contract): the parts an auditor needs for
 * one finding, signed as `signed-bundle.ts` describes, with the finding's link in the hash
 * chain recorded in the manifest.
 */

export const BUNDLE_FORMAT = 'scopewatch.evidence/v1';
export const MANIFEST_TYPE = 'application/vnd.scopewatch.evidence-manifest+json';

/** Part names, in bundle order. */
export const PART_NAMES = ['finding', 'detection_record', 'events', 'triage', 'frameworks', 'chain'] as const;
export type PartName = (typeof PART_NAMES)[number];

export const EVIDENCE: BundleKind<PartName> = {
  format: BUNDLE_FORMAT,
  manifestType: MANIFEST_TYPE,
  partNames: PART_NAMES,
};

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

export type EvidenceBundle = SignedBundle<PartName>;

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
export type Manifest = z.infer<typeof ManifestSchema>;

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
  const subject = { finding_id: input.finding.finding_id, identity_id: input.finding.identity_id };
  return sealBundle(
    EVIDENCE,
    bundleParts(input),
    { subject, chain: { ...input.link } },
    privateKey,
    publicKey,
  );
}
