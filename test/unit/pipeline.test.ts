import { describe, expect, it } from 'vitest';
import type { RawMessage } from '../../ingest/message.js';
import { createPipeline } from '../../ingest/pipeline.js';
import { capArgs, deriveEventId, normalizeDomain } from '../../ingest/normalize.js';

const pipeline = createPipeline({ maxMessageBytes: 64 * 1024, argsMaxBytes: 512 });

function message(value: unknown, format = 'canonical'): RawMessage {
  const bytes = typeof value === 'string' ? Buffer.from(value) : Buffer.from(JSON.stringify(value));
  return {
    value: bytes,
    format,
    coordinates: {
      origin: 'kafka',
      topic: 'agent-actions',
      partition: 2,
      offset: '41',
      key: 'bot',
      timestampMs: 1,
    },
  };
}

const event = {
  event_id: 'e-1',
  ts: '2026-03-01T12:00:00Z',
  identity: { id: 'support-agent', type: 'agent', owner: 'team-support', credential: 'akid:AK1' },
  session: 's-1',
  action: 'network.egress',
  tool: 'http.post',
  target_domain: 'Paste.Example.COM.',
  args: { url: 'https://paste.example.com/new', body: 'hello' },
  attributes: { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' },
};

describe('ingest pipeline', () => {
  it('turns a canonical event into one flat row with coordinates', () => {
    const result = pipeline(message(event));
    expect(result.kind).toBe('ok');
    if (result.kind !== 'ok') return;
    const [row] = result.rows;
    expect(row).toMatchObject({
      event_id: 'e-1',
      ts: Date.parse('2026-03-01T12:00:00Z'),
      schema_version: 'scopewatch.action/v1',
      source_format: 'canonical',
      identity_id: 'support-agent',
      identity_type: 'agent',
      target_domain: 'paste.example.com',
      outcome: 'unknown',
      resource_id: '',
      kafka_topic: 'agent-actions',
      kafka_partition: 2,
      kafka_offset: '41',
    });
    expect(JSON.parse(row?.args ?? '')).toEqual(event.args);
  });

  it('derives a deterministic event id when the producer sent none', () => {
    const { event_id: _omit, ...anonymous } = event;
    const a = pipeline(message(anonymous));
    const b = pipeline(message(anonymous));
    expect(a.kind === 'ok' && b.kind === 'ok').toBe(true);
    if (a.kind !== 'ok' || b.kind !== 'ok') return;
    expect(a.rows[0]?.event_id).toMatch(/^sw1-[0-9a-f]{32}$/);
    expect(a.rows[0]?.event_id).toBe(b.rows[0]?.event_id);
    expect(deriveEventId('x', Buffer.from('a'), 0)).not.toBe(deriveEventId('x', Buffer.from('a'), 1));
  });

  it('dead-letters schema violations with every offending field named', () => {
    const result = pipeline(message({ ...event, tool: 5, action: 'nope' }));
    expect(result.kind).toBe('dlq');
    if (result.kind !== 'dlq') return;
    expect(result.reasonCode).toBe('schema_violation');
    expect(result.reason).toContain('tool:');
    expect(result.reason).toContain('action:');
    expect(result.error).toMatchObject({
      topic: 'agent-actions',
      partition: 2,
      offset: '41',
      reason_code: 'schema_violation',
    });
  });

  it('dead-letters an unknown format by name', () => {
    const result = pipeline(message(event, 'protobuf'));
    expect(result.kind === 'dlq' && result.reason).toMatch(/unknown format "protobuf"/);
  });

  it('never stores a secret from a rejected message', () => {
    const token = ['gh', 'p_', 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'].join('');
    const bad = pipeline(message(`{"identity":{"id":"x"},"args":{"auth":"${token}"}`));
    expect(bad.kind).toBe('dlq');
    if (bad.kind !== 'dlq') return;
    expect(bad.error.raw).not.toContain(token);
    expect(bad.error.redactions.length).toBeGreaterThan(0);
    const unparsable = pipeline(message(`not json but has ${token}`));
    expect(unparsable.kind === 'dlq' && unparsable.error.raw).not.toContain(token);
  });

  it('redacts secrets in args and attributes and keeps fingerprints', () => {
    const secret = ['sk-ant-', 'api03-', 'Zx9'.repeat(20)].join('');
    const result = pipeline(message({ ...event, args: { headers: { authorization: `Bearer ${secret}` } } }));
    expect(result.kind).toBe('ok');
    if (result.kind !== 'ok') return;
    const row = result.rows[0];
    expect(row?.args).not.toContain(secret);
    expect(row?.redactions[0]?.path).toBe('args.headers.authorization');
    expect(row?.redactions[0]?.fingerprint).toMatch(/^sha256:[0-9a-f]{16}$/);
  });
});

describe('normalisation helpers', () => {
  it('caps oversized args into a valid JSON summary', () => {
    const big = { blob: 'x'.repeat(5000) };
    const capped = capArgs(big, 512);
    const parsed = JSON.parse(capped.args) as Record<string, unknown>;
    expect(parsed._truncated).toBe(true);
    expect(parsed.bytes).toBe(capped.bytes);
    expect(capped.bytes).toBeGreaterThan(5000);
    expect(capped.args.length).toBeLessThan(1024);
    expect(capArgs({ a: 1 }, 512)).toEqual({ args: '{"a":1}', bytes: 7 });
    expect(capArgs(undefined, 512)).toEqual({ args: '', bytes: 0 });
  });
  it('normalises domains', () => {
    expect(normalizeDomain(' API.GitHub.com. ')).toBe('api.github.com');
    expect(normalizeDomain(undefined)).toBe('');
  });
});
