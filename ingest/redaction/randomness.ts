/** Character statistics: only used on candidates, never on every string. */

interface CharClasses {
  lower: boolean;
  upper: boolean;
  digit: boolean;
  other: boolean;
}

export function charClasses(s: string): CharClasses {
  const c: CharClasses = { lower: false, upper: false, digit: false, other: false };
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code >= 97 && code <= 122) c.lower = true;
    else if (code >= 65 && code <= 90) c.upper = true;
    else if (code >= 48 && code <= 57) c.digit = true;
    else c.other = true;
  }
  return c;
}

export function classCount(s: string): number {
  const c = charClasses(s);
  return Number(c.lower) + Number(c.upper) + Number(c.digit) + Number(c.other);
}

/** Random base62/base64 tokens of 20+ characters practically always mix all three. */
export function hasUpperLowerDigit(s: string): boolean {
  const c = charClasses(s);
  return c.lower && c.upper && c.digit;
}

/** Shannon entropy in bits per character (code points). */
export function shannonEntropy(s: string): number {
  const counts = new Map<string, number>();
  let n = 0;
  for (const ch of s) {
    counts.set(ch, (counts.get(ch) ?? 0) + 1);
    n++;
  }
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / n;
    bits -= p * Math.log2(p);
  }
  return bits;
}
