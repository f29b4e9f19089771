/** What `bench:api` hands its load process (bench/api-load.ts) and what that process reports back. */

export interface LoadSpec {
  /** The API's base URL, e.g. http://127.0.0.1:40123. */
  url: string;
  headers: Record<string, string>;
  /** Paths (with query) to request, in turn across all connections. */
  paths: string[];
  /** Requests per second offered in total; 0: no rate, one connection sending back-to-back (closed loop). */
  rate: number;
  /**
   * autocannon instances the rate is split over, each one connection, started 1/instances s
   * apart: autocannon spends a connection's per-second budget back-to-back at each second's
   * tick, so staggering many small budgets is what makes the offered load even over time.
   */
  instances: number;
  /** Seconds each instance runs. */
  duration: number;
  /** Seconds before a request counts as timed out. */
  timeout: number;
}

export interface LoadResult {
  /** Responses received, by status code. */
  statuses: Record<string, number>;
  responses: number;
  non2xx: number;
  /** Connection errors, timeouts included, and timeouts alone. */
  errors: number;
  timeouts: number;
  /** Wall time from the first instance's start to the last one's end. */
  durationS: number;
  /** Responses per second over each instance's own run, summed. */
  achievedRps: number;
  /** Response times in ms, from every response (2xx or not), exact (not a histogram). */
  latency: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Response bytes per second, summed over instances. */
  bytesPerSecond: number;
  /** The first few responses that were not 2xx. */
  failures: { status: number; path: string; body: string }[];
}
