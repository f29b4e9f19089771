import { formatZodIssues } from '../common/zod-issues.js';
import { ActionEventSchema, type ActionEvent } from '../model/action.js';
import type { ActionRow } from '../model/rows.js';
import type { FormatAdapter } from './adapters/types.js';
import { decodeMessage } from './decode.js';
import type { RawMessage } from './message.js';
import { normalizeEvent } from './normalize.js';
import { dlq, type StepResult } from './result.js';

/**
 * The ingest steps, each a small named factory returning a pure function that answers with a
 * StepResult: the pipeline (pipeline.ts) runs them in order and stops at the first dlq or drop.
 */

const MAX_REPORTED_ISSUES = 5;

/** The message's format → its adapter (before decoding: an unknown format is the first thing wrong). */
export function selectAdapterStep(
  adapters: readonly FormatAdapter[],
): (message: RawMessage) => StepResult<{ adapter: FormatAdapter }> {
  const byName = new Map(adapters.map((a) => [a.name, a]));
  const known = [...byName.keys()].join(', ');
  return (message) => {
    const adapter = byName.get(message.format);
    return adapter
      ? { kind: 'ok', adapter }
      : dlq('unknown_format', `unknown format "${message.format}" (known: ${known})`);
  };
}

/** Bytes → one JSON object (size, UTF-8, JSON, object checks). */
export function decodeStep(
  maxMessageBytes: number,
): (message: RawMessage) => StepResult<{ json: Record<string, unknown> }> {
  return (message) => decodeMessage(message.value, maxMessageBytes);
}

/** A source record → canonical event candidates, through the format's adapter. */
export function adaptStep(): (
  adapter: FormatAdapter,
  json: Record<string, unknown>,
) => StepResult<{ candidates: readonly unknown[] }> {
  return (adapter, json) => {
    let adapted;
    try {
      adapted = adapter.adapt(json);
    } catch (error) {
      // A bug in an adapter must not stop the consumer on one message (it would be redelivered
      // forever): dead-letter it with the error, where it can be found and replayed once fixed.
      return dlq('unmappable', `${adapter.name}: adapter failed: ${String(error)}`);
    }
    switch (adapted.kind) {
      case 'events':
        return { kind: 'ok', candidates: adapted.events };
      case 'invalid':
        return dlq('unmappable', `${adapter.name}: ${adapted.field}: ${adapted.problem}`);
      case 'drop':
        return adapted;
    }
  };
}

/** Candidates → validated `scopewatch.action/v1` events; the first invalid one rejects the message. */
export function validateStep(): (
  format: string,
  candidates: readonly unknown[],
) => StepResult<{ events: ActionEvent[] }> {
  return (format, candidates) => {
    const events: ActionEvent[] = [];
    for (const [index, candidate] of candidates.entries()) {
      const parsed = ActionEventSchema.safeParse(candidate);
      if (!parsed.success) {
        const prefix = candidates.length > 1 ? `event ${String(index)}: ` : '';
        const issues = formatZodIssues(parsed.error.issues, { prefix, max: MAX_REPORTED_ISSUES });
        return dlq('schema_violation', `${format}: ${issues}`);
      }
      events.push(parsed.data);
    }
    return { kind: 'ok', events };
  };
}

/** Events → rows to store: flattened, ids derived where missing, secrets redacted, args capped. */
export function normalizeStep(
  argsMaxBytes: number,
): (message: RawMessage, events: readonly ActionEvent[]) => { rows: ActionRow[] } {
  return (message, events) => {
    const raw = message.value ?? Buffer.alloc(0);
    return {
      rows: events.map((event, index) =>
        normalizeEvent(event, {
          format: message.format,
          coordinates: message.coordinates,
          raw,
          index,
          argsMaxBytes,
        }),
      ),
    };
  };
}
