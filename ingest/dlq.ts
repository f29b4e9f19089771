import { CompressionTypes, type Producer } from 'kafkajs';
import type { DlqRecord } from './batch.js';
import type { DlqSender } from './flusher.js';

/**
 * Brokers refuse record batches over `message.max.bytes` (1 MiB by default) and dead letters are
 * often the oversized messages: sends are split so one request stays under that, with a
 * record larger than the budget travelling alone (the source topic accepted it, so the DLQ
 * topic, created with the same broker defaults, does too).
 */
export const MAX_REQUEST_BYTES = 900 * 1024;

export function chunkByBytes(records: readonly DlqRecord[], maxBytes: number): DlqRecord[][] {
  const chunks: DlqRecord[][] = [];
  let current: DlqRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size =
      (record.value?.length ?? 0) +
      (record.key?.length ?? 0) +
      Object.entries(record.headers).reduce((n, [k, v]) => n + k.length + v.length, 0);
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

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
    for (const chunk of chunkByBytes(records, MAX_REQUEST_BYTES)) {
      await this.producer.send({
        topic: this.topic,
        acks: -1,
        compression: CompressionTypes.None,
        messages: chunk.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
      });
    }
  }
}
