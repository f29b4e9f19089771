import path from 'node:path';
import type { Config } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import { startLocalBroker, type LocalBroker } from '../kafka/local-broker.js';

/** Brokers from config, or a local broker started for this process (the zero-setup path). */
export async function kafkaBrokers(
  config: Pick<Config, 'kafka' | 'dataDir'>,
  logger: Logger,
): Promise<{ brokers: string[]; local: LocalBroker | null }> {
  if (config.kafka.brokers && config.kafka.brokers.length > 0)
    return { brokers: config.kafka.brokers, local: null };
  logger.info('KAFKA_BROKERS not set: starting a local Kafka broker', { version: config.kafka.localVersion });
  const local = await startLocalBroker({
    version: config.kafka.localVersion,
    workDir: path.join(config.dataDir, 'kafka'),
    logger,
  });
  logger.info('local Kafka broker ready', { brokers: local.brokers });
  return { brokers: local.brokers, local };
}

/** Brokers a command that does not start its own must be given. */
export function requireBrokers(kafka: Config['kafka']): string[] {
  const brokers = kafka.brokers;
  if (!brokers || brokers.length === 0) {
    throw new Error(
      'KAFKA_BROKERS (or --brokers) is required for this command; `scopewatch run` starts a local broker',
    );
  }
  return brokers;
}
