import { type Rng, ulid } from './rng.js';
import {
  APPROVERS,
  ARGO_HOST,
  codingAgentSession,
  dataPipelineSession,
  GITHUB_API,
  legacySyncSession,
  PIPELINE_SECRET,
  releaseBotSession,
  SENDGRID_API,
  SNOWFLAKE_HOST,
  supportSession,
  ZENDESK_API,
} from './normal-sessions.js';
import type { Profile } from './session-script.js';
import type { DemoIdentity } from './types.js';

/**
 * The demo's personas: the non-human identities it simulates, each with its registry entry
 * (owner, purpose, credential, declared tools, resources and hosts), the way it writes events
 * (timestamp and id style, outcome odds, source), how it opens a session, and its session
 * script. `identities.yaml` is their registry for `scopewatch run --demo`: keep the two in step.
 */

const traceId = (rng: Rng): string => rng.hex(32);
const AGENT_MODELS = ['claude-sonnet-4-5', 'gpt-4.1', 'gpt-4.1-mini'] as const;

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
export type DemoIdentityId = keyof typeof PROFILES;
export const PROFILE_BY_ID: Readonly<Record<DemoIdentityId, Profile>> = PROFILES;

export const DEMO_IDENTITIES: readonly DemoIdentity[] = Object.values(PROFILE_BY_ID).map((p) => p.identity);
export const REVOKED_DEMO_IDENTITY: string = PROFILES['legacy-sync'].identity.id;
/** Humans who approve prod deploys (they appear as actors of `approval.grant`). */
export const DEMO_APPROVERS: readonly string[] = APPROVERS.map((a) => a.identity.id);
/** Identities that act on their own; the revoked one only shows up in incidents. */
export const ACTIVE_PROFILES: readonly Profile[] = Object.values(PROFILE_BY_ID).filter(
  (p) => !p.identity.revoked,
);
