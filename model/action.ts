import { z } from 'zod';
import { DAY_MS } from '../common/time.js';

/**
 * scopewatch.action/v1 — the canonical wire event (contract, see DESIGN.md).
 * One JSON object per Kafka message or JSONL line, snake_case. Unknown top-level fields are
 * ignored rather than rejected so producers can add fields before scopewatch knows them.
 */

export const SCHEMA_VERSION = 'scopewatch.action/v1';

export const ACTION_CLASSES = [
  'tool.call',
  'api.call',
  'data.read',
  'data.write',
  'data.delete',
  'secret.read',
  'code.commit',
  'code.push',
  'deploy',
  'identity.change',
  'network.egress',
  'approval.grant',
  'auth',
  'other',
] as const;
export type ActionClass = (typeof ACTION_CLASSES)[number];

export const IDENTITY_TYPES = ['agent', 'service_account', 'api_key', 'workload', 'human'] as const;
export type IdentityType = (typeof IDENTITY_TYPES)[number];

export const OUTCOMES = ['success', 'failure', 'denied', 'error', 'unknown'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Earliest and latest timestamps accepted: anything outside is a producer bug, not an event. */
const MIN_TS_MS = Date.UTC(2000, 0, 1);
const MAX_FUTURE_MS = DAY_MS;

const shortText = (max: number) => z.string().min(1).max(max);
const optionalText = (max: number) => z.string().max(max).optional();

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** `ts` as RFC 3339 text or epoch milliseconds, normalised to epoch ms. */
export const TimestampSchema = z
  .union([
    z.string().regex(RFC3339, 'must be an RFC 3339 timestamp with a time zone, e.g. 2026-01-31T12:00:00Z'),
    z.number().int('epoch milliseconds must be an integer').nonnegative(),
  ])
  .transform((value, ctx) => {
    const ms = typeof value === 'number' ? value : Date.parse(value);
    if (!Number.isFinite(ms) || ms < MIN_TS_MS || ms > Date.now() + MAX_FUTURE_MS) {
      ctx.addIssue({
        code: 'custom',
        message: 'timestamp out of range (before 2000 or more than a day ahead)',
      });
      return z.NEVER;
    }
    return ms;
  });

const IdentitySchema = z.object({
  id: shortText(256),
  type: z.enum(IDENTITY_TYPES).optional(),
  owner: optionalText(256),
  instance: optionalText(256),
  credential: optionalText(256),
});

const ResourceSchema = z.object({
  type: optionalText(128),
  id: optionalText(1024),
});

const ApprovalSchema = z.object({
  id: optionalText(256),
  by: optionalText(256),
});

const SourceSchema = z.object({
  system: optionalText(128),
  ip: optionalText(64),
  user_agent: optionalText(1024),
});

export const ActionEventSchema = z.object({
  event_id: shortText(128).optional(),
  ts: TimestampSchema,
  identity: IdentitySchema,
  session: optionalText(256),
  action: z.enum(ACTION_CLASSES),
  tool: shortText(256),
  resource: ResourceSchema.optional(),
  target_domain: optionalText(253),
  permission: optionalText(256),
  outcome: z.enum(OUTCOMES).optional(),
  approval: ApprovalSchema.optional(),
  on_behalf_of: optionalText(256),
  source: SourceSchema.optional(),
  args: z.record(z.string(), z.unknown()).optional(),
  attributes: z.record(z.string().max(256), z.string().max(8192)).optional(),
});

/** The wire event as producers write it (before ts normalisation). */
export type ActionEventInput = z.input<typeof ActionEventSchema>;
/** The wire event after validation (ts in epoch ms). */
export type ActionEvent = z.output<typeof ActionEventSchema>;
