/**
 * Sigma condition expressions over selection names: `a and not (b or c)`, `1 of sel_*`,
 * `all of them`. Parsed once per rule into a tree, then compiled to a predicate over the
 * selections' results for one event. Unknown selection names are errors at load time, not
 * silently false at match time.
 */

export type Condition =
  | { op: 'ref'; name: string }
  | { op: 'not'; arg: Condition }
  | { op: 'and' | 'or'; args: Condition[] }
  | { op: 'any' | 'all'; names: string[] };

export class ConditionError extends Error {}

const TOKEN = /\s*(\(|\)|[A-Za-z_][A-Za-z0-9_*.-]*|\d+)\s*/y;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (at < text.length) {
    TOKEN.lastIndex = at;
    const match = TOKEN.exec(text);
    if (!match?.[1]) {
      if (text.slice(at).trim() === '') break;
      throw new ConditionError(`unexpected "${text.slice(at).trim()}" at position ${String(at)}`);
    }
    tokens.push(match[1]);
    at = TOKEN.lastIndex;
  }
  return tokens;
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/** Parses `text`; `names` are the selections defined by the rule (for `of` patterns and checks). */
export function parseCondition(text: string, names: readonly string[]): Condition {
  const tokens = tokenize(text);
  let i = 0;
  const peek = (): string | undefined => tokens[i];
  const next = (): string => {
    const token = tokens[i];
    if (token === undefined) throw new ConditionError('unexpected end of condition');
    i += 1;
    return token;
  };
  const keyword = (token: string | undefined, word: string): boolean => token?.toLowerCase() === word;

  const quantified = (count: string): Condition => {
    const of = next();
    if (!keyword(of, 'of')) throw new ConditionError(`expected "of" after "${count}", got "${of}"`);
    const target = next();
    const matched = keyword(target, 'them') ? [...names] : names.filter((n) => globToRegExp(target).test(n));
    if (matched.length === 0) throw new ConditionError(`"${count} of ${target}" names no selection`);
    if (count.toLowerCase() === 'all') return { op: 'all', names: matched };
    if (count !== '1' && !keyword(count, 'any'))
      throw new ConditionError(`only "1 of", "any of" and "all of" are supported, got "${count} of"`);
    return { op: 'any', names: matched };
  };

  const primary = (): Condition => {
    const token = next();
    if (token === '(') {
      const inner = disjunction();
      if (next() !== ')') throw new ConditionError('missing ")"');
      return inner;
    }
    if (keyword(token, 'not')) return { op: 'not', arg: primary() };
    if (token === '1' || keyword(token, 'all') || keyword(token, 'any')) {
      if (keyword(peek(), 'of')) return quantified(token);
    }
    if (!names.includes(token))
      throw new ConditionError(`unknown selection "${token}" (defined: ${names.join(', ') || 'none'})`);
    return { op: 'ref', name: token };
  };

  const conjunction = (): Condition => {
    const args = [primary()];
    while (keyword(peek(), 'and')) {
      i += 1;
      args.push(primary());
    }
    return args.length === 1 && args[0] ? args[0] : { op: 'and', args };
  };

  function disjunction(): Condition {
    const args = [conjunction()];
    while (keyword(peek(), 'or')) {
      i += 1;
      args.push(conjunction());
    }
    return args.length === 1 && args[0] ? args[0] : { op: 'or', args };
  }

  if (tokens.length === 0) throw new ConditionError('empty condition');
  const tree = disjunction();
  if (i < tokens.length) throw new ConditionError(`unexpected "${tokens[i] ?? ''}"`);
  return tree;
}

/** The selections a condition reads (to evaluate only those). */
export function selectionsOf(condition: Condition): string[] {
  switch (condition.op) {
    case 'ref':
      return [condition.name];
    case 'not':
      return selectionsOf(condition.arg);
    case 'and':
    case 'or':
      return [...new Set(condition.args.flatMap(selectionsOf))];
    case 'any':
    case 'all':
      return condition.names;
  }
}

/** Evaluates a condition; `holds(name)` answers (and may cache) one selection. */
export function evaluateCondition(condition: Condition, holds: (name: string) => boolean): boolean {
  switch (condition.op) {
    case 'ref':
      return holds(condition.name);
    case 'not':
      return !evaluateCondition(condition.arg, holds);
    case 'and':
      return condition.args.every((c) => evaluateCondition(c, holds));
    case 'or':
      return condition.args.some((c) => evaluateCondition(c, holds));
    case 'any':
      return condition.names.some(holds);
    case 'all':
      return condition.names.every(holds);
  }
}
