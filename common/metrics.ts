/**
 * A minimal Prometheus-text metrics registry: counters, gauges and histograms with optional
 * labels. Enough for /metrics without pulling a client library into the hot path.
 */

type Labels = Record<string, string>;

function labelKey(labels: Labels | undefined): string {
  if (!labels) return '';
  const parts = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

class Series {
  readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge',
  ) {}

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const [labels, value] of this.values) lines.push(`${this.name}${labels} ${String(value)}`);
    return lines.join('\n');
  }
}

export interface Counter {
  inc(by?: number, labels?: Labels): void;
  get(labels?: Labels): number;
  /** Sum over every label set. */
  total(): number;
}

export interface Gauge {
  set(value: number, labels?: Labels): void;
  get(labels?: Labels): number;
  /** Forgets every label set (a gauge rebuilt whole from a fresh reading). */
  reset(): void;
}

export interface Histogram {
  observe(value: number, labels?: Labels): void;
}

/** Cumulative bucket counts, sum and count per label set, rendered as Prometheus histograms. */
class HistogramSeries {
  private readonly values = new Map<
    string,
    { labels: Labels; buckets: number[]; sum: number; count: number }
  >();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly bounds: readonly number[],
  ) {}

  observe(value: number, labels: Labels = {}): void {
    const key = labelKey(labels);
    let entry = this.values.get(key);
    if (!entry) {
      entry = { labels, buckets: this.bounds.map(() => 0), sum: 0, count: 0 };
      this.values.set(key, entry);
    }
    for (const [i, bound] of this.bounds.entries())
      if (value <= bound) entry.buckets[i] = (entry.buckets[i] ?? 0) + 1;
    entry.sum += value;
    entry.count += 1;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const { labels, buckets, sum, count } of this.values.values()) {
      for (const [i, bound] of this.bounds.entries())
        lines.push(
          `${this.name}_bucket${labelKey({ ...labels, le: String(bound) })} ${String(buckets[i] ?? 0)}`,
        );
      lines.push(`${this.name}_bucket${labelKey({ ...labels, le: '+Inf' })} ${String(count)}`);
      lines.push(`${this.name}_sum${labelKey(labels)} ${String(sum)}`);
      lines.push(`${this.name}_count${labelKey(labels)} ${String(count)}`);
    }
    return lines.join('\n');
  }
}

/** A reading taken at scrape time (from ClickHouse, from Kafka), at most every `everyMs`. */
interface Collector {
  name: string;
  everyMs: number;
  readAt: number;
  read: () => Promise<void>;
}

/** How long a scrape waits for one reading before serving the rest without it. */
export const COLLECT_TIMEOUT_MS = 2000;

export class MetricsRegistry {
  private readonly series = new Map<string, Series | HistogramSeries>();
  private readonly collectors: Collector[] = [];

  /**
   * Registers a reading `scrape()` takes before rendering, at most every `everyMs` (a scrape
   * every few seconds must not turn into a query every few seconds).
   */
  collect(name: string, everyMs: number, read: () => Promise<void>): void {
    this.collectors.push({ name, everyMs, readAt: -Infinity, read });
  }

  /**
   * The text after every due collector has read. Collectors are best effort: one that fails
   * (ClickHouse or Kafka away) is reported to `onError` and the rest of the metrics still render.
   */
  async scrape(onError: (collector: string, error: unknown) => void): Promise<string> {
    const now = Date.now();
    await Promise.all(
      this.collectors
        .filter((c) => now - c.readAt >= c.everyMs)
        .map(async (c) => {
          c.readAt = now;
          let timer: NodeJS.Timeout | undefined;
          try {
            // A reading that hangs (a broker away, kafkajs retrying) must not hang the scrape.
            await Promise.race([
              c.read(),
              new Promise<never>((_resolve, reject) => {
                timer = setTimeout(() => {
                  reject(new Error(`no answer within ${String(COLLECT_TIMEOUT_MS)} ms`));
                }, COLLECT_TIMEOUT_MS);
              }),
            ]);
          } catch (error) {
            onError(c.name, error);
          } finally {
            clearTimeout(timer);
          }
        }),
    );
    return this.render();
  }

  private register(name: string, help: string, type: 'counter' | 'gauge'): Series {
    const existing = this.series.get(name);
    if (existing instanceof Series) return existing;
    if (existing) throw new Error(`metric ${name} is already a histogram`);
    const created = new Series(name, help, type);
    this.series.set(name, created);
    return created;
  }

  histogram(name: string, help: string, bounds: readonly number[]): Histogram {
    const existing = this.series.get(name);
    if (existing instanceof HistogramSeries) return existing;
    if (existing) throw new Error(`metric ${name} is already a ${existing.type}`);
    const created = new HistogramSeries(
      name,
      help,
      [...bounds].sort((a, b) => a - b),
    );
    this.series.set(name, created);
    return created;
  }

  counter(name: string, help: string): Counter {
    const s = this.register(name, help, 'counter');
    return {
      inc: (by = 1, labels) => {
        const key = labelKey(labels);
        s.values.set(key, (s.values.get(key) ?? 0) + by);
      },
      get: (labels) => s.values.get(labelKey(labels)) ?? 0,
      total: () => [...s.values.values()].reduce((a, b) => a + b, 0),
    };
  }

  gauge(name: string, help: string): Gauge {
    const s = this.register(name, help, 'gauge');
    return {
      set: (value, labels) => {
        s.values.set(labelKey(labels), value);
      },
      get: (labels) => s.values.get(labelKey(labels)) ?? 0,
      reset: () => {
        s.values.clear();
      },
    };
  }

  render(): string {
    return `${[...this.series.values()].map((s) => s.render()).join('\n')}\n`;
  }
}

/** The ingest counters, shared by the Kafka consumer and file replay. */
export function ingestMetrics(registry: MetricsRegistry) {
  return {
    messages: registry.counter('scopewatch_ingest_messages_total', 'Messages read from Kafka or files'),
    rowsWritten: registry.counter('scopewatch_ingest_rows_written_total', 'Canonical action rows written'),
    dlq: registry.counter('scopewatch_ingest_dlq_total', 'Messages dead-lettered, by reason'),
    dropped: registry.counter('scopewatch_ingest_dropped_total', 'Messages dropped on purpose (tombstones)'),
    flushes: registry.counter('scopewatch_ingest_flushes_total', 'Batches flushed, by trigger'),
    retries: registry.counter('scopewatch_ingest_retries_total', 'Write retries, by step'),
    commitFailures: registry.counter('scopewatch_ingest_commit_failures_total', 'Offset commits that failed'),
    paused: registry.gauge('scopewatch_ingest_paused', '1 while intake is paused for backpressure'),
    pendingMessages: registry.gauge('scopewatch_ingest_pending_messages', 'Messages waiting in the batch'),
  };
}

export type IngestMetrics = ReturnType<typeof ingestMetrics>;
