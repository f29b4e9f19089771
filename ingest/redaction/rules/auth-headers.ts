import { isPlaceholder } from '../secret-values.js';
import { next, skipFrom, suffixSpan, type Alternative, type Verdict } from './alternative.js';

/** `Bearer <token>` and `Basic <base64>` credentials in free text; the scheme word stays. */

function judgeBearer(m: RegExpExecArray, groups: Partial<Record<string, string>>, nested: RegExp): Verdict {
  const raw = groups.btok ?? '';
  const start = m.index + m[0].length - raw.length;
  const token = raw.replace(/\.+$/, ''); // a sentence may end right after the token
  if (nested.test(token)) return skipFrom(start);
  // Prose ("the bearer instrument") has no digits and is short; real tokens are random.
  if (!/[0-9]/.test(token) && token.length < 24) return next(m);
  if (isPlaceholder(token, 'secret')) return next(m);
  return { secret: true, start, end: start + token.length, kind: 'bearer_token' };
}

/** `Basic` is only a credential when it decodes to printable `user:password`. */
function judgeBasic(m: RegExpExecArray, groups: Partial<Record<string, string>>): Verdict {
  const token = groups.basictok ?? '';
  const decoded = Buffer.from(token, 'base64').toString('latin1');
  if (!/^[\x20-\x7e]+:[\x20-\x7e]*$/.test(decoded)) return next(m);
  return suffixSpan(m, token.length, 'basic_auth');
}

export const BEARER_TOKEN: Alternative = {
  group: 'bearer',
  source: String.raw`(?:Bearer|bearer|BEARER)\s+(?<btok>[A-Za-z0-9._~+/=-]{8,})`,
  bounded: true,
  judge: judgeBearer,
};

export const BASIC_AUTH: Alternative = {
  group: 'basic',
  source: String.raw`(?:Basic|basic|BASIC)\s+(?<basictok>[A-Za-z0-9+/]{6,}={0,2})`,
  bounded: true,
  judge: judgeBasic,
};
