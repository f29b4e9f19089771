import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { FleetRow } from '../detectors/access-review.js';
import { ACCESS_REVIEW, type ReviewBundle } from '../evidence/review-bundle.js';
import { bundleEntries, bundleJson } from '../evidence/signed-bundle.js';
import { writeTarGz } from '../evidence/tar.js';
import { HttpError, parseQuery, requireRole, Timestamp } from './http.js';
import { docs } from './openapi.js';

/**
 * Access reviews (DESIGN.md "API"): one identity's signed review for a period, and the fleet
 * table that says which identities to investigate, offboard or right-size.
 */

export interface ReviewPeriod {
  from: number;
  to: number;
}

export interface ReviewService {
  review(identityId: string, period: ReviewPeriod): Promise<ReviewBundle | undefined>;
  fleet(period: ReviewPeriod): Promise<FleetRow[]>;
}

const DAY_MS = 86_400_000;
/** Without `from`: the 90 days before `to` (a quarter, the usual certification cycle). */
export const DEFAULT_REVIEW_DAYS = 90;
/** Longest period one review covers. */
export const MAX_REVIEW_DAYS = 366;

const period = {
  from: Timestamp.optional(),
  to: Timestamp.optional(),
};

const ReviewParams = z.object({ id: z.string().min(1).max(256) }).strict();
const ReviewQuery = z.object({ ...period, format: z.enum(['json', 'archive']).default('json') }).strict();
const FleetQuery = z.object({ ...period, format: z.enum(['json', 'csv']).default('json') }).strict();

/** The period asked for: `to` defaults to now, `from` to 90 days before it. */
function periodOf(query: { from?: number; to?: number }): ReviewPeriod {
  const to = query.to ?? Date.now();
  const from = query.from ?? Math.max(0, to - DEFAULT_REVIEW_DAYS * DAY_MS);
  if (from >= to) throw new HttpError(400, 'invalid query: from: must be before to');
  if (to - from > MAX_REVIEW_DAYS * DAY_MS)
    throw new HttpError(400, `invalid query: from: a review covers at most ${String(MAX_REVIEW_DAYS)} days`);
  return { from, to };
}

const FLEET_COLUMNS = [
  'identity_id',
  'owner',
  'lifecycle',
  'registered',
  'verdict',
  'reason',
  'declared_entries',
  'unused_declared',
  'unused_share',
  'events',
  'last_activity',
  'open_findings',
  'active_after_lifecycle_end',
] as const satisfies readonly (keyof FleetRow)[];

/** RFC 4180 CSV; a cell that a spreadsheet would run as a formula is quoted and prefixed. */
function csvCell(value: string | number | boolean | null): string {
  let text = value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r']/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function fleetCsv(rows: readonly FleetRow[]): string {
  const lines = rows.map((row) =>
    FLEET_COLUMNS.map((c) =>
      csvCell(
        c === 'last_activity' && row.last_activity !== null
          ? new Date(row.last_activity).toISOString()
          : row[c],
      ),
    ).join(','),
  );
  return `${[FLEET_COLUMNS.join(','), ...lines].join('\r\n')}\r\n`;
}

export function registerReviewRoutes(app: FastifyInstance, reviews: ReviewService): void {
  app.get(
    '/v1/identities/:id/review',
    docs({
      summary:
        "An identity's signed access review for a period: declared versus used scope, a least-privilege proposal",
      tags: ['reviews'],
      params: ReviewParams,
      querystring: ReviewQuery,
    }),
    async (request, reply) => {
      requireRole(request, ['compliance']);
      const { id } = parseQuery(ReviewParams, request.params);
      const query = parseQuery(ReviewQuery, request.query);
      const bundle = await reviews.review(id, periodOf(query));
      if (!bundle) throw new HttpError(404, `no identity ${id}`);
      if (query.format === 'archive') {
        const to = (bundle.parts.review as { period?: { to?: unknown } }).period?.to;
        return reply
          .type('application/gzip')
          .header('content-disposition', `attachment; filename="access-review.tar.gz"`)
          .send(
            writeTarGz(
              bundleEntries(ACCESS_REVIEW, bundle),
              typeof to === 'number' ? Math.floor(to / 1000) : 0,
            ),
          );
      }
      return reply.type('application/json').send(bundleJson(bundle));
    },
  );

  app.get(
    '/v1/review',
    docs({
      summary: 'The fleet review: every identity with its unused declared scope, activity and a verdict',
      tags: ['reviews'],
      querystring: FleetQuery,
    }),
    async (request, reply) => {
      requireRole(request, ['compliance']);
      const query = parseQuery(FleetQuery, request.query);
      const p = periodOf(query);
      const rows = await reviews.fleet(p);
      if (query.format === 'csv') return reply.type('text/csv; charset=utf-8').send(fleetCsv(rows));
      return { period: p, identities: rows };
    },
  );
}
