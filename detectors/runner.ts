import type { Logger } from '../common/logger.js';
import type { CompiledRule } from './declarative/compile.js';
import { createDetectors, type DetectorOverrides } from './catalog.js';
import { DEFAULT_ENGINE_OPTIONS, DetectionEngine, type EngineOptions } from './engine.js';
import { compareEvents, type DetectorEvent } from '../model/detector-event.js';
import type { Finding } from '../model/finding.js';
import { DAY_MS } from '../common/time.js';
import type { IdentityRecord } from '../model/identity.js';
import type { Repositories } from '../storage/repositories.js';

/**
 * The I/O glue around the pure engine. Streaming: `judge(rows)` right after an ingest batch is
 * in ClickHouse; profiles of identities met for the first time are hydrated from the baseline
 * aggregates as of their first event in the batch, then kept in memory (Kafka partitions by
 * identity, so each consumer holds the state of its own partitions). Scheduled: `catchUp`
 * judges everything ingested since a watermark with a fresh engine. Both hydrate the same way
 * and judge in (ts, event_id) order, so they produce the same findings (same ids: the id is
 * derived from the dedup key and the first cited event), and running both over the same
 * events is idempotent.
 */

const TRIAGE_OVERLAP_MS = 60_000;

/** What detection reads and writes: events, baselines, findings, triage decisions. */
export type DetectionStorage = Pick<
  Repositories,
  'actions' | 'baselines' | 'findings' | 'overrides' | 'transitions'
>;

export interface RunnerOptions {
  storage: DetectionStorage;
  logger: Logger;
  registry: () => ReadonlyMap<string, IdentityRecord> | null;
  overrides?: DetectorOverrides;
  /** Declarative rules (chain and high-impact packs), compiled; none when absent. */
  rules?: readonly CompiledRule[];
  engine?: Partial<Omit<EngineOptions, 'detectors' | 'registry'>>;
  /** Offline runs stamp `created_at` with event time so their output is reproducible. */
  eventTimeClock?: boolean;
  /** Identities hydrated per query in scheduled runs. */
  chunkSize?: number;
}

export interface JudgeResult {
  events: number;
  findings: Finding[];
  /** The identities whose events were judged. */
  identities: string[];
}

export class DetectionRunner {
  private streaming: DetectionEngine | null = null;
  /** Triage decisions up to this time are known to the streaming engine. */
  private triageSeen = 0;

  constructor(private readonly options: RunnerOptions) {}

  private async newEngine(peersBefore: number): Promise<DetectionEngine> {
    const engine = new DetectionEngine({
      ...DEFAULT_ENGINE_OPTIONS,
      ...this.options.engine,
      detectors: createDetectors(this.options.overrides, this.options.rules),
      registry: this.options.registry(),
      ...(this.options.eventTimeClock ? { now: (e: DetectorEvent) => e.ts } : {}),
    });
    const { baselines, transitions } = this.options.storage;
    const [peers, fleet] = await Promise.all([
      baselines.peerCounts(peersBefore),
      transitions.fleet(peersBefore),
    ]);
    for (const id of peers.identities) engine.peers.addIdentity(id);
    for (const h of peers.holders) engine.peers.setHolders(h, h.n);
    engine.seedFleetTransitions(fleet);
    return engine;
  }

  /** Loads history, triage overrides and live findings for identities the engine has not met. */
  private async hydrate(engine: DetectionEngine, events: readonly DetectorEvent[]): Promise<void> {
    const cuts = new Map<string, number>();
    for (const e of events)
      if (!engine.hasProfile(e.identity_id))
        cuts.set(e.identity_id, Math.min(cuts.get(e.identity_id) ?? e.ts, e.ts));
    if (cuts.size === 0) return;
    const { actions, baselines, findings: stored, overrides: decisions, transitions } = this.options.storage;
    const ids = [...cuts.keys()];
    const dedupWindow = this.options.engine?.dedupWindowMs ?? DEFAULT_ENGINE_OPTIONS.dedupWindowMs;
    const [rows, raw, overrides, findings, counts, tails] = await Promise.all([
      baselines.asOf(cuts),
      actions.before(cuts),
      decisions.forIdentities(ids),
      stored.active(ids, Math.min(...cuts.values()) - Math.max(dedupWindow, DAY_MS)),
      transitions.asOf(cuts),
      transitions.sessionTails(cuts),
    ]);
    for (const id of ids) engine.touch(id);
    // Live findings, then triage (the latest decision per value wins over older findings), then
    // the history, seeded without the values they hold out (confirmed incidents, destinations
    // still under review).
    engine.loadFindings(findings);
    for (const o of overrides) engine.applyOverride(o);
    engine.seed(rows, false);
    // Transitions: the counts before the cut day, the open sessions' last steps before it, then
    // the cut day's events replayed (they count their own steps as they are learned).
    engine.seedTransitions(counts);
    for (const { identity_id, session, ...step } of tails) engine.seedSessionTail(identity_id, session, step);
    for (const e of raw) engine.learnOnly(e);
  }

