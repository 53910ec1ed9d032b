/**
 * TOPO, topological swaps (Deng, Bello, Aragam & Ravikumar, "Optimizing
 * NOTEARS Objectives via Topological Swaps", ICML 2023): a local search over
 * topological orders for the NOTEARS least-squares objective, usable on its
 * own or as a post-processor of any learner's output.
 *
 * A topological order π fixes the support of every DAG compatible with it
 * (node π_k may have parents only among π_0…π_{k−1}), and for a fixed order
 * the score separates over nodes: with S = XᵀX/n the covariance of the
 * centered data, node j with predecessor set P minimizes
 *
 *   ½(S_jj − 2·wᵀS_Pj + wᵀS_PP·w) + λ‖w‖₁   (= ½‖Xⱼ − X_P·w‖²/n + λ‖w‖₁),
 *
 * by least squares when λ = 0 (the normal equations S_PP·w = S_Pj, solved by
 * `@descent/linalg`'s Cholesky) or by coordinate descent on the covariance
 * (the lasso) when λ > 0. W(π) collects these regressions and
 * F(π) = ½ tr((I − W)ᵀS(I − W)) + λ‖W‖₁ is the order's score.
 *
 * Each pass (one solver iteration) follows the paper's Algorithm 1:
 *
 * 1. At W = W(π), the gradient of the log-det acyclicity h(W) =
 *    −log det(I − |W|) is (I − |W|)⁻ᵀ; its entry (i, j) is the weight of the
 *    paths j ⇝ i, so among the pairs forbidden by π (j before i) those with
 *    the smallest entries are the edges i → j that close the weakest cycles.
 *    The `smallSearchSize` smallest form the candidate set.
 * 2. Every candidate (i, j) is tried by swapping the positions of i and j
 *    in π; only the nodes between them change predecessor sets, so only
 *    they are refitted.
 * 3. If some swaps lower F, the improving swaps are applied greedily in
 *    order of their score, skipping any whose position interval overlaps an
 *    applied one (swaps on disjoint intervals change disjoint sets of node
 *    scores, so their decreases add up). Otherwise the larger candidate set
 *    (`largeSearchSize`) is tried, at most `largeSearches` times per run;
 *    when it has no improving swap either, the search has converged.
 *
 * F never increases from one pass to the next; the learned graph is W(π)
 * with |Wᵢⱼ| < `threshold` dropped, a DAG by construction (every edge goes
 * forward in π).
 *
 * @since 0.1.0
 */
import { Errors, Matrix, Memory, Solver, Vector } from "@descent/core"
import { Cholesky } from "@descent/linalg"
import * as Dag from "./Dag.ts"
import { initialWeights, integerAtLeast, learnerData, nonNegative } from "./internal/learnerInput.ts"
import { logAbsDetAndInverseTranspose } from "./internal/learnerKernels.ts"

/**
 * Options of TOPO.
 *
 * @category models
 * @since 0.1.0
 */
export interface TopoOptions {
  /** The l1 weight λ ≥ 0 of each node's regression (0: least squares, the paper's linear runs). Default 0. */
  readonly lambda1?: number
  /** Candidate pairs tried per pass (≥ 1). Default min(d(d−1)/2, 4d). */
  readonly smallSearchSize?: number
  /** Candidate pairs of the larger search (≥ 1). Default min(d(d−1)/2, 16d). */
  readonly largeSearchSize?: number
  /** How many times per run the larger search may be used (≥ 0). Default 1. */
  readonly largeSearches?: number
  /** Passes (solver iterations) at most (≥ 1). Default 1000. */
  readonly maxPasses?: number
  /** Edges with |Wᵢⱼ| below this are dropped from the learned graph (≥ 0). Default 0.3. */
  readonly threshold?: number
  /** The starting order, a permutation of 0…d−1. Takes precedence over `initialWeights`. */
  readonly initialOrder?: ReadonlyArray<number>
  /**
   * Start from a topological order of this d × d graph (another learner's
   * output: the post-processor use). A cyclic graph is first pruned to a DAG
   * (`Dag.pruneToDag`, weakest edges removed). Default: the order 0, 1, …, d − 1.
   */
  readonly initialWeights?: Matrix.Matrix
}

