import type { ActionEventInput } from '../model/action.js';
import { type Rng, ulid, uuid7 } from './rng.js';
import type { Actor, IdStyle, Profile, SessionMeta, Step, TsStyle } from './session-script.js';
import { TOOLS } from './tools.js';
import type { DemoEvent } from './types.js';

/**
 * The wire format: how one step of a session becomes a scopewatch.action/v1 event, written the
 * way its actor's producer writes it (its own timestamp and event-id style, outcome odds,
 * source), with the permission and audit system its tool implies.
 */

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** RFC 3339 in a fixed local offset, the way an on-prem box with a local clock writes it. */
function rfc3339WithOffset(ms: number, offsetMinutes: number): string {
  const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 23);
  const abs = Math.abs(offsetMinutes);
  return `${local}${offsetMinutes < 0 ? '-' : '+'}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

/** Producers disagree on `ts`; the schema accepts all of these, so the demo mixes them. */
const TS_STYLES: Readonly<Record<TsStyle, (ms: number) => string | number>> = {
  epoch_ms: (ms) => ms,
  rfc3339_utc: (ms) => new Date(ms).toISOString(),
  rfc3339_us_east: (ms) => rfc3339WithOffset(ms, -300),
};

const ID_STYLES: Readonly<Record<IdStyle, (ms: number, rng: Rng) => string>> = { uuid7, ulid };

function identityOf(actor: Actor, session: SessionMeta, s: Step): ActionEventInput['identity'] {
  const { id, type, owner } = actor.identity;
  // The instance and a step's own credential belong to the session's identity, not to a human stepping in.
  const ownSession = s.actor === undefined;
  const credential = (ownSession ? s.credential : undefined) ?? actor.identity.credential;
  if (ownSession && session.instance !== undefined)
    return { id, type, owner, instance: session.instance, credential };
  return { id, type, owner, credential };
}

/**
 * One step as a wire event. Optional fields are assigned rather than spread: this is the hot
 * path, and assignment keeps the key order (and so the JSON bytes) just as stable.
 */
export function materialize(
  s: Step,
  profile: Profile,
  session: SessionMeta,
  ms: number,
  rng: Rng,
): DemoEvent {
  const actor = s.actor ?? profile;
  const spec = TOOLS[s.tool];
  const event: ActionEventInput = {
    event_id: ID_STYLES[actor.idStyle](ms, rng),
    ts: TS_STYLES[actor.tsStyle](ms),
    identity: identityOf(actor, session, s),
    session: session.id,
    action: s.action ?? spec.action,
    tool: s.tool,
  };
  if (s.resource) event.resource = s.resource;
  if (s.target_domain !== undefined) event.target_domain = s.target_domain;
  if (spec.permission !== undefined) event.permission = spec.permission;
  event.outcome = s.outcome ?? rng.weighted(actor.outcomes);
  if (s.approval) event.approval = s.approval;
  if (actor.onBehalfOf !== undefined) event.on_behalf_of = actor.onBehalfOf;
  event.source = {
    system: spec.system ?? actor.source.system,
    ip: rng.pick(actor.source.ips),
    user_agent: actor.source.userAgent,
  };
  if (s.args) event.args = s.args;
  event.attributes = { ...session.attributes, span_id: rng.hex(16) };
  const demo: DemoEvent = { key: actor.identity.id, event };
  if (s.incident) demo.incident = s.incident;
  return demo;
}
