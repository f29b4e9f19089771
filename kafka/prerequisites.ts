import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** Java and Maven on PATH: the only things the local broker needs installed. */

type Tool = 'java' | 'mvn';

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
export function findExecutable(tool: Tool, env: NodeJS.ProcessEnv): string | null {
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
