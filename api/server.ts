import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Logger } from '../common/logger.js';
import type { MetricsRegistry } from '../common/metrics.js';
import type { ClickHouseGateway } from '../storage/gateway.js';
import type { Repositories } from '../storage/repositories.js';
import { presentedKey, type ApiKey } from './auth.js';
import { registerAccessRoutes } from './access-routes.js';
import { AuditWriter } from './audit-writer.js';
import { KeyRing } from './keyring.js';
import { RateLimiter } from './rate-limit.js';
import { docs, registerOpenApi } from './openapi.js';
import { registerEvidenceRoutes, type EvidenceService } from './evidence-routes.js';
import { registerFindingRoutes } from './findings-routes.js';
import { registerIdentityRoutes } from './identities-routes.js';
import { registerReviewRoutes, type ReviewService } from './review-routes.js';
import { HttpError, parseQuery, requireRole } from './http.js';

/**
 * The HTTP API. Every /v1 request must carry a scoped key and is audited (who, what, outcome);
 * inputs are validated with zod and bad input is a 4xx with a readable message, never a 5xx.
 */

export interface ApiOptions {
  storage: Repositories & { gateway: Pick<ClickHouseGateway, 'ping'> };
  keys: readonly ApiKey[];
  logger: Logger;
  metrics: MetricsRegistry;
  /** Requests per second per key (or per client address without one), and the burst. */
  rateLimit?: { rate: number; burst: number };
  /** Signed evidence bundles and access reviews, and the key that signs them. */
  evidence: EvidenceService & ReviewService;
  /** Extra readiness checks (e.g. the consumer is running); all must pass for /readyz. */
  readiness?: () => Promise<string | null>;
}

declare module 'fastify' {
  interface FastifyRequest {
    apiKey: ApiKey | null;
  }
}

const StatsQuery = z.object({ recent: z.coerce.number().int().min(0).max(1000).default(20) }).strict();

export function buildApi(options: ApiOptions): FastifyInstance {
  const { storage, logger } = options;
  const audit = logger.child({ component: 'audit' });
  // Path parameters as long as the schemas allow (a 256-character identity id, percent-encoded):
  // fastify's default of 100 would answer 414 before validation could name the field.
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, routerOptions: { maxParamLength: 2048 } });
  const keyring = new KeyRing(options.keys, storage.access);
  const limiter = new RateLimiter(options.rateLimit?.rate ?? 50, options.rateLimit?.burst ?? 100);
  const auditLog = new AuditWriter(storage.access, logger);
  app.addHook('onClose', async () => {
    await auditLog.close();
  });
  const requests = options.metrics.counter(
    'scopewatch_api_requests_total',
    'API requests by route and status',
  );
  const latency = options.metrics.histogram(
    'scopewatch_api_request_duration_seconds',
    'API request latency by route',
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  );
  const findingsGauge = options.metrics.gauge(
    'scopewatch_findings',
    'Findings stored, by detector, severity and status (read from ClickHouse at most every 15 s)',
  );
  options.metrics.collect('findings', 15_000, async () => {
    const counts = await storage.findings.countsBy();
    findingsGauge.reset();
    for (const { n, ...labels } of counts) findingsGauge.set(n, labels);
  });
  const deadLetters = options.metrics.gauge(
    'scopewatch_dead_letters',
    'Dead letters stored, by reason (read from ClickHouse at most every 15 s)',
  );
  options.metrics.collect('dead_letters', 15_000, async () => {
    const counts = await storage.eventStats.deadLetters();
    deadLetters.reset();
    for (const { reason_code, messages } of counts) deadLetters.set(messages, { reason: reason_code });
  });

  app.decorateRequest('apiKey', null);
  // The route as matched (the router decodes the path: `/%761/…` is `/v1/…`), else the URL.
  const isApi = (request: FastifyRequest): boolean =>
    (request.routeOptions.url ?? request.url).startsWith('/v1');
  app.addHook('onRequest', async (request, reply) => {
    if (!isApi(request)) return;
    try {
      await keyring.fresh();
    } catch (error) {
      // ClickHouse unreachable: the keys read last (and configured keys) keep working.
      logger.warn('could not re-read API keys; using the last ones read', { error });
    }
    request.apiKey = keyring.authenticate(presentedKey(request.headers));
    const wait = limiter.take(request.apiKey?.keyId ?? `ip:${request.ip}`);
    if (wait > 0)
      await reply
        .code(429)
        .header('retry-after', String(wait))
        .send({
          error: `rate limit: ${String(limiter.rate)} requests/s per key, bursts of ${String(limiter.burst)}`,
        });
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unknown';
    requests.inc(1, { route, status: String(reply.statusCode) });
    latency.observe(reply.elapsedTime / 1000, { route });
    if (isApi(request)) {
      auditLog.add({
        at: Date.now(),
        key_id: request.apiKey?.keyId ?? '',
        role: request.apiKey?.role ?? '',
        method: request.method,
        route,
        url: request.url.slice(0, 2048),
        status: reply.statusCode,
        latency_ms: Math.round(reply.elapsedTime * 1000) / 1000,
        ip: request.ip,
      });
      audit.info('api request', {
        key_id: request.apiKey?.keyId ?? null,
        role: request.apiKey?.role ?? null,
        method: request.method,
        route,
        url: request.url,
        status: reply.statusCode,
        ip: request.ip,
      });
    }
    done();
  });

  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof HttpError) return reply.code(error.statusCode).send({ error: error.message });
    const status = (error as { statusCode?: number }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return reply.code(status).send({ error: (error as Error).message });
    }
    logger.error('api error', { error });
    return reply.code(500).send({ error: 'internal error' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: `no route ${request.method} ${request.url}` }),
  );

  // The document collects routes as they are added: register it first, the routes after.
  registerOpenApi(app);
  void app.register((routes, _opts, done) => {
    routes.get('/healthz', docs({ summary: 'Liveness', tags: ['health'] }), () => ({ status: 'ok' }));
    routes.get(
      '/readyz',
      docs({ summary: 'Readiness: ClickHouse reachable', tags: ['health'] }),
      async (_request, reply) => {
        const reachable = await storage.gateway.ping();
        const problem = !reachable ? 'clickhouse unreachable' : ((await options.readiness?.()) ?? null);
        if (problem) return reply.code(503).send({ status: 'unavailable', reason: problem });
        return { status: 'ready' };
      },
    );
    routes.get(
      '/metrics',
      docs({ summary: 'Prometheus metrics', tags: ['health'] }),
      async (_request, reply) => {
        const text = await options.metrics.scrape((collector, error) => {
          logger.warn('a /metrics reading failed; the rest is served', { collector, error });
        });
        return reply.type('text/plain; version=0.0.4').send(text);
      },
    );

    routes.get(
      '/v1/events/stats',
      docs({
        summary: 'What has arrived: events per identity, dead letters, recent events',
        tags: ['events'],
        querystring: StatsQuery,
      }),
      async (request) => {
        requireRole(request, ['analyst', 'compliance']);
        const query = parseQuery(StatsQuery, request.query);
        return storage.eventStats.summary(query.recent);
      },
    );

    registerFindingRoutes(routes, storage);
    registerIdentityRoutes(routes, storage);
    registerEvidenceRoutes(routes, options.evidence);
    registerReviewRoutes(routes, options.evidence);
    registerAccessRoutes(routes, storage.access, keyring);
    done();
  });

  return app;
}
