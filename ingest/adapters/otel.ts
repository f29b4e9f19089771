import type { ActionEventInput } from '../schema.js';
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

export function spanToEvent(
  span: Json,
  resource: Record<string, AttributeValue>,
  where: string,
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
    text(attrs, 'gen_ai.agent.id') ?? text(resource, 'gen_ai.agent.id') ?? text(resource, 'service.name');
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
  const failed = status !== undefined && STATUS_ERROR.has(status.code as number | string);
  const domain = hostOf(attrs);
  return {
    event_id: `otel-${traceId}-${spanId}`,
    ts: nanosToMs(span.startTimeUnixNano, `${where}.startTimeUnixNano`),
    identity: {
      id: identity,
      type: 'agent',
      instance: text(resource, 'service.instance.id'),
    },
    session: text(attrs, 'gen_ai.conversation.id') ?? traceId,
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
      'otel.status_message': failed ? status.message : undefined,
      'gen_ai.tool.call.id': text(attrs, 'gen_ai.tool.call.id'),
      'gen_ai.agent.name': text(attrs, 'gen_ai.agent.name'),
      'gen_ai.request.model': text(attrs, 'gen_ai.request.model'),
      'gen_ai.provider.name': text(attrs, 'gen_ai.provider.name') ?? text(attrs, 'gen_ai.system'),
      'mcp.method.name': mcpMethod,
      'service.name': text(resource, 'service.name'),
    }),
  };
}

export function otelToEvents(json: Json): ActionEventInput[] {
  if ('resourceSpans' in json) {
    const resourceSpans = json.resourceSpans;
    if (!Array.isArray(resourceSpans)) throw new AdapterError('resourceSpans', 'must be an array');
    const events: ActionEventInput[] = [];
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
          const event = spanToEvent(span, resource, where);
          if (event) events.push(event);
        });
      });
    });
    return events;
  }
  if (!('spanId' in json) && !('traceId' in json))
    throw new AdapterError('resourceSpans', 'missing (neither an OTLP export nor a span)');
  const event = spanToEvent(json, attributeMap(obj(json.resource)?.attributes), 'span');
  return event ? [event] : [];
}
