import type { Logger } from '../common/logger.js';
import type { ClickHouseGateway } from './gateway.js';

/**
 * Retention is configuration, not schema: the TTL of each table is reconciled with the
 * configured number of days at start-up (0 = keep forever), so changing
 * SCOPEWATCH_ACTIONS_TTL_DAYS takes effect without a new migration.
 */

export interface RetentionTarget {
  table: string;
  column: string;
  days: number;
}

/** The TTL days currently set on a table, parsed from its engine definition; null if none. */
export function currentTtlDays(engineFull: string): number | null {
  const match = /TTL\s+.*?toIntervalDay\((\d+)\)/.exec(engineFull);
  return match?.[1] === undefined ? null : Number(match[1]);
}

export function ttlStatement(
  database: string,
  target: RetentionTarget,
  current: number | null,
): string | null {
  if (target.days === 0)
    return current === null ? null : `ALTER TABLE ${database}.${target.table} REMOVE TTL`;
  if (current === target.days) return null;
  return `ALTER TABLE ${database}.${target.table} MODIFY TTL toDateTime(${target.column}) + toIntervalDay(${String(target.days)})`;
}

export async function reconcileRetention(
  ch: ClickHouseGateway,
  targets: RetentionTarget[],
  logger: Logger,
): Promise<void> {
  for (const target of targets) {
    const [row] = await ch.query<{ engine_full: string }>(
      'SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = {table:String}',
      { db: ch.database, table: target.table },
    );
    if (!row) throw new Error(`table ${ch.table(target.table)} does not exist; run migrations first`);
    const statement = ttlStatement(ch.database, target, currentTtlDays(row.engine_full));
    if (statement) {
      await ch.command(statement);
      logger.info('retention updated', { table: target.table, days: target.days });
    }
  }
}
