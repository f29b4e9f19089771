/**
 * The source formats scopewatch reads, by the name used in the `format` Kafka header,
 * SCOPEWATCH_TOPIC_FORMATS and `--format`. Kept here, apart from the adapters, so the
 * configuration can reject an unknown name before anything connects; ingest/adapters has one
 * adapter per name (a unit test holds the two lists together).
 */
export const SOURCE_FORMATS = ['canonical', 'otel', 'mcp', 'cloudtrail', 'github'] as const;
export type SourceFormat = (typeof SOURCE_FORMATS)[number];

export function isSourceFormat(name: string): name is SourceFormat {
  return (SOURCE_FORMATS as readonly string[]).includes(name);
}
