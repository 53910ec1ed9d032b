/**
 * Directed acyclic graphs as weighted adjacency matrices, and the acyclicity
 * functions that continuous structure learners constrain.
 *
 * Convention (NOTEARS's, used throughout this package): a graph on d nodes is a
 * d × d `Matrix` W, and W_ij ≠ 0 means the edge i → j with weight W_ij, so in
 * the linear SEM X = X·W + Z column j of X is regressed on its parents, the
 * rows i with W_ij ≠ 0. A nonzero diagonal entry is a self-loop (a cycle).
 *
 * - Combinatorial checks: {@link isDag}, {@link findCycle},
 *   {@link topologicalOrder} (Kahn 1962), {@link edges}, {@link countEdges},
 *   {@link binary}.
 * - Post-processing of learned W: {@link threshold} (|W_ij| < τ → 0, NOTEARS's
 *   `w_threshold`) and {@link pruneToDag}, which also removes the weakest
 *   edges until the graph is acyclic (GOLEM's and gCastle's
 *   `threshold_till_dag`).
 * - Smooth acyclicity residuals, zero exactly on DAGs:
 *   h(W) = tr e^{W∘W} − d (Zheng, Aragam, Ravikumar & Xing 2018, "DAGs with NO
 *   TEARS", Theorem 1) in {@link expAcyclicity}, and DAGMA's log-det
 *   h_s(W) = −log det(sI − W∘W) + d·log s (Bello, Aragam & Ravikumar 2022,
 *   "DAGMA: Learning DAGs via M-matrices and a Log-Determinant Acyclicity
 *   Characterization", Theorem 1) in {@link logDetAcyclicity}; each with a
 *   gradient variant for learners.
 *
 * @since 0.1.0
 */
import { Errors, Matrix, Vector } from "@descent/core"
import { Expm, Lu } from "@descent/linalg"
import { CyclicGraph } from "./Errors.ts"

// ---------------------------------------------------------------------------
// Models

/**
 * One edge `from → to` of a weighted adjacency matrix: `weight = W[from, to]`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Edge {
  readonly from: number
  readonly to: number
  readonly weight: number
}

/**
 * Result of {@link pruneToDag}.
 *
 * @category models
 * @since 0.1.0
 */
export interface PruneResult {
  /** The pruned weighted adjacency matrix: a DAG, a new matrix. */
  readonly W: Matrix.Matrix
  /**
   * The effective threshold: the larger of the requested threshold and the
   * largest |weight| removed for acyclicity. Every kept edge has
   * |W_ij| ≥ threshold; an edge of exactly that magnitude may survive when
   * several edges tie (removal stops as soon as the graph is acyclic).
   */
  readonly threshold: number
  /** How many edges the acyclicity repair removed (after thresholding). */
  readonly removed: number
}

/**
 * Options of {@link pruneToDag}.
 *
 * @category models
 * @since 0.1.0
 */
export interface PruneOptions {
  /** Entries with |W_ij| < threshold are zeroed first; default 0 (none). */
  readonly threshold?: number
}

/**
 * Defaults of the options in this module.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaults = {
  prune: { threshold: 0 },
  /** DAGMA's default s (the log-det scale) is 1. */
  logDet: { s: 1 }
} as const

// ---------------------------------------------------------------------------
// Validation

const validate = (operation: string, W: Matrix.Matrix): number => {
  Matrix.assertSquare(operation, "W", W)
  Vector.assertFinite(operation, "W", W.data)
  return W.rows
}

// ---------------------------------------------------------------------------
// Combinatorics

/**
 * Kahn's algorithm on the edge set {(i, j) : pattern(i, j)}: writes the
 * topological order to `order` and returns how many nodes it placed (d when
 * acyclic). Sources are taken first-in first-out starting from ascending
 * indices, so the order is deterministic. O(d²) on a dense pattern.
 */
const kahn = (W: Matrix.Matrix, order: Int32Array, indegree: Int32Array): number => {
  const d = W.rows
  const w = W.data
  indegree.fill(0)
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) if (w[i * d + j] !== 0) indegree[j]! += 1
  }
  let tail = 0
  for (let j = 0; j < d; j++) if (indegree[j] === 0) order[tail++] = j
  for (let head = 0; head < tail; head++) {
    const u = order[head]!
    const row = u * d
    for (let v = 0; v < d; v++) {
      if (w[row + v] !== 0) {
        indegree[v]! -= 1
        if (indegree[v] === 0) order[tail++] = v
      }
    }
  }
  return tail
}

/**
 * A directed cycle among the nodes Kahn's algorithm could not place (each has
 * a parent among them): walk to a remaining parent until a node repeats.
 */
