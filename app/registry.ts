import { readFile } from 'node:fs/promises';
import type { DetectSettings } from '../common/config.js';
import { parseIdentitiesFile } from '../detectors/registry.js';
import type { IdentityRecord } from '../model/identity.js';
import type { IdentitiesRepository } from '../storage/identities.js';

/** The identity registry file: read and validated (offline runs), or synced into `identities`. */

async function readRegistryFile(file: string): Promise<IdentityRecord[]> {
  return parseIdentitiesFile(await readFile(file, 'utf8'), file);
}

export async function loadRegistry(
  file: string | undefined,
): Promise<ReadonlyMap<string, IdentityRecord> | null> {
  if (!file) return null;
  return new Map((await readRegistryFile(file)).map((r) => [r.id, r]));
}

/**
 * The registry the detectors use: the file (if configured) synced into `identities`, then the
 * registered identities read back (so API edits count too). Null without a file: nothing is
 * "unregistered" when nobody keeps a registry.
 */
export async function syncRegistry(
  detect: Pick<DetectSettings, 'identitiesFile'>,
  identities: IdentitiesRepository,
): Promise<ReadonlyMap<string, IdentityRecord> | null> {
  const file = detect.identitiesFile;
  if (!file) return null;
  await identities.upsert(await readRegistryFile(file), 'file');
  const all = await identities.loadAll();
  return new Map([...all].filter(([, record]) => record.registered));
}
