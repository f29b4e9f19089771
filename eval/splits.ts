import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import { z } from 'zod';

/**
 * Held-out views of a suite: the same findings scored on parts of the suite's labelled
 * groups, so a figure that holds only where it was tuned shows. Agent traces split by model
 * configuration (the identity is suite × model: the two halves share no agent), CloudTrail
 * by ATT&CK tactic of the Stratus technique (each tactic left out against all the benign
 * events). This is measurement code: it reads labels.json, which the product never does.
 */

const Group = z.object({
  id: z.string(),
  kind: z.string(),
  label: z.enum(['positive', 'negative', 'neutral']),
  event_ids: z.array(z.string()),
});
export type Group = z.infer<typeof Group>;
const Labels = z.object({ groups: z.array(Group) });

export interface Split {
  /** e.g. `configs A (9)` or `tactic persistence`. */
  name: string;
  groups: Group[];
}

export function readGroups(suiteDir: string): Group[] {
  return Labels.parse(JSON.parse(readFileSync(`${suiteDir}/labels.json`, 'utf8'))).groups;
}

/** event id → identity id of a canonical suite's input (the agent under test). */
async function identitiesOf(file: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const lines = createInterface({ input: createReadStream(file).pipe(createGunzip()), crlfDelay: Infinity });
  const Line = z.object({ event_id: z.string(), identity: z.object({ id: z.string() }) });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const parsed = Line.safeParse(JSON.parse(line));
    if (parsed.success) out.set(parsed.data.event_id, parsed.data.identity.id);
  }
  return out;
}

/** The model configuration of an agent-trace identity `suite:domain:config`. */
function configOf(identity: string): string {
  return identity.split(':').slice(2).join(':') || identity;
}

/**
 * Agent traces: model configurations sorted by name and dealt alternately into halves A and
 * B. A group belongs to the configuration of its first event's identity.
 */
export async function splitByConfig(suiteDir: string, groups: readonly Group[]): Promise<Split[]> {
  const input = `${suiteDir}/input.jsonl.gz`;
  if (!existsSync(input)) return [];
  const identities = await identitiesOf(input);
  const configOfGroup = (g: Group): string | undefined => {
    const id = g.event_ids.map((e) => identities.get(e)).find((i) => i !== undefined);
    return id === undefined ? undefined : configOf(id);
  };
  const configs = [...new Set(groups.map(configOfGroup).filter((c): c is string => c !== undefined))].sort();
  if (configs.length < 2) return [];
  const halves = [0, 1].map((h) => new Set(configs.filter((_, i) => i % 2 === h)));
  return halves.map((half, h) => ({
    name: `configs ${h === 0 ? 'A' : 'B'} (${String(half.size)})`,
    groups: groups.filter((g) => {
      const c = configOfGroup(g);
      return c !== undefined && half.has(c);
    }),
  }));
}

/** CloudTrail techniques (`aws.<tactic>.<technique>`): each tactic's positives against every negative. */
export function splitByTactic(groups: readonly Group[]): Split[] {
  const tacticOf = (g: Group): string | undefined =>
    g.kind === 'technique' && g.label === 'positive' ? g.id.split('.')[1] : undefined;
  const tactics = [...new Set(groups.map(tacticOf).filter((t): t is string => t !== undefined))].sort();
  if (tactics.length < 2) return [];
  const negatives = groups.filter((g) => g.label === 'negative');
  return tactics.map((tactic) => ({
    name: `tactic ${tactic}`,
    groups: [...groups.filter((g) => tacticOf(g) === tactic), ...negatives],
  }));
}

export async function splitsOf(suiteDir: string, format: string): Promise<Split[]> {
  const groups = readGroups(suiteDir);
  return format === 'canonical' ? splitByConfig(suiteDir, groups) : splitByTactic(groups);
}
