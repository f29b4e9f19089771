import type { DetectorEvent } from '../../model/detector-event.js';

/**
 * The canonical fields a rule may name, read from a stored event. Names follow the wire format
 * (`resource.id`, `identity.credential`), so a rule reads like the events its author sees.
 * Every field yields a list of strings: one value for plain fields, any number for a path into
 * the arguments (arrays along the way fan out), none when absent.
 */

type Getter = (event: DetectorEvent) => string;

const PLAIN: Readonly<Record<string, Getter>> = {
  event_id: (e) => e.event_id,
  action: (e) => e.action,
  tool: (e) => e.tool,
  session: (e) => e.session,
  outcome: (e) => e.outcome,
  permission: (e) => e.permission,
  target_domain: (e) => e.target_domain,
  source_format: (e) => e.source_format,
  on_behalf_of: (e) => e.on_behalf_of,
  'identity.id': (e) => e.identity_id,
  'identity.type': (e) => e.identity_type,
  'identity.owner': (e) => e.identity_owner,
  'identity.instance': (e) => e.identity_instance,
  'identity.credential': (e) => e.identity_credential,
  'resource.type': (e) => e.resource_type,
  'resource.id': (e) => e.resource_id,
  'approval.id': (e) => e.approval_id,
  'approval.by': (e) => e.approval_by,
  'source.system': (e) => e.source_system,
  'source.ip': (e) => e.source_ip,
  'source.user_agent': (e) => e.source_user_agent,
  args: (e) => e.args,
};

export const PLAIN_FIELDS: readonly string[] = Object.keys(PLAIN);

export type FieldReader = (event: DetectorEvent) => readonly string[];

/** Parsed arguments per event: several rules read the same event's arguments. */
const parsedArgs = new WeakMap<DetectorEvent, unknown>();

function argsOf(event: DetectorEvent): unknown {
  // Most events carry no arguments: nothing to parse or remember.
  if (!event.args || event.args === '{}') return undefined;
  if (parsedArgs.has(event)) return parsedArgs.get(event);
  let value: unknown;
  try {
    value = JSON.parse(event.args) as unknown;
  } catch {
    // Size-capped arguments may be cut mid-document: readable as text (`args|contains`), not by path.
    value = undefined;
  }
  parsedArgs.set(event, value);
  return value;
}

function leaves(value: unknown, out: string[]): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) for (const item of value) leaves(item, out);
  else if (typeof value === 'object') out.push(JSON.stringify(value));
  else if (typeof value === 'string') out.push(value);
  else if (typeof value === 'number' || typeof value === 'boolean') out.push(String(value));
}

/** The values at a dotted path; arrays met on the way are searched element by element. */
export function valuesAtPath(root: unknown, path: readonly string[]): string[] {
  // Most events have no arguments at all: nothing to walk.
  if (root === undefined || root === null) return [];
  let current: unknown[] = [root];
  for (const key of path) {
    const next: unknown[] = [];
    for (const node of current) {
      const items = Array.isArray(node) ? (node as unknown[]) : [node];
      for (const item of items)
        if (item !== null && typeof item === 'object' && !Array.isArray(item) && key in item)
          next.push((item as Record<string, unknown>)[key]);
    }
    if (next.length === 0) return [];
    current = next;
  }
  const out: string[] = [];
  for (const node of current) leaves(node, out);
  return out;
}

/** A reader for a field name, or undefined when the name is not a field rules can read. */
export function fieldReader(field: string): FieldReader | undefined {
  const plain = PLAIN[field];
  if (plain)
    return (event) => {
      const value = plain(event);
      return value ? [value] : [];
    };
  if (field.startsWith('args.') && field.length > 5) {
    const path = field.slice(5).split('.');
    if (path.some((p) => p === '')) return undefined;
    return (event) => valuesAtPath(argsOf(event), path);
  }
  if (field.startsWith('attributes.') && field.length > 11) {
    const key = field.slice(11);
    return (event) => {
      const value = event.attributes[key];
      return value ? [value] : [];
    };
  }
  return undefined;
}
