import path from 'node:path';
import { packageRoot } from '../common/paths.js';

/** Where the shared evaluation suites live: SCOPEWATCH_EVAL_DIR, else ../shared/eval next to the repository. */
export function evalDir(): string {
  return process.env.SCOPEWATCH_EVAL_DIR ?? path.resolve(packageRoot(), '..', 'shared', 'eval');
}
