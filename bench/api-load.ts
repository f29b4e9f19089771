import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import type { LoadResult, LoadSpec } from './api-load-spec.js';

/**
 * The load side of `bench:api`, run as its own process so the load generator does not share an
 * event loop with the API it measures: `node dist/bench/api-load.js spec.json`. Drives the paths
 * at the spec's fixed rate with autocannon (`overallRate`), split over staggered one-connection
 * instances, and prints one JSON LoadResult on stdout.
 */

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? 0;
}

const round = (ms: number): number => Math.round(ms * 10) / 10;

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: api-load.js <spec.json>');
  const spec = JSON.parse(readFileSync(file, 'utf8')) as LoadSpec;
  if (spec.paths.length === 0) throw new Error('no paths to request');

  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const failures: LoadResult['failures'] = [];
  let next = 0;
  const nextPath = (): string => spec.paths[next++ % spec.paths.length] ?? '/';

  // The rate in whole requests per second per instance (autocannon's unit), summing to spec.rate;
  // without a rate, one instance of one connection, each request sent when the last one returned.
  const closedLoop = spec.rate <= 0;
  const instances = closedLoop ? 1 : Math.max(1, Math.min(spec.instances, spec.rate));
  const rates = Array.from({ length: instances }, (_, k) =>
    closedLoop ? 0 : Math.floor(spec.rate / instances) + (k < spec.rate % instances ? 1 : 0),
  );

  const started = performance.now();
  const results = await Promise.all(
    rates.map(async (rate, k) => {
      await sleep((k * 1000) / instances);
      return new Promise<autocannon.Result>((resolve, reject) => {
        const instance = autocannon(
          {
            url: spec.url,
            connections: 1,
            // Response times are kept raw below; autocannon's own correction assumes 1 ms intervals.
            ...(rate > 0 ? { overallRate: rate, ignoreCoordinatedOmission: true } : {}),
            duration: spec.duration,
            timeout: spec.timeout,
            headers: spec.headers,
            requests: [
              {
                method: 'GET',
                setupRequest: (request, context) => {
                  const path = nextPath();
                  (context as { path?: string }).path = path;
                  return { ...request, path };
                },
                onResponse: (status, body, context) => {
                  if ((status < 200 || status >= 300) && failures.length < 5)
                    failures.push({
                      status,
                      path: (context as { path?: string }).path ?? '?',
                      body: body.slice(0, 400),
                    });
                },
              },
            ],
          },
          (error: unknown, result) => {
            if (error) reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
            else resolve(result);
          },
        );
        instance.on('response', (_client, statusCode, _bytes, responseTime) => {
          latencies.push(responseTime);
          const key = String(statusCode);
          statuses[key] = (statuses[key] ?? 0) + 1;
        });
      });
    }),
  );
  const durationS = (performance.now() - started) / 1000;

  latencies.sort((a, b) => a - b);
  const non2xx = Object.entries(statuses)
    .filter(([code]) => !code.startsWith('2'))
    .reduce((sum, [, n]) => sum + n, 0);
  const out: LoadResult = {
    statuses,
    responses: latencies.length,
    non2xx,
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    timeouts: results.reduce((sum, r) => sum + r.timeouts, 0),
    durationS: round(durationS),
    achievedRps: round(results.reduce((sum, r) => sum + r.requests.average, 0)),
    latency: {
      p50: round(percentile(latencies, 50)),
      p90: round(percentile(latencies, 90)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies.at(-1) ?? 0),
      mean: round(latencies.reduce((sum, v) => sum + v, 0) / Math.max(1, latencies.length)),
    },
    bytesPerSecond: Math.round(results.reduce((sum, r) => sum + r.throughput.average, 0)),
    failures,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

await main();
