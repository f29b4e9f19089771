import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../ingest/decode.js';

const reasonOf = (value: Buffer | null, max = 1024): string => {
  const result = decodeMessage(value, max);
  return result.kind === 'dlq' ? result.reasonCode : result.kind;
};

describe('decodeMessage', () => {
  it('decodes a JSON object', () => {
    const result = decodeMessage(Buffer.from('{"a":1}'), 1024);
    expect(result).toMatchObject({ kind: 'ok', json: { a: 1 } });
  });
  it('drops tombstones (null value) rather than dead-lettering them', () => {
    expect(reasonOf(null)).toBe('drop');
  });
  it('classifies each way bytes can fail', () => {
    expect(reasonOf(Buffer.alloc(0))).toBe('empty');
    expect(reasonOf(Buffer.alloc(2048, 0x20))).toBe('too_large');
    expect(reasonOf(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))).toBe('invalid_utf8');
    expect(reasonOf(Buffer.from('{"a":'))).toBe('invalid_json');
    expect(reasonOf(Buffer.from('not json'))).toBe('invalid_json');
    expect(reasonOf(Buffer.from('[1,2]'))).toBe('not_an_object');
    expect(reasonOf(Buffer.from('"text"'))).toBe('not_an_object');
    expect(reasonOf(Buffer.from('null'))).toBe('not_an_object');
  });
  it('says what was wrong in plain words', () => {
    const result = decodeMessage(Buffer.alloc(2048, 0x20), 1024);
    expect(result.kind === 'dlq' && result.reason).toMatch(/2048 bytes, over the 1024-byte limit/);
    const array = decodeMessage(Buffer.from('[]'), 1024);
    expect(array.kind === 'dlq' && array.reason).toBe('message must be one JSON object, got an array');
  });
});
