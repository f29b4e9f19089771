import { describe, expect, it } from 'vitest';
import { loadMigrations, renderStatement, splitStatements } from '../../storage/migrate.js';
import { currentTtlDays, ttlStatement } from '../../storage/retention.js';

describe('migrations', () => {
  it('splits statements on trailing semicolons and drops comments', () => {
    const sql =
      '-- header\nCREATE TABLE a (x String);\n\n-- note\nCREATE TABLE b\n(y String)\nENGINE = Log;\n';
    expect(splitStatements(sql)).toEqual([
      'CREATE TABLE a (x String)',
      'CREATE TABLE b\n(y String)\nENGINE = Log',
    ]);
  });
  it('loads the shipped migrations in order, each with a checksum and only idempotent statements', () => {
    const migrations = loadMigrations();
    expect(migrations.map((m) => m.version)).toEqual(
      [...migrations.map((m) => m.version)].sort((a, b) => a - b),
    );
    expect(migrations[0]?.name).toBe('actions');
    for (const m of migrations) {
      expect(m.checksum).toMatch(/^[0-9a-f]{64}$/);
      // Re-applying a migration interrupted half-way must be harmless: creations are guarded,
      // drops tolerate absence, backfills skip what is already there, added columns are guarded
      // and materializing one rewrites it with the same values.
      for (const s of m.statements)
        expect(s).toMatch(
          /^CREATE [\s\S]*IF NOT EXISTS|^DROP \w+ IF EXISTS|^INSERT INTO [\s\S]* NOT IN \(|^ALTER TABLE \S+\s+(ADD COLUMN IF NOT EXISTS|MATERIALIZE COLUMN) /,
        );
    }
  });
  it('renders the database name', () => {
    expect(renderStatement('CREATE TABLE {{db}}.t', 'sw')).toBe('CREATE TABLE sw.t');
  });
});

describe('retention', () => {
  const engine =
    'ReplacingMergeTree(ingested_at) PARTITION BY toYYYYMM(ts) ORDER BY (identity_id, ts) TTL toDateTime(ts) + toIntervalDay(400) SETTINGS index_granularity = 8192';
  it('reads the current TTL', () => {
    expect(currentTtlDays(engine)).toBe(400);
    expect(currentTtlDays('MergeTree ORDER BY x')).toBeNull();
  });
  it('changes only what differs', () => {
    const target = { table: 'actions', column: 'ts', days: 400 };
    expect(ttlStatement('sw', target, 400)).toBeNull();
    expect(ttlStatement('sw', { ...target, days: 30 }, 400)).toBe(
      'ALTER TABLE sw.actions MODIFY TTL toDateTime(ts) + toIntervalDay(30)',
    );
    expect(ttlStatement('sw', { ...target, days: 0 }, 400)).toBe('ALTER TABLE sw.actions REMOVE TTL');
    expect(ttlStatement('sw', { ...target, days: 0 }, null)).toBeNull();
  });
});
