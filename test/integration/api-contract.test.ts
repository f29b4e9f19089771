import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeys, ROLES, type Role } from '../../api/auth.js';
import { buildApi } from '../../api/server.js';
import { createLogger, type Logger } from '../../common/logger.js';
import { MetricsRegistry } from '../../common/metrics.js';
import { sha256Hex } from '../../evidence/canonical.js';
import { IDENTITY_TYPES } from '../../model/action.js';
import { FINDING_STATUSES, SEVERITIES } from '../../model/finding.js';
import { LIFECYCLE_STATES } from '../../model/identity.js';
import { TERM_KINDS } from '../../model/terms.js';
import type { AuditRow } from '../../storage/api-access.js';
import type { CallSettings, ClickHouseGateway, QueryParams, SqlGateway } from '../../storage/gateway.js';
import { repositoriesOf, type Repositories } from '../../storage/repositories.js';
import { ingestDemoAndDetect, testConfig, testEvidence, useClickHouse } from './helpers.js';

/**
 * The /v1 API's contract, on the embedded engine with findings the detectors really produced:
 *
 * - Access: every route × every role (plus no key and a wrong key), from one table. Allowed
 *   roles get a 2xx (a 404 where the id is deliberately unknown), others a 403, a missing or
 *   wrong key a 401; every request leaves an `api_audit` row with its role, route and status,
 *   and no row ever holds a key's secret. The table is checked against the OpenAPI document,
 *   so a new route without a line fails.
 * - Input: a bad value for each field of each route is a 400 whose message names the field.
 * - Properties (fast-check): arbitrary query strings, ids and bodies never get a 5xx, and no
 *   value from a request ever appears in the SQL text sent to ClickHouse (every repository
 *   runs over a gateway that records it): values travel only as query parameters.
 */

const config = testConfig([]);
const clickhouse = useClickHouse(config);

const SECRET: Readonly<Record<Role, string>> = {
  analyst: 'contract-analyst-secret-5d1f0a9e',
  compliance: 'contract-compliance-secret-8b2c7e41',
  admin: 'contract-admin-secret-c93a66d0',
};
const WRONG_SECRET = 'contract-wrong-secret-2e7f90b3';
const ALL_SECRETS = [...Object.values(SECRET), WRONG_SECRET];
const KEYS = parseApiKeys(ROLES.map((role) => `${role}:${SECRET[role]}`));

function keyIdOf(role: Role): string {
  const key = KEYS.find((k) => k.role === role);
  if (!key) throw new Error(`no configured ${role} key`);
  return key.keyId;
}

type Caller = Role | 'no key' | 'wrong key';
const CALLERS: readonly Caller[] = ['no key', 'wrong key', ...ROLES];

function headersFor(caller: Caller): Record<string, string> {
  if (caller === 'no key') return {};
  return { authorization: `Bearer ${caller === 'wrong key' ? WRONG_SECRET : SECRET[caller]}` };
}

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** `GET /v1/findings/:id` → its method and path pattern. */
function splitRoute(route: string): { method: Method; path: string } {
  const [method = '', path = ''] = route.split(' ');
  const methods: readonly string[] = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'];
  if (!methods.includes(method)) throw new Error(`bad route "${route}"`);
  return { method: method as Method, path };
}

/** Every SQL text (and its parameters) the repositories send, then the real gateway's answer. */
class RecordingGateway implements SqlGateway {
  readonly calls: { sql: string; params: QueryParams }[] = [];

  constructor(private readonly inner: ClickHouseGateway) {}

  get database(): string {
    return this.inner.database;
  }

  table(name: string): string {
    return this.inner.table(name);
  }

  query<T>(sql: string, params: QueryParams = {}, call: CallSettings = {}): Promise<T[]> {
    this.calls.push({ sql, params });
    return this.inner.query<T>(sql, params, call);
  }

  /** Rows travel as JSONEachRow data, never as SQL: the statement's only text is the table. */
  insert(table: string, rows: readonly object[], call: CallSettings = {}): Promise<void> {
    this.calls.push({ sql: `INSERT INTO ${this.inner.table(table)} FORMAT JSONEachRow`, params: {} });
    return this.inner.insert(table, rows, call);
  }

  command(sql: string, params: QueryParams = {}, call: CallSettings = {}): Promise<void> {
    this.calls.push({ sql, params });
    return this.inner.command(sql, params, call);
  }
}

interface Fixtures {
  storage: Repositories & { gateway: ClickHouseGateway };
  recorder: RecordingGateway;
  /** Error lines the API logged (a 5xx logs its cause here). */
  errors: string[];
  logger: Logger;
  /** Real ids for the URL placeholders: `{finding}`, `{identity}`, `{key}`, `{configured}`. */
  ids: Record<string, string>;
}

let fixtures: Fixtures | undefined;
const fx = (): Fixtures => {
  if (!fixtures) throw new Error('fixtures are made in beforeAll');
  return fixtures;
};

beforeAll(async () => {
  const ch = clickhouse();
  await ingestDemoAndDetect(ch, config, { seed: 41, count: 2_000, file: 'traffic.jsonl' });
  const recorder = new RecordingGateway(ch);
  const storage = { ...repositoriesOf(recorder), gateway: ch };
  const [finding] = await storage.findings.list({}, 1);
  if (!finding) throw new Error('the demo traffic produced no finding');
  const revocable = 'c0ffee000001';
  await storage.access.createKey({
    key_id: revocable,
    role: 'analyst',
    name: 'revoked by the contract test',
    hash: sha256Hex('never-presented'),
    created_at: Date.now(),
    created_by: '',
  });
  const errors: string[] = [];
  fixtures = {
    storage,
    recorder,
    errors,
    logger: createLogger('error', {}, (line) => errors.push(line)),
    ids: {
      finding: finding.finding_id,
      identity: finding.identity_id,
      key: revocable,
      configured: keyIdOf('analyst'),
    },
  };
});

