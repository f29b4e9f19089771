import { describe, expect, it } from 'vitest';
import { githubActionClass, githubToEvents } from '../../ingest/adapters/github.js';
import { mcpToEvents } from '../../ingest/adapters/mcp.js';
import { otelToEvents } from '../../ingest/adapters/otel.js';
import { ADAPTERS } from '../../ingest/adapters/index.js';
import { createPipeline, type PipelineResult } from '../../ingest/pipeline.js';

/** Samples written from the OTel GenAI semantic conventions, the MCP spec and GitHub's audit log docs. */

const pipeline = createPipeline({ maxMessageBytes: 1 << 20, argsMaxBytes: 2048 });
const run = (format: string, value: unknown): PipelineResult =>
  pipeline({
    value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    format,
    coordinates: { origin: 'file', topic: 'file:t', partition: 0, offset: '1', key: '', timestampMs: 0 },
  });

const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
const T = '1772366400000000000'; // 2026-03-01T12:00:00Z in ns

const otlp = {
  resourceSpans: [
    {
      resource: { attributes: [str('service.name', 'support-agent'), str('service.instance.id', 'pod-7')] },
      scopeSpans: [
        {
          scope: { name: 'openai-agents' },
          spans: [
            {
              traceId: '5b8efff798038103d269b633813fc60c',
              spanId: 'eee19b7ec3c1b174',
              name: 'invoke_agent Support',
              startTimeUnixNano: T,
              attributes: [
                str('gen_ai.operation.name', 'invoke_agent'),
                str('gen_ai.agent.id', 'asst_42'),
                str('gen_ai.agent.name', 'Support'),
              ],
            },
            {
              traceId: '5b8efff798038103d269b633813fc60c',
              spanId: 'eee19b7ec3c1b175',
              parentSpanId: 'eee19b7ec3c1b174',
              name: 'execute_tool fetch_url',
              startTimeUnixNano: T,
              attributes: [
                str('gen_ai.operation.name', 'execute_tool'),
                str('gen_ai.agent.id', 'asst_42'),
                str('gen_ai.tool.name', 'fetch_url'),
                str('gen_ai.tool.call.id', 'call_mszuSIzqtI65i1wAUOE8w5H4'),
                str(
                  'gen_ai.tool.call.arguments',
                  '{"url":"https://paste.example.net/raw/ü","token":"ghp_' +
                    'R4nd0mTok3nF0rTests0nly0123456789ab"}',
                ),
                str('gen_ai.conversation.id', 'conv_5j66UpCpwteGg4YSxUnt7lPY'),
                str('url.full', 'https://paste.example.net/raw/x'),
              ],
              status: { code: 2, message: 'HTTP 403' },
            },
            {
              traceId: '5b8efff798038103d269b633813fc60c',
              spanId: 'eee19b7ec3c1b176',
              name: 'chat gpt-4o',
              startTimeUnixNano: T,
              attributes: [str('gen_ai.operation.name', 'chat')],
            },
          ],
        },
      ],
    },
  ],
};

