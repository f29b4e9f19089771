import { createHash } from 'node:crypto';

/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): one byte sequence per JSON value, so a hash or a
 * signature over evidence does not depend on key insertion order or on who serialised it.
 *
 * JCS defines strings and numbers by the ECMAScript serialisation, so JSON.stringify does those;
 * what it does not do is sort keys or refuse values JSON cannot carry. It silently drops
 * `undefined`, turns NaN into `null` and calls `toJSON` on Dates — each of which would make the
 * signed bytes say something other than what the caller handed in, so here they are errors.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Thrown for a value that has no canonical JSON form; `path` says where, e.g. `$.parts[2].ts`. */
export class CanonicalJsonError extends Error {
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`${path}: ${problem}`);
    this.name = 'CanonicalJsonError';
  }
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `$.key` where that reads unambiguously, `$["odd key"]` otherwise. */
function childPath(path: string, key: string): string {
  return IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** A surrogate not in a pair: JCS (section 3.2.2.2) requires rejecting it, it has no UTF-8 form. */
const LONE_SURROGATE = /\p{Cs}/u;

function serialiseString(text: string, path: string, what: string): string {
  if (LONE_SURROGATE.test(text))
    throw new CanonicalJsonError(path, `${what} contains a lone UTF-16 surrogate`);
  return JSON.stringify(text);
}

/** Only literals and `Object.create(null)`: anything with its own prototype has its own meaning. */
function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function kindOf(value: object): string {
  const name: unknown = (value.constructor as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && name !== '' ? `a ${name}` : 'a non-plain object';
}

/**
 * `ancestors` holds the objects on the path from the root only, so a value shared by two
 * branches is fine (it is serialised twice) while a value that contains itself is a cycle.
 */
function serialise(value: unknown, path: string, ancestors: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return serialiseString(value, path, 'string');
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(path, `number must be finite, got ${value}`);
      return JSON.stringify(value);
    case 'undefined':
      throw new CanonicalJsonError(path, 'value is undefined (evidence must be explicit: use null)');
    case 'bigint':
      throw new CanonicalJsonError(path, 'bigint has no JSON form (convert it to a string or number)');
    case 'function':
    case 'symbol':
      throw new CanonicalJsonError(path, `a ${typeof value} has no JSON form`);
    case 'object':
      break;
  }
  if (value === null) return 'null';
  if (ancestors.has(value)) throw new CanonicalJsonError(path, 'cyclic reference');
  ancestors.add(value);
  try {
    return Array.isArray(value)
      ? serialiseArray(value, path, ancestors)
      : serialiseObject(value, path, ancestors);
  } finally {
    ancestors.delete(value);
  }
}

function serialiseArray(array: readonly unknown[], path: string, ancestors: Set<object>): string {
  const items: string[] = [];
  // Index loop rather than map(): map skips holes, and a hole is an undefined that must be reported.
  for (let i = 0; i < array.length; i++) items.push(serialise(array[i], `${path}[${i}]`, ancestors));
  return `[${items.join(',')}]`;
}

function serialiseObject(object: object, path: string, ancestors: Set<object>): string {
  if (!isPlainObject(object)) {
    throw new CanonicalJsonError(path, `${kindOf(object)} is not a plain object or array`);
  }
  if (Object.getOwnPropertySymbols(object).length > 0) {
    throw new CanonicalJsonError(path, 'symbol-keyed properties have no JSON form');
  }
  const record = object as Record<string, unknown>;
  // Default sort compares UTF-16 code units, which is exactly the order RFC 8785 section 3.2.3 asks for.
  const keys = Object.keys(record).sort();
  const members = keys.map((key) => {
    const member = childPath(path, key);
    return `${serialiseString(key, member, 'key')}:${serialise(record[key], member, ancestors)}`;
  });
  return `{${members.join(',')}}`;
}

/** The RFC 8785 canonical text of `value`; throws CanonicalJsonError for anything JSON cannot say. */
export function canonicalize(value: unknown): string {
  return serialise(value, '$', new Set());
}

/** The bytes that get hashed and signed: UTF-8 of the canonical text. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalize(value), 'utf8');
}

/** Lowercase hex SHA-256; strings are hashed as UTF-8. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
