/**
 * Nonlinear conjugate gradients for a smooth f (Nocedal & Wright, Numerical
 * Optimization, 2nd ed., §5.2): search directions
 *
 *   d₀ = −g₀,   dₖ₊₁ = −gₖ₊₁ + βₖ₊₁·dₖ,   yₖ = gₖ₊₁ − gₖ,
 *
 * with β from one of three formulas (`beta`):
 * - `fletcherReeves` (Fletcher & Reeves 1964): β = ‖gₖ₊₁‖² / ‖gₖ‖²;
 * - `polakRibierePlus` (Polak & Ribière 1969, with Powell's 1986 / Gilbert &
 *   Nocedal's 1992 nonnegativity): β = max(0, gₖ₊₁ᵀyₖ / ‖gₖ‖²) — SciPy's `CG`;
 * - `hestenesStiefel` (Hestenes & Stiefel 1952): β = gₖ₊₁ᵀyₖ / dₖᵀyₖ.
 *
 * and each step from the strong Wolfe (Moré–Thuente) line search with
 * c₁ = 1e-4 and c₂ = 0.4 (SciPy's; c₂ < ½ makes every Fletcher–Reeves
 * direction a descent direction, N&W Lemma 5.6), first trial
 * α₀ = min(1, 1.01·2(fₖ − fₖ₋₁)/φ'(0)) (N&W eq. 3.60, as SciPy).
 *
 * Restarts (d = −g): every `restartEvery` iterations (0 = never); when
 * consecutive gradients are far from orthogonal, |gₖ₊₁ᵀgₖ| ≥ ν‖gₖ₊₁‖²
 * (Powell 1977, ν = `restartThreshold`); when the new direction is not a
 * sufficient descent direction, dᵀg > −0.01‖g‖² (SciPy's test); and once
 * when a line search fails along a conjugate direction. A line search that
 * fails along −g ends the run as `stalled`.
 *
 * Stops when ‖∇f(x)‖∞ ≤ `tolerance` (`converged`), or when the relative
 * decrease of f is ≤ `functionTolerance` (off by default).
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
import { invalid } from "./internal/validate.ts"
import { restriction, type StrongWolfeOptions, strongWolfeOptions, strongWolfeWith } from "./LineSearch.ts"
import { type MinimizeOptions, type MinimizeResult, runSolver, type SolverOutput } from "./Minimize.ts"

/**
 * The β formula.
 *
 * @category models
 * @since 0.1.0
 */
export type Beta = "fletcherReeves" | "polakRibierePlus" | "hestenesStiefel"

/**
 * Options of nonlinear CG.
 *
 * @category models
 * @since 0.1.0
 */
export interface NonlinearCgOptions extends MinimizeOptions {
  /** The β formula. Default `polakRibierePlus`. */
  readonly beta?: Beta
  /** Restart with −∇f every this many iterations (an integer ≥ 0; 0 = never). Default 0. */
  readonly restartEvery?: number
  /** Powell's restart test ν (≥ 0; +∞ = never): restart when |gₖ₊₁ᵀgₖ| ≥ ν‖gₖ₊₁‖². Default 0.2 for Fletcher–Reeves, +∞ otherwise. */
  readonly restartThreshold?: number
  /** The strong Wolfe search (c₁ 1e-4, c₂ 0.4, interval tolerance 1e-14 and 20 trials by default; `initialStep` is ignored). */
  readonly lineSearch?: StrongWolfeOptions
  /** Stop when ‖∇f(x)‖∞ ≤ tolerance (≥ 0). Default 1e-5 (SciPy's gtol). */
  readonly tolerance?: number
  /** Stop when the relative decrease of f is ≤ this (≥ 0; 0 turns the test off). Default 0. */
  readonly functionTolerance?: number
}

/**
 * Defaults of `NonlinearCgOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultNonlinearCgOptions = {
  maxIterations: 1000,
  beta: "polakRibierePlus",
  restartEvery: 0,
  tolerance: 1e-5,
  functionTolerance: 0,
  lineSearch: { sufficientDecrease: 1e-4, curvature: 0.4, intervalTolerance: 1e-14, maxTrials: 20 }
} as const

/** SciPy's sufficient-descent test for the new direction: dᵀg ≤ −σ‖g‖². */
const SUFFICIENT_DESCENT = 0.01

