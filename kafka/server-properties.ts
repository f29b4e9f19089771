import type { LocalKafkaVersion } from './local-broker.js';

/** The broker's server.properties, rewritten at every start. */

interface BrokerPropertiesInput {
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
