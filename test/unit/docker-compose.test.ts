import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_VARS } from '../../common/config.js';
import { packageRoot } from '../../common/paths.js';

/**
 * docker-compose.yml is only exercised by hand on a machine with Docker, so these checks keep it
 * honest in CI: a scopewatch service given a variable that loadConfig never reads would start
 * with a silent default (a typo'd CLICKHOUSE_PASWORD means an empty password), and a file that
 * Compose rejects is found only at deploy time.
 */

const composeFile = path.join(packageRoot(), 'docker-compose.yml');
const documented = new Set<string>(Object.keys(ENV_VARS));
const DUMMY_SECRETS = {
  CLICKHOUSE_PASSWORD: 'compose-config-test-password',
  SCOPEWATCH_API_KEYS: 'admin:compose-config-test-key',
};

type Dict = Record<string, unknown>;

function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Compose allows strings, numbers, booleans and null as environment values. */
function scalar(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  throw new Error(`unexpected environment value: ${JSON.stringify(value)}`);
}

/**
 * A service's `environment`, which Compose accepts as a map or as a list of `KEY=value` entries;
 * a bare `KEY` (list) or `KEY:` (map) passes the host's value through, shown here as null.
 */
function environmentOf(service: Dict): Map<string, string | null> {
  const environment = service.environment;
  if (environment === undefined || environment === null) return new Map();
  if (Array.isArray(environment)) {
    return new Map(
      environment.map((entry) => {
        const [key = '', ...value] = String(entry).split('=');
        return [key, value.length > 0 ? value.join('=') : null];
      }),
    );
  }
  if (isDict(environment)) {
    return new Map(Object.entries(environment).map(([key, value]) => [key, scalar(value)]));
  }
  throw new Error(`unexpected environment: ${JSON.stringify(environment)}`);
}

/** Names interpolated anywhere in a value: `${NAME}`, `${NAME:-x}`, `${NAME:?x}`, `$NAME`; `$$` is a literal `$`. */
function substitutedNames(value: unknown): string[] {
  if (typeof value === 'string') {
    return [...value.replaceAll('$$', '').matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] ?? '');
  }
  if (Array.isArray(value)) return value.flatMap(substitutedNames);
  if (isDict(value))
    return Object.entries(value).flatMap(([k, v]) => [...substitutedNames(k), ...substitutedNames(v)]);
  return [];
}

function loadCompose(): Dict {
  // Merge keys on: the services share their settings through `<<: *scopewatch`, and without
  // them the merged-in environment would be invisible to these checks.
  const doc: unknown = parse(readFileSync(composeFile, 'utf8'), { merge: true });
  if (!isDict(doc) || !isDict(doc.services)) throw new Error('docker-compose.yml has no services map');
  return doc.services;
}

/** scopewatch's own services: built from this repository's Dockerfile (or run from its image). */
function scopewatchServices(): [string, Dict][] {
  return Object.entries(loadCompose()).filter(
    (entry): entry is [string, Dict] =>
      isDict(entry[1]) &&
      (entry[1].build !== undefined ||
        (typeof entry[1].image === 'string' && entry[1].image.startsWith('scopewatch'))),
  );
}

