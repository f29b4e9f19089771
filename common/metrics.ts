/**
 * A minimal Prometheus-text metrics registry: counters and gauges with optional labels.
 * Enough for /metrics without pulling a client library into the hot path.
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
}

export class MetricsRegistry {
  private readonly series = new Map<string, Series>();

  private register(name: string, help: string, type: 'counter' | 'gauge'): Series {
    const existing = this.series.get(name);
    if (existing) return existing;
    const created = new Series(name, help, type);
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
