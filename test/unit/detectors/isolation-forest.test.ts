import { afterEach, describe, expect, it } from 'vitest';
import {
  averagePathLength,
  createRandom,
  rocAuc,
  trainIsolationForest,
} from '../../../detectors/models/isolation-forest.js';

/**
 * The isolation-forest wrapper: reproducible for a seed, trees grown on ψ-row subsamples within
 * the paper's height limit, planted outliers found, the ambient Math.random never used and
 * always restored, and the rank-based AUC it is evaluated with.
 */

const ambientRandom = Math.random;
afterEach(() => {
  Math.random = ambientRandom;
});

/** Standard normal from a seeded uniform (Box–Muller). */
function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Inliers: two Gaussian clusters in 6 dimensions; outliers (label 1): uniform in a wide box. */
function dataset(seed: number, inliers: number, outliers: number): { rows: number[][]; labels: number[] } {
  const random = createRandom(seed, 99);
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < inliers; i += 1) {
    const centre = i % 2 === 0 ? -3 : 3;
    rows.push(Array.from({ length: 6 }, () => centre + gaussian(random)));
    labels.push(0);
  }
  for (let i = 0; i < outliers; i += 1) {
    rows.push(Array.from({ length: 6 }, () => -8 + 16 * random()));
    labels.push(1);
  }
  return { rows, labels };
}

const { rows, labels } = dataset(7, 2000, 40);

