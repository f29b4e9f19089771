import { describe, expect, it } from 'vitest';
import { evaluateCondition, parseCondition } from '../../../detectors/declarative/condition.js';
import { compileRule, RuleIndex, type CompiledRule } from '../../../detectors/declarative/compile.js';
import {
  createHighImpactDetector,
  createSequenceDetector,
  ruleScore,
} from '../../../detectors/declarative/detector.js';
import { valuesAtPath } from '../../../detectors/declarative/fields.js';
import { compileValueTest } from '../../../detectors/declarative/matchers.js';
import { parseRuleFile, RuleFileError } from '../../../detectors/declarative/schema.js';
import { DEFAULT_ENGINE_OPTIONS, DetectionEngine } from '../../../detectors/engine.js';
import { ev, resetSeq } from './fixtures.js';

function compile(yaml: string): CompiledRule[] {
  return parseRuleFile(yaml, 'test.yaml').map(compileRule);
}

function engineWith(rules: CompiledRule[]): DetectionEngine {
  return new DetectionEngine({
    ...DEFAULT_ENGINE_OPTIONS,
    detectors: [createHighImpactDetector(rules), createSequenceDetector(rules)],
    registry: null,
    now: (e) => e.ts,
  });
}

describe('conditions', () => {
  const names = ['sel', 'filter', 'sel_a', 'sel_b'];
  const truth = (set: string[]) => (name: string) => set.includes(name);

  it('parses and, or, not and parentheses with Sigma precedence', () => {
    const c = parseCondition('sel and not filter or sel_a', names);
    expect(evaluateCondition(c, truth(['sel']))).toBe(true);
    expect(evaluateCondition(c, truth(['sel', 'filter']))).toBe(false);
    expect(evaluateCondition(c, truth(['sel', 'filter', 'sel_a']))).toBe(true);
    const grouped = parseCondition('sel and not (filter or sel_a)', names);
    expect(evaluateCondition(grouped, truth(['sel', 'sel_a']))).toBe(false);
  });

  it('supports 1 of / all of with wildcards and them', () => {
    expect(evaluateCondition(parseCondition('1 of sel_*', names), truth(['sel_b']))).toBe(true);
    expect(evaluateCondition(parseCondition('all of sel_*', names), truth(['sel_b']))).toBe(false);
    expect(evaluateCondition(parseCondition('all of them', names), truth(names))).toBe(true);
  });

  it('rejects unknown selections and broken syntax with the reason', () => {
    expect(() => parseCondition('sel and nope', names)).toThrow(/unknown selection "nope"/);
    expect(() => parseCondition('(sel', names)).toThrow(/missing "\)"|unexpected end/);
    expect(() => parseCondition('1 of zzz*', names)).toThrow(/names no selection/);
  });
});

