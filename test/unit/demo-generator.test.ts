import { describe, expect, it } from 'vitest';
import type { Message, Producer, ProducerRecord } from 'kafkajs';
import { silentLogger } from '../../common/logger.js';
import {
  createDemoStream,
  DEMO_RAMP_UP_LEAD_MS,
  eventsPerIdentityHourFor,
  generateDemoEvents,
} from '../../demo/generator.js';
import { malformedSamples } from '../../demo/malformed.js';
import { DEMO_APPROVERS, DEMO_IDENTITIES, REVOKED_DEMO_IDENTITY } from '../../demo/personas.js';
import { INCIDENT_KINDS, type DemoEvent } from '../../demo/types.js';
import { DEMO_HISTORY_DAYS, demoHistoryEvents } from '../../demo/history.js';
import { produceDemo } from '../../demo/produce.js';
import { ActionEventSchema, type ActionEventInput } from '../../model/action.js';

/** Fixed and in the past, so runs are reproducible and every ts passes the schema's range check. */
const START_MS = Date.UTC(2026, 0, 5, 8, 0, 0);
const MAX_MESSAGE_BYTES = 256 * 1024;

const tsMs = (event: ActionEventInput): number =>
  typeof event.ts === 'number' ? event.ts : Date.parse(event.ts);
const jsonOf = (events: DemoEvent[]): string => events.map((e) => JSON.stringify(e)).join('\n');

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

// One large sample shared by the statistical checks: generating it once keeps the file fast.
const SAMPLE = generateDemoEvents({ seed: 42, startMs: START_MS }, 20_000);
const humans = new Set(DEMO_APPROVERS);
const FIRST_MS = tsMs(
  SAMPLE[0]?.event ?? { ts: START_MS, identity: { id: '-' }, action: 'other', tool: '-' },
);
const LAST_MS = SAMPLE.reduce((max, e) => Math.max(max, tsMs(e.event)), START_MS);
/** Sessions of the non-human identities (approvers join release sessions, they do not own any). */
const SESSIONS = groupBy(
  SAMPLE.filter((e) => !humans.has(e.key)),
  (e) => e.event.session ?? '',
);
/**
 * Sessions replaced by an injected incident: besides its one tagged step, an incident may do
 * more that its identity never does (a second upload, work with a key it just created).
 */
const INCIDENT_SESSIONS = new Set(
  SAMPLE.filter((e) => e.incident !== undefined).map((e) => e.event.session ?? ''),
);
/** Events of ordinary sessions. */
const ORDINARY = SAMPLE.filter((e) => !INCIDENT_SESSIONS.has(e.event.session ?? ''));

describe('demo generator: determinism', () => {
  it('produces byte-identical JSON for the same seed and start', () => {
    const a = generateDemoEvents({ seed: 7, startMs: START_MS }, 3_000);
    const b = generateDemoEvents({ seed: 7, startMs: START_MS }, 3_000);
    expect(jsonOf(a)).toBe(jsonOf(b));
  });

  it('a stream and a batch of the same options agree', () => {
    const stream = createDemoStream({ seed: 7, startMs: START_MS });
    const streamed = Array.from({ length: 500 }, () => stream.next());
    expect(jsonOf(streamed)).toBe(jsonOf(generateDemoEvents({ seed: 7, startMs: START_MS }, 500)));
  });

  it('differs between seeds', () => {
    const a = generateDemoEvents({ seed: 1, startMs: START_MS }, 200);
    const b = generateDemoEvents({ seed: 2, startMs: START_MS }, 200);
    const idsA = new Set(a.map((e) => e.event.event_id));
    expect(b.some((e) => idsA.has(e.event.event_id))).toBe(false);
    expect(jsonOf(a)).not.toBe(jsonOf(b));
  });

  it('rejects nonsensical options', () => {
    expect(() => createDemoStream({ seed: 1, startMs: START_MS, eventsPerIdentityHour: 0 })).toThrow(
      RangeError,
    );
    expect(() => createDemoStream({ seed: 1, startMs: START_MS, incidentRate: 1.5 })).toThrow(RangeError);
    expect(() => createDemoStream({ seed: 1, startMs: Number.NaN })).toThrow(RangeError);
  });
});

