import { cloudTrailToEvents } from './cloudtrail.js';
import { canonicalAdapter, type FormatAdapter } from './types.js';

/** Every source format scopewatch reads, by the name used in the `format` header and `--format`. */
export const cloudTrailAdapter: FormatAdapter = { name: 'cloudtrail', toEvents: cloudTrailToEvents };

export const ADAPTERS: readonly FormatAdapter[] = [canonicalAdapter, cloudTrailAdapter];
