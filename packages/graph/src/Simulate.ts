/**
 * Seeded simulators of structure-learning benchmarks: random DAGs, edge
 * weights, and data from linear and nonlinear structural equation models
 * (SEMs), following the simulator of the NOTEARS reference code
 * (github.com/xunzheng/notears, `notears/utils.py`: `simulate_dag`,
 * `simulate_parameter`, `simulate_linear_sem`, `simulate_nonlinear_sem`) that
 * NOTEARS, DAGMA, GOLEM, CoLiDE and TOPO all evaluate on.
 *
 * Pipeline: a binary DAG B ({@link erdosRenyi}, {@link scaleFree},
 * {@link bipartite}, all with a uniformly random node labelling), weights
 * W = B ∘ U with U uniform on ±[0.5, 2] ({@link weights}), then n samples of
 * X = X·W + Z ({@link linearSem}) or x_j = f_j(x_pa(j)) + z_j with a random
 * MLP f_j ({@link nonlinearSem}). {@link linear} and {@link nonlinear} run the
 * whole pipeline from one key and return `{ X, W, B, noiseScale }`.
 *
 * Graph sizes follow the papers' "ERk"/"SFk" naming: k·d edges on d nodes
 * (NOTEARS README: "d = 20 nodes, 2d = 40 expected edges" for ER2), so the
 * mean total (in + out) degree is 2k. Pass `edgesPerNode: k` or an exact
 * `edges` count.
 *
 * Reproducibility: every draw comes from core's counter-based `Random` keys
 * (Threefry), split by purpose (graph, weights, noise scales, data) and folded
 * with the node index for per-node draws, so a node's noise does not depend on
 * the topological order or on the other nodes; the arithmetic is IEEE double
 * with core's deterministic kernels (`Blas`, the `Logistic` sigmoid), so the
 * same key gives the same bits in every engine. The values differ from
 * NumPy's (a different generator); the distributions are the same.
 *
 * @since 0.1.0
 */
import { Blas1, Blas2, Blas3, Errors, Logistic, Matrix, Random, Vector } from "@descent/core"
import * as Dag from "./Dag.ts"
import * as Data from "./Data.ts"

// ---------------------------------------------------------------------------
// Models

/**
 * Size of a random graph: an exact number of `edges` (NOTEARS's s0), or
 * `edgesPerNode` k for k·d edges (rounded), the papers' ERk/SFk. `edges` wins
 * when both are given; the default is k = 2 (ER2).
 *
 * @category models
 * @since 0.1.0
 */
export interface GraphOptions {
  readonly edges?: number
  readonly edgesPerNode?: number
}

/**
 * Options of {@link bipartite}.
 *
 * @category models
 * @since 0.1.0
 */
export interface BipartiteOptions extends GraphOptions {
  /** Fraction of nodes in the top (parent) part, ⌊fraction·d⌋ nodes; default 0.2. */
  readonly topFraction?: number
}

/**
 * Options of {@link weights}.
 *
 * @category models
 * @since 0.1.0
 */
export interface WeightOptions {
  /**
   * Disjoint intervals [low, high); each edge picks one uniformly, then a
   * weight uniformly inside it. Default ±[0.5, 2]: [[−2, −0.5], [0.5, 2]].
   */
  readonly ranges?: ReadonlyArray<readonly [number, number]>
}

/**
 * The additive noise of a linear SEM, or `"logistic"` for binary variables
 * x_j ~ Bernoulli(σ(x_pa(j)·w_j)) without additive noise (NOTEARS's
 * 'logistic' sem type):
 *
 * - `"gaussian"`: N(0, s²);
 * - `"exponential"`: Exp with mean s (not centered, as NOTEARS);
 * - `"gumbel"`: Gumbel(0, s) (mean γ·s, not centered, as NOTEARS);
 * - `"uniform"`: U(−s, s).
 *
 * @category models
 * @since 0.1.0
 */
export type Noise = "gaussian" | "exponential" | "gumbel" | "uniform" | "logistic"

/**
 * Per-node noise scale s_j: one number for all nodes (equal variances), d
 * numbers, or a range from which each node's scale is drawn uniformly
 * (non-equal variances).
 *
 * @category models
 * @since 0.1.0
 */
