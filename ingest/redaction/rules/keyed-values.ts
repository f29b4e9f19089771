import { REDACTED_PREFIX } from '../fingerprint.js';
import { kindForKey, type KeyClass } from '../key-names.js';
import { isSecretValue } from '../secret-values.js';
import type { Span } from '../types.js';

/**
 * Whole values under secret-like keys (`password`, `client_secret`, `x-api-key`...): the value is
 * the secret unless it is a placeholder. Only used when no other rule found anything.
 */

/** `Authorization: Bearer x` under a secret key: keep the scheme, redact the credential. */
const AUTH_SCHEME_RE = /^(?:(Basic)|Bearer|Token|Bot)\s+/i;

export function keyedValueSpan(text: string, keyClass: KeyClass): Span | null {
  if (text.includes(REDACTED_PREFIX)) return null; // already redacted on an earlier pass
  const scheme = AUTH_SCHEME_RE.exec(text);
  if (scheme !== null) {
    const rest = text.slice(scheme[0].length);
    if (!isSecretValue(rest, keyClass)) return null;
    return { start: scheme[0].length, end: text.length, kind: scheme[1] ? 'basic_auth' : 'bearer_token' };
  }
  if (!isSecretValue(text, keyClass)) return null;
  return { start: 0, end: text.length, kind: kindForKey(keyClass) };
}
