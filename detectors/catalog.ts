import {
  createDormantReactivationDetector,
  createRevokedActivityDetector,
  createUnregisteredDetector,
  type DormancyConfig,
} from './rules/lifecycle.js';
import type { NoveltyOverrides } from './rules/novelty.js';
import { createDeclaredViolationDetector } from './rules/scope-declared-violation.js';
import { createNewEgressDetector } from './rules/scope-new-egress.js';
import { createNewResourceDetector } from './rules/scope-new-resource.js';
import { createNewToolDetector } from './rules/scope-new-tool.js';
import { createPrivilegeEscalationDetector } from './rules/scope-privilege-escalation.js';
import type { Detector } from './types.js';
import { createApprovalBypassDetector } from './rules/approval-bypass.js';
import type { CompiledRule } from './declarative/compile.js';
import {
  createHighImpactDetector,
  createSequenceDetector,
  DEFAULT_RULE_DETECTOR,
} from './declarative/detector.js';
import { createWorkloadInteractiveDetector } from './rules/workload-interactive.js';
import { createRareTransitionDetector, type RareTransitionConfig } from './rules/chain-rare-transition.js';

/** Per-detector overrides, keyed by detector id (from configuration). */
export type DetectorOverrides = Partial<
  Record<string, NoveltyOverrides & Partial<DormancyConfig> & Partial<RareTransitionConfig>>
>;

/** Every detector scopewatch runs, in evaluation order (policy first: they are cheapest). */
export function createDetectors(
  overrides: DetectorOverrides = {},
  rules: readonly CompiledRule[] = [],
): Detector[] {
  const ruleConfig = (id: string): typeof DEFAULT_RULE_DETECTOR => ({
    ...DEFAULT_RULE_DETECTOR,
    minScore: overrides[id]?.minScore ?? DEFAULT_RULE_DETECTOR.minScore,
    warmupEvents: overrides[id]?.warmupEvents ?? DEFAULT_RULE_DETECTOR.warmupEvents,
  });
  const detectors = [
    createRevokedActivityDetector(),
    createDeclaredViolationDetector(),
    createUnregisteredDetector(),
    createWorkloadInteractiveDetector(),
    createNewToolDetector(overrides['scope.new_tool']),
    createNewResourceDetector(overrides['scope.new_resource']),
    createNewEgressDetector(overrides['scope.new_egress']),
    createPrivilegeEscalationDetector(overrides['scope.privilege_escalation']),
    createDormantReactivationDetector(overrides['lifecycle.dormant_reactivation']),
    createApprovalBypassDetector(),
    createHighImpactDetector(rules, ruleConfig('rules.high_impact')),
    createSequenceDetector(rules, ruleConfig('chain.sequence')),
    createRareTransitionDetector(overrides['chain.rare_transition']),
  ];
  // A typo in a detector id would otherwise silently configure nothing.
  const unknown = Object.keys(overrides).filter((id) => !detectors.some((d) => d.id === id));
  if (unknown.length > 0)
    throw new Error(
      `SCOPEWATCH_DETECTORS: unknown detector ${unknown.join(', ')} (known: ${detectors.map((d) => d.id).join(', ')})`,
    );
  return detectors;
}
