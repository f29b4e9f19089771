import { describe, expect, it } from 'vitest';
import { loadRules, ruleFiles, shippedRulesDir, testRuleTargets } from '../../app/rules.js';

describe('shipped rule packs', () => {
  it('load, and every rule carries catalogue tags and at least one match and one no_match case', () => {
    const rules = loadRules();
    expect(rules.length).toBeGreaterThan(70);
    for (const rule of rules) {
      expect(rule.tags.length, rule.id).toBeGreaterThan(0);
      expect(
        rule.tests.some((t) => t.expect === 'match'),
        rule.id,
      ).toBe(true);
      expect(
        rule.tests.some((t) => t.expect === 'no_match'),
        rule.id,
      ).toBe(true);
    }
  });

  it.each(ruleFiles(shippedRulesDir()).map((f) => [f.split('/').pop() ?? f, f]))(
    '%s passes its embedded tests',
    (_name, file) => {
      const report = testRuleTargets([file]);
      const failures = report.results
        .filter((r) => !r.passed)
        .map((r) => `${r.rule} — ${r.name}: ${r.detail}`);
      expect([...report.errors, ...failures]).toEqual([]);
      expect(report.passed).toBeGreaterThan(0);
    },
  );
});
