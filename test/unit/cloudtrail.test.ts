import { describe, expect, it } from 'vitest';
import {
  actionClassOf,
  cloudTrailToEvents,
  resourceOf,
  resourceTypeOf,
} from '../../ingest/adapters/cloudtrail.js';
import { createPipeline } from '../../ingest/pipeline.js';

/** Samples written from the CloudTrail record reference (userIdentity, requestParameters, errors). */

const assumedRole = {
  eventVersion: '1.08',
  userIdentity: {
    type: 'AssumedRole',
    principalId: 'AROAEXAMPLE:i-0abc123',
    arn: 'arn:aws:sts::111122223333:assumed-role/web-role/i-0abc123',
    accountId: '111122223333',
    accessKeyId: 'ASIAEXAMPLEKEY000001',
    sessionContext: {
      sessionIssuer: { type: 'Role', arn: 'arn:aws:iam::111122223333:role/web-role', userName: 'web-role' },
      attributes: { creationDate: '2026-03-01T00:00:00Z', mfaAuthenticated: 'false' },
    },
  },
  eventTime: '2026-03-01T10:00:00Z',
  eventSource: 's3.amazonaws.com',
  eventName: 'GetObject',
  awsRegion: 'eu-west-1',
  sourceIPAddress: '203.0.113.7',
  userAgent: 'aws-cli/2.15.0 Python/3.11 Darwin/23.0',
  requestParameters: { bucketName: 'prod-finance', key: 'ledger/2026.csv' },
  readOnly: true,
  eventID: '0f5e3c3e-1111-4c2b-9a7e-000000000001',
  recipientAccountId: '111122223333',
};

const pipeline = createPipeline({ maxMessageBytes: 1 << 20, argsMaxBytes: 4096 });
const run = (value: unknown) =>
  pipeline({
    value: Buffer.from(JSON.stringify(value)),
    format: 'cloudtrail',
    coordinates: { origin: 'file', topic: 'file:t', partition: 0, offset: '1', key: '', timestampMs: 0 },
  });