const extractCycle = (W: Matrix.Matrix, indegree: Int32Array): Array<number> => {
  const d = W.rows
  const w = W.data
  // After Kahn, exactly the unplaced nodes have indegree > 0.
  let start = 0
  while (indegree[start] === 0) start++
  const seen = new Int32Array(d).fill(-1)
  const path: Array<number> = []
  let u = start
  while (seen[u] === -1) {
    seen[u] = path.length
    path.push(u)
    let parent = -1
    for (let p = 0; p < d; p++) {
      if (w[p * d + u] !== 0 && indegree[p]! > 0) {
        parent = p
        break
      }
    }
    u = parent
  }
  // path walks child → parent; the cycle is path[seen[u]…], reversed to run
  // forward, then rotated to start at its smallest node.
  const cycle = path.slice(seen[u]!).reverse()
  let first = 0
  for (let r = 1; r < cycle.length; r++) if (cycle[r]! < cycle[first]!) first = r
  return [...cycle.slice(first), ...cycle.slice(0, first)]
}

/**
 * Whether the graph of W (edge i → j where W_ij ≠ 0) is a directed acyclic
 * graph. A nonzero diagonal entry (self-loop) makes it cyclic. O(d²).
 *
 * @example
 * Dag.isDag(Matrix.fromRows([[0, 1], [0, 0]])) // true: 0 → 1
 * Dag.isDag(Matrix.fromRows([[0, 1], [1, 0]])) // false: 0 ⇄ 1
 * @throws DimensionMismatch when W is not square.
 * @throws NonFiniteInput when W holds NaN or ±Infinity.
 * @category predicates
 * @since 0.1.0
 */
export const isDag = (W: Matrix.Matrix): boolean => {
  const d = validate("Dag.isDag", W)
  return kahn(W, new Int32Array(d), new Int32Array(d)) === d
}

/**
 * One directed cycle of the graph of W, as its nodes in order starting from
 * the smallest (`[2, 5, 7]` for 2 → 5 → 7 → 2, `[i]` for a self-loop), or
 * `undefined` for a DAG.
 * Deterministic for a given W. O(d²).
 *
 * @throws DimensionMismatch when W is not square.
 * @throws NonFiniteInput when W holds NaN or ±Infinity.
 * @category predicates
 * @since 0.1.0
 */
export const findCycle = (W: Matrix.Matrix): ReadonlyArray<number> | undefined => {
  const d = validate("Dag.findCycle", W)
  const indegree = new Int32Array(d)
  if (kahn(W, new Int32Array(d), indegree) === d) return undefined
  return extractCycle(W, indegree)
}

/**
 * A topological order of the DAG W: a permutation π of 0…d−1 in which every
 * edge i → j has i before j. Kahn's algorithm (Kahn 1962, "Topological
 * sorting of large networks") with first-in first-out sources seeded in
 * ascending index order, so the result is deterministic. O(d²).
 *
 * @example
 * Dag.topologicalOrder(Matrix.fromRows([[0, 0, 0], [1, 0, 0], [0, 1, 0]])) // [2, 1, 0]
 * @throws CyclicGraph (with one cycle) when W is not a DAG.
 * @throws DimensionMismatch when W is not square.
 * @throws NonFiniteInput when W holds NaN or ±Infinity.
 * @category predicates
 * @since 0.1.0
 */
export const topologicalOrder = (W: Matrix.Matrix): Int32Array => {
  const operation = "Dag.topologicalOrder"
  const d = validate(operation, W)
  const order = new Int32Array(d)
  const indegree = new Int32Array(d)
  if (kahn(W, order, indegree) !== d) {
    throw new CyclicGraph({ operation, what: "W", cycle: extractCycle(W, indegree) })
  }
  return order
}

/**
 * The edges of W (entries W_ij ≠ 0 off and on the diagonal) in row-major
 * order: by source, then by target.
 *
 * @throws DimensionMismatch when W is not square.
 * @throws NonFiniteInput when W holds NaN or ±Infinity.
 * @category conversions
 * @since 0.1.0
 */
export const edges = (W: Matrix.Matrix): Array<Edge> => {
  const d = validate("Dag.edges", W)
  const out: Array<Edge> = []
  const w = W.data
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      const weight = w[i * d + j]!
      if (weight !== 0) out.push({ from: i, to: j, weight })
    }
  }
  return out
}

/**
 * The number of edges of W: its count of nonzero entries.
 *
 * @throws DimensionMismatch when W is not square.
 * @throws NonFiniteInput when W holds NaN or ±Infinity.
 * @category evaluators
 * @since 0.1.0
 */
