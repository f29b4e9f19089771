import { cloudTrailToEvents } from './cloudtrail.js';
import { githubToEvents } from './github.js';
import { mcpToEvents } from './mcp.js';
import { otelToEvents } from './otel.js';
import { canonicalAdapter, type FormatAdapter } from './types.js';

/** Every source format scopewatch reads, by the name used in the `format` header, topic mapping and `--format`. */
export const ADAPTERS: readonly FormatAdapter[] = [
  canonicalAdapter,
  { name: 'otel', toEvents: otelToEvents },
  { name: 'mcp', toEvents: mcpToEvents },
  { name: 'cloudtrail', toEvents: cloudTrailToEvents },
  { name: 'github', toEvents: githubToEvents },
];

export const FORMAT_NAMES: readonly string[] = ADAPTERS.map((a) => a.name);
