import type { DetectorEvent } from '../../model/detector-event.js';
import {
  ConditionError,
  evaluateCondition,
  parseCondition,
  selectionsOf,
  type Condition,
} from './condition.js';
import { fieldReader, type FieldReader } from './fields.js';
import {
  compileValueTest,
  isModifier,
  MatcherError,
  type Modifier,
  type Scalar,
  type ValueTest,
} from './matchers.js';
import { RuleFileError, Selection, type ParsedRule, type RuleLevel, type RuleTest } from './schema.js';

/**
 * A validated rule document compiled into predicates: selections become functions over one
 * event and what the baseline knows, conditions become trees over selection names, steps and
 * absences get their indices. Compilation is where every reference is checked.
 */

/** What a baseline predicate can ask about (docs/RULES.md). */
export const BASELINE_TERMS = [
  'tool',
  'resource',
  'resource_prefix',
  'domain',
  'destination',
  'credential',
  'action',
  'tool_resource',
] as const;
export type BaselineTerm = (typeof BASELINE_TERMS)[number];

const PREDICATES = ['new_for_identity', 'seen_for_identity', 'new_in_session'] as const;
type Predicate = (typeof PREDICATES)[number];

/** The baseline as a rule sees it for one event (strictly before the event). */
export interface BaselineView {
  /** The event has a value of this kind and the identity's history does not. */
  isNew(term: BaselineTerm): boolean;
  /** The event has a value of this kind and the identity's history has it. */
  isSeen(term: BaselineTerm): boolean;
  /** The event's value of this kind did not appear earlier in the session. */
  newInSession(term: BaselineTerm): boolean;
}

export interface MatchInput {
  event: DetectorEvent;
  baseline: BaselineView;
}

export type SelectionTest = (input: MatchInput) => boolean;

/**
 * The fields a gate reads: every event has them, they take few distinct values, and most
 * rules pin one of them.
 */
const GATED_FIELDS = ['action', 'tool', 'resource_type', 'source_format', 'outcome'] as const;
export type GateKey = Pick<DetectorEvent, (typeof GATED_FIELDS)[number]>;

/** Three-valued: known to hold, known not to, or depends on more than the gated fields. */
type Tri = boolean | undefined;

/**
 * A selection judged on the gated fields only: false when it cannot match an event with these
 * values, true when it matches whatever else the event holds (every key it tests is gated),
 * undefined when that depends on the rest. Lets the detectors skip every rule that cannot
 * match an event, and reuse what the gated fields decide, per distinct combination of them.
 */
type SelectionGate = (key: GateKey) => Tri;

export interface CompiledStep {
  name: string;
  condition: Condition;
}

export interface CompiledAbsence {
  /** The expression as written, for explanations. */
  where: string;
  condition: Condition;
  /** Index of the step after which the absence starts; -1 = the start of the window. */
  after: number;
  before: number;
  same: FieldReader[];
  sameNames: string[];
}

/** Two steps' fields that must share a value. */
export interface CompiledJoin {
  left: number;
  leftField: FieldReader;
  right: number;
  rightField: FieldReader;
}

export interface CompiledSequence {
  by: 'session' | 'identity';
  withinMs: number;
  steps: CompiledStep[];
  absent: CompiledAbsence[];
  same: FieldReader[];
  sameNames: string[];
  joins: CompiledJoin[];
}

export interface CompiledRule {
  id: string;
  title: string;
  level: RuleLevel;
  status: 'stable' | 'test' | 'experimental';
  description: string;
  tags: string[];
  file: string;
  /** Baseline terms the rule's predicates ask about (new_in_session needs session memory). */
  sessionTerms: BaselineTerm[];
  selections: ReadonlyMap<string, SelectionTest>;
  /**
   * The selections the gated fields decide for events with these values (see SelectionGate),
   * and whether any of the rule's conditions (its condition, or a step or absence of its
   * sequence) may then hold: false only when none can.
   */
  gateFor: (key: GateKey) => { mayMatch: boolean; known: ReadonlyMap<string, boolean> };
  condition: Condition | undefined;
  sequence: CompiledSequence | undefined;
  tests: RuleTest[];
}

