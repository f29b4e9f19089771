import { applySpans } from './fingerprint.js';
import { classifyKey } from './key-names.js';
import { findSecrets, MIN_SCAN_LENGTH } from './scanner.js';
import type { Found, Redaction } from './types.js';

/**
 * The entry points: one string, a JSON value walked deeply (keys are the hints for their values),
 * a flat string map. Each records `{ path, kind, fingerprint }` per secret, never the value.
 */

/**
 * Subtrees nested deeper than this are replaced by `DEPTH_LIMIT_PLACEHOLDER`: a hostile message
 * of deeply nested arrays must not overflow the stack, and an unscanned subtree may not be stored.
 */
export const MAX_DEPTH = 64;
export const DEPTH_LIMIT_PLACEHOLDER = '[TRUNCATED:max-depth]';

/**
 * Redacts secrets inside one string. `keyHint` is the key (or dotted path) the string was found
 * under; when it names a secret, the whole value counts as one unless it is a placeholder.
 */
export function redactString(text: string, keyHint?: string): { text: string; redactions: Found[] } {
  const redactions: Found[] = [];
  const spans = findSecrets(text, keyHint);
  return { text: spans.length === 0 ? text : applySpans(text, spans, redactions), redactions };
}

/**
 * Where a value sits: its parent's path and its own key or index. Paths are only turned into
 * strings when a redaction is recorded, which is rare: building one per string showed up in
 * profiles.
 */
type Segment = string | number | undefined;

function pathOf(parent: string, segment: Segment): string {
  if (segment === undefined) return parent;
  if (typeof segment === 'number') return `${parent}[${String(segment)}]`;
  return joinPath(parent, segment);
}

/** Redacts one string and records each redaction under its path. */
function redactAt(
  text: string,
  keyHint: string | undefined,
  parent: string,
  segment: Segment,
  out: Redaction[],
): string {
  const spans = findSecrets(text, keyHint);
  if (spans.length === 0) return text;
  const found: Found[] = [];
  const result = applySpans(text, spans, found);
  const path = pathOf(parent, segment);
  for (const f of found) out.push({ path, kind: f.kind, fingerprint: f.fingerprint });
  return result;
}

/**
 * Object keys are data too (`{ "ghp_...": {...} }`): known formats only, no key rule. The
 * recorded path uses the redacted key, so the secret does not leak through the path either.
 */
function redactKey(key: string, parentPath: string, out: Redaction[]): string {
  if (key.length < MIN_SCAN_LENGTH) return key;
  const spans = findSecrets(key, undefined);
  if (spans.length === 0) return key;
  const found: Found[] = [];
  const safeKey = applySpans(key, spans, found);
  const path = joinPath(parentPath, safeKey);
  for (const f of found) out.push({ path, kind: f.kind, fingerprint: f.fingerprint });
  return safeKey;
}

function joinPath(base: string, key: string): string {
  return base === '' ? key : `${base}.${key}`;
}

/** `{"__proto__": ...}` from JSON.parse is an own key: define it rather than set the prototype. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/**
 * In argv arrays the secret follows its flag: `["--password", "hunter2x"]`,
 * `["aws", "configure", "set", "aws_secret_access_key", "..."]`. A flag or snake_case name
 * that names a secret becomes the key hint of the next element.
 */
function argvHint(previous: unknown): string | undefined {
  if (typeof previous !== 'string' || previous.length > 64) return undefined;
  if (!/^-{1,2}[A-Za-z]|^[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+$/.test(previous)) return undefined;
  return classifyKey(previous) === null ? undefined : previous;
}

function walk(
  value: unknown,
  parent: string,
  segment: Segment,
  keyHint: string | undefined,
  depth: number,
  out: Redaction[],
): unknown {
  if (typeof value === 'string') return redactAt(value, keyHint, parent, segment, out);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return DEPTH_LIMIT_PLACEHOLDER;
  const path = pathOf(parent, segment);
  if (Array.isArray(value)) {
    const items: readonly unknown[] = value;
    return items.map((item, i) => walk(item, path, i, argvHint(items[i - 1]) ?? keyHint, depth + 1, out));
  }
  // Dates and other toJSON objects never come from JSON.parse; they serialise without secrets.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
  const source = value as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    const safeKey = redactKey(key, path, out);
    setOwn(result, safeKey, walk(source[key], path, safeKey, key, depth + 1, out));
  }
  return result;
}

/**
 * Deep-redacts a JSON value (objects, arrays, strings; other primitives pass through). Returns
 * new containers and never mutates the input. Paths read `args.headers.Authorization`,
 * `args.items[2].token`.
 */
export function redactJson(value: unknown, basePath = ''): { value: unknown; redactions: Redaction[] } {
  const redactions: Redaction[] = [];
  const result = walk(value, basePath, undefined, basePath === '' ? undefined : basePath, 0, redactions);
  return { value: result, redactions };
}

/** Redacts a flat string map such as event `attributes`; each value is judged under its own key. */
export function redactStringMap(
  map: Record<string, string>,
  basePath: string,
): { map: Record<string, string>; redactions: Redaction[] } {
  const redactions: Redaction[] = [];
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(map)) {
    const safeKey = redactKey(key, basePath, redactions);
    setOwn(result, safeKey, redactAt(value, key, basePath, safeKey, redactions));
  }
  return { map: result, redactions };
}
