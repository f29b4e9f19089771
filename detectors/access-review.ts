import type { ApprovalRule, DeclaredScope, IdentityRecord } from '../model/identity.js';
import type { FleetUsage, UsageGroup } from '../model/usage.js';
import { describeApprovalRule, matchesAny, registryScope, type RegistryScope } from './registry.js';

/**
 * Access reviews (pure): what an identity did in a period against what it was granted.
 * Declared versus used scope per dimension (tools, resources, egress domains), approvals
 * required and obtained, and a proposed least-privilege scope — the declaration as it would be
 * if only what was used, and either declared or approved at every use, stayed. Every change the
 * proposal makes carries its reason, so a reviewer can accept it line by line.
 */

export interface UsageLine {
  name: string;
  events: number;
  failures: number;
  approved: number;
  first_ts: number;
  last_ts: number;
}

export interface UsageSummary {
  tools: UsageLine[];
  resource_families: UsageLine[];
  destinations: UsageLine[];
}

/** A declared glob and what it covered. */
export interface DeclaredUse {
  pattern: string;
  events: number;
  /** Distinct values it matched. */
  values: number;
}

/** A value used outside the declared globs. */
export interface OutsideUse {
  value: string;
  events: number;
  approved: number;
}

export interface DimensionReview {
  /** False when the declaration lists nothing here: the registry reads that as unconstrained. */
  constrained: boolean;
  declared: DeclaredUse[];
  /** Declared globs nothing matched in the period. */
  unused: string[];
  outside: OutsideUse[];
}

export interface ApprovalReview {
  rule: string;
  /** Events the rule applied to, and how many of them referenced an approval. */
  required: number;
  obtained: number;
  approvers: string[];
}

export interface ScopeReview {
  declared: boolean;
  tools: DimensionReview;
  resources: DimensionReview;
  egress_domains: DimensionReview;
  approvals: ApprovalReview[];
  /** Declared globs unused in the period over all declared globs (null: nothing declared). */
  unused_share: number | null;
}

export type ScopeField = keyof RegistryScope;

export interface ProposalNote {
  field: ScopeField;
  change: 'kept' | 'narrowed' | 'removed' | 'added' | 'excluded';
  entry: string;
  reason: string;
}

export interface ScopeProposal {
  scope: RegistryScope;
  notes: ProposalNote[];
}

export interface AccessReview {
  identity_id: string;
  period: { from: number; to: number };
  totals: {
    events: number;
    failures: number;
    approved: number;
    sessions: number;
    first_ts: number | null;
    last_ts: number | null;
    /** The period had more distinct tool/resource/destination groups than were read. */
    groups_truncated: boolean;
  };
  usage: UsageSummary;
  scope: ScopeReview;
  proposed: ScopeProposal;
}

/**
 * A glob that matched at most this many distinct values is narrowed to them; a broader one is
 * kept (listing hundreds of object keys would not make a declaration anyone can review).
 */
export const NARROW_AT = 10;
/** Lines per usage list, busiest first. */
export const USAGE_LINES = 500;

const EMPTY_SCOPE: DeclaredScope = { tools: [], resources: [], egressDomains: [], approvalRequired: [] };

/** `type:id`, or the bare id when the action named no type (how declared globs read resources). */
export function typedResource(type: string, id: string): string {
  return type ? `${type}:${id}` : id;
}

/**
 * A resource's family for summaries and undeclared proposals: its type and the first segment of
 * its id (`repo:acme/api` → `repo:acme/*`); ids without a `/` are their own family.
 */
export function resourceFamily(type: string, id: string): string {
  const slash = id.indexOf('/');
  return typedResource(type, slash > 0 ? `${id.slice(0, slash)}/*` : id);
}

interface Used {
  value: string;
  /** Another spelling a glob may match (a resource's bare id). */
  alt: string;
  events: number;
  approved: number;
}

function addUse(map: Map<string, Used>, value: string, alt: string, g: UsageGroup): void {
  const use = map.get(value);
  if (use) {
    use.events += g.events;
    use.approved += g.approved;
  } else map.set(value, { value, alt, events: g.events, approved: g.approved });
}

