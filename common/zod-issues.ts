import type { z } from 'zod';

/**
 * The one way a zod failure becomes a message: `where: problem` per issue, at most `max`
 * issues (with a count of the rest), joined by `separator`. `where` names the field for the
 * reader: a dotted path by default, an environment variable or a registry entry when the
 * caller knows better.
 */
export interface IssueFormat {
  /** How an issue's location reads; defaults to the dotted path, or `(root)`. */
  where?: (path: readonly PropertyKey[]) => string;
  max?: number;
  separator?: string;
  /** Put before every line (e.g. `event 2: `, or indentation). */
  prefix?: string;
}

export function dottedPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.') || '(root)';
}

export function formatZodIssues(issues: readonly z.core.$ZodIssue[], format: IssueFormat = {}): string {
  const where = format.where ?? dottedPath;
  const max = format.max ?? issues.length;
  const shown = issues
    .slice(0, max)
    .map((issue) => `${format.prefix ?? ''}${where(issue.path)}: ${issue.message}`);
  const more = issues.length - shown.length;
  const separator = format.separator ?? '; ';
  return more > 0 ? `${shown.join(separator)}${separator}and ${String(more)} more` : shown.join(separator);
}
