import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { loadMigrations, renderStatement } from '../../storage/migrate.js';
import { FINDINGS_GRANULARITY, hasGranularity, reconcileFindingsLayout } from '../../storage/layout.js';
import { scalar, storageOf, testConfig, useClickHouse } from './helpers.js';
import type { Finding } from '../../model/finding.js';

/**
 * The findings table created before its granularity changed is rebuilt in place at start-up:
 * same rows, same latest versions, new granules; repeating it (or finishing an interrupted one)
 * changes nothing.
 */

const config = testConfig([]);
const clickhouse = useClickHouse(config);

function finding(id: string, status: Finding['status']): Finding {
  return {
    finding_id: id,
    detector: 'scope.new_tool',
    detector_version: '1.0.0',
    identity_id: 'agent-1',
    session: 's',
    severity: 'high',
    score: 0.8,
    title: `agent-1 used ${id}`,
    explanation: 'first use',
    event_ids: ['e-1'],
    first_ts: 1_770_000_000_000,
    last_ts: 1_770_000_000_000,
    count: 1,
    status,
    frameworks: [],
    created_at: 1_770_000_000_500,
    dedup_key: id,
    subject: id,
    term_kind: 'tool',
    config_hash: 'h',
    baseline: { held_for_triage: true },
  };
}

const engine = async (): Promise<string> => {
  const [row] = await clickhouse().query<{ engine_full: string }>(
    `SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = 'findings'`,
    { db: clickhouse().database },
  );
  return row?.engine_full ?? '';
};

describe('findings layout', () => {
  it('rebuilds an old findings table in place, keeping every row and its latest version', async () => {
    const ch = clickhouse();
    expect(hasGranularity(await engine(), FINDINGS_GRANULARITY)).toBe(true);

    // The table as the original migrations made it.
    await ch.command(`DROP TABLE ${ch.table('findings')}`);
    const old = loadMigrations().filter(
      (m) => m.name === 'findings' || m.name === 'findings_held_for_triage',
    );
    for (const statement of old.flatMap((m) => m.statements))
      if (/findings\b/.test(statement) && !/identity_findings_v/.test(statement))
        await ch.command(renderStatement(statement, ch.database));
    expect(hasGranularity(await engine(), 8192)).toBe(true);

    const storage = storageOf(ch);
    await storage.findings.save([finding('f-1', 'open'), finding('f-2', 'open')]);
    await storage.findings.saveTriaged(finding('f-1', 'false_positive'), 'expected');
    const before = await storage.findings.list({}, 10);

    // A service sharing a server with others only says so; `scopewatch migrate` rebuilds.
    await reconcileFindingsLayout(ch, silentLogger, false);
    expect(hasGranularity(await engine(), 8192)).toBe(true);
    await reconcileFindingsLayout(ch, silentLogger);
    expect(hasGranularity(await engine(), FINDINGS_GRANULARITY)).toBe(true);
    expect(await storage.findings.list({}, 10)).toEqual(before);
    expect((await storage.findings.get('f-1'))?.status).toBe('false_positive');
    expect(await scalar(ch, `SELECT count() FROM ${ch.table('findings')} FINAL WHERE held_for_triage`)).toBe(
      2,
    );

    // Again: nothing to do. A swap whose old table was left behind is finished.
    await reconcileFindingsLayout(ch, silentLogger);
    await ch.command(`CREATE TABLE ${ch.table('findings_relayout')} AS ${ch.table('findings')}`);
    await ch.command(
      `INSERT INTO ${ch.table('findings_relayout')} SELECT * REPLACE ('f-3' AS finding_id) FROM ${ch.table('findings')} WHERE dedup_key = 'f-2'`,
    );
    await reconcileFindingsLayout(ch, silentLogger);
    expect((await storage.findings.list({}, 10)).map((f) => f.finding_id)).toEqual(['f-1', 'f-2', 'f-3']);
    expect(
      await scalar(
        ch,
        `SELECT count() FROM system.tables WHERE database = {db:String} AND name = 'findings_relayout'`,
        { db: ch.database },
      ),
    ).toBe(0);
  });
});