/**
 * The problem: an objective and a starting point.
 *
 * @category models
 * @since 0.1.0
 */
export interface NonlinearCgProblem {
  readonly objective: Objective.Objective
  readonly x0: Float64Array
}

/**
 * Nonlinear-CG state; `step` mutates its buffers.
 *
 * @category models
 * @since 0.1.0
 */
export interface NonlinearCgState extends SmoothState {
  readonly beta: Beta
  readonly restartEvery: number
  readonly restartThreshold: number
  readonly lineSearch: Required<StrongWolfeOptions>
  readonly tolerance: number
  readonly functionTolerance: number
  xTrial: Float64Array
  gradientTrial: Float64Array
  readonly direction: Float64Array
  /** f at the previous iterate (for the first trial step). */
  previousValue: number
  /** Iterations since the last restart. */
  sinceRestart: number
  /** Restarts with −∇f over the run (not counting the first direction). */
  restarts: number
  lineSearchTrials: number
}

const NAME = "NonlinearCg"

const steepest = (state: NonlinearCgState): void => {
  const d = state.direction
  const g = state.gradient
  for (let i = 0; i < d.length; i++) d[i] = -g[i]!
}

/**
 * Nonlinear CG as a `Solver.IterativeSolver`.
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<
  NonlinearCgProblem,
  NonlinearCgOptions,
  NonlinearCgState,
  SolverOutput
> = {
  name: NAME,
  init: (problem, options) => {
    const beta = options.beta ?? defaultNonlinearCgOptions.beta
    if (beta !== "fletcherReeves" && beta !== "polakRibierePlus" && beta !== "hestenesStiefel") {
      throw invalid(NAME, "beta", beta, '"fletcherReeves", "polakRibierePlus" or "hestenesStiefel"')
    }
    const restartEvery = options.restartEvery ?? defaultNonlinearCgOptions.restartEvery
    if (typeof restartEvery !== "number" || !Number.isInteger(restartEvery) || restartEvery < 0) {
      throw invalid(NAME, "restartEvery", restartEvery, "an integer ≥ 0")
    }
    const restartThreshold =
      options.restartThreshold ?? (beta === "fletcherReeves" ? 0.2 : Number.POSITIVE_INFINITY)
    if (typeof restartThreshold !== "number" || !(restartThreshold >= 0)) {
      throw invalid(NAME, "restartThreshold", restartThreshold, "a number ≥ 0 (+∞ = never)")
    }
    const lineSearch = strongWolfeOptions(NAME, {
      ...defaultNonlinearCgOptions.lineSearch,
      ...options.lineSearch
    })
    const tol = tolerances(NAME, options, defaultNonlinearCgOptions)
    const { objective, x, gradient, value } = start(NAME, problem)
    const n = x.length
    const state: NonlinearCgState = {
      objective,
      beta,
      restartEvery,
      restartThreshold,
      lineSearch,
      ...tol,
      x,
      gradient,
      value,
      gradientNorm: infinityNorm(gradient),
      xTrial: Vector.zeros(n),
      gradientTrial: Vector.zeros(n),
      direction: Vector.zeros(n),
      // SciPy's start: f₋₁ = f₀ + ‖g₀‖₂/2, so α₀ = min(1, 1.01/‖g₀‖₂).
      previousValue: value + Blas1.nrm2(gradient) / 2,
      sinceRestart: 0,
      restarts: 0,
      lineSearchTrials: 0,
      end: undefined,
      message: undefined
    }
    steepest(state)
    if (state.gradientNorm <= tol.tolerance) {
      state.end = "converged"
      state.message = convergedMessage("gradient", state, tol.tolerance)
    }
    return state
  },
  step: (state) => {
    const d = state.direction
    let slope = Blas1.dot(state.gradient, d)
    let alongGradient = state.sinceRestart === 0
    if (!(slope < 0) && !alongGradient) {
      steepest(state)
      state.restarts++
      state.sinceRestart = 0
      alongGradient = true
      slope = Blas1.dot(state.gradient, d)
    }
    for (;;) {
      const ratio = (1.01 * 2 * (state.value - state.previousValue)) / slope
      const initialStep = ratio > 0 && Number.isFinite(ratio) ? Math.min(1, ratio) : 1
      const phi = restriction(state.objective, state.x, d, state.xTrial, state.gradientTrial)
      const search = strongWolfeWith(phi, state.value, slope, {
        ...state.lineSearch,
        initialStep: Math.min(Math.max(initialStep, state.lineSearch.minStep), state.lineSearch.maxStep)
      })
      state.lineSearchTrials += search.trials
      if (acceptableStep(search)) {
        const previous = state.value
        state.previousValue = previous
        acceptTrial(state, search.value)
        nextDirection(state)
        if (state.gradientNorm <= state.tolerance) {
          state.end = "converged"
          state.message = convergedMessage("gradient", state, state.tolerance)
        } else if (
          state.functionTolerance > 0 &&
          smallDecrease(previous, state.value, state.functionTolerance)
        ) {
          state.end = "converged"
          state.message = convergedMessage("decrease", state, state.functionTolerance)
        }
        return state
      }
      if (alongGradient) {
        // Non-finite trials all the way down: the objective is NaN or ±∞
        // along the only direction left; x is the last finite iterate.
        state.end = search.termination === "nonFinite" ? "diverged" : "stalled"
        state.message = `line search along −∇f ended with ${search.termination} after ${search.trials} trials (gradient norm ${state.gradientNorm.toExponential(2)})`
        return state
      }
      steepest(state)
      state.restarts++
      state.sinceRestart = 0
      alongGradient = true
      slope = Blas1.dot(state.gradient, d)
    }
  },
  status: smoothStatus,
  residual: smoothResidual,
  metrics: (state) => ({
    objective: state.value,
    gradientNorm: state.gradientNorm,
    restarts: state.restarts
  }),
  output: smoothOutput
}

/**
 * After an accepted step (`gradient` = gₖ₊₁, `gradientTrial` = gₖ,
 * `direction` = dₖ): writes dₖ₊₁ into `direction`.
 */