  private async judgeWith(engine: DetectionEngine, events: readonly DetectorEvent[]): Promise<JudgeResult> {
    engine.setRegistry(this.options.registry());
    const sorted = [...events].sort(compareEvents);
    await this.hydrate(engine, sorted);
    const touched = new Map<string, Finding>();
    for (const event of sorted) for (const f of engine.process(event)) touched.set(f.finding_id, f);
    const findings = [...touched.values()].sort((a, b) => (a.finding_id < b.finding_id ? -1 : 1));
    await this.options.storage.findings.saveDetected(findings);
    return { events: sorted.length, findings, identities: [...new Set(sorted.map((e) => e.identity_id))] };
  }

  /** Streaming: judge the rows an ingest batch just wrote. */
  async judge(events: readonly DetectorEvent[]): Promise<JudgeResult> {
    if (events.length === 0) return { events: 0, findings: [], identities: [] };
    // Peers as of the first batch's earliest event: its rows are already in the aggregates
    // and must not count twice (the engine adds them as it learns them).
    if (!this.streaming) {
      // Hydration reads the triage state as it is now; later decisions arrive through applyTriage.
      this.triageSeen = Date.now();
      this.streaming = await this.newEngine(Math.min(...events.map((e) => e.ts)));
    } else await this.applyTriage(this.streaming);
    return this.judgeWith(this.streaming, events);
  }

  /**
   * A long-lived engine learns of triage made since it started (through the API, by another
   * process): allowed values become normal, confirmed incidents are held out, and findings
   * whose status changed stop or keep absorbing repeats accordingly.
   */
  private async applyTriage(engine: DetectionEngine): Promise<void> {
    // Re-reading a short overlap is harmless (decisions apply idempotently) and covers writers
    // whose clocks run a little behind this one.
    const since = this.triageSeen - TRIAGE_OVERLAP_MS;
    const { findings, overrides } = this.options.storage;
    const [decided, triaged] = await Promise.all([overrides.since(since), findings.triagedSince(since)]);
    this.triageSeen = Math.max(this.triageSeen, decided.latest, ...triaged.map((f) => f.at));
    engine.refreshStatuses(
      triaged.filter((f) => engine.hasProfile(f.identity_id)).map(({ at: _at, ...finding }) => finding),
    );
    for (const o of decided.overrides) if (engine.hasProfile(o.identity_id)) engine.applyOverride(o, true);
  }

  /** Forget streaming state (e.g. after a rebalance moved identities elsewhere). */
  reset(): void {
    this.streaming = null;
  }

  /**
   * Scheduled / catch-up: judge every event ingested in (from, to], identities in chunks, each
   * chunk with its own history. `topic` restricts to one source (offline analysis).
   */
  async judgeIngested(from: number, to: number, topic?: string): Promise<JudgeResult> {
    const { actions } = this.options.storage;
    const work = await actions.identitiesIngested(from, to, topic);
    if (work.length === 0) return { events: 0, findings: [], identities: [] };
    const engine = await this.newEngine(Math.min(...work.map((w) => w.min_ts)));
    const size = this.options.chunkSize ?? 2000;
    let events = 0;
    const findings: Finding[] = [];
    for (let i = 0; i < work.length; i += size) {
      const ids = work.slice(i, i + size).map((w) => w.identity_id);
      const result = await this.judgeWith(engine, await actions.ingested(ids, from, to, topic));
      events += result.events;
      findings.push(...result.findings);
    }
    this.options.logger.info('scheduled detection', {
      from,
      to,
      identities: work.length,
      events,
      findings: findings.length,
    });
    return { events, findings, identities: work.map((w) => w.identity_id) };
  }
}
