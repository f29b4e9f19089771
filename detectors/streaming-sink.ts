import type { Logger } from '../common/logger.js';
import type { ActionRow, IngestErrorRow } from '../model/rows.js';
import type { InsertOutcome, RowSink } from '../ingest/writer.js';
import type { DetectionRunner } from './runner.js';

/**
 * Streaming detection without teaching ingest about detectors: a RowSink decorator that, once
 * a batch is in ClickHouse, hands the written rows to the detection runner. A detection
 * failure never fails the insert (the rows are safe; offsets may commit): the scheduled pass
 * judges anything the streaming path missed.
 */
export class DetectingRowSink implements RowSink {
  constructor(
    private readonly inner: RowSink,
    private readonly runner: DetectionRunner,
    private readonly logger: Logger,
  ) {}

  async insertActions(rows: ActionRow[], token: string): Promise<InsertOutcome<ActionRow>> {
    const outcome = await this.inner.insertActions(rows, token);
    const rejected = new Set(outcome.rejected.map((r) => r.row));
    const written = rejected.size === 0 ? rows : rows.filter((row) => !rejected.has(row));
    try {
      await this.runner.judge(written);
    } catch (error) {
      this.runner.reset();
      this.logger.warn('streaming detection failed; the scheduled pass will judge these events', { error });
    }
    return outcome;
  }

  insertErrors(rows: IngestErrorRow[], token: string): Promise<InsertOutcome<IngestErrorRow>> {
    return this.inner.insertErrors(rows, token);
  }
}
