import type { ActionEventInput } from '../../model/action.js';
import { AdapterError, attributes, isObject, obj, str, type Json } from './errors.js';

/**
 * MCP gateway logs → scopewatch.action/v1. One record per JSON-RPC exchange as an MCP gateway
 * logs it: who the client is, the session, the server, the `tools/call` request and (when it
 * came back) its response. Other methods (initialize, tools/list, notifications) are protocol
 * plumbing, not actions → nothing. Pure.
 *
 *   {"ts": "…", "client": {"id": "support-agent", "credential": "…"}, "session": "…",
 *    "server": {"name": "github", "url": "https://mcp.github.example/mcp"},
 *    "request": {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "create_issue", "arguments": {…}}},
 *    "response": {"jsonrpc": "2.0", "id": 7, "result": {"content": […], "isError": false}}}
 */

function timestampOf(record: Json): string | number {
  const ts = record.ts ?? record.timestamp ?? record.time;
  if (typeof ts === 'string' || typeof ts === 'number') return ts;
  throw new AdapterError('ts', 'missing (also looked for timestamp, time)');
}

function hostOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

/**
 * JSON-RPC ids are unique only within one session (clients count 1, 2, 3… per connection), so
 * the id + session is the record's identity. Without a session there is no source id: the
 * pipeline derives one from the message bytes instead, rather than let two different calls
 * with request id 1 collapse into one row.
 */
function eventIdOf(
  record: Json,
  serverName: string | undefined,
  session: string | undefined,
  requestId: string | number,
): string | undefined {
  const own = str(record, 'id');
  if (own) return own.slice(0, 128);
  if (!session) return undefined;
  return `mcp-${serverName ?? 'server'}-${session}-${String(requestId)}`.slice(0, 128);
}

export function mcpToEvents(record: Json): ActionEventInput[] {
  const request = obj(record.request);
  if (!request) throw new AdapterError('request', 'missing (a JSON-RPC request object)');
  const method = str(request, 'method');
  if (!method) throw new AdapterError('request.method', 'missing');
  if (method !== 'tools/call') return [];
  const params = obj(request.params);
  const name = str(params, 'name');
  if (!name) throw new AdapterError('request.params.name', 'missing on tools/call');
  const client = obj(record.client);
  const clientId = str(client, 'id') ?? str(record, 'client_id') ?? str(client, 'name');
  if (!clientId) throw new AdapterError('client.id', 'missing: the gateway must log who called');
  const session = str(record, 'session') ?? str(record, 'session_id') ?? str(record, 'mcp_session_id');
  const server = obj(record.server);
  const serverName = str(server, 'name') ?? str(record, 'server');
  const requestId = request.id;
  if (typeof requestId !== 'string' && typeof requestId !== 'number')
    throw new AdapterError('request.id', 'missing');

  const response = obj(record.response);
  const error = obj(response?.error);
  const result = obj(response?.result);
  const outcome = !response ? 'unknown' : error ? 'error' : result?.isError === true ? 'failure' : 'success';
  const args = params?.arguments;
  return [
    {
      event_id: eventIdOf(record, serverName, session, requestId),
      ts: timestampOf(record),
      identity: {
        id: clientId,
        type: 'agent',
        instance: str(client, 'instance'),
        credential: str(client, 'credential'),
        owner: str(client, 'owner'),
      },
      session,
      action: 'tool.call',
      tool: serverName ? `${serverName}.${name}` : name,
      target_domain: hostOf(str(server, 'url')),
      outcome,
      on_behalf_of: str(record, 'user'),
      source: {
        system: 'mcp',
        ip: str(client, 'ip'),
        user_agent: str(client, 'user_agent') ?? str(client, 'name'),
      },
      args: isObject(args) ? args : args === undefined ? undefined : { value: args },
      attributes: attributes({
        'mcp.method.name': method,
        'mcp.request.id': requestId,
        'mcp.server.name': serverName,
        'mcp.server.url': str(server, 'url'),
        'mcp.error.code': error?.code,
        'mcp.error.message': error?.message,
        'mcp.result.is_error': result?.isError,
      }),
    },
  ];
}
