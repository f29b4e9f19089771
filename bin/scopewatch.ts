#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { COMMANDS } from './commands.js';
import { OPTIONS, overridesFrom } from './flags.js';

/** `scopewatch <command> [flags]` — see README "CLI". */

const USAGE = `usage: scopewatch <command> [flags]

commands:
  run       all-in-one: local Kafka broker (unless KAFKA_BROKERS), ClickHouse (embedded unless
            CLICKHOUSE_URL), ingest consumer and API; --demo also produces demo traffic
  ingest    Kafka consumer → ClickHouse
  api       HTTP API
  migrate   apply ClickHouse migrations and exit
  replay    --input FILE [--format canonical|otel|mcp|cloudtrail|github]: backfill through the
            same pipeline; FILE is JSON Lines (.jsonl[.gz]) or one JSON document (.json[.gz],
            e.g. a CloudTrail delivery file); prints {"read":…,"written":…,"dlq":…}
  analyze   --input FILE [--baseline FILE] [--format F] [--identities FILE] --out findings.jsonl:
            offline and deterministic: learn the baseline file, judge the input, write findings
  detect    scheduled detection (node-cron, SCOPEWATCH_DETECT_SCHEDULE) against ClickHouse;
            catches up from its watermark after downtime
  demo      produce realistic agent traffic (with injected incidents) to the topic
  findings  open findings ranked by score, with explanations, from a running API [--identity ID]
  rules     test FILE|FOLDER…: run rule files' embedded test cases (exit 1 on any failure);
            list: the rules detection loads (shipped packs + SCOPEWATCH_RULES)
  stats     what has arrived (per identity, DLQ reasons, recent events) from a running API
  evidence  FINDING_ID --out FILE: a finding's signed evidence bundle from a running API
            (compliance or admin key); FILE ending .tar.gz/.tgz gets the archive, else JSON
  review    IDENTITY [--from T] [--to T] [--out FILE]: an identity's signed access review
            (declared versus used scope, a proposed least-privilege scope); --fleet: the
            table of every identity with a verdict (--format csv for a spreadsheet). T is ISO
            8601 or epoch ms; the period defaults to the 90 days before now (compliance key)
  keys      create --role analyst|compliance|admin [--name N] (prints the secret once) | list |
            revoke KEY_ID, through a running API with an admin key
  verify    BUNDLE… [--pubkey FILE]: check bundles offline (signature, every part's SHA-256,
            the chain link, and across several bundles the chain); exit 1 on any failure

common flags:
  --data-dir DIR         SCOPEWATCH_DATA_DIR (embedded ClickHouse, local broker)
  --clickhouse-url URL   CLICKHOUSE_URL (server mode)
  --brokers LIST         KAFKA_BROKERS
  --topic NAME           SCOPEWATCH_TOPIC
  --partitions N         SCOPEWATCH_TOPIC_PARTITIONS
  --port N               SCOPEWATCH_API_PORT
  --log-level LEVEL      SCOPEWATCH_LOG_LEVEL (debug|info|warn|error)
  SCOPEWATCH_RULES=DIR   your rule files, loaded after the shipped packs (docs/RULES.md)
`;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  const [name] = parsed.positionals;
  if (parsed.values.help || name === undefined || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined && !parsed.values.help ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  let config: Config;
  try {
    config = loadConfig(process.env, overridesFrom(parsed.values));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const code = await command(config, parsed.values, parsed.positionals.slice(1));
  return typeof code === 'number' ? code : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exit(code);
  },
  (error: unknown) => {
    const logger = createLogger('error');
    logger.error(error instanceof Error ? error.message : String(error), { name: (error as Error).name });
    process.exit(1);
  },
);
