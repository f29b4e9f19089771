import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApiServer } from '../app/api-server.js';
import { evidenceBundle, loadSigningKeys, verifyBundleFiles } from '../app/evidence.js';
import { openStorage, type Storage } from '../app/storage.js';
import { loadConfig } from '../common/config.js';
import { silentLogger } from '../common/logger.js';
import { MetricsRegistry } from '../common/metrics.js';
import { DAY_MS } from '../common/time.js';
import { chainProblems } from '../evidence/chain.js';
import type { FindingFilter } from '../storage/findings.js';
import {
  actionCount,
  identityName,
  REVIEW_IDENTITY,
  sampleFindingIds,
  SYNTHETIC_DETECTORS,
  tableSizes,
  writeSyntheticActions,
  writeSyntheticFindings,
  writeSyntheticIdentities,
  writeSyntheticRecords,
  type SyntheticFleet,
} from '../storage/synthetic-findings.js';
import type { LoadResult, LoadSpec } from './api-load-spec.js';
import { peakRssMb, timed } from './measure.js';

/**
 * npm run bench:api — the HTTP API over a long findings history, on the embedded engine:
 *  1. load, inside ClickHouse: BENCH_FINDINGS (1,000,000) findings over BENCH_IDENTITIES
 *     (10,000) registered identities and 90 days, their detection records (hash-chained) and
 *     triage history, the cited sessions' actions, and one identity (agent-00000) with
 *     BENCH_REVIEW_ACTIONS (100,000) actions over the period;
 *  2. the API as `scopewatch run` starts it (startApiServer: config keys, rate limit raised out
 *     of the way) on 127.0.0.1 at a random port;
 *  3. load from a second process (bench/api-load.ts, autocannon), one endpoint at a time:
 *     findings lists with filters and cursor pages, finding detail, evidence bundles (many
 *     different findings). First BENCH_WARMUP s from one connection sending back-to-back (warms
 *     up, and measures what one request costs with nothing else running: the capacity), then
 *     BENCH_DURATION s at the fixed rate. Then the access review of agent-00000, timed over a
 *     few sequential requests;
 *  4. the repository calls behind those routes timed one by one on the idle server (where the
 *     time goes).
 * Prints a table per endpoint; the last line is one JSON object.
 */

const FINDINGS = Number(process.env.BENCH_FINDINGS ?? 1_000_000);
const IDENTITIES = Number(process.env.BENCH_IDENTITIES ?? 10_000);
const REVIEW_ACTIONS = Number(process.env.BENCH_REVIEW_ACTIONS ?? 100_000);
const RATE = Number(process.env.BENCH_RATE ?? 200);
const EVIDENCE_RATE = Number(process.env.BENCH_EVIDENCE_RATE ?? 20);
const DURATION = Number(process.env.BENCH_DURATION ?? 20);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 8);
/** Checks every link of every chain after loading (reads all 1M links: slow, off by default). */
const CHAIN_CHECK = process.env.BENCH_CHAIN_CHECK === '1';
const REVIEW_RUNS = Number(process.env.BENCH_REVIEW_RUNS ?? 5);
const DAYS = 90;

const GOALS = { list_p99_ms: 50, detail_p99_ms: 50, evidence_p99_ms: 500, review_ms: 2000 };

const round1 = (n: number): number => Math.round(n * 10) / 10;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return 0;
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** One load run in the load process; resolves with what it printed. */
function runLoad(dataDir: string, name: string, spec: LoadSpec): Promise<LoadResult> {
  const specFile = path.join(dataDir, `load-${name}.json`);
  writeFileSync(specFile, JSON.stringify(spec));
  const script = fileURLToPath(new URL('./api-load.js', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, specFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`load process for ${name} exited with ${String(code)}`));
        return;
      }
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '') as LoadResult);
      } catch (error) {
        reject(
          new Error(`load process for ${name} printed no result: ${out.slice(0, 500)}`, { cause: error }),
        );
      }
    });
  });
}

interface Client {
  get(pathWithQuery: string): Promise<{ status: number; text: string; ms: number }>;
}

function client(base: string, headers: Record<string, string>): Client {
  return {
    async get(pathWithQuery) {
      const start = performance.now();
      const response = await fetch(`${base}${pathWithQuery}`, { headers });
      const text = await response.text();
      return { status: response.status, text, ms: performance.now() - start };
    },
  };
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The list requests an analyst's UI makes: filters (status, severity, detector, identity,
 * score, time window, text), each sort, 50 or 100 per page, and the next two pages through
 * the cursor each first page returned.
 */
