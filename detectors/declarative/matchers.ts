import { BlockList, isIP } from 'node:net';

/**
 * Field modifiers (`tool|startswith`, `args.cidrIp|cidr`): each compiles a rule's values into a
 * test over one field's values. Plain values match like Sigma: the whole value, ignoring case,
 * with `*` and `?` wildcards. A field with several values (a path through arrays) matches when
 * any of them does.
 */

export type Scalar = string | number | boolean | null;
export type ValueTest = (values: readonly string[]) => boolean;

export const MODIFIERS = [
  'glob',
  'contains',
  'startswith',
  'endswith',
  're',
  'i',
  'cidr',
  'exists',
  'gt',
  'gte',
  'lt',
  'lte',
  'all',
  'cased',
] as const;
export type Modifier = (typeof MODIFIERS)[number];

export class MatcherError extends Error {}

export function isModifier(name: string): name is Modifier {
  return (MODIFIERS as readonly string[]).includes(name);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+^${}()|[\]\\]/g, '\\$&');
}

/** A Sigma wildcard pattern as a whole-value, case-insensitive test. */
function globTest(pattern: string): (value: string) => boolean {
  if (!/[*?]/.test(pattern)) {
    const lower = pattern.toLowerCase();
    return (value) => value.length === lower.length && value.toLowerCase() === lower;
  }
  const re = new RegExp(`^${escapeRegExp(pattern).replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'is');
  return (value) => re.test(value);
}

function cidrTest(block: string): (value: string) => boolean {
  const [address, bits] = block.split('/');
  const family = isIP(address ?? '');
  const prefix = Number(bits);
  if (
    !address ||
    family === 0 ||
    !Number.isInteger(prefix) ||
    prefix < 0 ||
    prefix > (family === 4 ? 32 : 128)
  )
    throw new MatcherError(`"${block}" is not a CIDR block (e.g. 10.0.0.0/8, ::/0)`);
  const list = new BlockList();
  list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  return (value) => {
    const f = isIP(value);
    return f !== 0 && list.check(value, f === 4 ? 'ipv4' : 'ipv6');
  };
}

function numberTest(op: 'gt' | 'gte' | 'lt' | 'lte', bound: number): (value: string) => boolean {
  return (value) => {
    if (value.trim() === '') return false;
    const x = Number(value);
    if (Number.isNaN(x)) return false;
    if (op === 'gt') return x > bound;
    if (op === 'gte') return x >= bound;
    if (op === 'lt') return x < bound;
    return x <= bound;
  };
}

function one(modifiers: ReadonlySet<Modifier>, raw: Scalar): (value: string) => boolean {
  if (raw === null) return (value) => value === '';
  const pattern = String(raw);
  const lower = pattern.toLowerCase();
  if (modifiers.has('re')) {
    try {
      const re = new RegExp(pattern, modifiers.has('i') ? 'i' : '');
      return (value) => re.test(value);
    } catch (e) {
      throw new MatcherError(`invalid regular expression: ${(e as Error).message}`);
    }
  }
  if (modifiers.has('cidr')) return cidrTest(pattern);
  for (const op of ['gt', 'gte', 'lt', 'lte'] as const)
    if (modifiers.has(op)) {
      if (typeof raw !== 'number') throw new MatcherError(`|${op} needs a number, got "${pattern}"`);
      return numberTest(op, raw);
    }
  if (modifiers.has('contains')) return (value) => value.toLowerCase().includes(lower);
  if (modifiers.has('startswith')) return (value) => value.toLowerCase().startsWith(lower);
  if (modifiers.has('endswith')) return (value) => value.toLowerCase().endsWith(lower);
  if (modifiers.has('cased')) return (value) => value === pattern;
  return globTest(pattern);
}

const EXCLUSIVE: readonly Modifier[] = [
  'glob',
  'contains',
  'startswith',
  'endswith',
  're',
  'cidr',
  'exists',
  'cased',
];

/** Compiles one `field|modifiers: values` entry into a test over the field's values. */
export function compileValueTest(modifiers: readonly Modifier[], values: readonly Scalar[]): ValueTest {
  const set = new Set(modifiers);
  const kinds = EXCLUSIVE.filter((m) => set.has(m)).concat(
    (['gt', 'gte', 'lt', 'lte'] as const).filter((m) => set.has(m)),
  );
  if (kinds.length > 1)
    throw new MatcherError(`modifiers ${kinds.map((k) => `|${k}`).join(' ')} cannot combine`);
  if (set.has('i') && !set.has('re')) throw new MatcherError('|i applies to |re only');
  if (values.length === 0) throw new MatcherError('needs at least one value');
  if (set.has('exists')) {
    const [want] = values;
    if (values.length !== 1 || typeof want !== 'boolean')
      throw new MatcherError('|exists takes true or false');
    return (fieldValues) => fieldValues.some((v) => v !== '') === want;
  }
  const tests = values.map((v) => one(set, v));
  const nullAllowed = values.includes(null);
  if (set.has('all')) return (fieldValues) => tests.every((test) => fieldValues.some((v) => test(v)));
  return (fieldValues) => {
    if (fieldValues.length === 0) return nullAllowed;
    for (const v of fieldValues) for (const test of tests) if (test(v)) return true;
    return false;
  };
}