export type NoiseScale = number | ArrayLike<number> | { readonly low: number; readonly high: number }

/**
 * Options of {@link linearSem}.
 *
 * @category models
 * @since 0.1.0
 */
export interface LinearSemOptions {
  /** Default `"gaussian"`. */
  readonly noise?: Noise
  /** A number or d numbers ≥ 0 (ignored for `"logistic"`); default 1. */
  readonly noiseScale?: number | ArrayLike<number>
}

/**
 * Options of {@link nonlinearSem}.
 *
 * @category models
 * @since 0.1.0
 */
export interface NonlinearSemOptions {
  /** Gaussian noise scale: a number or d numbers ≥ 0; default 1. */
  readonly noiseScale?: number | ArrayLike<number>
  /** Hidden units of each node's MLP; default 100 (NOTEARS). */
  readonly hidden?: number
  /** Magnitude range [low, high) of the MLP weights (random signs); default [0.5, 2]. */
  readonly weightRange?: readonly [number, number]
}

/**
 * The random graph model of {@link linear} and {@link nonlinear}.
 *
 * @category models
 * @since 0.1.0
 */
export type GraphModel = "erdosRenyi" | "scaleFree" | "bipartite"

/**
 * Options shared by {@link linear} and {@link nonlinear}.
 *
 * @category models
 * @since 0.1.0
 */
export interface PipelineOptions extends GraphOptions {
  /** Number of variables d. */
  readonly nodes: number
  /** Number of samples n. */
  readonly samples: number
  /** Default `"erdosRenyi"`. */
  readonly graph?: GraphModel
  /** Bipartite graphs only: see {@link BipartiteOptions}. */
  readonly topFraction?: number
  /** Noise scale(s); a range draws non-equal scales; default 1. */
  readonly noiseScale?: NoiseScale
  /** Standardize each column of X to mean 0, variance 1; default false. */
  readonly standardize?: boolean
}

/**
 * Options of {@link linear}.
 *
 * @category models
 * @since 0.1.0
 */
export interface LinearOptions extends PipelineOptions {
  /** Default `"gaussian"`. */
  readonly noise?: Noise
  /** Weight ranges; default ±[0.5, 2]. */
  readonly weightRanges?: ReadonlyArray<readonly [number, number]>
}

/**
 * Options of {@link nonlinear}.
 *
 * @category models
 * @since 0.1.0
 */
export interface NonlinearOptions extends PipelineOptions {
  /** Hidden units per node; default 100. */
  readonly hidden?: number
  /** MLP weight magnitudes; default [0.5, 2]. */
  readonly weightRange?: readonly [number, number]
}

/**
 * A simulated data set.
 *
 * @category models
 * @since 0.1.0
 */
export interface Sample {
  /** Data, n × d, one sample per row. */
  readonly X: Matrix.Matrix
  /** Weighted adjacency, d × d (W_ij ≠ 0: i → j); for nonlinear SEMs, equal to B. */
  readonly W: Matrix.Matrix
  /** Binary adjacency, d × d: B_ij = 1 when W_ij ≠ 0. */
  readonly B: Matrix.Matrix
  /** The noise scale s_j of each node (length d). */
  readonly noiseScale: Vector.Vector
}

/**
 * Defaults of every option in this module.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaults = {
  edgesPerNode: 2,
  topFraction: 0.2,
  weightRanges: [
    [-2, -0.5],
    [0.5, 2]
  ] as ReadonlyArray<readonly [number, number]>,
  noise: "gaussian" as Noise,
  noiseScale: 1,
  hidden: 100,
  weightRange: [0.5, 2] as readonly [number, number],
  graph: "erdosRenyi" as GraphModel,
  standardize: false
} as const

// ---------------------------------------------------------------------------
// Validation

const invalid = (operation: string, field: string, value: unknown, requirement: string) =>
  new Errors.InvalidOptions({ operation, field, value, requirement })

const checkCount = (operation: string, field: string, value: number): void => {
  if (!Number.isSafeInteger(value) || value < 0) throw invalid(operation, field, value, "an integer ≥ 0")
}

const checkRange = (operation: string, field: string, range: readonly [number, number]): void => {
  const [low, high] = range ?? []
  if (!(Number.isFinite(low) && Number.isFinite(high) && (low as number) < (high as number))) {
    throw invalid(
      operation,
      field,
      JSON.stringify(range),
      "an interval [low, high) of finite numbers, low < high"
    )
  }
}

/** The requested edge count s0 for d nodes. */
const edgeCount = (operation: string, nodes: number, options: GraphOptions): number => {
  if (options.edges !== undefined) {
    checkCount(operation, "edges", options.edges)
    return options.edges
  }
  const k = options.edgesPerNode ?? defaults.edgesPerNode
  if (!(Number.isFinite(k) && k >= 0)) throw invalid(operation, "edgesPerNode", k, "a finite number ≥ 0")
  return Math.round(k * nodes)
}

