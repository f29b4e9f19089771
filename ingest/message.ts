import type { MessageCoordinates } from '../model/rows.js';

/** One message as the pipeline sees it: its bytes, its format, where it came from. */
export interface RawMessage {
  value: Buffer | null;
  format: string;
  coordinates: MessageCoordinates;
}

/** A message with its Kafka key: what a dead letter re-publishes as it was sent. */
export interface KeyedMessage extends RawMessage {
  key: Buffer | null;
}
