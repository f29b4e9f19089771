import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  SigningKeyError,
  generateSigningKey,
  keyId,
  loadPrivateKey,
  loadPublicKey,
  pae,
  privateKeyPem,
  publicKeyPem,
  signEnvelope,
  verifyEnvelope,
  type DsseEnvelope,
  type EnvelopeCheck,
} from '../../../evidence/dsse.js';

const TYPE = 'application/vnd.scopewatch.evidence+json';
const PAYLOAD = Buffer.from('{"finding":"f-1","score":0.93}');

const signer = generateSigningKey();
const envelope = signEnvelope(TYPE, PAYLOAD, signer.privateKey);

const reasonOf = (check: EnvelopeCheck): string => (check.ok ? 'ok' : check.reason);

/** A byte of a base64 field flipped, re-encoded properly so only the content is wrong. */
const flipped = (base64: string, index: number): string => {
  const bytes = Buffer.from(base64, 'base64');
  bytes[index] = (bytes[index] ?? 0) ^ 0x01;
  return bytes.toString('base64');
};

const firstSig = (e: DsseEnvelope): { keyid: string; sig: string } => {
  const sig = e.signatures[0];
  if (sig === undefined) throw new Error('envelope has no signature');
  return sig;
};

describe('pae', () => {
  it('matches the DSSE spec example', () => {
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString('utf8')).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
  });
  it('counts bytes, not characters, and handles an empty body', () => {
    expect(pae('t\u20ac', new Uint8Array([0xff]))).toEqual(
      Buffer.concat([Buffer.from('DSSEv1 4 t\u20ac 1 ', 'utf8'), Buffer.from([0xff])]),
    );
    expect(pae('', new Uint8Array()).toString()).toBe('DSSEv1 0  0 ');
  });
});

describe('signEnvelope / verifyEnvelope', () => {
  it('round trips and returns the payload bytes', () => {
    const check = verifyEnvelope(envelope, signer.publicKey, TYPE);
    expect(check).toEqual({ ok: true, payload: PAYLOAD });
    expect(envelope.payloadType).toBe(TYPE);
    expect(envelope.payload).toBe(PAYLOAD.toString('base64'));
    expect(envelope.signatures).toHaveLength(1);
    expect(firstSig(envelope).keyid).toBe(keyId(signer.publicKey));
  });

  it('signs PAE(type, payload), so any DSSE verifier agrees', () => {
    const sig = Buffer.from(firstSig(envelope).sig, 'base64');
    expect(sig).toHaveLength(64);
    expect(verify(null, pae(TYPE, PAYLOAD), signer.publicKey, sig)).toBe(true);
    expect(verify(null, PAYLOAD, signer.publicKey, sig)).toBe(false);
  });

  it('is deterministic (Ed25519): the same key and payload give the same envelope', () => {
    expect(signEnvelope(TYPE, PAYLOAD, signer.privateKey)).toEqual(envelope);
  });

  it('survives a JSON round trip', () => {
    const wire: unknown = JSON.parse(JSON.stringify(envelope));
    expect(verifyEnvelope(wire, signer.publicKey, TYPE).ok).toBe(true);
  });

  it('fails when a payload byte is flipped', () => {
    const tampered = { ...envelope, payload: flipped(envelope.payload, 3) };
    expect(reasonOf(verifyEnvelope(tampered, signer.publicKey, TYPE))).toBe(
      `signature by key ${keyId(signer.publicKey)} does not verify`,
    );
  });

  it('fails when a signature byte is flipped', () => {
    const sig = firstSig(envelope);
    const tampered = { ...envelope, signatures: [{ ...sig, sig: flipped(sig.sig, 10) }] };
    expect(reasonOf(verifyEnvelope(tampered, signer.publicKey, TYPE))).toMatch(/does not verify/);
  });

  it('fails for another key, naming both key ids', () => {
    const other = generateSigningKey();
    expect(reasonOf(verifyEnvelope(envelope, other.publicKey, TYPE))).toBe(
      `signed by key ${keyId(signer.publicKey)}, not ${keyId(other.publicKey)}`,
    );
  });

  it('fails when a keyid is relabelled to ours but the signature is another key’s', () => {
    const other = generateSigningKey();
    const forged = signEnvelope(TYPE, PAYLOAD, other.privateKey);
    const relabelled = {
      ...forged,
      signatures: [{ keyid: keyId(signer.publicKey), sig: firstSig(forged).sig }],
    };
    expect(reasonOf(verifyEnvelope(relabelled, signer.publicKey, TYPE))).toMatch(/does not verify/);
  });

  it('accepts when one of several signatures is ours', () => {
    const other = generateSigningKey();
    const both = {
      ...envelope,
      signatures: [...signEnvelope(TYPE, PAYLOAD, other.privateKey).signatures, firstSig(envelope)],
    };
    expect(verifyEnvelope(both, signer.publicKey, TYPE).ok).toBe(true);
  });

  it('fails for the wrong payloadType, and a type change breaks the signature too', () => {
    expect(reasonOf(verifyEnvelope(envelope, signer.publicKey, 'application/other'))).toBe(
      `payloadType is "${TYPE}", expected "application/other"`,
    );
    const retyped = { ...envelope, payloadType: 'application/other' };
    expect(reasonOf(verifyEnvelope(retyped, signer.publicKey, 'application/other'))).toMatch(
      /does not verify/,
    );
  });

  it('turns every malformed envelope into a reason, never a throw', () => {
    const sig = firstSig(envelope);
    const cases: [unknown, RegExp][] = [
      [null, /^malformed envelope: /],
      ['envelope', /^malformed envelope: /],
      [{}, /^malformed envelope: payloadType: /],
      [{ payloadType: TYPE, signatures: envelope.signatures }, /^malformed envelope: payload: /],
      [{ payloadType: TYPE, payload: envelope.payload }, /^malformed envelope: signatures: /],
      [{ ...envelope, signatures: sig }, /^malformed envelope: signatures: /],
      [{ ...envelope, signatures: [] }, /envelope has no signatures/],
      [{ ...envelope, signatures: [{ sig: sig.sig }] }, /^malformed envelope: signatures\.0\.keyid: /],
      [{ ...envelope, signatures: [{ keyid: 7, sig: sig.sig }] }, /signatures\.0\.keyid: /],
      [{ ...envelope, payloadType: 42 }, /^malformed envelope: payloadType: /],
      [{ ...envelope, payload: 'not base64!' }, /^payload is not valid base64$/],
      [{ ...envelope, payload: envelope.payload.replace(/=+$/, '') + 'A' }, /payload is not valid base64/],
      [{ ...envelope, signatures: [{ ...sig, sig: '%%%' }] }, /signature by key \w+ is not valid base64/],
      [{ ...envelope, signatures: [{ ...sig, sig: 'AAAA' }] }, /does not verify/],
      [{ ...envelope, signatures: [{ ...sig, keyid: '' }] }, /^signed by key \(no keyid\), not /],
    ];
    for (const [input, reason] of cases) {
      const check = verifyEnvelope(input, signer.publicKey, TYPE);
      expect(reasonOf(check), JSON.stringify(input)).toMatch(reason);
    }
  });
});