/** Distinct used values per dimension, with events and approved events. */
function usedValues(groups: readonly UsageGroup[]): {
  tools: Used[];
  resources: Used[];
  domains: Used[];
} {
  const tools = new Map<string, Used>();
  const resources = new Map<string, Used>();
  const domains = new Map<string, Used>();
  for (const g of groups) {
    if (g.tool) addUse(tools, g.tool, g.tool, g);
    if (g.resource_id) addUse(resources, typedResource(g.resource_type, g.resource_id), g.resource_id, g);
    if (g.target_domain) {
      const domain = g.target_domain.toLowerCase();
      addUse(domains, domain, domain, g);
    }
  }
  return { tools: [...tools.values()], resources: [...resources.values()], domains: [...domains.values()] };
}

const byName = (a: { value: string }, b: { value: string }): number =>
  a.value < b.value ? -1 : a.value > b.value ? 1 : 0;

function reviewDimension(
  globs: readonly string[],
  used: readonly Used[],
  caseInsensitive: boolean,
): { review: DimensionReview; matched: Map<string, Used[]> } {
  const matched = new Map<string, Used[]>(globs.map((g) => [g, []]));
  const outside: OutsideUse[] = [];
  for (const use of [...used].sort(byName)) {
    let inside = false;
    for (const glob of globs)
      if (matchesAny([glob], use.value, caseInsensitive) || matchesAny([glob], use.alt, caseInsensitive)) {
        matched.get(glob)?.push(use);
        inside = true;
      }
    if (!inside && globs.length > 0)
      outside.push({ value: use.value, events: use.events, approved: use.approved });
  }
  const declared = globs.map((pattern) => {
    const uses = matched.get(pattern) ?? [];
    return { pattern, events: uses.reduce((n, u) => n + u.events, 0), values: uses.length };
  });
  return {
    review: {
      constrained: globs.length > 0,
      declared,
      unused: declared.filter((d) => d.values === 0).map((d) => d.pattern),
      outside: outside.sort((a, b) => b.events - a.events || byName(a, b)),
    },
    matched,
  };
}

function ruleApplies(rule: ApprovalRule, g: UsageGroup): boolean {
  if (rule.match !== g.action && !matchesAny([rule.match], g.tool)) return false;
  // As the detector does: an action that does not say what it acts on cannot show it is exempt.
  return (
    rule.resources.length === 0 ||
    g.resource_id === '' ||
    matchesAny(rule.resources, typedResource(g.resource_type, g.resource_id)) ||
    matchesAny(rule.resources, g.resource_id)
  );
}

function reviewApprovals(rules: readonly ApprovalRule[], groups: readonly UsageGroup[]): ApprovalReview[] {
  return rules.map((rule) => {
    let required = 0;
    let obtained = 0;
    const approvers = new Set<string>();
    for (const g of groups)
      if (ruleApplies(rule, g)) {
        required += g.events;
        obtained += g.approved;
        for (const a of g.approvers) if (a) approvers.add(a);
      }
    return { rule: describeApprovalRule(rule), required, obtained, approvers: [...approvers].sort() };
  });
}

/** Declared versus used scope. */
export function reviewScope(scope: DeclaredScope | null, groups: readonly UsageGroup[]): ScopeReview {
  const declared = scope ?? EMPTY_SCOPE;
  const used = usedValues(groups);
  const tools = reviewDimension(declared.tools, used.tools, false).review;
  const resources = reviewDimension(declared.resources, used.resources, false).review;
  const egress = reviewDimension(declared.egressDomains, used.domains, true).review;
  const globs = tools.declared.length + resources.declared.length + egress.declared.length;
  const unused = tools.unused.length + resources.unused.length + egress.unused.length;
  return {
    declared: scope !== null,
    tools,
    resources,
    egress_domains: egress,
    approvals: reviewApprovals(declared.approvalRequired, groups),
    unused_share: globs === 0 ? null : unused / globs,
  };
}

