import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { jvmLogging } from './broker-process.js';
import { runProcess } from './processes.js';

/** The KRaft data directory's one-time `kafka-storage format`, and the cluster id it needs. */

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

/** `kafka-storage format`, once: an existing log dir keeps its cluster id, topics and offsets. */
export async function formatStorage(
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
