import { readFileSync } from 'node:fs';
import { localKeyFile } from '../app/api-server.js';
import type { Config } from '../common/config.js';

/** GET a /v1 path of a running API with the configured (or locally generated) key. */
export async function apiGet<T>(
  config: Pick<Config, 'client' | 'api' | 'dataDir'>,
  pathAndQuery: string,
): Promise<T> {
  const url = config.client.apiUrl ?? `http://127.0.0.1:${String(config.api.port)}`;
  let key = config.client.apiKey;
  if (!key) {
    try {
      key = readFileSync(localKeyFile(config), 'utf8').trim();
    } catch {
      throw new Error(
        `no API key: pass --key, set SCOPEWATCH_API_KEY, or run \`scopewatch run\` (writes ${localKeyFile(config)})`,
      );
    }
  }
  const response = await fetch(new URL(pathAndQuery, url), { headers: { authorization: `Bearer ${key}` } });
  const body = (await response.json()) as T | { error: string };
  if (!response.ok || (typeof body === 'object' && body !== null && 'error' in body)) {
    const message =
      typeof body === 'object' && body !== null && 'error' in body ? body.error : response.statusText;
    throw new Error(`API ${String(response.status)}: ${message}`);
  }
  return body;
}