const plural = (n: number, one: string, many = `${one}s`): string => `${String(n)} ${n === 1 ? one : many}`;

/** A value with `*` or `?` would be a glob in the registry: a name an agent chose must never widen a scope. */
const isLiteral = (value: string): boolean => !/[*?]/.test(value);

/** An outside use the proposal may add: approved at every use, and a literal value. */
const proposable = (out: OutsideUse): boolean => out.approved === out.events && isLiteral(out.value);

function excludedReason(out: OutsideUse): string {
  return !isLiteral(out.value)
    ? 'its name holds * or ?, which the registry reads as a wildcard: never proposed'
    : `used outside the declaration, ${String(out.events - out.approved)} of ${plural(out.events, 'use')} without approval: decide in review`;
}

/** One dimension's proposal: declared globs kept, narrowed or removed; outside uses added or excluded. */
function proposeDimension(
  field: 'tools' | 'resources' | 'egress_domains',
  globs: readonly string[],
  used: readonly Used[],
  caseInsensitive: boolean,
  undeclared: (uses: readonly Used[]) => string[],
): { entries: string[]; notes: ProposalNote[] } {
  const notes: ProposalNote[] = [];
  const note = (change: ProposalNote['change'], entry: string, reason: string): void => {
    notes.push({ field, change, entry, reason });
  };
  if (globs.length === 0) {
    const entries = undeclared(used.filter((u) => isLiteral(u.value)));
    for (const entry of entries)
      note('added', entry, 'nothing was declared (unconstrained); used in the period');
    if (entries.length === 0)
      note('kept', '(none)', 'nothing declared and nothing used; an empty list stays unconstrained');
    return { entries, notes };
  }
  const { review, matched } = reviewDimension(globs, used, caseInsensitive);
  if (review.unused.length === globs.length && !review.outside.some((o) => proposable(o))) {
    // Nothing declared here was used and nothing could be added: an empty list would read as
    // unconstrained, so the declaration stays, and the notes say so (and nothing else).
    notes.push({
      field,
      change: 'kept',
      entry: globs.join(', '),
      reason:
        'nothing declared here was used; an empty list would mean unconstrained, so the declaration stays (consider suspending the identity)',
    });
    for (const out of review.outside) note('excluded', out.value, excludedReason(out));
    return { entries: [...globs], notes };
  }
  const entries: string[] = [];
  for (const glob of globs) {
    const uses = matched.get(glob) ?? [];
    if (uses.length === 0) note('removed', glob, 'never used in the period');
    else if (uses.length <= NARROW_AT && /[*?]/.test(glob) && uses.every((u) => isLiteral(u.value))) {
      for (const use of uses) if (!entries.includes(use.value)) entries.push(use.value);
      note(
        'narrowed',
        glob,
        `only ${plural(uses.length, 'value')} matched: ${uses.map((u) => u.value).join(', ')}`,
      );
    } else {
      entries.push(glob);
      note(
        'kept',
        glob,
        `${plural(uses.length, 'value')} matched, ${plural(review.declared.find((d) => d.pattern === glob)?.events ?? 0, 'event')}`,
      );
    }
  }
  for (const out of review.outside) {
    if (proposable(out)) {
      entries.push(out.value);
      note(
        'added',
        out.value,
        `used outside the declaration, with a human approval at each of ${plural(out.events, 'use')}`,
      );
    } else note('excluded', out.value, excludedReason(out));
  }
  return { entries, notes };
}

