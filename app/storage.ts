import type { Config } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import { openClickHouse } from '../storage/clickhouse.js';
import type { ClickHouseGateway } from '../storage/gateway.js';
import { repositoriesOf, type Repositories } from '../storage/repositories.js';
import { prepareSchema } from '../storage/schema.js';

/** ClickHouse opened, migrated, retention reconciled, with every repository over it. */
export interface Storage extends Repositories {
  gateway: ClickHouseGateway;
  close(): Promise<void>;
}

export async function openStorage(
  config: Pick<Config, 'clickhouse' | 'dataDir'>,
  logger: Logger,
): Promise<Storage> {
  const gateway = await openClickHouse(config);
  try {
    await prepareSchema(gateway, config.clickhouse, logger);
  } catch (error) {
    await gateway.close();
    throw error;
  }
  logger.info('clickhouse ready', { mode: gateway.mode, database: gateway.database });
  return { ...repositoriesOf(gateway), gateway, close: () => gateway.close() };
}
