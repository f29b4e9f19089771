import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DEPTH_LIMIT_PLACEHOLDER,
  MAX_DEPTH,
  REDACTED_PREFIX,
  fingerprintSecret,
  isSecretKeyName,
  redactJson,
  redactString,
  redactStringMap,
  shannonEntropy,
  type SecretKind,
} from '../../ingest/redaction/index.js';

// Every fake credential below is generated at run time (deterministic pseudo-random text after a
// known prefix), never pasted: nothing in this file looks like a live token to a secret scanner.

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const ALNUM = UPPER + LOWER + DIGITS;
const B64URL = `${ALNUM}-_`;

/** xorshift32 text: stable across runs, random-looking, seeded so equal inputs give equal tokens. */
function fake(length: number, alphabet = ALNUM, seed = 7): string {
  let x = (seed * 2654435761 + length) >>> 0 || 1;
  let out = '';
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out += alphabet.charAt(x % alphabet.length);
  }
  return out;
}

const b64url = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const marker = (kind: SecretKind, secret: string): string =>
  `${REDACTED_PREFIX}${kind}:${fingerprintSecret(secret)}]`;

const AWS_KEY_ID = ['AKIA', fake(16, UPPER + DIGITS, 1)].join('');
const AWS_SECRET = fake(40, `${ALNUM}/+`, 2);
const GIT_SHA = createHash('sha1').update('commit').digest('hex');
const SHA256_HEX = createHash('sha256').update('artifact').digest('hex');
const JWT = [
  b64url({ alg: 'HS256', typ: 'JWT' }),
  b64url({ sub: 'agent-7', iat: 1_770_000_000 }),
  fake(43, B64URL, 3),
].join('.');
const PEM = [
  '-----BEGIN RSA PRIVATE KEY-----',
  fake(64, `${ALNUM}+/`, 4),
  fake(64, `${ALNUM}+/`, 5),
  `${fake(20, `${ALNUM}+/`, 6)}==`,
  '-----END RSA PRIVATE KEY-----',
].join('\n');

/** One positive case per known format, each found anywhere in free text. */
const TOKENS: { name: string; kind: SecretKind; secret: string }[] = [
  { name: 'AWS access key id (AKIA)', kind: 'aws_access_key_id', secret: AWS_KEY_ID },
  {
    name: 'AWS temporary key id (ASIA)',
    kind: 'aws_access_key_id',
    secret: 'ASIA' + fake(16, UPPER + DIGITS),
  },
  { name: 'GitHub classic PAT', kind: 'github_token', secret: 'ghp_' + fake(36) },
  { name: 'GitHub OAuth token', kind: 'github_token', secret: 'gho_' + fake(36, ALNUM, 8) },
  { name: 'GitHub app installation token', kind: 'github_token', secret: 'ghs_' + fake(36, ALNUM, 9) },
  {
    name: 'GitHub fine-grained PAT',
    kind: 'github_token',
    secret: 'github_pat_' + fake(22, ALNUM, 10) + '_' + fake(59, ALNUM, 11),
  },
  { name: 'GitLab PAT', kind: 'gitlab_token', secret: 'glpat-' + fake(20, B64URL, 12) },
  { name: 'GitLab deploy token', kind: 'gitlab_token', secret: 'gldt-' + fake(24, ALNUM, 13) },
  {
    name: 'Slack bot token',
    kind: 'slack_token',
    secret: ['xoxb', fake(12, DIGITS, 14), fake(13, DIGITS, 15), fake(24, ALNUM, 16)].join('-'),
  },
  {
    name: 'Slack user token',
    kind: 'slack_token',
    secret: ['xoxp', fake(12, DIGITS, 17), fake(13, DIGITS, 18), fake(32, 'abcdef0123456789', 19)].join('-'),
  },
  {
    name: 'Slack app token',
    kind: 'slack_token',
    secret: [
      'xapp',
      '1',
      'A' + fake(10, UPPER + DIGITS, 20),
      fake(13, DIGITS, 21),
      fake(64, DIGITS + 'abcdef', 22),
    ].join('-'),
  },
  { name: 'OpenAI project key', kind: 'openai_api_key', secret: 'sk-proj-' + fake(64, B64URL, 23) },
  {
    name: 'OpenAI legacy key',
    kind: 'openai_api_key',
    secret: 'sk-' + fake(20, ALNUM, 24) + 'T3BlbkFJ' + fake(20, ALNUM, 25),
  },
  { name: 'Anthropic key', kind: 'anthropic_api_key', secret: 'sk-ant-api03-' + fake(93, B64URL, 26) + 'AA' },
  { name: 'Stripe live secret key', kind: 'stripe_key', secret: 'sk_' + 'live_' + fake(24, ALNUM, 27) },
  { name: 'Stripe restricted key', kind: 'stripe_key', secret: 'rk_' + 'live_' + fake(24, ALNUM, 28) },
  { name: 'Google API key', kind: 'google_api_key', secret: 'AIza' + fake(35, B64URL, 29) },
  { name: 'npm token', kind: 'npm_token', secret: 'npm_' + fake(36, ALNUM, 30) },
  { name: 'Hugging Face token', kind: 'huggingface_token', secret: 'hf_' + fake(34, UPPER + LOWER, 31) },
  { name: 'JWT', kind: 'jwt', secret: JWT },
  { name: 'PEM private key (multi-line)', kind: 'private_key', secret: PEM },
];