function isBaselineTerm(value: unknown): value is BaselineTerm {
  return typeof value === 'string' && (BASELINE_TERMS as readonly string[]).includes(value);
}

function predicateTest(predicate: Predicate, terms: readonly BaselineTerm[]): SelectionTest {
  if (predicate === 'new_for_identity') return ({ baseline }) => terms.some((t) => baseline.isNew(t));
  if (predicate === 'seen_for_identity') return ({ baseline }) => terms.some((t) => baseline.isSeen(t));
  return ({ baseline }) => terms.some((t) => baseline.newInSession(t));
}

interface MapCompilation {
  test: SelectionTest;
  sessionTerms: BaselineTerm[];
  gate: SelectionGate;
}

/** The event field a rule field name reads, when it is gated (`resource.type` → resource_type). */
function gatedField(field: string): keyof GateKey | undefined {
  const name = field === 'resource.type' ? 'resource_type' : field;
  return (GATED_FIELDS as readonly string[]).includes(name) ? (name as keyof GateKey) : undefined;
}

function compileMap(
  map: Record<string, Scalar | Scalar[]>,
  fail: (field: string, msg: string) => never,
): MapCompilation {
  const tests: SelectionTest[] = [];
  const sessionTerms: BaselineTerm[] = [];
  const gates: ((key: GateKey) => boolean)[] = [];
  let ungated = false;
  for (const [key, raw] of Object.entries(map)) {
    const values = Array.isArray(raw) ? raw : [raw];
    if ((PREDICATES as readonly string[]).includes(key)) {
      const terms = values.filter(isBaselineTerm);
      if (terms.length !== values.length)
        fail(key, `takes one or more of ${BASELINE_TERMS.join(', ')}, got ${JSON.stringify(raw)}`);
      if (key === 'new_in_session') sessionTerms.push(...terms);
      tests.push(predicateTest(key as Predicate, terms));
      ungated = true;
      continue;
    }
    const [field = '', ...mods] = key.split('|');
    const reader = fieldReader(field);
    if (!reader)
      fail(
        key,
        `unknown field "${field}" (see docs/RULES.md: canonical fields, args.<path>, attributes.<key>)`,
      );
    const unknown = mods.filter((m) => !isModifier(m));
    if (unknown.length > 0) fail(key, `unknown modifier ${unknown.map((m) => `|${m}`).join(' ')}`);
    let valueTest: ValueTest;
    try {
      valueTest = compileValueTest(mods as Modifier[], values);
    } catch (e) {
      if (e instanceof MatcherError) fail(key, e.message);
      throw e;
    }
    tests.push(({ event }) => valueTest(reader(event)));
    // The same test, on a gated field, is the selection's necessary condition there.
    // (read as the field reader does: an empty value is no value).
    const gated = gatedField(field);
    if (gated) gates.push((key) => valueTest(key[gated] ? [key[gated]] : []));
    else ungated = true;
  }
  if (tests.length === 0) fail('', 'an empty selection matches everything: name at least one field');
  return {
    test: (input) => tests.every((t) => t(input)),
    sessionTerms,
    gate: (key) => (gates.every((g) => g(key)) ? (ungated ? undefined : true) : false),
  };
}

function compileSelection(raw: unknown, fail: (field: string, msg: string) => never): MapCompilation {
  const parsed = Selection.safeParse(raw);
  if (!parsed.success)
    fail('', 'a selection is a map of field: value(s), or a list of such maps (any may match)');
  const maps = Array.isArray(parsed.data) ? parsed.data : [parsed.data];
  const compiled = maps.map((m, i) =>
    compileMap(m, (field, msg) => fail(maps.length > 1 ? `${String(i)}.${field}` : field, msg)),
  );
  return {
    test: (input) => compiled.some((c) => c.test(input)),
    sessionTerms: compiled.flatMap((c) => c.sessionTerms),
    gate: (key) => {
      let result: Tri = false;
      for (const c of compiled) {
        const g = c.gate(key);
        if (g === true) return true;
        if (g === undefined) result = undefined;
      }
      return result;
    },
  };
}

function readers(
  names: readonly string[],
  fail: (field: string, msg: string) => never,
  where: string,
): FieldReader[] {
  return names.map((name, i) => {
    const reader = fieldReader(name);
    if (!reader) fail(`${where}.${String(i)}`, `unknown field "${name}"`);
    return reader;
  });
}