/** The proposed least-privilege scope, with a note per change. */
export function proposeScope(scope: DeclaredScope | null, groups: readonly UsageGroup[]): ScopeProposal {
  const declared = scope ?? EMPTY_SCOPE;
  const used = usedValues(groups);
  const exact = (uses: readonly Used[]): string[] => uses.map((u) => u.value).sort();
  const tools = proposeDimension('tools', declared.tools, used.tools, false, exact);
  const resources = proposeDimension('resources', declared.resources, used.resources, false, () =>
    [
      ...new Set(
        groups
          .filter((g) => g.resource_id && isLiteral(typedResource(g.resource_type, g.resource_id)))
          .map((g) => resourceFamily(g.resource_type, g.resource_id)),
      ),
    ].sort(),
  );
  const domains = proposeDimension('egress_domains', declared.egressDomains, used.domains, true, exact);
  const approvals = reviewApprovals(declared.approvalRequired, groups);
  const approvalNotes = approvals.map((a): ProposalNote => ({
    field: 'approval_required',
    change: 'kept',
    entry: a.rule,
    reason:
      a.required === 0
        ? 'not exercised in the period; approvals are controls and stay'
        : `${String(a.obtained)} of ${plural(a.required, 'action')} it applied to carried an approval`,
  }));
  return {
    scope: {
      tools: tools.entries,
      resources: resources.entries,
      egress_domains: domains.entries,
      approval_required: registryScope(declared).approval_required,
    },
    notes: [...tools.notes, ...resources.notes, ...domains.notes, ...approvalNotes],
  };
}

function summarise(groups: readonly UsageGroup[], key: (g: UsageGroup) => string): UsageLine[] {
  const lines = new Map<string, UsageLine>();
  for (const g of groups) {
    const name = key(g);
    if (!name) continue;
    const line = lines.get(name);
    if (line) {
      line.events += g.events;
      line.failures += g.failures;
      line.approved += g.approved;
      line.first_ts = Math.min(line.first_ts, g.first_ts);
      line.last_ts = Math.max(line.last_ts, g.last_ts);
    } else
      lines.set(name, {
        name,
        events: g.events,
        failures: g.failures,
        approved: g.approved,
        first_ts: g.first_ts,
        last_ts: g.last_ts,
      });
  }
  return [...lines.values()]
    .sort((a, b) => b.events - a.events || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, USAGE_LINES);
}

/** Actions per tool, resource family and destination, busiest first. */
export function summariseUsage(groups: readonly UsageGroup[]): UsageSummary {
  return {
    tools: summarise(groups, (g) => g.tool),
    resource_families: summarise(groups, (g) =>
      g.resource_id ? resourceFamily(g.resource_type, g.resource_id) : '',
    ),
    destinations: summarise(groups, (g) => g.target_domain.toLowerCase()),
  };
}

export function accessReview(input: {
  identity: Pick<IdentityRecord, 'id' | 'scope'>;
  period: { from: number; to: number };
  groups: readonly UsageGroup[];
  groupsTruncated: boolean;
  sessions: number;
}): AccessReview {
  const { groups } = input;
  const sum = (f: (g: UsageGroup) => number): number => groups.reduce((n, g) => n + f(g), 0);
  return {
    identity_id: input.identity.id,
    period: { ...input.period },
    totals: {
      events: sum((g) => g.events),
      failures: sum((g) => g.failures),
      approved: sum((g) => g.approved),
      sessions: input.sessions,
      first_ts: groups.length === 0 ? null : groups.reduce((t, g) => Math.min(t, g.first_ts), Infinity),
      last_ts: groups.length === 0 ? null : groups.reduce((t, g) => Math.max(t, g.last_ts), -Infinity),
      groups_truncated: input.groupsTruncated,
    },
    usage: summariseUsage(groups),
    scope: reviewScope(input.identity.scope, groups),
    proposed: proposeScope(input.identity.scope, groups),
  };
}

export const FLEET_VERDICTS = ['investigate', 'idle', 'right-size', 'ok'] as const;
export type FleetVerdict = (typeof FLEET_VERDICTS)[number];

export interface FleetRow {
  identity_id: string;
  owner: string;
  purpose: string;
  lifecycle: IdentityRecord['state'];
  registered: boolean;
  declared_entries: number;
  unused_declared: number;
  unused_share: number | null;
  events: number;
  last_activity: number | null;
  open_findings: number;
  /** Suspended or revoked, yet acting after that. */
  active_after_lifecycle_end: boolean;
  verdict: FleetVerdict;
  reason: string;
}

/** A declaration with at least this share unused in the period is worth right-sizing. */
export const RIGHT_SIZE_SHARE = 0.5;

