import { DAY_MS } from '../common/time.js';
import { createDemoStream, DEMO_RAMP_UP_LEAD_MS } from './generator.js';
import type { DemoEvent } from './types.js';

/**
 * The demo's past: days of the same agents doing their normal work, with no incidents, loaded
 * as history before live traffic starts. A real deployment judges agents against what they
 * did last week; without a past, the first minutes of the demo would be every agent's normal
 * habits showing up for the first time.
 */

export const DEMO_HISTORY_DAYS = 2;
/** Slower than live traffic: enough sessions for every habit, few enough to load in seconds. */
const HISTORY_EVENTS_PER_IDENTITY_HOUR = 120;

/** Incident-free demo events from `days` before `endMs` up to where live traffic will begin. */
export function demoHistoryEvents(seed: number, endMs: number, days = DEMO_HISTORY_DAYS): DemoEvent[] {
  const stream = createDemoStream({
    seed,
    startMs: endMs - days * DAY_MS,
    eventsPerIdentityHour: HISTORY_EVENTS_PER_IDENTITY_HOUR,
    incidentRate: 0,
  });
  // Live traffic starts its clock a ramp-up lead in the past: history stops before that.
  const until = endMs - DEMO_RAMP_UP_LEAD_MS;
  const events: DemoEvent[] = [];
  for (let next = stream.next(); tsOf(next) < until; next = stream.next()) events.push(next);
  return events;
}

function tsOf(demo: DemoEvent): number {
  const { ts } = demo.event;
  return typeof ts === 'number' ? ts : Date.parse(ts);
}
