import { EMPTY_EVENT_DETAILS, type DetectorEvent } from '../model/detector-event.js';

export interface LiveEventsOptions {
  /** Timestamp of the first event; each next one is 10 ms later. */
  start: number;
  count: number;
  identities: number;
  /** A new session per identity every this many events. */
  sessionEvery: number;
}

/**
 * Generated agent events with fixed habits and a little novelty (≈1% new tools, resources,
 * domains), from a seeded generator: the same options give the same events in every run.
 */
export function* liveEvents(options: LiveEventsOptions): Generator<DetectorEvent> {
  let seed = 42;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let i = 0; i < options.count; i += 1) {
    const id = Math.floor(rand() * options.identities);
    const novel = rand() < 0.01;
    const tool = novel
      ? `tool-new-${String(Math.floor(rand() * 50))}`
      : `tool-${String((id % 89) + Math.floor(rand() * 12))}`;
    yield {
      event_id: `l-${String(i)}`,
      ts: options.start + i * 10,
      identity_id: `agent-${String(id)}`,
      identity_type: 'agent',
      identity_credential: '',
      session: `agent-${String(id)}-live${String(Math.floor(i / options.sessionEvery))}`,
      action: rand() < 0.002 ? 'deploy' : 'api.call',
      tool,
      resource_type: 'repo',
      resource_id: `org-${String(id % 50)}/repo-${String(novel ? 100 + Math.floor(rand() * 10) : Math.floor(rand() * 40))}`,
      target_domain:
        rand() < 0.2
          ? `api${String(Math.floor(rand() * (novel ? 9 : 4)))}.svc${String(id % 30)}.example.com`
          : '',
      outcome: 'success',
      ...EMPTY_EVENT_DETAILS,
      approval_id: '',
      source_ip: '',
      source_user_agent: '',
    };
  }
}
