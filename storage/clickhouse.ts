import { mkdirSync } from 'node:fs';
import { createClient } from '@clickhouse/client';
import type { Config } from '../common/config.js';
import { ClickHouseGateway } from './gateway.js';

/**
 * One code path for both storage modes: `@clickhouse/client` everywhere. Embedded mode plugs
 * chdb in as the client's connection; chdb is imported lazily so a server-mode deployment can
 * omit its ~500 MB native library.
 */
type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

export async function openClickHouse(
  config: Pick<Config, 'clickhouse' | 'dataDir'>,
): Promise<ClickHouseGateway> {
  const { url, user, password, database } = config.clickhouse;
  if (url) {
    const bootstrap = new ClickHouseGateway(
      createClient({ url, username: user, password }),
      database,
      'server',
    );
    await bootstrap.command(`CREATE DATABASE IF NOT EXISTS ${database}`);
    await bootstrap.close();
    const client = createClient({ url, username: user, password, database, request_timeout: 60_000 });
    return new ClickHouseGateway(client, database, 'server');
  }
  const path = `${config.dataDir}/clickhouse`;
  mkdirSync(path, { recursive: true });
  const { createChdbConnection } = await import('chdb/connection');
  // chdb types its connection against @clickhouse/client-common, the client against its bundled
  // copy of the same interface; they differ only in the list of known settings.
  const connection = createChdbConnection({ path }) as unknown as ClientConnection;
  const gateway = new ClickHouseGateway(createClient({ connection }), database, 'embedded');
  // chdb has no per-request database: create it and qualify table names instead.
  await gateway.command(`CREATE DATABASE IF NOT EXISTS ${database}`);
  return gateway;
}
