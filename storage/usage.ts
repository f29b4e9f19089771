import { z } from 'zod';
import type { FleetUsage, UsageGroup } from '../model/usage.js';
import type { SqlGateway } from './gateway.js';
import { dt } from './sql-values.js';

/**
 * Usage read models for access reviews: one identity's actions in a period grouped by tool,
 * action, resource and destination, and every identity's distinct tools, resources and domains
 * in a period for the fleet table. Read with FINAL: a redelivered event must not count twice in
 * what an auditor is shown.
 */

/** Distinct values per identity the fleet table reads (enough to judge unused declared globs). */
export const FLEET_VALUES_CAP = 1000;

const FleetRow = z.object({
  identity_id: z.string(),
  events: z.number(),
  last_ts: z.number(),
  tools: z.array(z.string()),
  resources: z.array(z.tuple([z.string(), z.string()])),
  domains: z.array(z.string()),
});

export class UsageRepository {
  constructor(private readonly ch: SqlGateway) {}

  /** One identity's action groups in [from, to), busiest first, at most `cap` (`truncated` when more). */
  async groups(
    identityId: string,
    from: number,
    to: number,
    cap: number,
  ): Promise<{ groups: UsageGroup[]; truncated: boolean; sessions: number }> {
    const params = { id: identityId, from: dt(from), to: dt(to), cap: cap + 1 };
    const where = `identity_id = {id:String} AND ts >= {from:DateTime64(3)} AND ts < {to:DateTime64(3)}`;
    const actions = this.ch.table('actions');
    const [groups, [sessions]] = await Promise.all([
      this.ch.query<UsageGroup>(
        `SELECT tool, action, resource_type, resource_id, target_domain,
                toFloat64(count()) AS events,
                toFloat64(countIf(outcome IN ('failure', 'denied', 'error'))) AS failures,
                toFloat64(countIf(approval_id != '')) AS approved,
                toFloat64(toUnixTimestamp64Milli(min(ts))) AS first_ts,
                toFloat64(toUnixTimestamp64Milli(max(ts))) AS last_ts,
                arraySort(groupUniqArrayIf(5)(approval_by, approval_by != '')) AS approvers
         FROM ${actions} FINAL WHERE ${where}
         GROUP BY tool, action, resource_type, resource_id, target_domain
         ORDER BY events DESC, tool, action, resource_type, resource_id, target_domain
         LIMIT {cap:UInt32}`,
        params,
      ),
      this.ch.query<{ n: number }>(
        `SELECT toFloat64(uniqExact(session)) AS n FROM ${actions} WHERE ${where} AND session != ''`,
        params,
      ),
    ]);
    return { groups: groups.slice(0, cap), truncated: groups.length > cap, sessions: sessions?.n ?? 0 };
  }

  /** Every identity that acted in [from, to): events, last action, distinct tools, resources, domains. */
  async fleet(from: number, to: number): Promise<Map<string, FleetUsage>> {
    const rows = await this.ch.query<unknown>(
      `SELECT identity_id, toFloat64(count()) AS events,
              toFloat64(toUnixTimestamp64Milli(max(ts))) AS last_ts,
              groupUniqArray({cap:UInt32})(tool) AS tools,
              groupUniqArrayIf({cap:UInt32})((resource_type, resource_id), resource_id != '') AS resources,
              groupUniqArrayIf({cap:UInt32})(lower(target_domain), target_domain != '') AS domains
       FROM ${this.ch.table('actions')} FINAL
       WHERE ts >= {from:DateTime64(3)} AND ts < {to:DateTime64(3)}
       GROUP BY identity_id ORDER BY identity_id`,
      { from: dt(from), to: dt(to), cap: FLEET_VALUES_CAP },
    );
    const out = new Map<string, FleetUsage>();
    for (const raw of rows) {
      const row = FleetRow.parse(raw);
      out.set(row.identity_id, {
        ...row,
        tools: row.tools.sort(),
        resources: row.resources.map(([type, id]) => ({ type, id })),
        domains: row.domains.sort(),
      });
    }
    return out;
  }
}