describe('keys', () => {
  it('keyId is the SHA-256 of the SPKI DER, stable across PEM round trips', () => {
    const der = signer.publicKey.export({ type: 'spki', format: 'der' });
    expect(keyId(signer.publicKey)).toBe(createHash('sha256').update(der).digest('hex'));
    expect(keyId(signer.publicKey)).toMatch(/^[0-9a-f]{64}$/);
    expect(keyId(loadPublicKey(publicKeyPem(signer.publicKey)))).toBe(keyId(signer.publicKey));
  });

  it('round trips both keys through PEM and still signs and verifies', () => {
    const privatePem = privateKeyPem(signer.privateKey);
    const publicPem = publicKeyPem(signer.publicKey);
    expect(privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(publicPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const reloaded = signEnvelope(TYPE, PAYLOAD, loadPrivateKey(privatePem));
    expect(reloaded).toEqual(envelope);
    expect(verifyEnvelope(reloaded, loadPublicKey(publicPem), TYPE).ok).toBe(true);
  });

  it('rejects RSA and P-256 keys everywhere with a clear error', () => {
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    for (const pair of [p256, rsa]) {
      const algorithm = pair.publicKey.asymmetricKeyType ?? '';
      const message = new RegExp(`needs an Ed25519 (public|private) key, got ${algorithm}`);
      const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      expect(() => loadPrivateKey(privatePem)).toThrow(message);
      expect(() => loadPublicKey(publicPem)).toThrow(message);
      expect(() => signEnvelope(TYPE, PAYLOAD, pair.privateKey)).toThrow(message);
      expect(() => keyId(pair.publicKey)).toThrow(message);
      expect(() => verifyEnvelope(envelope, pair.publicKey, TYPE)).toThrow(SigningKeyError);
      expect(() => publicKeyPem(pair.publicKey)).toThrow(SigningKeyError);
      expect(() => privateKeyPem(pair.privateKey)).toThrow(SigningKeyError);
    }
  });

  it('rejects a key of the wrong kind, garbage PEM, and private PEM handed in as public', () => {
    expect(() => signEnvelope(TYPE, PAYLOAD, signer.publicKey)).toThrow(
      'signEnvelope needs an Ed25519 private key, got a public key',
    );
    expect(() => keyId(signer.privateKey)).toThrow(/keyId needs an Ed25519 public key, got a private key/);
    expect(() => loadPrivateKey('not a key')).toThrow(/^not a PEM private key: /);
    expect(() => loadPublicKey('not a key')).toThrow(SigningKeyError);
    expect(() => loadPublicKey(privateKeyPem(signer.privateKey))).toThrow(/was given a private key/);
    expect(() => loadPrivateKey(publicKeyPem(signer.publicKey))).toThrow(SigningKeyError);
  });
});