describe('value matching', () => {
  it('matches whole values case-insensitively with wildcards by default', () => {
    const test = compileValueTest([], ['iam:Create*Key']);
    expect(test(['IAM:CreateAccessKey'])).toBe(true);
    expect(test(['iam:CreateAccessKeyX2'])).toBe(false);
    expect(compileValueTest([], ['a?c'])(['abc'])).toBe(true);
  });

  it('implements contains, startswith, endswith, re, cidr, exists, numbers and all', () => {
    expect(compileValueTest(['contains'], ['stop'])(['StopLogging'])).toBe(true);
    expect(compileValueTest(['startswith'], ['s3:'])(['S3:GetObject'])).toBe(true);
    expect(compileValueTest(['endswith'], ['.exe'])(['a.EXE'])).toBe(true);
    expect(compileValueTest(['re'], ['^Get'])(['getX'])).toBe(false);
    expect(compileValueTest(['re', 'i'], ['^Get'])(['getX'])).toBe(true);
    expect(compileValueTest(['cidr'], ['10.0.0.0/8'])(['10.2.3.4'])).toBe(true);
    expect(compileValueTest(['cidr'], ['::/0'])(['2001:db8::1'])).toBe(true);
    expect(compileValueTest(['cidr'], ['10.0.0.0/8'])(['not-an-ip'])).toBe(false);
    expect(compileValueTest(['exists'], [true])([])).toBe(false);
    expect(compileValueTest(['exists'], [false])([])).toBe(true);
    expect(compileValueTest(['gt'], [100])(['250'])).toBe(true);
    expect(compileValueTest(['gt'], [100])(['abc'])).toBe(false);
    expect(compileValueTest(['contains', 'all'], ['a', 'b'])(['xa', 'yb'])).toBe(true);
    expect(compileValueTest(['contains', 'all'], ['a', 'b'])(['xa'])).toBe(false);
  });

  it('refuses modifiers that cannot combine and bad values', () => {
    expect(() => compileValueTest(['contains', 're'], ['x'])).toThrow(/cannot combine/);
    expect(() => compileValueTest(['re'], ['('])).toThrow(/invalid regular expression/);
    expect(() => compileValueTest(['cidr'], ['10.0.0.0/40'])).toThrow(/not a CIDR/);
    expect(() => compileValueTest(['gt'], ['ten'])).toThrow(/needs a number/);
  });

  it('reads argument paths through arrays', () => {
    const args = {
      ipPermissions: {
        items: [{ ipRanges: { items: [{ cidrIp: '0.0.0.0/0' }, { cidrIp: '10.0.0.0/8' }] } }],
      },
    };
    expect(valuesAtPath(args, ['ipPermissions', 'items', 'ipRanges', 'items', 'cidrIp'])).toEqual([
      '0.0.0.0/0',
      '10.0.0.0/8',
    ]);
    expect(valuesAtPath(args, ['missing'])).toEqual([]);
  });
});

