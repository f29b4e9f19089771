import { readFileSync } from 'node:fs';
import { localKeyFile } from '../app/api-server.js';
import type { Config } from '../common/config.js';

type ClientConfig = Pick<Config, 'client' | 'api' | 'dataDir'>;

async function request(
  config: ClientConfig,
  pathAndQuery: string,
  init: { method?: string; body?: unknown } = {},
): Promise<Response> {
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
  const response = await fetch(new URL(pathAndQuery, url), {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${key}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  if (!response.ok) {
    const text = await response.text();
    let message = response.statusText;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? message;
    } catch {
      // not JSON: the status text says enough
    }
    throw new Error(`API ${String(response.status)}: ${message}`);
  }
  return response;
}

/** GET a /v1 path of a running API with the configured (or locally generated) key. */
export async function apiGet<T>(config: ClientConfig, pathAndQuery: string): Promise<T> {
  return (await (await request(config, pathAndQuery)).json()) as T;
}

/** GET a /v1 path's body as bytes (bundles, archives). */
export async function apiGetBytes(config: ClientConfig, pathAndQuery: string): Promise<Buffer> {
  return Buffer.from(await (await request(config, pathAndQuery)).arrayBuffer());
}

/** POST / DELETE … to a /v1 path; the JSON answer, or null for 204. */
export async function apiSend<T>(
  config: ClientConfig,
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  pathAndQuery: string,
  body?: unknown,
): Promise<T | null> {
  const response = await request(config, pathAndQuery, { method, body });
  return response.status === 204 ? null : ((await response.json()) as T);
}
