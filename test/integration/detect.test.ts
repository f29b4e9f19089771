import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Message } from 'kafkajs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { ClickHouseGateway, SqlGateway } from '../../storage/gateway.js';
import type { Repositories } from '../../storage/repositories.js';
import { FindingsRepository } from '../../storage/findings.js';
import { loadMigrations, migrate, renderStatement } from '../../storage/migrate.js';
import { prepareSchema } from '../../storage/schema.js';
import { silentLogger } from '../../common/logger.js';
import { ingestMetrics, MetricsRegistry } from '../../common/metrics.js';
import { packageRoot } from '../../common/paths.js';
import { generateDemoEvents } from '../../demo/generator.js';
import { EMPTY_EVENT_DETAILS, type DetectorEvent } from '../../model/detector-event.js';
import type { Finding } from '../../model/finding.js';
import { parseIdentitiesFile } from '../../detectors/registry.js';
import { DetectionRunner } from '../../detectors/runner.js';
import { termsOf } from '../../detectors/terms.js';
import { triageFinding } from '../../detectors/triage.js';
import { findingTerms } from '../../detectors/findings.js';
import { liveRegistry } from '../../app/registry.js';
import { loadRules } from '../../app/rules.js';
import { streamingDetectionStage } from '../../app/streaming-detection.js';
import { replayFile } from '../../ingest/replay.js';
import {
  scalar,
  storageOf,
  testConfig,
  testKafka,
  useClickHouse,
  waitFor,
  startTestConsumer,
} from './helpers.js';

/**
 * Detection against the real broker and engine: the same events judged by the streaming path
 * (inline after each ingest batch, from Kafka) and by the scheduled path (a replay into another
 * database, judged afterwards) give the same findings; the materialized baselines hold exactly
 * the terms the TypeScript core extracts; analyze is byte-for-byte deterministic.
 */

const EVENTS = 4_000;
const run = promisify(execFile);
const registryFile = path.join(packageRoot(), 'demo', 'identities.yaml');

function demoLines(seed: number, count: number, startMs: number): { key: string; line: string }[] {
  return generateDemoEvents({ seed, startMs, incidentRate: 0.08 }, count).map((e) => ({
    key: e.key,
    line: JSON.stringify(e.event),
  }));
}

const summary = (findings: readonly Finding[]): string[] =>
  findings
    .map((f) => `${f.finding_id} ${f.detector} ${f.identity_id} ${String(f.count)} ${f.event_ids.join(',')}`)
    .sort();

/** An agent posting to `domain`, as detection reads it back from ClickHouse. */
/** How many identities the ClickHouse peer view counts as holding `domain` (as of tomorrow). */
async function domainHolders(store: Pick<Repositories, 'baselines'>, domain: string): Promise<number> {
  const { holders } = await store.baselines.peerCounts(Date.now() + 86_400_000);
  return holders.find((h) => h.kind === 'domain' && h.value === domain)?.n ?? 0;
}

function egressEvent(
  identity: string,
  domain: string,
  eventId: string,
  session: string,
  ts: number,
): DetectorEvent {
  return {
    event_id: eventId,
    ts,
    identity_id: identity,
    identity_type: 'agent',
    identity_credential: '',
    session,
    action: 'network.egress',
    tool: 'http.post',
    resource_type: '',
    resource_id: '',
    target_domain: domain,
    outcome: 'success',
    ...EMPTY_EVENT_DETAILS,
    approval_id: '',
    source_ip: '',
    source_user_agent: '',
  };
}

