/** Measuring helpers the benchmarks share. */

/** The process's peak resident set so far, in MB. */
export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** Runs `work`, prints how long it took, and returns the time with the result. */
export async function timed<T>(what: string, work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await work();
  const ms = performance.now() - start;
  process.stdout.write(`${what}: ${(ms / 1000).toFixed(1)} s\n`);
  return { ms, value };
}
