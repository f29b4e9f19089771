import type { ActionEventInput } from '../../model/action.js';
import { AdapterError, attributes, isObject, obj, str, type Json } from './errors.js';

/**
 * OpenTelemetry GenAI spans → scopewatch.action/v1. Accepts an OTLP/JSON trace export
 * (`resourceSpans[].scopeSpans[].spans[]`) or a single span object (optionally with its
 * `resource`). One event per tool span (`execute_tool`, or an MCP `tools/call`) and per agent
 * span (`invoke_agent`); other spans (LLM calls, HTTP plumbing) describe no action → nothing.
 * Pure.
 */

type AttributeValue = string | number | boolean | AttributeValue[] | { [key: string]: AttributeValue } | null;

/** OTLP AnyValue → a plain value (`intValue` travels as a string in OTLP/JSON). */
export function anyValue(value: unknown): AttributeValue {
  if (!isObject(value)) return null;
  if ('stringValue' in value) return typeof value.stringValue === 'string' ? value.stringValue : null;
  if ('intValue' in value) return Number(value.intValue);
  if ('doubleValue' in value) return Number(value.doubleValue);
  if ('boolValue' in value) return value.boolValue === true;
  if ('arrayValue' in value) {
    const values = obj(value.arrayValue)?.values;
    return Array.isArray(values) ? values.map(anyValue) : [];
  }
  if ('kvlistValue' in value) return attributeMap(obj(value.kvlistValue)?.values);
  return null;
}

/** OTLP `[{key, value}]` (or an already-flat object) → a plain map. */
export function attributeMap(list: unknown): Record<string, AttributeValue> {
  if (isObject(list)) return list as Record<string, AttributeValue>;
  const out: Record<string, AttributeValue> = {};
  if (!Array.isArray(list)) return out;
  for (const entry of list)
    if (isObject(entry) && typeof entry.key === 'string') out[entry.key] = anyValue(entry.value);
  return out;
}

