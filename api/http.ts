import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { formatZodIssues } from '../common/zod-issues.js';
import { END_OF_TIME_MS } from '../storage/sql-values.js';
import { allowed, type Role } from './auth.js';

/** Request helpers shared by the routes: typed 4xx errors, role checks, zod parsing. */

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export function requireRole(request: FastifyRequest, roles: readonly Role[]): void {
  if (!request.apiKey) throw new HttpError(401, 'missing or invalid API key (Authorization: Bearer <key>)');
  if (!allowed(request.apiKey.role, roles)) {
    throw new HttpError(403, `role ${request.apiKey.role} may not do this (needs ${roles.join(' or ')})`);
  }
}

/** `value` (a query, path parameters or a body: `what`) parsed by `schema`, else a 400 naming the field. */
export function parseQuery<T extends z.ZodType>(
  schema: T,
  value: unknown,
  what: 'query' | 'body' = 'query',
): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const detail = formatZodIssues(parsed.error.issues, {
      where: (path) => path.map(String).join('.') || what,
    });
    throw new HttpError(400, `invalid ${what}: ${detail}`);
  }
  return parsed.data;
}

/** The latest instant the API accepts. */
export const MAX_TIMESTAMP_MS = END_OF_TIME_MS;

/** Epoch milliseconds or an ISO 8601 date-time, within the range the API stores. */
export const Timestamp = z.union([
  z.coerce.number().int().nonnegative().max(MAX_TIMESTAMP_MS),
  z.iso
    .datetime({ offset: true })
    .transform((s) => Date.parse(s))
    .pipe(z.number().int().nonnegative().max(MAX_TIMESTAMP_MS)),
]);

/** A finding id in the path (`/v1/findings/:id…`). */
export const FindingIdParams = z.object({ id: z.string().min(1).max(64) }).strict();
