import { describe, expect, it } from 'vitest';
import { COLLECT_TIMEOUT_MS, MetricsRegistry } from '../../common/metrics.js';

describe('MetricsRegistry', () => {
  it('renders histograms as cumulative buckets with +Inf, sum and count per label set', () => {
    const registry = new MetricsRegistry();
    const h = registry.histogram('req_seconds', 'Latency', [0.1, 0.01, 1]);
    h.observe(0.005, { route: '/a' });
    h.observe(0.05, { route: '/a' });
    h.observe(3, { route: '/a' });
    h.observe(0.5, { route: '/b' });
    const text = registry.render();
    expect(text).toContain('# TYPE req_seconds histogram');
    expect(text).toContain('req_seconds_bucket{le="0.01",route="/a"} 1');
    expect(text).toContain('req_seconds_bucket{le="0.1",route="/a"} 2');
    expect(text).toContain('req_seconds_bucket{le="1",route="/a"} 2');
    expect(text).toContain('req_seconds_bucket{le="+Inf",route="/a"} 3');
    expect(text).toContain('req_seconds_sum{route="/a"} 3.055');
    expect(text).toContain('req_seconds_count{route="/b"} 1');
    // The same name is the same histogram; another kind under it is a mistake.
    expect(registry.histogram('req_seconds', 'Latency', [1])).toBe(h);
    expect(() => registry.counter('req_seconds', 'x')).toThrow(/histogram/);
  });

  it('a gauge rebuilt from a fresh reading forgets label sets that are gone', () => {
    const registry = new MetricsRegistry();
    const g = registry.gauge('findings', 'Findings');
    g.set(3, { status: 'open' });
    g.reset();
    g.set(1, { status: 'resolved' });
    expect(registry.render()).not.toContain('status="open"');
    expect(registry.render()).toContain('findings{status="resolved"} 1');
  });

  it('a reading that never answers is given up on, and the rest is served', async () => {
    const registry = new MetricsRegistry();
    registry.gauge('up', 'Up').set(1);
    registry.collect('hangs', 0, () => new Promise<void>(() => undefined));
    const failures: string[] = [];
    const text = await registry.scrape((collector, error) => {
      failures.push(`${collector}: ${(error as Error).message}`);
    });
    expect(text).toContain('up 1');
    expect(failures).toEqual([`hangs: no answer within ${String(COLLECT_TIMEOUT_MS)} ms`]);
  });

  it('scrape-time readings run at most once per interval, and one that fails does not hide the rest', async () => {
    const registry = new MetricsRegistry();
    const lag = registry.gauge('lag', 'Lag');
    let reads = 0;
    registry.collect('lag', 60_000, () => {
      reads += 1;
      lag.set(reads);
      return Promise.resolve();
    });
    registry.collect('broken', 0, () => Promise.reject(new Error('ClickHouse away')));
    const failures: string[] = [];
    const onError = (collector: string): void => {
      failures.push(collector);
    };
    expect(await registry.scrape(onError)).toContain('lag 1');
    expect(await registry.scrape(onError)).toContain('lag 1');
    expect(reads).toBe(1);
    expect(failures).toEqual(['broken', 'broken']);
  });
});
