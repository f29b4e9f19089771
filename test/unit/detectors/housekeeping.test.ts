import { describe, expect, it } from 'vitest';
import { isRemoval, operationOf, ownResourceRemoved } from '../../../detectors/housekeeping.js';
import type { IdentityProfile } from '../../../detectors/profile.js';
import { createNewEgressDetector } from '../../../detectors/rules/scope-new-egress.js';
import { createNewToolDetector } from '../../../detectors/rules/scope-new-tool.js';
import { createPrivilegeEscalationDetector } from '../../../detectors/rules/scope-privilege-escalation.js';
import { DAY_MS } from '../../../common/time.js';
import type { DetectorEvent } from '../../../model/detector-event.js';
import { context, ev, history, T0 } from './fixtures.js';

describe('housekeeping', () => {
  it('reads the operation out of tool names of every shape', () => {
    expect(operationOf('iam.amazonaws.com:DeleteRole')).toBe('DeleteRole');
    expect(operationOf('github.repo.destroy')).toBe('destroy');
    expect(operationOf('mcp/filesystem/delete_file')).toBe('delete_file');
    expect(operationOf('delete_file')).toBe('delete_file');
  });

  it.each([
    ['data.delete', 'files.trash', true],
    ['identity.change', 'iam.amazonaws.com:DetachRolePolicy', true],
    ['data.write', 'ec2.amazonaws.com:DisassociateRouteTable', true],
    ['identity.change', 'iam.amazonaws.com:CreateRole', false],
    ['data.read', 'iam.amazonaws.com:DeleteRole', false],
    ['deploy', 'argo.remove_app', true],
    ['api.call', 'delete_file', false],
  ] as const)('%s %s is a removal: %s', (action, tool, removal) => {
    expect(isRemoval({ action, tool })).toBe(removal);
  });

  const built = (): IdentityProfile => {
    const profile = history(60);
    profile.observe(
      ev({
        tool: 'iam.create_role',
        action: 'identity.change',
        resource_type: 'iam_role',
        resource_id: 'ci-runner',
      }),
    );
    profile.observe(
      ev({ tool: 'iam.get_role', action: 'data.read', resource_type: 'iam_role', resource_id: 'admin' }),
    );
    return profile;
  };
  const removal = (resource: string): DetectorEvent =>
    ev({
      tool: 'iam.delete_role',
      action: 'identity.change',
      resource_type: 'iam_role',
      resource_id: resource,
    });
  const window = 30 * DAY_MS;

  it('recognises removing what the identity itself changed, not what it only looked at', () => {
    const profile = built();
    expect(ownResourceRemoved(removal('ci-runner'), profile, window)?.count).toBe(1);
    expect(ownResourceRemoved(removal('admin'), profile, window)).toBeUndefined();
    expect(ownResourceRemoved(removal('never-seen'), profile, window)).toBeUndefined();
  });

  it('forgets ownership outside the window, and for a resource held out of the baseline', () => {
    const profile = built();
    const late = { ...removal('ci-runner'), ts: T0 + 40 * DAY_MS };
    expect(ownResourceRemoved(late, profile, window)).toBeUndefined();
    const held = history(60);
    held.observe(
      ev({
        tool: 'hooks.create',
        action: 'data.write',
        resource_type: 'webhook',
        resource_id: 'https://x.example',
      }),
      (t) => t.kind === 'resource',
    );
    const undo = ev({
      tool: 'hooks.delete',
      action: 'data.delete',
      resource_type: 'webhook',
      resource_id: 'https://x.example',
    });
    expect(ownResourceRemoved(undo, held, window)).toBeUndefined();
  });

  it('keeps scope.new_tool and scope.privilege_escalation quiet about cleaning up, unless configured not to', () => {
    const profile = built();
    const teardown = ev({
      tool: 'iam.delete_role',
      action: 'data.delete',
      resource_type: 'iam_role',
      resource_id: 'ci-runner',
    });
    expect(createNewToolDetector().evaluate(context(teardown, profile))).toBeNull();
    const foreign = { ...teardown, resource_id: 'admin' };
    expect(createNewToolDetector().evaluate(context(foreign, profile))).not.toBeNull();
    // Deleting for the first time is an escalation, except when it is the identity's own file.
    const files = history(60);
    files.observe(
      ev({ tool: 'files.write', action: 'data.write', resource_type: 'file', resource_id: 'out.csv' }),
    );
    files.observe(
      ev({ tool: 'files.read', action: 'data.read', resource_type: 'file', resource_id: 'payroll.csv' }),
    );
    const remove = (id: string): DetectorEvent =>
      ev({ tool: 'files.delete', action: 'data.delete', resource_type: 'file', resource_id: id });
    const escalation = createPrivilegeEscalationDetector();
    expect(escalation.evaluate(context(remove('out.csv'), files))).toBeNull();
    expect(escalation.evaluate(context(remove('payroll.csv'), files))?.subject).toBe('delete');
    // Reaching a new domain while cleaning up is still a new egress.
    const egress = createNewEgressDetector().evaluate(
      context({ ...teardown, target_domain: 'drop.example' }, profile),
    );
    expect(egress?.subject).toBe('drop.example');
    const strict = createNewToolDetector({ housekeeping: false });
    expect(strict.config.housekeeping).toBe(false);
    expect(strict.evaluate(context(teardown, profile))).not.toBeNull();
  });
});
