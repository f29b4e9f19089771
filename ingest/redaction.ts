import { createHash } from 'node:crypto';

/**
 * Secret redaction for agent action events. Pure: no I/O besides hashing.
 *
 * A secret is replaced in place by `[REDACTED:<kind>:sha256:<16 hex>]`; only the secret's own
 * span changes (`Bearer <token>` keeps `Bearer `, a URL keeps user and host), and the caller gets
 * `{ path, kind, fingerprint }` records that never contain the value. The fingerprint lets
 * analysts see that two events used the same secret without storing it.
 *
 * Three detectors, cheapest first:
 *  1. One precompiled regex pass over the string: known token formats (AWS key ids, GitHub,
 *     GitLab, Slack, OpenAI, Anthropic, Stripe, Google, npm, Hugging Face, PyPI, JWT, PEM private
 *     keys), `Bearer`/`Basic` credentials, URL passwords, and `password=...`-style assignments in
 *     free text (shell commands, headers, unparsable JSON).
 *  2. AWS secret access keys, which have no prefix: only 40-char candidates next to an AWS hint.
 *  3. Key names: under `password`, `client_secret`, `x-api-key`... the whole value is the secret,
 *     unless it is an obvious placeholder (see `isPlaceholder`). Entropy is computed only here.
 *
 * Performance: this runs on every string of every event. Strings shorter than
 * `MIN_SCAN_LENGTH` skip the regex (no format fits in them), key names are classified once and
 * memoised, and the regex is a single alternation compiled once at load.
 */

export type SecretKind =
  | 'aws_access_key_id'
  | 'aws_secret_access_key'
  | 'github_token'
  | 'gitlab_token'
  | 'slack_token'
  | 'slack_webhook'
  | 'openai_api_key'
  | 'anthropic_api_key'
  | 'jwt'
  | 'private_key'
  | 'bearer_token'
  | 'basic_auth'
  | 'url_credentials'
  | 'stripe_key'
  | 'google_api_key'
  | 'npm_token'
  | 'huggingface_token'
  | 'pypi_token'
  | 'generic_secret';

export interface Redaction {
  path: string;
  kind: SecretKind;
  fingerprint: string;
}

export const REDACTED_PREFIX = '[REDACTED:';

/**
 * Subtrees nested deeper than this are replaced by `DEPTH_LIMIT_PLACEHOLDER`: a hostile message
 * of deeply nested arrays must not overflow the stack, and an unscanned subtree may not be stored.
 */
export const MAX_DEPTH = 64;
export const DEPTH_LIMIT_PLACEHOLDER = '[TRUNCATED:max-depth]';

/**
 * Shorter strings skip the regex: every format needs at least 12 characters (`pwd=` + 8,
 * `Basic ` + 6, tokens 20+), except URL credentials with a password of 1-3 characters.
 */
const MIN_SCAN_LENGTH = 12;
/** Whole values under secret-like keys shorter than this stay, unless they look random. */
const MIN_SECRET_LENGTH = 8;
/** How far (in characters) an AWS hint may be from a 40-character secret candidate. */
const AWS_HINT_DISTANCE = 200;

export function fingerprintSecret(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 16)}`;
}

function marker(kind: SecretKind, fingerprint: string): string {
  return `${REDACTED_PREFIX}${kind}:${fingerprint}]`;
}

// ---------------------------------------------------------------------------------------------
// Character statistics (only used on candidates, never on every string)
// ---------------------------------------------------------------------------------------------

interface CharClasses {
  lower: boolean;
  upper: boolean;
  digit: boolean;
  other: boolean;
}

function charClasses(s: string): CharClasses {
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

function classCount(s: string): number {
  const c = charClasses(s);
  return Number(c.lower) + Number(c.upper) + Number(c.digit) + Number(c.other);
}

/** Random base62/base64 tokens of 20+ characters practically always mix all three. */
function hasUpperLowerDigit(s: string): boolean {
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

// ---------------------------------------------------------------------------------------------
// Placeholders: values that cannot themselves authenticate
// ---------------------------------------------------------------------------------------------

/**
 * Structural placeholders and references: masks (`********`), templates and environment
 * references (`${DB_PASSWORD}`, `{{ secrets.X }}`, `$(cat f)`, `$TOKEN`, `%APPDATA%`), angle or
 * bracket placeholders (`<token>`, `[hidden]`), doc fillers (`your-api-key-here`), and
 * secret-manager references (AWS ARNs, GCP secret names, `op://`, `vault:`): the value names a
 * secret, it is not one. Env references are uppercase only so that a password like `$ecretPa55`
 * is not mistaken for one.
 */
