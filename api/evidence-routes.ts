import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { EVIDENCE, type EvidenceBundle } from '../evidence/bundle.js';
import { bundleEntries, bundleJson } from '../evidence/signed-bundle.js';
import { writeTarGz } from '../evidence/tar.js';
import { FindingIdParams, HttpError, parseQuery, requireRole } from './http.js';
import { docs } from './openapi.js';

/** Evidence routes (DESIGN.md "Evidence bundle"): a finding's signed bundle, the signing key. */

export interface EvidenceService {
  bundle(findingId: string): Promise<EvidenceBundle | undefined>;
  publicKeyPem: string;
}

const EvidenceQuery = z.object({ format: z.enum(['json', 'archive']).default('json') }).strict();

/** The archive's entries carry the finding's creation time: the same bundle, the same bytes. */
function archiveMtime(bundle: EvidenceBundle): number {
  const created = (bundle.parts.finding as { created_at?: unknown }).created_at;
  return typeof created === 'number' ? Math.floor(created / 1000) : 0;
}

export function registerEvidenceRoutes(app: FastifyInstance, evidence: EvidenceService): void {
  app.get(
    '/v1/findings/:id/evidence',
    docs({
      summary: "A finding's signed evidence bundle (JSON or .tar.gz)",
      tags: ['evidence'],
      params: FindingIdParams,
      querystring: EvidenceQuery,
    }),
    async (request, reply) => {
      requireRole(request, ['compliance']);
      const { id } = parseQuery(FindingIdParams, request.params);
      const { format } = parseQuery(EvidenceQuery, request.query);
      const bundle = await evidence.bundle(id);
      if (!bundle) throw new HttpError(404, `no finding ${id}`);
      if (format === 'archive')
        return reply
          .type('application/gzip')
          .header('content-disposition', `attachment; filename="evidence-${id}.tar.gz"`)
          .send(writeTarGz(bundleEntries(EVIDENCE, bundle), archiveMtime(bundle)));
      return reply.type('application/json').send(bundleJson(bundle));
    },
  );

  app.get(
    '/v1/keys/signing',
    docs({ summary: 'The Ed25519 public key evidence is signed with (PEM)', tags: ['evidence'] }),
    async (request, reply) => {
      requireRole(request, ['analyst', 'compliance']);
      return reply.type('application/x-pem-file').send(evidence.publicKeyPem);
    },
  );
}