describe('rule files', () => {
  it('names the file, the rule and the field of every problem', () => {
    const bad = `title: t\nid: acme.bad\nlevel: high\ndetection:\n  sel:\n    tool|re: '('\n  condition: sel\n`;
    expect(() => compile(bad)).toThrow(RuleFileError);
    expect(() => compile(bad)).toThrow(
      'test.yaml: rule acme.bad: detection.sel.tool|re: invalid regular expression',
    );
    const unknownField = `title: t\nid: acme.f\nlevel: high\ndetection:\n  sel:\n    tooll: x\n  condition: sel\n`;
    expect(() => compile(unknownField)).toThrow(/rule acme.f: detection.sel.tooll: unknown field "tooll"/);
    const badLevel = `title: t\nid: acme.l\nlevel: severe\ndetection:\n  sel:\n    tool: x\n  condition: sel\n`;
    expect(() => compile(badLevel)).toThrow(/rule acme.l: level:/);
    const badStep = `title: t\nid: acme.s\nlevel: high\ndetection:\n  a:\n    tool: x\nsequence:\n  within: 1h\n  steps:\n    - { where: a }\n  absent:\n    - { where: a, before: nope }\n`;
    expect(() => compile(badStep)).toThrow(/sequence.absent.0.before: "nope" is not a step/);
    // Each rule is its own YAML document: an alias to another document's anchor is an error
    // in that rule, not a crash.
    const crossAlias = `title: a\nid: acme.a\nlevel: low\ndetection:\n  s: &v { action: deploy }\n  condition: s\n---\ntitle: b\nid: acme.b\nlevel: low\ndetection:\n  s: *v\n  condition: s\n`;
    expect(() => compile(crossAlias)).toThrow(/test.yaml: rule #2: invalid YAML: Unresolved alias/);
  });
});

const EXFIL = `
title: secret then new destination
id: t.exfil
level: high
tags: [attack.t1567]
detection:
  secret: { action: secret.read }
  send: { action: network.egress }
  fresh: { new_for_identity: destination }
sequence:
  within: 1h
  steps:
    - { name: read, where: secret }
    - { name: send, where: send and fresh }
`;

function history(engine: DetectionEngine, n: number): void {
  for (let i = 0; i < n; i += 1)
    engine.learnOnly(
      ev({ session: 'h', action: 'network.egress', tool: 'http.post', target_domain: 'api.github.com' }),
    );
}

describe('sequence rules', () => {
  it('fires on the chain, cites both steps, and carries the rule tags', () => {
    resetSeq();
    const engine = engineWith(compile(EXFIL));
    history(engine, 30);
    const read = ev({ session: 's1', action: 'secret.read', tool: 'vault.read', target_domain: '' });
    expect(engine.process(read)).toEqual([]);
    const [finding] = engine.process(
      ev({ session: 's1', action: 'network.egress', tool: 'http.post', target_domain: 'paste.example' }),
    );
    expect(finding?.detector).toBe('chain.sequence');
    expect(finding?.event_ids[0]).toBe(read.event_id);
    expect(finding?.event_ids).toHaveLength(2);
    expect(finding?.first_ts).toBe(read.ts);
    expect(finding?.frameworks).toEqual(['attack.t1567']);
    expect(finding?.explanation).toContain(read.event_id);
    expect(finding?.score).toBe(0.75);
  });

  it('does not fire across sessions, outside the window, or on a known destination', () => {
    resetSeq();
    const engine = engineWith(compile(EXFIL));
    history(engine, 30);
    engine.process(ev({ session: 's1', action: 'secret.read', tool: 'vault.read' }));
    expect(
      engine.process(ev({ session: 's2', action: 'network.egress', target_domain: 'paste.example' })),
    ).toEqual([]);
    expect(
      engine.process(ev({ session: 's1', action: 'network.egress', target_domain: 'api.github.com' })),
    ).toEqual([]);
    const late = ev({ session: 's1', action: 'network.egress', target_domain: 'paste2.example' });
    late.ts += 2 * 3_600_000;
    expect(engine.process(late)).toEqual([]);
  });

  it('sees history replayed on hydration: a chain begun before the cut completes after it', () => {
    resetSeq();
    const streaming = engineWith(compile(EXFIL));
    const hydrated = engineWith(compile(EXFIL));
    history(streaming, 30);
    resetSeq();
    history(hydrated, 30);
    const read = ev({ session: 's1', action: 'secret.read', tool: 'vault.read' });
    const send = ev({ session: 's1', action: 'network.egress', target_domain: 'paste.example' });
    streaming.process(read);
    hydrated.learnOnly(read);
    const a = streaming.process(send);
    const b = hydrated.process(send);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(a).toHaveLength(1);
  });

  it('honours absences by anyone in the session, and joins between steps', () => {
    resetSeq();
    const rules = compile(`
title: commit push deploy
id: t.cpd
level: high
detection:
  commit: { action: code.commit }
  push: { action: code.push }
  deploy: { action: deploy }
  approval: { action: approval.grant }
sequence:
  within: 1d
  steps: [{ name: c, where: commit }, { name: p, where: push }, { name: d, where: deploy }]
  absent: [{ where: approval, after: c, before: d }]
---
title: key then use
id: t.key
level: high
detection:
  create: { action: identity.change }
  use: { identity.credential|exists: true }
sequence:
  by: identity
  within: 1d
  steps: [{ name: create, where: create }, { name: use, where: use }]
  join: [[use.identity.credential, create.resource.id]]
`);
    const engine = engineWith(rules);
    engine.process(ev({ session: 'r1', action: 'code.commit' }));
    engine.process(ev({ session: 'r1', action: 'code.push' }));
    engine.process(ev({ session: 'r1', identity_id: 'alice', action: 'approval.grant' }));
    expect(engine.process(ev({ session: 'r1', action: 'deploy' }))).toEqual([]);
    engine.process(ev({ session: 'r2', action: 'code.commit' }));
    engine.process(ev({ session: 'r2', action: 'code.push' }));
    expect(engine.process(ev({ session: 'r2', action: 'deploy' })).map((f) => f.baseline.rule)).toEqual([
      't.cpd',
    ]);

    engine.process(ev({ action: 'identity.change', resource_type: 'access_key', resource_id: 'AKIA1' }));
    expect(engine.process(ev({ identity_credential: 'AKIA2' }))).toEqual([]);
    expect(engine.process(ev({ identity_credential: 'AKIA1' })).map((f) => f.baseline.rule)).toEqual([
      't.key',
    ]);
  });
});

describe('single-event rules and scoring', () => {
  const STOP = `
title: trail stopped
id: t.stop
level: critical
detection:
  sel: { tool: 'cloudtrail.amazonaws.com:StopLogging', outcome: success }
  condition: sel
`;

  it('scores a first time at the full level and a routine action toward the floor', () => {
    expect(ruleScore('critical', 0).score).toBe(0.9);
    expect(ruleScore('critical', 1).score).toBeLessThan(0.9);
    expect(ruleScore('critical', 1000).score).toBeGreaterThanOrEqual(0.9 * 0.4);
    expect(ruleScore('critical', 1000).score).toBeLessThan(ruleScore('critical', 10).score);
  });

  it('fires on the event, less strongly for an identity that does it routinely', () => {
    resetSeq();
    const stop = { tool: 'cloudtrail.amazonaws.com:StopLogging', resource_id: 'trail-1' };
    const fresh = engineWith(compile(STOP));
    const [first] = fresh.process(ev(stop));
    expect(first?.detector).toBe('rules.high_impact');
    expect(first?.score).toBe(0.9);
    expect(first?.severity).toBe('critical');
    const routine = engineWith(compile(STOP));
    for (let i = 0; i < 40; i += 1) routine.learnOnly(ev(stop));
    const [again] = routine.process(ev(stop));
    expect(again?.score ?? 0).toBeLessThan(0.9 * 0.6);
  });
});

describe('rule index: the gated fields decide which rules can match', () => {
  const rules = compile(`
title: deploy not failed
id: t.deploy_ok
level: high
detection:
  deploy: { action: deploy, resource.type: argo_application }
  failed: { outcome: [failure, denied] }
  condition: deploy and not failed
---
title: any shell command
id: t.shell
level: medium
detection:
  shell: { args.command|contains: 'rm -rf' }
  condition: shell
---
title: not a read
id: t.not_read
level: low
detection:
  read: { action|startswith: data.read }
  condition: not read
`);
  const index = new RuleIndex(rules);
  const ids = (over: Partial<Parameters<RuleIndex['candidates']>[0]>): string[] =>
    index
      .candidates({
        action: 'api.call',
        tool: 't',
        resource_type: '',
        source_format: 'canonical',
        outcome: 'success',
        ...over,
      })
      .map((c) => c.rule.id);

  it('keeps a rule only when three-valued logic says its condition may hold', () => {
    // A deploy of an application that failed: `deploy and not failed` is known false.
    expect(ids({ action: 'deploy', resource_type: 'argo_application', outcome: 'failure' })).toEqual([
      't.shell',
      't.not_read',
    ]);
    // Succeeded: known true without reading anything else.
    const [deploy] = index.candidates({
      action: 'deploy',
      tool: 'argo.sync',
      resource_type: 'argo_application',
      source_format: 'canonical',
      outcome: 'success',
    });
    expect(deploy?.rule.id).toBe('t.deploy_ok');
    expect(deploy?.known.get('deploy')).toBe(true);
    expect(deploy?.known.get('failed')).toBe(false);
    // Arguments are not gated: the shell rule stays a candidate everywhere; a read rules out `not read`.
    expect(ids({ action: 'data.read' })).toEqual(['t.shell']);
  });

  it('judges exactly as the rules themselves, candidates or not', () => {
    resetSeq();
    const engine = engineWith(rules);
    const fired = (over: Parameters<typeof ev>[0]): string[] =>
      engine.process(ev({ identity_id: 'gate-bot', ...over })).map((f) => String(f.baseline.rule));
    expect(
      fired({ action: 'deploy', resource_type: 'argo_application', resource_id: 'shop-prod' }),
    ).toContain('t.deploy_ok');
    expect(
      fired({
        action: 'deploy',
        resource_type: 'argo_application',
        resource_id: 'shop-prod',
        outcome: 'failure',
      }),
    ).not.toContain('t.deploy_ok');
    expect(fired({ action: 'tool.call', args: '{"command":"sudo rm -rf /"}' })).toContain('t.shell');
    expect(fired({ action: 'data.read' })).not.toContain('t.not_read');
  });
});
