import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { parseApiKeys, type ApiKey } from '../api/auth.js';
import { buildApi } from '../api/server.js';
import type { Config } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import type { MetricsRegistry } from '../common/metrics.js';
import { loadSigningKeys } from './evidence.js';
import { signedBundles } from './access-review.js';
import type { Storage } from './storage.js';

/** Where a local run leaves its generated admin key (read by the CLI's API client). */
export const localKeyFile = (config: Pick<Config, 'dataDir'>): string => path.join(config.dataDir, 'api-key');

/**
 * API keys from config; with none configured (local runs), a random admin key is generated and
 * written to DATA_DIR/api-key (mode 0600) so `scopewatch stats` and curl can use it.
 */
function apiKeys(config: Pick<Config, 'api' | 'dataDir'>, logger: Logger): ApiKey[] {
  if (config.api.keys.length > 0) return parseApiKeys(config.api.keys);
  const secret = randomBytes(24).toString('base64url');
  mkdirSync(config.dataDir, { recursive: true });
  writeFileSync(localKeyFile(config), `${secret}\n`, { mode: 0o600 });
  logger.warn('SCOPEWATCH_API_KEYS not set: generated a local admin key', { key_file: localKeyFile(config) });
  return parseApiKeys([`admin:${secret}`]);
}

export async function startApiServer(
  config: Pick<Config, 'api' | 'dataDir'>,
  storage: Storage,
  logger: Logger,
  metrics: MetricsRegistry,
): Promise<FastifyInstance> {
  const signing = loadSigningKeys(config, logger);
  const app = buildApi({
    storage,
    keys: apiKeys(config, logger),
    logger,
    metrics,
    rateLimit: { rate: config.api.rateLimit, burst: config.api.rateBurst },
    evidence: signedBundles(storage, signing),
  });
  await app.listen({ host: config.api.host, port: config.api.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.api.port;
  logger.info('api listening', { url: `http://${config.api.host}:${String(port)}` });
  return app;
}
