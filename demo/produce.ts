import type { Message, Producer } from 'kafkajs';
import type { Logger } from '../common/logger.js';
import type { ActionEventInput } from '../model/action.js';
import { createDemoStream, DEMO_RAMP_UP_LEAD_MS, eventsPerIdentityHourFor } from './generator.js';
import { INCIDENT_KINDS, type DemoEvent, type IncidentKind } from './types.js';

/**
 * Sends demo traffic to Kafka at a steady rate, in batches, until told to stop. The generator's
 * rate is matched to `eventsPerSecond` and it starts a little in the past (its ramp-up lead), so
 * event timestamps track the wall clock; an event is never sent before its own timestamp.
 */

export interface ProduceDemoOptions {
  producer: Producer;
  topic: string;
  seed: number;
  eventsPerSecond: number;
  durationMs?: number;
  maxEvents?: number;
  signal?: AbortSignal;
  logger: Logger;
}

export interface ProduceDemoResult {
  sent: number;
  incidents: Record<IncidentKind, number>;
}

/** Large enough to amortise a round trip at high rates, small enough to keep batches timely. */
const MAX_BATCH = 500;
/** Shortest wait between batches: lets events accumulate into a batch instead of one per send. */
const TICK_MS = 100;
const PROGRESS_EVERY_MS = 10_000;

function noIncidents(): Record<IncidentKind, number> {
  const counts = {} as Record<IncidentKind, number>;
  for (const kind of INCIDENT_KINDS) counts[kind] = 0;
  return counts;
}

const eventMs = (event: ActionEventInput): number =>
  typeof event.ts === 'number' ? event.ts : Date.parse(event.ts);

function toMessage(demo: DemoEvent): Message {
  return { key: demo.key, value: JSON.stringify(demo.event) };
}

/** Resolves after `ms`, or at once when the signal aborts (never rejects). */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(1, ms));
    signal?.addEventListener('abort', done, { once: true });
  });
}

function validate(opts: ProduceDemoOptions): void {
  if (!(opts.eventsPerSecond > 0 && Number.isFinite(opts.eventsPerSecond)))
    throw new RangeError('eventsPerSecond must be a positive number');
  if (opts.durationMs !== undefined && !(opts.durationMs >= 0))
    throw new RangeError('durationMs must be >= 0');
  if (opts.maxEvents !== undefined && !(Number.isInteger(opts.maxEvents) && opts.maxEvents >= 0))
    throw new RangeError('maxEvents must be a non-negative integer');
}

/** Pulls events from the stream, holding back the first one whose time has not come yet. */
function timedSource(stream: { next(): DemoEvent }): (max: number, nowMs: number) => DemoEvent[] {
  let held: DemoEvent | undefined;
  return (max, nowMs) => {
    const batch: DemoEvent[] = [];
    while (batch.length < max) {
      const next = held ?? stream.next();
      held = undefined;
      if (eventMs(next.event) > nowMs) {
        held = next;
        break;
      }
      batch.push(next);
    }
    return batch;
  };
}

export async function produceDemo(opts: ProduceDemoOptions): Promise<ProduceDemoResult> {
  validate(opts);
  const { producer, topic, seed, eventsPerSecond, signal, logger } = opts;
  const startedMs = Date.now();
  const take = timedSource(
    createDemoStream({
      seed,
      startMs: startedMs - DEMO_RAMP_UP_LEAD_MS,
      eventsPerIdentityHour: eventsPerIdentityHourFor(eventsPerSecond),
    }),
  );
  const deadline = opts.durationMs === undefined ? Infinity : startedMs + opts.durationMs;
  const limit = opts.maxEvents ?? Infinity;
  const msPerEvent = 1000 / eventsPerSecond;
  const incidents = noIncidents();
  let sent = 0;
  let lastProgress = startedMs;
  logger.info('demo traffic started', {
    topic,
    seed,
    eventsPerSecond,
    durationMs: opts.durationMs,
    maxEvents: opts.maxEvents,
  });

  while (!signal?.aborted && sent < limit) {
    const now = Date.now();
    if (now >= deadline) break;
    // Event n (0-based) is due at start + n / rate: the first goes out at once, and a slow
    // send is caught up on with full batches rather than by drifting the schedule.
    const due = Math.min(limit, Math.floor((now - startedMs) / msPerEvent) + 1);
    const batch = take(Math.min(MAX_BATCH, due - sent), now);
    if (batch.length === 0) {
      const nextDue = startedMs + sent * msPerEvent;
      await pause(Math.min(Math.max(TICK_MS, nextDue - now), deadline - now), signal);
      continue;
    }
    await producer.send({ topic, messages: batch.map(toMessage) });
    sent += batch.length;
    for (const demo of batch) if (demo.incident) incidents[demo.incident] += 1;
    if (now - lastProgress >= PROGRESS_EVERY_MS) {
      lastProgress = now;
      logger.debug('demo traffic progress', { sent, incidents });
    }
  }

  const result = { sent, incidents };
  logger.info('demo traffic stopped', {
    ...result,
    elapsedMs: Date.now() - startedMs,
    reason: signal?.aborted ? 'aborted' : sent >= limit ? 'max_events' : 'duration',
  });
  return result;
}
