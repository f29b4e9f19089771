import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { riskOverTime, riskScore } from '../detectors/findings.js';
import { IdentityBodySchema, parseIdentityEntry } from '../detectors/registry.js';
import { identityJson } from '../evidence/chain.js';
import { LIFECYCLE_STATES } from '../model/identity.js';
import type { Repositories } from '../storage/repositories.js';
import { HttpError, parseQuery, requireRole } from './http.js';
import { docs } from './openapi.js';

/**
 * Identities (DESIGN.md "API"): the inventory with risk and activity, one identity in full,
 * and registry edits for admins (`PUT`, lifecycle included), which detection uses from its
 * next batch on.
 */

const IdentityParams = z.object({ id: z.string().min(1).max(256) }).strict();

const ListQuery = z
  .object({
    lifecycle: z.enum(LIFECYCLE_STATES).optional(),
    registered: z.enum(['true', 'false']).optional(),
    sort: z.enum(['risk', 'last_seen', 'id']).default('risk'),
    limit: z.coerce.number().int().min(1).max(10_000).default(100),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();

type Storage = Pick<Repositories, 'identities' | 'baselines' | 'findings' | 'records'>;

/** Days of risk history in an identity's detail. */
const RISK_DAYS = 30;

export function registerIdentityRoutes(app: FastifyInstance, storage: Storage): void {
  app.get(
    '/v1/identities',
    docs({ summary: 'The identity inventory', tags: ['identities'], querystring: ListQuery }),
    async (request) => {
      requireRole(request, ['analyst', 'compliance']);
      const q = parseQuery(ListQuery, request.query);
      const [records, activity, open] = await Promise.all([
        storage.identities.loadAll(),
        storage.baselines.activity(),
        storage.findings.openRisk(),
      ]);
      const now = Date.now();
      const openBy = new Map<string, typeof open>();
      for (const f of open) {
        const list = openBy.get(f.identity_id);
        if (list) list.push(f);
        else openBy.set(f.identity_id, [f]);
      }
      // Identities seen in events but not (yet) recorded in `identities` are listed too.
      const ids = new Set([...records.keys(), ...activity.keys()]);
      const rows = [...ids].map((id) => {
        const record = records.get(id);
        const seen = activity.get(id);
        const findings = openBy.get(id) ?? [];
        return {
          id,
          owner: record?.owner ?? '',
          purpose: record?.purpose ?? '',
          lifecycle: record?.state ?? 'active',
          registered: record?.registered ?? false,
          risk: riskScore(findings, now),
          open_findings: findings.length,
          first_seen: seen?.first_seen ?? null,
          last_seen: seen?.last_seen ?? null,
          events: seen?.events ?? 0,
        };
      });
      const filtered = rows.filter(
        (r) =>
          (q.lifecycle === undefined || r.lifecycle === q.lifecycle) &&
          (q.registered === undefined || String(r.registered) === q.registered),
      );
      const byId = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
      filtered.sort(
        q.sort === 'risk'
          ? (a, b) => b.risk - a.risk || b.open_findings - a.open_findings || byId(a, b)
          : q.sort === 'last_seen'
            ? (a, b) => (b.last_seen ?? 0) - (a.last_seen ?? 0) || byId(a, b)
            : byId,
      );
      return { total: filtered.length, identities: filtered.slice(q.offset, q.offset + q.limit) };
    },
  );

  app.get(
    '/v1/identities/:id',
    docs({
      summary: 'One identity: record, baseline, risk, findings',
      tags: ['identities'],
      params: IdentityParams,
    }),
    async (request) => {
      requireRole(request, ['analyst', 'compliance']);
      const { id } = parseQuery(IdentityParams, request.params);
      const [baseline, records] = await Promise.all([
        storage.baselines.summary(id),
        storage.identities.byIds([id]),
      ]);
      const record = records.get(id);
      if (!baseline && !record) throw new HttpError(404, `no identity ${id}`);
      const findings = await storage.findings.page({ identity: id }, 'time', 1000);
      const triage = await storage.records.triageFor(findings.map((f) => f.finding_id));
      const open = findings.filter((f) => f.status === 'open' || f.status === 'acknowledged');
      const now = Date.now();
      return {
        identity_id: id,
        record: record ? identityJson(record) : null,
        baseline: baseline ?? null,
        risk: riskScore(findings, now),
        risk_over_time: riskOverTime(findings, triage, RISK_DAYS, now),
        open_findings: open.length,
        findings: open.slice(0, 50),
      };
    },
  );

  app.put(
    '/v1/identities/:id',
    docs({
      summary: 'Register or replace an identity (lifecycle included)',
      tags: ['identities'],
      params: IdentityParams,
      body: IdentityBodySchema,
    }),
    async (request) => {
      requireRole(request, ['admin']);
      const { id } = parseQuery(IdentityParams, request.params);
      const parsed = parseIdentityEntry(request.body ?? {}, id);
      if (!parsed.ok) throw new HttpError(400, `invalid identity: ${parsed.error}`);
      const [current] = [...(await storage.identities.byIds([id])).values()];
      const record = parsed.record;
      // A lifecycle change dates itself when the caller does not: detectors judge "after it".
      if (record.stateChangedAt === null && record.state !== 'active' && current?.state !== record.state)
        record.stateChangedAt = Date.now();
      await storage.identities.upsert([record], 'api');
      return identityJson(record);
    },
  );
}
