import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { silentLogger } from '../common/logger.js';
import { analyze } from '../app/analyze.js';
import { evalDir } from './suites.js';
import { splitsOf, type Split } from './splits.js';

/**
 * npm run eval — detection quality on real third-party data. For every suite in the shared
 * eval folder (SCOPEWATCH_EVAL_DIR, default ../shared/eval next to the repository): run
 * `analyze` exactly as a user would (baseline, then input), score the findings with the
 * suite's score.py, score the reference new-terms detector the same way, print one table.
 * labels.json is read only by score.py, never by scopewatch.
 */

const run = promisify(execFile);

const SuiteFile = z.object({ format: z.string().min(1), description: z.string().optional() });
const Score = z.object({
  recall: z.number().nullable(),
  fpr: z.number().nullable(),
  precision: z.number().nullable(),
  auc: z.number().nullable(),
  recall_at_fpr05: z.number().nullable(),
  positives: z.number(),
  negatives: z.number(),
});
type Score = z.infer<typeof Score>;

export interface SuiteResult {
  suite: string;
  format: string;
  findings: number;
  ours: Score;
  reference: Score;
  /** The same findings scored on held-out parts of the suite (eval/splits.ts). */
  splits: { name: string; ours: Score }[];
}

async function score(dir: string, suiteDir: string, arg: string): Promise<Score> {
  const { stdout } = await run('python3', [path.join(dir, 'score.py'), suiteDir, arg]);
  return Score.parse(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}'));
}

export async function evaluateSuite(dir: string, suite: string, work: string): Promise<SuiteResult> {
  const suiteDir = path.join(dir, suite);
  const { format } = SuiteFile.parse(JSON.parse(readFileSync(path.join(suiteDir, 'suite.json'), 'utf8')));
  const out = path.join(work, `${suite}.findings.jsonl`);
  const baseline = path.join(suiteDir, 'baseline.jsonl.gz');
  const result = await analyze({
    baseline: existsSync(baseline) ? baseline : undefined,
    input: path.join(suiteDir, 'input.jsonl.gz'),
    format,
    out,
    registry: null,
    logger: silentLogger,
  });
  if (result.input.dlq > 0 || result.baseline.dlq > 0)
    throw new Error(`${suite}: ${String(result.input.dlq + result.baseline.dlq)} records dead-lettered`);
  const splits: SuiteResult['splits'] = [];
  for (const [i, split] of (await splitsOf(suiteDir, format)).entries())
    splits.push({
      name: split.name,
      ours: await scoreSplit(dir, suiteDir, work, `${suite}@${String(i)}`, split, out),
    });
  return {
    suite,
    format,
    findings: result.findings,
    ours: await score(dir, suiteDir, out),
    reference: await score(dir, suiteDir, '--reference'),
    splits,
  };
}

/** score.py on a copy of the suite holding only the split's labelled groups. */
async function scoreSplit(
  dir: string,
  suiteDir: string,
  work: string,
  name: string,
  split: Split,
  findings: string,
): Promise<Score> {
  const part = path.join(work, name);
  await mkdir(part, { recursive: true });
  await copyFile(path.join(suiteDir, 'suite.json'), path.join(part, 'suite.json'));
  await writeFile(path.join(part, 'labels.json'), JSON.stringify({ groups: split.groups }));
  return score(dir, part, findings);
}

const fmt = (x: number | null): string => (x === null ? '–' : x.toFixed(3));

/** One table: each suite's held-out parts, the whole suite first. */
export function formatSplits(results: readonly SuiteResult[]): string {
  const header = ['suite', 'part', 'pos', 'neg', 'recall', 'fpr', 'auc', 'r@fpr.05'];
  const row = (suite: string, name: string, s: Score): string[] => [
    suite,
    name,
    String(s.positives),
    String(s.negatives),
    fmt(s.recall),
    fmt(s.fpr),
    fmt(s.auc),
    fmt(s.recall_at_fpr05),
  ];
  const rows = results
    .filter((r) => r.splits.length > 0)
    .flatMap((r) => [row(r.suite, 'whole', r.ours), ...r.splits.map((s) => row('', s.name, s.ours))]);
  return table(header, rows);
}

function table(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function formatTable(results: readonly SuiteResult[]): string {
  const header = [
    'suite',
    'findings',
    'recall',
    'fpr',
    'precision',
    'auc',
    'r@fpr.05',
    'ref recall',
    'ref fpr',
    'ref auc',
  ];
  const rows = results.map((r) => [
    r.suite,
    String(r.findings),
    fmt(r.ours.recall),
    fmt(r.ours.fpr),
    fmt(r.ours.precision),
    fmt(r.ours.auc),
    fmt(r.ours.recall_at_fpr05),
    fmt(r.reference.recall),
    fmt(r.reference.fpr),
    fmt(r.reference.auc),
  ]);
  return table(header, rows);
}

async function main(): Promise<void> {
  const dir = evalDir();
  if (!existsSync(path.join(dir, 'score.py'))) {
    process.stdout.write(`eval skipped: no evaluation suites at ${dir} (set SCOPEWATCH_EVAL_DIR)\n`);
    return;
  }
  const only = process.argv.slice(2);
  const suites = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(dir, d.name, 'suite.json')))
    .map((d) => d.name)
    .filter((name) => only.length === 0 || only.includes(name))
    .sort();
  const work = await mkdtemp(path.join(os.tmpdir(), 'scopewatch-eval-'));
  try {
    const results: SuiteResult[] = [];
    for (const suite of suites) results.push(await evaluateSuite(dir, suite, work));
    process.stdout.write(
      `${formatTable(results)}\n\nheld-out parts (eval/splits.ts)\n${formatSplits(results)}\n`,
    );
    process.stdout.write(
      `${JSON.stringify(Object.fromEntries(results.map((r) => [r.suite, { ...r.ours, reference: r.reference, splits: r.splits }])))}\n`,
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
