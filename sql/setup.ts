import type { Config } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import type { ClickHouse } from './client.js';
import { migrate, type MigrateResult } from './migrate.js';
import { reconcileRetention } from './retention.js';

/** Everything that must hold before a process reads or writes: schema current, retention as configured. */
export async function prepareSchema(ch: ClickHouse, config: Config, logger: Logger): Promise<MigrateResult> {
  const result = await migrate(ch.client, ch.database, logger);
  await reconcileRetention(
    ch.client,
    ch.database,
    [
      { table: 'actions', column: 'ts', days: config.clickhouse.actionsTtlDays },
      { table: 'ingest_errors', column: 'received_at', days: config.clickhouse.errorsTtlDays },
    ],
    logger,
  );
  return result;
}
