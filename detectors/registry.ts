import {
  LIFECYCLE_STATES,
  type ApprovalRule,
  type DeclaredScope,
  type IdentityRecord,
  type LifecycleState,
} from '../model/identity.js';
import path from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { z } from 'zod';
import { dottedPath, formatZodIssues } from '../common/zod-issues.js';
import { ACTION_CLASSES, IDENTITY_TYPES } from '../model/action.js';

/**
 * The identity registry (the policy half of scope drift): who owns each non-human identity,
 * what it is for, its lifecycle, its credentials and its declared scope. Parsed from a YAML or
 * JSON file; pure — the caller reads the file.
 */

/** `deploy`, or `deploy on argo_application:*-prod` — how a rule reads in explanations. */
export function describeApprovalRule(rule: ApprovalRule): string {
  return rule.resources.length === 0 ? rule.match : `${rule.match} on ${rule.resources.join(', ')}`;
}

const timestamp = z
  .union([z.iso.datetime({ offset: true }), z.date()])
  .transform((v) => (v instanceof Date ? v.getTime() : Date.parse(v)));
const globList = z.array(z.string().min(1).max(512)).max(1000).default([]);

const CredentialSchema = z
  .object({
    id: z.string().min(1).max(256),
    state: z.enum(LIFECYCLE_STATES).default('active'),
    revoked_at: timestamp.nullable().default(null),
  })
  .strict();

/** `deploy` (any resource) or `{ match: deploy, resources: ['argo_application:*-prod'] }`. */
const ApprovalRuleSchema = z.union([
  z
    .string()
    .min(1)
    .max(512)
    .transform((match): ApprovalRule => ({ match, resources: [] })),
  z.object({ match: z.string().min(1).max(512), resources: globList }).strict(),
]);

const ScopeSchema = z
  .object({
    tools: globList,
    resources: globList,
    egress_domains: globList,
    approval_required: z.array(ApprovalRuleSchema).max(1000).default([]),
  })
  .strict();

const IdentitySchema = z
  .object({
    id: z.string().min(1).max(256),
    type: z.enum(IDENTITY_TYPES).default('agent'),
    owner: z.string().max(256).default(''),
    purpose: z.string().max(2048).default(''),
    state: z.enum(LIFECYCLE_STATES).default('active'),
    state_changed_at: timestamp.nullable().default(null),
    credentials: z.array(CredentialSchema).default([]),
    scope: ScopeSchema.nullable().default(null),
  })
  .strict();

const FileSchema = z.object({ identities: z.array(IdentitySchema) }).strict();

/** One entry as an API body (`PUT /v1/identities/:id`): the id comes from the path. */
export const IdentityBodySchema = IdentitySchema.partial({ id: true });

export class RegistryError extends Error {}

/** YAML (.yaml/.yml) or JSON (.json) text → identity records; every problem names file, entry and field. */
export function parseIdentitiesFile(text: string, fileName: string): IdentityRecord[] {
  const ext = path.extname(fileName).toLowerCase();
  let data: unknown;
  try {
    data = ext === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new RegistryError(
      `${fileName}: not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message}`,
    );
  }
  const parsed = FileSchema.safeParse(data);
  if (!parsed.success) {
    const issues = formatZodIssues(parsed.error.issues, {
      max: 5,
      where: (issuePath) => {
        const [, index, ...rest] = issuePath;
        const entry =
          typeof index === 'number'
            ? ((data as { identities: { id?: unknown }[] }).identities[index]?.id ?? index)
            : undefined;
        return entry === undefined
          ? dottedPath(issuePath)
          : `identity ${JSON.stringify(entry)}: ${rest.map(String).join('.') || '(entry)'}`;
      },
    });
    throw new RegistryError(`${fileName}: ${issues}`);
  }
  const seen = new Set<string>();
  return parsed.data.identities.map((entry) => {
    if (seen.has(entry.id)) throw new RegistryError(`${fileName}: identity "${entry.id}" is listed twice`);
    seen.add(entry.id);
    const problem = approvalProblem(entry);
    if (problem) throw new RegistryError(`${fileName}: identity "${entry.id}": ${problem}`);
    return recordOf(entry);
  });
}

