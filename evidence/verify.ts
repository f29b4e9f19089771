import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { canonicalBytes, canonicalize, sha256Hex, type Json } from './canonical.js';
import { chainHash, chainProblems, recordHash, type ChainLink } from './chain.js';
import { loadPublicKey, keyId, verifyEnvelope } from './dsse.js';
import { EVIDENCE, ManifestSchema, type Manifest } from './bundle.js';
import { ACCESS_REVIEW, ReviewManifestSchema, type ReviewManifest } from './review-bundle.js';
import { ENVELOPE_ENTRY, KEY_ENTRY, partNameOf, type BundleKind, type PartDigest } from './signed-bundle.js';
import type { TarEntry } from './tar.js';

/**
 * Offline verification of signed bundles (evidence and access reviews): no server, only the
 * bundle and a public key. Each check is reported by name with what it found, so an auditor
 * sees *which* property failed — a changed byte in a part, a reordered manifest, another signer,
 * a broken chain.
 */

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Verification {
  ok: boolean;
  checks: Check[];
  /** The manifest's chain link, when the signature held (for checks across bundles). */
  link: ChainLink | null;
}

/** A bundle as read from disk, before anything about it is trusted. */
export interface BundleSource {
  /** The kind it claims to be (its format, or its envelope's payload type); the signature covers both. */
  verifier: Verifier;
  envelope: unknown;
  publicKeyPem: string | null;
  /** Each part's bytes as they are stored (canonical JSON when the bundle is intact). */
  parts: Map<string, Buffer>;
}

type Add = (name: string, ok: boolean, detail: string) => boolean;
type PartJson = (name: string) => Json | undefined;

/** How one kind of bundle is verified past the checks every kind shares. */
interface Verifier {
  kind: BundleKind;
  /** The signed manifest's part digests and the kind's checks on content, or why it is no manifest. */
  read(
    payload: unknown,
  ): { parts: PartDigest[]; checkContent: (json: PartJson, add: Add) => ChainLink | null } | string;
}

function verifierOf<M extends { parts: PartDigest[] }>(
  kind: BundleKind,
  schema: z.ZodType<M>,
  checkContent: (manifest: M, json: PartJson, add: Add) => ChainLink | null,
): Verifier {
  return {
    kind,
    read(payload) {
      const parsed = schema.safeParse(payload);
      if (!parsed.success) return parsed.error.issues[0]?.message ?? 'invalid';
      const manifest = parsed.data;
      return { parts: manifest.parts, checkContent: (json, add) => checkContent(manifest, json, add) };
    },
  };
}

/** Evidence: the detection record hashes to the chain link, and every part names one finding. */
function checkEvidence(manifest: Manifest, json: PartJson, add: Add): ChainLink {
  const link = manifest.chain;
  const record = json('detection_record');
  const recordOk = record !== undefined && recordHash(record) === link.record_hash;
  const linkOk = chainHash(link.prev_hash, link.record_hash) === link.chain_hash;
  add(
    'chain link',
    recordOk && linkOk,
    !recordOk
      ? 'the detection record does not hash to the chain link'
      : !linkOk
        ? 'the chain hash does not follow from the previous hash and the record'
        : `record #${String(link.seq)}, after ${link.prev_hash.slice(0, 16)}…`,
  );
  const findingId = stringField(json('finding'), 'finding_id');
  const recordId = stringField(record, 'finding_id');
  const subjectOk =
    findingId === manifest.subject.finding_id && recordId === findingId && link.finding_id === findingId;
  add(
    'subject',
    subjectOk,
    subjectOk
      ? `finding ${manifest.subject.finding_id}`
      : `manifest, finding, record and chain name different findings (${manifest.subject.finding_id}, ${findingId ?? '?'}, ${recordId ?? '?'}, ${link.finding_id})`,
  );
  return link;
}

