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

/** `scope.new_egress`: an identity reaches a network destination it never contacted. */
export function createNewEgressDetector(overrides: Partial<NoveltyConfig> = {}): Detector {
  const config = noveltyConfig(overrides);
  return {
    id: 'scope.new_egress',
    version: '1.0.0',
    kind: 'behavioural',
    config,
    frameworks: ['OWASP-NHI:NHI5', 'OWASP-AGENTIC:T2', 'NIST-CSF:DE.CM-01'],
    evaluate(ctx: DetectorContext): Observation | null {
      const { event, profile } = ctx;
      if (!event.target_domain) return null;
      const window = windowMs(config);
      const term = { kind: 'domain', value: event.target_domain } as const;
      if (profile.recall(term, event.ts, window) || !warmedUp(ctx, config)) return null;
      const { score, peerShare, sessionNovel } = scoreNovelty(ctx, term, 1 - profile.noveltyRate('domain'));
      if (score < config.minScore) return null;
      const known = profile.values('domain', event.ts, window).map(([domain]) => domain);
      return {
        subject: event.target_domain,
        term,
        severity: severityFromScore(score),
        score,
        title: `${event.identity_id} reached a new domain: ${event.target_domain}`,
        explanation:
          `\`${event.identity_id}\` reached \`${event.target_domain}\` through \`${event.tool}\` for the first time; ` +
          `in ${String(config.windowDays)} days it contacted ${String(known.length)} domains: ${listValues(known)}.` +
          (ctx.peers.size > 1 ? ` ${percent(peerShare)} of other identities contacted it.` : '') +
          (sessionNovel > 0
            ? ` ${String(sessionNovel)} other first-seen things happened earlier in this session.`
            : ''),
        facts: {
          domain: event.target_domain,
          known_domains: known.slice(0, 50),
          known_domain_count: known.length,
          history_events: profile.events,
          peer_share: Math.round(peerShare * 1000) / 1000,
          session_novel_before: sessionNovel,
        },
      };
    },
  };
}
