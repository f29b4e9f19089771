import type { ClickHouseClient } from '@clickhouse/client';
import type { ActionRow, IngestErrorRow } from '../model/rows.js';

/**
 * Batch inserts into ClickHouse. Errors are classified: either the rows themselves were
 * refused (a parse/type error: retrying the same bytes can never succeed, so the batch is
 * bisected to isolate the offending rows), or anything else (network, overload, too many
 * parts, table missing during a migration…), which is retried until it works — losing data
 * is never the fallback.
 */

export type ErrorClass = 'rows_rejected' | 'retryable';

/** ClickHouse error names meaning "these bytes are bad", per ErrorCodes.cpp. */
const ROW_REJECTION_TYPES = new Set([
  'CANNOT_PARSE_INPUT_ASSERTION_FAILED',
  'CANNOT_PARSE_TEXT',
  'CANNOT_PARSE_DATETIME',
  'CANNOT_PARSE_DATE',
  'CANNOT_PARSE_NUMBER',
  'CANNOT_PARSE_QUOTED_STRING',
  'CANNOT_PARSE_ESCAPE_SEQUENCE',
  'CANNOT_READ_ARRAY_FROM_TEXT',
  'INCORRECT_DATA',
  'TYPE_MISMATCH',
  'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE',
  'TOO_LARGE_STRING_SIZE',
  'ARGUMENT_OUT_OF_BOUND',
  'CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN',
  'INCORRECT_NUMBER_OF_COLUMNS',
  'UNKNOWN_FIELD',
]);

export function classifyInsertError(error: unknown): ErrorClass {
  if (typeof error === 'object' && error !== null && 'type' in error) {
    const { type } = error;
    if (typeof type === 'string' && ROW_REJECTION_TYPES.has(type)) return 'rows_rejected';
  }
  return 'retryable';
}

export interface InsertOutcome<Row> {
  /** Rows ClickHouse refused, each with the reason; everything else was written. */
  rejected: { row: Row; reason: string }[];
}

export interface RowSink {
  insertActions(rows: ActionRow[], token: string): Promise<InsertOutcome<ActionRow>>;
  insertErrors(rows: IngestErrorRow[], token: string): Promise<InsertOutcome<IngestErrorRow>>;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Insert, and when ClickHouse rejects the rows, split in halves until the bad ones are alone.
 * Sub-batch tokens extend the parent's, so a retry of the whole flush stays idempotent.
 */
export async function insertIsolatingRejects<Row>(
  rows: Row[],
  token: string,
  insert: (rows: Row[], token: string) => Promise<void>,
): Promise<InsertOutcome<Row>> {
  try {
    await insert(rows, token);
    return { rejected: [] };
  } catch (error) {
    if (classifyInsertError(error) !== 'rows_rejected') throw error;
    const [only] = rows;
    if (rows.length === 1 && only !== undefined)
      return { rejected: [{ row: only, reason: errorMessage(error) }] };
    const middle = Math.ceil(rows.length / 2);
    const left = await insertIsolatingRejects(rows.slice(0, middle), `${token}/l`, insert);
    const right = await insertIsolatingRejects(rows.slice(middle), `${token}/r`, insert);
    return { rejected: [...left.rejected, ...right.rejected] };
  }
}

export class ClickHouseRowSink implements RowSink {
  constructor(
    private readonly client: ClickHouseClient,
    private readonly database: string,
  ) {}

  private async insert(table: string, rows: readonly object[], token: string): Promise<void> {
    if (rows.length === 0) return;
    await this.client.insert({
      table: `${this.database}.${table}`,
      values: rows,
      format: 'JSONEachRow',
      // The complete settings on every call: chdb applies them with SET on a shared
      // connection, so anything omitted here would silently keep an earlier call's value.
      clickhouse_settings: {
        insert_deduplication_token: token,
        insert_deduplicate: 1,
        input_format_skip_unknown_fields: 0,
        date_time_input_format: 'basic',
        // Batches are a few MB: splitting them across parser threads costs more than it
        // saves (measured +25% insert throughput on the embedded engine with it off).
        input_format_parallel_parsing: 0,
      },
    });
  }

  insertActions(rows: ActionRow[], token: string): Promise<InsertOutcome<ActionRow>> {
    return insertIsolatingRejects(rows, token, (part, t) => this.insert('actions', part, t));
  }

  insertErrors(rows: IngestErrorRow[], token: string): Promise<InsertOutcome<IngestErrorRow>> {
    return insertIsolatingRejects(rows, token, (part, t) => this.insert('ingest_errors', part, t));
  }
}
