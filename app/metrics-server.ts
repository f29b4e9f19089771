import { createServer, type Server } from 'node:http';
import type { Logger } from '../common/logger.js';
import type { MetricsRegistry } from '../common/metrics.js';

/**
 * GET /metrics for a process without the API (`scopewatch ingest` on its own), so Prometheus
 * scrapes the consumer's counters and lag where they live.
 */
export async function startMetricsServer(
  registry: MetricsRegistry,
  where: { host: string; port: number },
  logger: Logger,
): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    void registry
      .scrape((collector, error) => {
        logger.warn('a /metrics reading failed; the rest is served', { collector, error });
      })
      .then((text) => {
        response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(where.port, where.host, resolve);
  });
  logger.info('metrics listening', { url: `http://${where.host}:${String(where.port)}/metrics` });
  return server;
}
