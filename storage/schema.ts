import type { Config } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import type { ClickHouseGateway } from './gateway.js';
import { migrate, type MigrateResult } from './migrate.js';
import { reconcileFindingsLayout } from './layout.js';
import { reconcileRetention } from './retention.js';

/**
 * Everything that must hold before a process reads or writes: schema current, table layouts
 * current, retention as configured.
 */
export async function prepareSchema(
  ch: ClickHouseGateway,
  clickhouse: Config['clickhouse'],
  logger: Logger,
  /**
   * Whether this process may rebuild tables (`scopewatch migrate`, or the embedded engine,
   * which one process owns): services sharing a ClickHouse server must not rebuild a table
   * another one is writing to.
   */
  rebuild = ch.mode === 'embedded',
): Promise<MigrateResult> {
  const result = await migrate(ch, logger);
  await reconcileFindingsLayout(ch, logger, rebuild);
  await reconcileRetention(
    ch,
    [
      { table: 'actions', column: 'ts', days: clickhouse.actionsTtlDays },
      { table: 'ingest_errors', column: 'received_at', days: clickhouse.errorsTtlDays },
    ],
    logger,
  );
  return result;
}
