import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../common/logger.js';
import type { LocalKafkaVersion } from './local-broker.js';
import { checkPrerequisites } from './prerequisites.js';
import { runProcess } from './processes.js';

/**
 * The broker's jars: Maven resolves them from kafka/pom.xml (downloading into ~/.m2 on first
 * use), and the resulting classpath is cached per version under the cache dir.
 */

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
  cacheDir: string,
  logger: Logger,
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