const STRUCTURAL_PLACEHOLDER_RE = new RegExp(
  [
    String.raw`^[*•xX#.\-_\s]+$`,
    String.raw`^\$\{\{?[^{}]+\}?\}$`,
    String.raw`^\{\{[^{}]+\}\}$`,
    String.raw`^\$\([^()]+\)$`,
    String.raw`^\$[A-Z_][A-Z0-9_]*$`,
    String.raw`^%[A-Za-z_][A-Za-z0-9_]*%$`,
    String.raw`^%\([A-Za-z0-9_]+\)s$`,
    String.raw`^<[^<>]+>$`,
    String.raw`^\[[A-Za-z0-9 _-]*\]$`,
    String.raw`^(?:[Yy]our|YOUR|[Ii]nsert|INSERT|[Ee]nter|ENTER|[Rr]eplace|REPLACE)[-_ ]`,
    String.raw`[-_ ](?:here|HERE)$`,
    String.raw`^arn:aws[a-z-]*:`,
    String.raw`^projects/[^/\s]+/secrets/`,
    String.raw`^op://`,
    String.raw`^vault:`,
  ].join('|'),
);

/**
 * State words seen under secret-like keys (`"password": "disabled"`). Default passwords such as
 * `changeme` or `password` are deliberately NOT here: they are real credentials on real systems,
 * and redacting them costs only a fingerprint.
 */
const NON_SECRET_WORDS = new Set([
  'redacted',
  'masked',
  'hidden',
  'removed',
  'omitted',
  'none',
  'null',
  'nil',
  'undefined',
  'true',
  'false',
  'yes',
  'no',
  'on',
  'off',
  'enabled',
  'disabled',
  'required',
  'optional',
  'empty',
  'unset',
  'notset',
  'not set',
  'n/a',
  'placeholder',
]);

/** Authentication *modes* seen under `auth`/`authorization` keys (`"auth": "service_account"`). */
const AUTH_MODE_WORDS = new Set([
  'basic',
  'bearer',
  'token',
  'oauth',
  'oauth2',
  'oidc',
  'saml',
  'iam',
  'sigv4',
  'aws_iam',
  'api_key',
  'apikey',
  'service_account',
  'serviceaccount',
  'anonymous',
  'kerberos',
  'ldap',
  'mtls',
  'password',
  'jwt',
]);

function isPlaceholder(value: string, keyClass: KeyClass | null): boolean {
  if (value.includes(REDACTED_PREFIX) || STRUCTURAL_PLACEHOLDER_RE.test(value)) return true;
  const lower = value.toLowerCase();
  return NON_SECRET_WORDS.has(lower) || (keyClass === 'auth' && AUTH_MODE_WORDS.has(lower));
}

/**
 * Short values are normally kept (`"pwd": "1234"` says little and is often a flag), but a short
 * value mixing three character classes with no repeats (`Xk9#qL`) is a password.
 */
function looksRandom(value: string): boolean {
  return value.length >= 6 && classCount(value) >= 3 && shannonEntropy(value) >= 2.3;
}

/** The whole-value rule for a string under a secret-like key. */
function isSecretValue(value: string, keyClass: KeyClass): boolean {
  const v = value.trim();
  if (v.length === 0 || isPlaceholder(v, keyClass)) return false;
  return v.length >= MIN_SECRET_LENGTH || looksRandom(v);
}

/**
 * A value assigned in free text (`password: forgotten` in prose vs `PASSWORD=hunter2x`): with no
 * structure to go by, ask for some randomness, two character classes or sheer length.
 */
function isAssignedSecret(value: string, keyClass: KeyClass): boolean {
  if (value.length < MIN_SECRET_LENGTH || isPlaceholder(value, keyClass)) return false;
  return value.length >= 16 || classCount(value) >= 2;
}

