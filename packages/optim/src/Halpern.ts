/**
 * Halpern's iteration for fixed points of a nonexpansive map T (Halpern,
 * "Fixed points of nonexpanding maps", Bull. AMS 73, 1967):
 *
 *   x_{k+1} = λ_k·x₀ + (1 − λ_k)·T(x_k),   λ_k = 1/(k + 2),
 *
 * anchored at the start x₀. With this λ_k the fixed-point residual of the
 * LAST iterate obeys the tight bound ‖x_k − T(x_k)‖ ≤ 2‖x₀ − x*‖/(k + 1) for
 * any fixed point x* (Lieder, "On the convergence rate of the Halpern
 * iteration", Optim. Lett. 15, 2021), the optimal O(1/k) rate, where the
 * plain iteration x ← T(x) only gets O(1/√k). The iterates converge to the
 * fixed point nearest to x₀.
 *
 * Monotone inclusions 0 = F(x) become fixed-point problems through
 * nonexpansive maps built here:
 * - `forwardStep(F, η)`: T = P_C∘(I − ηF), nonexpansive when F is
 *   1/L-cocoercive (e.g. the gradient of an L-smooth convex function) and
 *   η ≤ 2/L, or strongly monotone with η ≤ 2μ/L²;
 * - `resolventOfAffine(A, b, η)`: T = J_{ηF} = (I + ηF)⁻¹ for the affine
 *   F(x) = Ax − b, firmly nonexpansive for ANY monotone F and η > 0 (the
 *   proximal-point map; one LU factorization of I + ηA, then two triangular
 *   solves per application). This is the map for bilinear saddle problems,
 *   where I − ηF expands.
 *
 * Restarts (`restartFactor` β ∈ (0, 1)): when the residual has dropped to
 * β times the residual at the anchor, the anchor moves to the current
 * iterate and k restarts at 0. For a contraction (strongly monotone F) the
 * anchored iteration otherwise stalls at the O(1/k) rate; restarted, it
 * converges linearly (Diakonikolas, "Halpern Iteration for Near-Optimal and
 * Parameter-Free Monotone Inclusion and Strong Solutions to Variational
 * Inequalities", COLT 2020, §4 uses scheduled restarts; this adaptive rule is
 * the residual-based one of restarted Halpern PDHG, Lu & Yang 2024).
 *
 * The residual reported and tested against `tolerance` is the fixed-point
 * residual ‖x − T(x)‖₂ (for T = I − ηF, η‖F(x)‖₂). `counts.operator` counts
 * applications of T.
 *
 * @since 0.1.0
 */
import { Blas1, Blas2, Errors, Matrix, type Solver, Vector } from "@descent/core"
import { Lu } from "@descent/linalg"
import { requireUnitInterval } from "./internal/stochastic.ts"
import { requireNonNegative, requirePositive } from "./internal/validate.ts"
import { type Bounds, projectOntoBounds } from "./Minimize.ts"
import {
  assertOperator,
  checkStart,
  type InclusionCounts,
  type InclusionOptions,
  type InclusionOutput,
  type InclusionResult,
  inclusionDefaults,
  type Operator,
  runInclusion
} from "./MonotoneOperator.ts"

/**
 * A map T: ℝⁿ → ℝⁿ, meant nonexpansive (‖T(x) − T(y)‖ ≤ ‖x − y‖).
 *
 * @category models
 * @since 0.1.0
 */
export interface FixedPointMap {
  /** n. */
  readonly dimension: number
  /** Writes T(x) into `out` (which does not alias x). */
  apply(x: Float64Array, out: Float64Array): void
}

/**
 * The forward (gradient) step T(x) = P_C(x − η·F(x)) (P_C the projection onto
 * `bounds`, the identity without). Nonexpansive for a 1/L-cocoercive F with
 * η ≤ 2/L (averaged for η < 2/L), and a contraction for a μ-strongly monotone,
 * L-Lipschitz F with η < 2μ/L²; a fixed point solves 0 ∈ F(x) + N_C(x). One
 * evaluation of F per application; the buffer for F(x) is allocated here.
 *
 * @throws InvalidOptions when η is not a finite number > 0.
 * @category constructors
 * @since 0.1.0
 */
