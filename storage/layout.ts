import type { Logger } from '../common/logger.js';
import type { ClickHouseGateway } from './gateway.js';

/**
 * Table settings ClickHouse cannot change in place (`index_granularity` is read-only after
 * CREATE): a table created with older ones is rebuilt once at start-up, under the same name.
 *
 * `findings` rows are wide (explanation, baseline facts, cited events): with 8,192-row granules,
 * reading one finding read 8,192 rows of each wide column from every part (84 ms at a million
 * findings in bench:api, 22 ms with 1,024-row granules), and the identity index could skip
 * nothing because every identity had a finding in every granule.
 */

export const FINDINGS_GRANULARITY = 1024;

async function engineOf(ch: ClickHouseGateway, table: string): Promise<string | null> {
  const [row] = await ch.query<{ engine_full: string }>(
    'SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = {table:String}',
    { db: ch.database, table },
  );
  return row?.engine_full ?? null;
}

/** Whether an engine definition already has the granularity asked for. */
export function hasGranularity(engineFull: string, rows: number): boolean {
  return new RegExp(`\\bindex_granularity = ${String(rows)}\\b`).test(engineFull);
}

/**
 * Rebuilds `findings` with FINDINGS_GRANULARITY when it has another. Safe to interrupt and
 * repeat: the copy is built aside, swapped in atomically (EXCHANGE TABLES), and rows a writer
 * still added to the old table before the swap are copied across before it is dropped. Only one
 * process may run it at a time, with no other writing findings: the embedded engine's owner or
 * `scopewatch migrate` (compose runs it before the services start).
 */
export async function reconcileFindingsLayout(
  ch: ClickHouseGateway,
  logger: Logger,
  /** False: only say that `scopewatch migrate` would rebuild (other processes may be writing). */
  rebuild = true,
): Promise<void> {
  const findings = ch.table('findings');
  const staging = ch.table('findings_relayout');
  const engine = await engineOf(ch, 'findings');
  if (engine === null) throw new Error(`table ${findings} does not exist; run migrations first`);
  if (hasGranularity(engine, FINDINGS_GRANULARITY)) {
    // A rebuild interrupted after its swap left the old table behind: finish it.
    if ((await engineOf(ch, 'findings_relayout')) !== null) await catchUpAndDrop(ch, findings, staging);
    return;
  }
  if (!rebuild) {
    logger.warn(
      'the findings table has large granules (slow finding reads): run `scopewatch migrate` while nothing writes findings to rebuild it',
      {
        index_granularity: FINDINGS_GRANULARITY,
      },
    );
    return;
  }
  const started = Date.now();
  await ch.command(`DROP TABLE IF EXISTS ${staging}`);
  await ch.command(
    `CREATE TABLE ${staging} AS ${findings}
     ENGINE = ReplacingMergeTree(version) ORDER BY finding_id
     SETTINGS index_granularity = ${String(FINDINGS_GRANULARITY)}`,
  );
  await ch.command(`INSERT INTO ${staging} SELECT * FROM ${findings}`, {}, { insert_deduplicate: 0 });
  await ch.command(`EXCHANGE TABLES ${findings} AND ${staging}`);
  await catchUpAndDrop(ch, findings, staging);
  logger.info('findings table rebuilt with smaller granules', {
    index_granularity: FINDINGS_GRANULARITY,
    ms: Date.now() - started,
  });
}

/** Copies versions only the old table has (written during the rebuild), then drops it. */
async function catchUpAndDrop(ch: ClickHouseGateway, findings: string, old: string): Promise<void> {
  await ch.command(
    `INSERT INTO ${findings} SELECT * FROM ${old}
     WHERE (finding_id, version) NOT IN (SELECT finding_id, version FROM ${findings})`,
    {},
    { insert_deduplicate: 0 },
  );
  await ch.command(`DROP TABLE IF EXISTS ${old}`);
}
