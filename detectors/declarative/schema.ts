import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { formatZodIssues } from '../../common/zod-issues.js';

/**
 * The rule file format (docs/RULES.md): YAML documents in a Sigma-like shape, validated with
 * zod. Every error names the file, the rule and the field, so a typo in a user's rule folder
 * is found at start-up, not by a detector that silently never fires.
 */

export const RULE_LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type RuleLevel = (typeof RULE_LEVELS)[number];

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const FieldValues = z.union([Scalar, z.array(Scalar).min(1)]);
const SelectionMap = z.record(z.string().min(1), FieldValues);
export const Selection = z.union([SelectionMap, z.array(SelectionMap).min(1)]);
export type Selection = z.infer<typeof Selection>;

const DURATION = /^(\d+)\s*(ms|s|m|h|d)$/;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function durationMs(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match?.[1] || !match[2]) return undefined;
  return Number(match[1]) * (UNIT_MS[match[2]] ?? 0);
}

const Duration = z
  .string()
  .refine((s) => (durationMs(s) ?? 0) > 0, 'a positive duration such as 30s, 15m, 2h or 1d')
  .transform((s) => durationMs(s) ?? 0);

const StepName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'a name of letters, digits, _ and -');

const Step = z.strictObject({ name: StepName.optional(), where: z.string().min(1) });

const Absent = z.strictObject({
  where: z.string().min(1),
  after: z.string().min(1).default('start'),
  before: z.string().min(1),
  same: z.array(z.string().min(1)).default([]),
});

const Sequence = z.strictObject({
  by: z.enum(['session', 'identity']).default('session'),
  within: Duration,
  steps: z.array(Step).min(1).max(8),
  absent: z.array(Absent).default([]),
  same: z.array(z.string().min(1)).default([]),
  /** Pairs of `step.field` that must share a value: `[use.identity.credential, create.resource.id]`. */
  join: z.array(z.tuple([z.string().min(3), z.string().min(3)])).default([]),
});

const TestEvent = z.record(z.string(), z.unknown());
const RuleTest = z.strictObject({
  name: z.string().min(1).optional(),
  expect: z.enum(['match', 'no_match']),
  history: z.array(TestEvent).default([]),
  events: z.array(TestEvent).min(1),
});
export type RuleTest = z.infer<typeof RuleTest>;

export const RuleDocument = z.strictObject({
  title: z.string().min(1).max(200),
  id: z
    .string()
    .max(100)
    .regex(/^[a-z0-9][a-z0-9_.-]*$/, 'lowercase letters, digits, ".", "_" and "-"'),
  status: z.enum(['stable', 'test', 'experimental']).default('stable'),
  level: z.enum(RULE_LEVELS),
  description: z.string().default(''),
  author: z.string().optional(),
  references: z.array(z.string()).default([]),
  tags: z
    .array(z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/i, 'a catalogue id such as attack.t1562.008'))
    .default([]),
  logsource: z.record(z.string(), z.string()).optional(),
  falsepositives: z.array(z.string()).default([]),
  detection: z
    .record(z.string(), z.unknown())
    .refine((d) => Object.keys(d).some((k) => k !== 'condition'), 'needs at least one selection'),
  sequence: Sequence.optional(),
  tests: z.array(RuleTest).default([]),
});
export type RuleDocument = z.infer<typeof RuleDocument>;

/** A problem with a rule file: `file: rule id: field: message`. */
export class RuleFileError extends Error {
  constructor(
    readonly file: string,
    readonly rule: string,
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${file}: ${rule ? `rule ${rule}: ` : ''}${field ? `${field}: ` : ''}${detail}`);
  }
}

export interface ParsedRule {
  file: string;
  /** Position of the document in its file (1-based), for messages about rules without an id. */
  index: number;
  rule: RuleDocument;
}

/** YAML text → validated rule documents; throws RuleFileError naming file, rule and field. */
export function parseRuleFile(text: string, file: string): ParsedRule[] {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new RuleFileError(file, '', '', 'not a YAML document stream');
  const out: ParsedRule[] = [];
  docs.forEach((doc, i) => {
    const label = `#${String(i + 1)}`;
    if (doc.errors.length > 0)
      throw new RuleFileError(file, label, '', `invalid YAML: ${doc.errors[0]?.message ?? ''}`);
    let raw: unknown;
    try {
      raw = doc.toJS();
    } catch (e) {
      // An alias to an anchor of another document (each rule is its own document), or a
      // malformed alias: say where, as for any other error in the file.
      throw new RuleFileError(file, label, '', `invalid YAML: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (raw === null || raw === undefined) return;
    const id = typeof raw === 'object' && 'id' in raw && typeof raw.id === 'string' ? raw.id : label;
    const parsed = RuleDocument.safeParse(raw);
    if (!parsed.success) {
      throw new RuleFileError(file, id, '', formatZodIssues(parsed.error.issues));
    }
    out.push({ file, index: i + 1, rule: parsed.data });
  });
  return out;
}