const nextDirection = (state: NonlinearCgState): void => {
  const g = state.gradient
  const gOld = state.gradientTrial
  const d = state.direction
  const n = g.length
  let gg = 0
  let gOldgOld = 0
  let ggOld = 0
  let dy = 0
  for (let i = 0; i < n; i++) {
    const gi = g[i]!
    const oi = gOld[i]!
    gg += gi * gi
    gOldgOld += oi * oi
    ggOld += gi * oi
    dy += d[i]! * (gi - oi)
  }
  const gy = gg - ggOld
  let beta: number
  switch (state.beta) {
    case "fletcherReeves":
      beta = gg / gOldgOld
      break
    case "polakRibierePlus":
      beta = Math.max(0, gy / gOldgOld)
      break
    case "hestenesStiefel":
      beta = gy / dy
      break
  }
  state.sinceRestart++
  const periodic = state.restartEvery > 0 && state.sinceRestart >= state.restartEvery
  const powell = Math.abs(ggOld) >= state.restartThreshold * gg
  if (periodic || powell || !Number.isFinite(beta)) beta = 0
  let slope = 0
  for (let i = 0; i < n; i++) {
    const di = -g[i]! + beta * d[i]!
    d[i] = di
    slope += di * g[i]!
  }
  if (beta === 0 || slope > -SUFFICIENT_DESCENT * gg) {
    if (beta !== 0) for (let i = 0; i < n; i++) d[i] = -g[i]!
    state.restarts++
    state.sinceRestart = 0
  }
}

/**
 * Minimizes `objective` from `x0` by nonlinear conjugate gradients.
 *
 * @example
 * const result = NonlinearCg.minimize(objective, x0, { beta: "hestenesStiefel" })
 * @throws DimensionMismatch when `x0` does not have the objective's dimension.
 * @throws NonFiniteInput when `x0`, f(x0) or ∇f(x0) has a NaN or ±∞.
 * @throws InvalidOptions when an option is out of range.
 * @category solvers
 * @since 0.1.0
 */
export const minimize = (
  objective: Objective.Objective,
  x0: Float64Array,
  options: NonlinearCgOptions = {}
): MinimizeResult => runSolver(solver, { objective, x0 }, options)
