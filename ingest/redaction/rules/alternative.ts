import type { SecretKind, Span } from '../types.js';

/**
 * The shape of a rule in the combined regex (see `scanner.ts`): a named group, its source, and a
 * judge that decides what a match of that group means.
 */

/** A match either is a secret span or is skipped, resuming the scan at `resumeAt` (> match start). */
export type Verdict = ({ secret: true } & Span) | { secret: false; resumeAt: number };

export interface Alternative {
  /** Named group wrapping this alternative in the combined regex. */
  group: string;
  source: string;
  /** Must not start inside a word: gets the shared `B` lookbehind. */
  bounded?: boolean;
  /**
   * `nested` is the scanner's regex of specific formats, for wrappers (URL password, bearer token,
   * assigned value) whose captured value may hold a more specific secret. It is passed in rather
   * than imported because it is built from these alternatives.
   */
  judge: (
    m: RegExpExecArray,
    groups: Partial<Record<string, string>>,
    nested: RegExp,
    text: string,
  ) => Verdict;
}

/** Known formats (all `bounded`): `source` is found anywhere, `valid` weeds out look-alikes. */
export interface KnownFormat {
  group: string;
  kind: SecretKind;
  source: string;
  valid?: (t: string) => boolean;
}

export const skipFrom = (resumeAt: number): Verdict => ({ secret: false, resumeAt });
export const next = (m: RegExpExecArray): Verdict => skipFrom(m.index + 1);
export const whole = (m: RegExpExecArray, kind: SecretKind): Verdict => ({
  secret: true,
  start: m.index,
  end: m.index + m[0].length,
  kind,
});

/** The secret is the last `length` characters of the match. */
export function suffixSpan(m: RegExpExecArray, length: number, kind: SecretKind): Verdict {
  const end = m.index + m[0].length;
  return { secret: true, start: end - length, end, kind };
}
