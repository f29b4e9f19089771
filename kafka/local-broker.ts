import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import type { LOCAL_KAFKA_VERSIONS } from '../common/config.js';
import { silentLogger, type Logger } from '../common/logger.js';

/**
 * A real single-node Apache Kafka (KRaft mode, one process acting as broker and controller) for
 * `scopewatch run` and the integration tests, with no Docker and no Kafka download to manage:
 * Maven resolves the broker jars (cached in ~/.m2) from kafka/pom.xml, and we start
 * `java -cp <jars> kafka.Kafka server.properties` on two free loopback ports.
 */

export type LocalKafkaVersion = (typeof LOCAL_KAFKA_VERSIONS)[number];

export interface LocalBroker {
  /** Bootstrap servers, e.g. ["127.0.0.1:41234"]. */
  brokers: string[];
  version: string;
  /** Pid of the broker's JVM. */
  pid: number;
  /** The broker's stdout/stderr (warnings and errors only). */
  logFile: string;
  /** Settles when the JVM exits, for whatever reason (stop(), crash, someone else's kill). */
  exited: Promise<BrokerExit>;
  /** SIGTERM, then SIGKILL if the broker has not exited within ~15 s. Idempotent. */
  stop(): Promise<void>;
}

export interface BrokerExit {
  code: number | null;
  signal: string | null;
}

export interface StartLocalBrokerOptions {
  version: LocalKafkaVersion;
  /** Parent directory; the broker lives in `<workDir>/<version>/` (config, data, log). */
  workDir: string;
  /** Where resolved classpaths are cached; default `<repo>/.cache/kafka`. */
  cacheDir?: string;
  logger: Logger;
  /** JVM max heap; default 512. */
  heapMb?: number;
  /** How long to wait for the broker to answer an admin request; default 60 s. */
  readyTimeoutMs?: number;
}

// ---------------------------------------------------------------------------------------------
// Prerequisites

export type Tool = 'java' | 'mvn';

