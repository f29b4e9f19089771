import { hasUpperLowerDigit, shannonEntropy } from '../randomness.js';
import type { Span } from '../types.js';
import type { KnownFormat } from './alternative.js';

/**
 * Cloud provider keys: AWS access key ids and Google API keys (known formats in the combined
 * regex), and AWS secret access keys, which have no prefix and get a pass of their own.
 */

export const AWS_ACCESS_KEY_ID: KnownFormat = {
  group: 'awsid',
  kind: 'aws_access_key_id',
  source: `(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])`,
};

export const GOOGLE_API_KEY: KnownFormat = {
  group: 'google',
  kind: 'google_api_key',
  source: `AIza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])`,
};

// ---------------------------------------------------------------------------------------------
// AWS secret access keys: 40 base64 characters with no prefix
// ---------------------------------------------------------------------------------------------

/** How far (in characters) an AWS hint may be from a 40-character secret candidate. */
const AWS_HINT_DISTANCE = 200;

const AWS_SECRET_CANDIDATE_RE = /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;
const AWS_HINT_RE = /aws|AWS|Aws/g;

/**
 * A random 40-char base64 string: not a git SHA (hex, one case), not a path or a word.
 * Real keys carry ~4.8 bits/char; 4.2 leaves room while rejecting `ProfilePicture...`-like text.
 */
function isAwsSecretCandidate(candidate: string): boolean {
  return hasUpperLowerDigit(candidate) && shannonEntropy(candidate) >= 4.2;
}

function awsHintPositions(text: string, spans: readonly Span[]): number[] {
  const hints: number[] = [];
  for (const s of spans) if (s.kind === 'aws_access_key_id') hints.push(s.start);
  AWS_HINT_RE.lastIndex = 0;
  for (let m = AWS_HINT_RE.exec(text); m !== null; m = AWS_HINT_RE.exec(text)) hints.push(m.index);
  return hints;
}

function overlaps(spans: readonly Span[], start: number, end: number): boolean {
  return spans.some((s) => s.start < end && start < s.end);
}

/** Secret access keys near an access key id or the word AWS (or anywhere under an `aws*` key). */
export function scanAwsSecrets(text: string, spans: readonly Span[], keyMentionsAws: boolean): Span[] {
  if (text.length < 40) return [];
  const hints = keyMentionsAws ? [] : awsHintPositions(text, spans);
  if (!keyMentionsAws && hints.length === 0) return [];
  const found: Span[] = [];
  const re = AWS_SECRET_CANDIDATE_RE;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const start = m.index;
    const end = start + m[0].length;
    const near = keyMentionsAws || hints.some((h) => Math.abs(h - start) <= AWS_HINT_DISTANCE);
    if (near && !overlaps(spans, start, end) && isAwsSecretCandidate(m[0])) {
      found.push({ start, end, kind: 'aws_secret_access_key' });
    }
  }
  return found;
}
