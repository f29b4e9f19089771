import { analyze } from '../app/analyze.js';
import { loadRules, testRuleTargets } from '../app/rules.js';
import type { DemoTraffic } from '../app/demo.js';
import { loadRegistry } from '../app/registry.js';
import { runAllInOne, runApiService, runDetectService, runIngestService } from '../app/services.js';
import { migrateSchema, produceDemoOnly, replayInput } from '../app/tasks.js';
import type { Config } from '../common/config.js';
import { isSourceFormat, SOURCE_FORMATS } from '../common/formats.js';
import { createLogger } from '../common/logger.js';
import type { EventStats } from '../model/event-stats.js';
import type { Finding } from '../model/finding.js';
import { apiGet, apiGetBytes, apiSend } from './api-client.js';
import { verifyBundleFiles } from '../app/evidence.js';
import { writeFileSync } from 'node:fs';
import { positiveIntFlag, type Flags } from './flags.js';
import {
  formatFindings,
  formatFleet,
  formatKeys,
  formatReview,
  formatRuleTests,
  formatStats,
  formatVerification,
  type ReviewSummary,
} from './format.js';
import type { FleetRow } from '../app/access-review.js';

/** The CLI commands: flags → an app service or task → what it prints. */

/** A number it resolves to is the exit code (a failing check); anything else means 0. */
export type Command = (config: Config, flags: Flags, args: readonly string[]) => Promise<unknown>;

const print = (text: string): void => {
  process.stdout.write(text);
};
const printJson = (value: unknown): void => {
  print(`${JSON.stringify(value)}\n`);
};

function demoTraffic(flags: Flags): DemoTraffic {
  return {
    seed: positiveIntFlag(flags.seed, 'seed', 7),
    eventsPerSecond: positiveIntFlag(flags.rate, 'rate', 200),
    durationMs:
      flags.duration === undefined ? undefined : positiveIntFlag(flags.duration, 'duration', 1) * 1000,
    maxEvents: flags.count === undefined ? undefined : positiveIntFlag(flags.count, 'count', 1),
  };
}

function sourceFormat(flags: Flags): string {
  const format = flags.format ?? 'canonical';
  // Every message would be dead-lettered as "unknown format": say so before opening anything.
  if (!isSourceFormat(format))
    throw new Error(`--format must be one of ${SOURCE_FORMATS.join(', ')}, got "${format}"`);
  return format;
}

