import { skipFrom, type Alternative } from './alternative.js';

// Our own markers: consumed and left alone, which makes redaction idempotent.
export const REDACTION_MARKER: Alternative = {
  group: 'marker',
  source: String.raw`\[REDACTED:[a-z0-9_]+:sha256:[0-9a-f]{16}\]`,
  judge: (m) => skipFrom(m.index + m[0].length),
};
