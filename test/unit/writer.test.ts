import { describe, expect, it } from 'vitest';
import { classifyInsertError, insertIsolatingRejects } from '../../storage/insert-rejects.js';
import { retry } from '../../ingest/retry.js';

class FakeClickHouseError extends Error {
  constructor(readonly type: string) {
    super(type);
  }
}

describe('insert error classification', () => {
  it('treats parse/type errors as rejected rows and everything else as retryable', () => {
    expect(classifyInsertError(new FakeClickHouseError('CANNOT_PARSE_DATETIME'))).toBe('rows_rejected');
    expect(classifyInsertError(new FakeClickHouseError('TOO_MANY_PARTS'))).toBe('retryable');
    expect(classifyInsertError(new FakeClickHouseError('UNKNOWN_TABLE'))).toBe('retryable');
    expect(classifyInsertError(new Error('connect ECONNREFUSED'))).toBe('retryable');
    expect(classifyInsertError('weird')).toBe('retryable');
  });
});

describe('insertIsolatingRejects', () => {
  // A "table" that refuses any batch containing a negative number, like a type error would.
  const table: number[] = [];
  const tokens: string[] = [];
  const insert = (rows: number[], token: string): Promise<void> => {
    tokens.push(token);
    if (rows.some((r) => r < 0)) return Promise.reject(new FakeClickHouseError('CANNOT_PARSE_NUMBER'));
    table.push(...rows);
    return Promise.resolve();
  };

  it('writes every good row and isolates exactly the bad ones', async () => {
    const rows = [1, 2, -3, 4, 5, 6, -7, 8];
    const outcome = await insertIsolatingRejects(rows, 'tok', insert);
    expect(outcome.rejected.map((r) => r.row)).toEqual([-3, -7]);
    expect(table.sort((a, b) => a - b)).toEqual([1, 2, 4, 5, 6, 8]);
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(tokens.every((t) => t.startsWith('tok'))).toBe(true);
  });

  it('rethrows retryable errors untouched', async () => {
    const failing = () => Promise.reject(new FakeClickHouseError('TOO_MANY_PARTS'));
    await expect(insertIsolatingRejects([1], 't', failing)).rejects.toThrow('TOO_MANY_PARTS');
  });
});

describe('retry', () => {
  it('retries until success and reports each retry', async () => {
    let calls = 0;
    const seen: number[] = [];
    const result = await retry(
      () => (++calls < 4 ? Promise.reject(new Error('down')) : Promise.resolve('ok')),
      { initialMs: 10, maxMs: 100 },
      {
        isRetryable: () => true,
        onRetry: (_e, attempt) => void seen.push(attempt),
        sleep: () => Promise.resolve(),
      },
    );
    expect(result).toBe('ok');
    expect(seen).toEqual([1, 2, 3]);
  });
  it('stops at once on a non-retryable error or when told to give up', async () => {
    await expect(
      retry(() => Promise.reject(new Error('bad')), { initialMs: 1, maxMs: 1 }, { isRetryable: () => false }),
    ).rejects.toThrow('bad');
    await expect(
      retry(
        () => Promise.reject(new Error('down')),
        { initialMs: 1, maxMs: 1 },
        { isRetryable: () => true, shouldGiveUp: () => true },
      ),
    ).rejects.toThrow('down');
  });
});
