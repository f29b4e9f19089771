import { describe, expect, it } from 'vitest';
import { PeerIndex } from '../../../../detectors/peers.js';
import { IdentityProfile } from '../../../../detectors/profile.js';
import { createNewResourceDetector } from '../../../../detectors/rules/scope-new-resource.js';
import type { Observation } from '../../../../detectors/types.js';
import type { DetectorEvent } from '../../../../model/detector-event.js';
import { context, ev, history } from '../fixtures.js';

describe('scope.new_resource', () => {
  const detector = createNewResourceDetector({ minScore: 0 });

  it('names the family the identity never touched', () => {
    const observation = detector.evaluate(
      context(ev({ tool: 'git.push', resource_id: 'prod-finance/ledger', action: 'code.push' }), history(60)),
    );
    expect(observation?.explanation).toContain('none matching `prod-finance/*`');
    expect(observation?.facts.prefix_known).toBe(false);
  });

  it('gives examples from the family it names, and none when it knows no member', () => {
    // Mostly raw-events objects, a few curated-events ones: the examples of a new curated object
    // are curated ones, not the type's most frequent objects.
    const profile = new IdentityProfile('data-pipeline');
    const object = (key: string, tool = 's3:GetObject'): DetectorEvent =>
      ev({
        identity_id: 'data-pipeline',
        tool,
        action: 'data.read',
        resource_type: 's3_object',
        resource_id: key,
      });
    for (let i = 0; i < 60; i += 1)
      profile.observe(object(`s3://raw-events/2026/03/01/${String(i % 20)}.json.gz`));
    for (let i = 0; i < 3; i += 1)
      profile.observe(object(`s3://curated-events/events/part-${String(i)}.parquet`, 's3:PutObject'));
    const curated = detector.evaluate(
      context(object('s3://curated-events/events/part-9.parquet', 's3:PutObject'), profile),
    );
    expect(curated?.facts.prefix_known).toBe(true);
    expect(curated?.explanation).toContain(
      'it has used 3 other `curated-events/*` ones (`s3://curated-events/',
    );
    expect(curated?.explanation).not.toContain('raw-events');
    // The family is known (its prefix was seen) but its only member is held out of the baseline.
    const held = new IdentityProfile('data-pipeline');
    for (let i = 0; i < 60; i += 1)
      held.observe(object(`s3://raw-events/2026/03/01/${String(i % 20)}.json.gz`));
    held.observe(object('s3://drop-zone/a.bin', 's3:PutObject'), (t) => t.kind === 'resource');
    const drop = detector.evaluate(context(object('s3://drop-zone/b.bin', 's3:PutObject'), held));
    expect(drop?.facts.prefix_known).toBe(true);
    expect(drop?.explanation).toContain(
      'it has worked in `drop-zone/*` before, but none of those resources is in its baseline.',
    );
    expect(drop?.explanation).not.toContain('raw-events');
  });

  it('scores a new member of a known family lower than a new family', () => {
    const profile = history(60);
    const known = detector.evaluate(
      context(ev({ tool: 'git.push', resource_id: 'acme/billing', action: 'code.push' }), profile),
    );
    const unknown = detector.evaluate(
      context(ev({ tool: 'git.push', resource_id: 'evil/billing', action: 'code.push' }), profile),
    );
    expect(known?.facts.prefix_known).toBe(true);
    expect(known?.score ?? 1).toBeLessThan(unknown?.score ?? 0);
  });

  it('treats the type as the family of opaque ids the identity already works with many of', () => {
    const profile = new IdentityProfile('support');
    for (let i = 0; i < 40; i += 1)
      profile.observe(
        ev({
          identity_id: 'support',
          tool: 'get_reservation',
          resource_type: 'reservation_id',
          resource_id: `R${String(i % 4)}X${String(i)}`.slice(0, 6),
        }),
      );
    const opaque = (type: string): DetectorEvent =>
      ev({ identity_id: 'support', tool: 'get_reservation', resource_type: type, resource_id: 'QKRY03' });
    const member = detector.evaluate(context(opaque('reservation_id'), profile));
    const stranger = detector.evaluate(context(opaque('payment_card'), profile));
    expect(member?.facts.prefix_known).toBe(true);
    expect(stranger?.facts.prefix_known).toBe(false);
    expect(member?.score ?? 1).toBeLessThan(stranger?.score ?? 0);
  });

  it('raises a destination nobody in the fleet uses above one its peers use', () => {
    const profile = history(60);
    const peers = new PeerIndex();
    for (const id of ['a', 'b', 'c', 'd']) peers.add(id, { kind: 'tool', value: 'git.push' });
    for (const id of ['a', 'b']) peers.add(id, { kind: 'resource', value: 'recipient:ACME-PAYROLL' });
    const send = (to: string): DetectorEvent =>
      ev({ tool: 'send_money', action: 'tool.call', resource_type: 'recipient', resource_id: to });
    const fleetNew = detector.evaluate(context(send('US133000000121212121212'), profile, { peers }));
    const common = detector.evaluate(context(send('ACME-PAYROLL'), profile, { peers }));
    expect(fleetNew?.facts.fleet_new).toBe(true);
    expect(common?.facts.fleet_new).toBe(false);
    expect(fleetNew?.score ?? 0).toBeGreaterThan((common?.score ?? 1) + 0.3);
    expect(fleetNew?.explanation).toContain('No other identity');
    // Fewer than three other identities say nothing about the fleet.
    const small = new PeerIndex();
    small.add('a', { kind: 'tool', value: 'git.push' });
    const alone = detector.evaluate(context(send('US133000000121212121212'), profile, { peers: small }));
    expect(alone?.facts.fleet_new).toBe(false);
  });

  it('takes its destination types from its config', () => {
    const profile = history(60);
    const payee = (types?: string[]): Observation | null =>
      createNewResourceDetector({ minScore: 0, ...(types ? { destinationTypes: types } : {}) }).evaluate(
        context(
          ev({ tool: 'pay', action: 'tool.call', resource_type: 'payee', resource_id: 'ACME-9' }),
          profile,
        ),
      );
    expect(payee()?.facts.held_for_triage).toBe(false);
    expect(payee(['payee'])?.facts.held_for_triage).toBe(true);
    expect(createNewResourceDetector({ destinationTypes: ['url', 'payee', 'url'] }).config).toMatchObject({
      destinationTypes: 'payee,url',
    });
  });

  it('ignores events without a resource and known resources', () => {
    expect(detector.evaluate(context(ev({ resource_id: '' }), history(60)))).toBeNull();
    expect(
      detector.evaluate(
        context(ev({ resource_id: 'acme/api', tool: 'github.get_pull_request' }), history(60)),
      ),
    ).toBeNull();
  });
});
