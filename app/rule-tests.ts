import {
  DEFAULT_RULE_DETECTOR,
  createHighImpactDetector,
  createSequenceDetector,
} from '../detectors/declarative/detector.js';
import type { CompiledRule } from '../detectors/declarative/compile.js';
import type { RuleTest } from '../detectors/declarative/schema.js';
import { DEFAULT_ENGINE_OPTIONS, DetectionEngine } from '../detectors/engine.js';
import { createPipeline } from '../ingest/pipeline.js';
import type { DetectorEvent } from '../model/detector-event.js';

/**
 * `scopewatch rules test`: every rule's embedded cases, run the way detection runs them — the
 * events go through the ingest pipeline (validation, normalisation, redaction) and a detection
 * engine holding only that rule. `history` is learned as the identity's baseline (and counts as
 * a warmed-up one, however short), `events` are judged; a case passes when the rule fired on at
 * least one of them (`match`) or on none (`no_match`).
 */

export interface RuleTestResult {
  file: string;
  rule: string;
  name: string;
  expect: 'match' | 'no_match';
  passed: boolean;
  /** What happened: the findings' titles, or why the case could not run. */
  detail: string;
}

const BASE_TS = Date.UTC(2026, 0, 5, 9, 0, 0);
const pipeline = createPipeline({ maxMessageBytes: 1024 * 1024, argsMaxBytes: 8 * 1024 });

/** A test case's event with the defaults filled in, through the real pipeline. */
function toEvent(raw: Record<string, unknown>, id: string, ts: number): DetectorEvent {
  const event = {
    event_id: id,
    ts: new Date(ts).toISOString(),
    identity: { id: 'rule-test' },
    tool: 'test',
    ...raw,
  };
  const result = pipeline({
    value: Buffer.from(JSON.stringify(event)),
    format: 'canonical',
    coordinates: {
      origin: 'file',
      topic: 'file:rules-test',
      partition: 0,
      offset: '0',
      key: '',
      timestampMs: ts,
    },
  });
  if (result.kind !== 'ok') throw new Error(`${id}: ${result.kind === 'dlq' ? result.reason : 'dropped'}`);
  const [row] = result.rows;
  if (!row) throw new Error(`${id}: no event`);
  return row;
}

function runCase(rule: CompiledRule, test: RuleTest, index: number): RuleTestResult {
  const name = test.name ?? `case ${String(index + 1)}`;
  const base = { file: rule.file, rule: rule.id, name, expect: test.expect };
  let history: DetectorEvent[];
  let events: DetectorEvent[];
  try {
    history = test.history.map((e, j) => toEvent(e, `t${String(index)}-h${String(j)}`, BASE_TS + j * 1000));
    const start = BASE_TS + test.history.length * 1000;
    events = test.events.map((e, j) => toEvent(e, `t${String(index)}-e${String(j)}`, start + j * 1000));
  } catch (e) {
    return { ...base, passed: false, detail: `invalid test event: ${(e as Error).message}` };
  }
  const config = {
    ...DEFAULT_RULE_DETECTOR,
    warmupEvents: Math.min(DEFAULT_RULE_DETECTOR.warmupEvents, history.length || 1),
  };
  const detector = rule.sequence
    ? createSequenceDetector([rule], config)
    : createHighImpactDetector([rule], config);
  const engine = new DetectionEngine({
    ...DEFAULT_ENGINE_OPTIONS,
    detectors: [detector],
    registry: null,
    now: (e) => e.ts,
  });
  for (const e of history) engine.learnOnly(e);
  const fired = events.flatMap((e) => engine.process(e));
  const matched = fired.length > 0;
  const detail = matched
    ? fired.map((f) => `${f.severity} ${String(f.score)}: ${f.explanation}`).join(' | ')
    : 'no finding';
  return { ...base, passed: matched === (test.expect === 'match'), detail };
}

export function runRuleTests(rules: readonly CompiledRule[]): RuleTestResult[] {
  return rules.flatMap((rule) => rule.tests.map((test, i) => runCase(rule, test, i)));
}