/** Java or Maven is missing: a setup problem for the user, not a bug, so one actionable message. */
export class PrerequisiteError extends Error {
  override readonly name = 'PrerequisiteError';
  constructor(readonly missing: readonly Tool[]) {
    super(
      `the local Kafka broker needs Java 17+ and Apache Maven, but ${missing.join(' and ')} ` +
        `${missing.length > 1 ? 'are' : 'is'} not on PATH. Install Java 17+ and Apache Maven ` +
        '(Debian/Ubuntu: apt-get install openjdk-17-jre-headless maven), ' +
        'or set KAFKA_BROKERS to use an existing Kafka cluster.',
    );
  }
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** `which`, without spawning anything; JAVA_HOME wins for java, as in Kafka's own scripts. */
export function findExecutable(tool: Tool, env: NodeJS.ProcessEnv = process.env): string | null {
  if (tool === 'java' && env.JAVA_HOME) {
    const candidate = path.join(env.JAVA_HOME, 'bin', 'java');
    if (isExecutableFile(candidate)) return candidate;
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, tool);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

/** Paths of the requested tools; throws one PrerequisiteError naming every missing one. */
export function checkPrerequisites<T extends Tool>(
  tools: readonly T[],
  env: NodeJS.ProcessEnv = process.env,
): Record<T, string> {
  const found = tools.map((tool) => [tool, findExecutable(tool, env)] as const);
  const missing = found.filter(([, where]) => where === null).map(([tool]) => tool);
  if (missing.length > 0) throw new PrerequisiteError(missing);
  return Object.fromEntries(found) as Record<T, string>;
}

// ---------------------------------------------------------------------------------------------
// server.properties

export interface BrokerPropertiesInput {
  version: LocalKafkaVersion;
  port: number;
  controllerPort: number;
  logDir: string;
}

const isKafka4 = (version: string): boolean => version.startsWith('4.');

/** The broker configuration: single node, so every replication factor and min ISR is 1. */
export function brokerProperties(input: BrokerPropertiesInput): Record<string, string> {
  const { version, port, controllerPort, logDir } = input;
  const tenMiB = String(10 * 1024 * 1024);
  const props: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': logDir,
    'num.partitions': '1',
    'auto.create.topics.enable': 'false',
    // Internal topics: few partitions (fast to create, little memory), replication 1 (one node).
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '4',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'transaction.state.log.num.partitions': '4',
    // Consumers join at once instead of waiting 3 s for more members: tests and demos start faster.
    'group.initial.rebalance.delay.ms': '0',
    // Room for large batches; the fetch limit must not be below the message limit.
    'message.max.bytes': tenMiB,
    'replica.fetch.max.bytes': tenMiB,
    // A local broker keeps what it is given for a month; no size cap.
    'log.retention.hours': String(24 * 30),
    'log.retention.bytes': '-1',
    // The default 128 MiB compaction buffer would take a quarter of a 512 MiB heap.
    'log.cleaner.dedupe.buffer.size': String(16 * 1024 * 1024),
  };
  // Share groups (KIP-932) exist only in 4.x; their state topic defaults to replication 3, which
  // a single node cannot satisfy. 3.9.2 starts fine with these keys (it ignores them), but they
  // would only mislead someone reading its config.
  if (isKafka4(version)) {
    props['share.coordinator.state.topic.replication.factor'] = '1';
    props['share.coordinator.state.topic.min.isr'] = '1';
    props['share.coordinator.state.topic.num.partitions'] = '4';
  }
  return props;
}

/** Java properties syntax: backslash is the escape character in values. */
export function renderServerProperties(input: BrokerPropertiesInput): string {
  const lines = Object.entries(brokerProperties(input)).map(
    ([key, value]) => `${key}=${value.replaceAll('\\', '\\\\')}`,
  );
  return `# written by scopewatch (kafka/local-broker.ts) at every start; edits are overwritten\n${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// Classpath (Maven)

/** The repository root: the nearest ancestor holding kafka/pom.xml (works from kafka/ and dist/kafka/). */
function repoRoot(): string {
  const start = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'kafka', 'pom.xml'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`kafka/pom.xml not found above ${start}`);
  }
}

export function defaultCacheDir(): string {
  return path.join(repoRoot(), '.cache', 'kafka');
}

export function classpathFile(cacheDir: string, version: string): string {
  return path.join(cacheDir, version, 'classpath.txt');
}

/**
 * A cached classpath, if it is still usable: non-empty, contains this version's broker jar and
 * every jar still exists (~/.m2 may have been pruned since). Null means "ask Maven again".
 */
export function readCachedClasspath(file: string, version: string): string | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
  const entries = text.split(path.delimiter).filter((entry) => entry !== '');
  if (entries.length === 0) return null;
  if (!entries.some((entry) => path.basename(entry) === `kafka_2.13-${version}.jar`)) return null;
  return entries.every((entry) => existsSync(entry)) ? entries.join(path.delimiter) : null;
}

// Two brokers starting in parallel (the test setup) would run two Mavens downloading into the
// same ~/.m2, which Maven 3 does not guard against; one resolution at a time per process.
let mavenQueue: Promise<unknown> = Promise.resolve();

function serialized<T>(task: () => Promise<T>): Promise<T> {
  const run = mavenQueue.then(task, task);
  mavenQueue = run.catch(() => undefined);
  return run;
}

/**
 * The broker classpath for `version`: from `<cacheDir>/<version>/classpath.txt` when still valid,
 * otherwise from `mvn dependency:build-classpath` (the first run downloads the jars into ~/.m2).
 */
export async function resolveClasspath(
  version: LocalKafkaVersion,
  cacheDir: string = defaultCacheDir(),
  logger: Logger = silentLogger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const file = classpathFile(cacheDir, version);
  const cached = readCachedClasspath(file, version);
  if (cached !== null) return cached;
  return serialized(async () => {
    // Another caller may have resolved it while we queued.
    const again = readCachedClasspath(file, version);
    if (again !== null) return again;
    const { mvn } = checkPrerequisites(['mvn'], env);
    logger.info('resolving Kafka jars with Maven (the first run downloads them into ~/.m2)', { version });
    const started = Date.now();
    mkdirSync(path.dirname(file), { recursive: true });
    // Write elsewhere and rename, so a concurrent reader never sees a half-written file.
    const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await runMaven(mvn, version, partial, env);
      const classpath = readCachedClasspath(partial, version);
      if (classpath === null) throw new Error(`Maven produced no usable classpath for Kafka ${version}`);
      renameSync(partial, file);
      logger.info('Kafka jars resolved', { version, ms: Date.now() - started });
      return classpath;
    } finally {
      rmSync(partial, { force: true });
    }
  });
}

async function runMaven(mvn: string, version: string, outputFile: string, env: NodeJS.ProcessEnv) {
  const pom = path.join(repoRoot(), 'kafka', 'pom.xml');
  const args = ['-q', '-B', '-f', pom, 'dependency:build-classpath'];
  args.push(`-Dkafka.version=${version}`, `-Dmdep.outputFile=${outputFile}`);
  const result = await runProcess(mvn, args, env);
  if (result.code !== 0) {
    throw new Error(`mvn failed resolving Kafka ${version} (exit ${String(result.code)}):\n${result.output}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Processes

interface ProcessResult {
  code: number | null;
  /** Last lines of stdout+stderr, for error messages. */
  output: string;
}

const TAIL_CHARS = 4000;

function tailOf(text: string): string {
  return text.length <= TAIL_CHARS ? text : `…${text.slice(-TAIL_CHARS)}`;
}

/** Run a short-lived command to completion, keeping the tail of its output. */
function runProcess(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-2 * TAIL_CHARS);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject);
    child.once('close', (code) => {
      resolve({ code, output: tailOf(output.trim()) });
    });
  });
}

