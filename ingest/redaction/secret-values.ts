import { REDACTED_PREFIX } from './fingerprint.js';
import type { KeyClass } from './key-names.js';
import { classCount, shannonEntropy } from './randomness.js';

/**
 * Is a value under a secret-like key a secret? Placeholders are values that cannot themselves
 * authenticate; short values count only when they look random.
 */

/** Whole values under secret-like keys shorter than this stay, unless they look random. */
const MIN_SECRET_LENGTH = 8;

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

export function isPlaceholder(value: string, keyClass: KeyClass): boolean {
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
export function isSecretValue(value: string, keyClass: KeyClass): boolean {
  const v = value.trim();
  if (v.length === 0 || isPlaceholder(v, keyClass)) return false;
  return v.length >= MIN_SECRET_LENGTH || looksRandom(v);
}

/**
 * A value assigned in free text (`password: forgotten` in prose vs `PASSWORD=hunter2x`): with no
 * structure to go by, ask for some randomness, two character classes or sheer length.
 */
export function isAssignedSecret(value: string, keyClass: KeyClass): boolean {
  if (value.length < MIN_SECRET_LENGTH || isPlaceholder(value, keyClass)) return false;
  return value.length >= 16 || classCount(value) >= 2;
}