describe('demo generator: events', () => {
  it('every event passes the scopewatch.action/v1 schema', () => {
    const failures = SAMPLE.map((e) => ActionEventSchema.safeParse(e.event)).filter((r) => !r.success);
    expect(failures.slice(0, 3)).toEqual([]);
  });

  it('event ids are unique and the Kafka key is the acting identity', () => {
    expect(new Set(SAMPLE.map((e) => e.event.event_id)).size).toBe(SAMPLE.length);
    expect(SAMPLE.every((e) => e.key === e.event.identity.id)).toBe(true);
  });

  it('mixes RFC 3339 and epoch-ms timestamps and starts near startMs', () => {
    expect(SAMPLE.some((e) => typeof e.event.ts === 'number')).toBe(true);
    expect(SAMPLE.some((e) => typeof e.event.ts === 'string' && e.event.ts.endsWith('Z'))).toBe(true);
    expect(SAMPLE.some((e) => typeof e.event.ts === 'string' && e.event.ts.endsWith('-05:00'))).toBe(true);
    expect(FIRST_MS).toBeGreaterThanOrEqual(START_MS);
    expect(FIRST_MS - START_MS).toBeLessThan(60_000);
  });

  it('never goes back in time for an identity', () => {
    for (const [id, events] of groupBy(SAMPLE, (e) => e.key)) {
      const times = events.map((e) => tsMs(e.event));
      const backwards = times.findIndex((t, i) => i > 0 && t < (times[i - 1] ?? 0));
      expect(backwards, `${id} goes back in time`).toBe(-1);
    }
  });

  it('sustains roughly the configured rate', () => {
    const hours = (LAST_MS - START_MS) / 3_600_000;
    // 4 active identities at the default 7,200 events per identity-hour.
    expect(SAMPLE.length / hours).toBeGreaterThan(0.8 * 4 * 7_200);
    expect(SAMPLE.length / hours).toBeLessThan(1.2 * 4 * 7_200);
  });

  it('settles at the documented ramp-up lead when paced by count', () => {
    const eventsPerSecond = 20;
    // One stream's lead swings by ±20 s with its draws (which sessions turn into incidents, how
    // long they run): average a few seeds.
    const seeds = [1, 2, 3, 4, 5, 6];
    let sum = 0;
    let count = 0;
    for (const seed of seeds) {
      const stream = createDemoStream({
        seed,
        startMs: START_MS,
        eventsPerIdentityHour: eventsPerIdentityHourFor(eventsPerSecond),
      });
      // Average how far event n runs ahead of start + n / rate, from minute 10 to minute 30.
      for (let n = 1; n <= 30 * 60 * eventsPerSecond; n++) {
        const lead = tsMs(stream.next().event) - (START_MS + (n * 1000) / eventsPerSecond);
        if (n > 10 * 60 * eventsPerSecond) {
          sum += lead;
          count += 1;
        }
      }
    }
    expect(Math.abs(sum / count - DEMO_RAMP_UP_LEAD_MS)).toBeLessThan(30_000);
  });

  it('has mostly successful outcomes with some failures and denials', () => {
    const outcomes = groupBy(SAMPLE, (e) => e.event.outcome ?? 'none');
    expect((outcomes.get('success')?.length ?? 0) / SAMPLE.length).toBeGreaterThan(0.9);
    expect(outcomes.get('failure')?.length).toBeGreaterThan(0);
    expect(outcomes.get('denied')?.length).toBeGreaterThan(0);
  });

  it('keeps args small and sometimes carries secret-looking values for redaction', () => {
    const sizes = SAMPLE.map((e) => JSON.stringify(e.event.args ?? {}).length).sort((a, b) => a - b);
    const median = sizes[Math.floor(sizes.length / 2)] ?? 0;
    expect(median).toBeGreaterThanOrEqual(100);
    expect(median).toBeLessThanOrEqual(400);
    const leaky = SAMPLE.filter((e) => /Bearer ey|"password":|ghs_DEMO/.test(JSON.stringify(e.event.args)));
    expect(leaky.length).toBeGreaterThan(0);
    expect(leaky.length / SAMPLE.length).toBeLessThan(0.1);
  });

  it('sessions have 3 to 15 actions', () => {
    // Sessions still running when the sample ends are cut short; the longest (a prod release
    // waiting up to 15 min for its approval) lasts under 30 min, so judge those done by then.
    const cutoff = LAST_MS - 30 * 60_000;
    const complete = [...SESSIONS.values()].filter((s) => s.every((e) => tsMs(e.event) < cutoff));
    expect(complete.length).toBeGreaterThan(300);
    const lengths = complete.map((s) => s.length);
    expect(Math.min(...lengths)).toBeGreaterThanOrEqual(3);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(15);
  });
});

