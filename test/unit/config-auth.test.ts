import { describe, expect, it } from 'vitest';
import { allowed, authenticate, parseApiKeys, presentedKey } from '../../api/auth.js';
import { ConfigError, ENV_VARS, loadConfig } from '../../common/config.js';
import { SOURCE_FORMATS } from '../../common/formats.js';
import { FORMAT_NAMES } from '../../ingest/adapters/index.js';

describe('configuration', () => {
  it('has working defaults', () => {
    const config = loadConfig({});
    expect(config.kafka.topic).toBe('agent-actions');
    expect(config.kafka.dlqTopic).toBe('agent-actions.dlq');
    expect(config.clickhouse.url).toBeUndefined();
    expect(config.dataDir).toMatch(/data$/);
  });
  it('reads the environment and lets flags override it', () => {
    const config = loadConfig(
      { KAFKA_BROKERS: 'a:9092, b:9092', SCOPEWATCH_TOPIC: 'x', SCOPEWATCH_BATCH_MAX_ROWS: '7' },
      { kafka: { topic: 'y' } },
    );
    expect(config.kafka.brokers).toEqual(['a:9092', 'b:9092']);
    expect(config.kafka.topic).toBe('y');
    expect(config.kafka.dlqTopic).toBe('y.dlq');
    expect(config.ingest.maxBatchRows).toBe(7);
  });
  it('rejects bad values naming the variable', () => {
    expect(() => loadConfig({ SCOPEWATCH_TOPIC_PARTITIONS: 'many' })).toThrow(ConfigError);
    expect(() => loadConfig({ SCOPEWATCH_TOPIC_PARTITIONS: 'many' })).toThrow(/SCOPEWATCH_TOPIC_PARTITIONS/);
    expect(() => loadConfig({ CLICKHOUSE_DATABASE: 'x; DROP' })).toThrow(/plain identifier/);
    expect(() => loadConfig({ SCOPEWATCH_API_KEYS: 'root:short' })).toThrow(/API keys/);
  });
  it('reads per-topic formats and per-detector settings', () => {
    const config = loadConfig({
      SCOPEWATCH_TOPIC_FORMATS: 'cloudtrail-raw=cloudtrail, otel-spans=otel',
      SCOPEWATCH_DETECTORS:
        '{"scope.new_tool":{"warmupEvents":50},"lifecycle.dormant_reactivation":{"dormantDays":14}}',
    });
    expect(config.kafka.topicFormats).toEqual({ 'cloudtrail-raw': 'cloudtrail', 'otel-spans': 'otel' });
    expect(config.detect.detectors['scope.new_tool']).toEqual({ warmupEvents: 50 });
    expect(() => loadConfig({ SCOPEWATCH_TOPIC_FORMATS: 'cloudtrail' })).toThrow(
      /SCOPEWATCH_TOPIC_FORMATS.*topic=format/s,
    );
    expect(() => loadConfig({ SCOPEWATCH_DETECTORS: '{not json' })).toThrow(/SCOPEWATCH_DETECTORS.*JSON/s);
    expect(() => loadConfig({ SCOPEWATCH_DETECTORS: '{"scope.new_tool":{"warmup":5}}' })).toThrow(
      /SCOPEWATCH_DETECTORS/,
    );
    expect(
      loadConfig({ SCOPEWATCH_DETECTORS: '{"scope.new_resource":{"destinationTypes":["payee","iban"]}}' })
        .detect.detectors['scope.new_resource'],
    ).toEqual({ destinationTypes: ['payee', 'iban'] });
    expect(() =>
      loadConfig({ SCOPEWATCH_DETECTORS: '{"scope.new_resource":{"destinationTypes":["a,b"]}}' }),
    ).toThrow(/SCOPEWATCH_DETECTORS/);
    expect(
      loadConfig({ SCOPEWATCH_DETECTORS: '{"scope.new_tool":{"housekeeping":false}}' }).detect.detectors[
        'scope.new_tool'
      ],
    ).toEqual({ housekeeping: false });
    expect(() => loadConfig({ SCOPEWATCH_DETECTORS: '{"scope.new_tool":{"housekeeping":"no"}}' })).toThrow(
      /SCOPEWATCH_DETECTORS/,
    );
  });

  it('reads per-topic source formats and rejects unknown formats and the DLQ topic before connecting', () => {
    const config = loadConfig({ SCOPEWATCH_TOPIC_FORMATS: 'cloudtrail-raw=cloudtrail, otel-spans=otel' });
    expect(config.kafka.topicFormats).toEqual({ 'cloudtrail-raw': 'cloudtrail', 'otel-spans': 'otel' });
    expect(loadConfig({}).kafka.topicFormats).toEqual({});
    expect(() => loadConfig({ SCOPEWATCH_TOPIC_FORMATS: 'raw=syslog' })).toThrow(
      'kafka.topicFormats.0 (SCOPEWATCH_TOPIC_FORMATS): unknown format (known: canonical, otel, mcp, cloudtrail, github)',
    );
    expect(() => loadConfig({ SCOPEWATCH_TOPIC_FORMATS: 'raw' })).toThrow(/topic=format/);
    expect(() => loadConfig({ SCOPEWATCH_TOPIC_FORMATS: 'agent-actions.dlq=canonical' })).toThrow(
      /dead-letter topic/,
    );
  });
  it('lists exactly the formats the adapters implement', () => {
    expect(FORMAT_NAMES).toEqual([...SOURCE_FORMATS]);
  });
  it('maps every documented variable to a real config path', () => {
    const config = loadConfig({}) as unknown as Record<string, Record<string, unknown>>;
    for (const dotted of Object.values(ENV_VARS)) {
      const [head] = dotted.split('.');
      expect(head && head in config, dotted).toBe(true);
    }
  });
});

describe('API keys', () => {
  const keys = parseApiKeys(['analyst:aaaaaaaaaaaaaaaaaaaa', 'admin:bbbbbbbbbbbbbbbbbbbb']);
  it('authenticates by constant-time hash comparison', () => {
    expect(authenticate(keys, 'aaaaaaaaaaaaaaaaaaaa')?.role).toBe('analyst');
    expect(authenticate(keys, 'bbbbbbbbbbbbbbbbbbbb')?.role).toBe('admin');
    expect(authenticate(keys, 'nope')).toBeNull();
    expect(authenticate(keys, undefined)).toBeNull();
  });
  it('never keeps the secret itself', () => {
    expect(JSON.stringify(keys)).not.toContain('aaaaaaaaaaaaaaaaaaaa');
  });
  it('scopes roles', () => {
    expect(allowed('analyst', ['analyst'])).toBe(true);
    expect(allowed('compliance', ['analyst'])).toBe(false);
    expect(allowed('admin', ['compliance'])).toBe(true);
  });
  it('reads bearer and x-api-key headers', () => {
    expect(presentedKey({ authorization: 'Bearer k1' })).toBe('k1');
    expect(presentedKey({ 'x-api-key': 'k2' })).toBe('k2');
    expect(presentedKey({})).toBeUndefined();
  });
});
