/**
 * L-BFGS (Nocedal, "Updating quasi-Newton matrices with limited storage",
 * Math. Comp. 35, 1980; Liu & Nocedal, "On the limited memory BFGS method
 * for large scale optimization", Math. Prog. 45, 1989) for a smooth f
 * without constraints.
 *
 * The search direction dₖ = −Hₖ∇f(xₖ) applies the inverse-Hessian
 * approximation built from the last m pairs sᵢ = xᵢ₊₁ − xᵢ,
 * yᵢ = ∇f(xᵢ₊₁) − ∇f(xᵢ) by the two-loop recursion (Nocedal & Wright,
 * Algorithm 7.4) with H⁰ = (sᵀy / yᵀy)·I from the newest pair, in O(m·n).
 * The step satisfies the strong Wolfe conditions (Moré–Thuente,
 * `LineSearch.strongWolfe`), which keeps sᵀy > 0.
 *
 * The run follows SciPy's `minimize(method="L-BFGS-B")` without bounds
 * (the L-BFGS-B code on an unconstrained problem computes the same
 * direction through its compact representation): memory m = 10, the
 * line-search constants c₁ = 1e-3, c₂ = 0.9, interval tolerance 0.1 and 20
 * trials, a first trial step of 1/‖∇f(x₀)‖₂ on the first iteration and 1
 * afterwards, a pair skipped when sᵀy ≤ ε·(−∇fᵀs), a search that fails with
 * pairs stored restarts from −∇f with an empty memory (a search that fails
 * along −∇f ends the run as `stalled`), and the stopping tests
 *
 *   ‖∇f(x)‖∞ ≤ tolerance (1e-5),   (fₖ − fₖ₊₁)/max(|fₖ|, |fₖ₊₁|, 1) ≤ functionTolerance (2.22e-9).
 *
 * Unlike L-BFGS-B, a search warning (e.g. the interval became too small) is
 * accepted only when the step decreases f sufficiently.
 *
 * @since 0.1.0
 */
import { Blas1, type Objective, type Solver, Vector } from "@descent/core"
import {
  acceptableStep,
  acceptTrial,
  convergedMessage,
  infinityNorm,
  type SmoothState,
  smallDecrease,
  smoothOutput,
  smoothResidual,
  smoothStatus,
  start,
  tolerances
} from "./internal/smooth.ts"
import { requirePositiveInteger } from "./internal/validate.ts"
import { restriction, type StrongWolfeOptions, strongWolfeOptions, strongWolfeWith } from "./LineSearch.ts"
import { type MinimizeOptions, type MinimizeResult, runSolver, type SolverOutput } from "./Minimize.ts"

/**
 * Options of L-BFGS.
 *
 * @category models
 * @since 0.1.0
 */
export interface LbfgsOptions extends MinimizeOptions {
  /** Iteration budget. Default 15000 (SciPy's maxiter) in `minimize`. */
  readonly maxIterations?: number
  /** m, the number of (s, y) pairs kept (an integer ≥ 1). Default 10. */
  readonly memory?: number
  /** The strong Wolfe search (L-BFGS-B's constants by default; `initialStep` is ignored). */
  readonly lineSearch?: StrongWolfeOptions
  /** Stop when ‖∇f(x)‖∞ ≤ tolerance (≥ 0). Default 1e-5 (SciPy's gtol). */
  readonly tolerance?: number
  /** Stop when the relative decrease of f is ≤ this (≥ 0). Default 2.220446049250313e-9 (SciPy's ftol). */
  readonly functionTolerance?: number
}

/**
 * Defaults of `LbfgsOptions` (SciPy's L-BFGS-B defaults).
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultLbfgsOptions = {
  maxIterations: 15000,
  memory: 10,
  tolerance: 1e-5,
  functionTolerance: 2.220446049250313e-9,
  lineSearch: { sufficientDecrease: 1e-3, curvature: 0.9, intervalTolerance: 0.1, maxTrials: 20 }
} as const

/**
 * The problem: an objective and a starting point.
 *
 * @category models
 * @since 0.1.0
 */
