import path from 'node:path';
import { z } from 'zod';
import { isSourceFormat, SOURCE_FORMATS } from './formats.js';
import { formatZodIssues } from './zod-issues.js';

/**
 * The one configuration object. Every knob scopewatch has is here, built from the environment
 * and then overridden by CLI flags, validated once at start-up so a typo fails loudly before
 * anything connects.
 */

const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
/** A list given as comma-separated text (environment, flags) or as an array (programmatic overrides). */
const csv = z.union([
  z.string().transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x.length > 0),
  ),
  z.array(z.string()),
]);

/** Kafka versions the local broker script knows how to fetch: newest 4.x (default) and 3.9.x. */
export const LOCAL_KAFKA_VERSIONS = ['4.4.0', '3.9.2'] as const;

const logLevels = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof logLevels)[number];

/** Environment variable → dotted config path. This table is the documented surface. */
export const ENV_VARS = {
  SCOPEWATCH_DATA_DIR: 'dataDir',
  SCOPEWATCH_LOG_LEVEL: 'logLevel',
  CLICKHOUSE_URL: 'clickhouse.url',
  CLICKHOUSE_USER: 'clickhouse.user',
  CLICKHOUSE_PASSWORD: 'clickhouse.password',
  CLICKHOUSE_DATABASE: 'clickhouse.database',
  SCOPEWATCH_ACTIONS_TTL_DAYS: 'clickhouse.actionsTtlDays',
  SCOPEWATCH_ERRORS_TTL_DAYS: 'clickhouse.errorsTtlDays',
  KAFKA_BROKERS: 'kafka.brokers',
  KAFKA_CLIENT_ID: 'kafka.clientId',
  KAFKA_SSL: 'kafka.ssl',
  KAFKA_SASL_MECHANISM: 'kafka.sasl.mechanism',
  KAFKA_SASL_USERNAME: 'kafka.sasl.username',
  KAFKA_SASL_PASSWORD: 'kafka.sasl.password',
  SCOPEWATCH_TOPIC: 'kafka.topic',
  SCOPEWATCH_DLQ_TOPIC: 'kafka.dlqTopic',
  SCOPEWATCH_TOPIC_FORMATS: 'kafka.topicFormats',
  SCOPEWATCH_TOPIC_PARTITIONS: 'kafka.partitions',
  SCOPEWATCH_TOPIC_REPLICATION: 'kafka.replicationFactor',
  SCOPEWATCH_CONSUMER_GROUP: 'kafka.groupId',
  SCOPEWATCH_PARTITIONS_CONCURRENCY: 'kafka.partitionsConsumedConcurrently',
  SCOPEWATCH_LOCAL_KAFKA_VERSION: 'kafka.localVersion',
  SCOPEWATCH_BATCH_MAX_ROWS: 'ingest.maxBatchRows',
  SCOPEWATCH_BATCH_MAX_BYTES: 'ingest.maxBatchBytes',
  SCOPEWATCH_BATCH_MAX_AGE_MS: 'ingest.maxBatchAgeMs',
  SCOPEWATCH_MAX_MESSAGE_BYTES: 'ingest.maxMessageBytes',
  SCOPEWATCH_ARGS_MAX_BYTES: 'ingest.argsMaxBytes',
  SCOPEWATCH_RETRY_INITIAL_MS: 'ingest.retryInitialMs',
  SCOPEWATCH_RETRY_MAX_MS: 'ingest.retryMaxMs',
  SCOPEWATCH_IDENTITIES: 'detect.identitiesFile',
  SCOPEWATCH_DETECT_SCHEDULE: 'detect.schedule',
  SCOPEWATCH_DETECT_STREAMING: 'detect.streaming',
  SCOPEWATCH_DETECTORS: 'detect.detectors',
  SCOPEWATCH_RULES: 'detect.rulesDir',
  SCOPEWATCH_API_HOST: 'api.host',
  SCOPEWATCH_API_PORT: 'api.port',
  SCOPEWATCH_API_KEYS: 'api.keys',
  SCOPEWATCH_SIGNING_KEY_FILE: 'api.signingKeyFile',
  SCOPEWATCH_API_RATE_LIMIT: 'api.rateLimit',
  SCOPEWATCH_API_RATE_BURST: 'api.rateBurst',
  SCOPEWATCH_METRICS_HOST: 'metrics.host',
  SCOPEWATCH_METRICS_PORT: 'metrics.port',
  SCOPEWATCH_API_URL: 'client.apiUrl',
  SCOPEWATCH_API_KEY: 'client.apiKey',
} as const;