function text(attrs: Record<string, AttributeValue>, key: string): string | undefined {
  const value = attrs[key];
  if (typeof value === 'string' && value) return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** OTLP times are nanoseconds since the epoch, as decimal strings (or numbers). */
function nanosToMs(value: unknown, field: string): number {
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(BigInt(value) / 1_000_000n);
  if (typeof value === 'number' && Number.isFinite(value)) return Math.floor(value / 1_000_000);
  throw new AdapterError(field, 'missing or not a nanosecond timestamp');
}

function hostOf(attrs: Record<string, AttributeValue>): string | undefined {
  const url = text(attrs, 'url.full') ?? text(attrs, 'http.url');
  if (url) {
    try {
      return new URL(url).hostname;
    } catch {
      // not a URL: fall through to the address attributes
    }
  }
  return text(attrs, 'server.address') ?? text(attrs, 'net.peer.name') ?? text(attrs, 'http.host');
}

function parseArguments(raw: AttributeValue | undefined): Record<string, unknown> | undefined {
  if (raw === null || raw === undefined) return undefined;
  if (typeof raw === 'string') {
    try {
      const parsed: unknown = JSON.parse(raw);
      return isObject(parsed) ? parsed : { value: parsed };
    } catch {
      return { raw };
    }
  }
  return isObject(raw) ? raw : { value: raw };
}

const STATUS_ERROR = new Set([2, 'STATUS_CODE_ERROR']);

/** What a span inherits from its ancestors in the same export: the agent and conversation it ran in. */
export interface SpanContext {
  agentId?: string;
  agentName?: string;
  conversationId?: string;
}

interface Located {
  parent: string | undefined;
  attrs: Record<string, AttributeValue>;
}

const MAX_ANCESTORS = 64;

/**
 * GenAI instrumentations put `gen_ai.agent.id` and `gen_ai.conversation.id` on the
 * `invoke_agent` span and not on the `execute_tool` spans under it. Without looking up the
 * tree, an agent's tool calls would be filed under the service name and the trace id while the
 * agent span itself gets the agent id and conversation: one run split over two identities.
 */
export function inheritedContext(
  traceId: string,
  parentSpanId: string | undefined,
  spans: ReadonlyMap<string, Located>,
): SpanContext {
  const context: SpanContext = {};
  let parent = parentSpanId;
  for (let depth = 0; parent && depth < MAX_ANCESTORS; depth++) {
    const ancestor = spans.get(`${traceId}/${parent}`);
    if (!ancestor) break;
    context.agentId ??= text(ancestor.attrs, 'gen_ai.agent.id');
    context.agentName ??= text(ancestor.attrs, 'gen_ai.agent.name');
    context.conversationId ??= text(ancestor.attrs, 'gen_ai.conversation.id');
    if (context.agentId && context.conversationId) break;
    parent = ancestor.parent;
  }
  return context;
}

export function spanToEvent(
  span: Json,
  resource: Record<string, AttributeValue>,
  where: string,
  inherited: SpanContext = {},
): ActionEventInput | null {
  const attrs = attributeMap(span.attributes);
  const name = str(span, 'name') ?? '';
  const operation = text(attrs, 'gen_ai.operation.name') ?? name.split(' ')[0] ?? '';
  const mcpMethod = text(attrs, 'mcp.method.name');
  const isTool = operation === 'execute_tool' || mcpMethod === 'tools/call';
  const isAgent = operation === 'invoke_agent';
  if (!isTool && !isAgent) return null;

  const traceId = str(span, 'traceId');
  const spanId = str(span, 'spanId');
  if (!traceId) throw new AdapterError(`${where}.traceId`, 'missing');
  if (!spanId) throw new AdapterError(`${where}.spanId`, 'missing');
  const identity =
    text(attrs, 'gen_ai.agent.id') ??
    inherited.agentId ??
    text(resource, 'gen_ai.agent.id') ??
    text(resource, 'service.name');
  if (!identity)
    throw new AdapterError(`${where}.attributes.gen_ai.agent.id`, 'missing, and no resource service.name');
  let tool: string;
  if (isTool) {
    const toolName = text(attrs, 'gen_ai.tool.name') ?? text(attrs, 'mcp.tool.name');
    if (!toolName) throw new AdapterError(`${where}.attributes.gen_ai.tool.name`, 'missing on a tool span');
    tool = toolName;
  } else {
    tool = `invoke_agent:${text(attrs, 'gen_ai.agent.name') ?? identity}`;
  }
  const status = obj(span.status);
  // Instrumentations leave the status unset on success; `error.type` alone also marks a failure.
  const failed =
    (status !== undefined && STATUS_ERROR.has(status.code as number | string)) ||
    text(attrs, 'error.type') !== undefined;
  const domain = hostOf(attrs);
  return {
    event_id: `otel-${traceId}-${spanId}`,
    ts: nanosToMs(span.startTimeUnixNano, `${where}.startTimeUnixNano`),
    identity: {
      id: identity,
      type: 'agent',
      instance: text(resource, 'service.instance.id'),
    },
    session:
      text(attrs, 'gen_ai.conversation.id') ??
      inherited.conversationId ??
      text(attrs, 'mcp.session.id') ??
      traceId,
    action: domain && isTool ? 'network.egress' : isTool ? 'tool.call' : 'api.call',
    tool,
    target_domain: domain,
    outcome: failed ? 'error' : 'success',
    source: { system: 'otel' },
    args: isTool ? parseArguments(attrs['gen_ai.tool.call.arguments']) : undefined,
    attributes: attributes({
      'otel.trace_id': traceId,
      'otel.span_id': spanId,
      'otel.span_name': name,
      'otel.parent_span_id': str(span, 'parentSpanId'),
      'otel.status_message': failed ? status?.message : undefined,
      'error.type': text(attrs, 'error.type'),
      'gen_ai.tool.call.id': text(attrs, 'gen_ai.tool.call.id'),
      'gen_ai.agent.name': text(attrs, 'gen_ai.agent.name') ?? inherited.agentName,
      'gen_ai.tool.type': text(attrs, 'gen_ai.tool.type'),
      'mcp.session.id': text(attrs, 'mcp.session.id'),
      'gen_ai.request.model': text(attrs, 'gen_ai.request.model'),
      'gen_ai.provider.name': text(attrs, 'gen_ai.provider.name') ?? text(attrs, 'gen_ai.system'),
      'mcp.method.name': mcpMethod,
      'service.name': text(resource, 'service.name'),
    }),
  };
}

const hex = (value: unknown): string | undefined =>
  typeof value === 'string' && value ? value.replace(/^0x/, '') : undefined;

/**
 * A span as the OpenTelemetry SDKs' console/JSON exporters print it (`context.trace_id`,
 * `0x`-prefixed ids, ISO times, `status.status_code`, flat attributes) → the OTLP shape.
 */
export function fromSdkSpan(span: Json): Json {
  const context = obj(span.context) ?? {};
  const start = typeof span.start_time === 'string' ? Date.parse(span.start_time) : Number.NaN;
  const status = obj(span.status);
  return {
    traceId: hex(context.trace_id),
    spanId: hex(context.span_id),
    parentSpanId: hex(span.parent_id),
    name: span.name,
    startTimeUnixNano: Number.isFinite(start) ? `${String(start)}000000` : undefined,
    status: { code: status?.status_code === 'ERROR' ? 2 : 0, message: status?.description },
    attributes: span.attributes,
  };
}

/** Every span of an export with where it sits, so spans can be mapped with their ancestors' context. */
interface Placed {
  span: Json;
  resource: Record<string, AttributeValue>;
  where: string;
}

function spansOf(json: Json): Placed[] {
  const resourceSpans = json.resourceSpans;
  if (!Array.isArray(resourceSpans)) throw new AdapterError('resourceSpans', 'must be an array');
  const placed: Placed[] = [];
  resourceSpans.forEach((rs: unknown, r) => {
    const resource = attributeMap(obj(obj(rs)?.resource)?.attributes);
    const scopeSpans = obj(rs)?.scopeSpans;
    if (!Array.isArray(scopeSpans))
      throw new AdapterError(`resourceSpans[${String(r)}].scopeSpans`, 'must be an array');
    scopeSpans.forEach((ss: unknown, s) => {
      const spans = obj(ss)?.spans;
      if (!Array.isArray(spans))
        throw new AdapterError(
          `resourceSpans[${String(r)}].scopeSpans[${String(s)}].spans`,
          'must be an array',
        );
      spans.forEach((span: unknown, i) => {
        const where = `resourceSpans[${String(r)}].scopeSpans[${String(s)}].spans[${String(i)}]`;
        if (!isObject(span)) throw new AdapterError(where, 'must be an object');
        placed.push({ span, resource, where });
      });
    });
  });
  return placed;
}

export function otelToEvents(json: Json): ActionEventInput[] {
  if ('resourceSpans' in json) {
    const placed = spansOf(json);
    const byId = new Map<string, Located>();
    for (const { span } of placed) {
      const traceId = str(span, 'traceId');
      const spanId = str(span, 'spanId');
      if (traceId && spanId)
        byId.set(`${traceId}/${spanId}`, {
          parent: str(span, 'parentSpanId'),
          attrs: attributeMap(span.attributes),
        });
    }
    const events: ActionEventInput[] = [];
    for (const { span, resource, where } of placed) {
      const traceId = str(span, 'traceId');
      const inherited = traceId ? inheritedContext(traceId, str(span, 'parentSpanId'), byId) : {};
      const event = spanToEvent(span, resource, where, inherited);
      if (event) events.push(event);
    }
    return events;
  }
  const single = isObject(json.context) ? fromSdkSpan(json) : json;
  if (!('spanId' in single) && !('traceId' in single))
    throw new AdapterError('resourceSpans', 'missing (neither an OTLP export nor a span)');
  const event = spanToEvent(single, attributeMap(obj(json.resource)?.attributes), 'span');
  return event ? [event] : [];
}