/**
 * Defaults of `TopoOptions` (the search sizes depend on d; see the fields).
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultTopoOptions = {
  lambda1: 0,
  smallSearchFactor: 4,
  largeSearchFactor: 16,
  largeSearches: 1,
  maxPasses: 1000,
  threshold: 0.3
} as const

/**
 * Coordinate descent for the lasso stops when no coefficient moves by more
 * than this in a sweep: far below the 0.3 threshold applied to the weights and
 * the resolution at which swaps are compared.
 *
 * @category constants
 * @since 0.1.0
 */
export const LASSO_TOLERANCE = 1e-10

/**
 * Coordinate-descent sweeps per lasso at most (the lasso on a positive
 * definite S_PP converges linearly; this only bounds the loop).
 *
 * @category constants
 * @since 0.1.0
 */
export const LASSO_MAX_SWEEPS = 10_000

/**
 * A swap must lower the score by more than this (relative to |F|) to count as
 * an improvement, so rounding noise cannot make the search cycle.
 *
 * @category constants
 * @since 0.1.0
 */
export const IMPROVEMENT_TOLERANCE = 1e-12

/**
 * What TOPO's solver outputs.
 *
 * @category models
 * @since 0.1.0
 */
export interface TopoOutput {
  /** The learned graph: W(π) with |Wᵢⱼ| < threshold dropped (a DAG). */
  readonly W: Matrix.Matrix
  /** W(π), the regressions of every node on all its predecessors. */
  readonly weights: Matrix.Matrix
  /** The topological order π (a permutation of 0…d−1). */
  readonly order: Int32Array
  /** F(π) = ½ tr((I − W)ᵀS(I − W)) + λ‖W‖₁ at `weights`. */
  readonly score: number
  /** F at the starting order. */
  readonly initialScore: number
  /** Swaps applied over the run. */
  readonly swaps: number
}

/**
 * The result of `fit`: the solver's output with the run's status and the
 * number of passes.
 *
 * @category models
 * @since 0.1.0
 */
export interface TopoResult extends TopoOutput {
  readonly status: Solver.Status
  readonly iterations: number
}

/**
 * TOPO's state (mutated by `step`).
 *
 * @category models
 * @since 0.1.0
 */
export interface TopoState {
  readonly d: number
  readonly lambda1: number
  readonly smallSearchSize: number
  readonly largeSearchSize: number
  readonly largeSearches: number
  readonly threshold: number
  readonly covariance: Matrix.Matrix
  /** π and its inverse (position of each node). */
  readonly order: Int32Array
  readonly position: Int32Array
  /** W(π), d × d row-major: column j holds node j's regression. */
  readonly W: Float64Array
  /** Each node's score at π. */
  readonly nodeScore: Float64Array
  readonly initialScore: number
  score: number
  largeSearchesUsed: number
  swaps: number
  end: "converged" | undefined
}

const NAME = "Topo"

/**
 * Node j's regression on the nodes `parents[0…k−1]`: writes the coefficients
 * into `w` (length ≥ k) and returns ½(S_jj − 2wᵀS_Pj + wᵀS_PP·w) + λ‖w‖₁.
 */
