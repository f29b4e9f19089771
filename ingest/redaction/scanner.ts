import { keyInfo } from './key-names.js';
import {
  skipFrom,
  next,
  whole,
  type Alternative,
  type KnownFormat,
  type Verdict,
} from './rules/alternative.js';
import { ASSIGNMENT } from './rules/assignments.js';
import { BASIC_AUTH, BEARER_TOKEN } from './rules/auth-headers.js';
import { AWS_ACCESS_KEY_ID, GOOGLE_API_KEY, scanAwsSecrets } from './rules/cloud-keys.js';
import { JWT } from './rules/jwt.js';
import { keyedValueSpan } from './rules/keyed-values.js';
import { PRIVATE_KEY } from './rules/private-keys.js';
import { REDACTION_MARKER } from './rules/redaction-markers.js';
import {
  ANTHROPIC_API_KEY,
  GITHUB_TOKEN,
  GITLAB_TOKEN,
  HUGGINGFACE_TOKEN,
  NPM_TOKEN,
  OPENAI_API_KEY,
  PYPI_TOKEN,
  SLACK_TOKEN,
  STRIPE_KEY,
} from './rules/saas-tokens.js';
import { SLACK_WEBHOOK, URL_CREDENTIALS } from './rules/url-credentials.js';
import type { Span } from './types.js';

/**
 * The text scanner: all rules of `rules/` as one precompiled regex, then the AWS secret pass,
 * then (when nothing was found) the whole-value rule for the key the string sits under.
 */

/**
 * Shorter strings skip the regex: every format needs at least 12 characters (`pwd=` + 8,
 * `Basic ` + 6, tokens 20+), except URL credentials with a password of 1-3 characters.
 */
export const MIN_SCAN_LENGTH = 12;

/**
 * A token must not continue a longer word (`task-...` is not an `sk-` key). Written once in
 * front of all bounded alternatives rather than in each: V8 evaluates a leading lookbehind at
 * every position for every alternative, and factoring it out halves that part of the scan.
 */
const B = '(?<![A-Za-z0-9])';

const KNOWN_FORMATS: readonly KnownFormat[] = [
  // Before openai: at the same position the first alternative wins, so sk-ant- is Anthropic.
  ANTHROPIC_API_KEY,
  OPENAI_API_KEY,
  STRIPE_KEY,
  GITHUB_TOKEN,
  GITLAB_TOKEN,
  SLACK_TOKEN,
  AWS_ACCESS_KEY_ID,
  GOOGLE_API_KEY,
  NPM_TOKEN,
  HUGGINGFACE_TOKEN,
  PYPI_TOKEN,
  JWT,
];

/**
 * Order matters only between alternatives that can start at the same position: the first
 * listed wins. Every sub-span (password, token, value) is the suffix of its match (closing quotes
 * are lookaheads) so its offsets follow from the group's length without the `d` flag.
 */
const ALTERNATIVES: readonly Alternative[] = [
  REDACTION_MARKER,
  PRIVATE_KEY,
  SLACK_WEBHOOK,
  URL_CREDENTIALS,
  BEARER_TOKEN,
  BASIC_AUTH,
  ...KNOWN_FORMATS.map((f): Alternative => ({
    group: f.group,
    source: f.source,
    bounded: true,
    // A rejected look-alike cannot hide a token inside (same alphabet): skip all of it, which
    // also keeps adversarial runs like `sk-a-sk-a-...` linear.
    judge: (m) =>
      f.valid === undefined || f.valid(m[0]) ? whole(m, f.kind) : skipFrom(m.index + m[0].length),
  })),
  ASSIGNMENT,
];

/** One alternation of named groups; runs of `bounded` alternatives share one `B` lookbehind. */
function combine(alternatives: readonly Alternative[], flags: string): RegExp {
  const pieces: string[] = [];
  let bounded: string[] = [];
  const flush = (): void => {
    if (bounded.length > 0) pieces.push(`${B}(?:${bounded.join('|')})`);
    bounded = [];
  };
  for (const a of alternatives) {
    const piece = `(?<${a.group}>${a.source})`;
    if (a.bounded === true) bounded.push(piece);
    else {
      flush();
      pieces.push(piece);
    }
  }
  flush();
  return new RegExp(pieces.join('|'), flags);
}

/** The one pass over every string. Shared and global: `lastIndex` is reset by each scan. */
const MAIN_RE = combine(ALTERNATIVES, 'g');
/**
 * Does a value captured by a wrapper (URL password, bearer token, assigned value) contain
 * something more specific? Then the scan resumes inside it so the specific kind wins.
 */
const NESTED_RE = combine(
  ALTERNATIVES.filter((a) => a.group !== 'assign' && a.group !== 'marker'),
  '',
);

function judgeMatch(m: RegExpExecArray, text: string): Verdict {
  const groups: Partial<Record<string, string>> = m.groups ?? {};
  for (const alternative of ALTERNATIVES) {
    if (groups[alternative.group] !== undefined) return alternative.judge(m, groups, NESTED_RE, text);
  }
  return next(m); // unreachable: every alternative is a named group
}

function scanPatterns(text: string): Span[] {
  const spans: Span[] = [];
  const re = MAIN_RE;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const verdict = judgeMatch(m, text);
    if (verdict.secret) spans.push({ start: verdict.start, end: verdict.end, kind: verdict.kind });
    else re.lastIndex = verdict.resumeAt;
  }
  return spans;
}

export function findSecrets(text: string, keyHint: string | undefined): Span[] {
  const { keyClass, aws: keyMentionsAws } = keyInfo(keyHint);
  let spans = text.length >= MIN_SCAN_LENGTH ? scanPatterns(text) : [];
  const aws = scanAwsSecrets(text, spans, keyMentionsAws);
  if (aws.length > 0) spans = [...spans, ...aws].sort((a, b) => a.start - b.start);
  if (spans.length === 0 && keyClass !== null) {
    const span = keyedValueSpan(text, keyClass);
    if (span !== null) spans.push(span);
  }
  return spans;
}
