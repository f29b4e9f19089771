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
