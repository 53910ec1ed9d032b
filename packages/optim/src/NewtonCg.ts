/**
 * Truncated Newton (Newton–CG, "Hessian-free" Newton): minimizes a smooth f
 * using only gradients and Hessian-vector products.
 *
 * Each outer iteration approximately solves the Newton system
 * ∇²f(xₖ)·d = −∇f(xₖ) by conjugate gradients started at d = 0, stopped when
 *
 *   ‖∇²f(xₖ)·d + ∇f(xₖ)‖₂ ≤ ηₖ·‖∇f(xₖ)‖₂,   ηₖ = min(0.5, √‖∇f(xₖ)‖₂)
 *
 * (an Eisenstat–Walker-style forcing sequence that gives superlinear local
 * convergence, as in SciPy's `Newton-CG`), or when a direction of
 * non-positive curvature pᵀ∇²f·p ≤ 0 appears: then the CG iterate so far is
 * used, or −∇f(xₖ) if it is the first direction. A backtracking Armijo line
 * search from the unit step then sets xₖ₊₁ = xₖ + αₖ·dₖ.
 *
 * The Hessian-vector product is the objective's `hessianVectorProduct` (e.g.
 * from core's `Autodiff.hvp`); without one, a forward difference of gradients.
 *
 * References: Nocedal & Wright, *Numerical Optimization*, 2nd ed. (2006),
 * Alg. 7.1 (line-search Newton–CG); Dembo, Eisenstat & Steihaug, "Inexact
 * Newton methods", *SIAM J. Numer. Anal.* 19 (1982); Eisenstat & Walker,
 * "Choosing the forcing terms in an inexact Newton method", *SIAM J. Sci.
 * Comput.* 17 (1996).
 *
 * @since 0.1.0
 */
import { Blas1, Objective, type Solver, Vector } from "@descent/core"
import { type ArmijoOutcome, armijo, makeOutcome } from "./internal/armijo.ts"
import { allFinite, type HessianOperator, hessianOperator, infNorm } from "./internal/secondOrder.ts"
import { invalid, requireNonNegative, requirePositiveInteger } from "./internal/validate.ts"
import {
  checkStart,
  evaluateStart,
  type MinimizeOptions,
  type MinimizeResult,
  runSolver,
  type SolverOutput
} from "./Minimize.ts"

/**
 * Options of Newton–CG.
 *
 * @category models
 * @since 0.1.0
 */
export interface NewtonCgOptions extends MinimizeOptions {
  /** Stop when ‖∇f(x)‖∞ ≤ tolerance (≥ 0). Default 1e-5. */
  readonly tolerance?: number
  /** Inner CG budget per outer iteration, times the dimension (SciPy's 20·n). Default 20. */
  readonly innerIterationsPerDimension?: number
  /** Armijo constant c₁ ∈ (0, 1): accept f(x + αd) ≤ f(x) + c₁·α·∇fᵀd. Default 1e-4. */
  readonly sufficientDecrease?: number
  /** Line-search trials per iteration before the run ends as `stalled`. Default 40. */
  readonly maxLineSearchTrials?: number
}

/**
 * Defaults of `NewtonCgOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultNewtonCgOptions = {
  maxIterations: 1000,
  tolerance: 1e-5,
  innerIterationsPerDimension: 20,
  sufficientDecrease: 1e-4,
  maxLineSearchTrials: 40
} as const

/**
 * The problem: an objective and a starting point.
 *
 * @category models
 * @since 0.1.0
 */
export interface NewtonCgProblem {
  readonly objective: Objective.Objective
  readonly x0: Float64Array
}

/**
 * A Newton–CG result: `MinimizeResult` plus the inner-solver totals.
 *
 * @category models
 * @since 0.1.0
 */
export interface NewtonCgResult extends MinimizeResult {
  /** CG iterations over the whole run. */
  readonly innerIterations: number
  /** Outer iterations whose CG met non-positive curvature. */
  readonly negativeCurvatureSteps: number
  /** True when the objective's exact Hessian-vector product was used (else finite differences). */
  readonly exactHessian: boolean
}

/**
 * Newton–CG output (before `runSolver` adds status, iterations and trace).
 *
 * @category models
 * @since 0.1.0
 */