export const COMMANDS: Record<string, Command> = {
  run: async (config, flags) => {
    await runAllInOne(config, {
      demo: flags.demo ? demoTraffic(flags) : undefined,
      progress: (line) => {
        print(`${line}\n`);
      },
    });
  },
  ingest: async (config) => {
    await runIngestService(config);
  },
  api: async (config) => {
    await runApiService(config);
  },
  detect: runDetectService,
  migrate: async (config) => {
    printJson(await migrateSchema(config));
  },
  replay: async (config, flags) => {
    if (!flags.input)
      throw new Error('replay needs --input FILE (.jsonl[.gz] lines, or a .json[.gz] document)');
    printJson(await replayInput(config, flags.input, sourceFormat(flags)));
  },
  demo: async (config, flags) => {
    printJson(await produceDemoOnly(config, demoTraffic(flags)));
  },
  analyze: async (config, flags) => {
    if (!flags.input) throw new Error('analyze needs --input FILE (.jsonl or .jsonl.gz)');
    if (!flags.out) throw new Error('analyze needs --out FILE (findings, one JSON object per line)');
    const result = await analyze({
      baseline: flags.baseline,
      input: flags.input,
      format: flags.format ?? 'canonical',
      out: flags.out,
      registry: await loadRegistry(flags.identities ?? config.detect.identitiesFile),
      overrides: config.detect.detectors,
      logger: createLogger(config.logLevel),
    });
    printJson({ baseline: result.baseline, input: result.input, findings: result.findings, out: flags.out });
  },
  rules: (config, _flags, args) => {
    const [sub, ...targets] = args;
    if (sub === 'list') {
      for (const rule of loadRules(config.detect.rulesDir))
        print(
          `${rule.id.padEnd(44)} ${rule.level.padEnd(8)} ${rule.sequence ? 'chain ' : 'single'} ${rule.title}\n`,
        );
      return Promise.resolve();
    }
    if (sub !== 'test' || targets.length === 0)
      return Promise.reject(new Error('usage: scopewatch rules test FILE|FOLDER… | scopewatch rules list'));
    const report = testRuleTargets(targets);
    print(formatRuleTests(report));
    return Promise.resolve(report.failed > 0 ? 1 : undefined);
  },
  stats: async (config, flags) => {
    const body = await apiGet<EventStats>(config, '/v1/events/stats');
    if (flags.json) printJson(body);
    else print(formatStats(body));
  },
  evidence: async (config, flags, args) => {
    const [id] = args;
    if (!id || !flags.out)
      throw new Error('usage: scopewatch evidence FINDING_ID --out FILE (.json, or .tar.gz for the archive)');
    const archive = /\.(tar\.gz|tgz)$/.test(flags.out);
    const body = await apiGetBytes(
      config,
      `/v1/findings/${encodeURIComponent(id)}/evidence${archive ? '?format=archive' : ''}`,
    );
    writeFileSync(flags.out, body);
    printJson({ finding: id, out: flags.out, bytes: body.length, format: archive ? 'archive' : 'json' });
  },
  review: async (config, flags, args) => {
    const query = new URLSearchParams();
    if (flags.from) query.set('from', flags.from);
    // A fixed end, so the summary and the file written are the same review.
    query.set('to', flags.to ?? String(Date.now()));
    if (flags.fleet) {
      if (flags.format === 'csv') {
        query.set('format', 'csv');
        print((await apiGetBytes(config, `/v1/review?${query.toString()}`)).toString('utf8'));
        return;
      }
      const body = await apiGet<{ identities: FleetRow[] }>(config, `/v1/review?${query.toString()}`);
      if (flags.json) printJson(body);
      else print(formatFleet(body.identities));
      return;
    }
    const [id] = args;
    if (!id)
      throw new Error(
        'usage: scopewatch review IDENTITY [--from T] [--to T] [--out FILE] | review --fleet [--format csv]',
      );
    const url = `/v1/identities/${encodeURIComponent(id)}/review?${query.toString()}`;
    const json = await apiGetBytes(config, url);
    if (flags.out) {
      const archive = /\.(tar\.gz|tgz)$/.test(flags.out);
      writeFileSync(flags.out, archive ? await apiGetBytes(config, `${url}&format=archive`) : json);
    }
    const bundle = JSON.parse(json.toString('utf8')) as { parts: ReviewSummary };
    if (flags.json) printJson(bundle.parts);
    else print(formatReview(bundle.parts));
  },
  keys: async (config, flags, args) => {
    const [sub, id] = args;
    if (sub === 'create') {
      if (!flags.role)
        throw new Error('usage: scopewatch keys create --role analyst|compliance|admin [--name NAME]');
      const created = await apiSend<{ key_id: string; role: string; secret: string }>(
        config,
        'POST',
        '/v1/keys',
        {
          role: flags.role,
          name: flags.name ?? `created by the CLI on ${new Date().toISOString().slice(0, 10)}`,
        },
      );
      // The secret is shown once; only its hash is stored.
      printJson(created);
      return;
    }
    if (sub === 'list') {
      const body = await apiGet<{ keys: Record<string, unknown>[] }>(config, '/v1/keys');
      if (flags.json) printJson(body.keys);
      else print(formatKeys(body.keys));
      return;
    }
    if (sub === 'revoke' && id) {
      await apiSend(config, 'DELETE', `/v1/keys/${encodeURIComponent(id)}`);
      printJson({ revoked: id });
      return;
    }
    throw new Error('usage: scopewatch keys create --role R [--name N] | keys list | keys revoke KEY_ID');
  },
  verify: (_config, flags, args) => {
    if (args.length === 0)
      return Promise.reject(new Error('usage: scopewatch verify BUNDLE… [--pubkey FILE]'));
    const result = verifyBundleFiles(args, flags.pubkey);
    if (flags.json) printJson(result);
    else print(formatVerification(result));
    return Promise.resolve(result.ok ? undefined : 1);
  },
  findings: async (config, flags) => {
    const query = new URLSearchParams({ limit: '1000' });
    if (flags.identity) query.set('identity', flags.identity);
    const body = await apiGet<{ findings: Finding[] }>(config, `/v1/findings?${query.toString()}`);
    const ranked = [...body.findings].sort((a, b) => b.score - a.score || b.last_ts - a.last_ts);
    if (flags.json) printJson(ranked);
    else print(formatFindings(ranked.slice(0, 50)));
  },
};