const fitNode = (
  S: Matrix.Matrix,
  j: number,
  parents: ArrayLike<number>,
  k: number,
  lambda: number,
  w: Float64Array
): number => {
  const d = S.rows
  const s = S.data
  if (k === 0) return 0.5 * s[j * d + j]!
  if (lambda === 0) {
    return Memory.scoped(
      () => {
        const A = Matrix.zeros(k, k)
        const b = Vector.zeros(k)
        for (let a = 0; a < k; a++) {
          const p = parents[a]!
          b[a] = s[p * d + j]!
          for (let c = 0; c < k; c++) A.data[a * k + c] = s[p * d + parents[c]!]!
        }
        const x = Cholesky.solve(A, b)
        // At the least-squares solution wᵀS_PP·w = wᵀS_Pj.
        let explained = 0
        for (let a = 0; a < k; a++) {
          w[a] = x[a]!
          explained += x[a]! * b[a]!
        }
        return 0.5 * (s[j * d + j]! - explained)
      },
      () => []
    )
  }
  // Lasso by cyclic coordinate descent on the covariance; g = S_PP·w.
  return Memory.scoped(
    () => {
      const g = Vector.zeros(k)
      for (let a = 0; a < k; a++) w[a] = 0
      for (let sweep = 0; sweep < LASSO_MAX_SWEEPS; sweep++) {
        let largest = 0
        for (let a = 0; a < k; a++) {
          const p = parents[a]!
          const spp = s[p * d + p]!
          const rho = s[p * d + j]! - (g[a]! - spp * w[a]!)
          const next = (Math.sign(rho) * Math.max(Math.abs(rho) - lambda, 0)) / spp
          const delta = next - w[a]!
          if (delta !== 0) {
            for (let c = 0; c < k; c++) g[c] = g[c]! + s[parents[c]! * d + p]! * delta
            w[a] = next
            largest = Math.max(largest, Math.abs(delta))
          }
        }
        if (largest <= LASSO_TOLERANCE) break
      }
      let value = s[j * d + j]!
      let l1 = 0
      for (let a = 0; a < k; a++) {
        const p = parents[a]!
        value += -2 * w[a]! * s[p * d + j]! + w[a]! * g[a]!
        l1 += Math.abs(w[a]!)
      }
      return 0.5 * value + lambda * l1
    },
    () => []
  )
}

/** Refits the nodes at positions from…to of `order` into W (columns) and `nodeScore`. */
const refit = (
  S: Matrix.Matrix,
  lambda: number,
  order: Int32Array,
  from: number,
  to: number,
  W: Float64Array,
  nodeScore: Float64Array,
  scratch: Float64Array
): void => {
  const d = S.rows
  for (let k = from; k <= to; k++) {
    const j = order[k]!
    for (let i = 0; i < d; i++) W[i * d + j] = 0
    nodeScore[j] = fitNode(S, j, order, k, lambda, scratch)
    for (let a = 0; a < k; a++) W[order[a]! * d + j] = scratch[a]!
  }
}

/** The score of `order` after swapping positions a < b, from the current node scores. */
const swappedScore = (
  state: TopoState,
  a: number,
  b: number,
  order: Int32Array,
  scratch: Float64Array
): number => {
  order.set(state.order)
  const t = order[a]!
  order[a] = order[b]!
  order[b] = t
  let score = state.score
  for (let k = a; k <= b; k++) {
    const j = order[k]!
    score += fitNode(state.covariance, j, order, k, state.lambda1, scratch) - state.nodeScore[j]!
  }
  return score
}

/** Forbidden pairs (i after j in π) sorted by the acyclicity gradient, smallest first: [i, j, …]. */
const candidatePairs = (state: TopoState): Int32Array =>
  Memory.scoped(
    () => candidatePairsUnscoped(state),
    () => []
  )

const candidatePairsUnscoped = (state: TopoState): Int32Array => {
  const { d, W, order } = state
  const M = Matrix.identity(d)
  for (let k = 0; k < d * d; k++) M.data[k] = M.data[k]! - Math.abs(W[k]!)
  const G = Matrix.zeros(d, d)
  // I − |W| is unit triangular in the order π: never singular.
  logAbsDetAndInverseTranspose(M, Matrix.identity(d), G)
  const count = (d * (d - 1)) / 2
  const pairs = new Array<number>(count)
  let m = 0
  for (let b = 1; b < d; b++) for (let a = 0; a < b; a++) pairs[m++] = order[b]! * d + order[a]!
  const g = G.data
  pairs.sort((x, y) => g[x]! - g[y]! || x - y)
  const out = new Int32Array(2 * count)
  for (let c = 0; c < count; c++) {
    out[2 * c] = Math.floor(pairs[c]! / d)
    out[2 * c + 1] = pairs[c]! % d
  }
  return out
}