type IdentityEntry = z.output<typeof IdentitySchema>;

function approvalProblem(entry: IdentityEntry): string | null {
  for (const { match } of entry.scope?.approval_required ?? [])
    if (!(ACTION_CLASSES as readonly string[]).includes(match) && !/[.:*]/.test(match))
      return `scope.approval_required: "${match}" is neither an action class nor a tool glob`;
  return null;
}

function recordOf(entry: IdentityEntry): IdentityRecord {
  return {
    id: entry.id,
    type: entry.type,
    owner: entry.owner,
    purpose: entry.purpose,
    state: entry.state,
    stateChangedAt: entry.state_changed_at,
    credentials: entry.credentials.map((c) => ({ id: c.id, state: c.state, revokedAt: c.revoked_at })),
    scope: entry.scope
      ? {
          tools: entry.scope.tools,
          resources: entry.scope.resources,
          egressDomains: entry.scope.egress_domains,
          approvalRequired: entry.scope.approval_required,
        }
      : null,
    registered: true,
  };
}

/** The registry file's `scope:` block. */
export interface RegistryScope {
  tools: string[];
  resources: string[];
  egress_domains: string[];
  approval_required: (string | { match: string; resources: string[] })[];
}

/** The registry file's scope block for a declared scope (approval rules on any resource as plain strings). */
export function registryScope(scope: DeclaredScope): RegistryScope {
  return {
    tools: [...scope.tools],
    resources: [...scope.resources],
    egress_domains: [...scope.egressDomains],
    approval_required: scope.approvalRequired.map((r) =>
      r.resources.length === 0 ? r.match : { match: r.match, resources: [...r.resources] },
    ),
  };
}

const isoOrNull = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/**
 * An identity as an entry of the registry file, with `scope` in place of its own when given:
 * what `parseIdentitiesFile` reads back as the same record.
 */
export function registryEntry(record: IdentityRecord, scope?: RegistryScope | null): Record<string, unknown> {
  const declared = scope === undefined ? (record.scope ? registryScope(record.scope) : null) : scope;
  return {
    id: record.id,
    type: record.type,
    owner: record.owner,
    purpose: record.purpose,
    state: record.state,
    ...(record.stateChangedAt === null ? {} : { state_changed_at: isoOrNull(record.stateChangedAt) }),
    credentials: record.credentials.map((c) => ({
      id: c.id,
      state: c.state,
      ...(c.revokedAt === null ? {} : { revoked_at: isoOrNull(c.revokedAt) }),
    })),
    ...(declared ? { scope: declared } : {}),
  };
}

/** Registry file text (YAML) holding these entries. */
export function registryYaml(entries: readonly Record<string, unknown>[]): string {
  return toYaml({ identities: entries }, { lineWidth: 0 });
}

/**
 * One identity entry in the registry file's shape (an API body), for the identity `id`: the
 * record, or what is wrong with it (field by field).
 */
export function parseIdentityEntry(
  value: unknown,
  id: string,
): { ok: true; record: IdentityRecord } | { ok: false; error: string } {
  const withId =
    value !== null && typeof value === 'object' && !Array.isArray(value) ? { id, ...value } : value;
  const parsed = IdentitySchema.safeParse(withId);
  if (!parsed.success)
    return {
      ok: false,
      error: formatZodIssues(parsed.error.issues, { max: 5, where: (p) => dottedPath(p) || 'body' }),
    };
  if (parsed.data.id !== id)
    return { ok: false, error: `id: "${parsed.data.id}" differs from the path's "${id}"` };
  const problem = approvalProblem(parsed.data);
  return problem ? { ok: false, error: problem } : { ok: true, record: recordOf(parsed.data) };
}

