import { resourceKey, resourcePrefix } from '../terms.js';
import { severityFromScore, type Detector, type DetectorContext, type Observation } from '../types.js';
import {
  listValues,
  percent,
  scoreNovelty,
  warmedUp,
  windowMs,
  noveltyConfig,
  type NoveltyConfig,
} from './novelty.js';

/**
 * `scope.new_resource`: an identity touches a resource outside its history. A new member of a
 * family it already works in (`acme/web` after `acme/api`) weighs less than a new family.
 */
export function createNewResourceDetector(overrides: Partial<NoveltyConfig> = {}): Detector {
  const config = noveltyConfig(overrides);
  return {
    id: 'scope.new_resource',
    version: '1.0.0',
    kind: 'behavioural',
    config,
    frameworks: ['OWASP-NHI:NHI5', 'OWASP-AGENTIC:T3', 'NIST-CSF:DE.CM-09'],
    evaluate(ctx: DetectorContext): Observation | null {
      const { event, profile } = ctx;
      if (!event.resource_id) return null;
      const window = windowMs(config);
      const term = { kind: 'resource', value: resourceKey(event.resource_type, event.resource_id) } as const;
      if (profile.recall(term, event.ts, window) || !warmedUp(ctx, config)) return null;
      const prefix = resourcePrefix(event.resource_id);
      const prefixTerm = {
        kind: 'resource_prefix',
        value: resourceKey(event.resource_type, prefix),
      } as const;
      const familyKnown = prefix !== '' && profile.recall(prefixTerm, event.ts, window) !== undefined;
      const { score, peerShare, sessionNovel } = scoreNovelty(
        ctx,
        term,
        (1 - profile.noveltyRate('resource', event.tool)) * (familyKnown ? 0.8 : 1),
      );
      if (score < config.minScore) return null;
      const sameType = profile
        .values('resource', event.ts, window)
        .map(([value]) => value)
        .filter((value) => !event.resource_type || value.startsWith(`${event.resource_type}:`));
      const noun = event.resource_type ? `${event.resource_type} resources` : 'resources';
      const family = prefix
        ? familyKnown
          ? `; it has used other \`${prefix}*\` ones`
          : `, none matching \`${prefix}*\``
        : '';
      return {
        subject: term.value,
        term,
        severity: severityFromScore(score),
        score,
        title: `${event.identity_id} touched a new resource: ${event.resource_id}`,
        explanation:
          `\`${event.identity_id}\` called \`${event.tool}\` on \`${event.resource_id}\` for the first time; ` +
          `in ${String(config.windowDays)} days it touched ${String(sameType.length)} ${noun}${family}` +
          (sameType.length > 0 ? ` (${listValues(sameType.map((v) => v.slice(v.indexOf(':') + 1)))})` : '') +
          '.' +
          (ctx.peers.size > 1 ? ` ${percent(peerShare)} of other identities touched it.` : '') +
          (sessionNovel > 0
            ? ` ${String(sessionNovel)} other first-seen things happened earlier in this session.`
            : ''),
        facts: {
          resource: term.value,
          resource_prefix: prefix,
          prefix_known: familyKnown,
          known_resources: sameType.slice(0, 50),
          known_resource_count: sameType.length,
          history_events: profile.events,
          peer_share: Math.round(peerShare * 1000) / 1000,
          session_novel_before: sessionNovel,
        },
      };
    },
  };
}