describe('docker-compose.yml', () => {
  it('runs the CLI commands as services built from the Dockerfile', () => {
    const names = scopewatchServices().map(([name]) => name);
    // Guards the checks below against passing vacuously if the anchor stops carrying `build`.
    expect(names.sort()).toEqual(['api', 'detect', 'ingest', 'migrate']);
  });

  it('sets only documented environment variables on scopewatch services', () => {
    for (const [name, service] of scopewatchServices()) {
      // An env_file would add variables this test cannot see.
      expect(service.env_file, `${name}: env_file`).toBeUndefined();
      const keys = [...environmentOf(service).keys()];
      expect(keys.length, `${name} sets no environment`).toBeGreaterThan(0);
      const unknown = keys.filter((key) => !documented.has(key));
      expect(unknown, `${name}: not in ENV_VARS (common/config.ts)`).toEqual([]);
    }
  });

  it('interpolates only documented variables into scopewatch services', () => {
    for (const [name, service] of scopewatchServices()) {
      const unknown = substitutedNames(service).filter((key) => !documented.has(key));
      expect(unknown, `${name}: \${…} of a variable not in ENV_VARS`).toEqual([]);
    }
  });

  it('takes secrets only from required variables, never from literals or defaults', () => {
    for (const [name, service] of scopewatchServices()) {
      const environment = environmentOf(service);
      for (const secret of Object.keys(DUMMY_SECRETS)) {
        if (!environment.has(secret)) continue;
        expect(environment.get(secret), `${name}.${secret}`).toMatch(
          new RegExp(`^\\$\\{${secret}:\\?[^}]*\\}$`),
        );
      }
    }
    const api = Object.fromEntries(scopewatchServices()).api;
    expect(api && environmentOf(api).has('SCOPEWATCH_API_KEYS'), 'api without SCOPEWATCH_API_KEYS').toBe(
      true,
    );
  });
});

/** `docker-compose` (Debian's package, v1) or the `docker compose` v2 plugin, whichever runs. */
function findCompose(): { command: string; args: string[] } | null {
  for (const candidate of [
    { command: 'docker-compose', args: [] },
    { command: 'docker', args: ['compose'] },
  ]) {
    try {
      execFileSync(candidate.command, [...candidate.args, 'version'], { stdio: 'ignore', timeout: 30_000 });
      return candidate;
    } catch {
      // Not installed (ENOENT), or `docker` without the compose plugin (exits non-zero).
    }
  }
  return null;
}

describe('docker-compose config', () => {
  const compose = findCompose();
  // An empty env file stands in for a developer's .env beside the compose file, which would
  // otherwise supply (or mask the absence of) the secrets. Debian's v1 rejects /dev/null here.
  const scratch = mkdtempSync(path.join(tmpdir(), 'scopewatch-compose-'));
  const emptyEnvFile = path.join(scratch, 'empty.env');
  writeFileSync(emptyEnvFile, '');
  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  function runConfig(env: NodeJS.ProcessEnv): void {
    if (!compose) throw new Error('unreachable: no compose binary');
    execFileSync(
      compose.command,
      [...compose.args, '--env-file', emptyEnvFile, '-f', composeFile, 'config', '-q'],
      { env, stdio: 'pipe', encoding: 'utf8', timeout: 60_000 },
    );
  }

  function withoutSecrets(): NodeJS.ProcessEnv {
    const env = { ...process.env };
    for (const name of Object.keys(DUMMY_SECRETS)) Reflect.deleteProperty(env, name);
    return env;
  }

  let warned = false;
  function requireCompose(skip: (note?: string) => never): void {
    if (compose) return;
    const note = 'neither `docker-compose` nor `docker compose` is available: apt-get install docker-compose';
    // CI installs the package (.ci/run), so there its absence is a broken setup, not a reason to skip.
    if (process.env.CI) throw new Error(note);
    if (!warned) console.warn(`skipping docker-compose config checks: ${note}`);
    warned = true;
    skip(note);
  }

  it('accepts the file when the required secrets are set', ({ skip }) => {
    requireCompose(skip);
    try {
      runConfig({ ...withoutSecrets(), ...DUMMY_SECRETS });
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? '';
      throw new Error(`docker-compose config -q failed:\n${stderr || String(error)}`, { cause: error });
    }
  });

  // it.for, not it.each: only it.for hands the test context (and so skip) to the callback.
  it.for(Object.keys(DUMMY_SECRETS))('refuses to start without %s', (secret, { skip }) => {
    requireCompose(skip);
    const env: NodeJS.ProcessEnv = { ...withoutSecrets(), ...DUMMY_SECRETS };
    Reflect.deleteProperty(env, secret);
    expect(() => {
      runConfig(env);
    }).toThrow(new RegExp(`set ${secret}`));
  });
});
