import type { SqlGateway } from './gateway.js';

/** `detector_state`: named watermarks (how far a detection path has judged; one-off markers). */
export class DetectorStateRepository {
  constructor(private readonly ch: SqlGateway) {}

  async watermark(name: string): Promise<number | null> {
    const [row] = await this.ch.query<{ w: number }>(
      `SELECT toFloat64(toUnixTimestamp64Milli(watermark)) AS w FROM ${this.ch.table('detector_state')} FINAL
       WHERE name = {name:String}`,
      { name },
    );
    return row?.w ?? null;
  }

  async setWatermark(name: string, watermark: number): Promise<void> {
    await this.ch.insert('detector_state', [{ name, watermark, updated_at: Date.now() }]);
  }
}
