import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository/package root, found by walking up from this file. Code runs both from
 * sources (vitest) and from dist/ (the CLI), at different depths, and non-code assets such as
 * storage/migrations live only at the root.
 */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('scopewatch package root not found');
    dir = parent;
  }
}
