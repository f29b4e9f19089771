/** Parameter encodings shared by the repositories. */

/** DateTime64(3) parameters travel as fractional epoch seconds. */
export function dt(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/** 2100-01-01: the open end of a time range (well inside ClickHouse's DateTime64 range). */
export const END_OF_TIME_MS = 4102444800000;
