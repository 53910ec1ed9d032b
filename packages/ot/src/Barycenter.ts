/**
 * Fixed-support Wasserstein barycenters by iterative Bregman projections
 * (Benamou, Carlier, Cuturi, Nenna & Peyré, "Iterative Bregman projections
 * for regularized transportation problems", SIAM J. Sci. Comput. 2015; Peyré
 * & Cuturi, "Computational Optimal Transport", 2019, §9.2): given histograms
 * b_1 … b_K (on supports of sizes m_k, same total mass), costs C_k (m_k × n)
 * to a fixed barycenter support of n points and weights λ_k ≥ 0 (normalized
 * to sum to 1), find q ∈ ℝⁿ₊ minimizing
 *
 *   Σ_k λ_k W_ε(b_k, q),   W_ε(b, q) = min_{π ∈ U(b, q)} ⟨C, π⟩ − ε·H(π),
 *
 * with H(π) = −Σ π_ij (log π_ij − 1) (the convention of Benamou et al. and of
 * POT's `ot.bregman.barycenter`; with ε·KL(π | b⊗q) instead, the barycenter
 * would change, since q enters the reference measure). Equivalently, KL
 * projections of the plans π_k onto {π_k·1 = b_k} and onto {π_kᵀ·1 common},
 * alternately. In the log domain (π_k = exp((f_k ⊕ g_k − C_k)/ε)):
 *
 *   f_k ← ε·log b_k − ε·LSE_j((g_k,j − C_k,ij)/ε)          (rows to b_k),
 *   ℓ_k = LSE_i((f_k,i + g_k,j − C_k,ij)/ε) = log π_kᵀ·1,
 *   log q = Σ_k λ_k ℓ_k,   g_k ← g_k + ε·(log q − ℓ_k)     (columns to q),
 *
 * two fused passes of core's `Reductions.logSumExpAffineRows/Cols` per
 * histogram and iteration, stable at any ε (this is the "log-stabilized"
 * variant: nothing is exponentiated but the final q). After each iteration
 * every plan has column marginal q exactly; the error is the largest
 * ‖π_kᵀ·1 − q‖₁ before the column projection, which is 0 at the fixed point
 * (the optimality condition Σ_k λ_k g_k = const on the support of q).
 *
 * POT 0.9.7 agrees with `barycenter(method="sinkhorn_log")`; its scaling
 * form (`method="sinkhorn"`) starts from an unweighted geometric mean and
 * converges elsewhere for unequal weights, and `barycenter_stabilized` does
 * so too once its absorption (shared by all histograms) triggers (see
 * test/fixtures/generate_ot_more.py).
 *
 * @since 0.1.0
 */
import { Blas1, Errors, Matrix, Reductions, type Solver, Vector } from "@descent/core"
import * as Geometry from "./Geometry.ts"
import { runToResult } from "./internal/entropic.ts"
import {
  checkBalanced,
  checkSupport,
  integerAtLeast,
  linearCost,
  logOf,
  nonNegative,
  positiveFinite,
  readWeights
} from "./internal/logScaling.ts"

/**
 * A validated barycenter problem.
 *
 * @category models
 * @since 0.1.0
 */
export interface BarycenterProblem {
  /** Geometry k: histogram k's support (rows, m_k) × the barycenter's support (cols, n). */
  readonly geometries: ReadonlyArray<Geometry.Geometry>
  readonly histograms: ReadonlyArray<Float64Array>
  /** λ, normalized to sum to 1. */
  readonly weights: Float64Array
  /** n, the size of the barycenter's support. */
  readonly size: number
  /** The common mass of the histograms (the barycenter's mass). */
  readonly mass: number
}

/**
 * Options of `make`.
 *
 * @category models
 * @since 0.1.0
 */
export interface BarycenterProblemOptions {
  /** λ_k ≥ 0 with positive sum (normalized); default uniform 1/K. */
  readonly weights?: ArrayLike<number>
  /** Relative tolerance on the histograms' masses agreeing. Default 1e-9. */
  readonly massTolerance?: number
}

const MAKE = "Barycenter.make"

