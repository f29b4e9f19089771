import { isTermKind, type Override } from '../model/terms.js';
import type { SqlGateway } from './gateway.js';
import { dt } from './sql-values.js';

/** `baseline_overrides`: triage decisions about baseline values (allow / exclude), latest per value. */

type OverrideRow = Omit<Override, 'kind' | 'effect'> & { kind: string; effect: string };

function toOverrides(rows: readonly OverrideRow[]): Override[] {
  return rows.flatMap((r) =>
    isTermKind(r.kind) && (r.effect === 'allow' || r.effect === 'exclude')
      ? [{ identity_id: r.identity_id, kind: r.kind, value: r.value, effect: r.effect }]
      : [],
  );
}

export class OverridesRepository {
  constructor(private readonly ch: SqlGateway) {}

  async forIdentities(identityIds: readonly string[]): Promise<Override[]> {
    if (identityIds.length === 0) return [];
    const rows = await this.ch.query<OverrideRow>(
      `SELECT identity_id, kind, value, effect FROM ${this.ch.table('baseline_overrides')} FINAL
       WHERE identity_id IN {ids:Array(String)} ORDER BY identity_id, kind, value`,
      { ids: identityIds },
    );
    return toOverrides(rows);
  }

  /** Decisions made after `since` (ms), in order, and the time of the latest. */
  async since(since: number): Promise<{ overrides: Override[]; latest: number }> {
    const rows = await this.ch.query<OverrideRow & { at: number }>(
      `SELECT identity_id, kind, value, effect, toFloat64(toUnixTimestamp64Milli(created_at)) AS at
       FROM ${this.ch.table('baseline_overrides')} FINAL
       WHERE created_at > {since:DateTime64(3)} ORDER BY created_at, identity_id, kind, value`,
      { since: dt(since) },
    );
    return { overrides: toOverrides(rows), latest: Math.max(since, ...rows.map((r) => r.at)) };
  }

  async add(override: Override, findingId: string): Promise<void> {
    await this.ch.insert('baseline_overrides', [
      { ...override, finding_id: findingId, created_at: Date.now() },
    ]);
  }
}