/**
 * Tries candidates [from, to) of `pairs`; applies the improving swaps
 * greedily (non-overlapping position intervals, best first). Returns whether
 * the score decreased.
 */
const trySwaps = (state: TopoState, pairs: Int32Array, from: number, to: number): boolean => {
  const { d } = state
  const scratchOrder = new Int32Array(d)
  const scratch = Vector.zeros(d)
  const improving: Array<{ a: number; b: number; score: number }> = []
  const bar = state.score - IMPROVEMENT_TOLERANCE * Math.max(Math.abs(state.score), 1)
  for (let c = from; c < to; c++) {
    const i = pairs[2 * c]!
    const j = pairs[2 * c + 1]!
    const a = state.position[j]!
    const b = state.position[i]!
    const score = swappedScore(state, a, b, scratchOrder, scratch)
    if (score < bar) improving.push({ a, b, score })
  }
  if (improving.length === 0) return false
  improving.sort((x, y) => x.score - y.score || x.a - y.a || x.b - y.b)
  const taken = new Uint8Array(d)
  const previous = state.score
  const swapsBefore = state.swaps
  const before = state.order.slice()
  for (const { a, b } of improving) {
    let free = true
    for (let k = a; k <= b && free; k++) if (taken[k] === 1) free = false
    if (!free) continue
    for (let k = a; k <= b; k++) taken[k] = 1
    const t = state.order[a]!
    state.order[a] = state.order[b]!
    state.order[b] = t
    state.swaps++
  }
  refitAll(state)
  if (!(state.score < previous)) {
    // Rounding made the combined swaps no better: keep only the best one.
    state.order.set(before)
    const { a, b } = improving[0]!
    const t = state.order[a]!
    state.order[a] = state.order[b]!
    state.order[b] = t
    state.swaps = swapsBefore + 1
    refitAll(state)
  }
  return true
}

const refitAll = (state: TopoState): void => {
  const { d } = state
  refit(state.covariance, state.lambda1, state.order, 0, d - 1, state.W, state.nodeScore, Vector.zeros(d))
  for (let k = 0; k < d; k++) state.position[state.order[k]!] = k
  let score = 0
  for (let j = 0; j < d; j++) score += state.nodeScore[j]!
  state.score = score
}

const startOrder = (options: TopoOptions, d: number): Int32Array => {
  const order = new Int32Array(d)
  if (options.initialOrder !== undefined) {
    const given = options.initialOrder
    const seen = new Uint8Array(d)
    let valid = given.length === d
    for (let k = 0; k < given.length && valid; k++) {
      const v = given[k]!
      if (!Number.isInteger(v) || v < 0 || v >= d || seen[v] === 1) valid = false
      else {
        seen[v] = 1
        order[k] = v
      }
    }
    if (!valid) {
      throw new Errors.InvalidOptions({
        operation: NAME,
        field: "initialOrder",
        value: JSON.stringify(given),
        requirement: `a permutation of 0…${d - 1}`
      })
    }
    return order
  }
  const W0 = initialWeights(NAME, options.initialWeights, d)
  if (W0 !== undefined) {
    const pruned = Dag.pruneToDag(Matrix.fromData(d, d, W0)).W
    order.set(Dag.topologicalOrder(pruned))
    return order
  }
  for (let k = 0; k < d; k++) order[k] = k
  return order
}

