import { cloudTrailToEvents } from './cloudtrail.js';
import { githubToEvents } from './github.js';
import { mcpToEvents } from './mcp.js';
import { otelToEvents } from './otel.js';
import { adapterOf, canonicalAdapter, type FormatAdapter } from './types.js';

/** Every source format scopewatch reads, by the name used in the `format` header, topic mapping and `--format`. */
export const ADAPTERS: readonly FormatAdapter[] = [
  canonicalAdapter,
  adapterOf('otel', otelToEvents, 'no execute_tool, MCP tools/call or invoke_agent span'),
  adapterOf('mcp', mcpToEvents, 'not a tools/call (protocol plumbing)'),
  adapterOf('cloudtrail', cloudTrailToEvents, 'no API call (CloudTrail Insights, or empty Records)'),
  adapterOf('github', githubToEvents, 'nothing to record'),
];

export const FORMAT_NAMES: readonly string[] = ADAPTERS.map((a) => a.name);
