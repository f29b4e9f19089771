import { AdapterError, type Json } from './errors.js';

/**
 * What an adapter makes of one decoded message, as a value the pipeline switches on:
 * - `events`: one or more canonical event candidates (validated by the pipeline afterwards);
 * - `invalid`: not a record of this format; `field` is the path that failed, so the dead
 *   letter's reason reads `cloudtrail: userIdentity.arn: missing`;
 * - `drop`: a valid record that describes no action (an LLM `chat` span, an MCP `tools/list`,
 *   a CloudTrail Insights event): nothing to keep, and nothing wrong either.
 */
export type AdapterResult =
  | { kind: 'events'; events: readonly unknown[] }
  | { kind: 'invalid'; field: string; problem: string }
  | { kind: 'drop'; why: string };

export interface FormatAdapter {
  /** The name used in the `format` header, SCOPEWATCH_TOPIC_FORMATS and `--format`. */
  readonly name: string;
  adapt(json: Json): AdapterResult;
}

/** scopewatch.action/v1 itself: the message is the event. */
export const canonicalAdapter: FormatAdapter = {
  name: 'canonical',
  adapt: (json) => ({ kind: 'events', events: [json] }),
};

/**
 * An adapter from a pure mapping function. Mappers walk deeply nested source records and
 * throw AdapterError at the first field that fails (the way a parser unwinds); this is the one
 * place that turns that into a result, so nothing thrown for bad input leaves an adapter.
 * An empty mapping means the record held nothing to record: `nothing` says what that was.
 */
export function adapterOf(
  name: string,
  map: (json: Json) => readonly unknown[],
  nothing: string,
): FormatAdapter {
  return {
    name,
    adapt(json) {
      try {
        const events = map(json);
        return events.length > 0 ? { kind: 'events', events } : { kind: 'drop', why: `${name}: ${nothing}` };
      } catch (error) {
        if (error instanceof AdapterError)
          return { kind: 'invalid', field: error.field, problem: error.problem };
        throw error;
      }
    },
  };
}