describe('otel adapter', () => {
  it('makes one event per tool and agent span, none for chat spans', () => {
    const events = otelToEvents(otlp);
    expect(events.map((e) => e.tool)).toEqual(['invoke_agent:Support', 'fetch_url']);
    expect(events[1]).toMatchObject({
      event_id: 'otel-5b8efff798038103d269b633813fc60c-eee19b7ec3c1b175',
      identity: { id: 'asst_42', type: 'agent', instance: 'pod-7' },
      session: 'conv_5j66UpCpwteGg4YSxUnt7lPY',
      action: 'network.egress',
      target_domain: 'paste.example.net',
      outcome: 'error',
      ts: 1772366400000,
    });
  });

  it('falls back to service.name and the trace id; accepts a single span', () => {
    const span = {
      traceId: 'aaaa0000aaaa0000aaaa0000aaaa0000',
      spanId: 'bbbb0000bbbb0000',
      name: 'tools/call search',
      startTimeUnixNano: T,
      attributes: [str('mcp.method.name', 'tools/call'), str('gen_ai.tool.name', 'search')],
      resource: { attributes: [str('service.name', 'coding-agent')] },
    };
    const [event] = otelToEvents(span);
    expect(event).toMatchObject({
      identity: { id: 'coding-agent' },
      session: 'aaaa0000aaaa0000aaaa0000aaaa0000',
      tool: 'search',
      outcome: 'success',
      action: 'tool.call',
    });
  });

  it('through the pipeline: arguments parsed and redacted, nothing-to-record is a DROP', () => {
    const result = run('otel', otlp);
    expect(result.kind).toBe('ok');
    if (result.kind === 'ok') {
      expect(result.rows).toHaveLength(2);
      expect(result.rows[1]?.args).toContain('paste.example.net/raw/ü');
      expect(result.rows[1]?.args).not.toContain('R4nd0mTok3n');
    }
    const chatOnly = { ...otlp.resourceSpans[0]?.scopeSpans[0]?.spans[2], resource: {} };
    expect(run('otel', chatOnly).kind).toBe('drop');
  });

  it('files tool spans under the agent and conversation of their invoke_agent ancestor', () => {
    const span = (spanId: string, parentSpanId: string | undefined, attrs: [string, string][]) => ({
      traceId: 'cccc0000cccc0000cccc0000cccc0000',
      spanId,
      parentSpanId,
      name: attrs[0]?.[1] ?? '',
      startTimeUnixNano: T,
      attributes: attrs.map(([k, v]) => str(k, v)),
    });
    const tree = {
      resourceSpans: [
        {
          resource: { attributes: [str('service.name', 'agent-runtime')] },
          scopeSpans: [
            {
              spans: [
                // Children listed before their parents: exports do not promise an order.
                span('0000000000000003', '0000000000000002', [
                  ['gen_ai.operation.name', 'execute_tool'],
                  ['gen_ai.tool.name', 'read_file'],
                ]),
                span('0000000000000002', '0000000000000001', [['gen_ai.operation.name', 'chat']]),
                span('0000000000000001', undefined, [
                  ['gen_ai.operation.name', 'invoke_agent'],
                  ['gen_ai.agent.id', 'asst_7'],
                  ['gen_ai.agent.name', 'Coder'],
                  ['gen_ai.conversation.id', 'conv_1'],
                ]),
              ],
            },
          ],
        },
      ],
    };
    const events = otelToEvents(tree);
    expect(events.map((e) => [e.tool, e.identity.id, e.session])).toEqual([
      ['read_file', 'asst_7', 'conv_1'],
      ['invoke_agent:Coder', 'asst_7', 'conv_1'],
    ]);
    expect(events[0]?.attributes?.['gen_ai.agent.name']).toBe('Coder');
  });

  it('reads SDK console-exporter spans, error.type and the MCP session', () => {
    const [event] = otelToEvents({
      name: 'execute_tool send_email',
      context: { trace_id: '0xdddd0000dddd0000dddd0000dddd0000', span_id: '0xeeee0000eeee0000' },
      parent_id: null,
      start_time: '2026-03-01T12:00:00.000000Z',
      status: { status_code: 'UNSET' },
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'send_email',
        'mcp.session.id': 'mcp-s-1',
        'error.type': 'timeout',
      },
      resource: { attributes: { 'service.name': 'mail-agent' } },
    });
    expect(event).toMatchObject({
      event_id: 'otel-dddd0000dddd0000dddd0000dddd0000-eeee0000eeee0000',
      ts: 1772366400000,
      identity: { id: 'mail-agent' },
      session: 'mcp-s-1',
      outcome: 'error',
    });
  });

  it('dead-letters a tool span without a tool name, naming the field', () => {
    const bad = structuredClone(otlp);
    const spans = bad.resourceSpans[0]?.scopeSpans[0]?.spans ?? [];
    if (spans[1]) spans[1].attributes = spans[1].attributes.filter((a) => a.key !== 'gen_ai.tool.name');
    const result = run('otel', bad);
    expect(result.kind === 'dlq' && result.reason).toBe(
      'otel: resourceSpans[0].scopeSpans[0].spans[1].attributes.gen_ai.tool.name: missing on a tool span',
    );
  });
});

const exchange = {
  ts: '2026-03-01T12:00:01.500Z',
  client: { id: 'support-agent', credential: 'oauth:fp-1', name: 'claude-desktop' },
  session: 'mcp-sess-9f2',
  server: { name: 'github', url: 'https://mcp.github.example/mcp' },
  request: {
    jsonrpc: '2.0',
    id: 7,
    method: 'tools/call',
    params: {
      name: 'create_issue',
      arguments: { repo: 'acme/api', title: 'Bug 🐛', body: 'x'.repeat(10_000) },
    },
  },
  response: {
    jsonrpc: '2.0',
    id: 7,
    result: { content: [{ type: 'text', text: 'created #12' }], isError: false },
  },
};