describe('fingerprintSecret', () => {
  it('is sha256: plus the first 16 hex characters of SHA-256', () => {
    const expected = createHash('sha256').update('hunter2hunter2').digest('hex').slice(0, 16);
    expect(fingerprintSecret('hunter2hunter2')).toBe(`sha256:${expected}`);
    expect(fingerprintSecret('x')).toMatch(/^sha256:[0-9a-f]{16}$/);
  });
  it('is stable and distinguishes secrets', () => {
    expect(fingerprintSecret(AWS_SECRET)).toBe(fingerprintSecret(AWS_SECRET));
    expect(fingerprintSecret('a')).not.toBe(fingerprintSecret('b'));
  });
});

describe('known token formats', () => {
  it.each(TOKENS)('$name: only the token is replaced, the text around it is kept', ({ kind, secret }) => {
    const { text, redactions } = redactString(`before ${secret} after`);
    expect(text).toBe(`before ${marker(kind, secret)} after`);
    expect(redactions).toEqual([{ kind, fingerprint: fingerprintSecret(secret) }]);
  });

  it.each(TOKENS)('$name: found inside JSON-ish text and after "="', ({ kind, secret }) => {
    expect(redactString(`{"value":"${secret}"}`).text).toBe(`{"value":"${marker(kind, secret)}"}`);
    expect(redactString(`export VALUE=${secret}`).text).toBe(`export VALUE=${marker(kind, secret)}`);
  });

  it('classifies sk-ant- keys as Anthropic, never OpenAI', () => {
    const anthropic = TOKENS.find((t) => t.kind === 'anthropic_api_key')?.secret ?? '';
    const { redactions } = redactString(`key=${anthropic}`);
    expect(redactions.map((r) => r.kind)).toEqual(['anthropic_api_key']);
  });

  it('keeps the text around a multi-line PEM block', () => {
    const { text } = redactString(`key file:\n${PEM}\n# end of file`);
    expect(text).toBe(`key file:\n${marker('private_key', PEM)}\n# end of file`);
    const openssh = PEM.replaceAll('RSA PRIVATE', 'OPENSSH PRIVATE');
    expect(redactString(openssh).redactions[0]?.kind).toBe('private_key');
  });

  it('redacts a truncated PEM block (no END line) up to where base64 stops', () => {
    const cut = PEM.slice(0, 120);
    const { text } = redactString(cut);
    expect(text).toBe(marker('private_key', cut));
  });

  it('redacts only the secret part of a Slack webhook URL', () => {
    const path = `T${fake(8, UPPER + DIGITS, 40)}/B${fake(8, UPPER + DIGITS, 41)}/${fake(24, ALNUM, 42)}`;
    const { text, redactions } = redactString(`post to https://hooks.slack.com/services/${path} now`);
    expect(text).toBe(`post to https://hooks.slack.com/services/${marker('slack_webhook', path)} now`);
    expect(redactions).toEqual([{ kind: 'slack_webhook', fingerprint: fingerprintSecret(path) }]);
  });

  it('finds several secrets in one string, in order', () => {
    const gh = 'ghp_' + fake(36);
    const { text, redactions } = redactString(`a ${AWS_KEY_ID} b ${gh} c`);
    expect(text).toBe(`a ${marker('aws_access_key_id', AWS_KEY_ID)} b ${marker('github_token', gh)} c`);
    expect(redactions.map((r) => r.kind)).toEqual(['aws_access_key_id', 'github_token']);
  });

  it('gives the same secret the same fingerprint wherever it appears', () => {
    const gh = 'ghp_' + fake(36);
    const a = redactJson({ one: gh, two: [`x ${gh}`] }).redactions;
    expect(a).toHaveLength(2);
    expect(a[0]?.fingerprint).toBe(a[1]?.fingerprint);
  });
});

