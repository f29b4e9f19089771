import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from '../common/logger.js';
import { packageRoot } from '../common/paths.js';

/**
 * Ordered SQL migrations (sql/migrations/NNNN_name.sql), applied once each and recorded with a
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
  return path.join(packageRoot(), 'sql', 'migrations');
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
  client: ClickHouseClient,
  database: string,
  logger: Logger,
  migrations: Migration[] = loadMigrations(),
): Promise<MigrateResult> {
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${database}.schema_migrations
      (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
      ENGINE = MergeTree ORDER BY version`,
  });
  const rs = await client.query({
    query: `SELECT version, any(checksum) AS checksum FROM ${database}.schema_migrations GROUP BY version`,
    format: 'JSONEachRow',
  });
  const applied = new Map((await rs.json<AppliedRow>()).map((row) => [row.version, row.checksum]));

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
      await client.command({ query: renderStatement(statement, database) });
    }
    await client.insert({
      table: `${database}.schema_migrations`,
      values: [{ version: migration.version, name: migration.name, checksum: migration.checksum }],
      format: 'JSONEachRow',
      // chdb keeps SET values on the connection: always pass the token, unique here.
      clickhouse_settings: {
        insert_deduplication_token: `migration-${String(migration.version)}-${migration.checksum}`,
      },
    });
    logger.info('migration applied', { version: migration.version, name: migration.name });
    result.applied.push(migration.version);
  }
  return result;
}