/** The d noise scales from a number or an array (a range is resolved by the caller). */
const scaleVector = (operation: string, d: number, scale: number | ArrayLike<number>): Vector.Vector => {
  const out = typeof scale === "number" ? Vector.full(d, scale) : Vector.fromArray(scale)
  if (out.length !== d) {
    throw new Errors.DimensionMismatch({ operation, what: "noiseScale", expected: [d], actual: [out.length] })
  }
  for (let j = 0; j < d; j++) {
    if (!(Number.isFinite(out[j]!) && out[j]! >= 0)) {
      throw invalid(operation, `noiseScale[${j}]`, out[j], "a finite number ≥ 0")
    }
  }
  return out
}

// ---------------------------------------------------------------------------
// Graphs

/**
 * Sets B[π(a), π(b)] = 1 for the pair index `index` among the pairs a < b of
 * {0, …, d − 1} in row-major order (so position a precedes position b in the
 * topological order given by π).
 */
const setPairEdge = (B: Matrix.Matrix, index: number, order: Vector.Vector): void => {
  const d = B.rows
  let a = 0
  let remaining = index
  while (remaining >= d - 1 - a) {
    remaining -= d - 1 - a
    a++
  }
  const b = a + 1 + remaining
  B.data[order[a]! * d + order[b]!] = 1
}

/**
 * A random DAG from the Erdős–Rényi model G(d, m): m = s0 distinct node
 * pairs chosen uniformly (Erdős & Rényi 1959), oriented along a uniformly
 * random topological order. This is NOTEARS's `simulate_dag(d, s0, 'ER')`
 * (igraph's `Erdos_Renyi(n=d, m=s0)`, a random acyclic orientation, a random
 * relabelling): exactly s0 edges, capped at d(d − 1)/2. Binary result.
 *
 * @example
 * const B = Simulate.erdosRenyi(Random.key(0), 20, { edgesPerNode: 2 }) // ER2: 40 edges
 * @throws InvalidOptions when `nodes`, `edges` or `edgesPerNode` is invalid.
 * @category graphs
 * @since 0.1.0
 */
export const erdosRenyi = (key: Random.Key, nodes: number, options: GraphOptions = {}): Matrix.Matrix => {
  const operation = "Simulate.erdosRenyi"
  checkCount(operation, "nodes", nodes)
  const d = nodes
  const pairs = (d * (d - 1)) / 2
  const m = Math.min(edgeCount(operation, d, options), pairs)
  const [kPairs, kOrder] = Random.split(key, 2)
  const B = Matrix.zeros(d, d)
  if (m === 0) return B
  const chosen = Random.choice(kPairs!, pairs, m, { replace: false })
  const order = Random.permutation(kOrder!, d)
  for (let e = 0; e < m; e++) setPairEdge(B, chosen[e]!, order)
  return B
}

/**
 * A random scale-free DAG by preferential attachment (Barabási & Albert 1999,
 * "Emergence of scaling in random networks"): node t = 1, …, d − 1 links to
 * min(m, t) distinct earlier nodes, drawn one after another with probability
 * proportional to (in-degree + 1), edges pointing from the new node t to the
 * earlier ones; then the nodes are relabelled uniformly at random. This is
 * NOTEARS's `simulate_dag(d, s0, 'SF')` (igraph's directed `Barabasi(n=d,
 * m=round(s0/d))` with its defaults power 1, zero appeal 1, no multi-edges):
 * m = round(s0/d) = round(k) for SFk, giving m·d − m(m+1)/2 edges.
 *
 * @throws InvalidOptions when `nodes`, `edges` or `edgesPerNode` is invalid.
 * @category graphs
 * @since 0.1.0
 */
