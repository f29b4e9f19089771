/** One day in milliseconds: baselines, windows and retention all count in UTC days. */
export const DAY_MS = 86_400_000;

/** Midnight UTC of the day `ts` (epoch ms) falls in. */
export function startOfDay(ts: number): number {
  return Math.floor(ts / DAY_MS) * DAY_MS;
}
