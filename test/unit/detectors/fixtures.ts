/**
 * Shared fixtures for the detector unit tests: an event builder, a baseline builder, a detector
 * context, a registry record, and the engine factories and event streams the engine tests replay.
 * Not a test file: the `.test.ts` files next to it import from here.
 */
import { createDetectors } from '../../../detectors/catalog.js';
import { DEFAULT_ENGINE_OPTIONS, DetectionEngine, type EngineOptions } from '../../../detectors/engine.js';
import { PeerIndex } from '../../../detectors/peers.js';
import { IdentityProfile } from '../../../detectors/profile.js';
import { SessionNovelty } from '../../../detectors/session.js';
import type { DetectorContext } from '../../../detectors/types.js';
import { DAY_MS } from '../../../common/time.js';
import { EMPTY_EVENT_DETAILS, type DetectorEvent } from '../../../model/detector-event.js';
import type { Finding } from '../../../model/finding.js';
import type { IdentityRecord } from '../../../model/identity.js';

export const T0 = Date.UTC(2026, 2, 1);
let seq = 0;

/** Restarts event numbering, so event ids, timestamps and sessions repeat from the start. */
export function resetSeq(): void {
  seq = 0;
}

/** One event by `release-bot`, numbered in sequence a minute apart after T0; `over` replaces fields. */
export function ev(over: Partial<DetectorEvent> = {}): DetectorEvent {
  seq += 1;
  return {
    event_id: `e-${String(seq).padStart(6, '0')}`,
    ts: T0 + seq * 60_000,
    identity_id: 'release-bot',
    identity_type: 'agent',
    identity_credential: '',
    session: `s-${String(Math.floor(seq / 5))}`,
    action: 'api.call',
    tool: 'github.get_pull_request',
    resource_type: 'repo',
    resource_id: 'acme/api',
    target_domain: 'api.github.com',
    outcome: 'success',
    ...EMPTY_EVENT_DETAILS,
    approval_id: '',
    source_ip: '',
    source_user_agent: '',
    ...over,
  };
}

/** A profile with `n` ordinary events spread over `days` days before T0. */
export function history(n: number, days = 10, over: Partial<DetectorEvent> = {}): IdentityProfile {
  const profile = new IdentityProfile('release-bot');
  for (let i = 0; i < n; i += 1) {
    const tools = ['github.get_pull_request', 'git.commit', 'git.push'];
    const repos = ['acme/api', 'acme/web', 'acme/docs'];
    profile.observe(
      ev({
        ts: T0 - days * DAY_MS + Math.floor((i * days * DAY_MS) / n),
        tool: tools[i % 3] ?? 'git.commit',
        resource_id: repos[i % 3] ?? 'acme/api',
        action: i % 3 === 0 ? 'api.call' : 'code.push',
        ...over,
      }),
    );
  }
  return profile;
}

/** A detector context for `event` against `profile`: no registry, empty peers and session. */
export function context(
  event: DetectorEvent,
  profile: IdentityProfile,
  over: Partial<DetectorContext> = {},
): DetectorContext {
  return {
    event,
    profile,
    identity: undefined,
    registryLoaded: false,
    peers: new PeerIndex(),
    session: new SessionNovelty(),
    ...over,
  };
}

/** A registered service account with a revoked credential and a declared scope. */
export const record: IdentityRecord = {
  id: 'release-bot',
  type: 'service_account',
  owner: 'team-platform',
  purpose: 'ships releases',
  state: 'active',
  stateChangedAt: null,
  credentials: [{ id: 'old-key', state: 'revoked', revokedAt: T0 - DAY_MS }],
  scope: {
    tools: ['git.*'],
    resources: [],
    egressDomains: ['api.github.com'],
    approvalRequired: [{ match: 'deploy', resources: [] }],
  },
  registered: true,
};

// Engine factories and the event streams the engine tests replay.

/** Engine options: the default settings and the full detector catalog, no registry, event time as now. */
export const options = (over: Partial<EngineOptions> = {}): EngineOptions => ({
  ...DEFAULT_ENGINE_OPTIONS,
  detectors: createDetectors(),
  registry: null,
  now: (e) => e.ts,
  ...over,
});

/** Runs `events` through a fresh engine; the latest state of every finding it raised. */
export function run(events: DetectorEvent[], over: Partial<EngineOptions> = {}): Finding[] {
  const engine = new DetectionEngine(options(over));
  const out = new Map<string, Finding>();
  for (const e of events) for (const f of engine.process(e)) out.set(f.finding_id, structuredClone(f));
  return [...out.values()];
}

/** 80 ordinary pushes by `release-bot`, then the new repo `evil/repo` in four later sessions. */
export const stream = (): DetectorEvent[] => {
  seq = 0;
  const events: DetectorEvent[] = [];
  for (let i = 0; i < 80; i += 1)
    events.push(ev({ tool: i % 2 ? 'git.commit' : 'git.push', action: 'code.push' }));
  // The same suspicious recipient in three later sessions: the finding stays open and cites each.
  for (const s of ['x1', 'x2', 'x3'])
    events.push(ev({ session: s, tool: 'git.push', resource_id: 'evil/repo', action: 'code.push' }));
  events.push(ev({ session: 'x4', tool: 'git.push', resource_id: 'evil/repo', action: 'code.push' }));
  return events;
};

/**
 * 60 ordinary calls by each of five agents over `historyHours`, then `payer` pays the same
 * new recipient in three sessions.
 */
export const payments = (historyHours = 48): DetectorEvent[] => {
  seq = 0;
  const events: DetectorEvent[] = [];
  for (let i = 0; i < 60; i += 1)
    for (const id of ['payer', 'p1', 'p2', 'p3', 'p4'])
      events.push(
        ev({
          ts: T0 + Math.floor((i * historyHours * 3600_000) / 60),
          identity_id: id,
          tool: i % 2 ? 'get_balance' : 'send_money',
          action: 'tool.call',
          resource_type: 'recipient',
          resource_id: i % 2 ? '' : 'ACME-PAYROLL',
          target_domain: '',
        }),
      );
  for (const [n, session] of ['y1', 'y2', 'y3'].entries())
    events.push(
      ev({
        ts: T0 + (historyHours + n + 1) * 3600_000,
        identity_id: 'payer',
        session,
        tool: 'send_money',
        action: 'tool.call',
        resource_type: 'recipient',
        resource_id: 'US133000000121212121212',
        target_domain: '',
      }),
    );
  return events;
};
/** `payer` paying the recipient again days later (after an engine restart, say). */
export const payAgain = (): DetectorEvent =>
  ev({
    event_id: 'e-pay-again',
    identity_id: 'payer',
    tool: 'send_money',
    action: 'tool.call',
    resource_type: 'recipient',
    resource_id: 'US133000000121212121212',
    ts: T0 + 4 * DAY_MS,
  });
/** Runs `events` through `engine`; the latest state of each finding about the new recipient. */
export const recipientFindings = (engine: DetectionEngine, events: DetectorEvent[]): Finding[] => {
  const out = new Map<string, Finding>();
  for (const e of events)
    for (const f of engine.process(e))
      if (f.subject === 'recipient:US133000000121212121212') out.set(f.finding_id, structuredClone(f));
  return [...out.values()];
};
