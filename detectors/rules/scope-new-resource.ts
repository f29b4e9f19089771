import { DAY_MS } from '../../common/time.js';
import { resourceKey, resourcePrefix } from '../terms.js';
import type { Detector, DetectorContext } from '../types.js';
import { createFirstSeenDetector, contextSentences, scoreFacts } from './first-seen.js';
import { KNOWN_FAMILY_SURPRISE, listValues, type NoveltyOverrides } from './novelty.js';

/** A type counts as a family of opaque ids once the identity has worked with this many of them. */
const TYPE_FAMILY_MIN = 3;

/**
 * Whether the resource's family is one the identity already works in: its prefix, or for an
 * opaque id with no structure (`GXWCPN`), its type — a support agent that has opened eighty
 * reservations is not stepping into a new family by opening the eighty-first.
 */
function familyKnown(
  { event, profile }: DetectorContext,
  window: number,
): { prefix: string; known: boolean } {
  const prefix = resourcePrefix(event.resource_id);
  if (prefix === '')
    return {
      prefix,
      known: event.resource_type !== '' && profile.resourcesOfType(event.resource_type) >= TYPE_FAMILY_MIN,
    };
  const term = { kind: 'resource_prefix', value: resourceKey(event.resource_type, prefix) } as const;
  return { prefix, known: profile.recall(term, event.ts, window) !== undefined };
}

/**
 * `scope.new_resource`: an identity touches a resource outside its history. A new member of a
 * family it already works in (`acme/web` after `acme/api`) weighs less than a new family.
 */
export function createNewResourceDetector(overrides: NoveltyOverrides = {}): Detector {
  return createFirstSeenDetector(
    {
      id: 'scope.new_resource',
      version: '1.1.0',
      frameworks: ['OWASP-NHI:NHI5', 'OWASP-AGENTIC:T3', 'NIST-CSF:DE.CM-09'],
      term: ({ event }) =>
        event.resource_id
          ? { kind: 'resource', value: resourceKey(event.resource_type, event.resource_id) }
          : null,
      surprise: (ctx, _term, window) =>
        (1 - ctx.profile.noveltyRate('resource', ctx.event.tool)) *
        (familyKnown(ctx, window).known ? KNOWN_FAMILY_SURPRISE : 1),
      describe(ctx, term, config, score) {
        const { event, profile } = ctx;
        const family = familyKnown(ctx, config.windowDays * DAY_MS);
        const sameType = profile
          .values('resource', event.ts, config.windowDays * DAY_MS)
          .map(([value]) => value)
          .filter((value) => !event.resource_type || value.startsWith(`${event.resource_type}:`));
        const idOf = (value: string): string => value.slice(value.indexOf(':') + 1);
        const noun = event.resource_type ? `${event.resource_type} resources` : 'resources';
        // Examples always belong to what the sentence names: the type's resources, or the members
        // of the family it says the identity already works in.
        const examples = (ids: readonly string[]): string => (ids.length > 0 ? ` (${listValues(ids)})` : '');
        let familyText = examples(sameType.map(idOf));
        if (family.prefix && !family.known) familyText += `, none matching \`${family.prefix}*\``;
        if (family.prefix && family.known) {
          // Keys of the same type as the event, so the id is the key less `type:` (or the key itself).
          const members = sameType
            .map((value) => (event.resource_type ? value.slice(event.resource_type.length + 1) : value))
            .filter((id) => resourcePrefix(id) === family.prefix);
          familyText =
            members.length > 0
              ? `; it has used ${String(members.length)} other \`${family.prefix}*\` one${members.length === 1 ? '' : 's'}${examples(members)}`
              : `; it has worked in \`${family.prefix}*\` before, but none of those resources is in its baseline`;
        }
        return {
          title: `${event.identity_id} touched a new resource: ${event.resource_id}`,
          explanation:
            `\`${event.identity_id}\` called \`${event.tool}\` on \`${event.resource_id}\` for the first time; ` +
            `in ${String(config.windowDays)} days it touched ${String(sameType.length)} ${noun}${familyText}.` +
            contextSentences(ctx, score, 'touched'),
          facts: {
            resource: term.value,
            resource_prefix: family.prefix,
            prefix_known: family.known,
            known_resources: sameType.slice(0, 50),
            known_resource_count: sameType.length,
            history_events: profile.events,
            ...scoreFacts(score),
          },
        };
      },
    },
    overrides,
  );
}
