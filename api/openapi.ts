import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { z } from 'zod';

/**
 * The OpenAPI 3.1 document at /docs (UI) and /docs/json, generated from the same zod schemas
 * the routes validate with: a route passes its schemas through `docs()`, which turns them into
 * JSON Schema for the document only. Validation stays zod's alone (ajv is switched off), so
 * the document and the checks cannot disagree about what a field accepts.
 */

export interface RouteDocs {
  summary: string;
  tags: string[];
  querystring?: z.ZodType;
  params?: z.ZodType;
  body?: z.ZodType;
}

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  // `input`: what a client sends (before coercion and defaults).
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return rest;
}

/** Route options documenting a route from its zod schemas. */
export function docs(route: RouteDocs): { schema: FastifySchema } {
  return {
    schema: {
      summary: route.summary,
      tags: route.tags,
      ...(route.querystring ? { querystring: jsonSchema(route.querystring) } : {}),
      ...(route.params ? { params: jsonSchema(route.params) } : {}),
      ...(route.body ? { body: jsonSchema(route.body) } : {}),
    },
  };
}

/** Registers the document and its UI; call before the routes (they are collected as added). */
export function registerOpenApi(app: FastifyInstance): void {
  // zod validates in the handlers; the schemas are documentation.
  app.setValidatorCompiler(() => (data: unknown) => ({ value: data }));
  void app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'scopewatch API',
        version: '1',
        description:
          'Findings, triage, identities, signed evidence bundles and API keys. Every /v1 route needs an API key (Authorization: Bearer <key>) with a role: analyst, compliance or admin.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
  });
  void app.register(swaggerUi, { routePrefix: '/docs' });
}
