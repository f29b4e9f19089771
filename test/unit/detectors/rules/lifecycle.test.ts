import { describe, expect, it } from 'vitest';
import {
  createDormantReactivationDetector,
  createRevokedActivityDetector,
  createUnregisteredDetector,
} from '../../../../detectors/rules/lifecycle.js';
import { DAY_MS } from '../../../../common/time.js';
import type { IdentityRecord } from '../../../../model/identity.js';
import { context, ev, history, record, T0 } from '../fixtures.js';

describe('lifecycle.dormant_reactivation', () => {
  it('fires after a silence longer than the threshold, not before', () => {
    const detector = createDormantReactivationDetector({ dormantDays: 30 });
    const profile = history(60, 10);
    expect(detector.evaluate(context(ev({ ts: T0 + 5 * DAY_MS }), profile))).toBeNull();
    const observation = detector.evaluate(context(ev({ ts: T0 + 45 * DAY_MS }), profile));
    expect(observation?.title).toContain('after 45 days');
  });
});

describe('identity.unregistered', () => {
  const detector = createUnregisteredDetector();
  const registered: IdentityRecord = {
    id: 'release-bot',
    type: 'agent',
    owner: 'platform',
    purpose: 'ships releases',
    state: 'active',
    stateChangedAt: null,
    credentials: [],
    scope: null,
    registered: true,
  };
  it('needs a registry to mean anything', () => {
    expect(detector.evaluate(context(ev(), history(1)))).toBeNull();
    expect(detector.evaluate(context(ev(), history(1), { registryLoaded: true }))).not.toBeNull();
    expect(
      detector.evaluate(context(ev(), history(1), { registryLoaded: true, identity: registered })),
    ).toBeNull();
  });
});

describe('policy detectors with a registry', () => {
  it('lifecycle.revoked_activity: a revoked credential in use is critical', () => {
    const detector = createRevokedActivityDetector();
    const observation = detector.evaluate(
      context(ev({ identity_credential: 'old-key' }), history(1), { identity: record }),
    );
    expect(observation?.severity).toBe('critical');
    expect(observation?.explanation).toContain('credential `old-key`');
    expect(
      detector.evaluate(context(ev({ identity_credential: 'new-key' }), history(1), { identity: record })),
    ).toBeNull();
    const revoked = { ...record, state: 'suspended' as const, stateChangedAt: T0 };
    expect(detector.evaluate(context(ev(), history(1), { identity: revoked }))?.score).toBe(0.8);
  });
});
