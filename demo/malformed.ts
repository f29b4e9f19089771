import { DAY_MS } from '../common/time.js';
import type { ActionEventInput } from '../model/action.js';
import { generateDemoEvents } from './generator.js';
import { BASE64URL, Rng, times } from './rng.js';

/**
 * Malformed messages, for testing the dead-letter path: a valid demo event broken in each of
 * the ways real producers get it wrong, as the raw bytes they would send.
 */

type WireEvent = ActionEventInput & Record<string, unknown>;
type MalformedBuilder = (base: WireEvent, baseMs: number, rng: Rng) => Buffer;

const text = (s: string): Buffer => Buffer.from(s, 'utf8');
const json = (value: unknown): Buffer => text(JSON.stringify(value));
const without = (event: WireEvent, key: string): Record<string, unknown> =>
  Object.fromEntries(Object.entries(event).filter(([k]) => k !== key));

const LATIN1_NAMES = ['José Müller', 'Renée Ångström', 'Zoë Brontë', 'François Lefèvre', 'Søren Kierkegård'];
const MAX_MESSAGE_BYTES = 256 * 1024;

/**
 * One builder per way a producer gets it wrong. Each changes a valid event in exactly one way
 * (so the dead-letter reason is unambiguous) and draws its details from the seed. None of them
 * contains a newline except the NDJSON one, so line-oriented replays see one bad line each.
 */
const MALFORMED_BUILDERS: Readonly<Record<string, MalformedBuilder>> = {
  not_json: (b, _ms, rng) =>
    text(
      `${rng.pick(['INFO', 'WARN', 'DEBUG'])} identity=${b.identity.id} action=${b.action} tool=${b.tool} latency_ms=${rng.int(3, 900)}`,
    ),
  truncated_json: (b, _ms, rng) => {
    const full = JSON.stringify(b);
    return text(full.slice(0, rng.int(1, full.length - 1)));
  },
  ndjson_two_events: (b, _ms, rng) =>
    text(`${JSON.stringify(b)}\n${JSON.stringify({ ...b, event_id: rng.hex(32) })}`),
  json_array: (b, _ms, rng) => json(times(rng.int(1, 3), () => b)),
  json_string: (b) => json(JSON.stringify(b)), // double-encoded
  json_number: (_b, ms, rng) => json(rng.chance(0.5) ? ms : rng.int(0, 9_999)),
  json_null: () => text('null'),
  empty: () => Buffer.alloc(0),
  // Latin-1 from an old producer: é is 0xE9, which is not valid UTF-8 on its own.
  invalid_utf8: (b, _ms, rng) =>
    Buffer.from(
      JSON.stringify({ ...b, args: { ...b.args, customer_name: rng.pick(LATIN1_NAMES) } }),
      'latin1',
    ),
  // A gzip member sent without the matching decompression: magic bytes, then noise.
  gzip_bytes: (_b, _ms, rng) =>
    Buffer.from([0x1f, 0x8b, 0x08, 0x00, ...times(rng.int(24, 96), () => rng.int(0x0b, 0xff))]),
  missing_identity: (b) => json(without(b, 'identity')),
  identity_as_string: (b) => json({ ...b, identity: b.identity.id }),
  missing_tool: (b) => json(without(b, 'tool')),
  unknown_action: (b, _ms, rng) =>
    json({ ...b, action: rng.pick(['deploy.prod', 'file.read', 'tool_call', 'CODE_PUSH']) }),
  unknown_outcome: (b, _ms, rng) => json({ ...b, outcome: rng.pick(['ok', 'SUCCESS', 'passed', 'fail']) }),
  ts_not_a_timestamp: (b, _ms, rng) =>
    json({
      ...b,
      ts: rng.pick(['yesterday', '2026-03-01 12:00:00', '2026-03-01T12:00:00', '03/01/2026 12:00', 'now']),
    }),
  ts_epoch_seconds: (b, ms) => json({ ...b, ts: Math.floor(ms / 1000) }),
  ts_far_future: (b, _ms, rng) =>
    json({ ...b, ts: `${rng.int(2900, 2999)}-0${rng.int(1, 9)}-1${rng.int(0, 9)}T08:00:00Z` }),
  tool_as_number: (b, _ms, rng) => json({ ...b, tool: rng.int(1, 999) }),
  args_as_string: (b, _ms, rng) => json({ ...b, args: `branch=main&force=${rng.pick(['true', 'false'])}` }),
  attributes_not_strings: (b, _ms, rng) =>
    json({ ...b, attributes: { ...b.attributes, retries: rng.int(1, 5), cached: true } }),
  event_id_too_long: (b, _ms, rng) =>
    json({ ...b, event_id: times(rng.int(5, 8), () => rng.hex(32)).join('-') }),
  foreign_schema: (b, _ms, rng) =>
    json({
      eventVersion: '1.09',
      eventSource: 's3.amazonaws.com',
      eventName: rng.pick(['GetObject', 'PutObject', 'ListBuckets']),
      userIdentity: { type: 'AssumedRole', principalId: `AROA${rng.hex(16).toUpperCase()}:${b.identity.id}` },
      eventTime: new Date(Date.UTC(2026, 0, 1) + rng.int(0, DAY_MS)).toISOString(),
    }),
  oversized: (b, _ms, rng) =>
    json({
      ...b,
      args: { ...b.args, blob: rng.chars(BASE64URL, MAX_MESSAGE_BYTES + rng.int(50 * 1024, 110 * 1024)) },
    }),
};

/** A fixed, past start so malformed samples do not depend on the clock either. */
const MALFORMED_BASE_MS = Date.UTC(2025, 5, 1);

function baseEventMs(event: ActionEventInput): number {
  return typeof event.ts === 'number' ? event.ts : Date.parse(event.ts);
}

/**
 * At least a dozen distinct kinds of bad input, each of which the ingest must dead-letter:
 * it fails strict UTF-8 decoding, `JSON.parse`, or `ActionEventSchema`, or exceeds 256 KiB.
 */
export function malformedSamples(seed: number): { kind: string; bytes: Buffer }[] {
  // A stream of its own, so the samples do not mirror the demo stream of the same seed.
  const rng = new Rng(seed ^ 0x5bd1e995);
  const events = generateDemoEvents({ seed, startMs: MALFORMED_BASE_MS + rng.int(0, 30) * DAY_MS }, 8);
  const base = rng.pick(events).event as WireEvent;
  const ms = baseEventMs(base);
  return Object.entries(MALFORMED_BUILDERS).map(([kind, build]) => ({ kind, bytes: build(base, ms, rng) }));
}
