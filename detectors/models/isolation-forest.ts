import { createRequire } from 'node:module';

/**
 * Isolation Forest (Liu, Ting & Zhou 2008) on top of the `ml-isolation-forest` package, made to
 * follow the paper and to be reproducible.
 *
 * Why a wrapper and not the package as is. `ml-isolation-forest` 0.1.0 grows every tree on
 * *all* training rows, with a height limit of ceil(log2 n), and normalises with c(n) of the
 * full training set. The paper grows each tree on a subsample of ψ = 256 rows drawn without
 * replacement, with height limit l = ceil(log2 ψ), and normalises with c(ψ): small subsamples
 * are what make isolation work (less swamping and masking) and what make training O(t·ψ·log ψ)
 * instead of O(t·n·log n). The package also draws its splits from the ambient `Math.random`,
 * so two trainings on the same rows give different scores, and a finding's evidence could not
 * be recomputed.
 *
 * What stays the package's: the tree-growing code. Each tree is the package's own `TreeNode`
 * trained with its own `train` (random feature, random split uniform between the node's min and
 * max, recursion until one row is left or the height limit is hit), on a seeded subsample,
 * while `Math.random` is temporarily a seeded generator. Training is synchronous, so no other
 * code can observe the swap, and a `finally` puts the original back even when training throws.
 *
 * What is ours: subsampling, seeding, and scoring. After a tree is grown its nodes are copied
 * into flat typed arrays (the package's objects are then dropped), and scores are computed from
 * those: the path length h(x) of a row in a tree is the number of edges from the root to the
 * leaf it lands in plus c(size of that leaf) (the expected remaining depth of the unbuilt
 * subtree), and
 *
 *   s(x) = 2^(−E[h(x)] / c(ψ)),   c(n) = 2·(ln(n − 1) + γ) − 2·(n − 1)/n,  c(2) = 1,  c(≤1) = 0
 *
 * exactly as in the paper and in scikit-learn's `IsolationForest.score_samples` (which returns
 * −s). We do not use the package's `pathLengthFromRoot`: besides being a recursive walk over
 * objects, its c(n) adds Euler's γ once instead of twice (2·ln(n − 1) + γ − …).
 *
 * Known differences from scikit-learn that remain because the tree code is the package's: a
 * node that picks a feature constant within the node (or whose rows are all identical) spends a
 * level on an empty split instead of drawing another feature or stopping, so heavily duplicated
 * rows end a little deeper (look a little more normal) than in scikit-learn; and the package
 * sends x < split left where scikit-learn sends x ≤ split left (a measure-zero difference for
 * continuous data).
 *
 * Scores are in (0, 1]: near 1 is anomalous, well below 0.5 is normal, ~0.5 everywhere means
 * nothing stands out. Pure: no I/O, no clock, no ambient randomness.
 */

/** Euler–Mascheroni constant (scikit-learn uses numpy's `euler_gamma`, the same value). */
const EULER_GAMMA = 0.5772156649015329;

/** The paper's and scikit-learn's default subsample size ψ. */
export const DEFAULT_SAMPLE_SIZE = 256;
/** The paper's and scikit-learn's default number of trees t. */
export const DEFAULT_TREES = 100;

/**
 * c(n): the average path length of an unsuccessful search in a binary search tree of n keys,
 * i.e. the expected depth at which isolation of one of n rows would end. Used both to normalise
 * (with n = ψ) and to complete the path of a row that stops in a leaf still holding n rows.
 */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness

/** fmix32 (MurmurHash3's finaliser): a bijection on 32-bit words that spreads every bit. */
function mix32(x: number): number {
  let z = x | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * A seeded generator of doubles uniform in [0, 1) with 53 random bits, like `Math.random`.
 * sfc32, whose state starts from (mix(seed), mix(stream), constants): distinct (seed, stream)
 * pairs start from distinct states. The model gives every tree its own stream (the tree's
 * index), so tree k depends only on (seed, k, rows): a 100-tree model's trees are the first
 * 100 of a 200-tree model with the same seed. Exported so tests and benchmarks can generate
 * reproducible data with the same generator.
 */
export function createRandom(seed: number, stream = 0): () => number {
  let a = mix32(seed);
  let b = mix32(stream ^ 0x5bd1e995);
  let c = 0x9e3779b9 | 0;
  let d = 1;
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 16; i += 1) next();
  return () => ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
}

/**
 * k distinct indices from [0, n), uniformly, without replacement (Floyd's algorithm): O(k)
 * time and memory whatever n is, so a 256-row sample of a million rows costs 256 draws.
 */
