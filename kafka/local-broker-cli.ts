import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../common/config.js';
import { createLogger } from '../common/logger.js';
import { onShutdown } from '../common/shutdown.js';
import { LocalBrokerError } from './local-broker-error.js';
import { startLocalBroker, type LocalBroker } from './local-broker.js';
import { PrerequisiteError } from './prerequisites.js';
import { isProcessAlive } from './processes.js';

/**
 * Run the local Kafka broker on its own (`npm run kafka:start` / `kafka:stop`), for pointing a
 * separately started `scopewatch ingest`/`demo` at it. `start` stays in the foreground; the
 * broker.json it writes next to the broker's data lets `stop` and `status` find it.
 */

const USAGE = `usage: node dist/kafka/local-broker-cli.js <start|stop|status> [--version 4.4.0|3.9.2]

  start    start a single-node Kafka under $SCOPEWATCH_DATA_DIR/kafka (default ./data/kafka) in the
           foreground; prints KAFKA_BROKERS=... on stdout; Ctrl-C or \`stop\` stops it
  stop     stop a broker started by \`start\`
  status   print whether it is running (exit code 1 if not)

  --version  Kafka version for \`start\` (default $SCOPEWATCH_LOCAL_KAFKA_VERSION or 4.4.0)`;

interface BrokerState {
  /** The `start` process; signalling it stops the broker cleanly. */
  pid: number;
  javaPid: number;
  brokers: string[];
  version: string;
  logFile: string;
  startedAt: string;
}

const stateFile = (config: Config): string => path.join(config.dataDir, 'kafka', 'broker.json');

function readState(file: string): BrokerState | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as BrokerState;
  } catch {
    return null;
  }
}

/** Whether the recorded `start` process is still this CLI (and not a reused pid). */
const isRunning = (state: BrokerState): boolean => isProcessAlive(state.pid, 'local-broker-cli');

/** The running broker's state, removing a stale file left by a crash. */
function runningState(file: string): BrokerState | null {
  const state = readState(file);
  if (state === null) return null;
  if (isRunning(state)) return state;
  rmSync(file, { force: true });
  return null;
}

async function start(config: Config): Promise<void> {
  const file = stateFile(config);
  const running = runningState(file);
  if (running) {
    throw new LocalBrokerError(
      `a local Kafka broker is already running (pid ${String(running.pid)}, ` +
        `KAFKA_BROKERS=${running.brokers.join(',')}); stop it with \`npm run kafka:stop\``,
    );
  }
  const logger = createLogger(config.logLevel);
  const broker = await startLocalBroker({
    version: config.kafka.localVersion,
    workDir: path.join(config.dataDir, 'kafka'),
    logger,
  });
  const state: BrokerState = {
    pid: process.pid,
    javaPid: broker.pid,
    brokers: broker.brokers,
    version: broker.version,
    logFile: broker.logFile,
    startedAt: new Date().toISOString(),
  };
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`);
  process.stdout.write(`KAFKA_BROKERS=${broker.brokers.join(',')}\n`);
  watch(broker, file, logger);
}

/** Stop on SIGINT/SIGTERM; exit non-zero if the broker dies on its own. */
function watch(broker: LocalBroker, file: string, logger: ReturnType<typeof createLogger>): void {
  let stopping = false;
  onShutdown(async (signal) => {
    stopping = true;
    logger.info('stopping local Kafka broker', { signal });
    await broker.stop();
    rmSync(file, { force: true });
  });
  void broker.exited.then((exit) => {
    if (stopping) return;
    logger.error('local Kafka broker exited unexpectedly', { ...exit, log_file: broker.logFile });
    rmSync(file, { force: true });
    process.exit(1);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** SIGTERM the `start` process (which stops the JVM cleanly); force both after 30 s. */
async function stop(config: Config): Promise<void> {
  const file = stateFile(config);
  const state = runningState(file);
  if (state === null) {
    console.log('no local Kafka broker is running');
    return;
  }
  process.kill(state.pid, 'SIGTERM');
  // `start` removes the file once the broker is down; a dead pid counts too (it may have crashed).
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && readState(file) !== null && isProcessAlive(state.pid)) await sleep(200);
  if (readState(file) !== null && isProcessAlive(state.pid)) {
    for (const pid of [state.javaPid, state.pid]) if (isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
    console.log(`local Kafka broker did not stop in time; killed pid ${String(state.pid)}`);
  } else {
    console.log(`stopped local Kafka broker ${state.version} (pid ${String(state.pid)})`);
  }
  rmSync(file, { force: true });
}

function status(config: Config): void {
  const state = runningState(stateFile(config));
  if (state === null) {
    console.log('local Kafka broker: not running');
    process.exitCode = 1;
    return;
  }
  console.log(
    `local Kafka broker ${state.version}: running (pid ${String(state.pid)}, since ${state.startedAt})\n` +
      `KAFKA_BROKERS=${state.brokers.join(',')}\nlog: ${state.logFile}`,
  );
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { version: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, ...extra] = positionals;
  if (values.help === true || command === undefined || extra.length > 0) {
    console.log(USAGE);
    if (values.help !== true) process.exitCode = 2;
    return;
  }
  // The version goes through the config schema, so a bad one gets the same message as the env var.
  const overrides = values.version === undefined ? {} : { kafka: { localVersion: values.version } };
  const config = loadConfig(process.env, overrides);
  if (command === 'start') await start(config);
  else if (command === 'stop') await stop(config);
  else if (command === 'status') status(config);
  else {
    console.error(`unknown command "${command}"\n${USAGE}`);
    process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  // Setup and usage problems get their message only; anything else keeps its stack for the bug report.
  const expected =
    error instanceof PrerequisiteError ||
    error instanceof ConfigError ||
    error instanceof LocalBrokerError ||
    (error instanceof TypeError &&
      String((error as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS'));
  const text =
    error instanceof Error ? (expected ? error.message : (error.stack ?? error.message)) : String(error);
  console.error(`local-broker: ${text}`);
  process.exit(1);
});
