import type { IngestSettings } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import type { IngestMetrics } from '../common/metrics.js';
import type { ActionRow, IngestErrorRow } from '../model/rows.js';
import { dedupToken, flushTrigger, PendingBatch, type FlushLimits } from './batch.js';
import { storageRejected, type DlqRecord, type DlqSender } from './dead-letters.js';
import type { KeyedMessage } from './message.js';
import type { PipelineResult } from './pipeline.js';
import { retry, type RetryPolicy } from './retry.js';
import type { PostWriteStage, RowSink } from './sinks.js';

/**
 * Owns the batch being built and writes it out, in this order:
 *   1. actions            → ClickHouse (retried until it succeeds)
 *   2. post-write stages  → e.g. streaming detection, on the rows now durable (a failure is
 *                           logged and never blocks what follows)
 *   3. dead letters       → `ingest_errors`, then the DLQ topic (each retried until it succeeds)
 *   4. offset commit
 * Offsets are committed only after everything before them is durable, so a crash at any point
 * means redelivery, never loss. Flushes are serialised: commits stay monotonic per partition.
 */

export type Committer = (offsets: { topic: string; partition: number; offset: string }[]) => Promise<void>;

export interface FlusherOptions {
  sink: RowSink;
  /** Run after the actions are written, before dead letters and the commit. */
  stages?: readonly PostWriteStage[];
  dlq: DlqSender | null;
  commit: Committer | null;
  limits: FlushLimits;
  retryPolicy: RetryPolicy;
  logger: Logger;
  metrics: IngestMetrics;
  /** Told when writes start failing (pause intake) and when they work again (resume). */
  onDegraded?: () => void;
  onRecovered?: () => void;
  now?: () => number;
}

/** The batch limits and write retry policy the ingest settings give (consumer and replay alike). */
export function flushSettings(ingest: IngestSettings): Pick<FlusherOptions, 'limits' | 'retryPolicy'> {
  return {
    limits: { maxRows: ingest.maxBatchRows, maxBytes: ingest.maxBatchBytes, maxAgeMs: ingest.maxBatchAgeMs },
    retryPolicy: { initialMs: ingest.retryInitialMs, maxMs: ingest.retryMaxMs },
  };
}

export interface FlushCall {
  /** Keeps group membership alive while a flush waits on retries inside a Kafka batch. */
  heartbeat?: () => Promise<void>;
  /** Stop retrying (e.g. the shutdown deadline passed); the batch is then redelivered later. */
  shouldGiveUp?: () => boolean;
}

export interface FlushStats {
  messages: number;
  rows: number;
  dlq: number;
}

class WrittenBatch extends PendingBatch {
  /** The message each action row came from, to dead-letter the original bytes if storage refuses the row. */
  readonly actionSources: KeyedMessage[] = [];

  override add(result: PipelineResult, message: KeyedMessage, nowMs: number): void {
    super.add(result, message, nowMs);
    if (result.kind === 'ok') for (let i = 0; i < result.rows.length; i++) this.actionSources.push(message);
  }
}

export class BatchFlusher {
  private pending = new WrittenBatch();
  private running: Promise<FlushStats> | null = null;
  private degraded = false;
  private readonly now: () => number;

  constructor(private readonly options: FlusherOptions) {
    this.now = options.now ?? Date.now;
  }

  add(result: PipelineResult, message: KeyedMessage): void {
    this.pending.add(result, message, this.now());
    this.options.metrics.pendingMessages.set(this.pending.messages);
  }

  get pendingMessages(): number {
    return this.pending.messages;
  }

  get pendingBytes(): number {
    return this.pending.bytes;
  }

  get isFlushing(): boolean {
    return this.running !== null;
  }

  get isDegraded(): boolean {
    return this.degraded;
  }

  /** Resolves when no flush is running (immediately if none is). Never rejects. */
  async idle(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
  }

  /** Why the current batch should be flushed now, or null. */
  due(): string | null {
    return flushTrigger(
      { rows: this.pending.messages, bytes: this.pending.bytes, openedAtMs: this.pending.openedAtMs },
      this.options.limits,
      this.now(),
    );
  }

