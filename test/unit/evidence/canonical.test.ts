import { describe, expect, it } from 'vitest';
import {
  CanonicalJsonError,
  canonicalBytes,
  canonicalize,
  sha256Hex,
  type Json,
} from '../../../evidence/canonical.js';

/** The error canonicalize throws for `value`, so a test can check both its class and its path. */
const errorOf = (value: unknown): CanonicalJsonError => {
  try {
    canonicalize(value);
  } catch (error) {
    if (error instanceof CanonicalJsonError) return error;
    throw error;
  }
  throw new Error('expected canonicalize to throw');
};

/** RFC 8785 appendix B gives its number cases as IEEE 754 bit patterns; read them the same way. */
const fromBits = (hex: string): number => {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
};

describe('canonicalize (RFC 8785)', () => {
  it('sorts keys by UTF-16 code units, as in the section 3.2.3 example', () => {
    const input = JSON.parse(
      '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh",' +
        '"1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control",' +
        '"\\u00f6":"Latin Small Letter O With Diaeresis"}',
    ) as Json;
    // Compared as text: parsing it back would put the integer-like key "1" first again.
    expect(canonicalize(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control",' +
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",' +
        '"\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
    expect(canonicalize({ '\u20ac': 1, '\r': 2, '1': 3, '\ud83d\ude00': 4, '\u00f6': 5 })).toBe(
      '{"\\r":2,"1":3,"\u00f6":5,"\u20ac":1,"\ud83d\ude00":4}',
    );
  });

  it('reproduces the section 3.2.2 example, text and UTF-8 bytes', () => {
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],' +
        '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    ) as Json;
    const expected =
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
      '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}';
    expect(canonicalize(input)).toBe(expected);
    const bytes = canonicalBytes(input);
    expect(bytes.equals(Buffer.from(expected, 'utf8'))).toBe(true);
    // The euro sign goes out as raw UTF-8, not as an escape.
    expect(bytes.includes(Buffer.from([0xe2, 0x82, 0xac]))).toBe(true);
  });

  it('serialises numbers as ECMAScript does (appendix B)', () => {
    const cases: [string, string][] = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [bits, text] of cases) expect(canonicalize(fromBits(bits)), bits).toBe(text);
  });

  it('serialises the familiar numbers the same way', () => {
    expect(canonicalize([0, -0, 1e21, 1e-7, 333333333.3333333, 0.1, 5e-324])).toBe(
      '[0,0,1e+21,1e-7,333333333.3333333,0.1,5e-324]',
    );
    expect(canonicalize(1.7976931348623157e308)).toBe('1.7976931348623157e+308');
    expect(canonicalize(9007199254740992)).toBe('9007199254740992');
  });

  it('handles nested structures and literals', () => {
    const value = {
      z: [{ b: null, a: [true, false, []] }, {}],
      a: { nested: { deeper: 'x', also: 1.5 } },
      empty: '',
    };
    expect(canonicalize(value)).toBe(
      '{"a":{"nested":{"also":1.5,"deeper":"x"}},"empty":"","z":[{"a":[true,false,[]],"b":null},{}]}',
    );
    expect(canonicalize(null)).toBe('null');
    expect(canonicalize('plain')).toBe('"plain"');
    expect(canonicalize(Object.assign(Object.create(null) as object, { b: 1, a: 2 }))).toBe('{"a":2,"b":1}');
  });

  it('gives the same text however the keys were inserted', () => {
    const forward: Record<string, Json> = {};
    const backward: Record<string, Json> = {};
    const keys = ['id', 'ts', 'parts', '\u00e9', 'Z', 'a', '10', '9'];
    for (const key of keys) forward[key] = { [key]: key, x: [1, { q: 2, p: 3 }] };
    for (const key of [...keys].reverse()) backward[key] = { x: [1, { p: 3, q: 2 }], [key]: key };
    expect(canonicalize(forward)).toBe(canonicalize(backward));
    expect(sha256Hex(canonicalBytes(forward))).toBe(sha256Hex(canonicalBytes(backward)));
  });

  it('serialises a value shared by two branches twice: only a cycle is an error', () => {
    const shared = { v: 1 };
    expect(canonicalize({ a: shared, b: [shared] })).toBe('{"a":{"v":1},"b":[{"v":1}]}');
  });
});

describe('canonicalize errors name the JSON path', () => {
  it('rejects non-finite numbers', () => {
    expect(errorOf({ parts: [{}, {}, { ts: NaN }] }).message).toBe(
      '$.parts[2].ts: number must be finite, got NaN',
    );
    expect(errorOf([Infinity]).message).toMatch(/^\$\[0\]: number must be finite, got Infinity/);
    expect(errorOf({ x: -Infinity }).path).toBe('$.x');
  });

  it('rejects undefined, also as a property value or an array hole', () => {
    expect(errorOf(undefined).message).toMatch(/^\$: value is undefined/);
    expect(errorOf({ parts: [1, 2, { ts: undefined }] }).message).toMatch(
      /^\$\.parts\[2\]\.ts: value is undefined/,
    );
    // eslint-disable-next-line no-sparse-arrays
    expect(errorOf([1, , 3]).path).toBe('$[1]');
  });

  it('rejects functions, symbols and bigints', () => {
    expect(errorOf({ f: () => 1 }).message).toMatch(/^\$\.f: a function has no JSON form/);
    expect(errorOf({ s: Symbol('s') }).message).toMatch(/^\$\.s: a symbol has no JSON form/);
    expect(errorOf({ n: 10n }).message).toMatch(/^\$\.n: bigint has no JSON form/);
    expect(errorOf({ [Symbol('k')]: 1 }).message).toMatch(/^\$: symbol-keyed properties/);
  });

  it('rejects objects that are not plain', () => {
    class Finding {
      id = 'f1';
    }
    expect(errorOf({ at: new Date(0) }).message).toBe('$.at: a Date is not a plain object or array');
    expect(errorOf({ m: new Map() }).message).toMatch(/^\$\.m: a Map is not a plain object/);
    expect(errorOf([new Finding()]).message).toMatch(/^\$\[0\]: a Finding is not a plain object/);
    expect(errorOf({ b: Buffer.from('x') }).path).toBe('$.b');
  });

  it('rejects cycles', () => {
    const self: Record<string, unknown> = { a: 1 };
    self.self = self;
    expect(errorOf(self).message).toBe('$.self: cyclic reference');
    const list: unknown[] = [];
    list.push({ inner: list });
    expect(errorOf(list).message).toBe('$[0].inner: cyclic reference');
  });

  it('rejects lone surrogates, which have no UTF-8 form', () => {
    expect(errorOf({ s: 'a\ud800b' }).message).toMatch(/^\$\.s: string contains a lone UTF-16 surrogate/);
    expect(errorOf({ 'odd key\udc00': 1 }).message).toMatch(/^\$\["odd key\\udc00"\]: key contains/);
  });

  it('quotes keys that are not identifiers in the path', () => {
    expect(errorOf({ 'a b': { 'c-d': [undefined] } }).path).toBe('$["a b"]["c-d"][0]');
  });
});

describe('sha256Hex', () => {
  it('hashes strings as UTF-8 and bytes as given', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex(new Uint8Array([0x61, 0x62, 0x63]))).toBe(sha256Hex('abc'));
    expect(sha256Hex('\u20ac')).toBe(sha256Hex(Buffer.from([0xe2, 0x82, 0xac])));
  });
});