export const forwardStep = (F: Operator, stepSize: number, bounds?: Bounds): FixedPointMap => {
  const op = "Halpern.forwardStep"
  assertOperator(op, F)
  const eta = requirePositive(op, "stepSize", stepSize)
  const fx = Vector.zeros(F.dimension)
  return {
    dimension: F.dimension,
    apply: (x, out) => {
      F.apply(x, fx)
      Blas1.copy(x, out)
      Blas1.axpy(-eta, fx, out)
      if (bounds !== undefined) projectOntoBounds(out, bounds)
    }
  }
}

/**
 * The resolvent T = J_{ηF} = (I + ηF)⁻¹ of the affine F(x) = A·x − b:
 * T(x) = (I + ηA)⁻¹(x + ηb), the proximal-point map, firmly nonexpansive
 * for every monotone F (A + Aᵀ ⪰ 0) and η > 0; its fixed points are the
 * zeros of F. I + ηA is factored once (`Lu.factor`, partial pivoting); each
 * application permutes and does two triangular solves (`Blas2.trsv`), no
 * allocation.
 *
 * @throws DimensionMismatch when A is not square or b has the wrong length.
 * @throws NonFiniteInput when A or b has a NaN or ±∞ entry.
 * @throws InvalidOptions when η is not a finite number > 0.
 * @throws Singular when I + ηA is singular (then A is not monotone).
 * @category constructors
 * @since 0.1.0
 */
export const resolventOfAffine = (A: Matrix.Matrix, b: Float64Array, stepSize: number): FixedPointMap => {
  const op = "Halpern.resolventOfAffine"
  const eta = requirePositive(op, "stepSize", stepSize)
  Matrix.assertSquare(op, "A", A)
  Vector.assertFinite(op, "A", A.data)
  const n = A.rows
  Vector.assertLength(op, "b", b, n)
  Vector.assertFinite(op, "b", b)
  const M = { rows: A.rows, cols: A.cols, data: Vector.clone(A.data) }
  Blas1.scal(eta, M.data)
  for (let i = 0; i < Math.min(M.rows, M.cols); i++) M.data[i * M.cols + i] = M.data[i * M.cols + i]! + 1
  const f = Lu.factor(M)
  if (f.zeroPivot >= 0) throw new Errors.Singular({ operation: op, index: f.zeroPivot })
  const pivots = f.pivots
  return {
    dimension: n,
    apply: (x, out) => {
      Blas1.copy(x, out)
      Blas1.axpy(eta, b, out)
      for (let i = 0; i < n; i++) {
        const p = pivots[i]!
        if (p !== i) {
          const t = out[i]!
          out[i] = out[p]!
          out[p] = t
        }
      }
      Blas2.trsv(f.lu, out, { lower: true, unitDiagonal: true })
      Blas2.trsv(f.lu, out, { lower: false })
    }
  }
}

/**
 * Options of Halpern's iteration. `tolerance` applies to ‖x − T(x)‖₂.
 *
 * @category models
 * @since 0.1.0
 */
export interface HalpernOptions extends InclusionOptions {
  /** β ∈ [0, 1): re-anchor when ‖x − T(x)‖ ≤ β·(the anchor's residual); 0 never restarts. Default 0. */
  readonly restartFactor?: number
}

/**
 * Defaults of `HalpernOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const halpernDefaults = { ...inclusionDefaults, restartFactor: 0 } as const

/**
 * The result of Halpern's iteration: `residual` = ‖x − T(x)‖₂.
 *
 * @category models
 * @since 0.1.0
 */
export interface HalpernResult extends InclusionResult {
  /** How many times the anchor moved. */
  readonly restarts: number
}

/**
 * State of Halpern's iteration.
 *
 * @category models
 * @since 0.1.0
 */
export interface HalpernState {
  readonly map: FixedPointMap
  readonly counts: InclusionCounts
  readonly tolerance: number
  readonly restartFactor: number
  readonly anchor: Float64Array
  x: Float64Array
  tx: Float64Array
  next: Float64Array
  tNext: Float64Array
  readonly difference: Float64Array
  residual: number
  anchorResidual: number
  /** Iterations since the anchor was set. */
  k: number
  restarts: number
  diverged: boolean
}

