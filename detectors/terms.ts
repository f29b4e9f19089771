import type { TermKind } from '../model/terms.js';
import type { ActionClass } from '../model/action.js';
import type { DetectorEvent } from '../model/detector-event.js';

/**
 * The things a baseline remembers per identity. Each event contributes at most one value per
 * kind; the same extraction feeds the in-memory profile and the ClickHouse materialized view
 * (`storage/migrations/0004_baselines.sql` mirrors these rules in SQL, and a test keeps them equal).
 */

export interface Term {
  kind: TermKind;
  value: string;
}

/** `type:id` when the producer typed the resource, so `repo:acme` and `bucket:acme` stay apart. */
export function resourceKey(type: string, id: string): string {
  if (!id) return '';
  return type ? `${type}:${id}` : id;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const FIRST_DELIMITER = /[-_.]/;

/**
 * The family a resource belongs to, so "a new bucket" can be told apart from "a new kind of
 * bucket": the part before the first path separator (`acme/api` → `acme/`, `s3 bucket/key` →
 * `bucket/`, `https://host/path` → `host/`), else before the first word delimiter
 * (`prod-finance` → `prod-`). Resources without structure have no prefix.
 */
export function resourcePrefix(id: string): string {
  if (!id) return '';
  const bare = id.replace(SCHEME, '');
  const slash = bare.indexOf('/');
  if (slash > 0 && slash < bare.length - 1) return bare.slice(0, slash + 1);
  const match = FIRST_DELIMITER.exec(bare);
  if (match && match.index > 0 && match.index < bare.length - 1) return bare.slice(0, match.index + 1);
  return '';
}

/**
 * Resource types that name where data, money or messages go rather than what is acted on (the
 * default; `destinationTypes` per detector replaces it). An established identity's first-seen
 * destination stays under its finding (not learned as normal) until triage decides, however
 * often it recurs — an unreviewed new payee does not become trusted by being paid again.
 */
export const DESTINATION_RESOURCE_TYPES: ReadonlySet<string> = new Set([
  'recipient',
  'recipients',
  'to',
  'participants',
  'email',
  'email_address',
  'url',
  'uri',
  'domain',
  'host',
  'hostname',
  'endpoint',
  'webhook',
  'phone',
  'phone_number',
  'iban',
  'account_number',
]);

/** The type part of a resource key (`recipient:US13…` → `recipient`; '' when untyped). */
export function resourceTypeOf(key: string): string {
  const cut = key.indexOf(':');
  return cut > 0 ? key.slice(0, cut) : '';
}

/** Whether a term names a destination: an egress domain, or a resource of a destination type. */
export function isDestination(term: Term, types: ReadonlySet<string> = DESTINATION_RESOURCE_TYPES): boolean {
  if (term.kind === 'domain') return true;
  return term.kind === 'resource' && types.has(resourceTypeOf(term.value));
}

/** Which resources each tool touched: how often a tool meets new resources is its own baseline. */
export function toolResourceKey(tool: string, resource: string): string {
  return `${tool}\u0001${resource}`;
}

export function toolOfToolResource(value: string): string {
  const cut = value.indexOf('\u0001');
  return cut < 0 ? value : value.slice(0, cut);
}

/**
 * Action classes that change what they act on. A resource an identity created, wrote or
 * reconfigured is its own (`resource_changed`): removing it later is cleaning up, not reaching
 * into someone else's territory.
 */
export const CHANGING_ACTIONS: ReadonlySet<ActionClass> = new Set([
  'data.write',
  'data.delete',
  'identity.change',
  'deploy',
  'code.commit',
  'code.push',
]);

/**
 * What an approval covered, as the baseline remembers it: the action class, or for unclassified
 * calls (`tool.call`, `api.call`: a payment is one of them) the tool itself.
 */
export function approvedActionOf(event: Pick<DetectorEvent, 'action' | 'tool'>): string {
  return event.action === 'tool.call' || event.action === 'api.call' ? event.tool : event.action;
}

export function termsOf(event: DetectorEvent): Term[] {
  const terms: Term[] = [
    { kind: 'tool', value: event.tool },
    { kind: 'action', value: event.action },
  ];
  if (event.resource_id) {
    const resource = resourceKey(event.resource_type, event.resource_id);
    terms.push({ kind: 'resource', value: resource });
    terms.push({ kind: 'tool_resource', value: toolResourceKey(event.tool, resource) });
    if (CHANGING_ACTIONS.has(event.action)) terms.push({ kind: 'resource_changed', value: resource });
    const prefix = resourcePrefix(event.resource_id);
    if (prefix) terms.push({ kind: 'resource_prefix', value: resourceKey(event.resource_type, prefix) });
  }
  if (event.target_domain) terms.push({ kind: 'domain', value: event.target_domain });
  if (event.identity_credential) terms.push({ kind: 'credential', value: event.identity_credential });
  if (event.approval_id) terms.push({ kind: 'approved_action', value: approvedActionOf(event) });
  return terms;
}