export const scaleFree = (key: Random.Key, nodes: number, options: GraphOptions = {}): Matrix.Matrix => {
  const operation = "Simulate.scaleFree"
  checkCount(operation, "nodes", nodes)
  const d = nodes
  const m = d === 0 ? 0 : Math.round(edgeCount(operation, d, options) / d)
  const [kAttach, kLabels] = Random.split(key, 2)
  const B = Matrix.zeros(d, d)
  const appeal = Vector.zeros(d)
  const probabilities = Vector.zeros(d)
  for (let t = 0; t < d; t++) appeal[t] = 1
  for (let t = 1; t < d && m > 0; t++) {
    const k = Math.min(m, t)
    let total = 0
    for (let v = 0; v < t; v++) total += appeal[v]!
    const p = probabilities.subarray(0, t)
    for (let v = 0; v < t; v++) p[v] = appeal[v]! / total
    const targets = Random.choice(Random.foldIn(kAttach!, t), t, k, { replace: false, probabilities: p })
    for (let r = 0; r < k; r++) {
      const v = targets[r]!
      B.data[t * d + v] = 1
      appeal[v]! += 1
    }
  }
  return permuteNodes(kLabels!, B)
}

/**
 * A random bipartite DAG (Gu, Fu & Zhou 2019, "Penalized estimation of
 * directed acyclic graphs from discrete data", §4.1, as NOTEARS's
 * `simulate_dag(d, s0, 'BP')`): the first ⌊0.2·d⌋ nodes form the top part,
 * s0 distinct top → bottom edges are chosen uniformly (capped at
 * top·(d − top)), then the nodes are relabelled uniformly at random.
 *
 * @throws InvalidOptions when `nodes`, `edges`, `edgesPerNode` or `topFraction` is invalid.
 * @category graphs
 * @since 0.1.0
 */
export const bipartite = (key: Random.Key, nodes: number, options: BipartiteOptions = {}): Matrix.Matrix => {
  const operation = "Simulate.bipartite"
  checkCount(operation, "nodes", nodes)
  const fraction = options.topFraction ?? defaults.topFraction
  if (!(fraction >= 0 && fraction <= 1))
    throw invalid(operation, "topFraction", fraction, "a number in [0, 1]")
  const d = nodes
  const top = Math.floor(fraction * d)
  const bottom = d - top
  const m = Math.min(edgeCount(operation, d, options), top * bottom)
  const [kPairs, kLabels] = Random.split(key, 2)
  const B = Matrix.zeros(d, d)
  if (m > 0) {
    const chosen = Random.choice(kPairs!, top * bottom, m, { replace: false })
    for (let e = 0; e < m; e++) {
      const a = Math.floor(chosen[e]! / bottom)
      B.data[a * d + top + (chosen[e]! - a * bottom)] = 1
    }
  }
  return permuteNodes(kLabels!, B)
}

/**
 * The graph with its nodes relabelled by a uniformly random permutation π:
 * out[π(i), π(j)] = B[i, j], i.e. P·B·Pᵀ (NOTEARS's `_random_permutation`).
 * Acyclicity and the degree sequence are preserved; a topological order
 * becomes uniformly random.
 *
 * @throws DimensionMismatch when B is not square.
 * @category graphs
 * @since 0.1.0
 */
export const permuteNodes = (key: Random.Key, B: Matrix.Matrix): Matrix.Matrix => {
  Matrix.assertSquare("Simulate.permuteNodes", "B", B)
  const d = B.rows
  const pi = Random.permutation(key, d)
  const out = Matrix.zeros(d, d)
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) out.data[pi[i]! * d + pi[j]!] = B.data[i * d + j]!
  }
  return out
}

/**
 * Edge weights for the graph of B: W_ij = 0 where B_ij = 0, else a draw that
 * picks one of `ranges` uniformly and then a value uniformly inside it
 * (NOTEARS's `simulate_parameter`; default ±[0.5, 2], away from zero so every
 * edge is detectable). Entry (i, j) uses draw i·d + j of two independent
 * streams, so an edge's weight does not depend on the rest of the graph.
 *
 * @throws InvalidOptions when a range is empty or not finite.
 * @throws DimensionMismatch when B is not square.
 * @category parameters
 * @since 0.1.0
 */
