import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';

/**
 * The one door to ClickHouse. Every call sends the complete settings below, overridden only
 * where a call needs a different value: the embedded engine (chdb) applies settings with SET on
 * its connection, so a setting one call leaves out keeps whatever the previous call set. An
 * `insert_deduplication_token` left behind by an ingest batch would make the next insert into
 * the same table vanish as a "duplicate"; sending every setting every time rules that out.
 * Repositories (one per table or read model) are the only callers; SQL lives nowhere else.
 */

/** Every setting any scopewatch call uses, at the value a call gets unless it says otherwise. */
const COMPLETE_SETTINGS = {
  insert_deduplication_token: '',
  insert_deduplicate: 1,
  input_format_skip_unknown_fields: 0,
  date_time_input_format: 'basic',
  // Ingest batches are a few MB: splitting them across parser threads costs more than it
  // saves (measured +25% insert throughput on the embedded engine with it off).
  input_format_parallel_parsing: 0,
  output_format_json_quote_64bit_integers: 0,
  max_insert_threads: '0',
  optimize_on_insert: 1,
} as const satisfies ClickHouseSettings;

/** What a single call may set differently; everything else stays at COMPLETE_SETTINGS. */
export interface CallSettings {
  /** Deterministic per batch, so an insert retried after an ambiguous failure is written once. */
  insert_deduplication_token?: string;
  /** 0 where exactness comes from elsewhere and identical blocks must all be written. */
  insert_deduplicate?: 0 | 1;
  /** INSERT … SELECT rebuilds (benchmarks, backfills) may use more threads. */
  max_insert_threads?: string;
  /**
   * 0 for an INSERT … SELECT that already groups by the target's whole sorting key: merging
   * equal keys inside each block again finds nothing (measured a quarter of a rebuild).
   */
  optimize_on_insert?: 0 | 1;
}

export type QueryParams = Record<string, unknown>;

function settingsFor(call: CallSettings): ClickHouseSettings {
  return { ...COMPLETE_SETTINGS, ...call };
}

/** What repositories use of the gateway (a test may interpose on it, e.g. to force a race). */
export type SqlGateway = Pick<ClickHouseGateway, 'database' | 'table' | 'query' | 'insert' | 'command'>;

export class ClickHouseGateway {
  constructor(
    private readonly client: ClickHouseClient,
    readonly database: string,
    readonly mode: 'embedded' | 'server',
  ) {}

  /** The same connection, another database (chdb allows one data directory per process). */
  withDatabase(database: string): ClickHouseGateway {
    return new ClickHouseGateway(this.client, database, this.mode);
  }

  /** A table's qualified name (the embedded engine has no per-request database). */
  table(name: string): string {
    return `${this.database}.${name}`;
  }

  /** Rows of a SELECT with `{name:Type}` parameters. */
  async query<T>(sql: string, params: QueryParams = {}, call: CallSettings = {}): Promise<T[]> {
    const result = await this.client.query({
      query: sql,
      query_params: params,
      format: 'JSONEachRow',
      clickhouse_settings: settingsFor(call),
    });
    return result.json<T>();
  }

  /** Rows into a table as JSONEachRow (column names = keys). An empty list writes nothing. */
  async insert(table: string, rows: readonly object[], call: CallSettings = {}): Promise<void> {
    if (rows.length === 0) return;
    await this.client.insert({
      table: this.table(table),
      values: rows,
      format: 'JSONEachRow',
      clickhouse_settings: settingsFor(call),
    });
  }

  /** DDL and statements without a result (ALTER, INSERT … SELECT, TRUNCATE). */
  async command(sql: string, params: QueryParams = {}, call: CallSettings = {}): Promise<void> {
    await this.client.command({ query: sql, query_params: params, clickhouse_settings: settingsFor(call) });
  }

  async ping(): Promise<boolean> {
    return (await this.client.ping()).success;
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