describe('detection', () => {
  const brokers = inject('kafkaBrokers');
  // One partition: Kafka then delivers in produce (= time) order, the order both paths judge in.
  const streamingConfig = testConfig(brokers, {
    kafka: { brokers, partitions: 1 },
    detect: { identitiesFile: registryFile },
  });
  const scheduledConfig = {
    ...streamingConfig,
    clickhouse: { ...streamingConfig.clickhouse, database: 'scheduled' },
  };
  // chdb allows one data directory per process: both paths get a database in the same one.
  const streamingCh = useClickHouse(streamingConfig);
  let scheduled: ClickHouseGateway | undefined;
  beforeAll(async () => {
    scheduled = streamingCh().withDatabase('scheduled');
    await prepareSchema(scheduled, scheduledConfig.clickhouse, silentLogger);
  });
  const scheduledCh = (): ClickHouseGateway => {
    if (!scheduled) throw new Error('opened in beforeAll');
    return scheduled;
  };
  const start = Date.now() - 6 * 3600_000;
  const lines = demoLines(23, EVENTS, start);

  it('streaming (Kafka, inline per batch) and scheduled (after the fact) find the same', async () => {
    const ch = streamingCh();
    const registry = new Map(
      parseIdentitiesFile(await readFile(registryFile, 'utf8'), registryFile).map((r) => [r.id, r]),
    );
    const kafka = testKafka(brokers);
    // As `scopewatch ingest` runs it: streaming detection as the consumer's post-write stage.
    const consumer = await startTestConsumer(streamingConfig, kafka, ch, {
      stages: [await streamingDetectionStage(streamingConfig.detect, storageOf(ch), silentLogger)],
    });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const messages: Message[] = lines.map((l) => ({ key: l.key, value: l.line }));
    for (let i = 0; i < messages.length; i += 500)
      await producer.send({
        topic: streamingConfig.kafka.topic,
        acks: -1,
        messages: messages.slice(i, i + 500),
      });
    await producer.disconnect();
    await waitFor(
      'all events ingested',
      () => scalar(ch, `SELECT count() FROM ${ch.database}.actions`),
      (n) => n >= EVENTS,
    );
    await consumer.stop();
    const streamed = await storageOf(ch).findings.list({}, 10_000);

    // The scheduled path: the same events as a file, judged after they are all in.
    const other = scheduledCh();
    const file = path.join(scheduledConfig.dataDir, 'events.jsonl');
    await writeFile(file, lines.map((l) => l.line).join('\n'));
    await replayFile({
      file,
      format: 'canonical',
      ingest: scheduledConfig.ingest,
      sink: storageOf(other).actions,
      logger: silentLogger,
      metrics: ingestMetrics(new MetricsRegistry()),
    });
    const scheduled = await new DetectionRunner({
      storage: storageOf(other),
      logger: silentLogger,
      registry: () => registry,
      // As `scopewatch detect` builds it: the shipped rule packs, like the streaming stage.
      rules: loadRules(),
    }).judgeIngested(0, Date.now() + 1000);

    expect(streamed.length).toBeGreaterThan(5);
    const detectors = new Set(streamed.map((f) => f.detector));
    for (const id of [
      'scope.new_tool',
      'scope.new_egress',
      'scope.declared_violation',
      'lifecycle.revoked_activity',
    ])
      expect(detectors).toContain(id);
    expect(summary(scheduled.findings)).toEqual(summary(streamed));
    // Every cited event exists, and every finding explains itself.
    const cited = [...new Set(streamed.flatMap((f) => f.event_ids))];
    const found = await scalar(
      ch,
      `SELECT count() FROM ${ch.database}.actions FINAL WHERE event_id IN {ids:Array(String)}`,
      {
        ids: cited,
      },
    );
    expect(found).toBe(cited.length);
    for (const f of streamed) expect(f.explanation.length).toBeGreaterThan(30);
  }, 120_000);

  it('the materialized baselines hold exactly the terms the detectors extract', async () => {
    const ch = scheduledCh();
    const rows = await ch.query<DetectorEvent>(
      `SELECT event_id, toFloat64(toUnixTimestamp64Milli(ts)) AS ts, identity_id, identity_type, identity_credential,
         session, action, tool, resource_type, resource_id, target_domain, outcome, approval_id, source_ip, source_user_agent
       FROM ${ch.database}.actions FINAL`,
    );
    const expected = new Set(
      rows.flatMap((e) => termsOf(e).map((t) => `${e.identity_id}|${t.kind}|${t.value}`)),
    );
    const stored = await ch.query<{ identity_id: string; kind: string; value: string }>(
      `SELECT DISTINCT identity_id, kind, value FROM ${ch.database}.baseline_terms`,
    );
    expect(new Set(stored.map((r) => `${r.identity_id}|${r.kind}|${r.value}`))).toEqual(expected);
  });

  it('an existing database learns which resources each identity changed when it is upgraded', async () => {
    const ch = scheduledCh();
    const all = loadMigrations();
    const upgradedDb = ch.withDatabase('upgraded');
    await migrate(
      upgradedDb,
      silentLogger,
      all.filter((m) => m.version < 6),
    );
    await ch.command(`INSERT INTO upgraded.actions SELECT * FROM ${ch.database}.actions`);
    const changedTerms = async (): Promise<{ terms: Set<string>; events: number }> => {
      const rows = await ch.query<{ identity_id: string; value: string; n: number }>(
        `SELECT identity_id, value, toFloat64(sum(events)) AS n FROM upgraded.baseline_terms
         WHERE kind = 'resource_changed' GROUP BY identity_id, value`,
      );
      return {
        terms: new Set(rows.map((r) => `${r.identity_id}|${r.value}`)),
        events: rows.reduce((sum, r) => sum + r.n, 0),
      };
    };
    expect((await changedTerms()).terms.size).toBe(0);

    expect(
      (
        await migrate(
          upgradedDb,
          silentLogger,
          all.filter((m) => m.version <= 6),
        )
      ).applied,
    ).toEqual([6]);
    const events = await ch.query<DetectorEvent>(
      `SELECT event_id, toFloat64(toUnixTimestamp64Milli(ts)) AS ts, identity_id, identity_type, identity_credential,
         session, action, tool, resource_type, resource_id, target_domain, outcome, approval_id, source_ip, source_user_agent
       FROM upgraded.actions FINAL`,
    );
    const expected = events.flatMap((e) =>
      termsOf(e)
        .filter((t) => t.kind === 'resource_changed')
        .map((t) => `${e.identity_id}|${t.value}`),
    );
    const upgraded = await changedTerms();
    expect(expected.length).toBeGreaterThan(100);
    expect(upgraded.terms).toEqual(new Set(expected));
    expect(upgraded.events).toBe(expected.length);

    // Applied again after an interruption, the backfill adds nothing twice.
    const migration = all.find((m) => m.version === 6);
    for (const statement of migration?.statements ?? [])
      await ch.command(renderStatement(statement, 'upgraded'));
    expect(await changedTerms()).toEqual(upgraded);
  });

  it('records the registry and the identities seen only in events', async () => {
    const ch = scheduledCh();
    const store = storageOf(ch).identities;
    await liveRegistry({ identitiesFile: registryFile }, store);
    const seen = [...new Set(lines.map((l) => l.key))];
    await store.recordUnregistered(seen);
    const all = await store.loadAll();
    expect(all.get('legacy-sync')?.state).toBe('revoked');
    expect(all.get('legacy-sync')?.credentials[0]?.revokedAt).toBe(Date.parse('2026-01-15T00:00:00Z'));
    expect(all.get('release-bot')?.scope?.approvalRequired).toEqual([
      { match: 'deploy', resources: ['argo_application:*-prod'] },
    ]);
    // Registered identities are not clobbered by what events say about them; the others are
    // recorded as unregistered (the demo's human approvers, for one).
    for (const id of ['release-bot', 'support-agent', 'data-pipeline', 'coding-agent', 'legacy-sync'])
      expect(all.get(id)?.registered).toBe(true);
    expect([...all.values()].some((r) => !r.registered)).toBe(true);
    expect(await store.recordUnregistered(seen)).toBe(0);
  });

  it('triage changes baselines: a confirmed incident keeps its value new, a false positive is allowed', async () => {
    const ch = scheduledCh();
    const store = storageOf(ch);
    const egress = await store.findings.list({ detector: 'scope.new_egress' }, 1000);
    // Two findings about different destinations (two identities may share one: the demo's data
    // differs from run to run, so pick rather than take the first two).
    const [incident] = egress;
    const benign = egress.find((f) => f.subject !== incident?.subject);
    expect(incident).toBeDefined();
    expect(benign).toBeDefined();
    if (!incident || !benign) return;
    await triageFinding(store, benign.finding_id, 'false_positive', 'expected: new partner endpoint');
    await triageFinding(store, incident.finding_id, 'resolved', 'confirmed exfiltration, credential rotated');
    expect((await store.findings.get(benign.finding_id))?.status).toBe('false_positive');
    expect(await store.overrides.forIdentities([benign.identity_id])).toContainEqual({
      identity_id: benign.identity_id,
      kind: 'domain',
      value: benign.subject,
      effect: 'allow',
    });
    // The incident's domain is in the aggregates (it was seen), yet after the exclusion a fresh
    // runner (as after a restart) treats it as new again: the repeat raises a finding.
    const later = (id: string, domain: string): DetectorEvent =>
      egressEvent(id, domain, `triage-check-${domain}`, 'triage-check', Date.now());
    const runner = new DetectionRunner({ storage: store, logger: silentLogger, registry: () => null });
    const { findings } = await runner.judge([
      later(incident.identity_id, incident.subject),
      later(benign.identity_id, benign.subject),
    ]);
    const egressFindings = findings
      .filter((f) => f.detector === 'scope.new_egress')
      .map((f) => `${f.identity_id} ${f.subject}`);
    expect(egressFindings).toContain(`${incident.identity_id} ${incident.subject}`);
    expect(egressFindings).not.toContain(`${benign.identity_id} ${benign.subject}`);
  });

  it('a running streaming engine learns triage made meanwhile; repeats keep the status and note', async () => {
    const ch = scheduledCh();
    const store = storageOf(ch);
    const [known] = await store.findings.list({ detector: 'scope.new_egress' }, 1);
    expect(known).toBeDefined();
    if (!known) return;
    const send = (domain: string, n: number): DetectorEvent =>
      egressEvent(
        known.identity_id,
        domain,
        `held-${domain}-${String(n)}`,
        `held-${String(n)}`,
        Date.now() + n,
      );
    // The demo history is hours old: count it as established so new destinations are held.
    const runner = new DetectionRunner({
      storage: store,
      logger: silentLogger,
      registry: () => null,
      overrides: { 'scope.new_egress': { establishedDays: 0 } },
    });
    const first = await runner.judge([send('partner.example', 1), send('drop.example', 1)]);
    const opened = (domain: string): Finding | undefined =>
      first.findings.find((f) => f.detector === 'scope.new_egress' && f.subject === domain);
    const partner = opened('partner.example');
    const drop = opened('drop.example');
    expect(partner).toBeDefined();
    expect(drop?.baseline.held_for_triage).toBe(true);
    if (!partner || !drop) return;
    // An analyst triages through the API (another process) while the engine keeps running.
    await triageFinding(store, partner.finding_id, 'false_positive', 'new payment partner');
    await triageFinding(store, drop.finding_id, 'acknowledged', 'investigating');
    const second = await runner.judge([send('partner.example', 2), send('drop.example', 2)]);
    // Allowed: normal now. Under investigation: the repeat joins the finding, as evidence.
    expect(second.findings.map((f) => f.subject)).toEqual(['drop.example']);
    const stored = await store.findings.get(drop.finding_id);
    expect(stored?.status).toBe('acknowledged');
    expect(stored?.count).toBe(2);
    const note = await ch.query(
      `SELECT note FROM ${ch.database}.findings FINAL WHERE finding_id = {id:String}`,
      {
        id: drop.finding_id,
      },
    );
    expect(note).toEqual([{ note: 'investigating' }]);
  });

  it('a triage landing between detection reading a finding and writing its repeat still wins', async () => {
    const ch = scheduledCh();
    /** Runs `between` right after saveDetected has read the stored statuses: the race, made certain. */
    let between: (() => Promise<void>) | undefined;
    const racing: SqlGateway = {
      database: ch.database,
      table: (name) => ch.table(name),
      insert: (table, rows, call) => ch.insert(table, rows, call),
      command: (sql, params, call) => ch.command(sql, params, call),
      query: async <T>(sql: string, params?: Record<string, unknown>, call?: object): Promise<T[]> => {
        const result = await ch.query<T>(sql, params, call);
        const hook = sql.includes('AS version') ? between : undefined;
        between = undefined;
        if (hook) await hook();
        return result;
      },
    };
    const api = storageOf(ch);
    const detection = new FindingsRepository(racing, api.records);
    const [template] = await api.findings.list({ detector: 'scope.new_egress' }, 1);
    expect(template).toBeDefined();
    if (!template) return;
    const finding: Finding = { ...template, finding_id: 'f-race', status: 'open', count: 1 };
    await detection.saveDetected([finding]);
    between = async () => {
      await triageFinding(api, 'f-race', 'acknowledged', 'mine');
    };
    await detection.saveDetected([{ ...finding, count: 2 }]);
    expect((await api.findings.get('f-race'))?.status).toBe('acknowledged');
    // The next repeat continues from the analyst's row, with the engine's count.
    await detection.saveDetected([{ ...finding, count: 3 }]);
    const after = await api.findings.get('f-race');
    expect(after?.status).toBe('acknowledged');
    expect(after?.count).toBe(3);
  });

  it('the peer view in ClickHouse leaves out values held for triage, as the engine does', async () => {
    const ch = scheduledCh();
    const store = storageOf(ch);
    const holders = (domain: string): Promise<number> => domainHolders(store, domain);
    const [template] = await store.findings.list({ detector: 'scope.new_egress' }, 1);
    const [holding] = await ch.query<{ identity_id: string; value: string }>(
      `SELECT identity_id, value FROM ${ch.database}.baseline_terms
       WHERE kind = 'domain' ORDER BY identity_id, value LIMIT 1`,
    );
    expect(template).toBeDefined();
    expect(holding).toBeDefined();
    if (!template || !holding) return;
    const before = await holders(holding.value);
    expect(before).toBeGreaterThan(0);
    const held: Finding = {
      ...template,
      finding_id: 'f-held-for-triage',
      identity_id: holding.identity_id,
      subject: holding.value,
      term_kind: 'domain',
      status: 'open',
      baseline: { ...template.baseline, held_for_triage: true },
    };
    // Two findings on the value (a month apart, say); the analyst allows it through the later one.
    const older: Finding = { ...held, finding_id: 'f-held-for-triage-older' };
    await store.findings.save([older, held]);
    expect(await holders(holding.value)).toBe(before - 1);
    await triageFinding(store, held.finding_id, 'false_positive', 'ours');
    expect(await holders(holding.value)).toBe(before);
  });

  it('a finding gathering hosts under one registrable domain holds and triages every host', async () => {
    const ch = scheduledCh();
    const store = storageOf(ch);
    const holders = (domain: string): Promise<number> => domainHolders(store, domain);
    const [template] = await store.findings.list({ detector: 'scope.new_egress' }, 1);
    const [holding] = await ch.query<{ identity_id: string; value: string }>(
      `SELECT identity_id, value FROM ${ch.database}.baseline_terms
       WHERE kind = 'domain'
         AND (identity_id, kind, value) NOT IN (SELECT identity_id, kind, value FROM ${ch.database}.baseline_overrides)
       ORDER BY identity_id, value DESC LIMIT 1`,
    );
    if (!template || !holding) throw new Error('demo data has egress findings and domains');
    const before = await holders(holding.value);
    // The subject is the registrable domain; the host the identity reached is a member.
    const grouped: Finding = {
      ...template,
      finding_id: 'f-grouped',
      identity_id: holding.identity_id,
      subject: 'grouped.example',
      term_kind: 'domain',
      status: 'open',
      baseline: { held_for_triage: true, members: [holding.value, 'x.grouped.example'], member_count: 2 },
    };
    await store.findings.save([grouped]);
    expect(await holders(holding.value)).toBe(before - 1);
    // A restarted engine holds the host out of the baseline too: reaching it is news again.
    const reached = async (): Promise<boolean> => {
      const runner = new DetectionRunner({ storage: store, logger: silentLogger, registry: () => null });
      const at = Date.now();
      const event = egressEvent(holding.identity_id, holding.value, `grouped-${String(at)}`, 'grouped', at);
      const { findings } = await runner.judge([event]);
      return findings.some((f) => findingTerms(f).some((t) => t.value === holding.value));
    };
    expect(await reached()).toBe(true);
    // Triage covers every value the finding is about.
    await triageFinding(store, 'f-grouped', 'false_positive', 'our CDN');
    const overrides = await store.overrides.forIdentities([holding.identity_id]);
    for (const value of ['grouped.example', holding.value, 'x.grouped.example'])
      expect(overrides).toContainEqual({
        identity_id: holding.identity_id,
        kind: 'domain',
        value,
        effect: 'allow',
      });
    expect(await reached()).toBe(false);
  });

  it('analyze is deterministic: same input, same bytes (CLI, own process and engine)', async () => {
    const dir = scheduledConfig.dataDir;
    const baseline = path.join(dir, 'baseline.jsonl');
    const input = path.join(dir, 'input.jsonl');
    await writeFile(
      baseline,
      demoLines(5, 3000, start - 86_400_000)
        .map((l) => l.line)
        .join('\n'),
    );
    await writeFile(
      input,
      demoLines(6, 1500, start)
        .map((l) => l.line)
        .join('\n'),
    );
    const cli = path.join(packageRoot(), 'dist', 'bin', 'scopewatch.js');
    const outputs: string[] = [];
    for (const out of ['a.jsonl', 'b.jsonl']) {
      const { stdout } = await run(process.execPath, [
        cli,
        'analyze',
        '--baseline',
        baseline,
        '--input',
        input,
        '--identities',
        registryFile,
        '--out',
        path.join(dir, out),
        '--log-level',
        'error',
      ]);
      const result = JSON.parse(stdout) as { input: { dlq: number }; findings: number };
      expect(result.input.dlq).toBe(0);
      expect(result.findings).toBeGreaterThan(0);
      outputs.push(await readFile(path.join(dir, out), 'utf8'));
    }
    expect(outputs[1]).toBe(outputs[0]);
    const lines = (outputs[0] ?? '')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Finding);
    expect(lines.some((f) => f.detector === 'lifecycle.revoked_activity')).toBe(true);
    expect(lines.every((f) => f.event_ids.length > 0)).toBe(true);
  }, 60_000);
});