function readTail(file: string): string {
  try {
    return tailOf(readFileSync(file, 'utf8').trim());
  } catch {
    return '(no output)';
  }
}

/** Sleep that can end early: resolves true if `promise` settled first, false on timeout. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => {
      resolve(false);
    }, ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Ports, cluster id, storage

/** Free loopback ports, found by letting the OS pick (bind port 0) and releasing them again. */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => {
            resolve(server);
          });
        }),
    ),
  );
  // All stay bound until every port is read, so one call never returns the same port twice.
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/**
 * A Kafka cluster id, as Kafka's Uuid.randomUuid() makes them (saves starting a JVM for
 * `StorageTool random-uuid`): 16 random bytes in unpadded base64url, never the reserved zero or
 * metadata-topic ids, never starting with "-" (it would parse as a command-line flag).
 */
export function newClusterId(): string {
  for (;;) {
    const bytes = randomBytes(16);
    const reserved = bytes.subarray(0, 15).every((b) => b === 0) && (bytes[15] ?? 0) <= 1;
    const id = bytes.toString('base64url');
    if (!reserved && !id.startsWith('-')) return id;
  }
}

const jvmLogging = [
  '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
  '-Dorg.slf4j.simpleLogger.showDateTime=true',
];

/** `kafka-storage format`, once: an existing log dir keeps its cluster id, topics and offsets. */
async function formatStorage(
  java: string,
  classpath: string,
  propertiesFile: string,
  logDir: string,
  env: NodeJS.ProcessEnv,
): Promise<boolean> {
  if (existsSync(path.join(logDir, 'meta.properties'))) return false;
  const args = ['-Xmx256m', ...jvmLogging, '-cp', classpath, 'kafka.tools.StorageTool', 'format'];
  args.push('-t', newClusterId(), '-c', propertiesFile, '--ignore-formatted');
  const result = await runProcess(java, args, env);
  if (result.code !== 0) {
    throw new Error(
      `formatting Kafka storage in ${logDir} failed (exit ${String(result.code)}):\n${result.output}`,
    );
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// The broker process

interface BrokerProcess {
  child: ChildProcess;
  pid: number;
  exited: Promise<BrokerExit>;
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 15_000;

/**
 * A process 'exit' handler does not run when this process dies from a signal (SIGTERM from a CI
 * timeout, SIGKILL), which would leave an orphaned 512 MiB JVM holding the data directory. So a
 * tiny detached shell watches both pids: once the parent is gone it stops the broker itself,
 * gracefully first. It exits on its own when the broker does.
 */
const WATCHDOG_SCRIPT = `
parent=$1; broker=$2; grace=$3
while kill -0 "$parent" 2>/dev/null && kill -0 "$broker" 2>/dev/null; do sleep 1; done
kill -TERM "$broker" 2>/dev/null || exit 0
i=0
while kill -0 "$broker" 2>/dev/null && [ "$i" -lt "$grace" ]; do sleep 1; i=$((i+1)); done
kill -KILL "$broker" 2>/dev/null
exit 0`;

function startWatchdog(brokerPid: number): void {
  const graceSeconds = String(STOP_GRACE_MS / 1000);
  const args = [
    '-c',
    WATCHDOG_SCRIPT,
    'scopewatch-kafka-watchdog',
    String(process.pid),
    String(brokerPid),
    graceSeconds,
  ];
  const watchdog = spawn('/bin/sh', args, { detached: true, stdio: 'ignore' });
  watchdog.on('error', () => undefined); // best effort: without /bin/sh the 'exit' handler still covers most cases
  watchdog.unref();
}

function spawnBroker(
  java: string,
  args: string[],
  cwd: string,
  logFile: string,
  logger: Logger,
): BrokerProcess {
  const fd = openSync(logFile, 'w');
  let child: ChildProcess;
  try {
    // Its own process group: a terminal's Ctrl-C reaches only this process, which stops the
    // consumer (committing offsets) before it stops the broker, instead of the broker dying
    // first and the final commit waiting on a broker that is gone.
    child = spawn(java, args, { cwd, stdio: ['ignore', fd, fd], detached: true });
  } finally {
    closeSync(fd); // the child has its own copy
  }
  let running = true;
  if (child.pid !== undefined) startWatchdog(child.pid);
  // If this process exits without stop() (crash, process.exit), take the JVM with it; only
  // synchronous work is possible in an 'exit' handler, hence SIGKILL rather than a graceful stop.
  const killOnExit = (): void => {
    if (running) child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);
  const exited = new Promise<BrokerExit>((resolve) => {
    const done = (exit: BrokerExit): void => {
      running = false;
      process.off('exit', killOnExit);
      resolve(exit);
    };
    child.once('exit', (code, signal) => {
      done({ code, signal });
    });
    child.once('error', (error) => {
      writeFileSync(logFile, `failed to start ${java}: ${error.message}\n`, { flag: 'a' });
      done({ code: null, signal: null });
    });
  });
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (!running) return;
      child.kill('SIGTERM');
      if (await settlesWithin(exited, STOP_GRACE_MS)) return;
      logger.warn('Kafka broker ignored SIGTERM; killing it', { pid: child.pid, grace_ms: STOP_GRACE_MS });
      child.kill('SIGKILL');
      await exited;
    })());
  return { child, pid: child.pid ?? -1, exited, stop };
}

