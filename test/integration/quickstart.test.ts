import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../common/paths.js';
import { exited, waitFor } from './helpers.js';

/**
 * The README's first command, as a person runs it: `scopewatch run --demo` on embedded
 * defaults (its own local broker, embedded ClickHouse, API up) shows findings through the API,
 * and a Ctrl-C in the terminal — SIGINT to the whole process group, the broker's JVM included
 * unless it keeps to its own — shuts everything down cleanly, leaving no broker behind. On the
 * way, the CLI's access review is written and verified offline, and the fleet table printed.
 */

const cli = path.join(packageRoot(), 'dist', 'bin', 'scopewatch.js');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

/** Processes whose command line mentions `needle` (the broker's files live in the data dir). */
function processesMentioning(needle: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.includes(needle) && !line.includes('ps -eo'));
}

describe('quick start', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'scopewatch-quickstart-'));
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child?.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('run --demo shows findings through the API, and Ctrl-C stops it and its broker cleanly', async () => {
    expect(existsSync(cli), `${cli} missing: run \`npm run build\` first`).toBe(true);
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      SCOPEWATCH_DATA_DIR: dataDir,
      SCOPEWATCH_API_PORT: String(port),
      SCOPEWATCH_LOG_LEVEL: 'warn',
    };
    // Embedded defaults: no external Kafka or ClickHouse, whatever the test environment sets.
    delete env.KAFKA_BROKERS;
    delete env.CLICKHOUSE_URL;
    let stderr = '';
    // Its own process group, like a shell job: the Ctrl-C below goes to every process in it.
    child = spawn(process.execPath, [cli, 'run', '--demo'], {
      env,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const pid = child.pid;
    if (pid === undefined) throw new Error('scopewatch run did not start');

    const keyFile = path.join(dataDir, 'api-key');
    await waitFor('the local API key', () => Promise.resolve(existsSync(keyFile)), Boolean, 120_000);
    const key = readFileSync(keyFile, 'utf8').trim();
    const findings = await waitFor(
      'findings from the demo traffic',
      async () => {
        try {
          const response = await fetch(`http://127.0.0.1:${String(port)}/v1/findings?limit=100`, {
            headers: { authorization: `Bearer ${key}` },
          });
          if (!response.ok) return [];
          const body = (await response.json()) as { findings: { detector: string }[] };
          return body.findings;
        } catch {
          return []; // the API is not listening yet
        }
      },
      (list) => list.length > 0,
      150_000,
    );
    expect(findings.length, stderr).toBeGreaterThan(0);
    expect(processesMentioning(dataDir).length).toBeGreaterThan(0); // the broker runs from the data dir

    // What a compliance team does next, from the same terminal: an access review written as an
    // archive and verified offline against the API's signing key, and the fleet table.
    const scopewatch = (...args: string[]): string =>
      execFileSync(process.execPath, [cli, ...args], { env, encoding: 'utf8' });
    const pem = await (
      await fetch(`http://127.0.0.1:${String(port)}/v1/keys/signing`, {
        headers: { authorization: `Bearer ${key}` },
      })
    ).text();
    writeFileSync(path.join(dataDir, 'signing.pub.pem'), pem);
    const review = path.join(dataDir, 'review.tar.gz');
    expect(scopewatch('review', 'release-bot', '--out', review)).toContain('proposed registry entry:');
    expect(scopewatch('verify', review, '--pubkey', path.join(dataDir, 'signing.pub.pem'))).toMatch(
      /verified\s*$/,
    );
    const fleet = scopewatch('review', '--fleet', '--format', 'csv').trim().split('\r\n');
    expect(fleet[0]).toMatch(/^identity_id,owner,lifecycle,/);
    expect(fleet.some((line) => line.startsWith('release-bot,team-platform,active,'))).toBe(true);

    const beforeShutdown = stderr.length;
    process.kill(-pid, 'SIGINT');
    expect(await exited(child), stderr).toBe(0);
    // The broker outlived the consumer: the final commit and the group leave found it there.
    expect(stderr.slice(beforeShutdown)).not.toMatch(/ECONNREFUSED|Connection error|final flush failed/);
    await waitFor(
      'the broker to stop',
      () => Promise.resolve(processesMentioning(dataDir)),
      (p) => p.length === 0,
      30_000,
    );
  }, 300_000);
});