/** `*` = any run of characters, `?` = one character, everything else literal. */
export function compileGlob(pattern: string, caseInsensitive = false): (value: string) => boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  const regex = new RegExp(`^${source}$`, caseInsensitive ? 'is' : 's');
  return (value) => regex.test(value);
}

const cache = new Map<string, (value: string) => boolean>();
function glob(pattern: string, caseInsensitive: boolean): (value: string) => boolean {
  const key = `${caseInsensitive ? 'i' : 's'}${pattern}`;
  let matcher = cache.get(key);
  if (!matcher) {
    matcher = compileGlob(pattern, caseInsensitive);
    if (cache.size > 10_000) cache.clear();
    cache.set(key, matcher);
  }
  return matcher;
}

export function matchesAny(patterns: readonly string[], value: string, caseInsensitive = false): boolean {
  return patterns.some((p) => glob(p, caseInsensitive)(value));
}

export interface ScopeCheck {
  kind: 'tool' | 'resource' | 'egress' | 'approval';
  pattern_list: string[];
  value: string;
}

export interface ScopedEvent {
  tool: string;
  action: string;
  resource_type: string;
  resource_id: string;
  target_domain: string;
  approval_id: string;
}

/** The ways an event leaves its identity's declared scope (empty when it stays inside). */
export function checkDeclaredScope(scope: DeclaredScope, event: ScopedEvent): ScopeCheck[] {
  const violations: ScopeCheck[] = [];
  if (scope.tools.length > 0 && !matchesAny(scope.tools, event.tool))
    violations.push({ kind: 'tool', pattern_list: scope.tools, value: event.tool });
  const typed = event.resource_type ? `${event.resource_type}:${event.resource_id}` : event.resource_id;
  // A resource glob may name the type (`repo:acme/*`) or just the id (`prod-*`).
  const resourceIn = (globs: readonly string[]): boolean =>
    matchesAny(globs, typed) || matchesAny(globs, event.resource_id);
  if (event.resource_id && scope.resources.length > 0 && !resourceIn(scope.resources))
    violations.push({ kind: 'resource', pattern_list: scope.resources, value: typed });
  if (
    event.target_domain &&
    scope.egressDomains.length > 0 &&
    !matchesAny(scope.egressDomains, event.target_domain, true)
  )
    violations.push({ kind: 'egress', pattern_list: scope.egressDomains, value: event.target_domain });
  if (!event.approval_id && scope.approvalRequired.length > 0) {
    const needs = scope.approvalRequired.filter(
      (rule) =>
        (rule.match === event.action || glob(rule.match, false)(event.tool)) &&
        // Fails closed: an action that does not say what it acts on cannot show it is exempt.
        (rule.resources.length === 0 || event.resource_id === '' || resourceIn(rule.resources)),
    );
    if (needs.length > 0)
      violations.push({
        kind: 'approval',
        pattern_list: needs.map(describeApprovalRule),
        value: `${event.action} ${event.tool}${event.resource_id ? ` on ${typed}` : ''}`,
      });
  }
  return violations;
}

export interface LifecycleStatus {
  state: LifecycleState;
  since: number | null;
  subject: 'identity' | 'credential';
}

/** The lifecycle that applies to an event at `ts`: the identity's own, else its credential's. */
export function lifecycleAt(identity: IdentityRecord, credentialId: string, ts: number): LifecycleStatus {
  if (identity.state !== 'active' && (identity.stateChangedAt === null || ts >= identity.stateChangedAt))
    return { state: identity.state, since: identity.stateChangedAt, subject: 'identity' };
  const credential = credentialId ? identity.credentials.find((c) => c.id === credentialId) : undefined;
  if (
    credential &&
    credential.state !== 'active' &&
    (credential.revokedAt === null || ts >= credential.revokedAt)
  )
    return { state: credential.state, since: credential.revokedAt, subject: 'credential' };
  return { state: 'active', since: null, subject: 'identity' };
}