export function compileRule({ file, rule }: ParsedRule): CompiledRule {
  const fail = (field: string, msg: string): never => {
    throw new RuleFileError(file, rule.id, field, msg);
  };
  const selections = new Map<string, SelectionTest>();
  const gates = new Map<string, SelectionGate>();
  const sessionTerms = new Set<BaselineTerm>();
  for (const [name, raw] of Object.entries(rule.detection)) {
    if (name === 'condition') continue;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      fail(`detection.${name}`, 'selection names are letters, digits and _');
    const compiled = compileSelection(raw, (field, msg) =>
      fail(`detection.${name}${field ? `.${field}` : ''}`, msg),
    );
    selections.set(name, compiled.test);
    gates.set(name, compiled.gate);
    for (const t of compiled.sessionTerms) sessionTerms.add(t);
  }
  const names = [...selections.keys()];
  const condition = (text: unknown, field: string): Condition => {
    if (typeof text !== 'string') return fail(field, 'a condition expression (e.g. "sel and not filter")');
    try {
      return parseCondition(text, names);
    } catch (e) {
      if (e instanceof ConditionError) return fail(field, e.message);
      throw e;
    }
  };
  let single: Condition | undefined;
  let sequence: CompiledSequence | undefined;
  if (rule.sequence) {
    const seq = rule.sequence;
    const steps = seq.steps.map((s, i) => ({
      name: s.name ?? `step${String(i + 1)}`,
      condition: condition(s.where, `sequence.steps.${String(i)}.where`),
    }));
    const stepNames = steps.map((s) => s.name);
    if (new Set(stepNames).size !== stepNames.length) fail('sequence.steps', 'step names must differ');
    const indexOf = (name: string, field: string): number => {
      if (name === 'start') return -1;
      const i = stepNames.indexOf(name);
      if (i < 0) fail(field, `"${name}" is not a step (steps: ${stepNames.join(', ')}, or start)`);
      return i;
    };
    const absent = seq.absent.map((a, i) => {
      const at = `sequence.absent.${String(i)}`;
      const after = indexOf(a.after, `${at}.after`);
      const before = indexOf(a.before, `${at}.before`);
      if (before <= after) fail(`${at}.before`, `"${a.before}" must come after "${a.after}"`);
      return {
        where: a.where,
        condition: condition(a.where, `${at}.where`),
        after,
        before,
        same: readers(a.same, fail, `${at}.same`),
        sameNames: a.same,
      };
    });
    const stepField = (ref: string, field: string): { step: number; reader: FieldReader } => {
      const dot = ref.indexOf('.');
      const name = ref.slice(0, dot);
      const step = dot > 0 ? stepNames.indexOf(name) : -1;
      if (step < 0)
        return fail(field, `"${ref}" must be <step>.<field> with a step of ${stepNames.join(', ')}`);
      const reader = fieldReader(ref.slice(dot + 1));
      if (!reader) return fail(field, `unknown field "${ref.slice(dot + 1)}"`);
      return { step, reader };
    };
    const joins = seq.join.map(([l, r], i) => {
      const left = stepField(l, `sequence.join.${String(i)}.0`);
      const right = stepField(r, `sequence.join.${String(i)}.1`);
      return { left: left.step, leftField: left.reader, right: right.step, rightField: right.reader };
    });
    sequence = {
      joins,
      by: seq.by,
      withinMs: seq.within,
      steps,
      absent,
      same: readers(seq.same, fail, 'sequence.same'),
      sameNames: seq.same,
    };
  } else {
    if (!('condition' in rule.detection)) fail('detection.condition', 'required (or give a sequence)');
    single = condition(rule.detection.condition, 'detection.condition');
  }
  const conditions = single
    ? [single]
    : [...(sequence?.steps ?? []), ...(sequence?.absent ?? [])].map((c) => c.condition);
  return {
    id: rule.id,
    title: rule.title,
    level: rule.level,
    gateFor: (key) => {
      const known = new Map<string, boolean>();
      const values = new Map<string, Tri>();
      for (const [name, gate] of gates) {
        const value = gate(key);
        values.set(name, value);
        if (value !== undefined) known.set(name, value);
      }
      // A name with no selection is never true (parseCondition rejects such names anyway).
      const mayMatch = conditions.some(
        (c) => judge(c, (name) => (values.has(name) ? values.get(name) : false)) !== false,
      );
      return { mayMatch, known };
    },
    status: rule.status,
    description: rule.description,
    tags: rule.tags,
    file,
    sessionTerms: [...sessionTerms],
    selections,
    condition: single,
    sequence,
    tests: rule.tests,
  };
}