describe('trainIsolationForest', () => {
  it('is deterministic for a seed: same seed, identical scores; another seed, different ones', () => {
    const a = trainIsolationForest(rows, { seed: 42 }).scoreAll(rows);
    const b = trainIsolationForest(rows, { seed: 42 }).scoreAll(rows);
    const c = trainIsolationForest(rows, { seed: 43 }).scoreAll(rows);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('seeds every tree on its own stream: a 10-tree model is the first 10 trees of a 20-tree one', () => {
    const small = trainIsolationForest(rows, { seed: 5, trees: 10 });
    const large = trainIsolationForest(rows, { seed: 5, trees: 20 });
    expect(large.treeSummaries.slice(0, 10)).toEqual(small.treeSummaries);
  });

  it('grows each tree on ψ rows within the height limit ceil(log2 ψ)', () => {
    const model = trainIsolationForest(rows, { seed: 1, trees: 50 });
    expect(model.info).toMatchObject({
      trees: 50,
      sampleSize: 256,
      requestedSampleSize: 256,
      seed: 1,
      trainingRows: rows.length,
      features: 6,
      heightLimit: 8,
    });
    expect(model.treeSummaries).toHaveLength(50);
    for (const tree of model.treeSummaries) {
      expect(tree.rows).toBe(256);
      expect(tree.depth).toBeLessThanOrEqual(8);
      expect(tree.nodes).toBeLessThanOrEqual(2 ** 9 - 1);
      expect(tree.nodes).toBe(2 * tree.leaves - 1);
    }
    // The package's own forest would go to ceil(log2 2040) + 1 = 12 levels on all rows.
    expect(Math.max(...model.treeSummaries.map((t) => t.depth))).toBeGreaterThanOrEqual(7);
  });

  it('caps ψ at the number of training rows', () => {
    const few = rows.slice(0, 100);
    const model = trainIsolationForest(few, { seed: 1, trees: 5, sampleSize: 256 });
    expect(model.info.sampleSize).toBe(100);
    expect(model.info.heightLimit).toBe(7);
    for (const tree of model.treeSummaries) expect(tree.rows).toBe(100);
  });

  it('scores planted outliers above inliers (AUC well above 0.9)', () => {
    const scores = trainIsolationForest(rows, { seed: 3 }).scoreAll(rows);
    expect(rocAuc(scores, labels)).toBeGreaterThan(0.98);
    for (const s of scores) {
      expect(s).toBeGreaterThan(0);
      expect(s).toBeLessThanOrEqual(1);
    }
  });

  it('normalises the mean path length with c(ψ): s = 2^(−E[h]/c(ψ))', () => {
    const model = trainIsolationForest(rows, { seed: 9, trees: 20 });
    expect(model.info.normaliser).toBe(averagePathLength(256));
    for (const row of rows.slice(0, 50)) {
      expect(model.score(row)).toBeCloseTo(2 ** (-model.meanPathLength(row) / averagePathLength(256)), 12);
    }
    expect(model.scoreAll(rows.slice(0, 5))).toEqual(
      Float64Array.from(rows.slice(0, 5), (r) => model.score(r)),
    );
  });

  it('never draws from the ambient Math.random and restores it after training', () => {
    let ambientCalls = 0;
    const counting = (): number => {
      ambientCalls += 1;
      return 0.5;
    };
    Math.random = counting;
    trainIsolationForest(rows, { seed: 11, trees: 10 });
    expect(Math.random).toBe(counting);
    expect(ambientCalls).toBe(0);
  });

  it('restores Math.random when training throws inside the package', () => {
    const ambient = Math.random;
    let sawSeeded = false;
    // A row that reads normally during validation but throws once the package is growing a
    // tree, i.e. while Math.random is the seeded generator.
    const trap = new Proxy([0, 0, 0, 0, 0, 0], {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key) && Math.random !== ambient) {
          sawSeeded = true;
          throw new Error('boom inside the tree');
        }
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    const small = [...rows.slice(0, 20), trap];
    expect(() => trainIsolationForest(small, { seed: 1, trees: 3 })).toThrow('boom inside the tree');
    expect(sawSeeded).toBe(true);
    expect(Math.random).toBe(ambient);
  });

  it('rejects bad input and options', () => {
    expect(() => trainIsolationForest([], { seed: 1 })).toThrow(RangeError);
    expect(() => trainIsolationForest([[]], { seed: 1 })).toThrow(RangeError);
    expect(() => trainIsolationForest([[1, 2], [3]], { seed: 1 })).toThrow(/row 1/);
    expect(() => trainIsolationForest([[1, NaN]], { seed: 1 })).toThrow(/not finite/);
    expect(() => trainIsolationForest(rows, { seed: -1 })).toThrow(/seed/);
    expect(() => trainIsolationForest(rows, { seed: 1.5 })).toThrow(/seed/);
    expect(() => trainIsolationForest(rows, { seed: 1, trees: 0 })).toThrow(/trees/);
    expect(() => trainIsolationForest(rows, { seed: 1, sampleSize: 0 })).toThrow(/sampleSize/);
    const model = trainIsolationForest(rows, { seed: 1, trees: 2 });
    expect(() => model.score([1, 2])).toThrow(/features/);
    expect(() => model.score([0, 0, 0, 0, 0, NaN])).toThrow(/not finite/);
  });

  it('handles a single training row (ψ = 1: every score is 1)', () => {
    const model = trainIsolationForest([[1, 2]], { seed: 1, trees: 3 });
    expect(model.info.heightLimit).toBe(0);
    expect(model.score([5, 5])).toBe(1);
  });
});

describe('averagePathLength', () => {
  it('is c(n) of Liu et al. and scikit-learn', () => {
    expect(averagePathLength(0)).toBe(0);
    expect(averagePathLength(1)).toBe(0);
    expect(averagePathLength(2)).toBe(1);
    // scikit-learn 1.2.1: sklearn.ensemble._iforest._average_path_length([256, 3])
    expect(averagePathLength(256)).toBeCloseTo(10.244770920119917, 12);
    expect(averagePathLength(3)).toBeCloseTo(1.20739236, 8);
  });
});

describe('rocAuc', () => {
  /** P(positive > negative) + ½ P(tie), by counting every pair. */
  function pairwiseAuc(scores: readonly number[], truth: readonly number[]): number {
    let wins = 0;
    let pairs = 0;
    scores.forEach((p, i) => {
      if (truth[i] !== 1) return;
      scores.forEach((q, j) => {
        if (truth[j] === 1) return;
        pairs += 1;
        wins += p > q ? 1 : p === q ? 0.5 : 0;
      });
    });
    return wins / pairs;
  }

  it('handles perfect, reversed and all-tied rankings', () => {
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
    expect(rocAuc([0.1, 0.5, 0.5, 0.9], [0, 0, 1, 1])).toBe(0.875);
    expect(rocAuc([1, 2], [0, 0])).toBeNaN();
  });

  it('equals the pairwise count with many ties', () => {
    const random = createRandom(123);
    for (let round = 0; round < 20; round += 1) {
      const scores = Array.from({ length: 200 }, () => Math.floor(random() * 8));
      const truth = Array.from({ length: 200 }, () => (random() < 0.3 ? 1 : 0));
      expect(rocAuc(scores, truth)).toBeCloseTo(pairwiseAuc(scores, truth), 12);
    }
  });
});
