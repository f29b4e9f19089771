import { CompressionTypes, type Producer } from 'kafkajs';
import type { DlqRecord } from './batch.js';
import type { DlqSender } from './flusher.js';

/**
 * Dead-letter topic producer: the original bytes and key, with the reason and source
 * coordinates as headers, so a fixed message can be replayed as it was sent.
 */
export class KafkaDlqSender implements DlqSender {
  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
  ) {}

  async send(records: DlqRecord[]): Promise<void> {
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      compression: CompressionTypes.None,
      messages: records.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
    });
  }
}
