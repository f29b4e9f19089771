import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import { ingestMetrics, MetricsRegistry } from '../common/metrics.js';
import type { DetectorOverrides } from '../detectors/catalog.js';
import { DetectionRunner } from '../detectors/runner.js';
import type { FormatAdapter } from '../ingest/adapters/types.js';
import { fileMessages, replay, type ReplayResult } from '../ingest/replay.js';
import type { Finding } from '../model/finding.js';
import type { IdentityRecord } from '../model/identity.js';
import { openStorage } from './storage.js';
import { loadRules } from './rules.js';
import type { CompiledRule } from '../detectors/declarative/compile.js';

/**
 * Offline analysis (`scopewatch analyze`): a throwaway embedded ClickHouse, the baseline file
 * replayed through the normal ingest pipeline (its materialized views build the baselines;
 * no findings), then the input file judged by the same runner the scheduled path uses.
 * Event-time clocks and sorted output make it deterministic: same input, same bytes.
 */

export interface AnalyzeOptions {
  baseline?: string;
  input: string;
  format: string;
  out: string;
  registry: ReadonlyMap<string, IdentityRecord> | null;
  /** Per-detector settings (SCOPEWATCH_DETECTORS). */
  overrides?: DetectorOverrides;
  /** Compiled rules; the shipped packs when absent. */
  rules?: readonly CompiledRule[];
  logger: Logger;
  adapters?: readonly FormatAdapter[];
  /** Keep the temporary database (for inspection) instead of deleting it. */
  keep?: boolean;
}

export interface AnalyzeResult {
  baseline: ReplayResult;
  input: ReplayResult;
  findings: number;
  dataDir: string;
}

/** The contract fields first, in contract order, then the evidence extras. */
export function findingLine(f: Finding): string {
  return JSON.stringify({
    finding_id: f.finding_id,
    detector: f.detector,
    detector_version: f.detector_version,
    identity_id: f.identity_id,
    session: f.session,
    severity: f.severity,
    score: f.score,
    title: f.title,
    explanation: f.explanation,
    event_ids: f.event_ids,
    first_ts: new Date(f.first_ts).toISOString(),
    last_ts: new Date(f.last_ts).toISOString(),
    count: f.count,
    status: f.status,
    frameworks: f.frameworks,
    created_at: new Date(f.created_at).toISOString(),
    subject: f.subject,
    dedup_key: f.dedup_key,
    config_hash: f.config_hash,
    baseline: f.baseline,
  });
}

export async function analyze(options: AnalyzeOptions): Promise<AnalyzeResult> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'scopewatch-analyze-'));
  // Offline data is often old (an incident from last year): retention must not drop it on insert.
  const config = loadConfig({}, { dataDir, logLevel: 'warn', clickhouse: { actionsTtlDays: 0 } });
  const storage = await openStorage(config, options.logger);
  try {
    const metrics = ingestMetrics(new MetricsRegistry());
    // Distinct source names per role: coordinates, dedup tokens and derived ids come from them.
    const load = (file: string, role: string): Promise<ReplayResult> =>
      replay({
        source: fileMessages(file),
        name: `${role}-${path.basename(file)}`,
        format: options.format,
        ingest: config.ingest,
        sink: storage.actions,
        logger: options.logger,
        metrics,
        adapters: options.adapters,
      });
    const baseline = options.baseline
      ? await load(options.baseline, 'baseline')
      : { read: 0, written: 0, dlq: 0 };
    const input = await load(options.input, 'input');
    const runner = new DetectionRunner({
      storage,
      logger: options.logger,
      registry: () => options.registry,
      overrides: options.overrides,
      rules: options.rules ?? loadRules(),
      eventTimeClock: true,
    });
    const { findings } = await runner.judgeIngested(
      0,
      Date.now() + 60_000,
      `file:input-${path.basename(options.input)}`,
    );
    const ordered = [...findings].sort(
      (a, b) =>
        a.first_ts - b.first_ts || (a.finding_id < b.finding_id ? -1 : a.finding_id > b.finding_id ? 1 : 0),
    );
    await writeFile(options.out, ordered.map((f) => `${findingLine(f)}\n`).join(''));
    return { baseline, input, findings: ordered.length, dataDir };
  } finally {
    await storage.close();
    if (!options.keep) await rm(dataDir, { recursive: true, force: true });
  }
}