async function listPaths(api: Client, now: number): Promise<string[]> {
  const severities = ['low', 'medium', 'high', 'critical'];
  const statuses = ['open', 'acknowledged', 'resolved', 'false_positive'];
  const first: string[] = [];
  for (let r = 0; r < 48; r += 1) {
    const limit = r % 3 === 0 ? 50 : 100;
    const identity = identityName(Math.floor(IDENTITIES * Math.pow(((r * 7919) % 1000) / 1000, 1.5)));
    const detector = SYNTHETIC_DETECTORS[r % SYNTHETIC_DETECTORS.length] ?? 'scope.new_tool';
    const days = 1 + (r % 14);
    const windowEnd = now - (r % 30) * DAY_MS;
    const templates = [
      `status=open&severity=${severities[r % 4] ?? 'high'}`,
      `detector=${detector}&status=${statuses[r % 4] ?? 'open'}`,
      `identity=${identity}`,
      `identity=${identity}&status=open&sort=time`,
      `min_score=0.${String(7 + (r % 3))}&sort=score`,
      `sort=time&from=${iso(windowEnd - days * DAY_MS)}&to=${iso(windowEnd)}`,
      `severity=critical&status=open&sort=time`,
      `q=${['egress', 'scope', 'approval', 'tool-1'][r % 4] ?? 'egress'}&status=open`,
      `status=open`,
    ];
    first.push(`/v1/findings?${templates[r % templates.length] ?? ''}&limit=${String(limit)}`);
  }
  const paths: string[] = [];
  for (const page1 of first) {
    let current = page1;
    for (let page = 0; page < 3; page += 1) {
      paths.push(current);
      const response = await api.get(current);
      if (response.status !== 200)
        throw new Error(`${current} answered ${String(response.status)}: ${response.text.slice(0, 300)}`);
      const cursor = (JSON.parse(response.text) as { next_cursor: string | null }).next_cursor;
      if (!cursor) break;
      current = `${page1}&cursor=${encodeURIComponent(cursor)}`;
    }
  }
  return paths;
}

interface Row {
  name: string;
  offered: number;
  /** One connection, back-to-back, nothing else running. */
  sequential: LoadResult | null;
  result: LoadResult;
  goal: string;
  met: boolean;
}

