/**
 * Insert retry classification. Either ClickHouse refused the rows themselves (a parse or type
 * error: retrying the same bytes can never succeed, so the batch is bisected to isolate the
 * offending rows), or anything else failed (network, overload, too many parts, a table missing
 * during a migration…), which the caller retries until it works: losing data is never the
 * fallback.
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