export const weights = (key: Random.Key, B: Matrix.Matrix, options: WeightOptions = {}): Matrix.Matrix => {
  const operation = "Simulate.weights"
  Matrix.assertSquare(operation, "B", B)
  const ranges = options.ranges ?? defaults.weightRanges
  if (ranges.length === 0) throw invalid(operation, "ranges", "[]", "at least one interval")
  for (let r = 0; r < ranges.length; r++) checkRange(operation, `ranges[${r}]`, ranges[r]!)
  const d = B.rows
  const [kWhich, kValue] = Random.split(key, 2)
  const which = Random.uniform(kWhich!, d * d)
  const value = Random.uniform(kValue!, d * d)
  const W = Matrix.zeros(d, d)
  for (let k = 0; k < d * d; k++) {
    if (B.data[k] === 0) continue
    const [low, high] = ranges[Math.floor(which[k]! * ranges.length)]!
    W.data[k] = low + (high - low) * value[k]!
  }
  return W
}

// ---------------------------------------------------------------------------
// Data

const NOISES: ReadonlyArray<Noise> = ["gaussian", "exponential", "gumbel", "uniform", "logistic"]

/** σ(z) in place, by core's deterministic logistic kernel (residual σ(z) − 0). */
const sigmoidInPlace = (z: Float64Array, zerosOfLength: Float64Array): void => {
  Logistic.logisticLoss(z, zerosOfLength, z, 1)
}

/** Parent lists of the graph of W: parents[j] = the i with W_ij ≠ 0, ascending. */
const parentLists = (W: Matrix.Matrix): Array<Array<number>> => {
  const d = W.rows
  const parents: Array<Array<number>> = []
  for (let j = 0; j < d; j++) {
    const list: Array<number> = []
    for (let i = 0; i < d; i++) if (W.data[i * d + j] !== 0) list.push(i)
    parents.push(list)
  }
  return parents
}

/**
 * n samples of the linear SEM X = X·W + Z on the weighted DAG W: each
 * variable, in topological order, is x_j = Σ_{i ∈ pa(j)} W_ij·x_i + z_j with
 * independent noise z_j of scale s_j (see {@link Noise}); for `"logistic"`,
 * x_j ~ Bernoulli(σ(Σ_i W_ij·x_i)) instead. NOTEARS's `simulate_linear_sem`.
 * Node j's draws come from `Random.foldIn(key, j)`. Returns X (n × d).
 *
 * @example
 * const X = Simulate.linearSem(Random.key(1), W, 1000, { noise: "gumbel" })
 * @throws CyclicGraph when W is not a DAG.
 * @throws InvalidOptions when `samples`, `noise` or a noise scale is invalid.
 * @throws DimensionMismatch when W is not square or `noiseScale` has the wrong length.
 * @throws NonFiniteInput when W holds NaN or ±Infinity.
 * @category sem
 * @since 0.1.0
 */
export const linearSem = (
  key: Random.Key,
  W: Matrix.Matrix,
  samples: number,
  options: LinearSemOptions = {}
): Matrix.Matrix => {
  const operation = "Simulate.linearSem"
  checkCount(operation, "samples", samples)
  const noise = options.noise ?? defaults.noise
  if (!NOISES.includes(noise)) throw invalid(operation, "noise", noise, `one of ${NOISES.join(", ")}`)
  const order = Dag.topologicalOrder(W)
  const d = W.rows
  const n = samples
  const scale = scaleVector(operation, d, options.noiseScale ?? defaults.noiseScale)
  const parents = parentLists(W)
  // Variable-major (d × n) so each variable is one contiguous row.
  const Xt = Matrix.zeros(d, n)
  const zero = Vector.zeros(n)
  for (let r = 0; r < d; r++) {
    const j = order[r]!
    const x = Xt.data.subarray(j * n, (j + 1) * n)
    const kj = Random.foldIn(key, j)
    const s = scale[j]!
    if (noise === "logistic") {
      for (const i of parents[j]!) Blas1.axpy(W.data[i * d + j]!, Xt.data.subarray(i * n, (i + 1) * n), x)
      sigmoidInPlace(x, zero)
      const u = Random.uniform(kj, n)
      for (let t = 0; t < n; t++) x[t] = u[t]! < x[t]! ? 1 : 0
      continue
    }
    if (noise === "gaussian") Random.normal(kj, x, { scale: s })
    else if (noise === "exponential") Random.exponential(kj, x, { scale: s })
    else if (noise === "gumbel") Random.gumbel(kj, x, { scale: s })
    else if (s > 0) Random.uniform(kj, x, { low: -s, high: s })
    for (const i of parents[j]!) Blas1.axpy(W.data[i * d + j]!, Xt.data.subarray(i * n, (i + 1) * n), x)
  }
  return Matrix.transpose(Xt)
}