// ---------------------------------------------------------------------------------------------
// Key names
// ---------------------------------------------------------------------------------------------

/** `aws` → the AWS secret access key kind; `auth` → also accepts auth-mode words as non-secrets. */
type KeyClass = 'secret' | 'aws' | 'auth';

/** Words that make the whole key a secret when they are its last word. */
const SECRET_NOUNS = new Set([
  'password',
  'passwords',
  'passwd',
  'passphrase',
  'pwd',
  'pass',
  'secret',
  'secrets',
  'token',
  'credential',
  'credentials',
  'creds',
  'apikey',
  'apikeys',
  'cookie',
  'cookies',
  'auth',
  'authorization',
  'bearer',
  'jwt',
]);

/** Nouns recognised at the end of a run-together word (`PGPASSWORD`, `authtoken`, `apikey`). */
const COMPOUND_SUFFIXES = [
  'password',
  'passwd',
  'passphrase',
  'pwd',
  'secret',
  'token',
  'credentials',
  'credential',
  'apikey',
  'authorization',
  'cookie',
  'key',
];

/** Trailing words that do not change what the value is (`password_hash`, `auth_header`). */
const NEUTRAL_SUFFIXES = new Set([
  'value',
  'data',
  'str',
  'string',
  'text',
  'b64',
  'base64',
  'hex',
  'hash',
  'hashed',
  'enc',
  'encrypted',
  'plain',
  'plaintext',
  'raw',
  'header',
  'confirm',
  'confirmation',
]);

/** `key` alone is an S3 key, a map key, an idempotency key: only these qualifiers make it secret. */
const KEY_QUALIFIERS = new Set([
  'api',
  'access',
  'secret',
  'private',
  'signing',
  'encryption',
  'decryption',
  'master',
  'session',
  'client',
  'auth',
  'license',
  'account',
  'storage',
  'shared',
  'hmac',
  'webhook',
  'app',
  'subscription',
  'admin',
]);

/**
 * Opaque tokens that are not credentials: AWS `NextToken`/`ClientToken` (pagination and
 * idempotency), Google `pageToken`, `continuation_token`... and LLM counters (`max_token`).
 */
const NON_SECRET_TOKEN_QUALIFIERS = new Set([
  'next',
  'page',
  'continuation',
  'pagination',
  'cursor',
  'sync',
  'resume',
  'start',
  'client',
  'idempotency',
  'cancellation',
  'cancel',
  'lock',
  'change',
  'max',
  'min',
  'num',
  'total',
]);

/**
 * Schema fields whose key sounds secret but whose value is documented as an identifier:
 * `identity.credential` is the id/fingerprint of the credential used (DESIGN.md), and the
 * shared-credential detector correlates on it. Known token formats are still found there.
 */
const NON_SECRET_PATHS = new Set(['identity.credential']);

/** Env vars that hold directories, not passwords. */
const NON_SECRET_KEY_NAMES = new Set(['PWD', 'OLDPWD']);

/** `args.items[2].apiKey` → `apiKey`: hints may be full paths, only the last segment names the value. */
function lastSegment(key: string): string {
  const dot = key.lastIndexOf('.');
  const segment = dot >= 0 ? key.slice(dot + 1) : key;
  const bracket = segment.indexOf('[');
  return bracket > 0 ? segment.slice(0, bracket) : segment;
}