describe('demo generator: identities', () => {
  /** Tools an identity used outside incident sessions. */
  const toolsOf = (id: string): Set<string> =>
    new Set(ORDINARY.filter((e) => e.key === id).map((e) => e.event.tool));

  it('each identity uses only its declared tools, and the mixes are distinct', () => {
    const active = DEMO_IDENTITIES.filter((i) => !i.revoked);
    expect(active.map((i) => i.id).sort()).toEqual([
      'coding-agent',
      'data-pipeline',
      'release-bot',
      'support-agent',
    ]);
    for (const identity of DEMO_IDENTITIES) {
      const seen = toolsOf(identity.id);
      expect(
        [...seen].filter((t) => !identity.tools.includes(t)),
        identity.id,
      ).toEqual([]);
      // Every identity has at least one tool nobody else uses.
      const others = DEMO_IDENTITIES.filter((i) => i.id !== identity.id).flatMap((i) => i.tools);
      expect(
        identity.tools.some((t) => !others.includes(t)),
        identity.id,
      ).toBe(true);
    }
    for (const a of active) expect(toolsOf(a.id).size, a.id).toBeGreaterThanOrEqual(4);
  });

  it('writes identity type, owner and credential as registered', () => {
    const registry = new Map(DEMO_IDENTITIES.map((i) => [i.id, i]));
    for (const e of ORDINARY.filter((x) => !humans.has(x.key)).slice(0, 2_000)) {
      const registered = registry.get(e.key);
      expect(registered, e.key).toBeDefined();
      expect(e.event.identity).toMatchObject({
        type: registered?.type,
        owner: registered?.owner,
        credential: registered?.credential,
      });
    }
  });

  it('gives each coding-agent run its own instance', () => {
    const runs = SAMPLE.filter((e) => e.key === 'coding-agent');
    expect(runs.every((e) => e.event.identity.instance === e.event.session)).toBe(true);
    expect(new Set(runs.map((e) => e.event.identity.instance)).size).toBeGreaterThan(10);
  });

  it('data-pipeline sessions open with the Snowflake secret read', () => {
    const pipeline = [...SESSIONS.values()].filter((s) => s[0]?.key === 'data-pipeline');
    expect(pipeline.length).toBeGreaterThan(100);
    for (const session of pipeline) {
      expect(session[0]?.event).toMatchObject({
        action: 'secret.read',
        resource: { id: 'vault:kv/data-pipeline/snowflake' },
      });
    }
  });

  it('the revoked identity only acts in injected incidents', () => {
    const revoked = SAMPLE.filter((e) => e.key === REVOKED_DEMO_IDENTITY);
    expect(revoked.length).toBeGreaterThan(0);
    for (const session of groupBy(revoked, (e) => e.event.session ?? '').values()) {
      expect(session[0]?.incident).toBe('revoked_identity_activity');
    }
    const quiet = generateDemoEvents({ seed: 42, startMs: START_MS, incidentRate: 0 }, 5_000);
    expect(quiet.some((e) => e.key === REVOKED_DEMO_IDENTITY)).toBe(false);
  });
});