/**
 * n samples of the nonlinear SEM x_j = f_j(x_pa(j)) + z_j, z_j ~ N(0, s_j²),
 * with f_j a random one-hidden-layer MLP per node,
 * f_j(u) = σ(u·W1)·w2 with W1 (|pa(j)| × hidden) and w2 (hidden) of magnitudes
 * uniform on [0.5, 2] and random signs, σ the logistic sigmoid: NOTEARS's
 * `simulate_nonlinear_sem(B, n, 'mlp')` (Zheng et al. 2020, "Learning Sparse
 * Nonparametric DAGs"). Root nodes are pure noise. Products by `Blas3.gemm`.
 * Returns X (n × d).
 *
 * @throws CyclicGraph when B is not a DAG.
 * @throws InvalidOptions when `samples`, `hidden`, `weightRange` or a noise scale is invalid.
 * @throws DimensionMismatch when B is not square or `noiseScale` has the wrong length.
 * @category sem
 * @since 0.1.0
 */
export const nonlinearSem = (
  key: Random.Key,
  B: Matrix.Matrix,
  samples: number,
  options: NonlinearSemOptions = {}
): Matrix.Matrix => {
  const operation = "Simulate.nonlinearSem"
  checkCount(operation, "samples", samples)
  const hidden = options.hidden ?? defaults.hidden
  if (!Number.isSafeInteger(hidden) || hidden < 1)
    throw invalid(operation, "hidden", hidden, "an integer ≥ 1")
  const range = options.weightRange ?? defaults.weightRange
  checkRange(operation, "weightRange", range)
  const order = Dag.topologicalOrder(B)
  const d = B.rows
  const n = samples
  const scale = scaleVector(operation, d, options.noiseScale ?? defaults.noiseScale)
  const parents = parentLists(B)
  const Xt = Matrix.zeros(d, n)
  const H = Matrix.zeros(n, hidden)
  const zero = Vector.zeros(n * hidden)
  const [low, high] = range
  const signed = (magnitude: Vector.Vector, sign: Vector.Vector): void => {
    for (let k = 0; k < magnitude.length; k++) {
      magnitude[k] = (sign[k]! < 0.5 ? -1 : 1) * (low + (high - low) * magnitude[k]!)
    }
  }
  for (let r = 0; r < d; r++) {
    const j = order[r]!
    const x = Xt.data.subarray(j * n, (j + 1) * n)
    const [kNoise, kW1, kS1, kW2, kS2] = Random.split(Random.foldIn(key, j), 5)
    Random.normal(kNoise!, x, { scale: scale[j]! })
    const pa = parents[j]!
    const p = pa.length
    if (p === 0 || n === 0) continue
    const Xpa = Matrix.zeros(n, p)
    for (let c = 0; c < p; c++) {
      const col = Xt.data.subarray(pa[c]! * n, (pa[c]! + 1) * n)
      for (let t = 0; t < n; t++) Xpa.data[t * p + c] = col[t]!
    }
    const W1 = Matrix.fromData(p, hidden, Random.uniform(kW1!, p * hidden))
    signed(W1.data, Random.uniform(kS1!, p * hidden))
    const w2 = Random.uniform(kW2!, hidden)
    signed(w2, Random.uniform(kS2!, hidden))
    Blas3.gemm(false, false, 1, Xpa, W1, 0, H)
    sigmoidInPlace(H.data, zero)
    Blas2.gemv(1, H, w2, 1, x)
  }
  return Matrix.transpose(Xt)
}

// ---------------------------------------------------------------------------
// Pipelines

