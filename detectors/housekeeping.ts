import type { DetectorEvent } from '../model/detector-event.js';
import type { IdentityProfile, TermStats } from './profile.js';
import { CHANGING_ACTIONS, resourceKey } from './terms.js';

/**
 * Cleaning up after oneself. Infrastructure-as-code destroys, CI jobs and agents remove what
 * they created: a first `DeleteRole` on the role the identity created ten minutes earlier is
 * the end of its own resource's life, not a step outside its baseline. Removing something
 * the identity never changed (someone else's role, a pre-existing trail) stays novel.
 */

/** Operation names that undo or remove something (`DeleteRole`, `delete_file`, `repo.destroy`). */
const REMOVAL_OPERATION =
  /^(delete|remove|detach|destroy|terminate|purge|deregister|disassociate|release|revoke|uninstall|unlink|drop)/i;

/** The operation part of a tool name: after the last `:`, `.` or `/` (`iam.amazonaws.com:DeleteRole` → `DeleteRole`). */
export function operationOf(tool: string): string {
  const cut = Math.max(tool.lastIndexOf(':'), tool.lastIndexOf('.'), tool.lastIndexOf('/'));
  return tool.slice(cut + 1);
}

/** Whether the event removes or detaches what it acts on. */
export function isRemoval(event: Pick<DetectorEvent, 'action' | 'tool'>): boolean {
  if (event.action === 'data.delete') return true;
  return CHANGING_ACTIONS.has(event.action) && REMOVAL_OPERATION.test(operationOf(event.tool));
}

/**
 * When the event removes a resource this identity itself changed inside the window (and still
 * knows: a resource held under an open finding is not its own yet), the record of that change;
 * otherwise undefined.
 */
export function ownResourceRemoved(
  event: DetectorEvent,
  profile: IdentityProfile,
  windowMs: number,
): TermStats | undefined {
  if (!event.resource_id || !isRemoval(event)) return undefined;
  const resource = resourceKey(event.resource_type, event.resource_id);
  if (!profile.recall({ kind: 'resource', value: resource }, event.ts, windowMs)) return undefined;
  return profile.recall({ kind: 'resource_changed', value: resource }, event.ts, windowMs);
}