export interface LbfgsProblem {
  readonly objective: Objective.Objective
  readonly x0: Float64Array
}

/**
 * L-BFGS state; `step` mutates its buffers. The pairs live in a ring: pair
 * k (0 = oldest) is row (`head` + k) mod m of `s` and `y`.
 *
 * @category models
 * @since 0.1.0
 */
export interface LbfgsState extends SmoothState {
  readonly memory: number
  readonly lineSearch: Required<StrongWolfeOptions>
  readonly tolerance: number
  readonly functionTolerance: number
  xTrial: Float64Array
  gradientTrial: Float64Array
  readonly direction: Float64Array
  /** Rows of the s and y stores (views into one m·n array each). */
  readonly s: ReadonlyArray<Float64Array>
  readonly y: ReadonlyArray<Float64Array>
  /** 1/(sᵢᵀyᵢ) per row. */
  readonly rho: Float64Array
  /** The two-loop coefficients per row. */
  readonly alpha: Float64Array
  head: number
  count: number
  /** Whether an iteration has completed (the first search starts at 1/‖∇f‖₂). */
  started: boolean
  /** Pairs rejected by the curvature test sᵀy > ε·(−∇fᵀs). */
  skippedUpdates: number
  /** Restarts from −∇f after a failed search. */
  restarts: number
  lineSearchTrials: number
}

const NAME = "Lbfgs"

/** d ← −H·g by the two-loop recursion (N&W Algorithm 7.4). */
const twoLoop = (state: LbfgsState): void => {
  const { s, y, rho, alpha, head, count, memory: m } = state
  const d = state.direction
  const g = state.gradient
  for (let i = 0; i < d.length; i++) d[i] = -g[i]!
  for (let k = count - 1; k >= 0; k--) {
    const j = (head + k) % m
    const a = rho[j]! * Blas1.dot(s[j]!, d)
    alpha[j] = a
    Blas1.axpy(-a, y[j]!, d)
  }
  const newest = (head + count - 1) % m
  const yy = Blas1.dot(y[newest]!, y[newest]!)
  Blas1.scal(1 / (rho[newest]! * yy), d)
  for (let k = 0; k < count; k++) {
    const j = (head + k) % m
    const b = rho[j]! * Blas1.dot(y[j]!, d)
    Blas1.axpy(alpha[j]! - b, s[j]!, d)
  }
}

