import { z } from 'zod';
import type { SqlGateway } from './gateway.js';
import { dt, END_OF_TIME_MS } from './sql-values.js';

/**
 * `api_keys` (keys created at run time: role, name and the SHA-256 of the secret, never the
 * secret) and `api_audit` (one row per /v1 request, allowed or denied).
 */

export interface StoredApiKey {
  key_id: string;
  role: string;
  name: string;
  /** Hex SHA-256 of the secret. */
  hash: string;
  created_at: number;
  created_by: string;
  revoked_at: number | null;
}

export interface AuditRow {
  at: number;
  key_id: string;
  role: string;
  method: string;
  route: string;
  url: string;
  status: number;
  latency_ms: number;
  ip: string;
}

export interface AuditFilter {
  from?: number;
  to?: number;
  key_id?: string;
  status?: number;
}

const KeyRow = z.object({
  key_id: z.string(),
  role: z.string(),
  name: z.string(),
  hash: z.string(),
  created_at: z.number(),
  created_by: z.string(),
  revoked_at: z.number().nullable(),
});

export class ApiAccessRepository {
  constructor(private readonly ch: SqlGateway) {}

  async createKey(key: Omit<StoredApiKey, 'revoked_at'>): Promise<void> {
    await this.ch.insert('api_keys', [{ ...key, revoked_at: null, updated_at: key.created_at }]);
  }

  /** Every key ever created (revoked ones with revoked_at), newest first. */
  keys(): Promise<StoredApiKey[]> {
    return this.selectKeys('1', {});
  }

  private async selectKeys(where: string, params: Record<string, unknown>): Promise<StoredApiKey[]> {
    // Filter and order inside: the output aliases must not shadow the columns.
    const rows = await this.ch.query<unknown>(
      `SELECT key_id, role, name, toString(hash) AS hash,
              toFloat64(toUnixTimestamp64Milli(created_at)) AS created_at, created_by,
              if(isNull(revoked_at), NULL, toFloat64(toUnixTimestamp64Milli(assumeNotNull(revoked_at)))) AS revoked_at
       FROM (SELECT * FROM ${this.ch.table('api_keys')} FINAL WHERE ${where} ORDER BY created_at DESC, key_id)`,
      params,
    );
    return rows.map((r) => KeyRow.parse(r));
  }

  /** Revokes a key; false when there is no such key (or it was revoked already). */
  async revokeKey(keyId: string, at: number): Promise<boolean> {
    const [key] = await this.selectKeys('key_id = {id:String}', { id: keyId });
    if (!key || key.revoked_at !== null) return false;
    await this.ch.insert('api_keys', [{ ...key, revoked_at: at, updated_at: at }]);
    return true;
  }

  async audit(rows: readonly AuditRow[]): Promise<void> {
    await this.ch.insert('api_audit', rows);
  }

  async auditLog(filter: AuditFilter, limit: number): Promise<AuditRow[]> {
    // The filter runs in a subquery: the output aliases (`at`, `status`) must not shadow the columns.
    return this.ch.query<AuditRow>(
      `SELECT toFloat64(toUnixTimestamp64Milli(at)) AS at, key_id, toString(role) AS role,
              toString(method) AS method, toString(route) AS route, url, toUInt32(status) AS status,
              latency_ms, ip
       FROM (SELECT * FROM ${this.ch.table('api_audit')}
             WHERE at >= {from:DateTime64(3)} AND at <= {to:DateTime64(3)}
               AND ({key:String} = '' OR key_id = {key:String})
               AND ({status:UInt16} = 0 OR status = {status:UInt16})
             ORDER BY at DESC LIMIT {limit:UInt32})
       ORDER BY at DESC`,
      {
        from: dt(filter.from ?? 0),
        to: dt(filter.to ?? END_OF_TIME_MS),
        key: filter.key_id ?? '',
        status: filter.status ?? 0,
        limit,
      },
    );
  }
}