describe('authorization headers and URL credentials', () => {
  it('redacts the bearer token and keeps the scheme', () => {
    const token = fake(40, `${B64URL}.`, 50);
    const { text, redactions } = redactString(
      `curl -H "Authorization: Bearer ${token}" https://api.example.com`,
    );
    expect(text).toBe(
      `curl -H "Authorization: Bearer ${marker('bearer_token', token)}" https://api.example.com`,
    );
    expect(redactions).toEqual([{ kind: 'bearer_token', fingerprint: fingerprintSecret(token) }]);
  });

  it('classifies a known token inside Bearer by its own format', () => {
    const anthropic = 'sk-ant-api03-' + 'Zx9'.repeat(20);
    expect(redactString(`Bearer ${anthropic}`).redactions[0]?.kind).toBe('anthropic_api_key');
    expect(redactString(`Bearer ${JWT}`).text).toBe(`Bearer ${marker('jwt', JWT)}`);
  });

  it('redacts Basic credentials that decode to user:password', () => {
    const b64 = Buffer.from(`svc-deploy:${fake(12, ALNUM, 51)}`).toString('base64');
    const { text } = redactString(`Authorization: Basic ${b64}`);
    expect(text).toBe(`Authorization: Basic ${marker('basic_auth', b64)}`);
  });

  it('redacts only the password of URL credentials', () => {
    const password = fake(14, ALNUM, 52);
    const { text, redactions } = redactString(`connect postgres://svc:${password}@db.internal:5432/app`);
    expect(text).toBe(`connect postgres://svc:${marker('url_credentials', password)}@db.internal:5432/app`);
    expect(redactions).toEqual([{ kind: 'url_credentials', fingerprint: fingerprintSecret(password) }]);
  });

  it('classifies a token used as a URL password by its format', () => {
    const ghs = 'ghs_' + fake(36, ALNUM, 53);
    const { text } = redactString(`git clone https://x-access-token:${ghs}@github.com/acme/api.git`);
    expect(text).toBe(
      `git clone https://x-access-token:${marker('github_token', ghs)}@github.com/acme/api.git`,
    );
  });

  it('leaves placeholder URL passwords alone', () => {
    for (const url of ['https://user:****@host.example', 'postgres://app:${DB_PASSWORD}@db:5432/x']) {
      expect(redactString(url).redactions).toEqual([]);
    }
  });
});

describe('AWS secret access keys', () => {
  it('are redacted under an AWS secret key name', () => {
    const { value, redactions } = redactJson({
      aws_secret_access_key: AWS_SECRET,
      SecretAccessKey: AWS_SECRET,
    });
    expect(value).toEqual({
      aws_secret_access_key: marker('aws_secret_access_key', AWS_SECRET),
      SecretAccessKey: marker('aws_secret_access_key', AWS_SECRET),
    });
    expect(redactions.map((r) => r.kind)).toEqual(['aws_secret_access_key', 'aws_secret_access_key']);
  });

  it('are redacted in an assignment and next to an access key id', () => {
    expect(redactString(`export AWS_SECRET_ACCESS_KEY=${AWS_SECRET}`).text).toBe(
      `export AWS_SECRET_ACCESS_KEY=${marker('aws_secret_access_key', AWS_SECRET)}`,
    );
    const { text } = redactString(`creds ${AWS_KEY_ID} ${AWS_SECRET} ok`);
    expect(text).toBe(
      `creds ${marker('aws_access_key_id', AWS_KEY_ID)} ${marker('aws_secret_access_key', AWS_SECRET)} ok`,
    );
  });

  it('are not guessed without an AWS hint, and a git SHA next to a key id stays', () => {
    expect(redactString(`value ${AWS_SECRET} here`).redactions).toEqual([]);
    const { text } = redactString(`aws ${AWS_KEY_ID} commit ${GIT_SHA}`);
    expect(text).toContain(GIT_SHA);
  });
});