describe('demo generator: incidents', () => {
  const tagged = SAMPLE.filter((e) => e.incident !== undefined);

  it('appear at roughly the configured rate, one tagged event per incident', () => {
    const rate = tagged.length / SESSIONS.size;
    expect(rate).toBeGreaterThan(0.03 * 0.6);
    expect(rate).toBeLessThan(0.03 * 1.4);
    const busy = generateDemoEvents({ seed: 42, startMs: START_MS, incidentRate: 0.2 }, 10_000);
    const busySessions = new Set(busy.filter((e) => !humans.has(e.key)).map((e) => e.event.session)).size;
    const busyRate = busy.filter((e) => e.incident).length / busySessions;
    expect(busyRate).toBeGreaterThan(0.2 * 0.7);
    expect(busyRate).toBeLessThan(0.2 * 1.3);
    expect(
      generateDemoEvents({ seed: 42, startMs: START_MS, incidentRate: 0 }, 5_000).some((e) => e.incident),
    ).toBe(false);
  });

  it('include every kind', () => {
    const kinds = groupBy(tagged, (e) => e.incident ?? '');
    expect([...kinds.keys()].sort()).toEqual([...INCIDENT_KINDS].sort());
    for (const kind of INCIDENT_KINDS) expect(kinds.get(kind)?.length, kind).toBeGreaterThanOrEqual(5);
  });

  it('nothing in the event itself says it is an incident', () => {
    for (const e of tagged) expect(JSON.stringify(e.event)).not.toMatch(/incident|inject|malicious|exfil/i);
  });

  it('new tools are outside the identity’s registered mix', () => {
    const registry = new Map(DEMO_IDENTITIES.map((i) => [i.id, i.tools]));
    for (const e of tagged.filter((x) => x.incident === 'new_tool')) {
      expect(registry.get(e.key)?.includes(e.event.tool), e.event.tool).toBe(false);
    }
  });

  it('new egress follows a secret read in the same session, to a domain never seen before', () => {
    const knownDomains = new Set(
      ORDINARY.flatMap((e) => (e.event.target_domain ? [e.event.target_domain] : [])),
    );
    for (const e of tagged.filter((x) => x.incident === 'new_egress_after_secret_read')) {
      expect(e.event.action).toBe('network.egress');
      expect(knownDomains.has(e.event.target_domain ?? '')).toBe(false);
      const session = SESSIONS.get(e.event.session ?? '') ?? [];
      const secretAt = session.findIndex((x) => x.event.action === 'secret.read');
      expect(secretAt).toBeGreaterThanOrEqual(0);
      expect(secretAt).toBeLessThan(session.indexOf(e));
    }
  });

  it('prod deploys carry an approval granted earlier by a human, except injected ones', () => {
    const prodDeploys = SAMPLE.filter(
      (e) => e.event.action === 'deploy' && e.event.args?.environment === 'prod',
    );
    expect(prodDeploys.length).toBeGreaterThan(50);
    const grants = new Map(
      SAMPLE.filter((e) => e.event.action === 'approval.grant').map((e) => [e.event.approval?.id ?? '', e]),
    );
    for (const deploy of prodDeploys) {
      if (deploy.incident === 'deploy_without_approval') {
        expect(deploy.event.approval).toBeUndefined();
        const sameSession = SAMPLE.filter((x) => x.event.session === deploy.event.session);
        expect(sameSession.some((x) => x.event.action === 'approval.grant')).toBe(false);
        continue;
      }
      const grant = grants.get(deploy.event.approval?.id ?? '');
      expect(grant, 'approval.grant for a prod deploy').toBeDefined();
      expect(grant?.event.identity.type).toBe('human');
      expect(grant?.event.session).toBe(deploy.event.session);
      expect(tsMs(grant?.event ?? deploy.event)).toBeLessThan(tsMs(deploy.event));
      expect(deploy.event.approval?.by).toBe(grant?.event.identity.id);
    }
  });
});