function fill(url: string): string {
  return url.replace(/\{(\w+)\}/g, (placeholder, name: string) => {
    const id = fx().ids[name];
    if (id === undefined) throw new Error(`no fixture for ${placeholder}`);
    return encodeURIComponent(id);
  });
}

/** The API over the recording gateway; rate limits off (the properties send hundreds of requests). */
function api(): FastifyInstance {
  const { storage, logger } = fx();
  return buildApi({
    storage,
    keys: KEYS,
    logger,
    metrics: new MetricsRegistry(),
    rateLimit: { rate: 0, burst: 0 },
    evidence: testEvidence(storage),
  });
}

interface Request {
  method: Method;
  url: string;
  /** JSON text, sent as application/json. */
  body?: string;
  headers?: Record<string, string>;
  remoteAddress?: string;
}

function send(app: FastifyInstance, request: Request): Promise<LightMyRequestResponse> {
  return app.inject({
    method: request.method,
    url: request.url,
    headers: {
      ...request.headers,
      ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(request.body === undefined ? {} : { payload: request.body }),
    ...(request.remoteAddress === undefined ? {} : { remoteAddress: request.remoteAddress }),
  });
}

const errorOf = (response: LightMyRequestResponse): string => response.json<{ error: string }>().error;

interface OpenApiDoc {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: { name: string; in: string }[];
        requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> };
      }
    >
  >;
}

