import type { ActionClass, ActionEventInput, IdentityType } from '../../model/action.js';
import { AdapterError, attributes, clip, isObject, obj, requireString, str, type Json } from './errors.js';

/**
 * AWS CloudTrail → scopewatch.action/v1. One record per message, or a delivery file's
 * `{"Records": [...]}`. Identity is the principal: assumed-role sessions collapse to their role
 * (the session name becomes the session), users stay users, AWS services are themselves.
 * Pure.
 */

const ASSUMED_ROLE = /^arn:(aws[\w-]*):sts::(\d+):assumed-role\/([^/]+)\/(.+)$/;

export interface Principal {
  id: string;
  type: IdentityType;
  session?: string;
}

export function principalOf(userIdentity: Json | undefined, record: Json, prefix = ''): Principal {
  const ui = userIdentity ?? {};
  const arn = str(ui, 'arn');
  const type = str(ui, 'type');
  const issuer = obj(obj(ui.sessionContext)?.sessionIssuer);
  if (arn) {
    const assumed = ASSUMED_ROLE.exec(arn);
    if (assumed) {
      const [, partition, account, role, session] = assumed;
      const roleArn =
        str(issuer, 'arn') ?? `arn:${partition ?? 'aws'}:iam::${account ?? ''}:role/${role ?? ''}`;
      return { id: roleArn, type: 'workload', session };
    }
    return { id: arn, type: type === 'IAMUser' || type === 'Root' ? 'service_account' : 'workload' };
  }
  // Service principals (and some service-invoked calls) carry no ARN: the service is the actor.
  const invokedBy = str(ui, 'invokedBy');
  if (invokedBy) return { id: invokedBy, type: 'workload' };
  // Failed sign-ins log the user without an ARN; AWS hides names it could not verify.
  const account = str(ui, 'accountId') ?? str(record, 'recipientAccountId');
  const userName = str(ui, 'userName');
  if (type === 'IAMUser' && account && userName && userName !== 'HIDDEN_DUE_TO_SECURITY_REASONS')
    return { id: `arn:aws:iam::${account}:user/${userName}`, type: 'service_account' };
  const principalId = str(ui, 'principalId');
  if (principalId) return { id: `${str(ui, 'accountId') ?? 'aws'}:${principalId}`, type: 'workload' };
  if (type)
    return {
      id: `${type}:${str(ui, 'accountId') ?? str(record, 'recipientAccountId') ?? 'unknown'}`,
      type: 'workload',
    };
  throw new AdapterError(
    `${prefix}userIdentity`,
    'no arn, invokedBy, principalId or type: cannot tell who acted',
  );
}

const IDENTITY_SERVICES = new Set(['iam', 'sts', 'organizations', 'sso', 'identitystore', 'cognito-idp']);
const AUTH_EVENTS =
  /^(AssumeRole.*|AssumeRoot|GetSessionToken|GetFederationToken|ConsoleLogin|GetSigninToken|GetRoleCredentials|CheckMfa|SwitchRole|ExitRole|RenewRole|Authenticate|CreateToken)$/;
const READ_EVENT =
  /^(Get|List|Describe|Head|Lookup|Search|Scan|Query|Select|BatchGet|Check|Validate|Preview|View|Estimate|Test|Simulate)/;
// Deletions only: stopping, detaching or disabling something is a change, not lost data.
const DELETE_EVENT = /^(Delete|Terminate|Remove|Purge|Destroy)|Delet(e|ion)$/;

/** The action class a CloudTrail call belongs to: what a reviewer would call it. */
export function actionClassOf(service: string, eventName: string, record: Json): ActionClass {
  const params = obj(record.requestParameters);
  if (
    (service === 'secretsmanager' && /^(Batch)?GetSecretValue$/.test(eventName)) ||
    (service === 'ssm' &&
      /^GetParameters?(ByPath|History)?$/.test(eventName) &&
      params?.withDecryption === true) ||
    (service === 'kms' && eventName === 'Decrypt') ||
    (service === 'ec2' && eventName === 'GetPasswordData')
  )
    return 'secret.read';
  // Everything the console sign-in service logs is authentication (logins, MFA, role switches).
  if (AUTH_EVENTS.test(eventName) || service === 'signin') return 'auth';
  const readOnly = record.readOnly === true || READ_EVENT.test(eventName);
  if (IDENTITY_SERVICES.has(service) && !readOnly) return 'identity.change';
  if (readOnly) return 'data.read';
  if (DELETE_EVENT.test(eventName)) return 'data.delete';
  return 'data.write';
}

