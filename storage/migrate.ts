import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../common/logger.js';
import { packageRoot } from '../common/paths.js';
import type { ClickHouseGateway } from './gateway.js';

/**
 * Ordered SQL migrations (storage/migrations/NNNN_name.sql), applied once each and recorded with a
 * checksum in `schema_migrations`. Every statement is written to be idempotent
 * (IF NOT EXISTS), so a migration interrupted half-way is simply applied again.
 */

export interface Migration {
  version: number;
  name: string;
  statements: string[];
  checksum: string;
}

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export function migrationsDir(): string {
  return path.join(packageRoot(), 'storage', 'migrations');
}

/** Split a migration file into statements: `;` at the end of a line ends one; `--` comments are dropped. */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current: string[] = [];
  for (const line of sql.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('--') || trimmed === '') continue;
    current.push(line);
    if (trimmed.endsWith(';')) {
      statements.push(current.join('\n').trim().replace(/;$/, ''));
      current = [];
    }
  }
  const rest = current.join('\n').trim();
  if (rest) statements.push(rest);
  return statements;
}

/** `{{db}}` is the only template variable: the database name, validated as an identifier by the config. */
export function renderStatement(statement: string, database: string): string {
  return statement.replaceAll('{{db}}', database);
}

export function loadMigrations(dir: string = migrationsDir()): Migration[] {
  const migrations = readdirSync(dir)
    .map((file) => ({ file, match: FILE_PATTERN.exec(file) }))
    .filter((entry): entry is { file: string; match: RegExpExecArray } => entry.match !== null)
    .map(({ file, match }) => {
      const text = readFileSync(path.join(dir, file), 'utf8');
      return {
        version: Number(match[1]),
        name: match[2] ?? file,
        statements: splitStatements(text),
        checksum: createHash('sha256').update(text).digest('hex'),
      };
    })
    .sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]?.version === migrations[i - 1]?.version) {
      throw new Error(`two migrations share version ${String(migrations[i]?.version)}`);
    }
  }
  return migrations;
}

interface AppliedRow {
  version: number;
  checksum: string;
}

export interface MigrateResult {
  applied: number[];
  alreadyApplied: number[];
}

export async function migrate(
  ch: ClickHouseGateway,
  logger: Logger,
  migrations: Migration[] = loadMigrations(),
): Promise<MigrateResult> {
  const { database } = ch;
  await ch.command(`CREATE DATABASE IF NOT EXISTS ${database}`);
  await ch.command(
    `CREATE TABLE IF NOT EXISTS ${ch.table('schema_migrations')}
      (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
      ENGINE = MergeTree ORDER BY version`,
  );
  const rows = await ch.query<AppliedRow>(
    `SELECT version, any(checksum) AS checksum FROM ${ch.table('schema_migrations')} GROUP BY version`,
  );
  const applied = new Map(rows.map((row) => [row.version, row.checksum]));

  const result: MigrateResult = { applied: [], alreadyApplied: [] };
  for (const migration of migrations) {
    const previous = applied.get(migration.version);
    if (previous !== undefined) {
      if (previous !== migration.checksum) {
        throw new Error(
          `migration ${String(migration.version)}_${migration.name} changed after it was applied; add a new migration instead`,
        );
      }
      result.alreadyApplied.push(migration.version);
      continue;
    }
    for (const statement of migration.statements) {
      await ch.command(renderStatement(statement, database));
    }
    await ch.insert(
      'schema_migrations',
      [{ version: migration.version, name: migration.name, checksum: migration.checksum }],
      { insert_deduplication_token: `migration-${String(migration.version)}-${migration.checksum}` },
    );
    logger.info('migration applied', { version: migration.version, name: migration.name });
    result.applied.push(migration.version);
  }
  return result;
}
