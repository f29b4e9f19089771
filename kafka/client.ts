import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import type { Config } from '../common/config.js';
import type { Logger } from '../common/logger.js';

/** kafkajs log levels → ours, so broker chatter lands in the same structured log. */
function kafkaLogCreator(logger: Logger) {
  return () =>
    ({ level, log }: { level: logLevel; log: { message: string } & Record<string, unknown> }) => {
      const { message, ...fields } = log;
      // kafkajs logs every retriable protocol error response ("Response GroupCoordinator…",
      // e.g. while a fresh broker loads its coordinators) at ERROR and then retries it; failures
      // that matter surface as exceptions from the calls themselves.
      const retried = message.startsWith('Response ');
      if (level === logLevel.ERROR && !retried) logger.warn(`kafka: ${message}`, fields);
      else if (level <= logLevel.WARN) logger.debug(`kafka: ${message}`, fields);
    };
}

function sasl(config: Config): SASLOptions | undefined {
  const { mechanism, username, password } = config.kafka.sasl;
  if (!mechanism) return undefined;
  if (!username || !password)
    throw new Error('KAFKA_SASL_MECHANISM needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD');
  return { mechanism, username, password };
}

export function createKafka(config: Config, brokers: string[], logger: Logger): Kafka {
  const options: KafkaConfig = {
    clientId: config.kafka.clientId,
    brokers,
    ssl: config.kafka.ssl,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(logger.child({ component: 'kafkajs' })),
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 10_000 },
  };
  const auth = sasl(config);
  if (auth) options.sasl = auth;
  return new Kafka(options);
}