describe('demo generator: chain incidents', () => {
  const BUSY = generateDemoEvents(
    { seed: 11, startMs: START_MS, incidentRate: 0.3, eventsPerIdentityHour: 720 },
    12_000,
  );
  const sessions = groupBy(
    BUSY.filter((e) => !humans.has(e.key)),
    (e) => e.event.session ?? '',
  );
  // Sessions still running when the sample ends are cut short: judge those that began 30 min before.
  const cutoff = BUSY.reduce((max, e) => Math.max(max, tsMs(e.event)), START_MS) - 30 * 60_000;
  /** Each complete incident's session, with the tagged step's position in it. */
  const incidents = (kind: string, identity: string): { events: DemoEvent[]; at: number }[] =>
    BUSY.filter((e) => e.incident === kind && e.key === identity && tsMs(e.event) < cutoff).map((tagged) => {
      const events = sessions.get(tagged.event.session ?? '') ?? [];
      return { events, at: events.indexOf(tagged) };
    });
  const registrable = (host: string): string => host.slice(host.indexOf('.') + 1);

  it('a secret read, then uploads to two random subdomains of one paste site', () => {
    const found = incidents('new_egress_after_secret_read', 'coding-agent');
    expect(found.length).toBeGreaterThanOrEqual(3);
    for (const { events, at } of found) {
      const read = events.findIndex((e) => e.event.action === 'secret.read');
      expect(events[read]?.event).toMatchObject({
        tool: 'vault.read',
        resource: { type: 'secret' },
        outcome: 'success',
      });
      expect(read).toBeLessThan(at);
      const posts = events.filter((e) => e.event.tool === 'http.post');
      expect(posts).toHaveLength(2);
      const [first, second] = posts.map((e) => e.event.target_domain ?? '');
      expect(first).not.toBe(second);
      expect(registrable(first ?? '')).toBe(registrable(second ?? ''));
      expect(posts[0]).toBe(events[at]);
    }
  });

  it('coding-agent commits, pushes and deploys to prod with no approval and no test run', () => {
    const found = incidents('deploy_without_approval', 'coding-agent');
    expect(found.length).toBeGreaterThanOrEqual(3);
    for (const { events, at } of found) {
      expect(events.map((e) => e.event.action)).toEqual([
        'tool.call',
        'data.read',
        'code.commit',
        'code.push',
        'deploy',
        'api.call',
      ]);
      expect(events[at]?.event).toMatchObject({
        action: 'deploy',
        outcome: 'success',
        resource: { id: 'api-prod' },
        args: { environment: 'prod' },
      });
      expect(events.some((e) => e.event.approval !== undefined || e.event.action === 'approval.grant')).toBe(
        false,
      );
      expect(events.slice(0, at).some((e) => /test|check|verify/.test(e.event.tool))).toBe(false);
    }
  });

  it('data-pipeline creates an access key and does the rest of its run with it', () => {
    const found = incidents('credential_created_then_used', 'data-pipeline');
    expect(found.length).toBeGreaterThanOrEqual(3);
    const registered = DEMO_IDENTITIES.find((i) => i.id === 'data-pipeline')?.credential;
    for (const { events, at } of found) {
      const created = events[at]?.event;
      expect(created).toMatchObject({
        action: 'identity.change',
        tool: 'iam.create_access_key',
        outcome: 'success',
      });
      const key = created?.resource?.id ?? '';
      expect(key).toMatch(/^akid:fp-[0-9a-f]{12}$/);
      expect(key).not.toBe(registered);
      expect(events.slice(0, at + 1).every((e) => e.event.identity.credential === registered)).toBe(true);
      const after = events.slice(at + 1);
      expect(after.length).toBeGreaterThan(0);
      expect(after.every((e) => e.event.identity.credential === key)).toBe(true);
    }
  });
});

describe('malformedSamples', () => {
  const utf8 = new TextDecoder('utf-8', { fatal: true });

  /** What the ingest does: size limit, strict UTF-8, JSON.parse, then the schema. */
  function isRejected(bytes: Buffer): boolean {
    if (bytes.length > MAX_MESSAGE_BYTES) return true;
    try {
      return !ActionEventSchema.safeParse(JSON.parse(utf8.decode(bytes))).success;
    } catch {
      return true;
    }
  }

  it('has at least a dozen distinct kinds, each distinct bytes', () => {
    const samples = malformedSamples(1);
    expect(samples.length).toBeGreaterThanOrEqual(12);
    expect(new Set(samples.map((s) => s.kind)).size).toBe(samples.length);
    expect(new Set(samples.map((s) => s.bytes.toString('base64'))).size).toBe(samples.length);
  });

  it('every sample is rejected, for many seeds', () => {
    for (let seed = 0; seed < 40; seed++) {
      for (const sample of malformedSamples(seed)) {
        expect(isRejected(sample.bytes), `${sample.kind} (seed ${String(seed)})`).toBe(true);
      }
    }
  });

  it('covers the required kinds of bad input', () => {
    const kinds = new Set(malformedSamples(3).map((s) => s.kind));
    for (const kind of [
      'not_json',
      'truncated_json',
      'json_array',
      'json_string',
      'json_number',
      'empty',
      'invalid_utf8',
      'missing_identity',
      'missing_tool',
      'unknown_action',
      'ts_not_a_timestamp',
      'ts_far_future',
      'tool_as_number',
      'args_as_string',
      'attributes_not_strings',
      'event_id_too_long',
      'oversized',
    ]) {
      expect(kinds.has(kind), kind).toBe(true);
    }
    const oversized = malformedSamples(3).find((s) => s.kind === 'oversized');
    expect(oversized?.bytes.length).toBeGreaterThan(300 * 1024);
  });

  it('is deterministic per seed and varies across seeds', () => {
    const a = malformedSamples(5);
    expect(a.map((s) => s.bytes.toString('base64'))).toEqual(
      malformedSamples(5).map((s) => s.bytes.toString('base64')),
    );
    const b = malformedSamples(6);
    const differing = a.filter((s, i) => !s.bytes.equals(b[i]?.bytes ?? Buffer.alloc(0)));
    expect(differing.length).toBeGreaterThanOrEqual(a.length - 2); // only constants like `empty`/`null`
  });

  it('keeps every sample but the NDJSON one on a single line', () => {
    for (const sample of malformedSamples(9)) {
      expect(sample.bytes.includes(0x0a), sample.kind).toBe(sample.kind === 'ndjson_two_events');
    }
  });
});