/**
 * TOPO as a `Solver.IterativeSolver` on the data matrix X (n × d, one sample
 * per row). One iteration is one pass of the search; the run ends
 * `converged` when no candidate swap lowers the score.
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<Matrix.Matrix, TopoOptions, TopoState, TopoOutput> = {
  name: NAME,
  init: (X, options) => {
    const { d, covariance } = learnerData(`${NAME}.fit`, X)
    const pairs = (d * (d - 1)) / 2
    const lambda1 = nonNegative(NAME, "lambda1", options.lambda1 ?? defaultTopoOptions.lambda1)
    const small = integerAtLeast(
      NAME,
      "smallSearchSize",
      options.smallSearchSize ?? Math.max(1, Math.min(pairs, defaultTopoOptions.smallSearchFactor * d)),
      1
    )
    const large = integerAtLeast(
      NAME,
      "largeSearchSize",
      options.largeSearchSize ?? Math.max(1, Math.min(pairs, defaultTopoOptions.largeSearchFactor * d)),
      1
    )
    const largeSearches = integerAtLeast(
      NAME,
      "largeSearches",
      options.largeSearches ?? defaultTopoOptions.largeSearches,
      0
    )
    integerAtLeast(NAME, "maxPasses", options.maxPasses ?? defaultTopoOptions.maxPasses, 1)
    const threshold = nonNegative(NAME, "threshold", options.threshold ?? defaultTopoOptions.threshold)
    const order = startOrder(options, d)
    const state: TopoState = {
      d,
      lambda1,
      smallSearchSize: Math.min(small, pairs),
      largeSearchSize: Math.min(Math.max(large, small), pairs),
      largeSearches,
      threshold,
      covariance,
      order,
      position: new Int32Array(d),
      W: Vector.zeros(d * d),
      nodeScore: Vector.zeros(d),
      initialScore: 0,
      score: 0,
      largeSearchesUsed: 0,
      swaps: 0,
      end: d < 2 ? "converged" : undefined
    }
    refitAll(state)
    return { ...state, initialScore: state.score }
  },
  step: (state) => {
    if (state.end !== undefined) return state
    const pairs = candidatePairs(state)
    if (trySwaps(state, pairs, 0, state.smallSearchSize)) return state
    if (state.largeSearchesUsed < state.largeSearches && state.largeSearchSize > state.smallSearchSize) {
      if (trySwaps(state, pairs, state.smallSearchSize, state.largeSearchSize)) {
        state.largeSearchesUsed++
        return state
      }
    }
    state.end = "converged"
    return state
  },
  status: (state) => state.end,
  residual: (state) => state.score,
  metrics: (state) => ({ score: state.score, swaps: state.swaps }),
  output: (state) => {
    const { d } = state
    const weights = Matrix.fromData(d, d, Vector.clone(state.W))
    return {
      W: Dag.threshold(weights, state.threshold),
      weights,
      order: state.order.slice(),
      score: state.score,
      initialScore: state.initialScore,
      swaps: state.swaps
    }
  }
}

/**
 * Runs TOPO on X (n × d, one sample per row) and returns the best order found
 * and its graph.
 *
 * @example
 * const result = Topo.fit(X)                                  // from the order 0…d−1
 * const polished = Topo.fit(X, { initialWeights: other.W })   // post-process another learner
 * // polished.score <= polished.initialScore; polished.W is a DAG
 * @throws NonFiniteInput when X holds NaN or ±Infinity.
 * @throws TooFewSamples when X has fewer than 2 rows.
 * @throws ConstantColumn when a column of X is constant.
 * @throws InvalidOptions when an option is out of range (e.g. λ < 0, an `initialOrder` that is not a permutation).
 * @throws NotPositiveDefinite when the covariance of some nodes is singular (collinear columns) and λ = 0.
 * @category solvers
 * @since 0.1.0
 */
export const fit = (X: Matrix.Matrix, options: TopoOptions = {}): TopoResult => {
  const run = Solver.run(solver, X, options, {
    maxIterations: options.maxPasses ?? defaultTopoOptions.maxPasses
  })
  return { ...run.output, status: run.status, iterations: run.iterations }
}

/**
 * TOPO as a post-processor: `fit` started from a topological order of `W`
 * (another learner's graph; pruned to a DAG first if it has a cycle). The
 * returned score is never above the score of W's order.
 *
 * @throws as `fit`, and DimensionMismatch when W is not d × d.
 * @category solvers
 * @since 0.1.0
 */
export const refine = (X: Matrix.Matrix, W: Matrix.Matrix, options: TopoOptions = {}): TopoResult =>
  fit(X, { ...options, initialWeights: W })
