import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { startLocalBroker, type LocalKafkaVersion } from '../../kafka/local-broker.js';
import { freeLoopbackPorts } from '../../kafka/loopback-ports.js';
import { classpathFile, readCachedClasspath, resolveClasspath } from '../../kafka/maven-classpath.js';
import { checkPrerequisites, findExecutable, PrerequisiteError } from '../../kafka/prerequisites.js';
import { isProcessAlive } from '../../kafka/processes.js';
import { brokerProperties, renderServerProperties } from '../../kafka/server-properties.js';
import { newClusterId } from '../../kafka/storage-format.js';

const tempDir = (): string => mkdtempSync(path.join(tmpdir(), 'scopewatch-local-broker-'));

/** Parse Java properties the simple way our renderer writes them (no continuations). */
function parseProperties(text: string): Map<string, string> {
  const entries = text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line): [string, string] => {
      const eq = line.indexOf('=');
      return [line.slice(0, eq), line.slice(eq + 1).replaceAll('\\\\', '\\')];
    });
  return new Map(entries);
}

function render(version: LocalKafkaVersion, logDir = '/var/tmp/kafka data'): Map<string, string> {
  return parseProperties(renderServerProperties({ version, port: 19092, controllerPort: 19093, logDir }));
}

function fakeExecutable(dir: string, name: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, '#!/bin/sh\nexit 0\n');
  chmodSync(file, 0o755);
  return file;
}

