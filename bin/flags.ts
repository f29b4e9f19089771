import type { parseArgs } from 'node:util';

/** The CLI's flags, and how they become config overrides and typed options. */

export const OPTIONS = {
  'data-dir': { type: 'string' },
  'clickhouse-url': { type: 'string' },
  brokers: { type: 'string' },
  topic: { type: 'string' },
  partitions: { type: 'string' },
  port: { type: 'string' },
  'log-level': { type: 'string' },
  input: { type: 'string' },
  baseline: { type: 'string' },
  out: { type: 'string' },
  identities: { type: 'string' },
  identity: { type: 'string' },
  format: { type: 'string' },
  demo: { type: 'boolean' },
  rate: { type: 'string' },
  duration: { type: 'string' },
  count: { type: 'string' },
  seed: { type: 'string' },
  url: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean' },
  pubkey: { type: 'string' },
  role: { type: 'string' },
  name: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  fleet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type Flags = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>
>['values'];

/** CLI flags → config overrides (same paths as the environment variables). */
export function overridesFrom(flags: Flags): Record<string, unknown> {
  const prune = (o: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return {
    ...prune({ dataDir: flags['data-dir'], logLevel: flags['log-level'] }),
    detect: prune({ identitiesFile: flags.identities }),
    clickhouse: prune({ url: flags['clickhouse-url'] }),
    kafka: prune({ brokers: flags.brokers, topic: flags.topic, partitions: flags.partitions }),
    api: prune({ port: flags.port }),
    client: prune({ apiUrl: flags.url, apiKey: flags.key }),
  };
}

export function positiveIntFlag(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got "${value}"`);
  return n;
}
