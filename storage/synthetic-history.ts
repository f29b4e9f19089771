import type { SqlGateway } from './gateway.js';

/**
 * A fleet's worth of past activity generated inside ClickHouse (`bench:detect`): per identity
 * about 12 tools from a pool, resources tied to tools, a few domains, sessions of 50 events.
 * Written to `actions`, so the materialized views build the baselines as they would from ingest.
 */
export async function writeSyntheticHistory(
  ch: SqlGateway,
  fleet: { start: number; span: number; events: number; identities: number },
): Promise<void> {
  await ch.command(
    `INSERT INTO ${ch.table('actions')} (event_id, ts, schema_version, source_format, identity_id, identity_type, session,
       action, tool, resource_type, resource_id, target_domain, outcome, kafka_topic)
     SELECT
       concat('h-', toString(number)),
       fromUnixTimestamp64Milli(toInt64({start:Float64} + number * {step:Float64}), 'UTC'),
       'scopewatch.action/v1', 'canonical',
       concat('agent-', toString(number % {ids:UInt64})) AS id,
       'agent',
       concat(id, '-s', toString(intDiv(number, {ids:UInt64} * 50))),
       ['tool.call', 'api.call', 'data.read', 'data.write', 'code.commit'][1 + cityHash64(number, 1) % 5],
       concat('tool-', toString((number % {ids:UInt64}) % 89 + cityHash64(number, 2) % 12) AS t) AS tool,
       'repo',
       concat('org-', toString((number % {ids:UInt64}) % 50), '/repo-', toString((cityHash64(t) + cityHash64(number, 3) % 4) % 40)),
       if(cityHash64(number, 4) % 5 = 0,
          concat('api', toString(cityHash64(number, 5) % 4), '.svc', toString((number % {ids:UInt64}) % 30), '.example.com'), ''),
       'success',
       'bench'
     FROM numbers({n:UInt64})`,
    { start: fleet.start, step: fleet.span / fleet.events, ids: fleet.identities, n: fleet.events },
    { max_insert_threads: '2' },
  );
}