/** Request parameters that name what was acted on, most specific first, with a resource type. */
const RESOURCE_PARAMS: readonly [string, string][] = [
  ['secretId', 'secret'],
  ['roleName', 'iam_role'],
  ['userName', 'iam_user'],
  ['policyArn', 'iam_policy'],
  ['groupName', 'iam_group'],
  ['instanceProfileName', 'iam_instance_profile'],
  ['functionName', 'lambda_function'],
  ['keyId', 'kms_key'],
  ['instanceId', 'ec2_instance'],
  ['name', 'name'],
  ['trailName', 'cloudtrail_trail'],
  ['logGroupName', 'log_group'],
  ['tableName', 'dynamodb_table'],
  ['queueUrl', 'sqs_queue'],
  ['topicArn', 'sns_topic'],
  ['clusterName', 'cluster'],
  ['repositoryName', 'repository'],
  ['stackName', 'cloudformation_stack'],
  ['vpcId', 'vpc'],
  ['routeTableId', 'route_table'],
  ['subnetId', 'subnet'],
  ['groupId', 'security_group'],
  ['roleArn', 'iam_role'],
];

function firstInstance(params: Json): string | undefined {
  const items = obj(params.instancesSet)?.items;
  if (Array.isArray(items) && isObject(items[0])) return str(items[0], 'instanceId');
  const ids = params.instanceIds;
  if (Array.isArray(ids) && typeof ids[0] === 'string') return ids[0];
  return undefined;
}

/** What a generic `name` parameter names, per service (SSM parameters, secrets, trails). */
const NAME_TYPES: Readonly<Record<string, string>> = {
  ssm: 'ssm_parameter',
  secretsmanager: 'secret',
  cloudtrail: 'cloudtrail_trail',
};
const TYPE_ALIASES: Readonly<Record<string, string>> = { secretsmanager_secret: 'secret' };

/**
 * One vocabulary of resource types whether the resource came from a request parameter or
 * from `resources[]`: `AWS::KMS::Key` and a `keyId` parameter are both `kms_key`, so
 * detectors keyed on type + id see the same resource. Without a type, the ARN's service and
 * resource type (`arn:aws:ssm:…:parameter/x` → `ssm_parameter`).
 */
export function resourceTypeOf(awsType: string | undefined, arn: string): string {
  let type: string | undefined;
  if (awsType)
    type = awsType
      .replace(/^AWS::/, '')
      .replace(/::/g, '_')
      .toLowerCase();
  else {
    const [, , service, , , rest] = arn.split(':');
    const kind = rest?.split('/')[0];
    type = service && kind && kind !== rest ? `${service}_${kind}` : undefined;
  }
  return type ? (TYPE_ALIASES[type] ?? type) : 'arn';
}

export function resourceOf(service: string, record: Json): { type: string; id: string } | undefined {
  const params = obj(record.requestParameters);
  if (params) {
    // Objects keep their bucket's type: the bucket is the prefix detectors compare.
    const bucket = str(params, 'bucketName');
    if (bucket) {
      const key = str(params, 'key');
      return { type: 's3_bucket', id: key ? `${bucket}/${key}` : bucket };
    }
    for (const [param, type] of RESOURCE_PARAMS) {
      const value = params[param];
      if (typeof value === 'string' && value)
        return { type: param === 'name' ? (NAME_TYPES[service] ?? `${service}_name`) : type, id: value };
    }
    const names = params.names;
    if (service === 'ssm' && Array.isArray(names) && typeof names[0] === 'string' && names[0])
      return { type: 'ssm_parameter', id: names[0] };
    const instance = firstInstance(params);
    if (instance) return { type: 'ec2_instance', id: instance };
  }
  const resources = record.resources;
  if (Array.isArray(resources)) {
    for (const r of resources) {
      const arn = isObject(r) ? str(r, 'ARN') : undefined;
      if (arn) return { type: resourceTypeOf(isObject(r) ? str(r, 'type') : undefined, arn), id: arn };
    }
  }
  return undefined;
}

