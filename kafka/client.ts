import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import type { KafkaSettings } from '../common/config.js';
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

function sasl(settings: KafkaSettings): SASLOptions | undefined {
  const { mechanism, username, password } = settings.sasl;
  if (!mechanism) return undefined;
  if (!username || !password)
    throw new Error('KAFKA_SASL_MECHANISM needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD');
  return { mechanism, username, password };
}

export function createKafka(settings: KafkaSettings, brokers: string[], logger: Logger): Kafka {
  const options: KafkaConfig = {
    clientId: settings.clientId,
    brokers,
    ssl: settings.ssl,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(logger.child({ component: 'kafkajs' })),
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 10_000 },
  };
  const auth = sasl(settings);
  if (auth) options.sasl = auth;
  return new Kafka(options);
}
