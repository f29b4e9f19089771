import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from '../common/logger.js';

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
  client: ClickHouseClient,
  database: string,
  targets: RetentionTarget[],
  logger: Logger,
): Promise<void> {
  for (const target of targets) {
    const rs = await client.query({
      query: 'SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = {table:String}',
      query_params: { db: database, table: target.table },
      format: 'JSONEachRow',
    });
    const [row] = await rs.json<{ engine_full: string }>();
    if (!row) throw new Error(`table ${database}.${target.table} does not exist; run migrations first`);
    const statement = ttlStatement(database, target, currentTtlDays(row.engine_full));
    if (statement) {
      await client.command({ query: statement });
      logger.info('retention updated', { table: target.table, days: target.days });
    }
  }
}
