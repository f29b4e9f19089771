import { describe, expect, it } from 'vitest';
import { generateDemoEvents } from '../../demo/generator.js';
import { createPipeline } from '../../ingest/pipeline.js';
import { writeSyntheticHistory } from '../../storage/synthetic-history.js';
import type { Finding } from '../../model/finding.js';
import type { ActionRow } from '../../model/rows.js';
import { scalar, storageOf, testConfig, useClickHouse } from './helpers.js';

/**
 * The embedded engine applies a call's settings with SET on its connection. An ingest batch's
 * insert_deduplication_token must not outlive its insert: if it did, the next write into a
 * deduplicating table (actions, ingest_errors, the baselines) without a token of its own would
 * reuse it and be dropped as a "duplicate", silently. Real engine: after a token was used,
 * statements without one and every repository's writes (twice each) all land. (Verified to fail
 * when the gateway stops resetting the token.)
 */

const config = testConfig([]);
const clickhouse = useClickHouse(config);

function actionRows(seed: number, count: number): ActionRow[] {
  const pipeline = createPipeline({ maxMessageBytes: 256 * 1024, argsMaxBytes: 8192 });
  return generateDemoEvents({ seed, startMs: Date.now() - 3600_000, incidentRate: 0 }, count).flatMap(
    (e, i) => {
      const result = pipeline({
        value: Buffer.from(JSON.stringify(e.event)),
        format: 'canonical',
        coordinates: {
          origin: 'file',
          topic: `file:dedup-${String(seed)}`,
          partition: 0,
          offset: String(i + 1),
          key: '',
          timestampMs: Date.now(),
        },
      });
      return result.kind === 'ok' ? result.rows : [];
    },
  );
}

function finding(id: string): Finding {
  const now = Date.now();
  return {
    finding_id: id,
    detector: 'scope.new_tool',
    detector_version: '1',
    identity_id: 'dedup-agent',
    session: 's',
    severity: 'low',
    score: 0.5,
    title: id,
    explanation: 'test',
    event_ids: [id],
    first_ts: now,
    last_ts: now,
    count: 1,
    status: 'open',
    frameworks: [],
    created_at: now,
    dedup_key: id,
    subject: id,
    term_kind: 'tool',
    config_hash: 'h',
    baseline: {},
  };
}

describe('storage: a deduplication token never outlives its insert', () => {
  it('every repository writes twice after an ingest batch used a token, and both writes land', async () => {
    const ch = clickhouse();
    const storage = storageOf(ch);
    const first = actionRows(1, 20);
    await storage.actions.insertActions(first, 'actions:batch-1');
    // The token does its job: the same batch retried is written once.
    await storage.actions.insertActions(first, 'actions:batch-1');
    expect(await storage.actions.count()).toBe(first.length);

    // Statements without a token of their own, into the same deduplicating tables: a leftover
    // token would drop them at once.
    await writeSyntheticHistory(ch, {
      start: Date.now() - 7200_000,
      span: 3600_000,
      events: 50,
      identities: 5,
    });
    expect(await storage.actions.count()).toBe(first.length + 50);
    expect(await storage.baselines.rebuild()).toBeGreaterThan(0);

    await storage.findings.save([finding('f-dedup-1')]);
    await storage.findings.save([finding('f-dedup-2')]);
    expect((await storage.findings.list({ identity: 'dedup-agent' }, 10)).map((f) => f.finding_id)).toEqual([
      'f-dedup-1',
      'f-dedup-2',
    ]);

    await storage.overrides.add(
      { identity_id: 'dedup-agent', kind: 'tool', value: 'a', effect: 'allow' },
      'f1',
    );
    await storage.overrides.add(
      { identity_id: 'dedup-agent', kind: 'tool', value: 'b', effect: 'allow' },
      'f2',
    );
    expect(await storage.overrides.forIdentities(['dedup-agent'])).toHaveLength(2);

    await storage.detectorState.setWatermark('dedup-a', 1000);
    await storage.detectorState.setWatermark('dedup-b', 2000);
    expect(await storage.detectorState.watermark('dedup-a')).toBe(1000);
    expect(await storage.detectorState.watermark('dedup-b')).toBe(2000);

    const record = (id: string) => ({
      id,
      type: 'agent' as const,
      owner: 'team',
      purpose: '',
      state: 'active' as const,
      stateChangedAt: null,
      credentials: [],
      scope: null,
      registered: true,
    });
    await storage.identities.upsert([record('dedup-id-1')], 'api');
    await storage.identities.upsert([record('dedup-id-2')], 'api');
    const identities = await storage.identities.loadAll();
    expect(identities.has('dedup-id-1') && identities.has('dedup-id-2')).toBe(true);
    expect(await storage.identities.recordUnregistered(['dedup-new-1'])).toBe(1);
    expect(await storage.identities.recordUnregistered(['dedup-new-2'])).toBe(1);
    expect((await storage.identities.loadAll()).has('dedup-new-2')).toBe(true);

    // And a later batch with its own token, after all of the above, lands too.
    const second = actionRows(2, 20);
    await storage.actions.insertActions(second, 'actions:batch-2');
    expect(await storage.actions.count()).toBe(first.length + 50 + second.length);
    expect(await scalar(ch, `SELECT count() FROM ${ch.database}.findings`)).toBe(2);
  });
});
