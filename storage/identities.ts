import { z } from 'zod';
import { IDENTITY_TYPES } from '../model/action.js';
import { LIFECYCLE_STATES, type IdentityRecord } from '../model/identity.js';
import type { BaselinesRepository } from './baselines.js';
import type { SqlGateway } from './gateway.js';

/**
 * The `identities` table: the registry file synced in, identities seen only in events recorded
 * as unregistered.
 */

const Row = z.object({
  id: z.string(),
  type: z.enum(IDENTITY_TYPES).catch('agent'),
  owner: z.string(),
  purpose: z.string(),
  state: z.enum(LIFECYCLE_STATES).catch('active'),
  state_changed_at: z.number().nullable(),
  credentials: z.array(
    z.object({
      id: z.string(),
      state: z.enum(LIFECYCLE_STATES).catch('active'),
      revoked_at: z.number().nullable(),
    }),
  ),
  scope_json: z.string(),
  registered: z.number(),
});

const Scope = z.object({
  tools: z.array(z.string()),
  resources: z.array(z.string()),
  egressDomains: z.array(z.string()),
  // Rows written before approval rules could name resources hold plain strings.
  approvalRequired: z.array(
    z.union([
      z.string().transform((match) => ({ match, resources: [] as string[] })),
      z.object({ match: z.string(), resources: z.array(z.string()) }),
    ]),
  ),
});

export class IdentitiesRepository {
  constructor(
    private readonly ch: SqlGateway,
    private readonly baselines: BaselinesRepository,
  ) {}

  async upsert(records: readonly IdentityRecord[], source: 'file' | 'api'): Promise<void> {
    if (records.length === 0) return;
    const now = Date.now();
    await this.ch.insert(
      'identities',
      records.map((r) => ({
        id: r.id,
        type: r.type,
        owner: r.owner,
        purpose: r.purpose,
        state: r.state,
        state_changed_at: r.stateChangedAt,
        credentials: r.credentials.map((c) => ({ id: c.id, state: c.state, revoked_at: c.revokedAt })),
        scope_json: r.scope ? JSON.stringify(r.scope) : '',
        registered: r.registered ? 1 : 0,
        source,
        first_seen: null,
        updated_at: now,
      })),
    );
  }

  /** When any identity was last written (ms; 0 when none was): a cheap "did the registry change". */
  async lastUpdate(): Promise<number> {
    const [row] = await this.ch.query<{ at: number }>(
      `SELECT toFloat64(toUnixTimestamp64Milli(max(updated_at))) AS at FROM ${this.ch.table('identities')}`,
    );
    return row?.at ?? 0;
  }

  /** The latest version of every identity. */
  loadAll(): Promise<Map<string, IdentityRecord>> {
    return this.load('1', {});
  }

  /** The latest version of these identities (those never registered nor seen are absent). */
  byIds(ids: readonly string[]): Promise<Map<string, IdentityRecord>> {
    if (ids.length === 0) return Promise.resolve(new Map<string, IdentityRecord>());
    return this.load('id IN {ids:Array(String)}', { ids: [...new Set(ids)] });
  }

  private async load(where: string, params: Record<string, unknown>): Promise<Map<string, IdentityRecord>> {
    const rows = await this.ch.query<unknown>(
      `SELECT id, type, owner, purpose, state,
                if(isNull(sca), NULL, toFloat64(toUnixTimestamp64Milli(assumeNotNull(sca)))) AS state_changed_at,
                arrayMap(c -> (c.1, c.2, if(isNull(c.3), NULL, toFloat64(toUnixTimestamp64Milli(assumeNotNull(c.3))))), creds) AS credentials,
                scope_json, toFloat64(registered) AS registered
              FROM (SELECT *, state_changed_at AS sca, credentials AS creds FROM ${this.ch.table('identities')} FINAL
                    WHERE ${where})
              ORDER BY id`,
      params,
    );
    const out = new Map<string, IdentityRecord>();
    for (const raw of rows) {
      const row = Row.parse(normalizeCredentials(raw));
      out.set(row.id, {
        id: row.id,
        type: row.type,
        owner: row.owner,
        purpose: row.purpose,
        state: row.state,
        stateChangedAt: row.state_changed_at,
        credentials: row.credentials.map((c) => ({ id: c.id, state: c.state, revokedAt: c.revoked_at })),
        scope: row.scope_json ? Scope.parse(JSON.parse(row.scope_json)) : null,
        registered: row.registered === 1,
      });
    }
    return out;
  }

  /**
   * Records which of these identities (the ones a detection pass just met) the registry does
   * not know yet, as unregistered. Only these ids are looked up, so a pass costs what it
   * touched, not a scan of every baseline. Registered identities are never overwritten.
   * Returns how many were new.
   */
  async recordUnregistered(identityIds: readonly string[]): Promise<number> {
    if (identityIds.length === 0) return 0;
    const known = await this.ch.query<{ id: string }>(
      `SELECT DISTINCT id FROM ${this.ch.table('identities')} WHERE id IN {ids:Array(String)}`,
      { ids: identityIds },
    );
    const seen = new Set(known.map((r) => r.id));
    const missing = [...new Set(identityIds)].filter((id) => !seen.has(id));
    if (missing.length === 0) return 0;
    const first = await this.baselines.firstSeen(missing);
    const now = Date.now();
    await this.ch.insert(
      'identities',
      missing.map((id) => ({
        id,
        type: 'agent',
        owner: '',
        purpose: '',
        state: 'active',
        state_changed_at: null,
        credentials: [],
        scope_json: '',
        registered: 0,
        source: 'events',
        first_seen: first.get(id) ?? null,
        updated_at: now,
      })),
    );
    return missing.length;
  }
}

/** Tuples arrive as arrays: name their fields for validation. */
function normalizeCredentials(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null) return raw;
  const row = raw as Record<string, unknown>;
  const creds = Array.isArray(row.credentials) ? row.credentials : [];
  return {
    ...row,
    credentials: creds.map((c: unknown) =>
      Array.isArray(c) ? { id: c[0] as unknown, state: c[1] as unknown, revoked_at: c[2] as unknown } : c,
    ),
  };
}
