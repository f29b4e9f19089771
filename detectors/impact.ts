import type { ActionClass } from '../model/action.js';

/**
 * How much damage an action class can do, on one ordinal scale. Privilege escalation is a
 * step up this ladder; novelty on a higher rung weighs more than novelty on a lower one.
 */
export const IMPACT_LEVELS = ['none', 'read', 'write', 'delete', 'admin'] as const;
export type ImpactLevel = (typeof IMPACT_LEVELS)[number];

// `tool.call` and `api.call` say only that something was invoked; the adapters classify what
// they can (secret reads, deploys, deletes…). An unclassified tool call adds no impact evidence,
// a generic API call counts as a read.
const LEVEL_OF: Record<ActionClass, ImpactLevel> = {
  other: 'none',
  auth: 'none',
  'tool.call': 'none',
  'api.call': 'read',
  'data.read': 'read',
  'network.egress': 'write',
  'data.write': 'write',
  'code.commit': 'write',
  'approval.grant': 'write',
  'code.push': 'write',
  'data.delete': 'delete',
  'secret.read': 'admin',
  deploy: 'admin',
  'identity.change': 'admin',
};

export function impactOf(action: ActionClass): ImpactLevel {
  return LEVEL_OF[action];
}

export function impactRank(level: ImpactLevel): number {
  return IMPACT_LEVELS.indexOf(level);
}

/** 0..1 weight of an action class, used to scale novelty scores. */
export function impactWeight(action: ActionClass): number {
  return impactRank(impactOf(action)) / (IMPACT_LEVELS.length - 1);
}
