import type { Logger } from '../common/logger.js';
import type { ApiAccessRepository, AuditRow } from '../storage/api-access.js';

/**
 * Audit rows are written in batches (every `intervalMs`, or sooner at `maxRows`), so a request
 * never waits for ClickHouse; a failed write is retried with the next batch and logged, and
 * `close` flushes what is left.
 */
export class AuditWriter {
  private rows: AuditRow[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Pick<ApiAccessRepository, 'audit'>,
    private readonly logger: Logger,
    private readonly intervalMs = 1000,
    private readonly maxRows = 500,
    /** Rows kept while ClickHouse is unreachable, oldest dropped first beyond this. */
    private readonly maxBuffered = 100_000,
  ) {}

  add(row: AuditRow): void {
    this.rows.push(row);
    if (this.rows.length > this.maxBuffered) this.rows.splice(0, this.rows.length - this.maxBuffered);
    if (this.rows.length >= this.maxRows) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.intervalMs);
  }

  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.flushing = this.flushing.then(async () => {
      const batch = this.rows;
      if (batch.length === 0) return;
      this.rows = [];
      try {
        await this.store.audit(batch);
      } catch (error) {
        this.rows = [...batch, ...this.rows].slice(-this.maxBuffered);
        this.logger.warn('api audit write failed; retrying with the next batch', {
          rows: batch.length,
          error,
        });
        this.timer ??= setTimeout(() => void this.flush(), this.intervalMs);
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