/** Access reviews: the review part names the identity and period the signed manifest does. */
function checkReview(manifest: ReviewManifest, json: PartJson, add: Add): null {
  const review = json('review');
  const { identity_id, from, to } = manifest.subject;
  const period =
    review !== null && typeof review === 'object' && !Array.isArray(review) ? review.period : null;
  const ok =
    stringField(review, 'identity_id') === identity_id &&
    stringField(json('identity'), 'id') === identity_id &&
    period !== null &&
    typeof period === 'object' &&
    !Array.isArray(period) &&
    period.from === from &&
    period.to === to;
  add(
    'subject',
    ok,
    ok
      ? `identity ${identity_id}, ${new Date(from).toISOString()} to ${new Date(to).toISOString()}`
      : `the review and identity parts do not name the manifest's identity ${identity_id} and period`,
  );
  return null;
}

const VERIFIERS: readonly Verifier[] = [
  verifierOf(EVIDENCE, ManifestSchema, checkEvidence),
  verifierOf(ACCESS_REVIEW, ReviewManifestSchema, checkReview),
];
const FORMATS = VERIFIERS.map((v) => v.kind.format).join(' or ');

const JsonBundle = z
  .object({
    format: z.string(),
    envelope: z.unknown(),
    public_key: z.string(),
    parts: z.record(z.string(), z.unknown()),
  })
  .strict();

/**
 * From the JSON form as downloaded: it must be exactly the canonical JSON the API wrote, so
 * nothing a JSON parser reads differently (a duplicate key, another spelling of a number) can
 * hide in it.
 */
export function sourceFromJsonText(text: string): BundleSource | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  let canonical: string;
  try {
    canonical = canonicalize(value);
  } catch (e) {
    return `not plain JSON: ${(e as Error).message}`;
  }
  if (canonical !== text.replace(/\n$/, ''))
    return 'not the canonical JSON the API wrote (re-serialised or edited): verify the file as downloaded';
  return sourceFromJson(value);
}

/** From the JSON form, parsed; parts are compared as their canonical bytes. */
export function sourceFromJson(value: unknown): BundleSource | string {
  const parsed = JsonBundle.safeParse(value);
  if (!parsed.success) return `not a ${FORMATS} bundle: ${parsed.error.issues[0]?.message ?? 'invalid'}`;
  const verifier = VERIFIERS.find((v) => v.kind.format === parsed.data.format);
  if (!verifier) return `format ${parsed.data.format} is not ${FORMATS}`;
  const parts = new Map<string, Buffer>();
  try {
    for (const [name, part] of Object.entries(parsed.data.parts)) parts.set(name, canonicalBytes(part));
  } catch (e) {
    return `a part is not plain JSON: ${(e as Error).message}`;
  }
  return { verifier, envelope: parsed.data.envelope, publicKeyPem: parsed.data.public_key, parts };
}

/** From the archive form; parts are compared byte for byte as stored. */
export function sourceFromArchive(entries: readonly TarEntry[]): BundleSource | string {
  const byName = new Map(entries.map((e) => [e.name, Buffer.from(e.data)]));
  const envelope = byName.get(ENVELOPE_ENTRY);
  if (!envelope) return 'the archive has no manifest.dsse.json';
  let parsed: unknown;
  try {
    parsed = JSON.parse(envelope.toString('utf8'));
  } catch {
    return 'manifest.dsse.json is not JSON';
  }
  // The payload type names the kind; the signature check below covers it.
  const payloadType =
    typeof parsed === 'object' && parsed !== null && 'payloadType' in parsed ? parsed.payloadType : null;
  const verifier = VERIFIERS.find((v) => v.kind.manifestType === payloadType);
  if (!verifier) return `manifest.dsse.json is not a ${FORMATS} manifest envelope`;
  const stray = [...byName.keys()].filter(
    (name) => name !== ENVELOPE_ENTRY && name !== KEY_ENTRY && partNameOf(verifier.kind, name) === null,
  );
  if (stray.length > 0) return `the archive holds entries a bundle does not: ${stray.join(', ')}`;
  const parts = new Map<string, Buffer>();
  for (const [name, data] of byName) {
    const part = partNameOf(verifier.kind, name);
    if (part !== null) parts.set(part, data);
  }
  return { verifier, envelope: parsed, publicKeyPem: byName.get(KEY_ENTRY)?.toString('utf8') ?? null, parts };
}

