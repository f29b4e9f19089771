import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LocalBrokerError } from './local-broker-error.js';
import { isProcessAlive } from './processes.js';

/** One broker per directory: `<dir>/owner.json` records who runs the broker there. */

interface DirectoryOwner {
  /** The node process that started the broker. */
  pid: number;
  javaPid?: number;
}

export interface DirectoryClaim {
  setBrokerPid(pid: number): void;
  release(): void;
}

function readOwner(file: string): DirectoryOwner | null {
  try {
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof value !== 'object' || value === null) return null;
    const { pid, javaPid } = value as Record<string, unknown>;
    if (typeof pid !== 'number') return null;
    return typeof javaPid === 'number' ? { pid, javaPid } : { pid };
  } catch {
    return null;
  }
}

function ownerIsLive(owner: DirectoryOwner): boolean {
  return owner.javaPid === undefined
    ? isProcessAlive(owner.pid, 'node')
    : isProcessAlive(owner.javaPid, 'kafka.Kafka');
}

/**
 * Claim a broker directory for this process. A second Kafka on the same log dir fails on Kafka's
 * own lock, but not before it has rewritten server.properties and the log file and (seen with
 * 4.4.0) made the running broker exit, so refuse before touching anything.
 */
export function claimDirectory(dir: string): DirectoryClaim {
  const file = path.join(dir, 'owner.json');
  const write = (owner: DirectoryOwner, flag: 'w' | 'wx'): void => {
    writeFileSync(file, `${JSON.stringify(owner)}\n`, { flag });
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      write({ pid: process.pid }, 'wx');
      return {
        setBrokerPid: (javaPid) => {
          write({ pid: process.pid, javaPid }, 'w');
        },
        release: () => {
          rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = readOwner(file);
      if (owner !== null && ownerIsLive(owner)) {
        throw new LocalBrokerError(
          `a local Kafka broker started by pid ${String(owner.pid)} is already using ${dir}; ` +
            'stop it first (`npm run kafka:stop` stops one started by kafka:start), or set KAFKA_BROKERS to use it',
        );
      }
      rmSync(file, { force: true }); // left behind by a process that died
    }
  }
  throw new LocalBrokerError(`could not claim ${dir}: another start is racing for it`);
}
