import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readTarGz } from '../evidence/tar.js';
import {
  chainCheck,
  sourceFromArchive,
  sourceFromJsonText,
  verifyBundle,
  type Check,
  type Verification,
} from '../evidence/verify.js';
import type { ChainLink } from '../evidence/chain.js';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { Config } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import { buildBundle, type EvidenceBundle } from '../evidence/bundle.js';
import {
  generateSigningKey,
  loadPublicKey,
  loadPrivateKey,
  privateKeyPem,
  publicKeyPem,
  type SigningKeyError,
} from '../evidence/dsse.js';
import { createPublicKey } from 'node:crypto';
import type { Repositories } from '../storage/repositories.js';

/**
 * Evidence bundles from storage: the finding, its chain record (recorded now for findings
 * stored before the chain existed), the cited events with their sessions, and the triage
 * history, signed with the configured key.
 */

/** Events per bundle at most (cited events and their sessions). */
export const EVIDENCE_EVENT_CAP = 5000;

export interface SigningKeys {
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicKeyPem: string;
}

export const defaultSigningKeyFile = (config: Pick<Config, 'dataDir'>): string =>
  path.join(config.dataDir, 'signing-key.pem');

/**
 * The configured key file, or DATA_DIR/signing-key.pem, generated (mode 0600) when it does not
 * exist yet: a local run signs from the first bundle on, and keeps signing with the same key.
 */
export function loadSigningKeys(config: Pick<Config, 'api' | 'dataDir'>, logger: Logger): SigningKeys {
  const file = config.api.signingKeyFile ?? defaultSigningKeyFile(config);
  let privateKey: KeyObject;
  if (existsSync(file)) {
    try {
      privateKey = loadPrivateKey(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new Error(`signing key ${file}: ${(e as SigningKeyError | Error).message}`, { cause: e });
    }
  } else if (config.api.signingKeyFile) {
    throw new Error(`signing key ${file} does not exist (SCOPEWATCH_SIGNING_KEY_FILE)`);
  } else {
    privateKey = generateSigningKey().privateKey;
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, privateKeyPem(privateKey), { mode: 0o600, flag: 'wx' });
    logger.warn('no signing key configured: generated one for evidence bundles', { key_file: file });
  }
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, publicKeyPem: publicKeyPem(publicKey) };
}

export async function evidenceBundle(
  storage: Pick<Repositories, 'findings' | 'records' | 'actions'>,
  findingId: string,
  keys: SigningKeys,
): Promise<EvidenceBundle | undefined> {
  const finding = await storage.findings.get(findingId);
  if (!finding) return undefined;
  let stored = await storage.records.forFinding(findingId);
  if (!stored) {
    await storage.records.append([finding]);
    stored = await storage.records.forFinding(findingId);
    if (!stored) throw new Error(`finding ${findingId} could not be recorded in the evidence chain`);
  }
  const { record, recorded_at: _at, ...link } = stored;
  const [session, triage] = await Promise.all([
    storage.actions.withSessions(finding.identity_id, finding.event_ids, EVIDENCE_EVENT_CAP),
    storage.records.triageOf(findingId),
  ]);
  return buildBundle(
    {
      finding: { ...finding },
      link,
      record,
      cited: finding.event_ids,
      events: session.events.map((e) => ({ ...e })),
      eventsTruncated: session.truncated,
      triage: triage.map((t) => ({ ...t, allowed: t.allowed.map((a) => ({ ...a })) })),
    },
    keys.privateKey,
    keys.publicKey,
  );
}

export interface FilesVerification {
  ok: boolean;
  files: { file: string; verification: Verification }[];
  /** With several bundles: their chain links must be consecutive. */
  chain: Check | null;
}

/** A bundle file as JSON (`.json`) or an archive (gzip magic), verified offline. */
function verifyFile(file: string, pinned: KeyObject | null): Verification {
  const data = readFileSync(file);
  let source;
  if (data[0] === 0x1f && data[1] === 0x8b) {
    try {
      source = sourceFromArchive(readTarGz(data));
    } catch (e) {
      source = `not a readable archive: ${(e as Error).message}`;
    }
  } else source = sourceFromJsonText(data.toString('utf8'));
  if (typeof source === 'string')
    return { ok: false, checks: [{ name: 'read', ok: false, detail: source }], link: null };
  return verifyBundle(source, pinned);
}

/** `scopewatch verify`: each bundle on its own, then the chain across them. */
export function verifyBundleFiles(files: readonly string[], pubkeyFile?: string): FilesVerification {
  const pinned = pubkeyFile ? loadPublicKey(readFileSync(pubkeyFile, 'utf8')) : null;
  const results = files.map((file) => ({ file, verification: verifyFile(file, pinned) }));
  const links = results.map((r) => r.verification.link).filter((l): l is ChainLink => l !== null);
  const chain = files.length > 1 ? chainCheck(links) : null;
  return { ok: results.every((r) => r.verification.ok) && (chain?.ok ?? true), files: results, chain };
}
