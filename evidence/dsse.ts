import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { formatZodIssues } from '../common/zod-issues.js';

/**
 * DSSE envelopes (https://github.com/secure-systems-lab/dsse), the wrapper in-toto and Sigstore
 * use, so evidence we sign can be checked by their tooling and theirs by ours. The signature
 * covers PAE(payloadType, payload), never the payload alone: binding the type stops a signed
 * blob of one kind being replayed as another.
 *
 * Ed25519 only. One algorithm means nothing to negotiate and no key-type confusion; its
 * signatures are deterministic, so the same key and payload always give the same envelope.
 */

export interface DsseEnvelope {
  payloadType: string;
  /** Standard base64 (with padding) of the payload bytes. */
  payload: string;
  signatures: { keyid: string; sig: string /* base64 */ }[];
}

export type EnvelopeCheck = { ok: true; payload: Buffer } | { ok: false; reason: string };

/** A key that is not the Ed25519 key it was meant to be: a configuration mistake, so it throws. */
export class SigningKeyError extends Error {
  override name = 'SigningKeyError';
}

/** Pre-Authentication Encoding: `DSSEv1 SP LEN(type) SP type SP LEN(body) SP body`, lengths in bytes. */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'ascii'),
    type,
    Buffer.from(` ${payload.length} `, 'ascii'),
    payload,
  ]);
}

function assertEd25519(key: KeyObject, type: 'public' | 'private', use: string): void {
  if (key.type !== type)
    throw new SigningKeyError(`${use} needs an Ed25519 ${type} key, got a ${key.type} key`);
  const algorithm = key.asymmetricKeyType ?? 'unknown';
  if (algorithm !== 'ed25519') {
    throw new SigningKeyError(`${use} needs an Ed25519 ${type} key, got ${algorithm}`);
  }
}

/**
 * SHA-256 hex of the SPKI DER: derived from the key itself, so it needs no registry, and the
 * same key gets the same id wherever it is loaded from (PEM, JWK, a freshly generated pair).
 */
export function keyId(publicKey: KeyObject): string {
  assertEd25519(publicKey, 'public', 'keyId');
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

export function signEnvelope(payloadType: string, payload: Uint8Array, privateKey: KeyObject): DsseEnvelope {
  assertEd25519(privateKey, 'private', 'signEnvelope');
  const sig = sign(null, pae(payloadType, payload), privateKey);
  return {
    payloadType,
    payload: Buffer.from(payload).toString('base64'),
    signatures: [{ keyid: keyId(createPublicKey(privateKey)), sig: sig.toString('base64') }],
  };
}

/**
 * Node's base64 decoder skips characters it does not know and tolerates missing padding, so two
 * different strings can decode to the same bytes. Accepting only the one encoding that re-encodes
 * to itself keeps the envelope text as unambiguous as the bytes it carries.
 */
function decodeBase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

const EnvelopeSchema = z.object({
  payloadType: z.string(),
  payload: z.string(),
  signatures: z.array(z.object({ keyid: z.string(), sig: z.string() })).min(1, 'envelope has no signatures'),
});

/**
 * Checks an envelope that arrived from outside (a file, a request), so `envelope` is `unknown`
 * and every way it can be wrong comes back as `ok: false` with a reason rather than a throw.
 * Only a `publicKey` that is not an Ed25519 public key throws: that is the caller's bug.
 */
export function verifyEnvelope(
  envelope: unknown,
  publicKey: KeyObject,
  expectedPayloadType: string,
): EnvelopeCheck {
  const expectedId = keyId(publicKey);
  const parsed = EnvelopeSchema.safeParse(envelope);
  if (!parsed.success)
    return { ok: false, reason: `malformed envelope: ${formatZodIssues(parsed.error.issues)}` };
  const { payloadType, signatures } = parsed.data;
  if (payloadType !== expectedPayloadType) {
    return {
      ok: false,
      reason: `payloadType is ${JSON.stringify(payloadType)}, expected ${JSON.stringify(expectedPayloadType)}`,
    };
  }
  const payload = decodeBase64(parsed.data.payload);
  if (payload === undefined) return { ok: false, reason: 'payload is not valid base64' };
  const ours = signatures.filter((s) => s.keyid === expectedId);
  if (ours.length === 0) {
    const ids = signatures.map((s) => (s.keyid === '' ? '(no keyid)' : s.keyid)).join(', ');
    return { ok: false, reason: `signed by key ${ids}, not ${expectedId}` };
  }
  const message = pae(payloadType, payload);
  for (const signature of ours) {
    const sig = decodeBase64(signature.sig);
    if (sig === undefined) return { ok: false, reason: `signature by key ${expectedId} is not valid base64` };
    if (verifySafely(message, publicKey, sig)) return { ok: true, payload };
  }
  return { ok: false, reason: `signature by key ${expectedId} does not verify` };
}

/** crypto.verify may throw on a signature of the wrong length; for us that is just "no". */
function verifySafely(message: Buffer, publicKey: KeyObject, sig: Buffer): boolean {
  try {
    return verify(null, message, publicKey, sig);
  } catch {
    return false;
  }
}

export function generateSigningKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ed25519');
}

export function publicKeyPem(k: KeyObject): string {
  assertEd25519(k, 'public', 'publicKeyPem');
  return k.export({ type: 'spki', format: 'pem' }).toString();
}

export function privateKeyPem(k: KeyObject): string {
  assertEd25519(k, 'private', 'privateKeyPem');
  return k.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Node's own parse errors name neither the file nor the fix; this says what was expected. */
function parseKey(pem: string, parse: (pem: string) => KeyObject, what: string): KeyObject {
  try {
    return parse(pem);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new SigningKeyError(`not a PEM ${what} key: ${detail}`);
  }
}

export function loadPrivateKey(pem: string): KeyObject {
  const key = parseKey(pem, createPrivateKey, 'private');
  assertEd25519(key, 'private', 'loadPrivateKey');
  return key;
}

/**
 * createPublicKey happily derives a public key from private PEM; refusing that keeps a private
 * key from quietly sitting where only public material is supposed to be distributed.
 */
export function loadPublicKey(pem: string): KeyObject {
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(pem)) {
    throw new SigningKeyError('loadPublicKey was given a private key; pass the public key PEM');
  }
  const key = parseKey(pem, createPublicKey, 'public');
  assertEd25519(key, 'public', 'loadPublicKey');
  return key;
}
