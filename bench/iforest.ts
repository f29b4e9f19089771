import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../common/paths.js';
import { createRandom, rocAuc, trainIsolationForest } from '../detectors/models/isolation-forest.js';

/**
 * npm run bench:iforest — isolation forests on one generated data set (100,000 rows × 16
 * features, 1% planted outliers, deterministic), measured in one run:
 *
 *   (a) naive    `ml-isolation-forest` 0.1.0 as is: 100 trees, each on all rows (in a child
 *                process with a time limit; if it fails, measured on fewer rows and
 *                extrapolated, and labelled so)
 *   (b) wrapper  detectors/models/isolation-forest.ts: 100 trees, ψ = 256, seeded
 *   (c) sklearn  scikit-learn's IsolationForest(n_estimators=100, max_samples=256,
 *                random_state=SEED) via bench/iforest_sklearn.py on the same rows (a temp CSV);
 *                its fit + score_samples timed inside Python
 *
 * Times are training + scoring every row. (b) and (c) are repeated REPEATS times and the
 * median is reported (the first, cold, run of (b) is shown too); (a) runs once. Every AUC is
 * computed here with the same rank-based (Mann–Whitney, ties averaged) rocAuc, from the scores
 * each method returns; scikit-learn's own roc_auc_score of its scores is shown as a
 * cross-check. Prints a table; the last line is one JSON object, `ratio` = (b) time / (c) time.
 */

const ROWS = 100_000;
const FEATURES = 16;
const OUTLIER_EVERY = 100; // 1%
const DATA_SEED = 2026;
const MODEL_SEED = 42;
const TREES = 100;
const SAMPLE_SIZE = 256;
const REPEATS = 3;
const NAIVE_TIMEOUT_S = 600;
const NAIVE_FALLBACK_ROWS = 20_000;

interface Dataset {
  rows: number[][];
  labels: Uint8Array;
}

/**
 * Inliers: four Gaussian clusters (centres in [−4, 4]^16, per-feature spreads 0.5–1.5,
 * neighbouring features correlated). Every 100th row is a planted outlier: half are uniform in
 * [−9, 9]^16 (global, easy), half are an inlier of some cluster pushed 3–5 spreads along three
 * random features (local, hard: the other 13 features look normal).
 */
function generate(n: number): Dataset {
  const random = createRandom(DATA_SEED, 0);
  const gaussian = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const clusters = Array.from({ length: 4 }, () => ({
    centre: Array.from({ length: FEATURES }, () => -4 + 8 * random()),
    spread: Array.from({ length: FEATURES }, () => 0.5 + random()),
  }));
  const rows: number[][] = [];
  const labels = new Uint8Array(n);
  const z = new Float64Array(FEATURES);
  for (let i = 0; i < n; i += 1) {
    const { centre, spread } = clusters[Math.floor(random() * clusters.length)] ?? { centre: [], spread: [] };
    for (let j = 0; j < FEATURES; j += 1) z[j] = gaussian();
    const x = Array.from(
      { length: FEATURES },
      (_, j) => (centre[j] ?? 0) + (spread[j] ?? 1) * ((z[j] ?? 0) + 0.6 * (z[(j + 1) % FEATURES] ?? 0)),
    );
    if (i % OUTLIER_EVERY === OUTLIER_EVERY / 2) {
      labels[i] = 1;
      if (random() < 0.5) {
        for (let j = 0; j < FEATURES; j += 1) x[j] = -9 + 18 * random();
      } else {
        for (let m = 0; m < 3; m += 1) {
          const j = Math.floor(random() * FEATURES);
          x[j] = (x[j] ?? 0) + (random() < 0.5 ? -1 : 1) * (spread[j] ?? 1) * (3 + 2 * random());
        }
      }
    }
    rows.push(x);
  }
  return { rows, labels };
}

function writeCsv(file: string, { rows, labels }: Dataset): void {
  const header = [...Array.from({ length: FEATURES }, (_, j) => `f${String(j)}`), 'label'].join(',');
  // String(v) is the shortest round-tripping decimal, so Python parses the very same doubles.
  const lines = rows.map((row, i) => `${row.join(',')},${String(labels[i] ?? 0)}`);
  writeFileSync(file, `${header}\n${lines.join('\n')}\n`);
}

const seconds = (ms: number): number => ms / 1000;
const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};
const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;

// ---------------------------------------------------------------------------------------------
// (a) the package as is, in a child process

interface NaiveResult {
  rows: number;
  train_s: number;
  score_s: number;
  auc: number;
  heap_mb: number;
}

interface PackageForest {
  train(trainingSet: number[][]): void;
  predict(data: number[][]): number[];
}