export type NewtonCgOutput = SolverOutput & Omit<NewtonCgResult, keyof MinimizeResult>

/**
 * Newton–CG state. `step` mutates the buffers; `x`, `gradient`, `value` are
 * always the last finite iterate.
 *
 * @category models
 * @since 0.1.0
 */
export interface NewtonCgState {
  readonly objective: Objective.MeteredObjective
  readonly hessian: HessianOperator
  readonly tolerance: number
  readonly maxInner: number
  readonly sufficientDecrease: number
  readonly maxTrials: number
  x: Float64Array
  gradient: Float64Array
  xTrial: Float64Array
  gradientTrial: Float64Array
  readonly direction: Float64Array
  readonly residual: Float64Array
  readonly conjugate: Float64Array
  readonly product: Float64Array
  readonly outcome: ArmijoOutcome
  value: number
  gradientNorm: number
  innerIterations: number
  negativeCurvatureSteps: number
  /** Set when the run must end: line-search failure or a non-finite trial. */
  end: "stalled" | "diverged" | undefined
  message: string | undefined
}

const NAME = "NewtonCg"

const requireFraction = (field: string, value: number): number => {
  if (typeof value !== "number" || !(value > 0 && value < 1))
    throw invalid(NAME, field, value, "a number in (0, 1)")
  return value
}

/**
 * Solves ∇²f·d = −g approximately by CG (Nocedal–Wright Alg. 7.1, inner
 * loop) into `state.direction`; returns the number of CG iterations.
 */
const newtonDirection = (state: NewtonCgState): number => {
  const { x, gradient: g, direction: z, residual: r, conjugate: p, product: hp } = state
  const gNorm = Blas1.nrm2(g)
  const forcing = Math.min(0.5, Math.sqrt(gNorm)) * gNorm
  z.fill(0)
  Blas1.copy(g, r)
  Blas1.copy(g, p)
  Blas1.scal(-1, p)
  let rr = gNorm * gNorm
  let j = 0
  for (; j < state.maxInner; j++) {
    state.hessian.apply(x, g, p, hp)
    const curvature = Blas1.dot(p, hp)
    if (!(curvature > 0)) {
      // Non-positive (or NaN) curvature: keep the CG iterate, or take −g first.
      state.negativeCurvatureSteps++
      if (j === 0) {
        Blas1.copy(g, z)
        Blas1.scal(-1, z)
      }
      return j + 1
    }
    const alpha = rr / curvature
    Blas1.axpy(alpha, p, z)
    Blas1.axpy(alpha, hp, r)
    const rrNext = Blas1.dot(r, r)
    if (Math.sqrt(rrNext) <= forcing) return j + 1
    Blas1.axpby(-1, r, rrNext / rr, p)
    rr = rrNext
  }
  return j
}

