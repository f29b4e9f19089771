import { mkdirSync } from 'node:fs';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import type { Config } from '../common/config.js';

/**
 * One code path for both storage modes: `@clickhouse/client` everywhere. Embedded mode plugs
 * chdb in as the client's connection; chdb is imported lazily so a server-mode deployment can
 * omit its ~500 MB native library.
 */
type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

export interface ClickHouse {
  client: ClickHouseClient;
  mode: 'embedded' | 'server';
  database: string;
  close(): Promise<void>;
}

export async function openClickHouse(config: Config): Promise<ClickHouse> {
  const { url, user, password, database } = config.clickhouse;
  if (url) {
    const bootstrap = createClient({ url, username: user, password });
    await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
    await bootstrap.close();
    const client = createClient({ url, username: user, password, database, request_timeout: 60_000 });
    return { client, mode: 'server', database, close: () => client.close() };
  }
  const path = `${config.dataDir}/clickhouse`;
  mkdirSync(path, { recursive: true });
  const { createChdbConnection } = await import('chdb/connection');
  // chdb types its connection against @clickhouse/client-common, the client against its bundled
  // copy of the same interface; they differ only in the list of known settings.
  const connection = createChdbConnection({ path }) as unknown as ClientConnection;
  const client = createClient({ connection });
  // chdb has no per-request database: create it and qualify table names instead.
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  return { client, mode: 'embedded', database, close: () => client.close() };
}