  /**
   * Write everything pending so far. Concurrent callers share the flush in progress, then
   * flush whatever arrived meanwhile, so that when this resolves all earlier messages are in.
   */
  async flush(trigger: string, call: FlushCall = {}): Promise<FlushStats> {
    const total: FlushStats = { messages: 0, rows: 0, dlq: 0 };
    while (this.running) {
      const stats = await this.running;
      total.messages += stats.messages;
      total.rows += stats.rows;
      total.dlq += stats.dlq;
    }
    if (this.pending.isEmpty) return total;
    const batch = this.pending;
    this.pending = new WrittenBatch();
    this.options.metrics.pendingMessages.set(0);
    this.running = this.write(batch, call).finally(() => {
      this.running = null;
    });
    const stats = await this.running;
    this.options.metrics.flushes.inc(1, { trigger });
    return {
      messages: total.messages + stats.messages,
      rows: total.rows + stats.rows,
      dlq: total.dlq + stats.dlq,
    };
  }

  private async step<T>(name: string, operation: () => Promise<T>, call: FlushCall): Promise<T> {
    return retry(operation, this.options.retryPolicy, {
      isRetryable: () => true,
      shouldGiveUp: call.shouldGiveUp,
      onRetry: async (error, attempt, delayMs) => {
        this.options.metrics.retries.inc(1, { step: name });
        this.options.logger.warn('write failed, retrying', { step: name, attempt, delayMs, error });
        if (!this.degraded) {
          this.degraded = true;
          this.options.onDegraded?.();
        }
        await call.heartbeat?.();
      },
    });
  }

  private async write(batch: WrittenBatch, call: FlushCall): Promise<FlushStats> {
    const { sink, dlq, commit, logger, metrics } = this.options;
    const ranges = [...batch.ranges.values()];

    const actions = await this.step(
      'actions',
      () => sink.insertActions(batch.actions, dedupToken('actions', ranges)),
      call,
    );
    const refused = new Set(actions.rejected.map((r) => r.row));
    await this.runStages(
      refused.size === 0 ? batch.actions : batch.actions.filter((row) => !refused.has(row)),
    );

    const errors: IngestErrorRow[] = [...batch.errors];
    const dlqRecords: DlqRecord[] = [...batch.dlq];
    for (const { row, reason } of actions.rejected) {
      const source = batch.actionSources[batch.actions.indexOf(row)];
      if (!source) continue;
      const letter = storageRejected(source, reason);
      errors.push(letter.error);
      dlqRecords.push(letter.record);
    }
    const written = await this.step(
      'ingest_errors',
      () => sink.insertErrors(errors, dedupToken('ingest_errors', ranges)),
      call,
    );
    for (const { reason } of written.rejected)
      logger.error('ingest_errors row refused by storage', { reason });
    if (dlq && dlqRecords.length > 0) await this.step('dlq', () => dlq.send(dlqRecords), call);
    if (commit) await this.commit(commit, batch);

    if (this.degraded) {
      this.degraded = false;
      logger.info('writes recovered');
      this.options.onRecovered?.();
    }
    const rows = batch.actions.length - actions.rejected.length;
    metrics.messages.inc(batch.messages);
    metrics.rowsWritten.inc(rows);
    metrics.dropped.inc(batch.dropped);
    for (const record of dlqRecords)
      metrics.dlq.inc(1, { reason: record.headers['scopewatch.reason_code'] ?? '' });
    return { messages: batch.messages, rows, dlq: dlqRecords.length };
  }

  /** Post-write stages, in order; one failing is logged and skipped (see PostWriteStage). */
  private async runStages(rows: readonly ActionRow[]): Promise<void> {
    for (const stage of this.options.stages ?? []) {
      try {
        await stage.run(rows);
      } catch (error) {
        this.options.logger.warn(`${stage.name} failed; the batch is written and commits anyway`, { error });
      }
    }
  }

  /**
   * A failed commit is not retried forever: the rows are already written, so the worst case is
   * redelivery (deduplicated downstream), and the next flush commits a later offset anyway.
   */
  private async commit(commit: Committer, batch: WrittenBatch): Promise<void> {
    try {
      await commit(batch.commitOffsets());
    } catch (error) {
      this.options.metrics.commitFailures.inc();
      this.options.logger.warn('offset commit failed; messages will be redelivered', { error });
    }
  }
}
