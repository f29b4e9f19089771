import { createHash } from 'node:crypto';
import { redactJson, redactString, redactStringMap } from './redaction/index.js';
import type { ActionRow, MessageCoordinates, RedactionRow } from '../model/rows.js';
import { SCHEMA_VERSION, type ActionEvent } from '../model/action.js';

/**
 * Validated wire event → flat ClickHouse row, with every secret removed on the way. Pure.
 */

export interface NormalizeContext {
  format: string;
  coordinates: MessageCoordinates;
  /** The message bytes, for deriving an event id when the producer sent none. */
  raw: Buffer;
  /** Position of this event inside its message (adapters may unpack several events from one). */
  index: number;
  argsMaxBytes: number;
}

/**
 * Deterministic id for events without `event_id`: the same bytes from the same source always
 * get the same id, so replaying a file or re-reading a topic deduplicates.
 */
export function deriveEventId(source: string, raw: Buffer, index: number): string {
  const hash = createHash('sha256').update(source).update('\n').update(raw);
  if (index > 0) hash.update(`\n#${String(index)}`);
  return `sw1-${hash.digest('hex').slice(0, 32)}`;
}

const PREVIEW_CHARS = 1024;

/** Serialise redacted args; oversized ones keep a preview, their size and a hash instead of the whole. */
export function capArgs(redactedArgs: unknown, maxBytes: number): { args: string; bytes: number } {
  if (redactedArgs === undefined) return { args: '', bytes: 0 };
  const text = JSON.stringify(redactedArgs);
  const bytes = Buffer.byteLength(text);
  if (bytes <= maxBytes) return { args: text, bytes };
  const summary = {
    _truncated: true,
    bytes,
    sha256: createHash('sha256').update(text).digest('hex'),
    preview: text.slice(0, Math.min(PREVIEW_CHARS, Math.floor(maxBytes / 2))),
  };
  return { args: JSON.stringify(summary), bytes };
}

/** Hostnames compare case-insensitively and may carry a trailing root dot. */
export function normalizeDomain(domain: string | undefined): string {
  if (!domain) return '';
  return domain.trim().toLowerCase().replace(/\.$/, '');
}

/** Redacts one free-text field, recording where a secret was found. */
function redactField(value: string | undefined, path: string, redactions: RedactionRow[]): string {
  if (!value) return '';
  const result = redactString(value, path);
  for (const r of result.redactions) redactions.push({ path, kind: r.kind, fingerprint: r.fingerprint });
  return result.text;
}

/** A whole AWS access key id: the public half of a key pair, logged by AWS itself (CloudTrail). */
const AWS_ACCESS_KEY_ID = /^(AKIA|ASIA|AROA|AIDA)[A-Z0-9]{16}$/;

/**
 * `identity.credential` is by contract an identifier of the credential, and revocation matches
 * on it, so a bare AWS access key id stays readable there. Anything else is scanned as usual:
 * a producer that puts a token in this field gets it redacted like everywhere else.
 */
function credentialId(value: string | undefined, redactions: RedactionRow[]): string {
  if (value && AWS_ACCESS_KEY_ID.test(value)) return value;
  return redactField(value, 'identity.credential', redactions);
}

export function normalizeEvent(event: ActionEvent, ctx: NormalizeContext): ActionRow {
  const redactions: RedactionRow[] = [];
  const field = (value: string | undefined, path: string): string => redactField(value, path, redactions);

  let args: { args: string; bytes: number } = { args: '', bytes: 0 };
  if (event.args !== undefined) {
    const redacted = redactJson(event.args, 'args');
    redactions.push(...redacted.redactions);
    args = capArgs(redacted.value, ctx.argsMaxBytes);
  }
  let attributes: Record<string, string> = {};
  if (event.attributes !== undefined) {
    const redacted = redactStringMap(event.attributes, 'attributes');
    redactions.push(...redacted.redactions);
    attributes = redacted.map;
  }

  const source = event.source?.system ?? ctx.format;
  return {
    event_id: event.event_id ?? deriveEventId(source, ctx.raw, ctx.index),
    ts: event.ts,
    schema_version: SCHEMA_VERSION,
    source_format: ctx.format,
    identity_id: event.identity.id,
    identity_type: event.identity.type ?? '',
    identity_owner: field(event.identity.owner, 'identity.owner'),
    identity_instance: field(event.identity.instance, 'identity.instance'),
    identity_credential: credentialId(event.identity.credential, redactions),
    session: field(event.session, 'session'),
    action: event.action,
    tool: field(event.tool, 'tool'),
    resource_type: event.resource?.type ?? '',
    resource_id: field(event.resource?.id, 'resource.id'),
    target_domain: normalizeDomain(event.target_domain),
    permission: event.permission ?? '',
    outcome: event.outcome ?? 'unknown',
    approval_id: field(event.approval?.id, 'approval.id'),
    approval_by: field(event.approval?.by, 'approval.by'),
    on_behalf_of: field(event.on_behalf_of, 'on_behalf_of'),
    source_system: event.source?.system ?? '',
    source_ip: event.source?.ip ?? '',
    source_user_agent: field(event.source?.user_agent, 'source.user_agent'),
    args: args.args,
    args_bytes: args.bytes,
    attributes,
    redactions,
    kafka_topic: ctx.coordinates.topic,
    kafka_partition: ctx.coordinates.partition,
    kafka_offset: ctx.coordinates.offset,
  };
}