/** The broker could not be started; carries the tail of its log when there is one. */
export class LocalBrokerError extends Error {
  override readonly name = 'LocalBrokerError';
  constructor(
    message: string,
    readonly logTail = '',
  ) {
    super(logTail === '' ? message : `${message}\n--- last lines of the broker log ---\n${logTail}`);
  }
}

// ---------------------------------------------------------------------------------------------
// One broker per directory

interface DirectoryOwner {
  /** The node process that started the broker. */
  pid: number;
  javaPid?: number;
}

interface DirectoryClaim {
  setBrokerPid(pid: number): void;
  release(): void;
}

/**
 * Whether `pid` is alive and, given a marker and where /proc can tell (Linux), still runs a
 * command line containing it: pids recorded in files are reused after a crash or reboot.
 */
export function isProcessAlive(pid: number, commandMarker?: string): boolean {
  // kill(0 or negative pid) addresses process groups, which would always look alive.
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false; // EPERM: exists, not ours
  }
  if (commandMarker === undefined) return true;
  try {
    return readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8').includes(commandMarker);
  } catch {
    return true;
  }
}

function readOwner(file: string): DirectoryOwner | null {
  try {
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof value !== 'object' || value === null) return null;
    const { pid, javaPid } = value as Record<string, unknown>;
    if (typeof pid !== 'number') return null;
    return typeof javaPid === 'number' ? { pid, javaPid } : { pid };
  } catch {
    return null;
  }
}

