import type { ActionClass, Outcome } from '../model/action.js';
import { times, uuid7 } from './rng.js';
import {
  fakeGithubToken,
  fakePassword,
  httpHeaders,
  LEAK_RATE,
  res,
  step,
  type Actor,
  type ScriptCtx,
  type Step,
} from './session-script.js';

/**
 * What each demo identity does in a normal session, one script per identity: the habits its
 * baseline is learned from. `incidents.ts` builds its sessions from these and their parts.
 */

// --- release-bot: CI gates, version bumps, Argo CD syncs; prod only after a human approves ---

export const GITHUB_API = 'api.github.com';
export const ARGO_HOST = 'argo.internal.acme.dev';
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

/** The humans who approve release-bot's prod deploys: they act in its sessions, own none. */
export const APPROVERS: readonly Actor[] = [
  human('dana.kim@acme.dev', 'sso:okta:fp-4e1a9c07'),
  human('bob.ortiz@acme.dev', 'sso:okta:fp-b83d2f51'),
];

export function newRelease(ctx: ScriptCtx): Release {
  const app = ctx.rng.pick(RELEASE_APPS);
  const d = new Date(ctx.startMs);
  const version = `v${d.getUTCFullYear()}.${d.getUTCMonth() + 1}.${ctx.rng.int(0, 80)}`;
  return { ...app, sha: ctx.rng.hex(40), parent: ctx.rng.hex(40), version };
}

export function releaseCommit(ctx: ScriptCtx, r: Release): Step {
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

export function releasePush(ctx: ScriptCtx, r: Release): Step {
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

export function checkPolls(ctx: ScriptCtx, r: Release, min: number, max: number): Step[] {
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

export function argoSync(ctx: ScriptCtx, r: Release, env: Environment, approval?: Step['approval']): Step {
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

export function argoStatus(ctx: ScriptCtx, r: Release, env: Environment): Step {
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

export function releaseBotSession(ctx: ScriptCtx): Step[] {
  return RELEASE_SESSIONS[ctx.rng.weighted(RELEASE_SESSION_WEIGHTS)](ctx);
}

// --- support-agent: reads a ticket, searches the KB, replies by email ---

export const ZENDESK_API = 'api.zendesk.com';
export const SENDGRID_API = 'api.sendgrid.com';
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

export function supportSession(ctx: ScriptCtx): Step[] {
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

export const SNOWFLAKE_HOST = 'acme.snowflakecomputing.com';
export const PIPELINE_SECRET = 'vault:kv/data-pipeline/snowflake';

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

export function dataPipelineSession(ctx: ScriptCtx): Step[] {
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

export function codingAgentSession(ctx: ScriptCtx): Step[] {
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

export function legacySyncSession(ctx: ScriptCtx): Step[] {
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
