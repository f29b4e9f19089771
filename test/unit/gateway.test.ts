import type { ClickHouseClient } from '@clickhouse/client';
import { describe, expect, it } from 'vitest';
import { ClickHouseGateway } from '../../storage/gateway.js';

/**
 * The embedded engine keeps every setting a call sends (SET on the connection): the gateway must
 * send the same complete set on every call, so nothing one call sets leaks into the next.
 */

type Call = { kind: string; settings: Record<string, unknown> };

function recordingClient(calls: Call[]): ClickHouseClient {
  const record = (kind: string) => (params: { clickhouse_settings?: Record<string, unknown> }) => {
    calls.push({ kind, settings: { ...params.clickhouse_settings } });
    return Promise.resolve({ json: () => Promise.resolve([]) });
  };
  return {
    query: record('query'),
    insert: record('insert'),
    command: record('command'),
  } as unknown as ClickHouseClient;
}

describe('ClickHouse gateway', () => {
  it('sends the same complete settings on every call, the token only where a call sets it', async () => {
    const calls: Call[] = [];
    const ch = new ClickHouseGateway(recordingClient(calls), 'sw', 'embedded');
    await ch.insert('actions', [{ a: 1 }], { insert_deduplication_token: 'actions:abc' });
    await ch.insert('findings', [{ a: 1 }]);
    await ch.query('SELECT 1');
    await ch.command('TRUNCATE TABLE sw.t', {}, { max_insert_threads: '2' });
    await ch.command('SELECT 1');

    const keys = calls.map((c) => Object.keys(c.settings).sort());
    for (const k of keys) expect(k).toEqual(keys[0]);
    expect(keys[0]).toContain('insert_deduplication_token');
    expect(calls.map((c) => c.settings.insert_deduplication_token)).toEqual(['actions:abc', '', '', '', '']);
    expect(calls.map((c) => c.settings.max_insert_threads)).toEqual(['0', '0', '0', '2', '0']);
  });

  it('writes nothing for an empty batch', async () => {
    const calls: Call[] = [];
    await new ClickHouseGateway(recordingClient(calls), 'sw', 'embedded').insert('actions', []);
    expect(calls).toEqual([]);
  });
});