describe('secret-like key names', () => {
  const secretKeys = [
    'password',
    'Password',
    'DB_PASSWORD',
    'PGPASSWORD',
    'passwd',
    'pwd',
    'db_pwd',
    'passphrase',
    'new_password2',
    'password_hash',
    'password_confirmation',
    'secret',
    'client_secret',
    'webhookSecret',
    'token',
    'access_token',
    'refreshToken',
    'id_token',
    'x-auth-token',
    'session_token',
    'AWS_SESSION_TOKEN',
    'api_key',
    'apiKey',
    'APIKey',
    'x-api-key',
    'apikey',
    'access_key',
    'secret_key',
    'SecretAccessKey',
    'aws_secret_access_key',
    'private_key',
    'privateKey',
    'Ocp-Apim-Subscription-Key',
    'credentials',
    'credential',
    'creds',
    'auth',
    'Authorization',
    'proxy-authorization',
    'cookie',
    'Set-Cookie',
    'args.headers.Authorization',
    'args.items[2].token',
  ];
  const ordinaryKeys = [
    'token_count',
    'max_tokens',
    'tokens_used',
    'input_tokens',
    'output_tokens',
    'gen_ai.usage.input_tokens',
    'author',
    'auth_method',
    'authority',
    'password_policy',
    'password_length',
    'passwordless',
    'secret_name',
    'secret_id',
    'secret_arn',
    'SecretId',
    'secret.name',
    'private_key_id',
    'access_key_id',
    'public_key',
    'key',
    'idempotency_key',
    'partition_key',
    's3_key',
    'NextToken',
    'next_page_token',
    'pageToken',
    'ClientToken',
    'tokenizer',
    'monkey',
    'bypass',
    'PWD',
    'OLDPWD',
    'identity.credential',
    '',
  ];

  it.each(secretKeys)('%s names a secret', (key) => {
    expect(isSecretKeyName(key)).toBe(true);
  });
  it.each(ordinaryKeys)('%s is ordinary', (key) => {
    expect(isSecretKeyName(key)).toBe(false);
  });

  it('redacts the whole value of a secret key and keeps ordinary keys', () => {
    const input = {
      password: 'correct-horse-battery-staple-42',
      max_tokens: '40960000',
      token_count: '12345678',
      secret_name: 'prod/db/password',
      auth_method: 'password',
      password_policy: 'min-length-12-symbols',
    };
    const { value, redactions } = redactJson(input, 'args');
    expect(value).toEqual({ ...input, password: marker('generic_secret', input.password) });
    expect(redactions).toEqual([
      { path: 'args.password', kind: 'generic_secret', fingerprint: fingerprintSecret(input.password) },
    ]);
  });
});

