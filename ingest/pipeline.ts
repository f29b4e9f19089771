import type { IngestSettings } from '../common/config.js';
import type { ActionRow, IngestErrorRow } from '../model/rows.js';
import { ADAPTERS } from './adapters/index.js';
import type { FormatAdapter } from './adapters/types.js';
import { buildErrorRow } from './dead-letters.js';
import type { RawMessage } from './message.js';
import type { Dlq, Drop } from './result.js';
import { adaptStep, decodeStep, normalizeStep, selectAdapterStep, validateStep } from './steps.js';

/**
 * The per-message ingest pipeline, shared by the Kafka consumer and replay:
 * select adapter → decode → adapt (format → canonical candidates) → validate → normalize + redact.
 * Every message ends as exactly one result: ok (rows to write), dlq (why, with the error row to
 * record) or drop (nothing to keep, e.g. a tombstone). Pure: no I/O.
 */

/** A step result whose dead letter carries the `ingest_errors` row to record. */
export type PipelineResult = { kind: 'ok'; rows: ActionRow[] } | (Dlq & { error: IngestErrorRow }) | Drop;

export interface PipelineOptions extends Pick<IngestSettings, 'maxMessageBytes' | 'argsMaxBytes'> {
  adapters?: readonly FormatAdapter[];
}

export function createPipeline(options: PipelineOptions): (message: RawMessage) => PipelineResult {
  const selectAdapter = selectAdapterStep(options.adapters ?? ADAPTERS);
  const decode = decodeStep(options.maxMessageBytes);
  const adapt = adaptStep();
  const validate = validateStep();
  const normalize = normalizeStep(options.argsMaxBytes);

  /** The error row keeps the parsed JSON when there is one, so key-name redaction applies to it. */
  const rejected = (message: RawMessage, result: Dlq, parsed?: Record<string, unknown>): PipelineResult => ({
    ...result,
    error: buildErrorRow(message, result.reasonCode, result.reason, parsed),
  });

  return (message) => {
    const selected = selectAdapter(message);
    if (selected.kind === 'dlq') return rejected(message, selected);
    if (selected.kind === 'drop') return selected;
    const decoded = decode(message);
    if (decoded.kind === 'dlq') return rejected(message, decoded);
    if (decoded.kind === 'drop') return decoded;
    const adapted = adapt(selected.adapter, decoded.json);
    if (adapted.kind === 'dlq') return rejected(message, adapted, decoded.json);
    if (adapted.kind === 'drop') return adapted;
    const validated = validate(message.format, adapted.candidates);
    if (validated.kind === 'dlq') return rejected(message, validated, decoded.json);
    if (validated.kind === 'drop') return validated;
    return { kind: 'ok', ...normalize(message, validated.events) };
  };
}
