import type { FleetRow } from '../app/access-review.js';
import type { FilesVerification } from '../app/evidence.js';
import type { RuleTestReport } from '../app/rules.js';
import type { EventStats } from '../model/event-stats.js';
import type { Finding } from '../model/finding.js';

/** Terminal renderings of what the API returns. */

/** Stats: identities table, DLQ reasons, latest events. */
export function formatStats(stats: EventStats): string {
  const lines = [
    `events: ${String(stats.total_events)}`,
    '',
    'identity                        events  tools  sessions  last seen',
  ];
  for (const i of stats.identities) {
    lines.push(
      `${i.identity_id.padEnd(30)} ${String(i.events).padStart(7)} ${String(i.tools).padStart(6)} ${String(i.sessions).padStart(9)}  ${i.last_ts}`,
    );
  }
  lines.push(
    '',
    `dead-lettered: ${stats.dlq.map((d) => `${d.reason_code}=${String(d.messages)}`).join(' ') || 'none'}`,
  );
  lines.push('', 'recent events:');
  for (const e of stats.recent) {
    const target = e.target_domain || e.resource_id;
    lines.push(
      `  ${e.ts}  ${e.identity_id.padEnd(16)} ${e.action.padEnd(14)} ${e.tool}${target ? ` → ${target}` : ''} (${e.outcome})`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Findings, one per line with the explanation under it. */
export function formatFindings(findings: readonly Finding[]): string {
  if (findings.length === 0) return 'no findings yet\n';
  const lines = findings.map(
    (f) =>
      `${new Date(f.last_ts).toISOString()}  ${f.severity.padEnd(8)} ${f.score.toFixed(2)}  ${f.detector.padEnd(28)} ` +
      `${f.identity_id}  ×${String(f.count)}\n    ${f.explanation}`,
  );
  return `${lines.join('\n')}\n`;
}

/** One line per case (`ok` / `FAIL`), failures with what happened, then the totals. */
export function formatRuleTests(report: RuleTestReport): string {
  const lines = report.errors.map((e) => `ERROR ${e}`);
  for (const r of report.results) {
    const head = `${r.passed ? 'ok  ' : 'FAIL'} ${r.rule} — ${r.name} (expect ${r.expect})`;
    lines.push(r.passed ? head : `${head}\n     ${r.detail}`);
  }
  lines.push(
    `${String(report.passed)} passed, ${String(report.failed)} failed${report.errors.length ? ` (${String(report.errors.length)} file errors)` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}

/** One line per check, ✓ or ✗, per bundle; then the chain across bundles and the verdict. */
export function formatVerification(result: FilesVerification): string {
  const lines: string[] = [];
  for (const { file, verification } of result.files) {
    lines.push(file);
    for (const check of verification.checks)
      lines.push(`  ${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}`);
  }
  if (result.chain)
    lines.push(`${result.chain.ok ? 'ok  ' : 'FAIL'} ${result.chain.name}: ${result.chain.detail}`);
  lines.push(result.ok ? 'verified' : 'NOT verified');
  return `${lines.join('\n')}\n`;
}

/** One line per key: id, role, source, state, name. Never a secret (the API has none to give). */
export function formatKeys(keys: readonly Record<string, unknown>[]): string {
  const text = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
  return keys
    .map(
      (k) =>
        `${text(k.key_id).padEnd(14)} ${text(k.role).padEnd(11)} ${text(k.source).padEnd(7)} ${k.revoked_at ? 'revoked' : 'active '} ${text(k.name)}\n`,
    )
    .join('');
}

/** The parts of an access review the terminal summary reads. */
export interface ReviewSummary {
  review: {
    identity_id: string;
    period: { from: number; to: number };
    totals: { events: number; sessions: number };
    unused_share: number | null;
  };
  scope: Record<
    'tools' | 'resources' | 'egress_domains',
    { constrained: boolean; unused: string[]; outside: { value: string; events: number; approved: number }[] }
  > & {
    approvals: { rule: string; required: number; obtained: number }[];
  };
  proposed_scope: {
    notes: { field: string; change: string; entry: string; reason: string }[];
    registry_yaml: string;
  };
}

const iso = (ms: number | null): string =>
  ms === null ? '-' : new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
const percent = (share: number | null): string =>
  share === null ? '-' : `${String(Math.round(share * 100))}%`;

export function formatReview(parts: ReviewSummary): string {
  const { review, scope, proposed_scope: proposal } = parts;
  const lines = [
    `access review of ${review.identity_id}, ${iso(review.period.from)} to ${iso(review.period.to)} UTC`,
    `${String(review.totals.events)} actions in ${String(review.totals.sessions)} sessions; unused declared scope ${percent(review.unused_share)}`,
    '',
  ];
  for (const field of ['tools', 'resources', 'egress_domains'] as const) {
    const d = scope[field];
    if (!d.constrained) {
      lines.push(`${field}: nothing declared (unconstrained)`);
      continue;
    }
    lines.push(`${field}: unused ${d.unused.length === 0 ? 'none' : d.unused.join(', ')}`);
    for (const o of d.outside)
      lines.push(
        `  outside the declaration: ${o.value} (${String(o.events)} uses, ${String(o.approved)} approved)`,
      );
  }
  for (const a of scope.approvals)
    lines.push(`approval ${a.rule}: ${String(a.obtained)} of ${String(a.required)} actions approved`);
  lines.push('', 'proposed changes:');
  for (const n of proposal.notes.filter((n) => n.change !== 'kept'))
    lines.push(`  ${n.change.padEnd(8)} ${n.field}: ${n.entry} (${n.reason})`);
  lines.push('', 'proposed registry entry:', proposal.registry_yaml);
  return `${lines.join('\n')}\n`;
}

export function formatFleet(rows: readonly FleetRow[]): string {
  const header = `${'identity'.padEnd(24)} ${'owner'.padEnd(18)} ${'lifecycle'.padEnd(9)} ${'verdict'.padEnd(11)} unused  events  last activity     open  reason`;
  const body = rows.map(
    (r) =>
      `${r.identity_id.padEnd(24)} ${r.owner.slice(0, 18).padEnd(18)} ${r.lifecycle.padEnd(9)} ${r.verdict.padEnd(11)} ${percent(r.unused_share).padStart(6)} ${String(r.events).padStart(7)}  ${iso(r.last_activity).padEnd(16)} ${String(r.open_findings).padStart(5)}  ${r.reason}`,
  );
  return `${[header, ...body].join('\n')}\n`;
}
