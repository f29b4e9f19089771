import type { ActionClass, ActionEventInput, IdentityType } from '../../model/action.js';
import { AdapterError, attributes, str, type Json } from './errors.js';

/**
 * GitHub audit log events → scopewatch.action/v1 (the fields of the REST/streaming audit log:
 * `action`, `actor`, `actor_is_bot`, `repo`, `org`, `@timestamp`/`created_at`,
 * `programmatic_access_type`, `token_id`). Identity = actor (apps and bots are agents), tool =
 * action, resource = repository (else organization), credential = token id. Pure.
 */

const IDENTITY =
  /^(org\.(add|remove|update)_member|team\.(add|remove)_member|repo\.(add|remove|update)_member|protected_branch\.|personal_access_token\.|oauth_|integration_installation\.|org\.(enable|disable)|business\.|deploy_key\.|public_key\.|org_credential_authorization\.|repository_secret_scanning|secret_scanning_push_protection\.bypass|org\.update_actions_secret|repo\.update_actions_secret)/;
const DEPLOY = /^(environment\.|deployment|workflows\.approve|pages\.)/;
const READ = /^git\.(clone|fetch)|\.(access|download|view|read|list)\b|^repo\.download_zip/;
const DELETE = /\.(destroy|delete|remove|archived|disable|revoke)/;

/** Code reaching a branch: a push, a merge, or a push forced past branch protection. */
const PUSH = new Set(['git.push', 'pull_request.merge', 'protected_branch.policy_override']);

export function githubActionClass(action: string): ActionClass {
  if (PUSH.has(action)) return 'code.push';
  if (IDENTITY.test(action)) return 'identity.change';
  if (DEPLOY.test(action)) return 'deploy';
  if (READ.test(action)) return 'data.read';
  if (DELETE.test(action)) return 'data.delete';
  return 'data.write';
}

function identityType(event: Json, actor: string): IdentityType {
  if (event.actor_is_bot === true || actor.endsWith('[bot]')) return 'agent';
  if (str(event, 'programmatic_access_type')) return 'api_key';
  return 'human';
}

function timestampOf(event: Json): string | number {
  for (const key of ['@timestamp', 'created_at', 'timestamp']) {
    const value = event[key];
    if (typeof value === 'number' || typeof value === 'string') return value;
  }
  throw new AdapterError('@timestamp', 'missing (also looked for created_at, timestamp)');
}

/** Fields mapped to the canonical event (or its fixed attributes) rather than kept as extras. */
const MAPPED = new Set([
  '@timestamp',
  'created_at',
  'timestamp',
  '_document_id',
  'action',
  'actor',
  'actor_is_bot',
  'actor_ip',
  'actor_id',
  'actor_location',
  'repo',
  'repository',
  'org',
  'business',
  'user',
  'user_agent',
  'token_id',
  'hashed_token',
  'programmatic_access_type',
  'operation_type',
  'transport_protocol_name',
]);
const MAX_EXTRAS = 32;

/**
 * Each audit action has fields of its own (`branch`, `workflow_run_id`, `permission`, `team`,
 * `visibility`…): kept as `github.<field>` attributes so the event can be read in full later.
 */
function extras(event: Json): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    if (MAPPED.has(key) || Object.keys(out).length >= MAX_EXTRAS) continue;
    out[`github.${key}`.slice(0, 256)] = value;
  }
  return out;
}

export function githubToEvents(event: Json): ActionEventInput[] {
  const action = str(event, 'action');
  if (!action) throw new AdapterError('action', 'missing');
  const actor = str(event, 'actor');
  if (!actor) throw new AdapterError('actor', 'missing');
  const repo = str(event, 'repo') ?? str(event, 'repository');
  const org = str(event, 'org');
  const token = event.token_id;
  return [
    {
      event_id: str(event, '_document_id'),
      ts: timestampOf(event),
      identity: {
        id: actor,
        type: identityType(event, actor),
        credential:
          typeof token === 'number' || typeof token === 'string'
            ? `github-token:${String(token)}`
            : undefined,
      },
      action: githubActionClass(action),
      tool: action,
      resource: repo ? { type: 'repo', id: repo } : org ? { type: 'org', id: org } : undefined,
      outcome: 'success',
      on_behalf_of: str(event, 'user'),
      source: { system: 'github.audit', ip: str(event, 'actor_ip'), user_agent: str(event, 'user_agent') },
      attributes: attributes({
        ...extras(event),
        'github.org': org,
        'github.business': event.business,
        'github.operation_type': event.operation_type,
        'github.programmatic_access_type': event.programmatic_access_type,
        'github.actor_id': event.actor_id,
        'github.country': (event.actor_location as Json | undefined)?.country_code,
        'github.transport_protocol': event.transport_protocol_name,
        'github.hashed_token': event.hashed_token,
      }),
    },
  ];
}
