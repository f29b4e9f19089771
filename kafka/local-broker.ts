import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LOCAL_KAFKA_VERSIONS } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import { brokerJvmArgs, spawnBroker, waitUntilReady, type BrokerExit } from './broker-process.js';
import { claimDirectory, type DirectoryClaim } from './directory-claim.js';
import { LocalBrokerError } from './local-broker-error.js';
import { freeLoopbackPorts } from './loopback-ports.js';
import { classpathFile, defaultCacheDir, readCachedClasspath, resolveClasspath } from './maven-classpath.js';
import { checkPrerequisites } from './prerequisites.js';
import { readTail } from './processes.js';
import { renderServerProperties } from './server-properties.js';
import { formatStorage } from './storage-format.js';

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

interface StartLocalBrokerOptions {
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