const fixedPointResidual = (x: Float64Array, tx: Float64Array, work: Float64Array): number => {
  Blas1.copy(x, work)
  Blas1.axpy(-1, tx, work)
  return Blas1.nrm2(work)
}

/**
 * Halpern's iteration as a solver of core's protocol (one `step` = one
 * application of T).
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<
  { readonly map: FixedPointMap; readonly x0: Float64Array },
  HalpernOptions,
  HalpernState,
  InclusionOutput & { readonly restarts: number }
> = {
  name: "Halpern",
  init: ({ map, x0 }, options) => {
    const op = "Halpern"
    assertOperator(op, map)
    const x = checkStart(op, map.dimension, x0)
    const tolerance = requireNonNegative(op, "tolerance", options.tolerance ?? halpernDefaults.tolerance)
    const restartFactor = requireUnitInterval(
      op,
      "restartFactor",
      options.restartFactor ?? halpernDefaults.restartFactor
    )
    const counts: InclusionCounts = { operator: 0, component: 0 }
    const n = map.dimension
    const tx = Vector.zeros(n)
    map.apply(x, tx)
    counts.operator++
    const bad = Vector.findNonFinite(tx)
    if (bad >= 0)
      throw new Errors.NonFiniteInput({ operation: op, what: "T(x0)", index: bad, value: tx[bad]! })
    const difference = Vector.zeros(n)
    const residual = fixedPointResidual(x, tx, difference)
    return {
      map,
      counts,
      tolerance,
      restartFactor,
      anchor: Vector.clone(x),
      x,
      tx,
      next: Vector.zeros(n),
      tNext: Vector.zeros(n),
      difference,
      residual,
      anchorResidual: residual,
      k: 0,
      restarts: 0,
      diverged: false
    }
  },
  step: (state) => {
    const lambda = 1 / (state.k + 2)
    const next = state.next
    // x_{k+1} = λ·x₀ + (1 − λ)·T(x_k)
    Blas1.copy(state.tx, next)
    Blas1.axpby(lambda, state.anchor, 1 - lambda, next)
    state.map.apply(next, state.tNext)
    state.counts.operator++
    if (Vector.findNonFinite(next) >= 0 || Vector.findNonFinite(state.tNext) >= 0) {
      state.diverged = true
      return state
    }
    state.next = state.x
    state.x = next
    const t = state.tx
    state.tx = state.tNext
    state.tNext = t
    state.k++
    state.residual = fixedPointResidual(state.x, state.tx, state.difference)
    if (state.restartFactor > 0 && state.residual <= state.restartFactor * state.anchorResidual) {
      Blas1.copy(state.x, state.anchor)
      state.anchorResidual = state.residual
      state.k = 0
      state.restarts++
    }
    return state
  },
  status: (state) => (state.residual <= state.tolerance ? "converged" : undefined),
  residual: (state) => (state.diverged ? Number.NaN : state.residual),
  metrics: (state) => ({ residual: state.residual, restarts: state.restarts }),
  output: (state) => ({
    x: Vector.clone(state.x),
    residual: state.residual,
    counts: { ...state.counts },
    restarts: state.restarts
  })
}

/**
 * Runs Halpern's iteration x_{k+1} = x₀/(k + 2) + (k + 1)/(k + 2)·T(x_k) on the
 * nonexpansive `map` from `x0` until ‖x − T(x)‖₂ ≤ tolerance. Never throws
 * for not converging; a NaN or ±∞ in T ends the run as `diverged` with the
 * last finite iterate.
 *
 * @example
 * // F(x) = Ax − b monotone: Halpern on its resolvent, restarted when the residual halves
 * const result = Halpern.solve(Halpern.resolventOfAffine(A, b, 1), x0, { restartFactor: 0.5 })
 * @throws DimensionMismatch when `x0` does not have `map.dimension` entries.
 * @throws NonFiniteInput when `x0` or T(x0) has a NaN or ±∞.
 * @throws InvalidOptions when an option is out of range.
 * @category solvers
 * @since 0.1.0
 */
export const solve = (map: FixedPointMap, x0: Float64Array, options: HalpernOptions = {}): HalpernResult =>
  runInclusion(solver, { map, x0 }, options)
