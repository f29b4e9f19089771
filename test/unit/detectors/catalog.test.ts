import { describe, expect, it } from 'vitest';
import { createDetectors } from '../../../detectors/catalog.js';

describe('catalog', () => {
  it('applies per-detector settings and refuses unknown detector ids', () => {
    const detectors = createDetectors({ 'scope.new_tool': { warmupEvents: 99 } });
    expect(detectors.find((d) => d.id === 'scope.new_tool')?.config.warmupEvents).toBe(99);
    expect(detectors.find((d) => d.id === 'scope.new_egress')?.config.warmupEvents).toBe(20);
    expect(() => createDetectors({ 'scope.new_tools': {} })).toThrow(/unknown detector scope.new_tools/);
  });
});