describe('values under secret-like keys', () => {
  it.each(['hunter2hunter2', 'changeme', 'correct horse battery staple', 'Xk9#qL'])(
    'redacts %j (default passwords like changeme are real credentials)',
    (secret) => {
      expect(redactString(secret, 'password')).toEqual({
        text: marker('generic_secret', secret),
        redactions: [{ kind: 'generic_secret', fingerprint: fingerprintSecret(secret) }],
      });
    },
  );

  it.each([
    '',
    'abc',
    '1234',
    'true',
    '***',
    '********',
    'xxxxxxxx',
    'REDACTED',
    '<token>',
    '<YOUR_API_KEY>',
    '${DB_PASSWORD}',
    '${{ secrets.GITHUB_TOKEN }}',
    '{{ vault_token }}',
    '$API_TOKEN',
    'your-api-key-here',
    'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf',
    'disabled',
    'not set',
  ])('keeps the placeholder or short value %j', (value) => {
    expect(redactString(value, 'api_key')).toEqual({ text: value, redactions: [] });
  });

  it('leaves non-string values under secret keys untouched', () => {
    const input = { password: 12345678, token: true, secret: null, credentials: { user: 'svc' } };
    expect(redactJson(input)).toEqual({ value: input, redactions: [] });
  });

  it('keeps authentication modes but redacts credentials under auth keys', () => {
    expect(redactString('service_account', 'auth').redactions).toEqual([]);
    expect(redactString('sigv4', 'auth').redactions).toEqual([]);
    expect(redactString('svc:hunter2hunter2', 'auth').redactions).toHaveLength(1);
  });

  it('keeps the scheme of an Authorization value and redacts the credential', () => {
    expect(redactString('Bearer abcdefghij', 'authorization').text).toBe(
      `Bearer ${marker('bearer_token', 'abcdefghij')}`,
    );
  });

  it('takes the last segment of a dotted key hint, and honours identity.credential as an id', () => {
    expect(redactString('hunter2hunter2', 'attributes.db.password').redactions).toHaveLength(1);
    expect(redactString('gh-app:4711', 'identity.credential')).toEqual({
      text: 'gh-app:4711',
      redactions: [],
    });
    // A real token pasted into the id field is still found by its format.
    expect(redactString(`akid:${AWS_KEY_ID}`, 'identity.credential').text).toBe(
      `akid:${marker('aws_access_key_id', AWS_KEY_ID)}`,
    );
  });
});

describe('assignments in free text', () => {
  const pw = fake(14, ALNUM, 60);

  it('redacts env assignments, CLI flags and JSON text, keeping the rest', () => {
    expect(redactString(`PGPASSWORD=${pw} psql -h db`).text).toBe(
      `PGPASSWORD=${marker('generic_secret', pw)} psql -h db`,
    );
    expect(redactString(`mysql -u root --password ${pw} app`).text).toBe(
      `mysql -u root --password ${marker('generic_secret', pw)} app`,
    );
    expect(redactString(`{"client_secret":"${pw}","client_id":"web"}`).text).toBe(
      `{"client_secret":"${marker('generic_secret', pw)}","client_id":"web"}`,
    );
    expect(redactString(`GET /cb?code=1&access_token=${pw}&state=ok`).text).toBe(
      `GET /cb?code=1&access_token=${marker('generic_secret', pw)}&state=ok`,
    );
  });

  it('redacts only the key id inside an AWS credential scope', () => {
    const { text } = redactString(`X-Amz-Credential=${AWS_KEY_ID}/20260301/us-east-1/s3/aws4_request`);
    expect(text).toBe(
      `X-Amz-Credential=${marker('aws_access_key_id', AWS_KEY_ID)}/20260301/us-east-1/s3/aws4_request`,
    );
  });

  it.each([
    'the secret ingredient is patience',
    'password: forgotten',
    'reset your password using the link below',
    'token expired yesterday at noon',
    'max_tokens=40960000 tokens_used: 12345678 token_count=99999999',
    'psql --password $DB_PASSWORD',
    'Bearer of bad news arrived',
    'see the basic configuration guide',
  ])('leaves prose and counters alone: %j', (text) => {
    expect(redactString(text)).toEqual({ text, redactions: [] });
  });
});

describe('no false positives on ordinary identifiers', () => {
  const ordinary = [
    '3f2b8c1e-9d4a-4e7b-8c2f-1a2b3c4d5e6f',
    '01J9Z3K4V6W8X0Y2Z4A6B8C0D2',
    GIT_SHA,
    SHA256_HEX,
    `sha256:${SHA256_HEX}`,
    'arn:aws:iam::123456789012:role/deploy-bot',
    'arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf',
    's3://acme-logs/2026/03/01/part-000001.jsonl.gz',
    'acme-logs/uploads/user-42/avatar.png',
    'https://api.github.com/repos/acme/api/pulls?state=open&per_page=50',
    'https://example.com:8443/path/to/thing',
    'release-bot@acme.example.com',
    '4bf92f3577b34da6a3ce929d0e0e4736',
    Buffer.from('hello world').toString('base64'),
    Buffer.from('list open pull requests for triage').toString('base64'),
    '2026-03-01T12:00:00.250Z',
    'git@github.com:acme/api.git',
    'ssh://git@github.com:22/acme/api.git',
    `ghcr.io/acme/api:1.4.2@sha256:${SHA256_HEX}`,
    'sk-learn-pipeline-v2',
    'task-runner-abcdefghijklmnopqrstuvwxyz',
    'kubectl get secret/prod-db-credentials -n payments',
    `aws s3 cp s3://bucket/${GIT_SHA}/x .`,
    '[REDACTED:github_token:sha256:0123456789abcdef]',
  ];

  it.each(ordinary)('keeps %j as free text', (text) => {
    expect(redactString(text)).toEqual({ text, redactions: [] });
  });

  it('keeps them under ordinary keys inside objects', () => {
    const input = {
      id: ordinary,
      nested: Object.fromEntries(ordinary.map((v, i) => [`field_${String(i)}`, v])),
    };
    expect(redactJson(input, 'args')).toEqual({ value: input, redactions: [] });
  });
});

