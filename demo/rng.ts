/**
 * Seeded randomness for the whole demo: the one PRNG every value derives from (no
 * Math.random, no clock), the random ids and strings drawn from it in the formats real
 * systems emit, and `times`, the small list builder the scripts and malformed samples share.
 */

const HEX_SCRATCH = Buffer.alloc(64);

interface WeightTable<K extends string> {
  entries: readonly (readonly [K, number])[];
  total: number;
}
/** Weight records are static tables; their entries and total are computed once, not per draw. */
const weightTables = new WeakMap<object, WeightTable<string>>();
function weightTable<K extends string>(weights: Readonly<Record<K, number>>): WeightTable<K> {
  const cached = weightTables.get(weights) as WeightTable<K> | undefined;
  if (cached) return cached;
  const entries = Object.entries(weights) as [K, number][];
  const table = { entries, total: entries.reduce((sum, [, w]) => sum + w, 0) };
  weightTables.set(weights, table);
  return table;
}

/**
 * sfc32 seeded through splitmix32. Small and fast, and its 128-bit state keeps random ids
 * unique across millions of events (a 32-bit-state generator like mulberry32 would repeat).
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    // Fold the high bits of large seeds in too, so seeds 1 and 2**32 + 1 differ.
    let s = (Math.trunc(seed) ^ Math.trunc(seed / 2 ** 32)) >>> 0;
    const splitmix32 = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = splitmix32();
    this.b = splitmix32();
    this.c = splitmix32();
    this.d = splitmix32();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.uint32() / 4_294_967_296;
  }

  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.float() * items.length)];
    if (item === undefined) throw new Error('cannot pick from an empty list');
    return item;
  }

  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const { entries, total } = weightTable(weights);
    let r = this.float() * total;
    for (const [key, w] of entries) {
      r -= w;
      if (r < 0) return key;
    }
    const last = entries.at(-1);
    if (last === undefined) throw new Error('cannot pick from empty weights');
    return last[0];
  }

  /** Exponential with the given mean: gaps between independent arrivals. */
  exp(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }

  chars(alphabet: string, length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet.charAt(Math.floor(this.float() * alphabet.length));
    return out;
  }

  /** Lowercase hex; through a byte buffer because ids and span ids make this the hot path. */
  hex(length: number): string {
    const words = Math.ceil(length / 8);
    const scratch = words <= HEX_SCRATCH.length / 4 ? HEX_SCRATCH : Buffer.alloc(words * 4);
    for (let i = 0; i < words; i++) scratch.writeUInt32BE(this.uint32(), i * 4);
    return scratch.toString('hex', 0, words * 4).slice(0, length);
  }
}

const CROCKFORD32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** Alphabets for `Rng.chars`: fake secrets and oversized payloads draw from them. */
export const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const BASE64URL = `${BASE62}-_`;

/** UUIDv7: 48-bit ms time, then random bits: sortable and unique, like modern SDKs emit. */
export function uuid7(ms: number, rng: Rng): string {
  const t = ms.toString(16).padStart(12, '0');
  const variant = '89ab'.charAt(rng.int(0, 3));
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${rng.hex(3)}-${variant}${rng.hex(3)}-${rng.hex(12)}`;
}

/** ULID: 10 Crockford chars of time + 16 of randomness. */
export function ulid(ms: number, rng: Rng): string {
  let time = '';
  for (let t = ms, i = 0; i < 10; i++, t = Math.floor(t / 32)) time = CROCKFORD32.charAt(t % 32) + time;
  return time + rng.chars(CROCKFORD32, 16);
}

export const times = <T>(n: number, make: (i: number) => T): T[] =>
  Array.from({ length: n }, (_, i) => make(i));
