import { DAY_MS } from '../../common/time.js';
import { lifecycleAt } from '../registry.js';
import {
  roundScore,
  severityFromScore,
  type Detector,
  type DetectorContext,
  type Observation,
} from '../types.js';
import { formatDate } from './novelty.js';

/** `lifecycle.revoked_activity`: a suspended or revoked identity, or a revoked credential, acts. */
export function createRevokedActivityDetector(): Detector {
  return {
    id: 'lifecycle.revoked_activity',
    version: '1.0.0',
    kind: 'policy',
    config: {},
    frameworks: ['OWASP-NHI:NHI1', 'OWASP-NHI:NHI7', 'NIST-CSF:PR.AA-01'],
    evaluate({ event, identity }: DetectorContext): Observation | null {
      if (!identity) return null;
      const status = lifecycleAt(identity, event.identity_credential, event.ts);
      if (status.state === 'active') return null;
      const what =
        status.subject === 'credential'
          ? `credential \`${event.identity_credential}\` of \`${identity.id}\``
          : `identity \`${identity.id}\``;
      const since = status.since === null ? '' : ` since ${new Date(status.since).toISOString()}`;
      const score = status.state === 'revoked' ? 0.95 : 0.8;
      return {
        subject: status.subject === 'credential' ? `credential:${event.identity_credential}` : 'identity',
        severity: severityFromScore(score),
        score,
        title: `${status.state} ${status.subject} used: ${identity.id}`,
        explanation: `The ${what} is ${status.state}${since}, yet it called \`${event.tool}\` (${event.action}, ${event.outcome}) at ${new Date(event.ts).toISOString()}.`,
        facts: {
          state: status.state,
          since: status.since ?? '',
          subject: status.subject,
          credential: event.identity_credential,
          owner: identity.owner,
        },
      };
    },
  };
}

export type DormancyConfig = {
  /** Silence longer than this, then activity, is a reactivation. */
  dormantDays: number;
  /** Only identities with a real history can be dormant. */
  warmupEvents: number;
};

/** `lifecycle.dormant_reactivation`: activity after a long silence (stale identities get taken over). */
export function createDormantReactivationDetector(overrides: Partial<DormancyConfig> = {}): Detector {
  const config: DormancyConfig = {
    dormantDays: overrides.dormantDays ?? 30,
    warmupEvents: overrides.warmupEvents ?? 20,
  };
  return {
    id: 'lifecycle.dormant_reactivation',
    version: '1.0.0',
    kind: 'behavioural',
    config,
    frameworks: ['OWASP-NHI:NHI1', 'NIST-CSF:DE.CM-09'],
    evaluate({ event, profile }: DetectorContext): Observation | null {
      if (profile.lastTs === null || profile.events < config.warmupEvents) return null;
      const silentDays = (event.ts - profile.lastTs) / DAY_MS;
      if (silentDays < config.dormantDays) return null;
      const score = roundScore(0.5 + Math.min(0.3, (silentDays / config.dormantDays - 1) * 0.1));
      return {
        subject: `after:${formatDate(profile.lastTs)}`,
        severity: severityFromScore(score),
        score,
        title: `${event.identity_id} active again after ${String(Math.floor(silentDays))} days`,
        explanation:
          `\`${event.identity_id}\` called \`${event.tool}\` on ${formatDate(event.ts)} after ${String(Math.floor(silentDays))} days of silence ` +
          `(last activity ${formatDate(profile.lastTs)}; ${String(profile.events)} events before that; dormancy threshold ${String(config.dormantDays)} days).`,
        facts: {
          last_seen: profile.lastTs,
          silent_days: Math.floor(silentDays),
          history_events: profile.events,
        },
      };
    },
  };
}

/** `identity.unregistered`: an identity acting that the registry does not know. */
export function createUnregisteredDetector(): Detector {
  return {
    id: 'identity.unregistered',
    version: '1.0.0',
    kind: 'policy',
    config: {},
    frameworks: ['OWASP-NHI:NHI9', 'NIST-CSF:ID.AM-01'],
    evaluate({ event, identity, registryLoaded, profile }: DetectorContext): Observation | null {
      if (!registryLoaded || (identity?.registered ?? false)) return null;
      return {
        subject: 'identity',
        severity: 'medium',
        score: 0.5,
        title: `Unregistered identity acting: ${event.identity_id}`,
        explanation:
          `\`${event.identity_id}\` called \`${event.tool}\` but has no owner, purpose or declared scope in the identity registry` +
          (profile.events > 0 ? ` (${String(profile.events)} earlier events).` : ' (first event seen).'),
        facts: { history_events: profile.events, identity_type: event.identity_type },
      };
    },
  };
}
