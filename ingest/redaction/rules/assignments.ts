import { classifyKey, kindForKey } from '../key-names.js';
import { isAssignedSecret } from '../secret-values.js';
import { skipFrom, type Alternative, type Verdict } from './alternative.js';

/**
 * `password=...`-style assignments in free text (shell commands, headers, unparsable JSON): the
 * key before the separator is judged by the key-name rules.
 */

/** Case-insensitive literal without the `i` flag (the token formats are case-sensitive). */
function ci(word: string): string {
  return word.replace(/[a-z]/gi, (ch) => `[${ch.toLowerCase()}${ch.toUpperCase()}]`);
}

/** Words that start a candidate key in free text; `classifyKey` then judges the whole key. */
const ASSIGNMENT_KEYWORDS = ['pass', 'pwd', 'secret', 'token', 'key', 'credential', 'creds', 'auth', 'cookie']
  .map(ci)
  .join('|');

/** Start of the identifier that ends where the keyword match begins (`DB_` in `DB_PASSWORD=`). */
function keyStartBefore(text: string, index: number): number {
  let i = index;
  // Bounded like the key tail in the regex: long identifier runs must stay linear.
  while (i > 0 && index - i < 64 && /[A-Za-z0-9_.-]/.test(text.charAt(i - 1))) i--;
  return i;
}

function judgeAssignment(
  m: RegExpExecArray,
  groups: Partial<Record<string, string>>,
  nested: RegExp,
  text: string,
): Verdict {
  const quoted = groups.aqv;
  const raw = quoted ?? groups.av ?? '';
  const valueStart = m.index + m[0].length - raw.length;
  const key = text.slice(keyStartBefore(text, m.index), m.index + (groups.akey ?? '').length);
  const keyClass = classifyKey(key);
  if (keyClass === null) return skipFrom(valueStart);
  const sep = groups.asep ?? '';
  // `--password hunter2x` is a CLI flag; `secret ingredient` is prose.
  if (sep.trim() === '' && !key.startsWith('-')) return skipFrom(valueStart);
  // A bare colon joins identifier parts (`arn:...:secret:prod/db`, `vault:secret:x`); YAML and
  // headers put a space after it and JSON quotes the value.
  if (sep === ':' && quoted === undefined) return skipFrom(valueStart);
  const value = quoted ?? raw.replace(/\.+$/, '');
  if (nested.test(value) || !isAssignedSecret(value, keyClass)) return skipFrom(valueStart);
  return { secret: true, start: valueStart, end: valueStart + value.length, kind: kindForKey(keyClass) };
}

export const ASSIGNMENT: Alternative = {
  // key, optional closing quote (also JSON-escaped \"), separator, then a quoted or bare value.
  group: 'assign',
  source: String.raw`(?<akey>(?:${ASSIGNMENT_KEYWORDS})[A-Za-z0-9_.-]{0,64})\\?["']?(?<asep>\s*[:=]\s*|\s+)(?:\\?["'](?<aqv>[^"'\\\n]{1,256})(?=\\?["'])|(?<av>[^\s"'\`\\&,;<>)\]}]{8,}))`,
  judge: judgeAssignment,
};