/**
 * A barycenter problem: one geometry shared by all histograms, or one per
 * histogram (all with the same number of columns n).
 *
 * @throws EmptyInput for no histogram; DimensionMismatch for shapes that do
 *   not fit; NonFiniteInput, NegativeMass, InvalidOptions for bad histograms
 *   or weights; UnbalancedMarginals when the masses differ.
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  geometry: Geometry.Geometry | ReadonlyArray<Geometry.Geometry>,
  histograms: ReadonlyArray<ArrayLike<number>>,
  options: BarycenterProblemOptions = {}
): BarycenterProblem => {
  const K = histograms.length
  if (K === 0) throw new Errors.EmptyInput({ operation: MAKE, what: "histograms" })
  const geometries = Array.isArray(geometry)
    ? (geometry as ReadonlyArray<Geometry.Geometry>)
    : Array.from({ length: K }, () => geometry as Geometry.Geometry)
  if (geometries.length !== K)
    throw new Errors.DimensionMismatch({
      operation: MAKE,
      what: "geometries",
      expected: [K],
      actual: [geometries.length]
    })
  const n = geometries[0]!.cols
  const tolerance = nonNegative(MAKE, "massTolerance", options.massTolerance ?? 1e-9)
  const hs: Float64Array[] = []
  let mass = 0
  for (let k = 0; k < K; k++) {
    const g = geometries[k]!
    if (g.cols !== n)
      throw new Errors.DimensionMismatch({
        operation: MAKE,
        what: `geometries[${k}]`,
        expected: [g.rows, n],
        actual: [g.rows, g.cols]
      })
    const { w, mass: mk } = readWeights(MAKE, `histograms[${k}]`, histograms[k], g.rows)
    if (k === 0) mass = mk
    else checkBalanced(MAKE, mass, mk, tolerance)
    hs.push(w)
  }
  const { w: weights, mass: total } = readWeights(MAKE, "weights", options.weights, K)
  Blas1.scal(1 / total, weights)
  return { geometries, histograms: hs, weights, size: n, mass }
}

/**
 * Options of `solve`.
 *
 * @category models
 * @since 0.1.0
 */
export interface BarycenterOptions {
  /** ε > 0, in the geometries' cost units. Default 0.01. */
  readonly epsilon?: number
  /** Stop when max_k ‖π_kᵀ·1 − q‖₁ ≤ tolerance (≥ 0). Default 1e-9. */
  readonly tolerance?: number
  /** Iteration budget (≥ 0). Default 1000. */
  readonly maxIterations?: number
}

/**
 * Defaults of `BarycenterOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultBarycenterOptions = { epsilon: 0.01, tolerance: 1e-9, maxIterations: 1000 } as const

/**
 * A barycenter result.
 *
 * @category models
 * @since 0.1.0
 */
export interface BarycenterResult {
  readonly status: Solver.Status
  readonly iterations: number
  readonly epsilon: number
  /** q (length n): the common column marginal of the plans after the last iteration. */
  readonly barycenter: Float64Array
  /** max_k ‖π_kᵀ·1 − q‖₁ at each iteration (before its column projection). */
  readonly marginalErrors: ReadonlyArray<number>
  /** The largest row error max_k ‖π_k·1 − b_k‖₁ of the returned plans. */
  readonly marginalError: number
  /** Potentials of the plans π_k = exp((f_k ⊕ g_k − C_k)/ε). */
  readonly f: ReadonlyArray<Float64Array>
  readonly g: ReadonlyArray<Float64Array>
  /** ⟨C_k, π_k⟩ for each k. */
  readonly costs: Float64Array
  /** Σ_k λ_k (⟨C_k, π_k⟩ − ε·H(π_k)). */
  readonly objective: number
  /** The K plans (m_k × n), computed when called. */
  readonly plans: () => ReadonlyArray<Matrix.Matrix>
}

/**
 * The solver output (`solve` adds status and iterations).
 *
 * @category models
 * @since 0.1.0
 */
export type BarycenterOutput = Omit<BarycenterResult, "status" | "iterations">

interface Part {
  readonly C: Matrix.Matrix
  readonly b: Float64Array
  readonly logB: Float64Array
  readonly f: Float64Array
  readonly g: Float64Array
  /** Row log-sums, then ℓ (column log-marginals). */
  readonly rowLse: Float64Array
  readonly colLse: Float64Array
  readonly zerosM: Float64Array
}

/**
 * The solver state.
 *
 * @category models
 * @since 0.1.0
 */
export interface BarycenterState {
  readonly problem: BarycenterProblem
  readonly epsilon: number
  readonly tolerance: number
  readonly parts: ReadonlyArray<Part>
  readonly logQ: Float64Array
  readonly errors: number[]
  error: number
}

const NAME = "Barycenter"

/** One iteration of iterative Bregman projections (see the module comment). */
const iterate = (s: BarycenterState): void => {
  const { epsilon, parts, logQ } = s
  const lambda = s.problem.weights
  logQ.fill(0)
  for (let k = 0; k < parts.length; k++) {
    const p = parts[k]!
    Reductions.logSumExpAffineRows(p.C, p.zerosM, p.g, epsilon, p.rowLse)
    for (let i = 0; i < p.f.length; i++) p.f[i] = epsilon * (p.logB[i]! - p.rowLse[i]!)
    Reductions.logSumExpAffineCols(p.C, p.f, p.g, epsilon, p.colLse)
    if (lambda[k]! > 0) Blas1.axpy(lambda[k]!, p.colLse, logQ)
  }
  let error = 0
  for (const p of parts) {
    let e = 0
    for (let j = 0; j < logQ.length; j++) {
      e += Math.abs(Math.exp(p.colLse[j]!) - Math.exp(logQ[j]!))
      p.g[j] = p.g[j]! + epsilon * (logQ[j]! - p.colLse[j]!)
    }
    if (e > error || e !== e) error = e
  }
  s.error = error
  s.errors.push(error)
}