const DENIED = /AccessDenied|UnauthorizedOperation|NotAuthorized|Forbidden|UnauthorizedAccess/i;

/** Event sources whose IAM action prefix is not the endpoint name. */
const IAM_PREFIX: Readonly<Record<string, string>> = { monitoring: 'cloudwatch', email: 'ses' };

function outcomeOf(record: Json, errorCode: string | undefined): 'success' | 'failure' | 'denied' {
  if (errorCode) return DENIED.test(errorCode) ? 'denied' : 'failure';
  // Console sign-in failures carry no errorCode: the verdict is in the response.
  const responses = obj(record.responseElements);
  if (responses && Object.values(responses).includes('Failure')) return 'failure';
  return 'success';
}

/** Insights events describe unusual API volume, not a call anyone made: nothing to record. */
function isInsight(record: Json): boolean {
  return record.eventType === 'AwsCloudTrailInsight' || 'insightDetails' in record;
}

export function cloudTrailRecordToEvent(record: Json, prefix = ''): ActionEventInput {
  const where = (field: string): string => `${prefix}${field}`;
  const eventSource = requireString(record, 'eventSource', where('eventSource'));
  const eventName = requireString(record, 'eventName', where('eventName'));
  const eventTime = requireString(record, 'eventTime', where('eventTime'));
  const userIdentity = record.userIdentity;
  if (userIdentity !== undefined && userIdentity !== null && !isObject(userIdentity))
    throw new AdapterError(where('userIdentity'), 'must be an object');
  const principal = principalOf(obj(userIdentity), record, prefix);
  const service = eventSource.replace(/\.amazonaws\.com$/, '');
  const errorCode = str(record, 'errorCode');
  const found = resourceOf(service, record);
  const resource = found && { type: clip(found.type, 128), id: clip(found.id, 1024) };
  const ui = obj(userIdentity);
  return {
    event_id: str(record, 'eventID'),
    ts: eventTime,
    identity: {
      id: principal.id,
      type: principal.type,
      credential: str(ui, 'accessKeyId'),
    },
    session: principal.session,
    action: actionClassOf(service, eventName, record),
    tool: `${eventSource}:${eventName}`,
    permission: `${IAM_PREFIX[service] ?? service}:${eventName}`,
    resource,
    outcome: outcomeOf(record, errorCode),
    source: {
      system: 'aws.cloudtrail',
      // Service-made calls log the service's host name here, not an address.
      ip: clip(str(record, 'sourceIPAddress'), 64),
      user_agent: clip(str(record, 'userAgent'), 1024),
    },
    args: obj(record.requestParameters),
    attributes: attributes({
      'aws.region': record.awsRegion,
      'aws.account_id': record.recipientAccountId,
      'aws.event_type': record.eventType,
      'aws.request_id': record.requestID,
      'aws.error_code': errorCode,
      'aws.error_message': record.errorMessage,
      'aws.read_only': record.readOnly,
      'aws.user_identity_type': ui?.type,
      'aws.invoked_by': ui?.invokedBy,
      'tls.host': obj(record.tlsDetails)?.clientProvidedHostHeader,
    }),
  };
}

/** One message: a single record, or a delivery file with `Records`. Insights events → nothing. */
export function cloudTrailToEvents(json: Json): ActionEventInput[] {
  if ('Records' in json) {
    const records = json.Records;
    if (!Array.isArray(records)) throw new AdapterError('Records', 'must be an array of CloudTrail records');
    return records.flatMap((record: unknown, i) => {
      if (!isObject(record)) throw new AdapterError(`Records[${String(i)}]`, 'must be an object');
      return isInsight(record) ? [] : [cloudTrailRecordToEvent(record, `Records[${String(i)}].`)];
    });
  }
  return isInsight(json) ? [] : [cloudTrailRecordToEvent(json)];
}
