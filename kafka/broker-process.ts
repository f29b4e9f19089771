import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import type { Logger } from '../common/logger.js';
import { settlesWithin } from './processes.js';

/**
 * The broker JVM: `java -cp <jars> kafka.Kafka server.properties` in its own process group,
 * watched so it never outlives us, ready once it answers an admin request, stopped gracefully.
 */

export interface BrokerExit {
  code: number | null;
  signal: string | null;
}

interface BrokerProcess {
  pid: number;
  exited: Promise<BrokerExit>;
  stop(): Promise<void>;
}

export const jvmLogging = [
  '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
  '-Dorg.slf4j.simpleLogger.showDateTime=true',
];

export function brokerJvmArgs(heapMb: number, classpath: string, propertiesFile: string): string[] {
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

export function spawnBroker(
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
  return { pid: child.pid ?? -1, exited, stop };
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
export async function waitUntilReady(
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
