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
 *
 * Layout: `json-walker.ts` (entry points) → `scanner.ts` (the combined regex, in rule order, and
 * the three detectors) → `rules/` (one module per family) with `key-names.ts`,
 * `secret-values.ts` (placeholders), `randomness.ts` and `fingerprint.ts` (markers).
 */

export { fingerprintSecret, REDACTED_PREFIX } from './fingerprint.js';
export {
  DEPTH_LIMIT_PLACEHOLDER,
  MAX_DEPTH,
  redactJson,
  redactString,
  redactStringMap,
} from './json-walker.js';
export { isSecretKeyName } from './key-names.js';
export { shannonEntropy } from './randomness.js';
export type { SecretKind } from './types.js';