/** Suspended or revoked, and acting at `lastActivity` (ms) on or after that. */
export function actedAfterLifecycleEnd(
  record: Pick<IdentityRecord, 'state' | 'stateChangedAt'> | undefined,
  lastActivity: number | null,
): boolean {
  if (!record || record.state === 'active' || lastActivity === null) return false;
  return record.stateChangedAt === null || lastActivity >= record.stateChangedAt;
}

/** One row of the fleet review: what to do about an identity, and why. */
export function fleetRow(
  id: string,
  record: IdentityRecord | undefined,
  usage: FleetUsage | undefined,
  openFindings: number,
): FleetRow {
  const scope = record?.scope ?? EMPTY_SCOPE;
  const used = (values: readonly string[], alt: (v: string) => string = (v) => v): Used[] =>
    values.map((value) => ({ value, alt: alt(value), events: 0, approved: 0 }));
  const resources: Used[] = (usage?.resources ?? []).map((r) => ({
    value: typedResource(r.type, r.id),
    alt: r.id,
    events: 0,
    approved: 0,
  }));
  const dims = [
    reviewDimension(scope.tools, used(usage?.tools ?? []), false).review,
    reviewDimension(scope.resources, resources, false).review,
    reviewDimension(scope.egressDomains, used((usage?.domains ?? []).map((d) => d.toLowerCase())), true)
      .review,
  ];
  const declaredEntries = dims.reduce((n, d) => n + d.declared.length, 0);
  const unused = dims.reduce((n, d) => n + d.unused.length, 0);
  const share = declaredEntries === 0 ? null : unused / declaredEntries;
  const lifecycle = record?.state ?? 'active';
  const lastActivity = usage && usage.events > 0 ? usage.last_ts : null;
  const afterEnd = actedAfterLifecycleEnd(record, lastActivity);
  const [verdict, reason]: [FleetVerdict, string] =
    afterEnd && lastActivity !== null
      ? [
          'investigate',
          `${lifecycle}, yet acted in the period (last ${new Date(lastActivity).toISOString()})`,
        ]
      : lifecycle !== 'active'
        ? ['ok', `${lifecycle} and quiet`]
        : lastActivity === null
          ? ['idle', 'no activity in the period: offboard or suspend it if its purpose has ended']
          : share !== null && share >= RIGHT_SIZE_SHARE
            ? [
                'right-size',
                `${String(unused)} of ${plural(declaredEntries, 'declared entry', 'declared entries')} unused in the period`,
              ]
            : record?.registered
              ? ['ok', 'acting within what it uses']
              : ['ok', 'not registered: no declared scope to review'];
  return {
    identity_id: id,
    owner: record?.owner ?? '',
    purpose: record?.purpose ?? '',
    lifecycle,
    registered: record?.registered ?? false,
    declared_entries: declaredEntries,
    unused_declared: unused,
    unused_share: share,
    events: usage?.events ?? 0,
    last_activity: lastActivity,
    open_findings: openFindings,
    active_after_lifecycle_end: afterEnd,
    verdict,
    reason,
  };
}

/** The fleet table, most urgent first: investigate, idle, right-size, ok; then by unused share. */
export function fleetReview(
  records: ReadonlyMap<string, IdentityRecord>,
  usage: ReadonlyMap<string, FleetUsage>,
  openFindings: ReadonlyMap<string, number>,
): FleetRow[] {
  const ids = [...new Set([...records.keys(), ...usage.keys()])];
  return ids
    .map((id) => fleetRow(id, records.get(id), usage.get(id), openFindings.get(id) ?? 0))
    .sort(
      (a, b) =>
        FLEET_VERDICTS.indexOf(a.verdict) - FLEET_VERDICTS.indexOf(b.verdict) ||
        (b.unused_share ?? -1) - (a.unused_share ?? -1) ||
        b.open_findings - a.open_findings ||
        (a.identity_id < b.identity_id ? -1 : a.identity_id > b.identity_id ? 1 : 0),
    );
}