describe('server.properties', () => {
  it.each(['4.4.0', '3.9.2'] as const)(
    '%s: single-node KRaft broker+controller on the given ports',
    (version) => {
      const props = render(version);
      expect(props.get('process.roles')).toBe('broker,controller');
      expect(props.get('node.id')).toBe('1');
      expect(props.get('controller.quorum.voters')).toBe('1@127.0.0.1:19093');
      expect(props.get('listeners')).toBe('PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093');
      expect(props.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:19092');
      expect(props.get('controller.listener.names')).toBe('CONTROLLER');
      expect(props.get('listener.security.protocol.map')).toBe('PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT');
      expect(props.get('log.dirs')).toBe('/var/tmp/kafka data');
      expect(props.get('auto.create.topics.enable')).toBe('false');
      expect(props.get('group.initial.rebalance.delay.ms')).toBe('0');
      expect(Number(props.get('message.max.bytes'))).toBeGreaterThanOrEqual(10 * 1024 * 1024);
      expect(Number(props.get('replica.fetch.max.bytes'))).toBeGreaterThanOrEqual(
        Number(props.get('message.max.bytes')),
      );
    },
  );

  it.each(['4.4.0', '3.9.2'] as const)('%s: every internal topic fits on one node', (version) => {
    const props = render(version);
    const replication = [...props].filter(([key]) => /replication\.factor$|min\.isr$/.test(key));
    expect(replication.length).toBeGreaterThanOrEqual(version === '4.4.0' ? 5 : 3);
    for (const [key, value] of replication) expect({ key, value }).toEqual({ key, value: '1' });
  });

  it('sets share-group (KIP-932) options only for Kafka 4', () => {
    const shareKeys = (version: LocalKafkaVersion): string[] =>
      Object.keys(brokerProperties({ version, port: 1, controllerPort: 2, logDir: '/x' })).filter((key) =>
        key.startsWith('share.'),
      );
    expect(shareKeys('4.4.0')).toEqual(
      expect.arrayContaining([
        'share.coordinator.state.topic.replication.factor',
        'share.coordinator.state.topic.min.isr',
      ]),
    );
    expect(shareKeys('3.9.2')).toEqual([]);
  });

  it('escapes backslashes, the properties escape character', () => {
    const text = renderServerProperties({
      version: '4.4.0',
      port: 1,
      controllerPort: 2,
      logDir: 'C:\\kafka',
    });
    expect(text).toContain('log.dirs=C:\\\\kafka\n');
    expect(render('4.4.0', 'C:\\kafka').get('log.dirs')).toBe('C:\\kafka');
  });
});

describe('classpath cache', () => {
  function jars(names: string[]): string[] {
    const dir = tempDir();
    return names.map((name) => {
      const file = path.join(dir, name);
      writeFileSync(file, '');
      return file;
    });
  }

  function cacheWith(entries: string[], version = '4.4.0'): { cacheDir: string; file: string } {
    const cacheDir = tempDir();
    const file = classpathFile(cacheDir, version);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${entries.join(path.delimiter)}\n`);
    return { cacheDir, file };
  }

  it('lives at <cacheDir>/<version>/classpath.txt', () => {
    expect(classpathFile('/c', '3.9.2')).toBe(path.join('/c', '3.9.2', 'classpath.txt'));
  });

  it('is reused while every jar exists', () => {
    const entries = jars(['kafka_2.13-4.4.0.jar', 'kafka-clients-4.4.0.jar']);
    const { file } = cacheWith(entries);
    expect(readCachedClasspath(file, '4.4.0')).toBe(entries.join(path.delimiter));
  });

  it('is rejected when a jar has gone from ~/.m2', () => {
    const entries = [...jars(['kafka_2.13-4.4.0.jar']), '/nonexistent/kafka-clients-4.4.0.jar'];
    expect(readCachedClasspath(cacheWith(entries).file, '4.4.0')).toBeNull();
  });

  it('is rejected when it is for another Kafka version', () => {
    const entries = jars(['kafka_2.13-3.9.2.jar']);
    expect(readCachedClasspath(cacheWith(entries).file, '4.4.0')).toBeNull();
  });

  it('is rejected when empty or missing', () => {
    expect(readCachedClasspath(cacheWith([]).file, '4.4.0')).toBeNull();
    expect(readCachedClasspath(path.join(tempDir(), 'nope.txt'), '4.4.0')).toBeNull();
  });

  it('resolveClasspath uses a valid cache without needing Maven', async () => {
    const entries = jars(['kafka_2.13-3.9.2.jar']);
    const { cacheDir } = cacheWith(entries, '3.9.2');
    const noTools = { PATH: tempDir() };
    await expect(resolveClasspath('3.9.2', cacheDir, silentLogger, noTools)).resolves.toBe(entries[0]);
  });

  it('resolveClasspath needs Maven when the cache is stale', async () => {
    const { cacheDir } = cacheWith(['/nonexistent/kafka_2.13-3.9.2.jar'], '3.9.2');
    const noTools = { PATH: tempDir() };
    await expect(resolveClasspath('3.9.2', cacheDir, silentLogger, noTools)).rejects.toBeInstanceOf(
      PrerequisiteError,
    );
  });
});

describe('prerequisites', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('names what to install when neither java nor mvn is on PATH', () => {
    let caught: unknown;
    try {
      checkPrerequisites(['java', 'mvn'], { PATH: tempDir() });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PrerequisiteError);
    const error = caught as PrerequisiteError;
    expect(error.missing).toEqual(['java', 'mvn']);
    expect(error.message).toContain('java and mvn are not on PATH');
    expect(error.message).toContain('Install Java 17+ and Apache Maven');
    expect(error.message).toContain('KAFKA_BROKERS');
  });

  it('reports only what is missing', () => {
    const bin = tempDir();
    fakeExecutable(bin, 'java');
    expect(() => checkPrerequisites(['java', 'mvn'], { PATH: bin })).toThrow(/mvn is not on PATH/);
  });

  it('finds executables on PATH, ignoring files that are not executable', () => {
    const [plain, bin] = [tempDir(), tempDir()];
    writeFileSync(path.join(plain, 'mvn'), '');
    const mvn = fakeExecutable(bin, 'mvn');
    const java = fakeExecutable(bin, 'java');
    const env = { PATH: [plain, bin].join(path.delimiter) };
    expect(checkPrerequisites(['java', 'mvn'], env)).toEqual({ java, mvn });
  });

  it('prefers $JAVA_HOME/bin/java, as Kafka scripts do', () => {
    const home = tempDir();
    mkdirSync(path.join(home, 'bin'));
    const java = fakeExecutable(path.join(home, 'bin'), 'java');
    const other = tempDir();
    fakeExecutable(other, 'java');
    expect(findExecutable('java', { JAVA_HOME: home, PATH: other })).toBe(java);
  });

  it('startLocalBroker fails with PrerequisiteError before touching the work dir', async () => {
    vi.stubEnv('PATH', tempDir());
    vi.stubEnv('JAVA_HOME', '');
    const workDir = path.join(tempDir(), 'work');
    const start = startLocalBroker({ version: '4.4.0', workDir, cacheDir: tempDir(), logger: silentLogger });
    await expect(start).rejects.toMatchObject({ name: 'PrerequisiteError', missing: ['java', 'mvn'] });
    expect(existsSync(workDir)).toBe(false);
  });
});

describe('helpers', () => {
  it('makes cluster ids shaped like Kafka Uuids', () => {
    const ids = Array.from({ length: 200 }, () => newClusterId());
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('finds distinct free loopback ports', async () => {
    const ports = await freeLoopbackPorts(2);
    expect(ports).toHaveLength(2);
    expect(new Set(ports).size).toBe(2);
    // Free means bindable right now.
    for (const port of ports) {
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', resolve);
      });
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('tells live processes from dead ones and reused pids', async () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    if (process.platform === 'linux') {
      expect(isProcessAlive(process.pid, 'no-such-command-line-marker')).toBe(false);
    }
    const child = spawn(process.execPath, ['-e', '']);
    const pid = child.pid ?? -1;
    await new Promise((resolve) => child.once('exit', resolve));
    expect(isProcessAlive(pid)).toBe(false);
  });
});