/**
 * Newton–CG as a `Solver.IterativeSolver`.
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<NewtonCgProblem, NewtonCgOptions, NewtonCgState, NewtonCgOutput> =
  {
    name: NAME,
    init: (problem, options) => {
      const tolerance = requireNonNegative(
        NAME,
        "tolerance",
        options.tolerance ?? defaultNewtonCgOptions.tolerance
      )
      const perDimension = requirePositiveInteger(
        NAME,
        "innerIterationsPerDimension",
        options.innerIterationsPerDimension ?? defaultNewtonCgOptions.innerIterationsPerDimension
      )
      const sufficientDecrease = requireFraction(
        "sufficientDecrease",
        options.sufficientDecrease ?? defaultNewtonCgOptions.sufficientDecrease
      )
      const maxTrials = requirePositiveInteger(
        NAME,
        "maxLineSearchTrials",
        options.maxLineSearchTrials ?? defaultNewtonCgOptions.maxLineSearchTrials
      )
      const objective = Objective.meter(problem.objective)
      const x = checkStart(NAME, objective, problem.x0)
      const n = x.length
      const gradient = Vector.zeros(n)
      const value = evaluateStart(NAME, objective, x, gradient)
      return {
        objective,
        hessian: hessianOperator(objective),
        tolerance,
        maxInner: perDimension * Math.max(n, 1),
        sufficientDecrease,
        maxTrials,
        x,
        gradient,
        xTrial: Vector.zeros(n),
        gradientTrial: Vector.zeros(n),
        direction: Vector.zeros(n),
        residual: Vector.zeros(n),
        conjugate: Vector.zeros(n),
        product: Vector.zeros(n),
        outcome: makeOutcome(),
        value,
        gradientNorm: infNorm(gradient),
        innerIterations: 0,
        negativeCurvatureSteps: 0,
        end: undefined,
        message: undefined
      }
    },
    step: (state) => {
      state.innerIterations += newtonDirection(state)
      let slope = Blas1.dot(state.gradient, state.direction)
      if (!(slope < 0)) {
        // Rounding made the CG direction non-descent: fall back to −∇f.
        Blas1.copy(state.gradient, state.direction)
        Blas1.scal(-1, state.direction)
        slope = -Blas1.dot(state.gradient, state.gradient)
      }
      const outcome = armijo(
        state.objective,
        state.x,
        state.value,
        slope,
        state.direction,
        state.xTrial,
        state.gradientTrial,
        { initialStep: 1, sufficientDecrease: state.sufficientDecrease, maxTrials: state.maxTrials },
        state.outcome
      )
      if (outcome.kind === "nonFinite" || (outcome.kind === "accepted" && !allFinite(state.gradientTrial))) {
        state.end = "diverged"
        state.message = `the objective or its gradient became NaN or infinite at step ${outcome.step.toExponential(2)}; x is the last finite iterate`
        return state
      }
      if (
        outcome.kind === "failed" ||
        (outcome.value > state.value && !(infNorm(state.gradientTrial) < state.gradientNorm))
      ) {
        // No sufficient decrease; or f rose by rounding-level noise without a
        // smaller gradient (the relaxed Armijo test admits such steps only as
        // progress f cannot resolve).
        state.end = "stalled"
        state.message = `line search found no sufficient decrease in ${outcome.trials} trials (gradient norm ${state.gradientNorm.toExponential(2)})`
        return state
      }
      if (outcome.step * infNorm(state.direction) <= Number.EPSILON * infNorm(state.x)) {
        // The accepted step no longer changes x in floating point.
        state.end = "stalled"
        state.message = `the step fell below the rounding level of x (gradient norm ${state.gradientNorm.toExponential(2)})`
        return state
      }
      const x = state.x
      state.x = state.xTrial
      state.xTrial = x
      const g = state.gradient
      state.gradient = state.gradientTrial
      state.gradientTrial = g
      state.value = outcome.value
      state.gradientNorm = infNorm(state.gradient)
      return state
    },
    status: (state) =>
      state.end === "stalled" ? "stalled" : state.gradientNorm <= state.tolerance ? "converged" : undefined,
    residual: (state) => (state.end === "diverged" ? Number.NaN : state.gradientNorm),
    metrics: (state) => ({
      objective: state.value,
      gradientNorm: state.gradientNorm,
      innerIterations: state.innerIterations
    }),
    output: (state) => ({
      x: Vector.clone(state.x),
      fun: state.value,
      gradient: Vector.clone(state.gradient),
      gradientNorm: state.gradientNorm,
      counts: { ...state.objective.counts },
      innerIterations: state.innerIterations,
      negativeCurvatureSteps: state.negativeCurvatureSteps,
      exactHessian: state.hessian.exact,
      ...(state.message === undefined ? {} : { message: state.message })
    })
  }

/**
 * Minimizes `objective` from `x0` by Newton–CG with an Armijo line search.
 *
 * @example
 * const result = NewtonCg.minimize(objective, Vector.fromArray([-1.2, 1]), { tolerance: 1e-10 })
 * @throws DimensionMismatch when `x0` does not have the objective's dimension.
 * @throws NonFiniteInput when `x0`, f(x0) or ∇f(x0) has a NaN or ±∞.
 * @throws InvalidOptions when an option is out of range.
 * @category solvers
 * @since 0.1.0
 */
export const minimize = (
  objective: Objective.Objective,
  x0: Float64Array,
  options: NewtonCgOptions = {}
): NewtonCgResult => runSolver(solver, { objective, x0 }, options) as NewtonCgResult