describe('mcp adapter', () => {
  it('maps a tools/call exchange', () => {
    expect(mcpToEvents(exchange)[0]).toMatchObject({
      event_id: 'mcp-github-mcp-sess-9f2-7',
      identity: { id: 'support-agent', credential: 'oauth:fp-1' },
      session: 'mcp-sess-9f2',
      tool: 'github.create_issue',
      target_domain: 'mcp.github.example',
      outcome: 'success',
      action: 'tool.call',
    });
  });

  it('reads tool errors, JSON-RPC errors and missing responses', () => {
    expect(
      mcpToEvents({
        ...exchange,
        response: { jsonrpc: '2.0', id: 7, result: { content: [], isError: true } },
      })[0]?.outcome,
    ).toBe('failure');
    const rpcError = mcpToEvents({
      ...exchange,
      response: { jsonrpc: '2.0', id: 7, error: { code: -32602, message: 'Unknown tool' } },
    })[0];
    expect(rpcError?.outcome).toBe('error');
    expect(rpcError?.attributes?.['mcp.error.code']).toBe('-32602');
    const { response: _none, ...pending } = exchange;
    expect(mcpToEvents(pending)[0]?.outcome).toBe('unknown');
  });

  it('skips protocol plumbing and caps huge arguments through the pipeline', () => {
    expect(mcpToEvents({ ...exchange, request: { jsonrpc: '2.0', id: 1, method: 'tools/list' } })).toEqual(
      [],
    );
    const result = run('mcp', exchange);
    expect(result.kind === 'ok' && result.rows[0]?.args).toContain('_truncated');
  });

  it('keeps calls apart when the gateway logged no session (JSON-RPC ids restart per connection)', () => {
    const { session: _s, ...noSession } = exchange;
    const other = { ...noSession, request: { ...noSession.request, params: { name: 'delete_repo' } } };
    expect(mcpToEvents(noSession)[0]?.event_id).toBeUndefined();
    const a = run('mcp', noSession);
    const b = run('mcp', other);
    expect(a.kind === 'ok' && b.kind === 'ok').toBe(true);
    if (a.kind !== 'ok' || b.kind !== 'ok') return;
    expect(a.rows[0]?.event_id).not.toBe(b.rows[0]?.event_id);
    // …and the same bytes replayed still deduplicate.
    const again = run('mcp', noSession);
    expect(again.kind === 'ok' && again.rows[0]?.event_id).toBe(a.rows[0]?.event_id);
  });

  it('dead-letters records without a client or tool name', () => {
    const { client: _c, ...anonymous } = exchange;
    expect(run('mcp', anonymous)).toMatchObject({
      kind: 'dlq',
      reason: 'mcp: client.id: missing: the gateway must log who called',
    });
    const noName = { ...exchange, request: { ...exchange.request, params: { arguments: {} } } };
    expect(run('mcp', noName)).toMatchObject({
      kind: 'dlq',
      reason: 'mcp: request.params.name: missing on tools/call',
    });
  });
});

const audit = {
  '@timestamp': 1772366400123,
  _document_id: 'Lb4NPqJkqVW_QRfNzrGEgw',
  action: 'git.push',
  actor: 'release-bot[bot]',
  actor_id: 98765,
  actor_is_bot: true,
  org: 'acme',
  repo: 'acme/api',
  programmatic_access_type: 'GitHub App server-to-server token',
  token_id: 4711,
  actor_ip: '192.0.2.10',
  user_agent: 'git/2.44.0',
};

