/**
 * Gradient descent for a smooth f: xₖ₊₁ = xₖ − αₖ·∇f(xₖ), with a fixed step
 * αₖ = `stepSize` (converges for convex f with an L-Lipschitz gradient when
 * α < 2/L), or, by default, a backtracking Armijo line search
 * (`LineSearch.backtracking`) that starts each iteration from the previous
 * accepted step times `stepGrowth`, so the step adapts to the local
 * curvature in both directions.
 *
 * Stops when ‖∇f(x)‖∞ ≤ `tolerance` (`converged`), or when the relative
 * decrease (fₖ − fₖ₊₁)/max(|fₖ|, |fₖ₊₁|, 1) ≤ `functionTolerance` (off by
 * default). With a fixed step, an iterate where f or ∇f is NaN or ±∞ ends
 * the run as `diverged` and the result holds the last finite iterate; with
 * the line search such a trial only shrinks the step, and a search that
 * finds no decrease ends the run as `stalled`.
 *
 * @since 0.1.0
 */
import { Blas1, type Objective, type Solver, Vector } from "@descent/core"
import {
  acceptTrial,
  allFinite,
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
import { invalid, requirePositive } from "./internal/validate.ts"
import { type BacktrackingOptions, backtrackingOptions, backtrackingWith, restriction } from "./LineSearch.ts"
import { type MinimizeOptions, type MinimizeResult, runSolver, type SolverOutput } from "./Minimize.ts"

/**
 * Options of gradient descent.
 *
 * @category models
 * @since 0.1.0
 */
export interface GradientDescentOptions extends MinimizeOptions {
  /** A fixed step size α > 0; when set, no line search is done. Default: unset (line search). */
  readonly stepSize?: number
  /** The backtracking search (first trial of the first iteration, c₁, shrink factor, trials). */
  readonly lineSearch?: BacktrackingOptions
  /** Each later search starts from the previous accepted step times this (≥ 1). Default 2. */
  readonly stepGrowth?: number
  /** Stop when ‖∇f(x)‖∞ ≤ tolerance (≥ 0). Default 1e-5. */
  readonly tolerance?: number
  /** Stop when the relative decrease of f is ≤ this (≥ 0; 0 turns the test off). Default 0. */
  readonly functionTolerance?: number
}

/**
 * Defaults of `GradientDescentOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultGradientDescentOptions = {
  maxIterations: 1000,
  stepGrowth: 2,
  tolerance: 1e-5,
  functionTolerance: 0
} as const

/**
 * The problem: an objective and a starting point.
 *
 * @category models
 * @since 0.1.0
 */
export interface GradientDescentProblem {
  readonly objective: Objective.Objective
  readonly x0: Float64Array
}

/**
 * Gradient-descent state; `step` mutates its buffers. `x`, `gradient` and
 * `value` always describe the last finite iterate.
 *
 * @category models
 * @since 0.1.0
 */
export interface GradientDescentState extends SmoothState {
  readonly fixedStep: number | undefined
  readonly lineSearch: Required<BacktrackingOptions>
  readonly stepGrowth: number
  readonly tolerance: number
  readonly functionTolerance: number
  xTrial: Float64Array
  gradientTrial: Float64Array
  readonly direction: Float64Array
  /** The last accepted step size (the first trial of the next search, before growth). */
  lastStep: number
  /** Line-search trials over the run. */
  lineSearchTrials: number
}

const NAME = "GradientDescent"

/**
 * Gradient descent as a `Solver.IterativeSolver`.
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<
  GradientDescentProblem,
  GradientDescentOptions,
  GradientDescentState,
  SolverOutput
> = {
  name: NAME,
  init: (problem, options) => {
    const fixedStep =
      options.stepSize === undefined ? undefined : requirePositive(NAME, "stepSize", options.stepSize)
    const lineSearch = backtrackingOptions(NAME, options.lineSearch)
    const stepGrowth = options.stepGrowth ?? defaultGradientDescentOptions.stepGrowth
    if (typeof stepGrowth !== "number" || !(stepGrowth >= 1) || !Number.isFinite(stepGrowth)) {
      throw invalid(NAME, "stepGrowth", stepGrowth, "a finite number ≥ 1")
    }
    const tol = tolerances(NAME, options, defaultGradientDescentOptions)
    const { objective, x, gradient, value } = start(NAME, problem)
    const n = x.length
    const state: GradientDescentState = {
      objective,
      fixedStep,
      lineSearch,
      stepGrowth,
      ...tol,
      x,
      gradient,
      value,
      gradientNorm: 0,
      xTrial: Vector.zeros(n),
      gradientTrial: Vector.zeros(n),
      direction: Vector.zeros(n),
      lastStep: lineSearch.initialStep / stepGrowth,
      lineSearchTrials: 0,
      end: undefined,
      message: undefined
    }
    state.gradientNorm = infinityNorm(gradient)
    if (state.gradientNorm <= tol.tolerance) {
      state.end = "converged"
      state.message = convergedMessage("gradient", state, tol.tolerance)
    }
    return state
  },
  step: (state) => {
    const d = state.direction
    const g = state.gradient
    for (let i = 0; i < d.length; i++) d[i] = -g[i]!
    const previous = state.value
    if (state.fixedStep !== undefined) {
      Blas1.copy(state.x, state.xTrial)
      Blas1.axpy(state.fixedStep, d, state.xTrial)
      const value = state.objective.valueAndGradient(state.xTrial, state.gradientTrial)
      if (!Number.isFinite(value) || !allFinite(state.gradientTrial)) {
        state.end = "diverged"
        state.message = `f or ∇f became NaN or infinite with the fixed step ${state.fixedStep}; x is the last finite iterate`
        return state
      }
      acceptTrial(state, value)
    } else {
      const phi = restriction(state.objective, state.x, d, state.xTrial, state.gradientTrial)
      const search = backtrackingWith(phi, state.value, -Blas1.dot(g, g), {
        ...state.lineSearch,
        initialStep: state.lastStep * state.stepGrowth
      })
      state.lineSearchTrials += search.trials
      if (search.termination !== "armijo") {
        // A search that only met NaN or ±∞ reports divergence (x is the last finite iterate).
        state.end = search.termination === "nonFinite" ? "diverged" : "stalled"
        state.message = `line search ended with ${search.termination} after ${search.trials} trials (gradient norm ${state.gradientNorm.toExponential(2)})`
        return state
      }
      state.lastStep = search.step
      acceptTrial(state, search.value)
    }
    if (state.gradientNorm <= state.tolerance) {
      state.end = "converged"
      state.message = convergedMessage("gradient", state, state.tolerance)
    } else if (
      state.functionTolerance > 0 &&
      state.value <= previous &&
      smallDecrease(previous, state.value, state.functionTolerance)
    ) {
      state.end = "converged"
      state.message = convergedMessage("decrease", state, state.functionTolerance)
    }
    return state
  },
  status: smoothStatus,
  residual: smoothResidual,
  metrics: (state) => ({ objective: state.value, gradientNorm: state.gradientNorm, step: state.lastStep }),
  output: smoothOutput
}

/**
 * Minimizes `objective` from `x0` by gradient descent.
 *
 * @example
 * const result = GradientDescent.minimize(objective, x0, { tolerance: 1e-8 })
 * @throws DimensionMismatch when `x0` does not have the objective's dimension.
 * @throws NonFiniteInput when `x0`, f(x0) or ∇f(x0) has a NaN or ±∞.
 * @throws InvalidOptions when an option is out of range.
 * @category solvers
 * @since 0.1.0
 */
export const minimize = (
  objective: Objective.Objective,
  x0: Float64Array,
  options: GradientDescentOptions = {}
): MinimizeResult => runSolver(solver, { objective, x0 }, options)
