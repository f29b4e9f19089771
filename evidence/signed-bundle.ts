import type { KeyObject } from 'node:crypto';
import { canonicalBytes, canonicalize, sha256Hex, type Json } from './canonical.js';
import { keyId, publicKeyPem, signEnvelope, type DsseEnvelope } from './dsse.js';
import type { TarEntry } from './tar.js';

/**
 * What every signed bundle shares (evidence for a finding, an access review for an identity):
 * named parts, each canonical JSON (RFC 8785) with its SHA-256 and size in a manifest, the
 * manifest signed with Ed25519 in a DSSE envelope whose payload type names the kind. Pure: the
 * same inputs give the same bytes (Ed25519 signatures are deterministic, nothing reads a clock).
 */

/** A kind of bundle: its format tag, the DSSE payload type of its manifest, its parts in order. */
export interface BundleKind<P extends string = string> {
  format: string;
  manifestType: string;
  partNames: readonly P[];
}

export interface PartDigest {
  name: string;
  sha256: string;
  bytes: number;
}

export interface SignedBundle<P extends string = string> {
  format: string;
  envelope: DsseEnvelope;
  /** The signer's public key, for convenience: verification should pin it (`--pubkey`). */
  public_key: string;
  parts: Record<P, Json>;
}

/**
 * Signs `parts` as a bundle of `kind`: the manifest is `fields` (the subject and whatever the
 * kind records beside it) plus the format, the part digests in order and the signer's key id.
 */
export function sealBundle<P extends string>(
  kind: BundleKind<P>,
  parts: Record<P, Json>,
  fields: Record<string, Json>,
  privateKey: KeyObject,
  publicKey: KeyObject,
): SignedBundle<P> {
  const digests: PartDigest[] = kind.partNames.map((name) => {
    const bytes = canonicalBytes(parts[name]);
    return { name, sha256: sha256Hex(bytes), bytes: bytes.length };
  });
  const manifest = {
    ...fields,
    format: kind.format,
    parts: digests.map((d) => ({ ...d })),
    signer: { keyid: keyId(publicKey) },
  };
  const envelope = signEnvelope(kind.manifestType, canonicalBytes(manifest), privateKey);
  return { format: kind.format, envelope, public_key: publicKeyPem(publicKey), parts };
}

/** The bundle as one canonical JSON document (what the API and the CLI write). */
export function bundleJson(bundle: SignedBundle): string {
  return canonicalize(bundle);
}

/** The archive layout: the envelope, the key, and each part as its canonical bytes. */
export const ENVELOPE_ENTRY = 'manifest.dsse.json';
export const KEY_ENTRY = 'public-key.pem';
const partEntry = (name: string): string => `parts/${name}.json`;

/** The part of `kind` an archive entry holds, null when the entry is not one of its parts. */
export function partNameOf<P extends string>(kind: BundleKind<P>, entry: string): P | null {
  return kind.partNames.find((name) => partEntry(name) === entry) ?? null;
}

export function bundleEntries<P extends string>(kind: BundleKind<P>, bundle: SignedBundle<P>): TarEntry[] {
  return [
    { name: ENVELOPE_ENTRY, data: canonicalBytes(bundle.envelope) },
    { name: KEY_ENTRY, data: Buffer.from(bundle.public_key) },
    ...kind.partNames.map((name) => ({ name: partEntry(name), data: canonicalBytes(bundle.parts[name]) })),
  ];
}
