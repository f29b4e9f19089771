import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { createLogger } from '../common/logger.js';
import { startLocalBroker, type LocalBroker } from '../kafka/local-broker.js';

/**
 * Real Kafka for the integration tests: one 4.4.0 and one 3.9.2 single-node broker, started in
 * parallel in a temp dir and handed to the tests with `inject('kafkaBrokers')` /
 * `inject('kafkaBrokers39')`. KAFKA_BROKERS points both at an existing cluster instead.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap servers of a Kafka 4.4.0 broker (or KAFKA_BROKERS); empty when Kafka was skipped. */
    kafkaBrokers: string[];
    /** Bootstrap servers of a Kafka 3.9.2 broker (or KAFKA_BROKERS); empty when Kafka was skipped. */
    kafkaBrokers39: string[];
  }
}

type Teardown = () => Promise<void>;

const noTeardown: Teardown = () => Promise.resolve();

function externalBrokers(): string[] {
  return (process.env.KAFKA_BROKERS ?? '')
    .split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker !== '');
}

/**
 * The file filters given on the command line (`vitest run test/unit`). Vitest keeps them on an
 * internal field; if that ever changes we read nothing and assume every test file runs, which
 * only costs starting brokers that were not needed.
 */
function cliFilters(project: TestProject): string[] | undefined {
  const value: unknown = Reflect.get(project.vitest, 'filenamePattern');
  return Array.isArray(value) && value.every((v): v is string => typeof v === 'string') ? value : undefined;
}

/** Brokers take ~10 s and need Java: skip them when no selected test file is an integration test. */
async function kafkaNeeded(project: TestProject): Promise<boolean> {
  const skip = process.env.SCOPEWATCH_SKIP_KAFKA;
  if (skip === '1' || skip === 'true') return false;
  const { testFiles } = await project.globTestFiles(cliFilters(project));
  return testFiles.some((file) => file.split(path.sep).includes('integration'));
}

/** Both versions at once; if either fails, stop the other before failing the run. */
async function startBrokers(workDir: string): Promise<[LocalBroker, LocalBroker]> {
  const logger = createLogger('info', { component: 'test-global-setup' });
  const results = await Promise.allSettled([
    startLocalBroker({ version: '4.4.0', workDir, logger }),
    startLocalBroker({ version: '3.9.2', workDir, logger }),
  ]);
  const [kafka4, kafka39] = results;
  if (kafka4.status === 'fulfilled' && kafka39.status === 'fulfilled') return [kafka4.value, kafka39.value];
  await Promise.all(results.map((r) => (r.status === 'fulfilled' ? r.value.stop() : Promise.resolve())));
  const failure = results.find((r) => r.status === 'rejected');
  throw failure?.reason instanceof Error ? failure.reason : new Error('starting the test brokers failed');
}

export default async function setup(project: TestProject): Promise<Teardown> {
  const external = externalBrokers();
  if (external.length > 0) {
    project.provide('kafkaBrokers', external);
    project.provide('kafkaBrokers39', external);
    return noTeardown;
  }
  if (!(await kafkaNeeded(project))) {
    project.provide('kafkaBrokers', []);
    project.provide('kafkaBrokers39', []);
    return noTeardown;
  }
  const workDir = mkdtempSync(path.join(tmpdir(), 'scopewatch-test-kafka-'));
  let kafka4: LocalBroker;
  let kafka39: LocalBroker;
  try {
    [kafka4, kafka39] = await startBrokers(workDir);
  } catch (error) {
    rmSync(workDir, { recursive: true, force: true });
    throw error;
  }
  project.provide('kafkaBrokers', kafka4.brokers);
  project.provide('kafkaBrokers39', kafka39.brokers);
  return async () => {
    await Promise.all([kafka4.stop(), kafka39.stop()]);
    rmSync(workDir, { recursive: true, force: true });
  };
}