function printTable(rows: readonly Row[]): void {
  const header = [
    'endpoint',
    '1-conn req/s',
    '1-conn p50',
    'offered/s',
    'achieved/s',
    'p50 ms',
    'p90 ms',
    'p99 ms',
    'max ms',
    'non-2xx',
    'errors',
    'goal',
  ];
  const lines = rows.map((r) => [
    r.name,
    String(r.sequential?.achievedRps ?? '-'),
    String(r.sequential?.latency.p50 ?? '-'),
    String(r.offered),
    String(r.result.achievedRps),
    String(r.result.latency.p50),
    String(r.result.latency.p90),
    String(r.result.latency.p99),
    String(r.result.latency.max),
    String(r.result.non2xx),
    String(r.result.errors),
    `${r.goal} ${r.met ? 'met' : 'MISSED'}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const format = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  process.stdout.write(`${format(header)}\n`);
  for (const line of lines) process.stdout.write(`${format(line)}\n`);
}

/** Median ms of `runs` sequential calls, each with its own input. */
async function repoTiming<T>(
  name: string,
  inputs: readonly T[],
  call: (input: T) => Promise<unknown>,
): Promise<number> {
  const times: number[] = [];
  for (const input of inputs) {
    const start = performance.now();
    await call(input);
    times.push(performance.now() - start);
  }
  const ms = round1(median(times));
  process.stdout.write(
    `  ${name.padEnd(44)} median ${String(ms).padStart(7)} ms   max ${String(round1(Math.max(...times))).padStart(7)} ms\n`,
  );
  return ms;
}

async function whereTimeGoes(
  storage: Storage,
  config: Parameters<typeof loadSigningKeys>[0],
  ids: readonly string[],
  now: number,
): Promise<Record<string, number>> {
  process.stdout.write('repository calls on the idle server (sequential, median of 9):\n');
  const nine = <T>(make: (i: number) => T): T[] => Array.from({ length: 9 }, (_, i) => make(i));
  const findings = await Promise.all(ids.slice(0, 9).map((id) => storage.findings.get(id)));
  const found = findings.filter((f) => f !== undefined);
  const signing = loadSigningKeys(config, silentLogger);
  const list = (filter: FindingFilter) => () => storage.findings.list(filter, 100);
  const out: Record<string, number> = {
    list_status_severity: await repoTiming(
      'findings.list status=open severity=high',
      nine(() => 0),
      list({ status: 'open', severity: 'high' }),
    ),
    list_identity: await repoTiming(
      'findings.list identity=…',
      nine((i) => identityName(i * 37)),
      (identity) => storage.findings.list({ identity }, 100),
    ),
    list_text: await repoTiming(
      'findings.list q=egress status=open',
      nine(() => 0),
      list({ text: 'egress', status: 'open' }),
    ),
    page_score: await repoTiming(
      'findings.page sort=score min_score=0.8',
      nine(() => 0),
      () => storage.findings.page({ minScore: 0.8 }, 'score', 100),
    ),
    page_time_window: await repoTiming(
      'findings.page sort=time (7-day window)',
      nine((i) => i),
      (i) => storage.findings.page({ from: now - (i + 7) * DAY_MS, to: now - i * DAY_MS }, 'time', 100),
    ),
    get: await repoTiming('findings.get', ids.slice(9, 18), (id) => storage.findings.get(id)),
    with_sessions: await repoTiming('actions.withSessions (detail, cap 500)', found, (f) =>
      storage.actions.withSessions(f.identity_id, f.event_ids, 500),
    ),
    identity_by_id: await repoTiming('identities.byIds', found, (f) =>
      storage.identities.byIds([f.identity_id]),
    ),
    triage_of: await repoTiming('records.triageOf', ids.slice(18, 27), (id) => storage.records.triageOf(id)),
    for_finding: await repoTiming('records.forFinding', ids.slice(27, 36), (id) =>
      storage.records.forFinding(id),
    ),
    evidence_bundle: await repoTiming('evidenceBundle (all of the above, signed)', ids.slice(36, 45), (id) =>
      evidenceBundle(storage, id, signing),
    ),
  };
  return out;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'scopewatch-bench-api-'));
  const secret = randomBytes(24).toString('base64url');
  const config = loadConfig(
    {},
    {
      dataDir,
      logLevel: 'warn',
      // Port 0: any free port. The rate limit (SCOPEWATCH_API_RATE_LIMIT / _BURST) is raised far
      // above the offered load: this measures the API, not the limiter.
      api: {
        host: '127.0.0.1',
        port: 0,
        keys: [`admin:${secret}`],
        rateLimit: 1_000_000,
        rateBurst: 1_000_000,
      },
    },
  );
  const storage = await openStorage(config, silentLogger);
  let app: Awaited<ReturnType<typeof startApiServer>> | undefined;
  try {
    const now = Date.now();
    const fleet: SyntheticFleet = {
      start: now - DAYS * DAY_MS,
      span: DAYS * DAY_MS,
      identities: IDENTITIES,
      findings: FINDINGS,
      sessions: 5,
      sessionEvents: 40,
      reviewActions: REVIEW_ACTIONS,
    };
    const actions = actionCount(fleet);
    process.stdout.write(
      `load: ${String(FINDINGS)} findings, ${String(IDENTITIES)} identities, ${String(actions)} actions ` +
        `(${REVIEW_IDENTITY}: ${String(REVIEW_ACTIONS)}), ${String(DAYS)} days\n`,
    );
    const loadStart = performance.now();
    const identities = await timed('  identities', () => writeSyntheticIdentities(storage.gateway, fleet));
    const actionsLoad = await timed('  actions (views maintaining baselines)', () =>
      writeSyntheticActions(storage.gateway, fleet),
    );
    const findingsLoad = await timed('  findings + triage history', () =>
      writeSyntheticFindings(storage.gateway, fleet, now),
    );
    const records = await timed('  detection records, hash-chained', () =>
      writeSyntheticRecords(storage.gateway, fleet),
    );
    const loadMs = performance.now() - loadStart;
    process.stdout.write(
      `  loaded in ${(loadMs / 1000).toFixed(1)} s; ${String(records.value.links)} records in ${String(records.value.chains)} chains\n`,
    );
    const chainCheck = CHAIN_CHECK
      ? await timed('  chain check (every link, as `scopewatch verify` does)', async () =>
          chainProblems(await storage.records.links()),
        )
      : null;
    if (chainCheck && chainCheck.value.length > 0)
      process.stdout.write(`  !! CHAIN PROBLEMS: ${chainCheck.value.slice(0, 3).join('; ')}\n`);
    const sizes = await tableSizes(storage.gateway, [
      'findings',
      'finding_records',
      'finding_triage',
      'actions',
      'identities',
      'baseline_terms',
    ]);
    for (const s of sizes)
      process.stdout.write(
        `  ${s.table.padEnd(16)} ${String(s.rows).padStart(9)} rows  ${String(s.parts).padStart(3)} parts  ${(s.bytes / 1e6).toFixed(0).padStart(5)} MB\n`,
      );

    app = await startApiServer(config, storage, silentLogger, new MetricsRegistry());
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const base = `http://127.0.0.1:${String(port)}`;
    const headers = { authorization: `Bearer ${secret}` };
    const api = client(base, headers);
    process.stdout.write(`api: ${base} (startApiServer, admin key from config, rate limit 1e6/s)\n`);

    // The requests: list pages through cursors, details and bundles of many different findings.
    const lists = await listPaths(api, now);
    const ids = await sampleFindingIds(storage.gateway, 6000, 1);
    const detailPaths = ids.slice(0, 4000).map((id) => `/v1/findings/${id}`);
    const evidencePaths = ids.slice(4000, 6000).map((id) => `/v1/findings/${id}/evidence`);

    // One bundle checked end to end, as an auditor would: signature, parts, chain link.
    const pem = await api.get('/v1/keys/signing');
    const sample = await api.get(evidencePaths[0] ?? '/');
    const pemFile = path.join(dataDir, 'signing.pub.pem');
    const bundleFile = path.join(dataDir, 'sample-bundle.json');
    writeFileSync(pemFile, pem.text);
    writeFileSync(bundleFile, sample.text);
    const verification = sample.status === 200 ? verifyBundleFiles([bundleFile], pemFile) : null;
    const failedChecks = verification?.files[0]?.verification.checks.filter((c) => !c.ok) ?? [];
    process.stdout.write(
      `sample bundle (${String(Math.round(sample.text.length / 1024))} KB): ${
        verification?.ok
          ? 'verifies (signature, parts, chain link)'
          : `!! DOES NOT VERIFY (${String(sample.status)})`
      }\n`,
    );
    for (const c of failedChecks) process.stdout.write(`  !! ${c.name}: ${c.detail}\n`);

    const spec = (paths: string[], rate: number, duration: number): LoadSpec => ({
      url: base,
      headers,
      paths,
      rate,
      instances: Math.min(20, rate),
      duration,
      timeout: 10,
    });
    const phases: { name: string; paths: string[]; rate: number; goal: number }[] = [
      { name: 'findings list', paths: lists, rate: RATE, goal: GOALS.list_p99_ms },
      { name: 'finding detail', paths: detailPaths, rate: RATE, goal: GOALS.detail_p99_ms },
      { name: 'evidence bundle', paths: evidencePaths, rate: EVIDENCE_RATE, goal: GOALS.evidence_p99_ms },
    ];
    process.stdout.write(
      `load process: autocannon; per endpoint ${String(WARMUP)} s from 1 connection back-to-back, then ${String(DURATION)} s at the fixed rate; ` +
        `${String(lists.length)} list URLs, ${String(detailPaths.length)} detail ids, ${String(evidencePaths.length)} evidence ids\n`,
    );
    const rows: Row[] = [];
    for (const phase of phases) {
      // Warm-up on other requests than the measured ones where there are enough of them.
      const warmPaths = phase.paths.length > 1000 ? phase.paths.slice(-500) : phase.paths;
      const sequential =
        WARMUP > 0 ? await runLoad(dataDir, `${phase.name}-sequential`, spec(warmPaths, 0, WARMUP)) : null;
      if (sequential)
        process.stdout.write(
          `  ${phase.name}, 1 connection back-to-back: ${String(sequential.achievedRps)} req/s, ` +
            `p50 ${String(sequential.latency.p50)} ms, p99 ${String(sequential.latency.p99)} ms\n`,
        );
      const result = await runLoad(dataDir, phase.name, spec(phase.paths, phase.rate, DURATION));
      rows.push({
        name: phase.name,
        offered: phase.rate,
        sequential,
        result,
        goal: `p99 ≤ ${String(phase.goal)} ms`,
        met: result.latency.p99 <= phase.goal && result.non2xx === 0 && result.errors === 0,
      });
      process.stdout.write(
        `  ${phase.name}: p50 ${String(result.latency.p50)} ms, p99 ${String(result.latency.p99)} ms, ` +
          `${String(result.achievedRps)} req/s of ${String(phase.rate)} offered, ${String(result.non2xx)} non-2xx\n`,
      );
      if (result.non2xx > 0 || result.errors > 0) {
        process.stdout.write(
          `  !!!! ${phase.name}: ${String(result.non2xx)} NON-2XX RESPONSES, ${String(result.errors)} ERRORS ` +
            `(${String(result.timeouts)} timeouts); statuses ${JSON.stringify(result.statuses)}\n`,
        );
        for (const f of result.failures)
          process.stdout.write(`  !!!! ${String(f.status)} ${f.path}: ${f.body}\n`);
      }
    }

    // Access review of the identity with REVIEW_ACTIONS actions, over the whole period.
    const reviewPath = `/v1/identities/${REVIEW_IDENTITY}/review?from=${encodeURIComponent(iso(fleet.start))}&to=${encodeURIComponent(iso(now))}`;
    const reviewTimes: number[] = [];
    let reviewNote: string | null = null;
    for (let run = 0; run < REVIEW_RUNS; run += 1) {
      const response = await api.get(reviewPath);
      if (response.status === 404 && /no route|Route .* not found/i.test(response.text)) {
        reviewNote = `GET /v1/identities/:id/review is not served yet (404: ${response.text.slice(0, 120)})`;
        break;
      }
      if (response.status !== 200) {
        reviewNote = `review answered ${String(response.status)}: ${response.text.slice(0, 300)}`;
        process.stdout.write(`  !!!! ${reviewNote}\n`);
        break;
      }
      reviewTimes.push(response.ms);
      if (run === 0)
        process.stdout.write(
          `access review: ${String(Math.round(response.text.length / 1024))} KB response\n`,
        );
    }
    const reviewMs = reviewTimes.length > 0 ? Math.round(median(reviewTimes)) : null;
    const reviewMax = reviewTimes.length > 0 ? Math.round(Math.max(...reviewTimes)) : null;
    if (reviewMs === null)
      process.stdout.write(`access review: not measured — ${reviewNote ?? 'no response'}\n`);
    else
      process.stdout.write(
        `access review of ${REVIEW_IDENTITY} (${String(REVIEW_ACTIONS)} actions, ${String(DAYS)} days), ` +
          `${String(reviewTimes.length)} sequential requests: median ${String(reviewMs)} ms, max ${String(reviewMax)} ms ` +
          `(${reviewTimes.map((t) => String(Math.round(t))).join(', ')}); goal ≤ ${String(GOALS.review_ms)} ms ` +
          `${reviewMs <= GOALS.review_ms ? 'met' : 'MISSED'}\n`,
      );

    const repo = await whereTimeGoes(storage, config, ids.slice(100), now);

    process.stdout.write('\n');
    printTable(rows);
    const [list, detail, evidence] = rows.map((r) => r.result);
    const non2xx = rows.reduce((sum, r) => sum + r.result.non2xx + r.result.errors, 0);
    if (non2xx > 0)
      process.stdout.write(
        `!!!! ${String(non2xx)} REQUESTS FAILED (non-2xx or errors): figures are suspect\n`,
      );
    const figures = {
      findings: FINDINGS,
      identities: IDENTITIES,
      actions,
      review_actions: REVIEW_ACTIONS,
      load_s: round1(loadMs / 1000),
      load_identities_s: round1(identities.ms / 1000),
      load_actions_s: round1(actionsLoad.ms / 1000),
      load_findings_s: round1(findingsLoad.ms / 1000),
      load_records_s: round1(records.ms / 1000),
      chain_ok: chainCheck ? chainCheck.value.length === 0 : null,
      bundle_verifies: verification?.ok ?? false,
      rate: RATE,
      evidence_rate: EVIDENCE_RATE,
      duration_s: DURATION,
      list_1conn_rps: rows[0]?.sequential?.achievedRps ?? null,
      detail_1conn_rps: rows[1]?.sequential?.achievedRps ?? null,
      evidence_1conn_rps: rows[2]?.sequential?.achievedRps ?? null,
      list_p50_ms: list?.latency.p50 ?? null,
      list_p99_ms: list?.latency.p99 ?? null,
      list_rps: list?.achievedRps ?? null,
      detail_p50_ms: detail?.latency.p50 ?? null,
      detail_p99_ms: detail?.latency.p99 ?? null,
      detail_rps: detail?.achievedRps ?? null,
      evidence_p50_ms: evidence?.latency.p50 ?? null,
      evidence_p99_ms: evidence?.latency.p99 ?? null,
      evidence_rps: evidence?.achievedRps ?? null,
      review_ms: reviewMs,
      review_max_ms: reviewMax,
      review_note: reviewNote,
      non2xx,
      goals_met: {
        list: rows[0]?.met ?? false,
        detail: rows[1]?.met ?? false,
        evidence: rows[2]?.met ?? false,
        review: reviewMs === null ? null : reviewMs <= GOALS.review_ms,
      },
      repo_median_ms: repo,
      peak_rss_mb: peakRssMb(),
    };
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await app?.close();
    await storage.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
