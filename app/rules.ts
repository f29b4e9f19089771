import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../common/paths.js';
import { compileRule, type CompiledRule } from '../detectors/declarative/compile.js';
import { parseRuleFile, RuleFileError, type ParsedRule } from '../detectors/declarative/schema.js';
import { runRuleTests, type RuleTestResult } from './rule-tests.js';

/**
 * Rule packs from disk: the shipped ones (`detectors/rules/packs/`), then the user's folder
 * (`SCOPEWATCH_RULES`). A user rule with a shipped rule's id replaces it, so a pack rule can be
 * tuned — or switched off with `status: experimental` — without code. Experimental rules are
 * compiled and tested but not run.
 */

export function shippedRulesDir(): string {
  return path.join(packageRoot(), 'detectors', 'rules', 'packs');
}

/** The rule files of a folder (sorted, so load order and ids resolve the same everywhere), or the file itself. */
export function ruleFiles(target: string): string[] {
  if (!existsSync(target)) throw new RuleFileError(target, '', '', 'no such file or folder');
  if (!statSync(target).isDirectory()) return [target];
  return readdirSync(target)
    .filter((f) => /\.ya?ml$/i.test(f))
    .sort()
    .map((f) => path.join(target, f));
}

/** Parses and compiles every rule of the files; duplicate ids inside one source are errors. */
export function compileFiles(files: readonly string[]): CompiledRule[] {
  const byId = new Map<string, CompiledRule>();
  for (const file of files) {
    const parsed: ParsedRule[] = parseRuleFile(readFileSync(file, 'utf8'), file);
    for (const p of parsed) {
      const earlier = byId.get(p.rule.id);
      if (earlier)
        throw new RuleFileError(
          file,
          p.rule.id,
          'id',
          `already defined in ${earlier.file}: ids must be unique`,
        );
      byId.set(p.rule.id, compileRule(p));
    }
  }
  return [...byId.values()];
}

/** The rules detection runs: shipped packs, overlaid by the user's folder; experimental ones left out. */
export function loadRules(userDir?: string): CompiledRule[] {
  const rules = new Map<string, CompiledRule>();
  for (const rule of compileFiles(ruleFiles(shippedRulesDir()))) rules.set(rule.id, rule);
  if (userDir) for (const rule of compileFiles(ruleFiles(userDir))) rules.set(rule.id, rule);
  return [...rules.values()].filter((r) => r.status !== 'experimental');
}

export interface RuleTestReport {
  results: RuleTestResult[];
  /** Files that did not load, with the error (file, rule and field). */
  errors: string[];
  passed: number;
  failed: number;
}

/** `rules test`: every target file (or folder's files) compiled and its cases run; load errors count as failures. */
export function testRuleTargets(targets: readonly string[]): RuleTestReport {
  const results: RuleTestResult[] = [];
  const errors: string[] = [];
  for (const target of targets) {
    let files: string[];
    try {
      files = ruleFiles(target);
    } catch (e) {
      errors.push((e as Error).message);
      continue;
    }
    for (const file of files) {
      try {
        results.push(...runRuleTests(compileFiles([file])));
      } catch (e) {
        if (!(e instanceof RuleFileError)) throw e;
        errors.push(e.message);
      }
    }
  }
  const passed = results.filter((r) => r.passed).length;
  return { results, errors, passed, failed: results.length - passed + errors.length };
}