const graphOf = (key: Random.Key, options: PipelineOptions): Matrix.Matrix => {
  const graph = options.graph ?? defaults.graph
  const sizes: BipartiteOptions = {
    ...(options.edges !== undefined ? { edges: options.edges } : {}),
    ...(options.edgesPerNode !== undefined ? { edgesPerNode: options.edgesPerNode } : {}),
    ...(options.topFraction !== undefined ? { topFraction: options.topFraction } : {})
  }
  if (graph === "erdosRenyi") return erdosRenyi(key, options.nodes, sizes)
  if (graph === "scaleFree") return scaleFree(key, options.nodes, sizes)
  if (graph === "bipartite") return bipartite(key, options.nodes, sizes)
  throw invalid("Simulate", "graph", graph, "one of erdosRenyi, scaleFree, bipartite")
}

const resolveScales = (operation: string, key: Random.Key, d: number, scale: NoiseScale): Vector.Vector => {
  if (typeof scale === "object" && scale !== null && "low" in scale && "high" in scale) {
    const { low, high } = scale
    if (!(Number.isFinite(low) && Number.isFinite(high) && low >= 0 && low < high)) {
      throw invalid(
        operation,
        "noiseScale",
        JSON.stringify(scale),
        "a range { low, high } with 0 ≤ low < high"
      )
    }
    return Random.uniform(key, d, { low, high })
  }
  return scaleVector(operation, d, scale as number | ArrayLike<number>)
}

/**
 * A linear-SEM benchmark from one key: a random DAG (`graph`, default
 * Erdős–Rényi with `edgesPerNode` 2, i.e. ER2), weights (default ±[0.5, 2]),
 * per-node noise scales (equal, given, or drawn from a range), then
 * {@link linearSem} with `noise` (default Gaussian), optionally standardized.
 * The key is split into four: graph, weights, noise scales, data. With
 * `standardize`, X is standardized but W is the generating (unstandardized)
 * matrix.
 *
 * @example
 * const { X, W, B } = Simulate.linear(Random.key(7), { nodes: 20, samples: 1000 })
 * @throws InvalidOptions for an invalid option (named in the error).
 * @throws ConstantColumn with `standardize` when a column is constant (possible with `"logistic"`).
 * @category pipelines
 * @since 0.1.0
 */
export const linear = (key: Random.Key, options: LinearOptions): Sample => {
  const operation = "Simulate.linear"
  const [kGraph, kWeights, kScales, kData] = Random.split(key, 4)
  const B = graphOf(kGraph!, options)
  const W = weights(kWeights!, B, options.weightRanges !== undefined ? { ranges: options.weightRanges } : {})
  const noiseScale = resolveScales(operation, kScales!, B.rows, options.noiseScale ?? defaults.noiseScale)
  const X0 = linearSem(kData!, W, options.samples, {
    noise: options.noise ?? defaults.noise,
    noiseScale
  })
  const X = (options.standardize ?? defaults.standardize) ? Data.standardize(X0) : X0
  return { X, W, B, noiseScale }
}

/**
 * A nonlinear (MLP) SEM benchmark from one key: a random DAG as in
 * {@link linear}, noise scales, then {@link nonlinearSem}; optionally
 * standardized. `W` is the binary adjacency (the MLPs have no single weight
 * per edge). The key is split into four: graph, (unused), noise scales, data.
 *
 * @throws InvalidOptions for an invalid option (named in the error).
 * @category pipelines
 * @since 0.1.0
 */
export const nonlinear = (key: Random.Key, options: NonlinearOptions): Sample => {
  const operation = "Simulate.nonlinear"
  const [kGraph, , kScales, kData] = Random.split(key, 4)
  const B = graphOf(kGraph!, options)
  const noiseScale = resolveScales(operation, kScales!, B.rows, options.noiseScale ?? defaults.noiseScale)
  const X0 = nonlinearSem(kData!, B, options.samples, {
    noiseScale,
    ...(options.hidden !== undefined ? { hidden: options.hidden } : {}),
    ...(options.weightRange !== undefined ? { weightRange: options.weightRange } : {})
  })
  const X = (options.standardize ?? defaults.standardize) ? Data.standardize(X0) : X0
  return { X, W: B, B, noiseScale }
}
