import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import type { Json } from './canonical.js';
import { sealBundle, type BundleKind, type SignedBundle } from './signed-bundle.js';

/**
 * Access-review bundles: what one identity did in a period against what it was granted, signed
 * like evidence (`signed-bundle.ts`) so the certification an identity team hands an auditor
 * can be verified offline with the same key and the same `scopewatch verify`.
 */

export const REVIEW_FORMAT = 'scopewatch.access-review/v1';
export const REVIEW_MANIFEST_TYPE = 'application/vnd.scopewatch.access-review-manifest+json';

/** Part names, in bundle order. */
export const REVIEW_PART_NAMES = [
  'review',
  'identity',
  'usage',
  'scope',
  'proposed_scope',
  'findings',
] as const;
export type ReviewPartName = (typeof REVIEW_PART_NAMES)[number];

export const ACCESS_REVIEW: BundleKind<ReviewPartName> = {
  format: REVIEW_FORMAT,
  manifestType: REVIEW_MANIFEST_TYPE,
  partNames: REVIEW_PART_NAMES,
};

export interface ReviewSubject {
  identity_id: string;
  /** The period reviewed, epoch ms, [from, to). */
  from: number;
  to: number;
}

export type ReviewBundle = SignedBundle<ReviewPartName>;

export const ReviewManifestSchema = z
  .object({
    format: z.literal(REVIEW_FORMAT),
    subject: z.object({ identity_id: z.string(), from: z.number(), to: z.number() }).strict(),
    parts: z.array(
      z
        .object({
          name: z.enum(REVIEW_PART_NAMES),
          sha256: z.string().regex(/^[0-9a-f]{64}$/),
          bytes: z.number(),
        })
        .strict(),
    ),
    signer: z.object({ keyid: z.string() }).strict(),
  })
  .strict();
export type ReviewManifest = z.infer<typeof ReviewManifestSchema>;

export function buildReviewBundle(
  subject: ReviewSubject,
  parts: Record<ReviewPartName, Json>,
  privateKey: KeyObject,
  publicKey: KeyObject,
): ReviewBundle {
  return sealBundle(ACCESS_REVIEW, parts, { subject: { ...subject } }, privateKey, publicKey);
}