describe('cloudtrail adapter', () => {
  it('collapses an assumed-role session to its role; the session name becomes the session', () => {
    const [event] = cloudTrailToEvents(assumedRole);
    expect(event).toMatchObject({
      event_id: assumedRole.eventID,
      identity: {
        id: 'arn:aws:iam::111122223333:role/web-role',
        type: 'workload',
        credential: 'ASIAEXAMPLEKEY000001',
      },
      session: 'i-0abc123',
      tool: 's3.amazonaws.com:GetObject',
      permission: 's3:GetObject',
      action: 'data.read',
      resource: { type: 's3_bucket', id: 'prod-finance/ledger/2026.csv' },
      outcome: 'success',
      source: { system: 'aws.cloudtrail', ip: '203.0.113.7' },
    });
    expect(event?.attributes?.['aws.region']).toBe('eu-west-1');
  });

  it('falls back to the ARN when there is no session issuer, and to the service for AWS services', () => {
    const { sessionContext: _omit, ...bare } = assumedRole.userIdentity;
    expect(cloudTrailToEvents({ ...assumedRole, userIdentity: bare })[0]?.identity.id).toBe(
      'arn:aws:iam::111122223333:role/web-role',
    );
    const service = { ...assumedRole, userIdentity: { type: 'AWSService', invokedBy: 'ec2.amazonaws.com' } };
    expect(cloudTrailToEvents(service)[0]?.identity).toMatchObject({
      id: 'ec2.amazonaws.com',
      type: 'workload',
    });
  });

  it('names failed sign-ins by user when AWS logs the name, and by principal id when it hides it', () => {
    const signIn = {
      ...assumedRole,
      eventSource: 'signin.amazonaws.com',
      eventName: 'ConsoleLogin',
      eventType: 'AwsConsoleSignIn',
      requestParameters: null,
      responseElements: { ConsoleLogin: 'Failure' },
      errorMessage: 'Failed authentication',
      userIdentity: {
        type: 'IAMUser',
        principalId: 'AIDAEXAMPLE',
        accountId: '111122223333',
        userName: 'ops',
      },
    };
    expect(cloudTrailToEvents(signIn)[0]).toMatchObject({
      identity: { id: 'arn:aws:iam::111122223333:user/ops' },
      action: 'auth',
      outcome: 'failure',
    });
    const hidden = { ...signIn.userIdentity, userName: 'HIDDEN_DUE_TO_SECURITY_REASONS' };
    expect(cloudTrailToEvents({ ...signIn, userIdentity: hidden })[0]?.identity.id).toBe(
      '111122223333:AIDAEXAMPLE',
    );
    const ok = cloudTrailToEvents({ ...signIn, responseElements: { ConsoleLogin: 'Success' } })[0];
    expect(ok?.outcome).toBe('success');
  });

  it('records nothing for Insights events, alone or inside a delivery file', () => {
    const insight = {
      eventVersion: '1.07',
      eventTime: '2026-03-01T10:00:00Z',
      awsRegion: 'eu-west-1',
      eventID: 'insight-1',
      eventType: 'AwsCloudTrailInsight',
      recipientAccountId: '111122223333',
      sharedEventID: 'shared-1',
      insightDetails: { state: 'Start', eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances' },
      eventCategory: 'Insight',
    };
    expect(cloudTrailToEvents(insight)).toEqual([]);
    expect(cloudTrailToEvents({ Records: [insight, assumedRole] }).map((e) => e.event_id)).toEqual([
      assumedRole.eventID,
    ]);
    expect(run(insight).kind).toBe('drop');
  });

  it('uses one resource vocabulary for parameters and resources[]', () => {
    expect(resourceTypeOf('AWS::KMS::Key', 'arn:aws:kms:eu-west-1:1:key/k')).toBe('kms_key');
    expect(resourceTypeOf('AWS::SecretsManager::Secret', 'arn:aws:secretsmanager:x')).toBe('secret');
    expect(resourceTypeOf(undefined, 'arn:aws:ssm:eu-west-1:1:parameter/app/db')).toBe('ssm_parameter');
    expect(resourceTypeOf(undefined, 'arn:aws:s3:::bucket')).toBe('arn');
    const rp = (requestParameters: unknown) => ({ requestParameters });
    expect(resourceOf('ssm', rp({ name: '/app/db', withDecryption: true }))).toEqual({
      type: 'ssm_parameter',
      id: '/app/db',
    });
    expect(resourceOf('ssm', rp({ names: ['/a', '/b'] }))).toEqual({ type: 'ssm_parameter', id: '/a' });
    expect(resourceOf('secretsmanager', rp({ name: 'db-pass' }))).toEqual({ type: 'secret', id: 'db-pass' });
    expect(
      resourceOf('kms', { resources: [{ ARN: 'arn:aws:kms:eu-west-1:1:key/k', type: 'AWS::KMS::Key' }] }),
    ).toEqual({ type: 'kms_key', id: 'arn:aws:kms:eu-west-1:1:key/k' });
    expect(resourceOf('ec2', rp({ instancesSet: { items: [{ instanceId: 'i-1' }] } }))).toEqual({
      type: 'ec2_instance',
      id: 'i-1',
    });
  });

  it('never dead-letters a record for a legitimately long key or user agent', () => {
    const result = run({
      ...assumedRole,
      userAgent: `aws-sdk-java/2.20 ${'x'.repeat(2000)}`,
      requestParameters: { bucketName: 'prod-finance', key: `k/${'ü'.repeat(1020)}` },
    });
    expect(result.kind).toBe('ok');
    if (result.kind !== 'ok') return;
    expect(result.rows[0]?.resource_id.length).toBe(1024);
    expect(result.rows[0]?.source_user_agent.length).toBe(1024);
  });

  it('unpacks delivery files with Records, keeping each record its own id', () => {
    const events = cloudTrailToEvents({ Records: [assumedRole, { ...assumedRole, eventID: 'second' }] });
    expect(events.map((e) => e.event_id)).toEqual([assumedRole.eventID, 'second']);
  });

  it.each([
    ['secretsmanager', 'GetSecretValue', {}, 'secret.read'],
    ['ssm', 'GetParameters', { requestParameters: { withDecryption: true } }, 'secret.read'],
    ['ssm', 'GetParameters', { requestParameters: { withDecryption: false } }, 'data.read'],
    ['kms', 'Decrypt', {}, 'secret.read'],
    ['ec2', 'GetPasswordData', {}, 'secret.read'],
    ['sts', 'AssumeRole', {}, 'auth'],
    ['signin', 'ConsoleLogin', {}, 'auth'],
    ['iam', 'CreateAccessKey', {}, 'identity.change'],
    ['iam', 'AttachRolePolicy', {}, 'identity.change'],
    ['iam', 'GetRole', { readOnly: true }, 'data.read'],
    ['ec2', 'TerminateInstances', {}, 'data.delete'],
    ['cloudtrail', 'StopLogging', {}, 'data.write'],
    ['ec2', 'DisassociateRouteTable', {}, 'data.write'],
    ['secretsmanager', 'StartSecretVersionDelete', {}, 'data.delete'],
    ['kms', 'ScheduleKeyDeletion', {}, 'data.delete'],
    ['secretsmanager', 'BatchGetSecretValue', {}, 'secret.read'],
    ['sts', 'AssumeRoot', {}, 'auth'],
    ['signin', 'CheckMfa', {}, 'auth'],
    ['iam', 'DeleteRole', {}, 'identity.change'],
    ['organizations', 'LeaveOrganization', {}, 'identity.change'],
    ['s3', 'PutBucketPolicy', {}, 'data.write'],
    ['ec2', 'DescribeInstances', {}, 'data.read'],
    ['ec2', 'RunInstances', {}, 'data.write'],
  ])('%s:%s → %s', (service, name, extra, expected) => {
    expect(actionClassOf(service, name, { ...extra })).toBe(expected);
  });

  it('maps denials and errors to outcomes, keeping the error code', () => {
    const denied = cloudTrailToEvents({
      ...assumedRole,
      errorCode: 'AccessDenied',
      errorMessage: 'not authorized',
    })[0];
    expect(denied?.outcome).toBe('denied');
    expect(denied?.attributes?.['aws.error_code']).toBe('AccessDenied');
    expect(
      cloudTrailToEvents({ ...assumedRole, errorCode: 'Client.UnauthorizedOperation' })[0]?.outcome,
    ).toBe('denied');
    expect(cloudTrailToEvents({ ...assumedRole, errorCode: 'ThrottlingException' })[0]?.outcome).toBe(
      'failure',
    );
  });

  it('goes through the pipeline: unicode kept, big arguments capped, secrets in parameters redacted', () => {
    const secret = ['wJalrXUtnFEMI', 'K7MDENG', 'bPxRfiCYEXAMPLEKEY'].join('/');
    const result = run({
      ...assumedRole,
      requestParameters: { bucketName: 'données-ünïcode', blob: 'x'.repeat(20_000), secretAccessKey: secret },
    });
    expect(result.kind).toBe('ok');
    if (result.kind !== 'ok') return;
    const [row] = result.rows;
    expect(row?.resource_id).toBe('données-ünïcode');
    expect(row?.args).toContain('_truncated');
    expect(JSON.stringify(row)).not.toContain(secret);
  });

  it('caps long S3 keys and user agents instead of dead-lettering, and drops Insights records', () => {
    const long = run({
      ...assumedRole,
      userAgent: `aws-sdk-java/${'x'.repeat(3000)}`,
      requestParameters: { bucketName: 'b', key: 'k/'.repeat(800) },
    });
    expect(long.kind).toBe('ok');
    if (long.kind === 'ok') expect(long.rows[0]?.source_user_agent.length).toBe(1024);
    const insight = { ...assumedRole, eventType: 'AwsCloudTrailInsight', insightDetails: { state: 'Start' } };
    expect(run(insight).kind).toBe('drop');
    expect(cloudTrailToEvents({ Records: [insight, assumedRole] })).toHaveLength(1);
  });

  it('dead-letters a record it cannot read, naming the format and the field', () => {
    const { eventName: _drop, ...noName } = assumedRole;
    const missing = run(noName);
    expect(missing.kind).toBe('dlq');
    if (missing.kind === 'dlq') expect(missing.reason).toBe('cloudtrail: eventName: missing');
    const nobody = run({ ...assumedRole, userIdentity: {} });
    if (nobody.kind === 'dlq') expect(nobody.reason).toContain('cloudtrail: userIdentity:');
    const badRecords = run({ Records: [assumedRole, 'nope'] });
    if (badRecords.kind === 'dlq')
      expect(badRecords.reason).toBe('cloudtrail: Records[1]: must be an object');
    expect(badRecords.kind).toBe('dlq');
    const badTime = run({ ...assumedRole, eventTime: 'yesterday' });
    expect(badTime.kind === 'dlq' && badTime.reason.startsWith('cloudtrail: ts:')).toBe(true);
  });
});