export type EnvVarName = keyof typeof ENV_VARS;

const apiKeySpec = z
  .string()
  .regex(
    /^(analyst|compliance|admin):[A-Za-z0-9_\-.]{16,}$/,
    'API keys are "role:secret" with role analyst|compliance|admin and a secret of 16+ characters [A-Za-z0-9_-.]',
  );

export const ConfigSchema = z.object({
  dataDir: z.string().min(1).default('./data'),
  logLevel: z.enum(logLevels).default('info'),
  clickhouse: z.object({
    url: z.url().optional(),
    user: z.string().default('default'),
    password: z.string().default(''),
    database: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'database must be a plain identifier')
      .default('scopewatch'),
    actionsTtlDays: nonNegativeInt.default(400),
    errorsTtlDays: nonNegativeInt.default(30),
  }),
  kafka: z.object({
    brokers: csv.optional(),
    clientId: z.string().min(1).default('scopewatch'),
    ssl: bool.default(false),
    sasl: z
      .object({
        mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
        username: z.string().optional(),
        password: z.string().optional(),
      })
      .default({}),
    topic: z.string().min(1).default('agent-actions'),
    dlqTopic: z.string().min(1).optional(),
    /** Extra topics and the source format of their messages: `topic=format,…` (a `format` header still wins). */
    topicFormats: csv
      .pipe(
        z.array(
          z
            .string()
            .regex(
              /^[A-Za-z0-9._-]+=[a-z0-9_-]+$/,
              'entries are topic=format, e.g. cloudtrail-raw=cloudtrail',
            )
            .refine((entry) => isSourceFormat(entry.slice(entry.indexOf('=') + 1)), {
              message: `unknown format (known: ${SOURCE_FORMATS.join(', ')})`,
            }),
        ),
      )
      .transform((entries) => Object.fromEntries(entries.map((e) => e.split('=') as [string, string])))
      .default({}),
    partitions: positiveInt.default(6),
    replicationFactor: positiveInt.default(1),
    groupId: z.string().min(1).default('scopewatch-ingest'),
    partitionsConsumedConcurrently: positiveInt.default(3),
    localVersion: z.enum(LOCAL_KAFKA_VERSIONS).default('4.4.0'),
  }),
  ingest: z.object({
    maxBatchRows: positiveInt.default(20_000),
    maxBatchBytes: positiveInt.default(16 * 1024 * 1024),
    maxBatchAgeMs: positiveInt.default(500),
    maxMessageBytes: positiveInt.default(256 * 1024),
    argsMaxBytes: positiveInt.default(8 * 1024),
    retryInitialMs: positiveInt.default(200),
    retryMaxMs: positiveInt.default(10_000),
  }),
  detect: z.object({
    /** Identity registry file (YAML or JSON); unset = no registry, policy detectors that need one stay silent. */
    identitiesFile: z.string().min(1).optional(),
    /** A folder of rule files (YAML) loaded after the shipped packs; a rule with a shipped id replaces it. */
    rulesDir: z.string().min(1).optional(),
    /** node-cron expression of the scheduled (catch-up) detection pass. */
    schedule: z.string().min(1).default('* * * * *'),
    /** Judge each ingest batch inline (run/ingest); the scheduled pass still catches up. */
    streaming: bool.default(true),
    /**
     * Per-detector settings, JSON keyed by detector id, e.g.
     * {"scope.new_tool":{"warmupEvents":50,"windowDays":60},"lifecycle.dormant_reactivation":{"dormantDays":14}}
     */
    detectors: z
      .unknown()
      .transform((value, ctx) => {
        if (typeof value !== 'string') return value;
        try {
          return JSON.parse(value) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'must be a JSON object keyed by detector id' });
          return z.NEVER;
        }
      })
      .pipe(
        z.record(
          z.string().regex(/^[a-z]+\.[a-z_]+$/, 'keys are detector ids such as scope.new_tool'),
          z
            .object({
              windowDays: z.number().positive().optional(),
              warmupEvents: z.number().int().nonnegative().optional(),
              warmupDays: z.number().nonnegative().optional(),
              minScore: z.number().min(0).max(1).optional(),
              establishedDays: z.number().nonnegative().optional(),
              destinationTypes: z
                .array(
                  z
                    .string()
                    .min(1)
                    .max(64)
                    .regex(/^[^,:]+$/),
                )
                .max(100)
                .optional(),
              dormantDays: z.number().positive().optional(),
              housekeeping: z.boolean().optional(),
              // chain.rare_transition (detectors/rules/chain-rare-transition.ts)
              minHistory: z.number().int().nonnegative().optional(),
              minExcessBits: z.number().nonnegative().optional(),
              minLiftBits: z.number().nonnegative().optional(),
              halfScoreBits: z.number().positive().optional(),
              alpha: z.number().gt(0).max(1).optional(),
            })
            .strict(),
        ),
      )
      .default({}),
  }),
  api: z.object({
    host: z.string().default('127.0.0.1'),
    port: nonNegativeInt.max(65535).default(8080),
    keys: csv.pipe(z.array(apiKeySpec)).default([]),
    /**
     * The Ed25519 private key (PKCS#8 PEM) evidence bundles are signed with. Unset: one is
     * generated on first run in DATA_DIR/signing-key.pem (mode 0600) and kept.
     */
    signingKeyFile: z.string().min(1).optional(),
    /** Requests per second each API key (or client address, before authentication) may make on average. */
    rateLimit: z.coerce.number().nonnegative().default(50),
    /** How many requests a key may make at once above that rate. */
    rateBurst: z.coerce.number().int().positive().default(100),
  }),
  /**
   * `scopewatch ingest` on its own serves GET /metrics here when a port is set (the API serves
   * the same registry itself in `run`).
   */
  metrics: z
    .object({
      host: z.string().default('127.0.0.1'),
      port: nonNegativeInt.max(65535).optional(),
    })
    .default({ host: '127.0.0.1' }),
  /** Where CLI commands that talk to a running API (e.g. `stats`) find it. */
  client: z
    .object({
      apiUrl: z.url().optional(),
      apiKey: z.string().optional(),
    })
    .default({}),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** The slices services are handed: each takes what it needs, not the whole object. */
