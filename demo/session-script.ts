import type { ActionClass, Outcome } from '../model/action.js';
import { BASE62, BASE64URL, type Rng } from './rng.js';
import type { ToolName } from './tools.js';
import type { DemoIdentity, IncidentKind } from './types.js';

/**
 * The language the demo's sessions are written in: who acts (an actor, and the profile of an
 * identity that owns sessions), a session as a script of steps, the builders scripts use, and
 * the fake secrets some steps leak so that redaction has work.
 */

// ---------------------------------------------------------------------------------------------
// Actors and profiles
// ---------------------------------------------------------------------------------------------

/** How an identity writes `ts` and `event_id`; `wire-format.ts` implements each style. */
export type TsStyle = 'epoch_ms' | 'rfc3339_utc' | 'rfc3339_us_east';
export type IdStyle = 'uuid7' | 'ulid';

type OutcomeOdds = Readonly<Record<Exclude<Outcome, 'unknown'>, number>>;

/** Everything needed to write an event as some identity. */
export interface Actor {
  readonly identity: Pick<DemoIdentity, 'id' | 'type' | 'owner' | 'credential'>;
  readonly tsStyle: TsStyle;
  readonly idStyle: IdStyle;
  readonly outcomes: OutcomeOdds;
  readonly source: { readonly system: string; readonly ips: readonly string[]; readonly userAgent: string };
  readonly onBehalfOf?: string;
}

export interface SessionMeta {
  id: string;
  instance?: string;
  attributes: Record<string, string>;
}

export interface Profile extends Actor {
  readonly identity: DemoIdentity;
  readonly gapMs: readonly [number, number];
  readonly open: (rng: Rng, startMs: number) => SessionMeta;
  readonly script: Script;
}

// ---------------------------------------------------------------------------------------------
// Sessions as scripts of steps
// ---------------------------------------------------------------------------------------------

interface Resource {
  type: string;
  id: string;
}

export interface Step {
  tool: ToolName;
  /** Wait since the previous step of the same session. */
  gapMs: number;
  /** Only when one tool does different things (a SQL statement may read or write). */
  action?: ActionClass;
  resource?: Resource;
  target_domain?: string;
  args?: Record<string, unknown>;
  /** A scripted outcome instead of the actor's usual odds. */
  outcome?: Outcome;
  approval?: { id: string; by: string };
  /** Someone other than the session's identity acts (a human approving a deploy). */
  actor?: Actor;
  /** The credential the session's identity acts with here, when not its registered one (a key it just created). */
  credential?: string;
  incident?: IncidentKind;
}

export interface ScriptCtx {
  rng: Rng;
  startMs: number;
  identityId: string;
  /** A typical pause between two steps of this identity. */
  gap(): number;
}
export type Script = (ctx: ScriptCtx) => Step[];

export const step = (tool: ToolName, gapMs: number, fields: Omit<Step, 'tool' | 'gapMs'> = {}): Step => ({
  tool,
  gapMs,
  ...fields,
});
export const res = (type: string, id: string): Resource => ({ type, id });

// ---------------------------------------------------------------------------------------------
// Leaked secrets
// ---------------------------------------------------------------------------------------------

/** Share of eligible calls that carry a secret-looking value, so redaction has work. */
export const LEAK_RATE = 0.05;

const base64url = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** JWT-shaped bearer token whose payload says it is demo data; the signature is noise. */
function fakeJwt(rng: Rng, subject: string, atMs: number): string {
  const header = base64url({ alg: 'HS256', typ: 'JWT' });
  const payload = base64url({ iss: 'scopewatch-demo', sub: subject, iat: Math.floor(atMs / 1000) });
  return `${header}.${payload}.${rng.chars(BASE64URL, 43)}`;
}

/** GitHub-installation-token-shaped, with DEMO in it so nobody mistakes it for a real one. */
export const fakeGithubToken = (rng: Rng): string => `ghs_DEMO${rng.chars(BASE62, 32)}`;
export const fakePassword = (rng: Rng): string => `demo-${rng.chars(BASE62, 8)}-${rng.chars(BASE62, 6)}!`;

/** Headers an HTTP tool logged; now and then with the bearer token still in them. */
export function httpHeaders(ctx: ScriptCtx, accept: string): Record<string, unknown> {
  if (!ctx.rng.chance(LEAK_RATE)) return {};
  return {
    headers: { Accept: accept, Authorization: `Bearer ${fakeJwt(ctx.rng, ctx.identityId, ctx.startMs)}` },
  };
}