/** Verifies one bundle; `pinned` is the key it must be signed with (else the bundle's own). */
export function verifyBundle(source: BundleSource, pinned: KeyObject | null): Verification {
  const checks: Check[] = [];
  const done = (link: ChainLink | null = null): Verification => ({
    ok: checks.every((c) => c.ok),
    checks,
    link,
  });
  const add = (name: string, ok: boolean, detail: string): boolean => {
    checks.push({ name, ok, detail });
    return ok;
  };

  let key = pinned;
  if (!key) {
    try {
      key = source.publicKeyPem ? loadPublicKey(source.publicKeyPem) : null;
    } catch (e) {
      add('key', false, `the bundle's public key cannot be read: ${(e as Error).message}`);
      return done();
    }
    if (!key) {
      add('key', false, 'no public key: pass --pubkey');
      return done();
    }
    // Anyone can edit a part and sign a new manifest with a key of their own: a bundle's own key
    // shows the parts are intact for that key, never who signed them.
    add(
      'key',
      false,
      `not pinned: checked against the bundle's own key ${keyId(key)}, which proves nothing about the signer; pass --pubkey with scopewatch's signing key (GET /v1/keys/signing)`,
    );
  } else add('key', true, `pinned key ${keyId(key)}`);

  const { kind } = source.verifier;
  const envelope = verifyEnvelope(source.envelope, key, kind.manifestType);
  if (!envelope.ok) {
    add('signature', false, envelope.reason);
    return done();
  }
  add('signature', true, 'Ed25519 signature over the manifest is valid');

  let manifest: Exclude<ReturnType<Verifier['read']>, string>;
  try {
    const read = source.verifier.read(JSON.parse(envelope.payload.toString('utf8')));
    if (typeof read === 'string') throw new Error(read);
    manifest = read;
  } catch (e) {
    add('manifest', false, `the signed manifest is not a manifest: ${(e as Error).message}`);
    return done();
  }
  const listed = manifest.parts.map((p) => p.name);
  const present = [...source.parts.keys()].sort();
  const sameSet = [...listed].sort().join(',') === present.join(',');
  const inOrder = listed.join(',') === kind.partNames.join(',');
  add(
    'manifest',
    sameSet && inOrder,
    sameSet && inOrder
      ? `${String(listed.length)} parts listed in order`
      : !sameSet
        ? `the manifest lists ${listed.join(', ')}; the bundle holds ${present.join(', ')}`
        : `parts out of order: ${listed.join(', ')} (expected ${kind.partNames.join(', ')})`,
  );

  for (const part of manifest.parts) {
    const bytes = source.parts.get(part.name);
    const actual = bytes ? sha256Hex(bytes) : null;
    add(
      `part ${part.name}`,
      actual === part.sha256 && bytes?.length === part.bytes,
      actual === null
        ? 'missing'
        : actual === part.sha256
          ? `sha256 ${actual.slice(0, 16)}… matches`
          : `sha256 is ${actual}, the manifest says ${part.sha256}`,
    );
  }

  const json = (name: string): Json | undefined => {
    const bytes = source.parts.get(name);
    try {
      return bytes ? (JSON.parse(bytes.toString('utf8')) as Json) : undefined;
    } catch {
      return undefined;
    }
  };
  return done(manifest.checkContent(json, add));
}

/** A string field of a part, when the part is an object that has one. */
function stringField(part: Json | undefined, field: string): string | undefined {
  if (part === null || part === undefined || typeof part !== 'object' || Array.isArray(part))
    return undefined;
  const value = part[field];
  return typeof value === 'string' ? value : undefined;
}

/** Checks across bundles: their chain links must follow each other with nothing removed between. */
export function chainCheck(links: readonly ChainLink[]): Check {
  const problems = chainProblems(links);
  return {
    name: 'chain across bundles',
    ok: problems.length === 0,
    detail: problems.length === 0 ? `${String(links.length)} consecutive records` : problems.join('; '),
  };
}