describe('redactJson', () => {
  const gh = 'ghp_' + fake(36, ALNUM, 70);
  const pw = fake(16, ALNUM, 71);

  it('reports nested object and array paths', () => {
    const input = {
      headers: { Authorization: `Bearer ${gh}` },
      items: [{ name: 'a' }, { name: 'b' }, { token: pw }],
      matrix: [[`x ${AWS_KEY_ID}`]],
    };
    const { value, redactions } = redactJson(input, 'args');
    expect(redactions.map((r) => [r.path, r.kind])).toEqual([
      ['args.headers.Authorization', 'github_token'],
      ['args.items[2].token', 'generic_secret'],
      ['args.matrix[0][0]', 'aws_access_key_id'],
    ]);
    expect(value).toEqual({
      headers: { Authorization: `Bearer ${marker('github_token', gh)}` },
      items: [{ name: 'a' }, { name: 'b' }, { token: marker('generic_secret', pw) }],
      matrix: [[`x ${marker('aws_access_key_id', AWS_KEY_ID)}`]],
    });
  });

  it('uses no prefix without a base path, and the base path as hint for a root string', () => {
    expect(redactJson({ a: { password: pw } }).redactions[0]?.path).toBe('a.password');
    expect(redactJson([gh]).redactions[0]?.path).toBe('[0]');
    const root = redactJson(pw, 'args.password');
    expect(root).toEqual({
      value: marker('generic_secret', pw),
      redactions: [{ path: 'args.password', kind: 'generic_secret', fingerprint: fingerprintSecret(pw) }],
    });
  });

  it('never mutates the input and returns new containers', () => {
    const input = { a: { password: pw, list: [gh, 1, null, true] } };
    const snapshot = structuredClone(input);
    const { value } = redactJson(deepFreeze(input));
    expect(input).toEqual(snapshot);
    expect(value).not.toBe(input);
    expect((value as typeof input).a).not.toBe(input.a);
    expect((value as typeof input).a.list).not.toBe(input.a.list);
    const clean = { a: { b: ['c'] } };
    const copy = redactJson(clean).value as typeof clean;
    expect(copy).toEqual(clean);
    expect(copy.a).not.toBe(clean.a);
  });

  it('takes the secret from argv arrays after a secret-naming flag', () => {
    const { value, redactions } = redactJson({
      argv: ['mysql', '-u', 'root', '--password', pw],
      aws: ['aws', 'configure', 'set', 'aws_secret_access_key', AWS_SECRET],
      llm: ['--max-tokens', '40960000'],
    });
    expect(redactions.map((r) => [r.path, r.kind])).toEqual([
      ['argv[4]', 'generic_secret'],
      ['aws[4]', 'aws_secret_access_key'],
    ]);
    expect((value as { llm: string[] }).llm).toEqual(['--max-tokens', '40960000']);
  });

  it('redacts secrets used as object keys, and the path does not leak them', () => {
    const { value, redactions } = redactJson({ tokens: { [gh]: { scopes: 'repo' } } }, 'args');
    const safeKey = marker('github_token', gh);
    expect(value).toEqual({ tokens: { [safeKey]: { scopes: 'repo' } } });
    expect(redactions).toEqual([
      { path: `args.tokens.${safeKey}`, kind: 'github_token', fingerprint: fingerprintSecret(gh) },
    ]);
  });

  it('keeps a __proto__ key as data without touching the prototype', () => {
    const input = JSON.parse(`{"__proto__":{"password":"${pw}"}}`) as Record<string, unknown>;
    const { value, redactions } = redactJson(input, 'args');
    const out = value as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(redactions[0]?.path).toBe('args.__proto__.password');
  });

  it('replaces subtrees deeper than MAX_DEPTH instead of storing them unscanned', () => {
    let deep: unknown = `deep ${gh}`;
    for (let i = 0; i < MAX_DEPTH + 10; i++) deep = [deep];
    const text = JSON.stringify(redactJson(deep).value);
    expect(text).toContain(DEPTH_LIMIT_PLACEHOLDER);
    expect(text).not.toContain(gh);
  });
});

