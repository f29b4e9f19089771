/**
 * Maps one decoded message of a source format to canonical event candidates (validated
 * afterwards). Throws AdapterError naming the field when the record is not of its format;
 * returns [] when the record is valid but describes nothing to record (→ DROP).
 */
export interface FormatAdapter {
  readonly name: string;
  toEvents(json: Record<string, unknown>): unknown[];
}

/** scopewatch.action/v1 itself: the message is the event. */
export const canonicalAdapter: FormatAdapter = {
  name: 'canonical',
  toEvents: (json) => [json],
};
