import type { Detector, DetectorContext, Observation } from '../types.js';

/**
 * `identity.workload_interactive_use`: a workload identity (an assumed role, an instance or CI
 * identity) acting through an interactive desktop client — a CLI on macOS/Windows, a browser
 * or the cloud console. Workloads run on servers; their credentials showing up on a laptop is
 * how stolen instance/CI credentials look (GuardDuty calls the AWS case
 * InstanceCredentialExfiltration). Needs no history, so it covers identities still in warm-up.
 */

const DESKTOP = /\b(Darwin|Macintosh|Mac OS X|Windows NT|Windows\/\d|Win64)\b/;
const BROWSER_OR_CONSOLE = /^Mozilla\/|(^|\W)console\.[a-z0-9-]+\.amazonaws\.com|signin\.amazonaws\.com/;

export function interactiveClient(userAgent: string): string | null {
  const desktop = DESKTOP.exec(userAgent);
  if (desktop) return desktop[1] ?? 'desktop';
  if (BROWSER_OR_CONSOLE.test(userAgent)) return 'browser/console';
  return null;
}

export function createWorkloadInteractiveDetector(): Detector {
  return {
    id: 'identity.workload_interactive_use',
    version: '1.0.0',
    kind: 'policy',
    config: {},
    frameworks: ['OWASP-NHI:NHI2', 'OWASP-NHI:NHI7', 'NIST-CSF:DE.CM-03'],
    evaluate({ event, profile }: DetectorContext): Observation | null {
      if (event.identity_type !== 'workload' || !event.source_user_agent) return null;
      const client = interactiveClient(event.source_user_agent);
      if (!client) return null;
      return {
        subject: `${event.identity_credential || 'no-credential'}|${client}`,
        severity: 'high',
        score: 0.8,
        title: `Workload ${event.identity_id} used from an interactive ${client} client`,
        explanation:
          `\`${event.identity_id}\` is a workload identity, yet it called \`${event.tool}\` through ` +
          `\`${event.source_user_agent.slice(0, 120)}\` (${client})` +
          (event.source_ip ? ` from ${event.source_ip}` : '') +
          (event.identity_credential ? ` with credential \`${event.identity_credential}\`` : '') +
          `; ${String(profile.events)} earlier events on record. Workload credentials used from a desktop are typically stolen.`,
        facts: {
          client,
          user_agent: event.source_user_agent.slice(0, 256),
          source_ip: event.source_ip,
          credential: event.identity_credential,
          history_events: profile.events,
        },
      };
    },
  };
}
