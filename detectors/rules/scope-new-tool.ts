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

/** `scope.new_tool`: an identity uses a tool it never used inside its history window. */
export function createNewToolDetector(overrides: Partial<NoveltyConfig> = {}): Detector {
  const config = noveltyConfig(overrides);
  return {
    id: 'scope.new_tool',
    version: '1.0.0',
    kind: 'behavioural',
    config,
    frameworks: ['OWASP-NHI:NHI5', 'OWASP-AGENTIC:T2', 'NIST-CSF:DE.CM-09'],
    evaluate(ctx: DetectorContext): Observation | null {
      const { event, profile } = ctx;
      const term = { kind: 'tool', value: event.tool } as const;
      const window = windowMs(config);
      if (profile.recall(term, event.ts, window) || !warmedUp(ctx, config)) return null;
      const { score, peerShare, sessionNovel } = scoreNovelty(ctx, term, 1 - profile.noveltyRate('tool'));
      if (score < config.minScore) return null;
      const known = profile.values('tool', event.ts, window).map(([tool]) => tool);
      const peers = ctx.peers.size > 1 ? ` ${percent(peerShare)} of other identities use it.` : '';
      return {
        subject: event.tool,
        term,
        severity: severityFromScore(score),
        score,
        title: `${event.identity_id} used a new tool: ${event.tool}`,
        explanation:
          `\`${event.identity_id}\` called \`${event.tool}\` (${event.action}, ${event.outcome}) for the first time. ` +
          `In the last ${String(config.windowDays)} days it made ${String(profile.events)} calls with ` +
          `${String(known.length)} tools: ${listValues(known)}.${peers}` +
          (sessionNovel > 0
            ? ` ${String(sessionNovel)} other first-seen things happened earlier in this session.`
            : ''),
        facts: {
          tool: event.tool,
          known_tools: known.slice(0, 50),
          known_tool_count: known.length,
          history_events: profile.events,
          history_days: Math.round(profile.historyDays(event.ts) * 10) / 10,
          peer_share: Math.round(peerShare * 1000) / 1000,
          session_novel_before: sessionNovel,
        },
      };
    },
  };
}
