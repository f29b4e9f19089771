import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../common/paths.js';

/**
 * docs/ARCHITECTURE.md as a test: which layer may import which, and where SQL may live. A new
 * import that crosses a layer the wrong way fails here, naming the file and the import.
 */

/** Layer → the layers it may import from (besides itself). Keep in step with docs/ARCHITECTURE.md. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  common: [],
  model: ['common'],
  evidence: ['common', 'model'],
  storage: ['common', 'model', 'evidence'],
  kafka: ['common'],
  ingest: ['common', 'model', 'storage'],
  detectors: ['common', 'model', 'storage'],
  demo: ['common', 'model'],
  api: ['common', 'model', 'evidence', 'storage', 'detectors'],
  app: ['common', 'model', 'evidence', 'storage', 'kafka', 'ingest', 'detectors', 'demo', 'api'],
  bin: ['common', 'model', 'app'],
  bench: ['common', 'model', 'evidence', 'storage', 'kafka', 'ingest', 'detectors', 'demo', 'app'],
  eval: ['common', 'app'],
};

const root = packageRoot();

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g;

function relativeImports(file: string): string[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? '');
}

const layerOf = (file: string): string => file.split(path.sep)[0] ?? '';

const files = Object.keys(MAY_IMPORT).flatMap(sourceFiles);

describe('architecture', () => {
  it('every layer imports only from the layers below it', () => {
    const violations: string[] = [];
    for (const file of files) {
      const layer = layerOf(file);
      for (const spec of relativeImports(file)) {
        const target = layerOf(path.relative(root, path.resolve(path.dirname(path.join(root, file)), spec)));
        if (target !== layer && !(MAY_IMPORT[layer] ?? []).includes(target))
          violations.push(`${file} imports ${spec} (${layer} may not import ${target})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('ClickHouse is reached only through storage/: no client import, no SQL against our tables elsewhere', () => {
    // Our statements always name a table through the database (`${…}.findings`, `{{db}}`) or
    // bind typed parameters ({id:String}); SQL inside demo events (an agent's own query) does not.
    const ours =
      /\b(FROM|INTO|TABLE|JOIN)\s+(\$\{|\{\{db\}\})|\{\w+:(String|UInt\d+|Int\d+|Float64|DateTime64\(3\)|Array\(\w+\))\}|@clickhouse\/client|chdb\//;
    const offenders = files.filter(
      (f) => layerOf(f) !== 'storage' && ours.test(readFileSync(path.join(root, f), 'utf8')),
    );
    expect(offenders).toEqual([]);
  });

  it('the checked folders are every source folder the build compiles', () => {
    const build = JSON.parse(readFileSync(path.join(root, 'tsconfig.build.json'), 'utf8')) as {
      include: string[];
    };
    expect([...build.include].sort()).toEqual(Object.keys(MAY_IMPORT).sort());
  });
});