/** Kleene's three-valued AND over values (undefined: unknown). */
function and3(values: readonly Tri[]): Tri {
  if (values.some((v) => v === false)) return false;
  return values.every((v) => v === true) ? true : undefined;
}

function or3(values: readonly Tri[]): Tri {
  if (values.some((v) => v === true)) return true;
  return values.every((v) => v === false) ? false : undefined;
}

/** A condition under three-valued logic: false only when it is false whatever the unknowns are. */
function judge(condition: Condition, value: (name: string) => Tri): Tri {
  switch (condition.op) {
    case 'ref':
      return value(condition.name);
    case 'not': {
      const inner = judge(condition.arg, value);
      return inner === undefined ? undefined : !inner;
    }
    case 'and':
      return and3(condition.args.map((c) => judge(c, value)));
    case 'or':
      return or3(condition.args.map((c) => judge(c, value)));
    case 'any':
      return or3(condition.names.map(value));
    case 'all':
      return and3(condition.names.map(value));
  }
}

/**
 * One event's selection results, shared by every rule judged on it: keyed by the compiled
 * selection (each rule's own), so no per-rule map is built.
 */
export type SelectionCache = Map<SelectionTest, boolean>;

/** A rule that may match an event, with the selections its gated fields already decide. */
export interface Candidate {
  rule: CompiledRule;
  known: ReadonlyMap<string, boolean>;
}

/**
 * The rules that may match events with each combination of the gated fields, in the given
 * order: computed once per combination and kept (bounded: the cache starts over past `limit`).
 */
export class RuleIndex {
  /** action → tool → resource type → source format → outcome → candidates (no key built per event). */
  private readonly byKey = new Map<
    string,
    Map<string, Map<string, Map<string, Map<string, readonly Candidate[]>>>>
  >();
  private size = 0;

  constructor(
    private readonly rules: readonly CompiledRule[],
    private readonly limit = 50_000,
  ) {}

  candidates(event: GateKey): readonly Candidate[] {
    const byOutcome = this.level(
      this.level(this.level(this.level(this.byKey, event.action), event.tool), event.resource_type),
      event.source_format,
    );
    let found = byOutcome.get(event.outcome);
    if (found === undefined) {
      if (this.size >= this.limit) {
        this.byKey.clear();
        this.size = 0;
        return this.candidates(event);
      }
      this.size += 1;
      const key: GateKey = {
        action: event.action,
        tool: event.tool,
        resource_type: event.resource_type,
        source_format: event.source_format,
        outcome: event.outcome,
      };
      found = this.rules.flatMap((rule) => {
        const { mayMatch, known } = rule.gateFor(key);
        return mayMatch ? [{ rule, known }] : [];
      });
      byOutcome.set(event.outcome, found);
    }
    return found;
  }

  private level<V>(map: Map<string, Map<string, V>>, key: string): Map<string, V> {
    let next = map.get(key);
    if (next === undefined) {
      next = new Map();
      map.set(key, next);
    }
    return next;
  }
}

/**
 * Evaluates a condition of `rule` for one event, each selection at most once; `known` holds
 * selections already decided (by the event's gated fields).
 */
export function holds(
  rule: CompiledRule,
  condition: Condition,
  input: MatchInput,
  cache: SelectionCache,
  known?: ReadonlyMap<string, boolean>,
): boolean {
  return evaluateCondition(condition, (name) => {
    const decided = known?.get(name);
    if (decided !== undefined) return decided;
    const test = rule.selections.get(name);
    if (test === undefined) return false;
    let result = cache.get(test);
    if (result === undefined) {
      result = test(input);
      cache.set(test, result);
    }
    return result;
  });
}

export { selectionsOf };