/** Every /v1 operation in the OpenAPI document, as `METHOD /path/:id`, with its documented fields. */
async function documentedRoutes(): Promise<Map<string, string[]>> {
  const app = api();
  const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json<OpenApiDoc>();
  await app.close();
  const routes = new Map<string, string[]>();
  for (const [path, operations] of Object.entries(doc.paths)) {
    if (!path.startsWith('/v1')) continue;
    for (const [method, operation] of Object.entries(operations)) {
      const body = Object.values(operation.requestBody?.content ?? {})[0]?.schema.properties ?? {};
      routes.set(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`, [
        ...(operation.parameters ?? []).map((p) => p.name),
        ...Object.keys(body),
      ]);
    }
  }
  return routes;
}

// ---------------------------------------------------------------------------------------------
// Route × role

/** requireRole(['analyst', 'compliance']): admin may do everything (api/auth.ts `allowed`). */
const READERS: readonly Role[] = ['analyst', 'compliance', 'admin'];
/** requireRole(['analyst']) */
const TRIAGERS: readonly Role[] = ['analyst', 'admin'];
/** requireRole(['compliance']) */
const AUDITORS: readonly Role[] = ['compliance', 'admin'];
/** requireRole(['admin']) */
const ADMINS: readonly Role[] = ['admin'];

interface RouteCase {
  /** As fastify matches it (and audits it): `METHOD /path/:id`. */
  route: string;
  /** The request: `{finding}`, `{identity}`, `{key}` are the fixtures' real ids. */
  url: string;
  body?: Record<string, unknown>;
  allow: readonly Role[];
  /** The id is deliberately unknown: allowed roles get a 404. */
  missing?: true;
}

const ROUTES: readonly RouteCase[] = [
  { route: 'GET /v1/events/stats', url: '/v1/events/stats?recent=5', allow: READERS },
  { route: 'GET /v1/findings', url: '/v1/findings?limit=5&sort=score&status=open', allow: READERS },
  { route: 'GET /v1/findings/:id', url: '/v1/findings/{finding}', allow: READERS },
  { route: 'GET /v1/findings/:id', url: '/v1/findings/f-unknown', allow: READERS, missing: true },
  { route: 'GET /v1/findings/:id/triage', url: '/v1/findings/{finding}/triage', allow: READERS },
  {
    route: 'GET /v1/findings/:id/triage',
    url: '/v1/findings/f-unknown/triage',
    allow: READERS,
    missing: true,
  },
  {
    route: 'PATCH /v1/findings/:id',
    url: '/v1/findings/{finding}',
    body: { status: 'acknowledged', note: 'seen by the contract test', assignee: 'dana' },
    allow: TRIAGERS,
  },
  {
    route: 'PATCH /v1/findings/:id',
    url: '/v1/findings/f-unknown',
    body: { status: 'acknowledged' },
    allow: TRIAGERS,
    missing: true,
  },
  { route: 'GET /v1/findings/:id/evidence', url: '/v1/findings/{finding}/evidence', allow: AUDITORS },
  {
    route: 'GET /v1/findings/:id/evidence',
    url: '/v1/findings/{finding}/evidence?format=archive',
    allow: AUDITORS,
  },
  {
    route: 'GET /v1/findings/:id/evidence',
    url: '/v1/findings/f-unknown/evidence',
    allow: AUDITORS,
    missing: true,
  },
  { route: 'GET /v1/keys/signing', url: '/v1/keys/signing', allow: READERS },
  {
    route: 'GET /v1/identities',
    url: '/v1/identities?sort=last_seen&limit=5&registered=false',
    allow: READERS,
  },
  { route: 'GET /v1/identities/:id', url: '/v1/identities/{identity}', allow: READERS },
  { route: 'GET /v1/identities/:id', url: '/v1/identities/nobody-at-all', allow: READERS, missing: true },
  { route: 'GET /v1/identities/:id/review', url: '/v1/identities/{identity}/review', allow: AUDITORS },
  {
    route: 'GET /v1/identities/:id/review',
    url: '/v1/identities/{identity}/review?format=archive',
    allow: AUDITORS,
  },
  {
    route: 'GET /v1/identities/:id/review',
    url: '/v1/identities/nobody-at-all/review',
    allow: AUDITORS,
    missing: true,
  },
  { route: 'GET /v1/review', url: '/v1/review', allow: AUDITORS },
  { route: 'GET /v1/review', url: '/v1/review?format=csv&from=0&to=86400000', allow: AUDITORS },
  {
    route: 'PUT /v1/identities/:id',
    url: '/v1/identities/contract-bot',
    body: { owner: 'platform', purpose: 'the contract test', state: 'suspended' },
    allow: ADMINS,
  },
  { route: 'POST /v1/keys', url: '/v1/keys', body: { role: 'compliance', name: 'contract' }, allow: ADMINS },
  { route: 'GET /v1/keys', url: '/v1/keys', allow: ADMINS },
  { route: 'DELETE /v1/keys/:id', url: '/v1/keys/{key}', allow: ADMINS },
  { route: 'DELETE /v1/keys/:id', url: '/v1/keys/000000000000', allow: ADMINS, missing: true },
  { route: 'GET /v1/audit', url: '/v1/audit?limit=5&status=200', allow: ADMINS },
];

/** A distinct client address per request: its audit row is found by it. */
let addresses = 0;
function nextAddress(): string {
  addresses += 1;
  return `10.${String((addresses >> 16) & 255)}.${String((addresses >> 8) & 255)}.${String(addresses & 255)}`;
}

describe('route × role', () => {
  it('the table has a line for every documented /v1 route', async () => {
    const documented = [...(await documentedRoutes()).keys()].sort();
    expect([...new Set(ROUTES.map((r) => r.route))].sort()).toEqual(documented);
  });

  it.each(ROUTES)('$route ($url)', async (line) => {
    const { method, path } = splitRoute(line.route);
    const app = api();
    const started = Date.now();
    const sent: { caller: Caller; request: Request; status: number }[] = [];
    for (const caller of CALLERS) {
      const request: Request = {
        method,
        url: fill(line.url),
        headers: headersFor(caller),
        remoteAddress: nextAddress(),
        ...(line.body ? { body: JSON.stringify(line.body) } : {}),
      };
      const response = await send(app, request);
      const what = `${caller}: ${method} ${request.url} → ${String(response.statusCode)} ${response.body}`;
      if (caller === 'no key' || caller === 'wrong key') {
        expect(response.statusCode, what).toBe(401);
        expect(errorOf(response), what).toContain('API key');
      } else if (!line.allow.includes(caller)) {
        expect(response.statusCode, what).toBe(403);
        expect(errorOf(response), what).toContain(`role ${caller} may not`);
      } else if (line.missing) {
        expect(response.statusCode, what).toBe(404);
      } else {
        expect(response.statusCode, what).toBeGreaterThanOrEqual(200);
        expect(response.statusCode, what).toBeLessThan(300);
      }
      sent.push({ caller, request, status: response.statusCode });
    }
    await app.close(); // flushes the batched audit rows

    const rows = await fx().storage.access.auditLog({ from: started }, 10_000);
    for (const { caller, request, status } of sent) {
      const mine = rows.filter((r) => r.ip === request.remoteAddress);
      const authenticated = caller !== 'no key' && caller !== 'wrong key';
      expect(mine, `audit rows of ${caller}: ${method} ${request.url}`).toEqual([
        expect.objectContaining<Partial<AuditRow>>({
          method,
          route: path,
          url: request.url,
          status,
          role: authenticated ? caller : '',
          key_id: authenticated ? keyIdOf(caller) : '',
        }),
      ]);
      const text = JSON.stringify(mine);
      for (const secret of ALL_SECRETS) expect(text).not.toContain(secret);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Bad input

interface BadInput {
  route: string;
  url: string;
  body?: unknown;
  /** What the 400's message must name: the field (or an unknown key, or the config variable). */
  field: string;
}

const long = (n: number): string => 'x'.repeat(n);
/** A cursor `sort=score` pages hand out, offered to `sort=time`. */
const scoreCursor = Buffer.from(JSON.stringify({ s: 'score', k: 0.5, i: 'f-1' })).toString('base64url');

const BAD_INPUT: readonly BadInput[] = [
  { route: 'GET /v1/events/stats', url: '/v1/events/stats?recent=-1', field: 'recent' },
  { route: 'GET /v1/events/stats', url: '/v1/events/stats?recent=1001', field: 'recent' },
  { route: 'GET /v1/events/stats', url: '/v1/events/stats?recent=lots', field: 'recent' },
  { route: 'GET /v1/events/stats', url: '/v1/events/stats?since=1', field: 'since' },

  { route: 'GET /v1/findings', url: '/v1/findings?identity=', field: 'identity' },
  { route: 'GET /v1/findings', url: `/v1/findings?identity=${long(257)}`, field: 'identity' },
  { route: 'GET /v1/findings', url: '/v1/findings?detector=', field: 'detector' },
  { route: 'GET /v1/findings', url: `/v1/findings?detector=${long(129)}`, field: 'detector' },
  { route: 'GET /v1/findings', url: '/v1/findings?severity=urgent', field: 'severity' },
  { route: 'GET /v1/findings', url: '/v1/findings?severity=low&severity=high', field: 'severity' },
  { route: 'GET /v1/findings', url: '/v1/findings?status=closed', field: 'status' },
  { route: 'GET /v1/findings', url: '/v1/findings?from=yesterday', field: 'from' },
  { route: 'GET /v1/findings', url: '/v1/findings?from=-1', field: 'from' },
  { route: 'GET /v1/findings', url: '/v1/findings?to=4102444800001', field: 'to' },
  { route: 'GET /v1/findings', url: '/v1/findings?to=2024-13-01T00:00:00Z', field: 'to' },
  { route: 'GET /v1/findings', url: '/v1/findings?min_score=1.5', field: 'min_score' },
  { route: 'GET /v1/findings', url: '/v1/findings?min_score=high', field: 'min_score' },
  { route: 'GET /v1/findings', url: '/v1/findings?q=', field: 'q' },
  { route: 'GET /v1/findings', url: `/v1/findings?q=${long(201)}`, field: 'q' },
  { route: 'GET /v1/findings', url: '/v1/findings?sort=risk', field: 'sort' },
  { route: 'GET /v1/findings', url: '/v1/findings?limit=0', field: 'limit' },
  { route: 'GET /v1/findings', url: '/v1/findings?limit=1001', field: 'limit' },
  { route: 'GET /v1/findings', url: '/v1/findings?limit=2.5', field: 'limit' },
  { route: 'GET /v1/findings', url: `/v1/findings?cursor=${long(201)}`, field: 'cursor' },
  { route: 'GET /v1/findings', url: '/v1/findings?sort=time&cursor=not-a-cursor', field: 'cursor' },
  { route: 'GET /v1/findings', url: `/v1/findings?sort=time&cursor=${scoreCursor}`, field: 'cursor' },
  { route: 'GET /v1/findings', url: '/v1/findings?page=2', field: 'page' },

  { route: 'GET /v1/findings/:id', url: `/v1/findings/${long(65)}`, field: 'id' },
  { route: 'GET /v1/findings/:id/triage', url: `/v1/findings/${long(65)}/triage`, field: 'id' },
  { route: 'GET /v1/findings/:id/evidence', url: `/v1/findings/${long(65)}/evidence`, field: 'id' },
  {
    route: 'GET /v1/findings/:id/evidence',
    url: '/v1/findings/{finding}/evidence?format=zip',
    field: 'format',
  },
  { route: 'GET /v1/findings/:id/evidence', url: '/v1/findings/{finding}/evidence?sign=no', field: 'sign' },

  { route: 'PATCH /v1/findings/:id', url: `/v1/findings/${long(65)}`, body: { status: 'open' }, field: 'id' },
  { route: 'PATCH /v1/findings/:id', url: '/v1/findings/{finding}', body: {}, field: 'status' },
  {
    route: 'PATCH /v1/findings/:id',
    url: '/v1/findings/{finding}',
    body: { status: 'done' },
    field: 'status',
  },
  {
    route: 'PATCH /v1/findings/:id',
    url: '/v1/findings/{finding}',
    body: { status: 'open', note: long(4001) },
    field: 'note',
  },
  {
    route: 'PATCH /v1/findings/:id',
    url: '/v1/findings/{finding}',
    body: { status: 'resolved' },
    field: 'note',
  },
  {
    route: 'PATCH /v1/findings/:id',
    url: '/v1/findings/{finding}',
    body: { status: 'false_positive', note: '  ' },
    field: 'note',
  },
  {
    route: 'PATCH /v1/findings/:id',
    url: '/v1/findings/{finding}',
    body: { status: 'open', assignee: long(201) },
    field: 'assignee',
  },
  {
    route: 'PATCH /v1/findings/:id',
    url: '/v1/findings/{finding}',
    body: { status: 'open', assignee: 7 },
    field: 'assignee',
  },
  {
    route: 'PATCH /v1/findings/:id',
    url: '/v1/findings/{finding}',
    body: { status: 'open', priority: 'high' },
    field: 'priority',
  },

  {
    route: 'PATCH /v1/findings/:id',
    url: '/v1/findings/{finding}',
    body: { status: 'acknowledged', allow: [{ kind: 'tool', value: 'deploy' }] },
    field: 'allow',
  },
  {
    route: 'PATCH /v1/findings/:id',
    url: '/v1/findings/{finding}',
    body: { status: 'false_positive', note: 'a known vendor', allow: 'everything' },
    field: 'allow',
  },
  {
    route: 'PATCH /v1/findings/:id',
    url: '/v1/findings/{finding}',
    body: {
      status: 'false_positive',
      note: 'a known vendor',
      allow: Array.from({ length: 21 }, (_, i) => ({ kind: 'tool', value: `t${String(i)}` })),
    },
    field: 'allow',
  },
  {
    route: 'PATCH /v1/findings/:id',
    url: '/v1/findings/{finding}',
    body: { status: 'false_positive', note: 'a known vendor', allow: [{ kind: 'planet', value: 'x' }] },
    field: 'allow.0.kind',
  },
  {
    route: 'PATCH /v1/findings/:id',
    url: '/v1/findings/{finding}',
    body: { status: 'resolved', note: 'a known vendor', allow: [{ kind: 'tool', value: '' }] },
    field: 'allow.0.value',
  },

  { route: 'GET /v1/identities', url: '/v1/identities?lifecycle=retired', field: 'lifecycle' },
  { route: 'GET /v1/identities', url: '/v1/identities?registered=yes', field: 'registered' },
  { route: 'GET /v1/identities', url: '/v1/identities?sort=name', field: 'sort' },
  { route: 'GET /v1/identities', url: '/v1/identities?limit=0', field: 'limit' },
  { route: 'GET /v1/identities', url: '/v1/identities?limit=10001', field: 'limit' },
  { route: 'GET /v1/identities', url: '/v1/identities?offset=-1', field: 'offset' },
  { route: 'GET /v1/identities', url: '/v1/identities?offset=first', field: 'offset' },
  { route: 'GET /v1/identities', url: '/v1/identities?owner=me', field: 'owner' },
  { route: 'GET /v1/identities/:id', url: `/v1/identities/${long(257)}`, field: 'id' },

  { route: 'PUT /v1/identities/:id', url: `/v1/identities/${long(257)}`, body: {}, field: 'id' },
  { route: 'GET /v1/identities/:id/review', url: `/v1/identities/${long(257)}/review`, field: 'id' },
  { route: 'GET /v1/identities/:id/review', url: '/v1/identities/{identity}/review?from=-1', field: 'from' },
  {
    route: 'GET /v1/identities/:id/review',
    url: '/v1/identities/{identity}/review?from=2&to=1',
    field: 'from',
  },
  {
    route: 'GET /v1/identities/:id/review',
    url: '/v1/identities/{identity}/review?from=0&to=4102444800000',
    field: 'from',
  },
  { route: 'GET /v1/identities/:id/review', url: '/v1/identities/{identity}/review?to=later', field: 'to' },
  {
    route: 'GET /v1/identities/:id/review',
    url: '/v1/identities/{identity}/review?format=csv',
    field: 'format',
  },
  {
    route: 'GET /v1/identities/:id/review',
    url: '/v1/identities/{identity}/review?scope=all',
    field: 'scope',
  },
  { route: 'GET /v1/review', url: '/v1/review?from=yesterday', field: 'from' },
  { route: 'GET /v1/review', url: '/v1/review?from=86400000&to=86400000', field: 'from' },
  { route: 'GET /v1/review', url: '/v1/review?to=-5', field: 'to' },
  { route: 'GET /v1/review', url: '/v1/review?format=xlsx', field: 'format' },
  { route: 'GET /v1/review', url: '/v1/review?verdict=offboard', field: 'verdict' },
  { route: 'PUT /v1/identities/:id', url: '/v1/identities/contract-bot', body: { id: 'other' }, field: 'id' },
  {
    route: 'PUT /v1/identities/:id',
    url: '/v1/identities/contract-bot',
    body: { type: 'robot' },
    field: 'type',
  },
  {
    route: 'PUT /v1/identities/:id',
    url: '/v1/identities/contract-bot',
    body: { owner: long(257) },
    field: 'owner',
  },
  {
    route: 'PUT /v1/identities/:id',
    url: '/v1/identities/contract-bot',
    body: { purpose: long(2049) },
    field: 'purpose',
  },
  {
    route: 'PUT /v1/identities/:id',
    url: '/v1/identities/contract-bot',
    body: { state: 'gone' },
    field: 'state',
  },
  {
    route: 'PUT /v1/identities/:id',
    url: '/v1/identities/contract-bot',
    body: { state_changed_at: 'yesterday' },
    field: 'state_changed_at',
  },
  {
    route: 'PUT /v1/identities/:id',
    url: '/v1/identities/contract-bot',
    body: { credentials: 'none' },
    field: 'credentials',
  },
  {
    route: 'PUT /v1/identities/:id',
    url: '/v1/identities/contract-bot',
    body: { credentials: [{ state: 'active' }] },
    field: 'credentials.0.id',
  },
  {
    route: 'PUT /v1/identities/:id',
    url: '/v1/identities/contract-bot',
    body: { credentials: [{ id: 'c1', revoked_at: 'soon' }] },
    field: 'credentials.0.revoked_at',
  },
  {
    route: 'PUT /v1/identities/:id',
    url: '/v1/identities/contract-bot',
    body: { scope: 'everything' },
    field: 'scope',
  },
  {
    route: 'PUT /v1/identities/:id',
    url: '/v1/identities/contract-bot',
    body: { scope: { tools: [1] } },
    field: 'scope.tools.0',
  },
  {
    route: 'PUT /v1/identities/:id',
    url: '/v1/identities/contract-bot',
    body: { scope: { approval_required: ['frobnicate'] } },
    field: 'scope.approval_required',
  },
  {
    route: 'PUT /v1/identities/:id',
    url: '/v1/identities/contract-bot',
    body: { colour: 'blue' },
    field: 'colour',
  },

  { route: 'POST /v1/keys', url: '/v1/keys', body: { role: 'root', name: 'x' }, field: 'role' },
  { route: 'POST /v1/keys', url: '/v1/keys', body: { name: 'x' }, field: 'role' },
  { route: 'POST /v1/keys', url: '/v1/keys', body: { role: 'admin' }, field: 'name' },
  { route: 'POST /v1/keys', url: '/v1/keys', body: { role: 'admin', name: '' }, field: 'name' },
  { route: 'POST /v1/keys', url: '/v1/keys', body: { role: 'admin', name: long(201) }, field: 'name' },
  { route: 'POST /v1/keys', url: '/v1/keys', body: { role: 'admin', name: 'x', ttl: 60 }, field: 'ttl' },

  { route: 'DELETE /v1/keys/:id', url: '/v1/keys/nope', field: 'id' },
  { route: 'DELETE /v1/keys/:id', url: '/v1/keys/{configured}', field: 'SCOPEWATCH_API_KEYS' },

  { route: 'GET /v1/audit', url: '/v1/audit?from=-1', field: 'from' },
  { route: 'GET /v1/audit', url: '/v1/audit?to=tomorrow', field: 'to' },
  { route: 'GET /v1/audit', url: `/v1/audit?key_id=${long(65)}`, field: 'key_id' },
  { route: 'GET /v1/audit', url: '/v1/audit?status=99', field: 'status' },
  { route: 'GET /v1/audit', url: '/v1/audit?status=600', field: 'status' },
  { route: 'GET /v1/audit', url: '/v1/audit?status=ok', field: 'status' },
  { route: 'GET /v1/audit', url: '/v1/audit?limit=0', field: 'limit' },
  { route: 'GET /v1/audit', url: '/v1/audit?limit=10001', field: 'limit' },
  { route: 'GET /v1/audit', url: '/v1/audit?role=admin', field: 'role' },
];

/** `field` as a whole word (a dotted path counts as one). */
function mentions(message: string, field: string): boolean {
  const escaped = field.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\w.])${escaped}(?![\\w])`).test(message);
}

describe('bad input', () => {
  it('every documented field of every route has a bad value in the table', async () => {
    const covered = new Set(BAD_INPUT.map((b) => `${b.route} ${b.field}`));
    const missing = [...(await documentedRoutes())].flatMap(([route, fields]) =>
      fields.filter((field) => !covered.has(`${route} ${field}`)).map((field) => `${route} ${field}`),
    );
    expect(missing).toEqual([]);
  });

  it.each(BAD_INPUT)('$route: $field ($url)', async (bad) => {
    const app = api();
    const request: Request = {
      method: splitRoute(bad.route).method,
      url: fill(bad.url),
      headers: headersFor('admin'),
      ...(bad.body === undefined ? {} : { body: JSON.stringify(bad.body) }),
    };
    const response = await send(app, request);
    await app.close();
    const what = `${request.method} ${request.url} ${request.body ?? ''} → ${response.body}`;
    expect(response.statusCode, what).toBe(400);
    expect(mentions(errorOf(response), bad.field), what).toBe(true);
  });

  it('identity ids as long as the schema allows (256 characters) reach the routes', async () => {
    const app = api();
    const id = `contract-${'i'.repeat(247)}`;
    const put = await send(app, {
      method: 'PUT',
      url: `/v1/identities/${id}`,
      headers: headersFor('admin'),
      body: JSON.stringify({ owner: 'platform' }),
    });
    const get = await send(app, { method: 'GET', url: `/v1/identities/${id}`, headers: headersFor('admin') });
    await app.close();
    expect([put.statusCode, get.statusCode], `PUT → ${put.body}; GET → ${get.body}`).toEqual([200, 200]);
  });

  it('a body that is not JSON is a 400, not a 5xx', async () => {
    const app = api();
    for (const { route, url } of ROUTES.filter((line) => line.body && !line.missing)) {
      const { method } = splitRoute(route);
      const response = await send(app, {
        method,
        url: fill(url),
        headers: headersFor('admin'),
        body: '{"status": ',
      });
      expect(response.statusCode, `${method} ${url} → ${response.body}`).toBe(400);
    }
    await app.close();
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

/** In every generated string: no SQL text may ever contain it (escaped or not). */
const MARK = `zqmk'"\\`;
const MARK_CORE = 'zqmk';
const RUNS = 150;
const END_OF_TIME = 4102444800000;

const marked = fc.string({ unit: 'binary', maxLength: 24 }).map((s) => `${MARK}${s}`);
const anyText = fc.string({ unit: 'binary', maxLength: 24 });
const json = fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' });

/** Strings a request carries that hold the marker (object keys included). */
function markedStrings(value: unknown): string[] {
  if (typeof value === 'string') return value.includes(MARK_CORE) ? [value] : [];
  if (Array.isArray(value)) return value.flatMap(markedStrings);
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => [...markedStrings(k), ...markedStrings(v)]);
  return [];
}

const numberText = fc
  .oneof(fc.integer(), fc.double(), fc.bigInt(), fc.constantFrom(END_OF_TIME, END_OF_TIME + 1, -0, 1e21))
  .map(String);
const isoText = (min: number, max: number): fc.Arbitrary<string> =>
  fc.date({ min: new Date(min), max: new Date(max), noInvalidDate: true }).map((d) => d.toISOString());
/** Years 0000–9999: everything an ISO date-time can spell. */
const anyIsoText = isoText(-62_167_219_200_000, 253_402_300_799_999);
const positionText = fc
  .record({
    s: fc.oneof(fc.constantFrom('time', 'score', 'id'), marked),
    k: fc.oneof(fc.integer({ min: 0, max: END_OF_TIME }), fc.double(), fc.double({ min: 0, max: 1 })),
    i: fc.oneof(marked, anyText),
  })
  .map((position) => Buffer.from(JSON.stringify(position)).toString('base64url'));

/** Anything a client might put in a query value. */
const junk = fc.oneof(
  anyText,
  numberText,
  anyIsoText,
  positionText,
  fc.constantFrom('', 'true', 'null', 'NaN', 'Infinity', '1e400', '0x10', ' 1', '[]'),
  fc.string({ minLength: 190, maxLength: 270 }),
);

const intText = (min: number, max: number): fc.Arbitrary<string> => fc.integer({ min, max }).map(String);
const timestampText = fc.oneof(intText(0, END_OF_TIME), isoText(0, END_OF_TIME));
/** Within the last 200 days: two of them make a period a review accepts half the time. */
const recentText = fc.oneof(
  intText(Date.now() - 200 * 86_400_000, Date.now()),
  isoText(Date.now() - 200 * 86_400_000, Date.now()),
);

/** Keys no schema has: marked, empty, and the ones that trip naive object handling. */
const strangeKey = fc.oneof(marked, fc.constantFrom('__proto__', 'constructor', 'toString', ''));

/** Objects over a schema's fields: valid ones, and ones with one field broken or one key too many. */
interface Shapes<T> {
  valid: fc.Arbitrary<Partial<Record<string, T>>>;
  broken: fc.Arbitrary<Partial<Record<string, T>>>;
}

function shapes<T>(
  fields: Record<string, fc.Arbitrary<T>>,
  bad: fc.Arbitrary<T>,
  required: readonly string[] = [],
): Shapes<T> {
  const valid = fc.record(fields, { requiredKeys: [...required] });
  const key = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...Object.keys(fields)) }, strangeKey);
  const broken = fc
    .tuple(valid, key, bad)
    .map(([object, name, value]): Partial<Record<string, T>> => ({ ...object, [name]: value }));
  return { valid, broken };
}

/** The query fields of each listing (api/*-routes.ts), valid values only; checked against the OpenAPI document below. */
const QUERIES: Record<string, Record<string, fc.Arbitrary<string>>> = {
  '/v1/findings': {
    identity: marked,
    detector: fc.oneof(marked, fc.constantFrom('scope_drift', 'tool_chain')),
    severity: fc.constantFrom(...SEVERITIES),
    status: fc.constantFrom(...FINDING_STATUSES),
    from: timestampText,
    to: timestampText,
    min_score: fc.double({ min: 0, max: 1, noNaN: true }).map(String),
    q: marked,
    sort: fc.constantFrom('id', 'time', 'score'),
    limit: intText(1, 1000),
    cursor: fc.oneof(marked, positionText),
  },
  '/v1/identities': {
    lifecycle: fc.constantFrom(...LIFECYCLE_STATES),
    registered: fc.constantFrom('true', 'false'),
    sort: fc.constantFrom('risk', 'last_seen', 'id'),
    limit: intText(1, 10_000),
    offset: intText(0, 1_000_000),
  },
  '/v1/audit': {
    from: timestampText,
    to: timestampText,
    key_id: fc.oneof(marked, fc.stringMatching(/^[0-9a-f]{12}$/)),
    status: intText(100, 599),
    limit: intText(1, 10_000),
  },
  '/v1/review': { from: recentText, to: recentText, format: fc.constantFrom('json', 'csv') },
  '/v1/identities/{identity}/review': {
    from: recentText,
    to: recentText,
    format: fc.constantFrom('json', 'archive'),
  },
};

/** Query text encodeURIComponent never makes: stray `%`, `&`, `=`, brackets, bad escapes. */
const rawQuery = fc.string({
  unit: fc.constantFrom(
    'a',
    '1',
    '=',
    '&',
    '%',
    '+',
    '[',
    ']',
    '.',
    ';',
    '%00',
    '%zz',
    '%E0%A4',
    '%C0%80',
    '%FF',
  ),
  maxLength: 12,
});

/**
 * Query strings over `fields`: valid, one field broken, or anything (repeated keys, unknown keys,
 * raw text); with the marked values they carry.
 */
function queryString(
  fields: Record<string, fc.Arbitrary<string>>,
): fc.Arbitrary<{ query: string; values: string[] }> {
  const { valid, broken } = shapes(fields, fc.oneof(marked, junk));
  const anything = fc.tuple(
    valid,
    fc.array(fc.tuple(fc.oneof(strangeKey, fc.constantFrom(...Object.keys(fields))), junk), { maxLength: 4 }),
    rawQuery,
  );
  const asPairs = (object: Partial<Record<string, string>>): [string, string][] =>
    Object.entries(object).filter((pair): pair is [string, string] => pair[1] !== undefined);
  return fc
    .oneof(
      { weight: 4, arbitrary: valid.map((object) => ({ pairs: asPairs(object), raw: '' })) },
      { weight: 3, arbitrary: broken.map((object) => ({ pairs: asPairs(object), raw: '' })) },
      {
        weight: 1,
        arbitrary: anything.map(([object, more, raw]) => ({ pairs: [...asPairs(object), ...more], raw })),
      },
    )
    .map(({ pairs, raw }) => ({
      query: [...pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`), raw]
        .filter((part) => part !== '')
        .join('&'),
      values: markedStrings(pairs),
    }));
}

/** What breaks a body field: marked text, any JSON, text longer than any field allows. */
const badValue = fc.oneof(marked, json, fc.string({ minLength: 4001, maxLength: 4100 }));

/** Valid bodies, bodies with one field broken, any JSON, any object. */
function bodies(
  fields: Record<string, fc.Arbitrary<unknown>>,
  required: readonly string[] = [],
): fc.Arbitrary<unknown> {
  const { valid, broken } = shapes(fields, badValue, required);
  return fc.oneof(
    { weight: 4, arbitrary: valid },
    { weight: 4, arbitrary: broken },
    { weight: 1, arbitrary: json },
    { weight: 1, arbitrary: fc.dictionary(fc.oneof(marked, anyText), fc.oneof(marked, json)) },
  );
}

/** A nested object: mostly valid, sometimes with one field broken. */
function nested(
  fields: Record<string, fc.Arbitrary<unknown>>,
  required: readonly string[] = [],
): fc.Arbitrary<unknown> {
  const { valid, broken } = shapes(fields, badValue, required);
  return fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: broken });
}

/** Text a field of at most `max` characters accepts: mostly marked, up to the limit. */
const text = (max: number): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 6, arbitrary: marked },
    { weight: 1, arbitrary: anyText },
    { weight: 1, arbitrary: fc.string({ minLength: max - 5, maxLength: max }) },
  );

/** Fields of the triage body (api/findings-routes.ts TriageBody). */
const TRIAGE_FIELDS: Record<string, fc.Arbitrary<unknown>> = {
  status: fc.constantFrom(...FINDING_STATUSES),
  note: text(4000),
  assignee: text(200),
  // Allow rules only go with a closing status: mostly none, so most triage bodies stay valid.
  allow: fc.oneof(
    { weight: 3, arbitrary: fc.constant([]) },
    {
      weight: 1,
      arbitrary: fc.array(
        nested({ kind: fc.constantFrom(...TERM_KINDS), value: text(512) }, ['kind', 'value']),
        {
          minLength: 1,
          maxLength: 2,
        },
      ),
    },
  ),
};
/** Fields of a key (api/access-routes.ts CreateKey). */
const KEY_FIELDS: Record<string, fc.Arbitrary<unknown>> = {
  role: fc.constantFrom(...ROLES),
  name: text(200),
};
/** Timestamps of any year ISO 8601 can spell, and recent ones. */
const timestampValue = fc.oneof(anyIsoText, isoText(0, END_OF_TIME), fc.constant(null));
const globs = fc.array(fc.oneof(marked, fc.constantFrom('*', 'github.*', 'deploy:*-prod')), { maxLength: 3 });
/** Fields of a registry entry (detectors/registry.ts IdentitySchema). */
const identityFields = (id: string): Record<string, fc.Arbitrary<unknown>> => ({
  id: fc.constant(id),
  type: fc.constantFrom(...IDENTITY_TYPES),
  owner: text(256),
  purpose: text(2048),
  state: fc.constantFrom(...LIFECYCLE_STATES),
  state_changed_at: timestampValue,
  credentials: fc.array(
    nested({ id: marked, state: fc.constantFrom(...LIFECYCLE_STATES), revoked_at: timestampValue }, ['id']),
    { maxLength: 3 },
  ),
  scope: fc.oneof(
    fc.constant(null),
    nested({
      tools: globs,
      resources: globs,
      egress_domains: globs,
      approval_required: fc.array(
        fc.oneof(
          fc.constantFrom('deploy', 'github.*'),
          nested({ match: fc.constantFrom('deploy', 'iam:*', 'github.*'), resources: globs }, ['match']),
        ),
        { maxLength: 2 },
      ),
    }),
  ),
});

/** Path ids: marked, arbitrary, boundary lengths, hex key ids, the real finding, raw bytes. */
const pathId = fc.oneof(
  { weight: 4, arbitrary: marked.map(encodeURIComponent) },
  { weight: 2, arbitrary: anyText.map(encodeURIComponent) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(64, 65, 100, 101, 256, 257)
      .map((n) => encodeURIComponent(`${MARK}${'y'.repeat(n)}`.slice(0, n))),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[0-9a-f]{12}$/) },
  { weight: 2, arbitrary: fc.constant('{finding}') },
  { weight: 1, arbitrary: rawQuery },
);

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

describe('properties', () => {
  let app: FastifyInstance;
  let sawMarkedParams = false;
  /** Requests of the current property that got past validation (a 2xx, or a 404 for an unknown id). */
  let reached = 0;

  beforeAll(() => {
    app = api();
    return async () => {
      await app.close();
    };
  });

  /** Sends one request as admin: never a 5xx, and no SQL text holds any marked value it carried. */
  async function holds(request: Request, carried: readonly string[]): Promise<void> {
    const { recorder, errors } = fx();
    recorder.calls.length = 0;
    errors.length = 0;
    const response = await send(app, { ...request, headers: headersFor('admin') });
    const what = `${request.method} ${request.url} ${request.body ?? ''} → ${String(response.statusCode)} ${response.body} ${errors.join('')}`;
    expect(response.statusCode, what).toBeLessThan(500);
    const leaked = recorder.calls.filter(
      ({ sql }) => sql.toLowerCase().includes(MARK_CORE) || carried.some((v) => sql.includes(v)),
    );
    expect(leaked, what).toEqual([]);
    if (response.statusCode < 300 || response.statusCode === 404) reached += 1;
    if (recorder.calls.some(({ params }) => JSON.stringify(params).includes(MARK_CORE)))
      sawMarkedParams = true;
  }

  /** Checks a property over RUNS requests, enough of which must reach storage to mean something. */
  async function assertRuns<Ts extends unknown[]>(property: fc.IAsyncProperty<Ts>): Promise<void> {
    reached = 0;
    await fc.assert(property, { numRuns: RUNS });
    expect(reached, 'requests that got past validation').toBeGreaterThanOrEqual(RUNS / 5);
  }

  it('the generators use the documented fields', async () => {
    const documented = await documentedRoutes();
    for (const [path, fields] of Object.entries(QUERIES)) {
      const route = `GET ${path.replace('{identity}', ':id')}`;
      const queryFields = documented.get(route)?.filter((name) => name !== 'id');
      expect(Object.keys(fields).sort(), path).toEqual(queryFields?.sort());
    }
    expect(['id', ...Object.keys(TRIAGE_FIELDS)].sort()).toEqual(
      documented.get('PATCH /v1/findings/:id')?.sort(),
    );
    expect(Object.keys(KEY_FIELDS).sort()).toEqual(documented.get('POST /v1/keys')?.sort());
  });

  it.each(Object.entries(QUERIES))('GET %s: any query string', async (path, fields) => {
    await assertRuns(
      fc.asyncProperty(queryString(fields), async ({ query, values }) => {
        await holds({ method: 'GET', url: `${fill(path)}?${query}` }, values);
      }),
    );
  });

  it('GET (and DELETE) …/:id: any id', async () => {
    const routes = fc.constantFrom(
      { method: 'GET', path: (id: string) => `/v1/findings/${id}` },
      { method: 'GET', path: (id: string) => `/v1/findings/${id}/triage` },
      { method: 'GET', path: (id: string) => `/v1/findings/${id}/evidence` },
      { method: 'GET', path: (id: string) => `/v1/identities/${id}` },
      { method: 'GET', path: (id: string) => `/v1/identities/${id}/review` },
      { method: 'DELETE', path: (id: string) => `/v1/keys/${id}` },
    );
    await assertRuns(
      fc.asyncProperty(routes, pathId, async (route, id) => {
        const url = route.path(fill(id));
        await holds(
          { method: route.method === 'GET' ? 'GET' : 'DELETE', url },
          markedStrings(safeDecode(id)),
        );
      }),
    );
  });

  it('PATCH /v1/findings/:id: any body', async () => {
    const target = fc.oneof(
      { weight: 3, arbitrary: fc.constant('{finding}') },
      { weight: 1, arbitrary: pathId },
    );
    await assertRuns(
      fc.asyncProperty(target, bodies(TRIAGE_FIELDS, ['status']), async (id, body) => {
        await holds({ method: 'PATCH', url: `/v1/findings/${fill(id)}`, body: JSON.stringify(body) }, [
          ...markedStrings(safeDecode(id)),
          ...markedStrings(body),
        ]);
      }),
    );
  });

  it('PUT /v1/identities/:id: any body', async () => {
    const id = fc.oneof(fc.constant('contract-prop-bot'), marked);
    const request = id.chain((identity) => fc.tuple(fc.constant(identity), bodies(identityFields(identity))));
    await assertRuns(
      fc.asyncProperty(request, async ([identity, body]) => {
        const url = `/v1/identities/${encodeURIComponent(identity)}`;
        await holds({ method: 'PUT', url, body: JSON.stringify(body) }, [
          ...markedStrings(identity),
          ...markedStrings(body),
        ]);
      }),
    );
  });

  it('POST /v1/keys: any body', async () => {
    await assertRuns(
      fc.asyncProperty(bodies(KEY_FIELDS, ['role', 'name']), async (body) => {
        await holds({ method: 'POST', url: '/v1/keys', body: JSON.stringify(body) }, markedStrings(body));
      }),
    );
  });

  it('was not vacuous: marked values did reach ClickHouse, as parameters', () => {
    expect(sawMarkedParams).toBe(true);
  });
});