function ownerIsLive(owner: DirectoryOwner): boolean {
  return owner.javaPid === undefined
    ? isProcessAlive(owner.pid, 'node')
    : isProcessAlive(owner.javaPid, 'kafka.Kafka');
}

/**
 * Claim a broker directory for this process. A second Kafka on the same log dir fails on Kafka's
 * own lock, but not before it has rewritten server.properties and the log file and (seen with
 * 4.4.0) made the running broker exit, so refuse before touching anything.
 */
function claimDirectory(dir: string): DirectoryClaim {
  const file = path.join(dir, 'owner.json');
  const write = (owner: DirectoryOwner, flag: 'w' | 'wx'): void => {
    writeFileSync(file, `${JSON.stringify(owner)}\n`, { flag });
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      write({ pid: process.pid }, 'wx');
      return {
        setBrokerPid: (javaPid) => {
          write({ pid: process.pid, javaPid }, 'w');
        },
        release: () => {
          rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = readOwner(file);
      if (owner !== null && ownerIsLive(owner)) {
        throw new LocalBrokerError(
          `a local Kafka broker started by pid ${String(owner.pid)} is already using ${dir}; ` +
            'stop it first (`npm run kafka:stop` stops one started by kafka:start), or set KAFKA_BROKERS to use it',
        );
      }
      rmSync(file, { force: true }); // left behind by a process that died
    }
  }
  throw new LocalBrokerError(`could not claim ${dir}: another start is racing for it`);
}

/** True once the broker answers a real admin request and reports itself in the cluster. */
async function answersAdmin(kafka: Kafka): Promise<boolean> {
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Poll with admin requests until ready; 'exited' or 'timeout' otherwise. */
async function waitUntilReady(
  brokers: string[],
  exited: Promise<BrokerExit>,
  timeoutMs: number,
): Promise<'ready' | 'exited' | 'timeout'> {
  // The broker refuses connections while it boots; kafkajs would log every attempt as an error.
  const kafka = new Kafka({
    clientId: 'scopewatch-local-broker',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
  const deadline = Date.now() + timeoutMs;
  const exit = exited.then(() => 'exited' as const);
  while (Date.now() < deadline) {
    const outcome = await Promise.race([answersAdmin(kafka).then((ok) => (ok ? 'ready' : 'retry')), exit]);
    if (outcome !== 'retry') return outcome;
    if (await settlesWithin(exited, 250)) return 'exited';
  }
  return 'timeout';
}

function brokerJvmArgs(heapMb: number, classpath: string, propertiesFile: string): string[] {
  return [
    `-Xmx${heapMb}m`,
    `-Xms${Math.min(256, heapMb)}m`,
    // Fail fast and visibly rather than limp along in GC thrash.
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    ...jvmLogging,
    '-cp',
    classpath,
    'kafka.Kafka',
    propertiesFile,
  ];
}

const isBindFailure = (logTail: string): boolean => /BindException|Address already in use/.test(logTail);

interface Prepared {
  java: string;
  classpath: string;
  dir: string;
  logDir: string;
  claim: DirectoryClaim;
}

function startFailure(
  opts: StartLocalBrokerOptions,
  outcome: 'exited' | 'timeout',
  exit: BrokerExit,
  logFile: string,
  dir: string,
): LocalBrokerError {
  const what =
    outcome === 'exited'
      ? `exited during start-up (code ${String(exit.code)}, signal ${String(exit.signal)})`
      : `did not answer an admin request within ${String(opts.readyTimeoutMs ?? 60_000)} ms`;
  const tail = readTail(logFile);
  // Our own brokers are kept apart by claimDirectory; this catches a Kafka started some other way.
  const hint = /Failed to acquire lock/.test(tail) ? `; another Kafka process is using ${dir}` : '';
  return new LocalBrokerError(`Kafka ${opts.version} ${what}${hint}`, tail);
}

/** One start attempt on fresh ports: config, (format), spawn, wait. */
async function startOnce(
  opts: StartLocalBrokerOptions,
  prepared: Prepared,
  log: Logger,
): Promise<LocalBroker> {
  const [port = 0, controllerPort = 0] = await freeLoopbackPorts(2);
  const propertiesFile = path.join(prepared.dir, 'server.properties');
  const logFile = path.join(prepared.dir, 'broker.log');
  writeFileSync(
    propertiesFile,
    renderServerProperties({ version: opts.version, port, controllerPort, logDir: prepared.logDir }),
  );
  if (await formatStorage(prepared.java, prepared.classpath, propertiesFile, prepared.logDir, process.env)) {
    log.info('formatted Kafka storage', { log_dir: prepared.logDir });
  }
  const jvmArgs = brokerJvmArgs(opts.heapMb ?? 512, prepared.classpath, propertiesFile);
  const broker = spawnBroker(prepared.java, jvmArgs, prepared.dir, logFile, log);
  if (broker.pid > 0) prepared.claim.setBrokerPid(broker.pid);
  const brokers = [`127.0.0.1:${port}`];
  log.info('starting Kafka broker', { pid: broker.pid, brokers, log_file: logFile });
  const outcome = await waitUntilReady(brokers, broker.exited, opts.readyTimeoutMs ?? 60_000);
  if (outcome !== 'ready') {
    await broker.stop();
    throw startFailure(opts, outcome, await broker.exited, logFile, prepared.dir);
  }
  return {
    brokers,
    version: opts.version,
    pid: broker.pid,
    logFile,
    exited: broker.exited,
    stop: broker.stop,
  };
}

/**
 * Start a local single-node Kafka and resolve once it answers admin requests. Data persists in
 * `<workDir>/<version>/data` across restarts (topics and committed offsets survive); each version
 * has its own directory because KRaft metadata cannot be downgraded.
 */
export async function startLocalBroker(opts: StartLocalBrokerOptions): Promise<LocalBroker> {
  const started = Date.now();
  const log = opts.logger.child({ component: 'local-kafka', version: opts.version });
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  // Maven is only needed when the classpath is not cached yet; report both missing tools at once.
  const cached = readCachedClasspath(classpathFile(cacheDir, opts.version), opts.version);
  const { java } = checkPrerequisites(cached === null ? ['java', 'mvn'] : ['java']);
  const classpath = cached ?? (await resolveClasspath(opts.version, cacheDir, log));
  const dir = path.join(path.resolve(opts.workDir), opts.version);
  const logDir = path.join(dir, 'data');
  mkdirSync(logDir, { recursive: true });
  const claim = claimDirectory(dir);
  try {
    const broker = await startWithRetries(opts, { java, classpath, dir, logDir, claim }, log);
    void broker.exited.then(claim.release);
    log.info('Kafka broker ready', { brokers: broker.brokers, pid: broker.pid, ms: Date.now() - started });
    return broker;
  } catch (error) {
    claim.release();
    throw error;
  }
}

/**
 * Ports are found free and then released, so another process can take one in between; rare
 * enough that trying again on fresh ports is the whole remedy.
 */
async function startWithRetries(opts: StartLocalBrokerOptions, prepared: Prepared, log: Logger) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts, prepared, log);
    } catch (error) {
      if (!(error instanceof LocalBrokerError && isBindFailure(error.logTail)) || attempt >= 3) throw error;
      log.warn('Kafka broker port was taken; retrying on other ports', { attempt });
    }
  }
}