/** `SecretAccessKey` / `aws_secret_access_key` / `x-api-key` → lowercase words. */
function keyWords(segment: string): string[] {
  return segment
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/** Splits the key's last word into (qualifier, noun), e.g. `client_secret` → (client, secret). */
function findNoun(words: string[]): { noun: string; qualifier: string } | null {
  const last = words[words.length - 1] ?? '';
  const previous = words[words.length - 2] ?? '';
  if (SECRET_NOUNS.has(last) || last === 'key') return { noun: last, qualifier: previous };
  for (const suffix of COMPOUND_SUFFIXES) {
    if (last.length > suffix.length && last.endsWith(suffix)) {
      return { noun: suffix, qualifier: last.slice(0, -suffix.length) };
    }
  }
  return null;
}

/** Drops trailing words that do not change the meaning: `password_hash`, `secret_2`, `token1`. */
function significantWords(segment: string): string[] {
  const words = keyWords(segment);
  const isNeutral = (w: string): boolean => NEUTRAL_SUFFIXES.has(w) || /^[0-9]+$/.test(w);
  while (words.length > 1 && isNeutral(words[words.length - 1] ?? '')) words.pop();
  const last = words.pop()?.replace(/[0-9]+$/, '') ?? '';
  if (last !== '') words.push(last);
  return words;
}

function classifyKeyUncached(key: string): KeyClass | null {
  if (NON_SECRET_PATHS.has(key)) return null;
  const segment = lastSegment(key);
  if (NON_SECRET_KEY_NAMES.has(segment)) return null;
  const words = significantWords(segment);
  const found = findNoun(words);
  if (found === null) return null;
  const { noun, qualifier } = found;
  if (noun === 'key' && !KEY_QUALIFIERS.has(qualifier)) return null;
  if (noun === 'token' && NON_SECRET_TOKEN_QUALIFIERS.has(qualifier)) return null;
  const all = words.join('_');
  if (all.includes('secret') && (all.includes('access') || words.includes('aws'))) return 'aws';
  if (noun === 'auth' || noun === 'authorization') return 'auth';
  return 'secret';
}

interface KeyInfo {
  keyClass: KeyClass | null;
  /** The key mentions AWS (`aws_credentials`): 40-char secret candidates need no other hint. */
  aws: boolean;
}

const NO_KEY: KeyInfo = { keyClass: null, aws: false };

// Keys repeat endlessly across events: classify each once. Bounded so that producers sending
// random keys cannot grow it forever.
const KEY_CACHE = new Map<string, KeyInfo>();
const KEY_CACHE_MAX = 10_000;

function keyInfo(key: string | undefined): KeyInfo {
  if (key === undefined || key.length === 0) return NO_KEY;
  const cached = KEY_CACHE.get(key);
  if (cached !== undefined) return cached;
  const keyClass = classifyKeyUncached(key);
  const info: KeyInfo = { keyClass, aws: keyClass === 'aws' || /aws/i.test(lastSegment(key)) };
  if (KEY_CACHE.size >= KEY_CACHE_MAX) KEY_CACHE.clear();
  KEY_CACHE.set(key, info);
  return info;
}

function classifyKey(key: string | undefined): KeyClass | null {
  return keyInfo(key).keyClass;
}

/**
 * Does this key (or dotted path, whose last segment counts) name a secret? `password`,
 * `client_secret`, `x-api-key`, `SecretAccessKey`: yes. `max_tokens`, `auth_method`,
 * `secret_name`, `password_policy`, `NextToken`: no.
 */
export function isSecretKeyName(key: string): boolean {
  return classifyKey(key) !== null;
}

function kindForKey(keyClass: KeyClass): SecretKind {
  return keyClass === 'aws' ? 'aws_secret_access_key' : 'generic_secret';
}

// ---------------------------------------------------------------------------------------------
// The combined pattern
// ---------------------------------------------------------------------------------------------

interface Span {
  start: number;
  end: number;
  kind: SecretKind;
}

/** A match either is a secret span or is skipped, resuming the scan at `resumeAt` (> match start). */
type Verdict = ({ secret: true } & Span) | { secret: false; resumeAt: number };

interface Alternative {
  /** Named group wrapping this alternative in the combined regex. */
  group: string;
  source: string;
  /** Must not start inside a word: gets the shared `B` lookbehind. */
  bounded?: boolean;
  judge: (m: RegExpExecArray, groups: Partial<Record<string, string>>, text: string) => Verdict;
}

const skipFrom = (resumeAt: number): Verdict => ({ secret: false, resumeAt });
const next = (m: RegExpExecArray): Verdict => skipFrom(m.index + 1);
const whole = (m: RegExpExecArray, kind: SecretKind): Verdict => ({
  secret: true,
  start: m.index,
  end: m.index + m[0].length,
  kind,
});

/**
 * A token must not continue a longer word (`task-...` is not an `sk-` key). Written once in
 * front of all bounded alternatives rather than in each: V8 evaluates a leading lookbehind at
 * every position for every alternative, and factoring it out halves that part of the scan.
 */
const B = '(?<![A-Za-z0-9])';

/** Known formats (all `bounded`): `source` is found anywhere, `valid` weeds out look-alikes. */
const KNOWN_FORMATS: readonly {
  group: string;
  kind: SecretKind;
  source: string;
  valid?: (t: string) => boolean;
}[] = [
  // Before openai: at the same position the first alternative wins, so sk-ant- is Anthropic.
  { group: 'anthropic', kind: 'anthropic_api_key', source: `sk-ant-[A-Za-z0-9_-]{20,}` },
  {
    group: 'openai',
    kind: 'openai_api_key',
    source: `sk-(?!ant-)[A-Za-z0-9_-]{20,}`,
    // Covers sk-proj-/sk-svcacct-/legacy keys; a package name like sk-some-long-name has no digits/caps.
    valid: (t) => hasUpperLowerDigit(t.slice(3)),
  },
  {
    group: 'stripe',
    kind: 'stripe_key',
    source: `(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9]{24,})`,
  },
  // Classic tokens are prefix + 36; accept from 30 so truncated copies are still caught.
  {
    group: 'github',
    kind: 'github_token',
    source: `(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})`,
  },
  {
    group: 'gitlab',
    kind: 'gitlab_token',
    source: `(?:(?:glpat|gldt|glrt|glcbt|glptt|glft|glimt|glagent|gloas|glsoat|glffct)-[A-Za-z0-9_-]{20,}(?:\\.[A-Za-z0-9_-]+)*|GR1348941[A-Za-z0-9_-]{20,})`,
  },
  {
    group: 'slack',
    kind: 'slack_token',
    source: `(?:(?:xoxe\\.)?xox[abeoprs]-[A-Za-z0-9-]{10,}|xapp-[0-9]+-[A-Za-z0-9-]{10,})`,
    // Real Slack tokens embed numeric team/user ids.
    valid: (t) => /[0-9]/.test(t),
  },
  { group: 'awsid', kind: 'aws_access_key_id', source: `(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])` },
  { group: 'google', kind: 'google_api_key', source: `AIza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])` },
  { group: 'npm', kind: 'npm_token', source: `npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])` },
  {
    group: 'hf',
    kind: 'huggingface_token',
    source: `hf_[A-Za-z]{34}(?![A-Za-z0-9])`,
    valid: (t) => charClasses(t).upper,
  },
  { group: 'pypi', kind: 'pypi_token', source: `pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}` },
  // header.payload.signature; the header is base64url JSON, so it starts with eyJ ('{"').
  {
    group: 'jwt',
    kind: 'jwt',
    source: `(?<![_-])eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]*`,
  },
];

/** Case-insensitive literal without the `i` flag (the token formats are case-sensitive). */
function ci(word: string): string {
  return word.replace(/[a-z]/gi, (ch) => `[${ch.toLowerCase()}${ch.toUpperCase()}]`);
}

/** Words that start a candidate key in free text; `classifyKey` then judges the whole key. */
const ASSIGNMENT_KEYWORDS = ['pass', 'pwd', 'secret', 'token', 'key', 'credential', 'creds', 'auth', 'cookie']
  .map(ci)
  .join('|');

/** The secret is the last `length` characters of the match. */
function suffixSpan(m: RegExpExecArray, length: number, kind: SecretKind): Verdict {
  const end = m.index + m[0].length;
  return { secret: true, start: end - length, end, kind };
}

function judgeUrl(m: RegExpExecArray, groups: Partial<Record<string, string>>): Verdict {
  const password = groups.urlpw ?? '';
  const start = m.index + m[0].length - password.length;
  if (isPlaceholder(password, 'secret')) return next(m);
  // `https://x-access-token:ghs_...@github.com`: let the token be classified by its own format.
  if (NESTED_RE.test(password)) return skipFrom(start);
  return suffixSpan(m, password.length, 'url_credentials');
}

function judgeBearer(m: RegExpExecArray, groups: Partial<Record<string, string>>): Verdict {
  const raw = groups.btok ?? '';
  const start = m.index + m[0].length - raw.length;
  const token = raw.replace(/\.+$/, ''); // a sentence may end right after the token
  if (NESTED_RE.test(token)) return skipFrom(start);
  // Prose ("the bearer instrument") has no digits and is short; real tokens are random.
  if (!/[0-9]/.test(token) && token.length < 24) return next(m);
  if (isPlaceholder(token, 'secret')) return next(m);
  return { secret: true, start, end: start + token.length, kind: 'bearer_token' };
}

/** `Basic` is only a credential when it decodes to printable `user:password`. */
function judgeBasic(m: RegExpExecArray, groups: Partial<Record<string, string>>): Verdict {
  const token = groups.basictok ?? '';
  const decoded = Buffer.from(token, 'base64').toString('latin1');
  if (!/^[\x20-\x7e]+:[\x20-\x7e]*$/.test(decoded)) return next(m);
  return suffixSpan(m, token.length, 'basic_auth');
}

/** Start of the identifier that ends where the keyword match begins (`DB_` in `DB_PASSWORD=`). */
function keyStartBefore(text: string, index: number): number {
  let i = index;
  // Bounded like the key tail in the regex: long identifier runs must stay linear.
  while (i > 0 && index - i < 64 && /[A-Za-z0-9_.-]/.test(text.charAt(i - 1))) i--;
  return i;
}

function judgeAssignment(m: RegExpExecArray, groups: Partial<Record<string, string>>, text: string): Verdict {
  const quoted = groups.aqv;
  const raw = quoted ?? groups.av ?? '';
  const valueStart = m.index + m[0].length - raw.length;
  const key = text.slice(keyStartBefore(text, m.index), m.index + (groups.akey ?? '').length);
  const keyClass = classifyKey(key);
  if (keyClass === null) return skipFrom(valueStart);
  const sep = groups.asep ?? '';
  // `--password hunter2x` is a CLI flag; `secret ingredient` is prose.
  if (sep.trim() === '' && !key.startsWith('-')) return skipFrom(valueStart);
  // A bare colon joins identifier parts (`arn:...:secret:prod/db`, `vault:secret:x`); YAML and
  // headers put a space after it and JSON quotes the value.
  if (sep === ':' && quoted === undefined) return skipFrom(valueStart);
  const value = quoted ?? raw.replace(/\.+$/, '');
  if (NESTED_RE.test(value) || !isAssignedSecret(value, keyClass)) return skipFrom(valueStart);
  return { secret: true, start: valueStart, end: valueStart + value.length, kind: kindForKey(keyClass) };
}

/**
 * Order matters only between alternatives that can start at the same position: the first
 * listed wins. Every sub-span (password, token, value) is the suffix of its match (closing quotes
 * are lookaheads) so its offsets follow from the group's length without the `d` flag.
 */
const ALTERNATIVES: readonly Alternative[] = [
  // Our own markers: consumed and left alone, which makes redaction idempotent.
  {
    group: 'marker',
    source: String.raw`\[REDACTED:[a-z0-9_]+:sha256:[0-9a-f]{16}\]`,
    judge: (m) => skipFrom(m.index + m[0].length),
  },
  {
    // Complete blocks (a 4096-bit RSA key is ~3.3 KB; the bound keeps a flood of BEGIN lines
    // without END linear), or a truncated one (a preview cut mid-key) up to where base64 stops.
    group: 'pem',
    source: String.raw`-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]{0,8192}?-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s:,\\.-]*)`,
    judge: (m) => whole(m, 'private_key'),
  },
  {
    // Only the path after /services/ is the secret; the host stays for auditing.
    group: 'slackhook',
    source: String.raw`https://hooks\.slack\.com/(?:services|workflows|triggers)/(?<shpath>[A-Za-z0-9/_-]{16,})`,
    judge: (m, g) => suffixSpan(m, (g.shpath ?? '').length, 'slack_webhook'),
  },
  {
    group: 'url',
    // Anchored on `://` rather than the scheme: a scheme prefix would be tried at every word.
    source: String.raw`://[^\s:/?#@"'<>\[\]\\]{1,256}:(?<urlpw>[^\s/?#@"'<>\\]{1,256})(?=@)`,
    judge: judgeUrl,
  },
  {
    group: 'bearer',
    source: String.raw`(?:Bearer|bearer|BEARER)\s+(?<btok>[A-Za-z0-9._~+/=-]{8,})`,
    bounded: true,
    judge: judgeBearer,
  },
  {
    group: 'basic',
    source: String.raw`(?:Basic|basic|BASIC)\s+(?<basictok>[A-Za-z0-9+/]{6,}={0,2})`,
    bounded: true,
    judge: judgeBasic,
  },
  ...KNOWN_FORMATS.map((f): Alternative => ({
    group: f.group,
    source: f.source,
    bounded: true,
    // A rejected look-alike cannot hide a token inside (same alphabet): skip all of it, which
    // also keeps adversarial runs like `sk-a-sk-a-...` linear.
    judge: (m) =>
      f.valid === undefined || f.valid(m[0]) ? whole(m, f.kind) : skipFrom(m.index + m[0].length),
  })),
  {
    // key, optional closing quote (also JSON-escaped \"), separator, then a quoted or bare value.
    group: 'assign',
    source: String.raw`(?<akey>(?:${ASSIGNMENT_KEYWORDS})[A-Za-z0-9_.-]{0,64})\\?["']?(?<asep>\s*[:=]\s*|\s+)(?:\\?["'](?<aqv>[^"'\\\n]{1,256})(?=\\?["'])|(?<av>[^\s"'\`\\&,;<>)\]}]{8,}))`,
    judge: judgeAssignment,
  },
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
    if (groups[alternative.group] !== undefined) return alternative.judge(m, groups, text);
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

// ---------------------------------------------------------------------------------------------
// AWS secret access keys: 40 base64 characters with no prefix
// ---------------------------------------------------------------------------------------------

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
function scanAwsSecrets(text: string, spans: readonly Span[], keyMentionsAws: boolean): Span[] {
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

// ---------------------------------------------------------------------------------------------
// Whole values under secret-like keys
// ---------------------------------------------------------------------------------------------

/** `Authorization: Bearer x` under a secret key: keep the scheme, redact the credential. */
const AUTH_SCHEME_RE = /^(?:(Basic)|Bearer|Token|Bot)\s+/i;

function keyedValueSpan(text: string, keyClass: KeyClass): Span | null {
  if (text.includes(REDACTED_PREFIX)) return null; // already redacted on an earlier pass
  const scheme = AUTH_SCHEME_RE.exec(text);
  if (scheme !== null) {
    const rest = text.slice(scheme[0].length);
    if (!isSecretValue(rest, keyClass)) return null;
    return { start: scheme[0].length, end: text.length, kind: scheme[1] ? 'basic_auth' : 'bearer_token' };
  }
  if (!isSecretValue(text, keyClass)) return null;
  return { start: 0, end: text.length, kind: kindForKey(keyClass) };
}

// ---------------------------------------------------------------------------------------------
// Putting it together
// ---------------------------------------------------------------------------------------------

function findSecrets(text: string, keyHint: string | undefined): Span[] {
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

type Found = Omit<Redaction, 'path'>;

/** Replaces each span by its marker; `spans` are sorted and disjoint. */
function applySpans(text: string, spans: readonly Span[], found: Found[]): string {
  let out = '';
  let at = 0;
  for (const span of spans) {
    const fingerprint = fingerprintSecret(text.slice(span.start, span.end));
    out += text.slice(at, span.start) + marker(span.kind, fingerprint);
    at = span.end;
    found.push({ kind: span.kind, fingerprint });
  }
  return out + text.slice(at);
}

/**
 * Redacts secrets inside one string. `keyHint` is the key (or dotted path) the string was found
 * under; when it names a secret, the whole value counts as one unless it is a placeholder.
 */
export function redactString(text: string, keyHint?: string): { text: string; redactions: Found[] } {
  const redactions: Found[] = [];
  const spans = findSecrets(text, keyHint);
  return { text: spans.length === 0 ? text : applySpans(text, spans, redactions), redactions };
}

/**
 * Where a value sits: its parent's path and its own key or index. Paths are only turned into
 * strings when a redaction is recorded, which is rare: building one per string showed up in
 * profiles.
 */
type Segment = string | number | undefined;

function pathOf(parent: string, segment: Segment): string {
  if (segment === undefined) return parent;
  if (typeof segment === 'number') return `${parent}[${String(segment)}]`;
  return joinPath(parent, segment);
}

/** Redacts one string and records each redaction under its path. */
function redactAt(
  text: string,
  keyHint: string | undefined,
  parent: string,
  segment: Segment,
  out: Redaction[],
): string {
  const spans = findSecrets(text, keyHint);
  if (spans.length === 0) return text;
  const found: Found[] = [];
  const result = applySpans(text, spans, found);
  const path = pathOf(parent, segment);
  for (const f of found) out.push({ path, kind: f.kind, fingerprint: f.fingerprint });
  return result;
}

/**
 * Object keys are data too (`{ "ghp_...": {...} }`): known formats only, no key rule. The
 * recorded path uses the redacted key, so the secret does not leak through the path either.
 */
function redactKey(key: string, parentPath: string, out: Redaction[]): string {
  if (key.length < MIN_SCAN_LENGTH) return key;
  const spans = findSecrets(key, undefined);
  if (spans.length === 0) return key;
  const found: Found[] = [];
  const safeKey = applySpans(key, spans, found);
  const path = joinPath(parentPath, safeKey);
  for (const f of found) out.push({ path, kind: f.kind, fingerprint: f.fingerprint });
  return safeKey;
}

function joinPath(base: string, key: string): string {
  return base === '' ? key : `${base}.${key}`;
}

/** `{"__proto__": ...}` from JSON.parse is an own key: define it rather than set the prototype. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/**
 * In argv arrays the secret follows its flag: `["--password", "hunter2x"]`,
 * `["aws", "configure", "set", "aws_secret_access_key", "..."]`. A flag or snake_case name
 * that names a secret becomes the key hint of the next element.
 */
function argvHint(previous: unknown): string | undefined {
  if (typeof previous !== 'string' || previous.length > 64) return undefined;
  if (!/^-{1,2}[A-Za-z]|^[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+$/.test(previous)) return undefined;
  return classifyKey(previous) === null ? undefined : previous;
}

function walk(
  value: unknown,
  parent: string,
  segment: Segment,
  keyHint: string | undefined,
  depth: number,
  out: Redaction[],
): unknown {
  if (typeof value === 'string') return redactAt(value, keyHint, parent, segment, out);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return DEPTH_LIMIT_PLACEHOLDER;
  const path = pathOf(parent, segment);
  if (Array.isArray(value)) {
    const items: readonly unknown[] = value;
    return items.map((item, i) => walk(item, path, i, argvHint(items[i - 1]) ?? keyHint, depth + 1, out));
  }
  // Dates and other toJSON objects never come from JSON.parse; they serialise without secrets.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
  const source = value as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    const safeKey = redactKey(key, path, out);
    setOwn(result, safeKey, walk(source[key], path, safeKey, key, depth + 1, out));
  }
  return result;
}

/**
 * Deep-redacts a JSON value (objects, arrays, strings; other primitives pass through). Returns
 * new containers and never mutates the input. Paths read `args.headers.Authorization`,
 * `args.items[2].token`.
 */
export function redactJson(value: unknown, basePath = ''): { value: unknown; redactions: Redaction[] } {
  const redactions: Redaction[] = [];
  const result = walk(value, basePath, undefined, basePath === '' ? undefined : basePath, 0, redactions);
  return { value: result, redactions };
}

/** Redacts a flat string map such as event `attributes`; each value is judged under its own key. */
export function redactStringMap(
  map: Record<string, string>,
  basePath: string,
): { map: Record<string, string>; redactions: Redaction[] } {
  const redactions: Redaction[] = [];
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(map)) {
    const safeKey = redactKey(key, basePath, redactions);
    setOwn(result, safeKey, redactAt(value, key, basePath, safeKey, redactions));
  }
  return { map: result, redactions };
}
