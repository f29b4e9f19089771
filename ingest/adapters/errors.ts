/**
 * An adapter's way to say "this record is not a valid <format> record": the field that failed
 * and why. The pipeline turns it into a DLQ record whose reason names the format and field.
 */
export class AdapterError extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string field, or undefined when absent/empty/not a string. */
export function str(obj: Json | undefined, key: string): string | undefined {
  const value = obj?.[key];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

export function requireString(obj: Json, key: string, path = key): string {
  const value = obj[key];
  if (value === undefined || value === null) throw new AdapterError(path, 'missing');
  if (typeof value !== 'string' || value.length === 0)
    throw new AdapterError(path, 'must be a non-empty string');
  return value;
}

export function obj(value: unknown): Json | undefined {
  return isObject(value) ? value : undefined;
}

/**
 * Cuts free text to a canonical field's limit. Sources allow longer values than the contract
 * stores (an S3 key is up to 1,024 bytes before the bucket name is prepended, user agents are
 * unbounded): a record must not be dead-lettered for being legitimately long.
 */
export function clip(value: string | undefined, max: number): string | undefined {
  return value !== undefined && value.length > max ? value.slice(0, max) : value;
}

/** Scalar attribute values as strings; objects/arrays as compact JSON; absent values dropped. */
export function attributes(entries: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(entries)) {
    if (value === undefined || value === null || value === '') continue;
    out[key] = typeof value === 'string' ? value : JSON.stringify(value);
    if (out[key].length > 8192) out[key] = out[key].slice(0, 8192);
  }
  return out;
}