export const countEdges = (W: Matrix.Matrix): number => {
  validate("Dag.countEdges", W)
  let count = 0
  for (const x of W.data) if (x !== 0) count++
  return count
}

/**
 * The binary adjacency B of W: B_ij = 1 where W_ij ≠ 0, else 0 (a new matrix).
 *
 * @throws DimensionMismatch when W is not square.
 * @throws NonFiniteInput when W holds NaN or ±Infinity.
 * @category conversions
 * @since 0.1.0
 */
export const binary = (W: Matrix.Matrix): Matrix.Matrix => {
  const d = validate("Dag.binary", W)
  const B = Matrix.zeros(d, d)
  const w = W.data
  const b = B.data
  for (let k = 0; k < w.length; k++) if (w[k] !== 0) b[k] = 1
  return B
}

// ---------------------------------------------------------------------------
// Thresholding

const checkThreshold = (operation: string, tau: number): void => {
  if (typeof tau !== "number" || !(tau >= 0) || !Number.isFinite(tau)) {
    throw new Errors.InvalidOptions({
      operation,
      field: "threshold",
      value: tau,
      requirement: "a finite number ≥ 0"
    })
  }
}

/**
 * W with every entry of magnitude below τ set to zero (|W_ij| < τ → 0), as a
 * new matrix: the `w_threshold` step of NOTEARS (default 0.3 there) and DAGMA.
 *
 * @throws InvalidOptions when τ is negative, NaN or infinite.
 * @throws DimensionMismatch when W is not square.
 * @throws NonFiniteInput when W holds NaN or ±Infinity.
 * @category transforms
 * @since 0.1.0
 */
export const threshold = (W: Matrix.Matrix, tau: number): Matrix.Matrix => {
  const operation = "Dag.threshold"
  validate(operation, W)
  checkThreshold(operation, tau)
  const out = Matrix.clone(W)
  const o = out.data
  for (let k = 0; k < o.length; k++) if (Math.abs(o[k]!) < tau) o[k] = 0
  return out
}

/**
 * Whether the edges `order[start…]` (flat indices i·d + j) form a DAG:
 * Kahn's algorithm on compressed adjacency lists, O(d + E).
 */
const acyclicSuffix = (
  d: number,
  order: Int32Array,
  start: number,
  offsets: Int32Array,
  targets: Int32Array,
  indegree: Int32Array,
  queue: Int32Array
): boolean => {
  offsets.fill(0)
  indegree.fill(0)
  const m = order.length
  for (let e = start; e < m; e++) {
    const k = order[e]!
    const i = (k / d) | 0
    const j = k - i * d
    offsets[i + 1]! += 1
    indegree[j]! += 1
  }
  for (let i = 0; i < d; i++) offsets[i + 1]! += offsets[i]!
  // Scatter the targets row by row, with `queue` serving as the per-row cursor.
  for (let i = 0; i < d; i++) queue[i] = offsets[i]!
  for (let e = start; e < m; e++) {
    const k = order[e]!
    const i = (k / d) | 0
    targets[queue[i]!++] = k - i * d
  }
  let tail = 0
  for (let j = 0; j < d; j++) if (indegree[j] === 0) queue[tail++] = j
  for (let head = 0; head < tail; head++) {
    const u = queue[head]!
    for (let p = offsets[u]!; p < offsets[u + 1]!; p++) {
      const v = targets[p]!
      indegree[v]! -= 1
      if (indegree[v] === 0) queue[tail++] = v
    }
  }
  return tail === d
}

/**
 * Thresholds W at τ (|W_ij| < τ → 0), then removes the weakest remaining edges
 * one at a time, in increasing |W_ij| (ties in row-major order), until the
 * graph is acyclic: the `threshold_till_dag` post-processing of GOLEM (Ng,
 * Ghassami & Zhang 2020) and gCastle, also used after NOTEARS and DAGMA when a
 * thresholded result still has a cycle.
 *
 * Removing edges never creates a cycle, so "acyclic after removing the k
 * weakest" is monotone in k; the smallest such k is found by bisection,
 * O((d + E)·log E) rather than the sequential O(E·d²), with the same result
 * as the one-at-a-time loop.
 *
 * @example
 * const { W, removed } = Dag.pruneToDag(Matrix.fromRows([[0, 2], [0.5, 0]]))
 * // W = [[0, 2], [0, 0]], removed = 1 (the 0.5 edge closed the 2-cycle)
 * @throws InvalidOptions when `threshold` is negative, NaN or infinite.
 * @throws DimensionMismatch when W is not square.
 * @throws NonFiniteInput when W holds NaN or ±Infinity.
 * @category transforms
 * @since 0.1.0
 */
