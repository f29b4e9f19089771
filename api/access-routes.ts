import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ApiAccessRepository } from '../storage/api-access.js';
import { ROLES } from './auth.js';
import { HttpError, parseQuery, requireRole, Timestamp } from './http.js';
import { docs } from './openapi.js';
import { sha256Hex } from '../evidence/canonical.js';
import { newKeySecret, type KeyRing } from './keyring.js';

/** Admin routes: API keys (create, list, revoke) and the audit of API requests. */

const CreateKey = z
  .object({
    role: z.enum(ROLES),
    name: z.string().min(1).max(200),
  })
  .strict();
const KeyParams = z.object({ id: z.string().regex(/^[0-9a-f]{12}$/, 'a key id is 12 hex digits') }).strict();
const AuditQuery = z
  .object({
    from: Timestamp.optional(),
    to: Timestamp.optional(),
    key_id: z.string().max(64).optional(),
    status: z.coerce.number().int().min(100).max(599).optional(),
    limit: z.coerce.number().int().min(1).max(10_000).default(100),
  })
  .strict();

export function registerAccessRoutes(
  app: FastifyInstance,
  access: Pick<ApiAccessRepository, 'createKey' | 'keys' | 'revokeKey' | 'auditLog'>,
  keyring: KeyRing,
): void {
  app.post(
    '/v1/keys',
    docs({ summary: 'Create an API key (the secret is returned once)', tags: ['keys'], body: CreateKey }),
    async (request, reply) => {
      requireRole(request, ['admin']);
      const body = parseQuery(CreateKey, request.body ?? {}, 'body');
      const { keyId, secret } = newKeySecret();
      const createdAt = Date.now();
      await access.createKey({
        key_id: keyId,
        role: body.role,
        name: body.name,
        hash: sha256Hex(secret),
        created_at: createdAt,
        created_by: request.apiKey?.keyId ?? '',
      });
      // This process accepts the key at once; others within their refresh interval (as would this
      // one, should the re-read fail now: the key is stored, and its secret must still be shown).
      await keyring.reload().catch(() => undefined);
      // The only time the secret is shown: only its hash is kept.
      return reply
        .code(201)
        .send({ key_id: keyId, role: body.role, name: body.name, created_at: createdAt, secret });
    },
  );

  app.get('/v1/keys', docs({ summary: 'List API keys', tags: ['keys'] }), async (request) => {
    requireRole(request, ['admin']);
    const stored = await access.keys();
    return {
      keys: [
        ...keyring.configuredKeys().map((k) => ({
          key_id: k.keyId,
          role: k.role,
          name: 'SCOPEWATCH_API_KEYS',
          source: 'config',
          created_at: null,
          created_by: '',
          revoked_at: null,
        })),
        ...stored.map(({ hash: _hash, ...k }) => ({ ...k, source: 'api' })),
      ],
    };
  });

  app.delete(
    '/v1/keys/:id',
    docs({ summary: 'Revoke an API key', tags: ['keys'], params: KeyParams }),
    async (request, reply) => {
      requireRole(request, ['admin']);
      const { id } = parseQuery(KeyParams, request.params);
      if (keyring.isConfigured(id))
        throw new HttpError(400, `key ${id} comes from SCOPEWATCH_API_KEYS: remove it there and restart`);
      if (!(await access.revokeKey(id, Date.now()))) throw new HttpError(404, `no active key ${id}`);
      await keyring.reload();
      return reply.code(204).send();
    },
  );

  app.get(
    '/v1/audit',
    docs({ summary: 'Audited API requests', tags: ['keys'], querystring: AuditQuery }),
    async (request) => {
      requireRole(request, ['admin']);
      const q = parseQuery(AuditQuery, request.query);
      return { requests: await access.auditLog(q, q.limit) };
    },
  );
}
