import { DAY_MS } from '../../common/time.js';
import type { Detector } from '../types.js';
import { createFirstSeenDetector, contextSentences, scoreFacts } from './first-seen.js';
import { listValues, type NoveltyOverrides } from './novelty.js';

/** `scope.new_egress`: an identity reaches a network destination it never contacted. */
export function createNewEgressDetector(overrides: NoveltyOverrides = {}): Detector {
  return createFirstSeenDetector(
    {
      id: 'scope.new_egress',
      version: '1.1.0',
      frameworks: ['OWASP-NHI:NHI5', 'OWASP-AGENTIC:T2', 'NIST-CSF:DE.CM-01'],
      term: ({ event }) => (event.target_domain ? { kind: 'domain', value: event.target_domain } : null),
      surprise: ({ profile }) => 1 - profile.noveltyRate('domain'),
      describe(ctx, _term, config, score) {
        const { event, profile } = ctx;
        const known = profile
          .values('domain', event.ts, config.windowDays * DAY_MS)
          .map(([domain]) => domain);
        return {
          title: `${event.identity_id} reached a new domain: ${event.target_domain}`,
          explanation:
            `\`${event.identity_id}\` reached \`${event.target_domain}\` through \`${event.tool}\` for the first time; ` +
            `in ${String(config.windowDays)} days it contacted ${String(known.length)} domain${known.length === 1 ? '' : 's'}: ${listValues(known)}.` +
            contextSentences(ctx, score, 'contacted'),
          facts: {
            domain: event.target_domain,
            known_domains: known.slice(0, 50),
            known_domain_count: known.length,
            history_events: profile.events,
            ...scoreFacts(score),
          },
        };
      },
    },
    overrides,
  );
}
