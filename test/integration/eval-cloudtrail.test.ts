import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { evalDir } from '../../eval/suites.js';
import { createPipeline } from '../../ingest/pipeline.js';
import type { ActionRow } from '../../model/rows.js';

/**
 * The real CloudTrail of the shared evaluation suites maps with no dead letters and sensible
 * identities, tools and action classes. Counts and mappings below were checked by hand against
 * the raw records. Reads ../shared/eval only when present (CI has it).
 */

const EVAL = evalDir();
const FILES = [
  'cloudtrail-stratus/baseline.jsonl.gz',
  'cloudtrail-stratus/input.jsonl.gz',
  'cloudtrail-ec2-exfil/input.jsonl.gz',
];
const missing = FILES.map((f) => path.join(EVAL, f)).filter((f) => !existsSync(f));
const present = missing.length === 0;
if (!present) console.warn(`eval-cloudtrail: skipped, evaluation data missing: ${missing.join(', ')}`);

describe.skipIf(!present)('real CloudTrail (shared eval suites)', () => {
  const pipeline = createPipeline({ maxMessageBytes: 1 << 20, argsMaxBytes: 8192 });
  const rows: ActionRow[] = [];
  const byId = new Map<string, ActionRow>();
  let dlq = 0;
  let records = 0;
  // Read in beforeAll: the describe body runs at collection time even when the suite is skipped.
  beforeAll(() => {
    for (const file of FILES) {
      const lines = gunzipSync(readFileSync(path.join(EVAL, file)))
        .toString('utf8')
        .split('\n');
      lines.forEach((line, i) => {
        if (!line.trim()) return;
        records += 1;
        const result = pipeline({
          value: Buffer.from(line),
          format: 'cloudtrail',
          coordinates: {
            origin: 'file',
            topic: `file:${file}`,
            partition: 0,
            offset: String(i),
            key: '',
            timestampMs: 0,
          },
        });
        if (result.kind === 'ok') rows.push(...result.rows);
        else dlq += 1;
      });
    }
    for (const r of rows) byId.set(r.event_id, r);
  });

  it('maps every record, none dead-lettered', () => {
    expect(records).toBe(1937);
    expect(dlq).toBe(0);
    expect(rows).toHaveLength(1937);
  });

  it('finds the principals: users, roles (sessions collapsed) and AWS services', () => {
    const identities = new Set(rows.map((r) => r.identity_id));
    expect(identities.size).toBe(15);
    expect(identities).toContain('arn:aws:iam::123837392027:user/bert-jan');
    expect(identities).toContain(
      'arn:aws:iam::123456789123:role/MordorNginxStack-BankingWAFRole-9S3E0UAE1MM0',
    );
    expect(identities).toContain('secretsmanager.amazonaws.com');
    expect([...identities].some((id) => id.includes('assumed-role'))).toBe(false);
  });

  it('classifies actions', () => {
    const classes: Record<string, number> = {};
    for (const r of rows) classes[r.action] = (classes[r.action] ?? 0) + 1;
    expect(classes).toEqual({
      auth: 32,
      'secret.read': 354,
      'data.read': 1133,
      'identity.change': 47,
      'data.write': 204,
      'data.delete': 167,
    });
  });

  it.each([
    [
      '00d955a7-4797-46c4-ba50-ed0c81867020',
      'arn:aws:iam::123837392027:role/sandbox-ec2-get-password-data-role',
      'ec2.amazonaws.com:GetPasswordData',
      'secret.read',
      'denied',
    ],
    [
      'e4bad408-6272-4892-bf47-bd41b435ce40',
      'arn:aws:iam::123837392027:user/bert-jan',
      'sts.amazonaws.com:AssumeRole',
      'auth',
      'denied',
    ],
    [
      '04e99aef-c0da-410b-91d5-4ff900bdc32e',
      'arn:aws:iam::123837392027:user/bert-jan',
      'secretsmanager.amazonaws.com:GetSecretValue',
      'secret.read',
      'success',
    ],
    [
      '9790ee84-ed2b-4866-83d1-f32af0dd4cd2',
      'arn:aws:iam::123837392027:user/bert-jan',
      'cloudtrail.amazonaws.com:StopLogging',
      'data.write',
      'failure',
    ],
    [
      '55e25aa9-7165-446e-aef6-815c7a79a961',
      'ec2.amazonaws.com',
      'sts.amazonaws.com:AssumeRole',
      'auth',
      'success',
    ],
  ])('%s → %s %s (%s, %s)', (id, identity, tool, action, outcome) => {
    expect(byId.get(id)).toMatchObject({ identity_id: identity, tool, action, outcome });
  });

  it('uses one resource vocabulary across parameters and resources[]', () => {
    const types = new Set(rows.map((r) => r.resource_type).filter((t) => t !== ''));
    expect([...types].sort()).toEqual([
      'cloudtrail_trail',
      'ec2_instance',
      'iam_instance_profile',
      'iam_policy',
      'iam_role',
      'kms_key',
      'log_group',
      'route_table',
      's3_bucket',
      'secret',
      'ssm_parameter',
      'subnet',
      'vpc',
    ]);
    // kms:Decrypt on behalf of a user (invoked by Secrets Manager): the user acted, on the key.
    expect(byId.get('0b277755-1fc2-4824-9460-05bb0c46d0d2')).toMatchObject({
      identity_id: 'arn:aws:iam::123837392027:user/bert-jan',
      action: 'secret.read',
      resource_type: 'kms_key',
      resource_id: 'arn:aws:kms:us-east-1:123837392027:key/dad21b23-9915-42bd-981b-2a9f3c8f20c8',
    });
    // A service event with no userIdentity.type: the service is the actor.
    expect(byId.get('895dc875-cb08-45a5-b8c2-9158838741c0')).toMatchObject({
      identity_id: 'ec2.amazonaws.com',
      tool: 'ec2.amazonaws.com:SharedSnapshotVolumeCreated',
      action: 'data.write',
    });
    expect(byId.get('11badb48-54ce-433e-bef6-40e3a2cf02fe')).toMatchObject({
      action: 'secret.read',
      resource_type: 'ssm_parameter',
      resource_id: '/credentials/sandbox/credentials-10',
    });
  });

  it('keeps the role session and the resource', () => {
    expect(byId.get('00d955a7-4797-46c4-ba50-ed0c81867020')).toMatchObject({
      session: 'aws-go-sdk-1688990082523310002',
      resource_type: 'ec2_instance',
      resource_id: 'i-yo72hkw7elzv1ald',
      identity_credential: 'ASIATFQR7NSCWLLE7IWW',
    });
  });
});