export type KafkaSettings = Config['kafka'];
export type IngestSettings = Config['ingest'];
export type ClickHouseSettings = Config['clickhouse'];
export type DetectSettings = Config['detect'];
export type ApiSettings = Config['api'];

type Tree = Record<string, unknown>;

function setPath(tree: Tree, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next === 'object' && next !== null) {
      node = next as Tree;
    } else {
      const fresh: Tree = {};
      node[part] = fresh;
      node = fresh;
    }
  }
  node[parts[parts.length - 1] ?? dotted] = value;
}

function deepMerge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    if (
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      typeof prev === 'object' &&
      prev !== null
    ) {
      out[key] = deepMerge(prev as Tree, value as Tree);
    } else if (value !== undefined) {
      out[key] = value;
    }
  }
  return out;
}

/** Configuration problems are user errors: one readable message listing every bad field. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Build the configuration from environment variables (see ENV_VARS), then apply `overrides`
 * (CLI flags, tests) on top. Empty environment values count as unset.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigInput | Tree = {}): Config {
  const fromEnv: Tree = { clickhouse: {}, kafka: {}, ingest: {}, detect: {}, api: {}, client: {} };
  for (const [name, dotted] of Object.entries(ENV_VARS)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(fromEnv, dotted, value);
  }
  const parsed = ConfigSchema.safeParse(deepMerge(fromEnv, overrides));
  if (!parsed.success) {
    const lines = formatZodIssues(parsed.error.issues, {
      prefix: '  ',
      separator: '\n',
      where: (issuePath) => {
        const dotted = issuePath.map(String).join('.');
        // `kafka.topicFormats.0` is still SCOPEWATCH_TOPIC_FORMATS: match the variable's path as a prefix.
        const envName = Object.entries(ENV_VARS).find(
          ([, p]) => dotted === p || dotted.startsWith(`${p}.`),
        )?.[0];
        return `${dotted}${envName ? ` (${envName})` : ''}`;
      },
    });
    throw new ConfigError(`invalid configuration:\n${lines}`);
  }
  const config = parsed.data;
  config.dataDir = path.resolve(config.dataDir);
  config.kafka.dlqTopic ??= `${config.kafka.topic}.dlq`;
  // Consuming the dead-letter topic would dead-letter its own records into itself, forever.
  if (config.kafka.dlqTopic in config.kafka.topicFormats)
    throw new ConfigError(
      `invalid configuration:\n  kafka.topicFormats (SCOPEWATCH_TOPIC_FORMATS): ${config.kafka.dlqTopic} is the dead-letter topic and cannot be consumed`,
    );
  return config;
}

/** The DLQ topic after defaults were applied. */
export function dlqTopicOf(kafka: KafkaSettings): string {
  return kafka.dlqTopic ?? `${kafka.topic}.dlq`;
}
