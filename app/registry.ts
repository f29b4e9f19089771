import { readFile } from 'node:fs/promises';
import type { DetectSettings } from '../common/config.js';
import { parseIdentitiesFile } from '../detectors/registry.js';
import type { IdentityRecord } from '../model/identity.js';
import type { IdentitiesRepository } from '../storage/identities.js';

/** The identity registry file: read and validated (offline runs), or synced into `identities`. */

export async function loadRegistry(
  file: string | undefined,
): Promise<ReadonlyMap<string, IdentityRecord> | null> {
  if (!file) return null;
  return new Map(parseIdentitiesFile(await readFile(file, 'utf8'), file).map((r) => [r.id, r]));
}

/**
 * The registered identities (from the file or the API), or null when nobody registered any:
 * nothing is "unregistered" when nobody keeps a registry.
 */
export async function registeredIdentities(
  identities: Pick<IdentitiesRepository, 'loadAll'>,
): Promise<ReadonlyMap<string, IdentityRecord> | null> {
  const registered = [...(await identities.loadAll())].filter(([, record]) => record.registered);
  return registered.length === 0 ? null : new Map(registered);
}

/**
 * The registry for a long-running detection path. `refresh()` (before each batch or pass)
 * syncs the file again only when its content changed, so an edit made through the API (an
 * identity suspended) is not undone by an unchanged file, and re-reads the registered
 * identities only when `identities` changed since; `current()` is what the detectors use.
 */
export async function liveRegistry(
  detect: Pick<DetectSettings, 'identitiesFile'>,
  identities: IdentitiesRepository,
): Promise<{ current: () => ReadonlyMap<string, IdentityRecord> | null; refresh: () => Promise<void> }> {
  const file = detect.identitiesFile;
  let fileText: string | null = null;
  const syncFile = async (): Promise<void> => {
    if (!file) return;
    const text = await readFile(file, 'utf8');
    if (text === fileText) return;
    await identities.upsert(parseIdentitiesFile(text, file), 'file');
    fileText = text;
  };
  await syncFile();
  let registry = await registeredIdentities(identities);
  let seen = await identities.lastUpdate();
  return {
    current: () => registry,
    refresh: async () => {
      await syncFile();
      const latest = await identities.lastUpdate();
      if (latest === seen) return;
      seen = latest;
      registry = await registeredIdentities(identities);
    },
  };
}
