import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { FINDING_STATUSES, SEVERITIES, type Finding } from '../model/finding.js';
import { TERM_KINDS } from '../model/terms.js';
import { FINDING_SORTS, type FindingSort, type PagePosition } from '../storage/findings.js';
import type { Repositories } from '../storage/repositories.js';
import { findingTerms } from '../detectors/findings.js';
import { triageFinding } from '../detectors/triage.js';
import { FindingIdParams, HttpError, MAX_TIMESTAMP_MS, parseQuery, requireRole, Timestamp } from './http.js';
import { docs } from './openapi.js';

/** Findings and identity-risk routes (DESIGN.md "API"): list, read, triage. */

const ListQuery = z
  .object({
    identity: z.string().min(1).max(256).optional(),
    detector: z.string().min(1).max(128).optional(),
    severity: z.enum(SEVERITIES).optional(),
    status: z.enum(FINDING_STATUSES).optional(),
    from: Timestamp.optional(),
    to: Timestamp.optional(),
    min_score: z.coerce.number().min(0).max(1).optional(),
    q: z.string().min(1).max(200).optional(),
    sort: z.enum(['id', ...FINDING_SORTS]).default('id'),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z.string().max(200).optional(),
  })
  .strict();

/** A time or score page's position, opaque to clients (base64url JSON). */
const Position = z
  .object({
    s: z.enum(FINDING_SORTS),
    k: z.number().min(0).max(MAX_TIMESTAMP_MS),
    i: z.string().max(64),
  })
  .strict()
  .refine((p) => p.s !== 'time' || Number.isInteger(p.k));

function encodeCursor(sort: FindingSort, finding: Finding): string {
  const key = sort === 'time' ? finding.created_at : finding.score;
  return Buffer.from(JSON.stringify({ s: sort, k: key, i: finding.finding_id })).toString('base64url');
}

function decodeCursor(sort: FindingSort, cursor: string): PagePosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid query: cursor: not a cursor this API returned');
  }
  const position = Position.safeParse(parsed);
  if (!position.success) throw new HttpError(400, 'invalid query: cursor: not a cursor this API returned');
  if (position.data.s !== sort)
    throw new HttpError(400, `invalid query: cursor: it continues sort=${position.data.s}, not sort=${sort}`);
  return { key: position.data.k, id: position.data.i };
}

/** Closing a finding either way must say why: an auditor reads these reasons. */
const NEEDS_REASON: readonly string[] = ['false_positive', 'resolved'];

const TriageBody = z
  .object({
    status: z.enum(FINDING_STATUSES),
    note: z.string().max(4000).default(''),
    assignee: z.string().max(200).optional(),
    /**
     * Baseline values the identity may use from now on (another host of the vendor, a tool),
     * beyond the finding's own value that false_positive already allows. Domains are stored
     * lowercased by ingest, so they are compared that way.
     */
    allow: z
      .array(
        z
          .object({ kind: z.enum(TERM_KINDS), value: z.string().min(1).max(512) })
          .strict()
          .transform((r) => (r.kind === 'domain' ? { ...r, value: r.value.toLowerCase() } : r)),
      )
      .max(20)
      .default([]),
  })
  .strict()
  .refine((b) => !NEEDS_REASON.includes(b.status) || b.note.trim().length >= 3, {
    path: ['note'],
    message: 'a reason (note) is required to mark a finding false_positive or resolved',
  })
  // An allow rule widens what the identity may do unnoticed: only with a decision that has a reason.
  .refine((b) => b.allow.length === 0 || NEEDS_REASON.includes(b.status), {
    path: ['allow'],
    message: 'allow rules go with status false_positive or resolved (and their reason)',
  });

/** Events of the finding's sessions shown with its detail; the bundle has up to its own cap. */
const DETAIL_EVENTS = 500;

export function registerFindingRoutes(
  app: FastifyInstance,
  storage: Pick<Repositories, 'findings' | 'overrides' | 'baselines' | 'records' | 'actions' | 'identities'>,
): void {
  app.get(
    '/v1/findings',
    docs({
      summary: 'List findings (filters, sort, cursor pages)',
      tags: ['findings'],
      querystring: ListQuery,
    }),
    async (request) => {
      requireRole(request, ['analyst', 'compliance']);
      const q = parseQuery(ListQuery, request.query);
      const filter = { ...q, minScore: q.min_score, text: q.q };
      const { sort } = q;
      if (sort === 'id') {
        const findings = await storage.findings.list(filter, q.limit, q.cursor);
        const last = findings.at(-1);
        return { findings, next_cursor: findings.length === q.limit && last ? last.finding_id : null };
      }
      const after = q.cursor === undefined ? undefined : decodeCursor(sort, q.cursor);
      const findings = await storage.findings.page(filter, sort, q.limit, after);
      const last = findings.at(-1);
      return { findings, next_cursor: findings.length === q.limit && last ? encodeCursor(sort, last) : null };
    },
  );

  app.get(
    '/v1/findings/:id',
    docs({
      summary: 'One finding with its session, identity and triage',
      tags: ['findings'],
      params: FindingIdParams,
    }),
    async (request) => {
      requireRole(request, ['analyst', 'compliance']);
      const { id } = parseQuery(FindingIdParams, request.params);
      const finding = await storage.findings.get(id);
      if (!finding) throw new HttpError(404, `no finding ${id}`);
      // The finding's fields as listed, then what an analyst needs beside it: the session around
      // the cited events, the identity, the triage so far (the baseline snapshot is `baseline`).
      const [session, identities, triage] = await Promise.all([
        storage.actions.withSessions(finding.identity_id, finding.event_ids, DETAIL_EVENTS),
        storage.identities.byIds([finding.identity_id]),
        storage.records.triageOf(id),
      ]);
      return {
        ...finding,
        assignee: triage.at(-1)?.assignee ?? '',
        identity: identities.get(finding.identity_id) ?? null,
        events: session.events,
        events_truncated: session.truncated,
        triage,
      };
    },
  );

  app.get(
    '/v1/findings/:id/triage',
    docs({ summary: "A finding's triage history", tags: ['findings'], params: FindingIdParams }),
    async (request) => {
      requireRole(request, ['analyst', 'compliance']);
      const { id } = parseQuery(FindingIdParams, request.params);
      if (!(await storage.findings.get(id))) throw new HttpError(404, `no finding ${id}`);
      return { triage: await storage.records.triageOf(id) };
    },
  );

  app.patch(
    '/v1/findings/:id',
    docs({ summary: 'Triage a finding', tags: ['findings'], params: FindingIdParams, body: TriageBody }),
    async (request) => {
      requireRole(request, ['analyst']);
      const { id } = parseQuery(FindingIdParams, request.params);
      const body = parseQuery(TriageBody, request.body ?? {}, 'body');
      if (body.status === 'resolved' && body.allow.length > 0) {
        // A confirmed incident's own value stays out of the baseline: allowing it would undo that.
        const finding = await storage.findings.get(id);
        const own = finding ? findingTerms(finding) : [];
        const clash = body.allow.find((a) => own.some((t) => t.kind === a.kind && t.value === a.value));
        if (clash)
          throw new HttpError(
            400,
            `invalid body: allow: ${clash.kind} ${clash.value} is the value this finding is about; resolving confirms it, so it stays out of the baseline (use false_positive to allow it)`,
          );
      }
      const updated = await triageFinding(
        storage,
        id,
        body.status,
        body.note,
        request.apiKey?.keyId ?? '',
        body.assignee,
        body.allow,
      );
      if (!updated) throw new HttpError(404, `no finding ${id}`);
      return updated;
    },
  );
}