/**
 * Iterative Bregman projections as a `Solver.IterativeSolver`: one step
 * projects every plan on its histogram and then on the common marginal.
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<
  BarycenterProblem,
  BarycenterOptions,
  BarycenterState,
  BarycenterOutput
> = {
  name: NAME,
  init: (problem, options) => {
    const epsilon = positiveFinite(NAME, "epsilon", options.epsilon ?? defaultBarycenterOptions.epsilon)
    const tolerance = nonNegative(NAME, "tolerance", options.tolerance ?? defaultBarycenterOptions.tolerance)
    const n = problem.size
    const ones = Vector.ones(n)
    const parts = problem.geometries.map((geometry, k): Part => {
      const C = Geometry.materialize(geometry)
      const b = problem.histograms[k]!
      checkSupport(NAME, C, b, ones)
      const m = C.rows
      return {
        C,
        b,
        logB: logOf(b),
        f: Vector.zeros(m),
        g: Vector.zeros(n),
        rowLse: Vector.zeros(m),
        colLse: Vector.zeros(n),
        zerosM: Vector.zeros(m)
      }
    })
    return {
      problem,
      epsilon,
      tolerance,
      parts,
      logQ: Vector.zeros(n),
      errors: [],
      error: Number.POSITIVE_INFINITY
    }
  },
  step: (state) => {
    iterate(state)
    return state
  },
  status: (state) => (state.error <= state.tolerance ? "converged" : undefined),
  // Before the first step there is no error yet: report it as large but finite.
  residual: (state) => (state.error === Number.POSITIVE_INFINITY ? Number.MAX_VALUE : state.error),
  metrics: (state) => ({ marginalError: state.error }),
  output: (state) => barycenterOutput(state)
}

const barycenterOutput = (s: BarycenterState): BarycenterOutput => {
  const { epsilon, parts, logQ } = s
  const n = logQ.length
  const q = Vector.zeros(n)
  for (let j = 0; j < n; j++) q[j] = Math.exp(logQ[j]!)
  const zerosN = Vector.zeros(n)
  const costs = Vector.zeros(parts.length)
  let objective = 0
  let rowError = 0
  const f = parts.map((p) => Vector.clone(p.f))
  const g = parts.map((p) => Vector.clone(p.g))
  parts.forEach((p, k) => {
    const m = p.f.length
    const zerosM = p.zerosM
    const { cost, mass } = linearCost(p.C, p.f, p.g, zerosM, zerosN, epsilon)
    costs[k] = cost
    // Row marginals of the current plan: r_i = exp(LSE_j((f_i + g_j − C_ij)/ε)).
    Reductions.logSumExpAffineRows(p.C, p.f, p.g, epsilon, p.rowLse)
    let value = -epsilon * mass
    let e = 0
    for (let i = 0; i < m; i++) {
      const r = Math.exp(p.rowLse[i]!)
      if (r > 0) value += p.f[i]! * r
      e += Math.abs(r - p.b[i]!)
    }
    for (let j = 0; j < n; j++) if (q[j]! > 0) value += p.g[j]! * q[j]!
    objective += s.problem.weights[k]! * value
    if (e > rowError) rowError = e
  })
  return {
    epsilon,
    barycenter: q,
    marginalErrors: s.errors.slice(),
    marginalError: rowError,
    f,
    g,
    costs,
    objective,
    plans: () =>
      parts.map((p, k) => {
        const m = p.f.length
        const P = Matrix.zeros(m, n)
        const inv = 1 / epsilon
        for (let i = 0; i < m; i++) {
          const fi = f[k]![i]!
          const o = i * n
          if (fi === Number.NEGATIVE_INFINITY) continue
          for (let j = 0; j < n; j++) P.data[o + j] = Math.exp((fi + g[k]![j]! - p.C.data[o + j]!) * inv)
        }
        return P
      })
  }
}

/**
 * Computes the entropic barycenter (see the module comment).
 *
 * @example
 * const problem = Barycenter.make(Geometry.fromCostMatrix(M), [h1, h2], { weights: [0.3, 0.7] })
 * const { barycenter, status } = Barycenter.solve(problem, { epsilon: 1e-2 })
 * @throws InvalidOptions for ε ≤ 0 (or not finite), a negative tolerance, a
 *   bad iteration count, or a support point with no finite cost to the other side.
 * @category solvers
 * @since 0.1.0
 */
export const solve = (problem: BarycenterProblem, options: BarycenterOptions = {}): BarycenterResult => {
  const maxIterations = integerAtLeast(
    NAME,
    "maxIterations",
    options.maxIterations ?? defaultBarycenterOptions.maxIterations,
    0
  )
  return runToResult(solver, problem, options, { maxIterations })
}
