import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Small process helpers: run a command to completion, output tails, timed waits, liveness. */

interface ProcessResult {
  code: number | null;
  /** Last lines of stdout+stderr, for error messages. */
  output: string;
}

const TAIL_CHARS = 4000;

function tailOf(text: string): string {
  return text.length <= TAIL_CHARS ? text : `…${text.slice(-TAIL_CHARS)}`;
}

/** Run a short-lived command to completion, keeping the tail of its output. */
export function runProcess(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-2 * TAIL_CHARS);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject);
    child.once('close', (code) => {
      resolve({ code, output: tailOf(output.trim()) });
    });
  });
}

export function readTail(file: string): string {
  try {
    return tailOf(readFileSync(file, 'utf8').trim());
  } catch {
    return '(no output)';
  }
}

/** Sleep that can end early: resolves true if `promise` settled first, false on timeout. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => {
      resolve(false);
    }, ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether `pid` is alive and, given a marker and where /proc can tell (Linux), still runs a
 * command line containing it: pids recorded in files are reused after a crash or reboot.
 */
export function isProcessAlive(pid: number, commandMarker?: string): boolean {
  // kill(0 or negative pid) addresses process groups, which would always look alive.
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false; // EPERM: exists, not ours
  }
  if (commandMarker === undefined) return true;
  try {
    return readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8').includes(commandMarker);
  } catch {
    return true;
  }
}