describe('redactStringMap', () => {
  it('redacts values by key with attributes.<key> paths and returns a new map', () => {
    const openai = 'sk-proj-' + fake(64, B64URL, 80);
    const map = { api_key: openai, trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', password: 'hunter2hunter2' };
    const { map: out, redactions } = redactStringMap(map, 'attributes');
    expect(out).toEqual({
      api_key: marker('openai_api_key', openai),
      trace_id: map.trace_id,
      password: marker('generic_secret', 'hunter2hunter2'),
    });
    expect(out).not.toBe(map);
    expect(map.api_key).toBe(openai);
    expect(redactions.map((r) => [r.path, r.kind])).toEqual([
      ['attributes.api_key', 'openai_api_key'],
      ['attributes.password', 'generic_secret'],
    ]);
  });
});

describe('idempotence and leakage', () => {
  const everything = {
    tokens: TOKENS.map((t) => `use ${t.secret} now`),
    headers: { authorization: `Bearer ${fake(40, B64URL, 90)}`, cookie: 'sid=' + fake(24, ALNUM, 91) },
    db: { url: `postgres://svc:${fake(14, ALNUM, 92)}@db:5432/app`, password: 'hunter2hunter2' },
    shell: `PGPASSWORD=${fake(12, ALNUM, 93)} AWS_SECRET_ACCESS_KEY=${AWS_SECRET} ./deploy.sh`,
    webhook: `https://hooks.slack.com/services/T0000/B0000/${fake(24, ALNUM, 94)}`,
    basic: `Basic ${Buffer.from('u:' + fake(10, ALNUM, 95)).toString('base64')}`,
  };

  it('redacting twice gives the same output and no new redactions', () => {
    const first = redactJson(everything, 'args');
    expect(first.redactions.length).toBeGreaterThanOrEqual(TOKENS.length + 7);
    const second = redactJson(first.value, 'args');
    expect(second).toEqual({ value: first.value, redactions: [] });
    for (const t of TOKENS) {
      const once = redactString(t.secret).text;
      expect(redactString(once)).toEqual({ text: once, redactions: [] });
    }
  });

  it('never returns a secret value, only fingerprints', () => {
    const result = JSON.stringify(redactJson(everything, 'args'));
    for (const t of TOKENS) expect(result).not.toContain(t.secret);
    expect(result).not.toContain(AWS_SECRET);
    expect(result).not.toContain('hunter2hunter2');
  });
});

describe('shannonEntropy', () => {
  it('measures bits per character', () => {
    expect(shannonEntropy('')).toBe(0);
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('ab')).toBe(1);
    expect(shannonEntropy('abcd')).toBe(2);
    expect(shannonEntropy(AWS_SECRET)).toBeGreaterThan(4.2);
  });
});

// Catastrophic regex backtracking would blow the test timeout; speed itself is measured in benchmarks.
describe('hostile input is handled', () => {
  it.each([
    ['token runs', 'token'.repeat(40_000), 0],
    ['sk- runs', 'sk-a-'.repeat(40_000), 0],
    // An unterminated key header is treated as key material: over-redacting beats leaking.
    ['PEM headers without END', '-----BEGIN PRIVATE KEY-----!'.repeat(7_000), 7_000],
    ['URL-ish colons', '://aaaa:bbbb'.repeat(16_000), 0],
  ])('%s (200 KB)', (_name, text, expected) => {
    expect(redactString(text).redactions).toHaveLength(expected);
  });
});

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