/** Child mode: `node dist/bench/iforest.js --naive ROWS` prints one NaiveResult line. */
function naiveChild(n: number): void {
  const { rows, labels } = generate(n);
  const loaded: unknown = createRequire(import.meta.url)('ml-isolation-forest');
  const Forest: unknown =
    typeof loaded === 'object' && loaded !== null ? Reflect.get(loaded, 'IsolationForest') : undefined;
  if (typeof Forest !== 'function') throw new Error('ml-isolation-forest: IsolationForest export not found');
  const forest = Reflect.construct(Forest, [{ nEstimators: TREES }]) as PackageForest;
  const t0 = performance.now();
  forest.train(rows);
  const t1 = performance.now();
  const scores = forest.predict(rows);
  const t2 = performance.now();
  const result: NaiveResult = {
    rows: n,
    train_s: seconds(t1 - t0),
    score_s: seconds(t2 - t1),
    auc: rocAuc(scores, labels),
    heap_mb: Math.round(process.memoryUsage().heapUsed / 1e6),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runNaive(n: number, timeoutS: number): NaiveResult | string {
  const child = spawnSync(
    process.execPath,
    ['--max-old-space-size=6144', fileURLToPath(import.meta.url), '--naive', String(n)],
    { encoding: 'utf8', timeout: timeoutS * 1000, maxBuffer: 1 << 20 },
  );
  if (child.error) return `${child.error.message} (limit ${String(timeoutS)} s)`;
  if (child.status !== 0) return `exit ${String(child.status ?? child.signal)}: ${child.stderr.slice(-300)}`;
  const last = child.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as NaiveResult;
}

// ---------------------------------------------------------------------------------------------
// (c) scikit-learn

interface SklearnResult {
  rows: number;
  fit_s: number[];
  score_s: number[];
  total_s: number[];
  sklearn_roc_auc: number;
  sklearn_version: string;
  numpy_version: string;
}

/**
 * The first Python that imports sklearn: $SCOPEWATCH_PYTHON, python3 on PATH, or Debian's
 * /usr/bin/python3 (python3-sklearn installs there; a pyenv python3 on PATH does not see it).
 */
function findPython(): string {
  const candidates = [process.env.SCOPEWATCH_PYTHON, 'python3', '/usr/bin/python3'].filter(
    (c): c is string => c !== undefined && c !== '',
  );
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import sklearn'], { encoding: 'utf8' });
    if (probe.status === 0) return python;
  }
  throw new Error(
    `no python with scikit-learn among ${candidates.join(', ')} (apt-get install python3-sklearn)`,
  );
}

function runSklearn(
  python: string,
  csv: string,
  scoresFile: string,
): { result: SklearnResult; scores: Float64Array } {
  const script = path.join(packageRoot(), 'bench', 'iforest_sklearn.py');
  const child = spawnSync(python, [script, csv, scoresFile, String(REPEATS), String(MODEL_SEED)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (child.status !== 0) throw new Error(`iforest_sklearn.py failed: ${child.stderr}`);
  const result = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '') as SklearnResult;
  const bytes = readFileSync(scoresFile);
  const scores = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { result, scores };
}

// ---------------------------------------------------------------------------------------------

function main(): void {
  const data = generate(ROWS);
  const dir = mkdtempSync(path.join(tmpdir(), 'scopewatch-iforest-'));
  try {
    const csv = path.join(dir, 'data.csv');
    writeCsv(csv, data);

    // (b) the wrapper
    const train: number[] = [];
    const score: number[] = [];
    let wrapperScores: Float64Array | undefined;
    let identical = true;
    for (let r = 0; r < REPEATS; r += 1) {
      const t0 = performance.now();
      const model = trainIsolationForest(data.rows, {
        trees: TREES,
        sampleSize: SAMPLE_SIZE,
        seed: MODEL_SEED,
      });
      const t1 = performance.now();
      const scores = model.scoreAll(data.rows);
      const t2 = performance.now();
      train.push(seconds(t1 - t0));
      score.push(seconds(t2 - t1));
      if (wrapperScores === undefined) wrapperScores = scores;
      else identical &&= scores.every((s, i) => s === wrapperScores?.[i]);
    }
    const wrapperTotal = train.map((t, i) => t + (score[i] ?? 0));
    const wrapperAuc = rocAuc(wrapperScores ?? [], data.labels);
    process.stderr.write(`wrapper done: ${median(wrapperTotal).toFixed(3)} s\n`);

    // (c) scikit-learn
    const python = findPython();
    const sk = runSklearn(python, csv, path.join(dir, 'sklearn-scores.f64'));
    const sklearnAuc = rocAuc(sk.scores, data.labels);
    process.stderr.write(`sklearn done: ${median(sk.result.total_s).toFixed(3)} s\n`);

    // (a) the package as is
    let naive = runNaive(ROWS, NAIVE_TIMEOUT_S);
    let naiveNote = `all ${String(ROWS)} rows`;
    let naiveExtrapolated = false;
    let naiveS: number;
    if (typeof naive === 'string') {
      const failure = naive;
      naive = runNaive(NAIVE_FALLBACK_ROWS, NAIVE_TIMEOUT_S);
      if (typeof naive === 'string')
        throw new Error(`naive failed at ${String(ROWS)} (${failure}) and fewer rows (${naive})`);
      // Training and scoring both cost ~ n·log n (every level of every tree touches every row).
      const factor = (ROWS * Math.log2(ROWS)) / (naive.rows * Math.log2(naive.rows));
      naiveS = (naive.train_s + naive.score_s) * factor;
      naiveExtrapolated = true;
      naiveNote = `FAILED on ${String(ROWS)} rows (${failure}); measured on ${String(naive.rows)}, time EXTRAPOLATED ×${factor.toFixed(2)} (n·log n), AUC is of the ${String(naive.rows)}-row run`;
    } else {
      naiveS = naive.train_s + naive.score_s;
    }
    process.stderr.write(`naive done: ${naiveS.toFixed(3)} s\n`);

    const skTotal = median(sk.result.total_s);
    const wTotal = median(wrapperTotal);
    const table: [string, string, string, string, string, string][] = [
      ['method', 'train/fit s', 'score s', 'total s', 'ROC AUC', 'notes'],
      [
        '(a) ml-isolation-forest as is',
        naive.train_s.toFixed(3),
        naive.score_s.toFixed(3),
        naiveS.toFixed(3),
        naive.auc.toFixed(4),
        `100 trees on all rows, depth ≤ ${String(Math.ceil(Math.log2(naive.rows)) + 1)}; ${naiveNote}; heap ${String(naive.heap_mb)} MB`,
      ],
      [
        '(b) wrapper (ψ = 256, seeded)',
        median(train).toFixed(3),
        median(score).toFixed(3),
        wTotal.toFixed(3),
        wrapperAuc.toFixed(4),
        `median of ${String(REPEATS)}; runs ${wrapperTotal.map((t) => t.toFixed(3)).join(' / ')}; repeats identical: ${String(identical)}`,
      ],
      [
        '(c) scikit-learn IsolationForest',
        median(sk.result.fit_s).toFixed(3),
        median(sk.result.score_s).toFixed(3),
        skTotal.toFixed(3),
        sklearnAuc.toFixed(4),
        `median of ${String(REPEATS)}; runs ${sk.result.total_s.map((t) => t.toFixed(3)).join(' / ')}; sklearn ${sk.result.sklearn_version} (${python}), its roc_auc_score ${sk.result.sklearn_roc_auc.toFixed(6)}`,
      ],
    ];
    const widths = table[0]?.map((_, c) => Math.max(...table.map((row) => row[c]?.length ?? 0))) ?? [];
    process.stdout.write(
      `iforest bench: ${String(ROWS)} rows × ${String(FEATURES)} features, ${String(data.labels.reduce((a, b) => a + b, 0))} planted outliers; time = train + score all rows\n`,
    );
    for (const row of table)
      process.stdout.write(`${row.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ')}\n`);
    const figures = {
      rows: ROWS,
      features: FEATURES,
      naive_s: round(naiveS, 3),
      naive_auc: round(naive.auc, 4),
      naive_rows: naive.rows,
      naive_extrapolated: naiveExtrapolated,
      wrapper_s: round(wTotal, 3),
      wrapper_train_s: round(median(train), 3),
      wrapper_score_s: round(median(score), 3),
      wrapper_cold_s: round(wrapperTotal[0] ?? NaN, 3),
      wrapper_auc: round(wrapperAuc, 4),
      wrapper_deterministic: identical,
      sklearn_s: round(skTotal, 3),
      sklearn_fit_s: round(median(sk.result.fit_s), 3),
      sklearn_score_s: round(median(sk.result.score_s), 3),
      sklearn_auc: round(sklearnAuc, 4),
      sklearn_own_auc: round(sk.result.sklearn_roc_auc, 4),
      auc_gap: round(wrapperAuc - sklearnAuc, 4),
      ratio: round(wTotal / skTotal, 3),
    };
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--naive') naiveChild(Number(process.argv[3] ?? ROWS));
else main();
