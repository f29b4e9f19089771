import { DAY_MS } from '../../common/time.js';
import type { DetectorEvent } from '../../model/detector-event.js';
import type { IdentityProfile } from '../profile.js';
import {
  DESTINATION_RESOURCE_TYPES,
  resourceKey,
  resourcePrefix,
  toolResourceKey,
  type Term,
} from '../terms.js';
import type { BaselineTerm, BaselineView } from './compile.js';

/**
 * The baseline predicates of rules (`new_for_identity: destination`, …) answered from the
 * identity's profile as it stood before the event, with the same window and warm-up the
 * first-seen detectors use: an identity with almost no history has nothing to be new against.
 */

export interface BaselineViewConfig {
  windowMs: number;
  warmupEvents: number;
}

export const DEFAULT_BASELINE_VIEW: BaselineViewConfig = { windowMs: 30 * DAY_MS, warmupEvents: 20 };

/** The event's values of one baseline kind (a destination may be a domain and a recipient). */
export function termsFor(event: DetectorEvent, kind: BaselineTerm): Term[] {
  const resource = resourceKey(event.resource_type, event.resource_id);
  switch (kind) {
    case 'tool':
      return [{ kind: 'tool', value: event.tool }];
    case 'action':
      return [{ kind: 'action', value: event.action }];
    case 'resource':
      return resource ? [{ kind: 'resource', value: resource }] : [];
    case 'resource_prefix': {
      const prefix = resourcePrefix(event.resource_id);
      return prefix ? [{ kind: 'resource_prefix', value: resourceKey(event.resource_type, prefix) }] : [];
    }
    case 'tool_resource':
      return resource ? [{ kind: 'tool_resource', value: toolResourceKey(event.tool, resource) }] : [];
    case 'domain':
      return event.target_domain ? [{ kind: 'domain', value: event.target_domain }] : [];
    case 'credential':
      return event.identity_credential ? [{ kind: 'credential', value: event.identity_credential }] : [];
    case 'destination': {
      const out: Term[] = [];
      if (event.target_domain) out.push({ kind: 'domain', value: event.target_domain });
      if (resource && DESTINATION_RESOURCE_TYPES.has(event.resource_type))
        out.push({ kind: 'resource', value: resource });
      return out;
    }
  }
}

export function termKey(term: Term): string {
  return `${term.kind}\u0000${term.value}`;
}

export function profileBaselineView(
  event: DetectorEvent,
  profile: IdentityProfile,
  seenInSession: ReadonlySet<string> | undefined,
  config: BaselineViewConfig,
): BaselineView {
  const known = (t: Term): boolean => profile.recall(t, event.ts, config.windowMs) !== undefined;
  return {
    isNew(kind) {
      if (profile.events < config.warmupEvents) return false;
      return termsFor(event, kind).some((t) => !known(t));
    },
    isSeen(kind) {
      return termsFor(event, kind).some(known);
    },
    newInSession(kind) {
      const terms = termsFor(event, kind);
      return terms.length > 0 && terms.some((t) => !seenInSession?.has(termKey(t)));
    },
  };
}

/**
 * How many times the identity did this before, for its least familiar part: the tool on this
 * resource (or the tool, without one) and each destination. A deploy the identity runs daily
 * is routine; the same deploy to a new target, or a routine send to a new payee, is not.
 */
export function priorCount(event: DetectorEvent, profile: IdentityProfile, windowMs: number): number {
  const parts: Term[] = termsFor(event, 'tool_resource');
  if (parts.length === 0) parts.push(...termsFor(event, 'tool'));
  parts.push(...termsFor(event, 'destination'));
  let least = Number.POSITIVE_INFINITY;
  for (const t of parts) least = Math.min(least, profile.recall(t, event.ts, windowMs)?.count ?? 0);
  return Number.isFinite(least) ? least : 0;
}