/**
 * L-BFGS as a `Solver.IterativeSolver`.
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<LbfgsProblem, LbfgsOptions, LbfgsState, SolverOutput> = {
  name: NAME,
  init: (problem, options) => {
    const memory = requirePositiveInteger(NAME, "memory", options.memory ?? defaultLbfgsOptions.memory)
    const lineSearch = strongWolfeOptions(NAME, { ...defaultLbfgsOptions.lineSearch, ...options.lineSearch })
    const tol = tolerances(NAME, options, defaultLbfgsOptions)
    const { objective, x, gradient, value } = start(NAME, problem)
    const n = x.length
    const sStore = Vector.zeros(memory * n)
    const yStore = Vector.zeros(memory * n)
    const rows = (store: Float64Array) =>
      Array.from({ length: memory }, (_, k) => store.subarray(k * n, (k + 1) * n))
    const state: LbfgsState = {
      objective,
      memory,
      lineSearch,
      ...tol,
      x,
      gradient,
      value,
      gradientNorm: infinityNorm(gradient),
      xTrial: Vector.zeros(n),
      gradientTrial: Vector.zeros(n),
      direction: Vector.zeros(n),
      s: rows(sStore),
      y: rows(yStore),
      rho: Vector.zeros(memory),
      alpha: Vector.zeros(memory),
      head: 0,
      count: 0,
      started: false,
      skippedUpdates: 0,
      restarts: 0,
      lineSearchTrials: 0,
      end: undefined,
      message: undefined
    }
    if (state.gradientNorm <= tol.tolerance) {
      state.end = "converged"
      state.message = convergedMessage("gradient", state, tol.tolerance)
    }
    return state
  },
  step: (state) => {
    const d = state.direction
    for (;;) {
      let initialStep = 1
      if (state.count === 0) {
        const g = state.gradient
        for (let i = 0; i < d.length; i++) d[i] = -g[i]!
        if (!state.started) initialStep = 1 / Blas1.nrm2(d)
      } else {
        twoLoop(state)
      }
      const slope = Blas1.dot(state.gradient, d)
      const o = state.lineSearch
      const phi = restriction(state.objective, state.x, d, state.xTrial, state.gradientTrial)
      const search = strongWolfeWith(phi, state.value, slope, {
        ...o,
        initialStep: Math.min(Math.max(initialStep, o.minStep), o.maxStep)
      })
      state.lineSearchTrials += search.trials
      if (!acceptableStep(search)) {
        if (state.count > 0) {
          state.count = 0
          state.head = 0
          state.restarts++
          continue
        }
        // Non-finite trials all the way down: the objective is NaN or ±∞
        // along the only direction left; x is the last finite iterate.
        state.end = search.termination === "nonFinite" ? "diverged" : "stalled"
        state.message = `line search along −∇f ended with ${search.termination} after ${search.trials} trials (gradient norm ${state.gradientNorm.toExponential(2)})`
        return state
      }
      state.started = true
      const previous = state.value
      acceptTrial(state, search.value)
      if (state.gradientNorm <= state.tolerance) {
        state.end = "converged"
        state.message = convergedMessage("gradient", state, state.tolerance)
        return state
      }
      if (smallDecrease(previous, state.value, state.functionTolerance)) {
        state.end = "converged"
        state.message = convergedMessage("decrease", state, state.functionTolerance)
        return state
      }
      update(state, search.step, slope)
      return state
    }
  },
  status: smoothStatus,
  residual: smoothResidual,
  metrics: (state) => ({ objective: state.value, gradientNorm: state.gradientNorm, pairs: state.count }),
  output: smoothOutput
}

/**
 * Stores the pair of the accepted step (after `acceptTrial`: `gradient` is
 * the new gradient, `gradientTrial` the old one, `direction` = d) unless
 * sᵀy ≤ ε·(−∇fₖᵀs) (L-BFGS-B's skip test).
 */
const update = (state: LbfgsState, step: number, slope: number): void => {
  const m = state.memory
  const j = state.count < m ? (state.head + state.count) % m : state.head
  const s = state.s[j]!
  const y = state.y[j]!
  const d = state.direction
  const g = state.gradient
  const gOld = state.gradientTrial
  let sy = 0
  for (let i = 0; i < s.length; i++) {
    const si = step * d[i]!
    const yi = g[i]! - gOld[i]!
    sy += si * yi
  }
  if (!(sy > Number.EPSILON * -slope * step)) {
    state.skippedUpdates++
    return
  }
  for (let i = 0; i < s.length; i++) {
    s[i] = step * d[i]!
    y[i] = g[i]! - gOld[i]!
  }
  state.rho[j] = 1 / sy
  if (state.count < m) state.count++
  else state.head = (state.head + 1) % m
}

/**
 * Minimizes `objective` from `x0` by L-BFGS.
 *
 * @example
 * const result = Lbfgs.minimize(objective, x0, { tolerance: 1e-10 })
 * @throws DimensionMismatch when `x0` does not have the objective's dimension.
 * @throws NonFiniteInput when `x0`, f(x0) or ∇f(x0) has a NaN or ±∞.
 * @throws InvalidOptions when an option is out of range.
 * @category solvers
 * @since 0.1.0
 */
export const minimize = (
  objective: Objective.Objective,
  x0: Float64Array,
  options: LbfgsOptions = {}
): MinimizeResult =>
  runSolver(solver, { objective, x0 }, { maxIterations: defaultLbfgsOptions.maxIterations, ...options })
