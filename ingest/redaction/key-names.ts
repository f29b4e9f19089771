import type { SecretKind } from './types.js';

/**
 * Key names: does the key (or dotted path) a value sits under name a secret? Used for whole
 * values under such keys, for `password=...` assignments in free text and for argv flags.
 */

/** `aws` → the AWS secret access key kind; `auth` → also accepts auth-mode words as non-secrets. */
export type KeyClass = 'secret' | 'aws' | 'auth';

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

export function keyInfo(key: string | undefined): KeyInfo {
  if (key === undefined || key.length === 0) return NO_KEY;
  const cached = KEY_CACHE.get(key);
  if (cached !== undefined) return cached;
  const keyClass = classifyKeyUncached(key);
  const info: KeyInfo = { keyClass, aws: keyClass === 'aws' || /aws/i.test(lastSegment(key)) };
  if (KEY_CACHE.size >= KEY_CACHE_MAX) KEY_CACHE.clear();
  KEY_CACHE.set(key, info);
  return info;
}

export function classifyKey(key: string | undefined): KeyClass | null {
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

export function kindForKey(keyClass: KeyClass): SecretKind {
  return keyClass === 'aws' ? 'aws_secret_access_key' : 'generic_secret';
}