export const pruneToDag = (W: Matrix.Matrix, options: PruneOptions = {}): PruneResult => {
  const operation = "Dag.pruneToDag"
  const d = validate(operation, W)
  const tau = options.threshold ?? defaults.prune.threshold
  checkThreshold(operation, tau)
  const out = Matrix.clone(W)
  const o = out.data
  let m = 0
  for (let k = 0; k < o.length; k++) {
    if (Math.abs(o[k]!) < tau) o[k] = 0
    if (o[k] !== 0) m++
  }
  // Flat indices of the edges, weakest first; stable, so ties stay row-major.
  const order = new Int32Array(m)
  let e = 0
  for (let k = 0; k < o.length; k++) if (o[k] !== 0) order[e++] = k
  const magnitudes = Vector.zeros(o.length)
  for (let k = 0; k < o.length; k++) magnitudes[k] = Math.abs(o[k]!)
  const sorted = Array.from(order).sort((a, b) => magnitudes[a]! - magnitudes[b]! || a - b)
  order.set(sorted)
  const offsets = new Int32Array(d + 1)
  const targets = new Int32Array(m)
  const indegree = new Int32Array(d)
  const queue = new Int32Array(d)
  // Smallest k in [0, m] with edges order[k…] acyclic (k = m: no edges, always acyclic).
  let lo = 0
  let hi = m
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (acyclicSuffix(d, order, mid, offsets, targets, indegree, queue)) hi = mid
    else lo = mid + 1
  }
  for (let r = 0; r < lo; r++) o[order[r]!] = 0
  const largestRemoved = lo > 0 ? magnitudes[order[lo - 1]!]! : 0
  return { W: out, threshold: Math.max(tau, largestRemoved), removed: lo }
}

// ---------------------------------------------------------------------------
// Acyclicity residuals

/** A = W∘W (the Hadamard square), a new matrix. */
const hadamardSquare = (W: Matrix.Matrix): Matrix.Matrix => {
  const A = Matrix.zeros(W.rows, W.cols)
  const w = W.data
  const a = A.data
  for (let k = 0; k < w.length; k++) a[k] = w[k]! * w[k]!
  return A
}

/**
 * NOTEARS's acyclicity residual h(W) = tr e^{W∘W} − d = Σ_{k≥1} tr((W∘W)^k)/k!,
 * a weighted count of closed walks: h(W) ≥ 0, with h(W) = 0 exactly when W is
 * a DAG (Zheng, Aragam, Ravikumar & Xing 2018, "DAGs with NO TEARS",
 * Theorem 1). e^{W∘W} by `Expm.traceExpm` (scaling and squaring, Al-Mohy &
 * Higham 2009); for a DAG the computed value is within a few d·ε of 0.
 *
 * @example
 * Dag.expAcyclicity(Matrix.fromRows([[0, 1], [1, 0]])) // 2·cosh(1) − 2 ≈ 1.086
 * @throws DimensionMismatch when W is not square.
 * @throws NonFiniteInput when W holds NaN or ±Infinity.
 * @category evaluators
 * @since 0.1.0
 */
export const expAcyclicity = (W: Matrix.Matrix): number => {
  const d = validate("Dag.expAcyclicity", W)
  return Expm.traceExpm(hadamardSquare(W)) - d
}

/**
 * h(W) = tr e^{W∘W} − d and its gradient ∇h(W) = (e^{W∘W})ᵀ ∘ 2W (Zheng et
 * al. 2018, eq. (8)), written into `gradient` (d × d, may not alias W);
 * returns h(W). One `Expm.expm`.
 *
 * @throws DimensionMismatch when W is not square or `gradient` is not d × d.
 * @throws NonFiniteInput when W holds NaN or ±Infinity.
 * @category evaluators
 * @since 0.1.0
 */
export const expAcyclicityWithGradient = (W: Matrix.Matrix, gradient: Matrix.Matrix): number => {
  const operation = "Dag.expAcyclicityWithGradient"
  const d = validate(operation, W)
  Matrix.assertShape(operation, "gradient", gradient, d, d)
  const E = Expm.expm(hadamardSquare(W))
  const e = E.data
  const w = W.data
  const g = gradient.data
  let trace = 0
  for (let i = 0; i < d; i++) {
    trace += e[i * d + i]!
    for (let j = 0; j < d; j++) g[i * d + j] = 2 * w[i * d + j]! * e[j * d + i]!
  }
  return trace - d
}

