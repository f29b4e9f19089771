import type { ActionClass } from '../model/action.js';

/**
 * The tools the demo identities call, with the action class, permission and audit source each
 * one implies, so a session script names only the tool and its events still come out whole.
 */

interface ToolSpec {
  action: ActionClass;
  permission?: string;
  /** The audit system that reports this tool's calls, when not the identity's own runtime. */
  system?: string;
}

const TOOL_SPECS = {
  // release-bot
  'github.get_pull_request': { action: 'api.call', permission: 'pull_requests:read' },
  'github.list_check_runs': { action: 'api.call', permission: 'checks:read' },
  'github.create_check_run': { action: 'api.call', permission: 'checks:write' },
  'git.commit': { action: 'code.commit', permission: 'contents:write' },
  'git.push': { action: 'code.push', permission: 'contents:write', system: 'github-audit' },
  'argo.sync': { action: 'deploy', permission: 'applications:sync', system: 'argocd' },
  'argo.get_application': { action: 'api.call', permission: 'applications:get', system: 'argocd' },
  // human approvers
  'github.approve_deployment': {
    action: 'approval.grant',
    permission: 'deployments:review',
    system: 'github-audit',
  },
  // support-agent
  'zendesk.get_ticket': { action: 'data.read', permission: 'tickets:read' },
  'zendesk.add_comment': { action: 'data.write', permission: 'tickets:write' },
  'kb.search': { action: 'tool.call' },
  send_email: { action: 'api.call', permission: 'mail.send' },
  // data-pipeline
  'vault.read': { action: 'secret.read', permission: 'read', system: 'vault-audit' },
  's3:GetObject': { action: 'data.read', permission: 's3:GetObject', system: 'aws-cloudtrail' },
  's3:PutObject': { action: 'data.write', permission: 's3:PutObject', system: 'aws-cloudtrail' },
  'snowflake.query': { action: 'data.read', system: 'snowflake' },
  // coding-agent
  'repo.search': { action: 'tool.call', permission: 'contents:read' },
  'repo.read_file': { action: 'data.read', permission: 'contents:read' },
  'pip.install': { action: 'network.egress' },
  'npm.install': { action: 'network.egress' },
  run_tests: { action: 'tool.call' },
  'github.create_pull_request': { action: 'api.call', permission: 'pull_requests:write' },
  // legacy-sync
  'ldap.search': { action: 'data.read' },
  'salesforce.bulk_query': { action: 'data.read', permission: 'api:bulk' },
  'sftp.put': { action: 'network.egress' },
  // only ever seen in injected incidents
  'iam.create_access_key': {
    action: 'identity.change',
    permission: 'iam:CreateAccessKey',
    system: 'aws-cloudtrail',
  },
  'iam.attach_role_policy': {
    action: 'identity.change',
    permission: 'iam:AttachRolePolicy',
    system: 'aws-cloudtrail',
  },
  'kubectl.exec': { action: 'tool.call', permission: 'pods/exec', system: 'k8s-audit' },
  'http.post': { action: 'network.egress' },
} satisfies Record<string, ToolSpec>;
export type ToolName = keyof typeof TOOL_SPECS;
export const TOOLS: Readonly<Record<ToolName, ToolSpec>> = TOOL_SPECS;
