import type { ActionRow, IngestErrorRow } from '../model/rows.js';
import type { InsertOutcome } from '../storage/insert-rejects.js';

/**
 * What ingest hands its output to. Storage implements the sink (storage/actions.ts); whoever
 * composes ingest may add post-write stages (streaming detection is one), which is all ingest
 * knows of what happens to rows after they are stored.
 */

export interface RowSink {
  /** `token` is deterministic per offset range: a retried batch is written once. */
  insertActions(rows: ActionRow[], token: string): Promise<InsertOutcome<ActionRow>>;
  insertErrors(rows: IngestErrorRow[], token: string): Promise<InsertOutcome<IngestErrorRow>>;
}

/**
 * Runs on a batch's rows once they are durable and before its offsets commit. A failing stage
 * never blocks the commit: the rows are safe, and a stage must be able to catch up on its own
 * (streaming detection has the scheduled pass for that).
 */
export interface PostWriteStage {
  readonly name: string;
  run(rows: readonly ActionRow[]): Promise<void>;
}
