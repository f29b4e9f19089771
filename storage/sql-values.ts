/** Parameter encodings shared by the repositories. */

/** DateTime64(3) parameters travel as fractional epoch seconds. */
export function dt(ms: number): string {
  return (ms / 1000).toFixed(3);
}