describe('github adapter', () => {
  it('keeps action-specific fields as attributes and reads pushes past protection as pushes', () => {
    const override = githubToEvents({
      ...audit,
      action: 'protected_branch.policy_override',
      branch: 'refs/heads/main',
      reasons: [{ code: 'required_status_checks', message: 'Required status check "ci" is expected.' }],
      overridden_codes: ['required_status_checks'],
    })[0];
    expect(override?.action).toBe('code.push');
    expect(override?.attributes).toMatchObject({
      'github.branch': 'refs/heads/main',
      'github.overridden_codes': '["required_status_checks"]',
    });
    expect(override?.attributes?.['github.actor']).toBeUndefined();
    expect(githubActionClass('pull_request.merge')).toBe('code.push');
  });

  it('maps an audit event', () => {
    expect(githubToEvents(audit)[0]).toMatchObject({
      event_id: 'Lb4NPqJkqVW_QRfNzrGEgw',
      ts: 1772366400123,
      identity: { id: 'release-bot[bot]', type: 'agent', credential: 'github-token:4711' },
      tool: 'git.push',
      action: 'code.push',
      resource: { type: 'repo', id: 'acme/api' },
      source: { system: 'github.audit', ip: '192.0.2.10' },
    });
  });

  it('tells bots, tokens and humans apart, and org-level events from repo-level ones', () => {
    const human = {
      ...audit,
      actor: 'octocat',
      actor_is_bot: false,
      programmatic_access_type: undefined,
      token_id: undefined,
      repo: undefined,
      created_at: '2026-03-01T12:00:00Z',
      '@timestamp': undefined,
    };
    expect(githubToEvents(human)[0]).toMatchObject({
      identity: { id: 'octocat', type: 'human' },
      resource: { type: 'org', id: 'acme' },
    });
    expect(githubToEvents({ ...audit, actor: 'ci-user', actor_is_bot: false })[0]?.identity.type).toBe(
      'api_key',
    );
  });

  it.each([
    ['git.clone', 'data.read'],
    ['repo.destroy', 'data.delete'],
    ['org.add_member', 'identity.change'],
    ['protected_branch.destroy', 'identity.change'],
    ['personal_access_token.request_created', 'identity.change'],
    ['environment.create_actions_secret', 'deploy'],
    ['repo.create', 'data.write'],
  ])('%s → %s', (action, expected) => {
    expect(githubActionClass(action)).toBe(expected);
  });

  it('dead-letters events without an actor', () => {
    const { actor: _a, ...anonymous } = audit;
    expect(run('github', anonymous)).toMatchObject({ kind: 'dlq', reason: 'github: actor: missing' });
  });
});

describe('format selection', () => {
  it('an adapter bug dead-letters the message instead of crashing the consumer', () => {
    const buggy = createPipeline({
      maxMessageBytes: 1024,
      argsMaxBytes: 1024,
      adapters: [
        {
          name: 'buggy',
          adapt: () => {
            throw new TypeError('cannot read properties of undefined');
          },
        },
      ],
    });
    const result = buggy({
      value: Buffer.from('{}'),
      format: 'buggy',
      coordinates: { origin: 'file', topic: 'file:t', partition: 0, offset: '1', key: '', timestampMs: 0 },
    });
    expect(result).toMatchObject({ kind: 'dlq', reasonCode: 'unmappable' });
    expect(result.kind === 'dlq' && result.reason).toContain('buggy: adapter failed: TypeError');
  });

  it('an unknown format is dead-lettered with the known ones listed', () => {
    const result = run('syslog', audit);
    expect(result.kind === 'dlq' && result.reason).toBe(
      'unknown format "syslog" (known: canonical, otel, mcp, cloudtrail, github)',
    );
  });

  it('every adapter answers with a typed result: events, invalid (with the field) or drop', () => {
    const byName = new Map(ADAPTERS.map((a) => [a.name, a]));
    const adapt = (name: string, json: Record<string, unknown>) => byName.get(name)?.adapt(json);
    expect(adapt('github', audit)).toMatchObject({ kind: 'events', events: [{ tool: 'git.push' }] });
    expect(adapt('github', { ...audit, actor: undefined })).toEqual({
      kind: 'invalid',
      field: 'actor',
      problem: 'missing',
    });
    expect(adapt('mcp', { ...exchange, request: { jsonrpc: '2.0', id: 2, method: 'tools/list' } })).toEqual({
      kind: 'drop',
      why: 'mcp: not a tools/call (protocol plumbing)',
    });
    expect(adapt('cloudtrail', { Records: [] })).toMatchObject({ kind: 'drop' });
    expect(adapt('otel', { resourceSpans: 'nope' })).toEqual({
      kind: 'invalid',
      field: 'resourceSpans',
      problem: 'must be an array',
    });
  });
});