const checkScale = (operation: string, s: number): void => {
  if (typeof s !== "number" || !(s > 0) || !Number.isFinite(s)) {
    throw new Errors.InvalidOptions({ operation, field: "s", value: s, requirement: "a finite number > 0" })
  }
}

/**
 * Σ log(pᵢ/s) over the pivots pᵢ of Gaussian elimination without pivoting of
 * M = sI − A (A ≥ 0), i.e. log det(M) − d·log s, or −∞ when some pivot is ≤ 0. M is a Z-matrix, and a
 * Z-matrix is a nonsingular M-matrix exactly when all its leading principal
 * minors are positive (Berman & Plemmons 1994, Thm. 6.2.3 (E17)), i.e. when
 * every pivot is positive; that is exactly the domain ρ(A) < s of h_s.
 * Elimination without pivoting is stable on M-matrices (Schur complements
 * stay M-matrices). Overwrites `A`.
 */
const logDetScaled = (A: Matrix.Matrix, s: number): number => {
  const d = A.rows
  const a = A.data
  // Build M = sI − A in place.
  for (let k = 0; k < a.length; k++) a[k] = -a[k]!
  for (let i = 0; i < d; i++) a[i * d + i]! += s
  let sum = 0
  for (let k = 0; k < d; k++) {
    const pivot = a[k * d + k]!
    if (!(pivot > 0)) return Number.NEGATIVE_INFINITY
    sum += Math.log(pivot / s)
    for (let i = k + 1; i < d; i++) {
      const f = a[i * d + k]! / pivot
      if (f === 0) continue
      for (let j = k + 1; j < d; j++) a[i * d + j]! -= f * a[k * d + j]!
    }
  }
  return sum
}

/**
 * DAGMA's log-det acyclicity residual
 * h_s(W) = −log det(sI − W∘W) + d·log s (Bello, Aragam & Ravikumar 2022,
 * "DAGMA", Theorem 1): on its domain ρ(W∘W) < s (where sI − W∘W is an
 * M-matrix) h_s(W) ≥ 0, with equality exactly when W is a DAG. Outside the
 * domain the function is +∞ here; the domain test is exact (positive pivots of
 * elimination without pivoting, which characterize nonsingular M-matrices).
 * The default s = 1 is DAGMA's.
 *
 * @example
 * Dag.logDetAcyclicity(Matrix.fromRows([[0, 0.5], [0.5, 0]])) // −log(1 − 1/16) ≈ 0.0645
 * @throws InvalidOptions when s is not a finite number > 0.
 * @throws DimensionMismatch when W is not square.
 * @throws NonFiniteInput when W holds NaN or ±Infinity.
 * @category evaluators
 * @since 0.1.0
 */
export const logDetAcyclicity = (W: Matrix.Matrix, s: number = defaults.logDet.s): number => {
  const operation = "Dag.logDetAcyclicity"
  validate(operation, W)
  checkScale(operation, s)
  return -logDetScaled(hadamardSquare(W), s)
}

/**
 * h_s(W) (see {@link logDetAcyclicity}) and its gradient
 * ∇h_s(W) = 2W ∘ (sI − W∘W)⁻ᵀ (Bello et al. 2022, eq. (7)), written into
 * `gradient` (d × d, may not alias W); returns h_s(W). Outside the domain
 * ρ(W∘W) < s it returns +∞ and leaves `gradient` unchanged. The inverse comes
 * from `Lu.factor` and `Lu.inverse`.
 *
 * @throws InvalidOptions when s is not a finite number > 0.
 * @throws DimensionMismatch when W is not square or `gradient` is not d × d.
 * @throws NonFiniteInput when W holds NaN or ±Infinity.
 * @category evaluators
 * @since 0.1.0
 */
export const logDetAcyclicityWithGradient = (
  W: Matrix.Matrix,
  gradient: Matrix.Matrix,
  s: number = defaults.logDet.s
): number => {
  const operation = "Dag.logDetAcyclicityWithGradient"
  const d = validate(operation, W)
  Matrix.assertShape(operation, "gradient", gradient, d, d)
  checkScale(operation, s)
  const A = hadamardSquare(W)
  const h = -logDetScaled(Matrix.clone(A), s)
  if (h === Number.POSITIVE_INFINITY) return h
  const a = A.data
  for (let k = 0; k < a.length; k++) a[k] = -a[k]!
  for (let i = 0; i < d; i++) a[i * d + i]! += s
  const inv = Lu.inverse(Lu.factor(A)).data
  const w = W.data
  const g = gradient.data
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) g[i * d + j] = 2 * w[i * d + j]! * inv[j * d + i]!
  }
  return h
}
