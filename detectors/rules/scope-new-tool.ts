import { DAY_MS } from '../../common/time.js';
import type { Detector } from '../types.js';
import { createFirstSeenDetector, contextSentences, scoreFacts } from './first-seen.js';
import { listValues, type NoveltyOverrides } from './novelty.js';

/** `scope.new_tool`: an identity uses a tool it never used inside its history window. */
export function createNewToolDetector(overrides: NoveltyOverrides = {}): Detector {
  return createFirstSeenDetector(
    {
      id: 'scope.new_tool',
      version: '1.1.0',
      frameworks: ['OWASP-NHI:NHI5', 'OWASP-AGENTIC:T2', 'NIST-CSF:DE.CM-09'],
      term: ({ event }) => ({ kind: 'tool', value: event.tool }),
      surprise: ({ profile }) => 1 - profile.noveltyRate('tool'),
      describe(ctx, _term, config, score) {
        const { event, profile } = ctx;
        const known = profile.values('tool', event.ts, config.windowDays * DAY_MS).map(([tool]) => tool);
        return {
          title: `${event.identity_id} used a new tool: ${event.tool}`,
          explanation:
            `\`${event.identity_id}\` called \`${event.tool}\` (${event.action}, ${event.outcome}) for the first time. ` +
            `In the last ${String(config.windowDays)} days it made ${String(profile.events)} calls with ` +
            `${String(known.length)} tools: ${listValues(known)}.` +
            contextSentences(ctx, score, 'use'),
          facts: {
            tool: event.tool,
            known_tools: known.slice(0, 50),
            known_tool_count: known.length,
            history_events: profile.events,
            history_days: Math.round(profile.historyDays(event.ts) * 10) / 10,
            ...scoreFacts(score),
          },
        };
      },
    },
    overrides,
  );
}