describe('produceDemo', () => {
  /** Records what would have gone to Kafka. */
  function fakeProducer(): { producer: Producer; sends: ProducerRecord[] } {
    const sends: ProducerRecord[] = [];
    const send = (record: ProducerRecord): Promise<[]> => {
      sends.push(record);
      return Promise.resolve([]);
    };
    return { producer: { send } as unknown as Producer, sends };
  }
  const messagesOf = (sends: ProducerRecord[]): Message[] => sends.flatMap((s) => s.messages);

  it('sends maxEvents valid JSON events in batches, keyed by identity, never ahead of the clock', async () => {
    const { producer, sends } = fakeProducer();
    const before = Date.now();
    const result = await produceDemo({
      producer,
      topic: 'demo-topic',
      seed: 9,
      eventsPerSecond: 2_000,
      maxEvents: 600,
      logger: silentLogger,
    });
    expect(result.sent).toBe(600);
    const messages = messagesOf(sends);
    expect(messages).toHaveLength(600);
    expect(sends.every((s) => s.topic === 'demo-topic')).toBe(true);
    expect(sends.length).toBeLessThan(100);
    for (const m of messages) {
      const parsed = ActionEventSchema.parse(JSON.parse(String(m.value)));
      expect(m.key).toBe(parsed.identity.id);
      expect(parsed.ts).toBeGreaterThanOrEqual(before - DEMO_RAMP_UP_LEAD_MS - 1_000);
      expect(parsed.ts).toBeLessThanOrEqual(Date.now());
    }
    const counts = Object.values(result.incidents);
    expect(counts.every((n) => Number.isInteger(n) && n >= 0)).toBe(true);
    expect(counts.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(result.sent);
    expect(Object.keys(result.incidents).sort()).toEqual([...INCIDENT_KINDS].sort());
  });

  it('paces to eventsPerSecond and stops at the duration', async () => {
    const { producer } = fakeProducer();
    const started = Date.now();
    const result = await produceDemo({
      producer,
      topic: 't',
      seed: 1,
      eventsPerSecond: 200,
      durationMs: 1_000,
      logger: silentLogger,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(result.sent).toBeGreaterThan(150);
    expect(result.sent).toBeLessThanOrEqual(201);
  });

  it('stops promptly when aborted', async () => {
    const { producer } = fakeProducer();
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort();
    }, 200);
    const started = Date.now();
    const result = await produceDemo({
      producer,
      topic: 't',
      seed: 1,
      eventsPerSecond: 1,
      signal: controller.signal,
      logger: silentLogger,
    });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(result.sent).toBe(1);
  });
});

describe('demo history', () => {
  it('is incident-free, in time order, and ends where live traffic begins', () => {
    const end = Date.UTC(2026, 10, 20, 12);
    const events = demoHistoryEvents(3, end);
    const ts = events.map(({ event }) => (typeof event.ts === 'number' ? event.ts : Date.parse(event.ts)));
    expect(events.every((e) => e.incident === undefined)).toBe(true);
    expect(ts.every((t, i) => i === 0 || t >= (ts[i - 1] ?? 0))).toBe(true);
    expect(Math.min(...ts)).toBeGreaterThanOrEqual(end - DEMO_HISTORY_DAYS * 86_400_000);
    expect(Math.max(...ts)).toBeLessThan(end - DEMO_RAMP_UP_LEAD_MS);
    // Every agent with habits has a past; the revoked one stays silent.
    const actors = new Set(events.map((e) => e.key));
    for (const id of ['release-bot', 'support-agent', 'data-pipeline', 'coding-agent'])
      expect(actors.has(id)).toBe(true);
    expect(actors.has(REVOKED_DEMO_IDENTITY)).toBe(false);
    expect(events.every((e) => ActionEventSchema.safeParse(e.event).success)).toBe(true);
  });
});
