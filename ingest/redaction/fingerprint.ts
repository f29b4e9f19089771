import { createHash } from 'node:crypto';
import type { Found, SecretKind, Span } from './types.js';

/**
 * Replacing secrets: each span becomes `[REDACTED:<kind>:sha256:<16 hex>]`. The fingerprint lets
 * analysts see that two events used the same secret without storing it.
 */

export const REDACTED_PREFIX = '[REDACTED:';

export function fingerprintSecret(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 16)}`;
}

function marker(kind: SecretKind, fingerprint: string): string {
  return `${REDACTED_PREFIX}${kind}:${fingerprint}]`;
}

/** Replaces each span by its marker; `spans` are sorted and disjoint. */
export function applySpans(text: string, spans: readonly Span[], found: Found[]): string {
  let out = '';
  let at = 0;
  for (const span of spans) {
    const fingerprint = fingerprintSecret(text.slice(span.start, span.end));
    out += text.slice(at, span.start) + marker(span.kind, fingerprint);
    at = span.end;
    found.push({ kind: span.kind, fingerprint });
  }
  return out + text.slice(at);
}