function sampleIndices(n: number, k: number, random: () => number): number[] {
  const chosen = new Set<number>();
  for (let j = n - k; j < n; j += 1) {
    const t = Math.floor(random() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen];
}

// ---------------------------------------------------------------------------------------------
// The package's tree code

type Rows = readonly (readonly number[])[];

/** The fields of the package's `TreeNode` (src/TreeNode.js) that we read or call. */
interface PackageTreeNode {
  left?: PackageTreeNode;
  right?: PackageTreeNode;
  splitColumn?: number;
  splitValue?: number;
  /** Set on leaves only: the training rows that ended there. */
  trainingSet?: Rows;
  train(trainingSet: Rows, currentDepth: number): void;
}

type PackageTreeNodeClass = new (options: { depth: number; maxDepth: number }) => PackageTreeNode;

interface PackageForest {
  forest: unknown[];
  train(trainingSet: Rows): void;
}

let treeNodeClass: PackageTreeNodeClass | undefined;

/**
 * The package's `TreeNode` class. Its bundle (lib/index.js, CommonJS, no type declarations)
 * exports only `IsolationForest`, and its ES sources use extension-less imports Node cannot
 * resolve; the class is reached as the constructor of a node the package itself creates,
 * training a one-tree forest on a single row (no split, so no randomness drawn).
 */
function packageTreeNode(): PackageTreeNodeClass {
  if (treeNodeClass) return treeNodeClass;
  const loaded: unknown = createRequire(import.meta.url)('ml-isolation-forest');
  const Forest: unknown =
    typeof loaded === 'object' && loaded !== null ? Reflect.get(loaded, 'IsolationForest') : undefined;
  if (typeof Forest !== 'function') throw new Error('ml-isolation-forest: IsolationForest export not found');
  const probe = Reflect.construct(Forest, [{ nEstimators: 1 }]) as PackageForest;
  probe.train([[0]]);
  const node: unknown = probe.forest[0];
  const ctor: unknown = typeof node === 'object' && node !== null ? node.constructor : undefined;
  if (typeof ctor !== 'function' || typeof Reflect.get(ctor.prototype as object, 'train') !== 'function')
    throw new Error('ml-isolation-forest: TreeNode class not found (package layout changed?)');
  treeNodeClass = ctor as PackageTreeNodeClass;
  return treeNodeClass;
}

// ---------------------------------------------------------------------------------------------
// Flat trees

/**
 * All trees of a model in three parallel arrays, each tree's nodes contiguous, children of a
 * node adjacent (right = left + 1). `value` is the split value of an inner node and, for a
 * leaf, the full path length of a row ending there (depth + c(leaf size)), so scoring a row in
 * a tree is a tight loop with no allocation and no recursion.
 */
interface FlatForest {
  /** Split feature of an inner node; −1 for a leaf. */
  feature: Int32Array;
  value: Float64Array;
  /** Index of an inner node's left child (right is the next one); −1 for a leaf. */
  left: Int32Array;
  /** Index of each tree's root. */
  roots: Int32Array;
}

/** What one trained tree looks like: for inspection, tests and model cards. */
export interface TreeSummary {
  /** Nodes, inner and leaves. */
  readonly nodes: number;
  readonly leaves: number;
  /** Depth (edges from the root) of the deepest leaf: at most ceil(log2 ψ). */
  readonly depth: number;
  /** Training rows the tree was grown on (the sum of its leaf sizes): ψ. */
  readonly rows: number;
}

class FlatBuilder {
  readonly feature: number[] = [];
  readonly value: number[] = [];
  readonly left: number[] = [];
  readonly roots: number[] = [];

  /** Appends one of the package's trees, breadth first so siblings are adjacent. */
  add(root: PackageTreeNode, features: number): TreeSummary {
    const base = this.feature.length;
    this.roots.push(base);
    const queue: PackageTreeNode[] = [root];
    const depths: number[] = [0];
    let leaves = 0;
    let depth = 0;
    let rows = 0;
    for (let k = 0; k < queue.length; k += 1) {
      const node = queue[k] as PackageTreeNode;
      const d = depths[k] as number;
      const { left, right, splitColumn, splitValue } = node;
      if (left !== undefined && right !== undefined) {
        if (
          splitColumn === undefined ||
          !Number.isInteger(splitColumn) ||
          splitColumn < 0 ||
          splitColumn >= features ||
          splitValue === undefined ||
          !Number.isFinite(splitValue)
        )
          throw new Error('ml-isolation-forest: unexpected inner node shape');
        this.feature.push(splitColumn);
        this.value.push(splitValue);
        this.left.push(base + queue.length);
        queue.push(left, right);
        depths.push(d + 1, d + 1);
      } else {
        const size = node.trainingSet?.length ?? 0;
        this.feature.push(-1);
        this.value.push(d + averagePathLength(size));
        this.left.push(-1);
        leaves += 1;
        rows += size;
        if (d > depth) depth = d;
      }
    }
    return { nodes: queue.length, leaves, depth, rows };
  }

  build(): FlatForest {
    return {
      feature: Int32Array.from(this.feature),
      value: Float64Array.from(this.value),
      left: Int32Array.from(this.left),
      roots: Int32Array.from(this.roots),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// The model

export interface IsolationForestOptions {
  /** Number of trees t (default 100). */
  trees?: number;
  /** Subsample size ψ per tree (default 256); capped at the number of training rows. */
  sampleSize?: number;
  /**
   * Seed, an integer in [0, 2³²). Required: the same rows, options and seed always give the
   * same model and the same scores, which is what lets evidence be recomputed.
   */
  seed: number;
}

/** What a model was trained with: enough, with the rows, to retrain it bit for bit. */
export interface IsolationModelInfo {
  readonly trees: number;
  /** ψ actually used: min(requested sample size, training rows). */
  readonly sampleSize: number;
  readonly requestedSampleSize: number;
  readonly seed: number;
  readonly trainingRows: number;
  readonly features: number;
  /** Height limit l = ceil(log2 ψ): no leaf is deeper. */
  readonly heightLimit: number;
  /** c(ψ), the normaliser of the mean path length. */
  readonly normaliser: number;
  /** Total nodes over all trees (the model's size). */
  readonly nodes: number;
}

export interface IsolationModel {
  readonly info: IsolationModelInfo;
  /** Per-tree shape, in tree order. */
  readonly treeSummaries: readonly TreeSummary[];
  /** Anomaly score s(x) in (0, 1]; higher is more anomalous. */
  score(row: ArrayLike<number>): number;
  /** s(x) of every row, in order. */
  scoreAll(rows: readonly ArrayLike<number>[]): Float64Array;
  /** E[h(x)]: the mean path length over the trees (lower is more anomalous). */
  meanPathLength(row: ArrayLike<number>): number;
}

function checkRows(rows: Rows): number {
  if (rows.length === 0) throw new RangeError('isolation forest: no training rows');
  const first = rows[0];
  const features = first?.length ?? 0;
  if (features === 0) throw new RangeError('isolation forest: rows have no features');
  for (let r = 0; r < rows.length; r += 1) {
    const row = rows[r];
    if (row?.length !== features)
      throw new RangeError(
        `isolation forest: row ${r} has ${row?.length ?? 0} features, expected ${features}`,
      );
    for (let f = 0; f < features; f += 1)
      if (!Number.isFinite(row[f]))
        throw new RangeError(`isolation forest: row ${r} feature ${f} is not finite`);
  }
  return features;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new RangeError(`isolation forest: ${name} must be a positive integer`);
  return value;
}

/**
 * Trains an isolation forest: t trees, each the package's tree grown on its own ψ rows drawn
 * without replacement with the tree's seeded stream, height-limited to ceil(log2 ψ).
 *
 * Rows must all have the same number of finite features. Deterministic for (rows, options).
 */
export function trainIsolationForest(rows: Rows, options: IsolationForestOptions): IsolationModel {
  const features = checkRows(rows);
  const trees = positiveInteger('trees', options.trees ?? DEFAULT_TREES);
  const requestedSampleSize = positiveInteger('sampleSize', options.sampleSize ?? DEFAULT_SAMPLE_SIZE);
  const { seed } = options;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new RangeError('isolation forest: seed must be an integer in [0, 2^32)');
  const sampleSize = Math.min(requestedSampleSize, rows.length);
  const heightLimit = Math.ceil(Math.log2(sampleSize));

  const TreeNode = packageTreeNode();
  const builder = new FlatBuilder();
  const summaries: TreeSummary[] = [];
  const ambientRandom = Math.random;
  let random = ambientRandom;
  // The package's TreeNode splits while `currentDepth <= maxDepth`, so its leaves can sit one
  // level below maxDepth: maxDepth = l − 1 gives leaves at depth ≤ l, the paper's limit.
  const maxDepth = heightLimit - 1;
  try {
    Math.random = () => random();
    for (let t = 0; t < trees; t += 1) {
      random = createRandom(seed, t);
      const sample = sampleIndices(rows.length, sampleSize, random).map((i) => rows[i] as readonly number[]);
      const root = new TreeNode({ depth: 0, maxDepth });
      root.train(sample, 0);
      summaries.push(builder.add(root, features));
    }
  } finally {
    Math.random = ambientRandom;
  }

  const flat = builder.build();
  const info: IsolationModelInfo = Object.freeze({
    trees,
    sampleSize,
    requestedSampleSize,
    seed,
    trainingRows: rows.length,
    features,
    heightLimit,
    normaliser: averagePathLength(sampleSize),
    nodes: flat.feature.length,
  });
  return new FlatIsolationModel(info, Object.freeze(summaries), flat);
}

class FlatIsolationModel implements IsolationModel {
  /** One row's features, copied once per row so the tree walk reads a monomorphic typed array. */
  private readonly scratch: Float64Array;
  /** 1 / (t · c(ψ)): turns a sum of path lengths into the exponent, one multiply per row. */
  private readonly exponentScale: number;

  constructor(
    readonly info: IsolationModelInfo,
    readonly treeSummaries: readonly TreeSummary[],
    private readonly flat: FlatForest,
  ) {
    this.scratch = new Float64Array(info.features);
    // c(ψ) is 0 when ψ = 1 (a single training row): every path is 0 and the score is 2^0 = 1
    // by convention, instead of 0/0.
    this.exponentScale = info.normaliser > 0 ? 1 / (info.trees * info.normaliser) : 0;
  }

  score(row: ArrayLike<number>): number {
    return 2 ** -(this.pathSum(row) * this.exponentScale);
  }

  scoreAll(rows: readonly ArrayLike<number>[]): Float64Array {
    const out = new Float64Array(rows.length);
    const scale = this.exponentScale;
    for (let r = 0; r < rows.length; r += 1)
      out[r] = 2 ** -(this.pathSum(rows[r] as ArrayLike<number>) * scale);
    return out;
  }

  meanPathLength(row: ArrayLike<number>): number {
    return this.pathSum(row) / this.info.trees;
  }

  /** Σ over trees of h(x). */
  private pathSum(row: ArrayLike<number>): number {
    const x = this.scratch;
    const features = x.length;
    if (row.length !== features)
      throw new RangeError(`isolation forest: row has ${row.length} features, expected ${features}`);
    for (let f = 0; f < features; f += 1) {
      const v = row[f] as number;
      if (!Number.isFinite(v)) throw new RangeError(`isolation forest: feature ${f} is not finite`);
      x[f] = v;
    }
    const { feature, value, left, roots } = this.flat;
    let sum = 0;
    for (let t = 0; t < roots.length; t += 1) {
      let i = roots[t] as number;
      let f = feature[i] as number;
      while (f >= 0) {
        // The package's rule: x < split goes left.
        i = (left[i] as number) + ((x[f] as number) < (value[i] as number) ? 0 : 1);
        f = feature[i] as number;
      }
      sum += value[i] as number;
    }
    return sum;
  }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/**
 * ROC AUC of scores against labels (1 = positive), via the Mann–Whitney U statistic: sort,
 * give tied scores their average rank, AUC = (R₊ − n₊(n₊ + 1)/2) / (n₊·n₋). Equals the
 * probability that a random positive outscores a random negative, ties counting one half.
 * NaN when either class is empty. Kept next to the model so tests, benchmarks and evaluation
 * share one implementation.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  if (labels.length !== n) throw new RangeError('rocAuc: scores and labels differ in length');
  const order = new Int32Array(n);
  for (let i = 0; i < n; i += 1) {
    if (Number.isNaN(scores[i])) throw new RangeError('rocAuc: NaN score');
    order[i] = i;
  }
  order.sort((p, q) => (scores[p] as number) - (scores[q] as number));
  let positives = 0;
  let rankSum = 0;
  for (let start = 0; start < n;) {
    const s = scores[order[start] as number] as number;
    let end = start + 1;
    while (end < n && scores[order[end] as number] === s) end += 1;
    // Ranks start..end−1 (0-based) are tied: each gets the average 1-based rank.
    const averageRank = (start + 1 + end) / 2;
    for (let k = start; k < end; k += 1) {
      if (labels[order[k] as number] === 1) {
        positives += 1;
        rankSum += averageRank;
      }
    }
    start = end;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
