/**
 * The extragradient method and its single-call variant, the optimistic
 * gradient of Popov, for monotone inclusions 0 ∈ F(x) + N_C(x) with F
 * monotone and L-Lipschitz (C a box, or ℝⁿ) — convex-concave saddle points,
 * where plain gradient descent–ascent diverges.
 *
 * Extragradient (Korpelevich, "The extragradient method for finding saddle
 * points and other problems", Ekonomika i Mat. Metody 12, 1976): a trial
 * step, then the real step with the operator at the trial point,
 *
 *   x̄_k = P_C(x_k − η·F(x_k)),   x_{k+1} = P_C(x_k − η·F(x̄_k)),
 *
 * converging for η < 1/L (linearly when F is strongly monotone, or for a
 * bilinear F with nonsingular A). Two evaluations of F per iteration.
 *
 * Optimistic / past extragradient (Popov, "A modification of the Arrow–
 * Hurwicz method for search of saddle points", Math. Notes 28, 1980): the
 * trial step reuses the operator value of the previous trial point,
 *
 *   x̄_k = P_C(x_k − η·F(x̄_{k−1})),   x_{k+1} = P_C(x_k − η·F(x̄_k)),
 *
 * one evaluation of F per iteration, converging for η < 1/(3L) (Popov's
 * condition). Unconstrained, x̄ follows the optimistic gradient recursion
 * x̄_{k+1} = x̄_k − 2η·F(x̄_k) + η·F(x̄_{k−1}) (Daskalakis et al. 2018).
 *
 * The residual is the natural residual ‖x − P_C(x − F(x))‖₂ (‖F(x)‖₂
 * without bounds), zero exactly at solutions. Extragradient reports it at
 * x_k (F(x_k) is needed for the next trial step anyway); Popov's method at
 * the trial point x̄_k, whose F it has, and returns x̄_k. `counts.operator`
 * counts evaluations of F.
 *
 * @since 0.1.0
 */
import { Blas1, Errors, type Solver, Vector } from "@descent/core"
import { stepSizeOrDefault } from "./internal/stochastic.ts"
import { requireNonNegative } from "./internal/validate.ts"
import { type Bounds, makeBounds, projectOntoBounds } from "./Minimize.ts"
import {
  assertOperator,
  checkStart,
  type InclusionCounts,
  type InclusionOptions,
  type InclusionOutput,
  type InclusionResult,
  inclusionDefaults,
  naturalResidual,
  type Operator,
  runInclusion
} from "./MonotoneOperator.ts"

/**
 * Options of extragradient and Popov's method.
 *
 * @category models
 * @since 0.1.0
 */
export interface ExtragradientOptions extends InclusionOptions {
  /**
   * η > 0. Default 1/(2L) for extragradient and 1/(4L) for Popov's method,
   * L = `operator.lipschitz` (required when the operator has none).
   */
  readonly stepSize?: number
  /** Lower bounds of the box C (a number for every coordinate, or an array; −∞ for none). Default −∞. */
  readonly lower?: number | ArrayLike<number>
  /** Upper bounds of the box C (a number or an array; +∞ for none). Default +∞. */
  readonly upper?: number | ArrayLike<number>
}

/**
 * Defaults: the step sizes as multiples of 1/L, and the shared options.
 *
 * @category constants
 * @since 0.1.0
 */
export const extragradientDefaults = {
  ...inclusionDefaults,
  extragradientStepSizeTimesLipschitz: 0.5,
  optimisticStepSizeTimesLipschitz: 0.25
} as const

/**
 * State of both methods: `x` the base iterate, `trial` the trial point x̄,
 * `fx` F(x) (extragradient) and `fTrial` F(x̄).
 *
 * @category models
 * @since 0.1.0
 */
export interface ExtragradientState {
  readonly operator: Operator
  readonly counts: InclusionCounts
  readonly stepSize: number
  readonly tolerance: number
  readonly bounds: Bounds | undefined
  x: Float64Array
  fx: Float64Array
  trial: Float64Array
  fTrial: Float64Array
  next: Float64Array
  fNext: Float64Array
  readonly work: Float64Array
  residual: number
  diverged: boolean
}

type Problem = { readonly operator: Operator; readonly x0: Float64Array }

const init = (op: string, factor: number, { operator, x0 }: Problem, options: ExtragradientOptions) => {
  assertOperator(op, operator)
  const n = operator.dimension
  const x = checkStart(op, n, x0)
  const tolerance = requireNonNegative(op, "tolerance", options.tolerance ?? extragradientDefaults.tolerance)
  const stepSize = stepSizeOrDefault(op, options.stepSize, operator.lipschitz, factor, "lipschitz")
  const bounds =
    options.lower === undefined && options.upper === undefined
      ? undefined
      : makeBounds(op, n, options.lower, options.upper)
  if (bounds !== undefined) projectOntoBounds(x, bounds)
  const counts: InclusionCounts = { operator: 0, component: 0 }
  const fx = Vector.zeros(n)
  operator.apply(x, fx)
  counts.operator++
  const bad = Vector.findNonFinite(fx)
  if (bad >= 0) throw new Errors.NonFiniteInput({ operation: op, what: "F(x0)", index: bad, value: fx[bad]! })
  const work = Vector.zeros(n)
  return {
    operator,
    counts,
    stepSize,
    tolerance,
    bounds,
    x,
    fx,
    trial: Vector.clone(x),
    fTrial: Vector.clone(fx),
    next: Vector.zeros(n),
    fNext: Vector.zeros(n),
    work,
    residual: naturalResidual(x, fx, bounds, work),
    diverged: false
  }
}

/** out ← P_C(x − η·g). */
const projectedStep = (
  x: Float64Array,
  eta: number,
  g: Float64Array,
  bounds: Bounds | undefined,
  out: Float64Array
) => {
  Blas1.copy(x, out)
  Blas1.axpy(-eta, g, out)
  if (bounds !== undefined) projectOntoBounds(out, bounds)
}

const common = {
  status: (state: ExtragradientState): Solver.Status | undefined =>
    state.residual <= state.tolerance ? "converged" : undefined,
  residual: (state: ExtragradientState): number => (state.diverged ? Number.NaN : state.residual),
  metrics: (state: ExtragradientState): Solver.Metrics => ({ residual: state.residual })
}

/**
 * Korpelevich's extragradient method as a solver of core's protocol; the
 * residual and the returned point are x_k.
 *
 * @category solvers
 * @since 0.1.0
 */
export const extragradient: Solver.IterativeSolver<
  Problem,
  ExtragradientOptions,
  ExtragradientState,
  InclusionOutput
> = {
  name: "Extragradient",
  init: (problem, options) =>
    init("Extragradient", extragradientDefaults.extragradientStepSizeTimesLipschitz, problem, options),
  step: (state) => {
    const { operator, stepSize: eta, bounds, x, fx, trial, fTrial, next, fNext } = state
    projectedStep(x, eta, fx, bounds, trial)
    operator.apply(trial, fTrial)
    projectedStep(x, eta, fTrial, bounds, next)
    operator.apply(next, fNext)
    state.counts.operator += 2
    if (
      Vector.findNonFinite(fTrial) >= 0 ||
      Vector.findNonFinite(next) >= 0 ||
      Vector.findNonFinite(fNext) >= 0
    ) {
      state.diverged = true
      return state
    }
    state.x = next
    state.fx = fNext
    state.next = x
    state.fNext = fx
    state.residual = naturalResidual(state.x, state.fx, bounds, state.work)
    return state
  },
  ...common,
  output: (state) => ({ x: Vector.clone(state.x), residual: state.residual, counts: { ...state.counts } })
}

/**
 * Popov's optimistic (past-extragradient) method as a solver of core's
 * protocol; the residual and the returned point are the trial point x̄_k.
 *
 * @category solvers
 * @since 0.1.0
 */
export const optimistic: Solver.IterativeSolver<
  Problem,
  ExtragradientOptions,
  ExtragradientState,
  InclusionOutput
> = {
  name: "OptimisticGradient",
  init: (problem, options) =>
    init("OptimisticGradient", extragradientDefaults.optimisticStepSizeTimesLipschitz, problem, options),
  step: (state) => {
    const { operator, stepSize: eta, bounds, x, trial, fTrial, next, fNext } = state
    // x̄_k = P(x_k − η·F(x̄_{k−1})), then F(x̄_k), then x_{k+1} = P(x_k − η·F(x̄_k)).
    const newTrial = state.fx
    projectedStep(x, eta, fTrial, bounds, newTrial)
    operator.apply(newTrial, fNext)
    state.counts.operator++
    if (Vector.findNonFinite(newTrial) >= 0 || Vector.findNonFinite(fNext) >= 0) {
      state.diverged = true
      return state
    }
    projectedStep(x, eta, fNext, bounds, next)
    // Rotate buffers: x ← next, trial ← newTrial, fTrial ← fNext; free buffers become scratch.
    state.x = next
    state.next = x
    state.trial = newTrial
    state.fx = trial
    state.fTrial = fNext
    state.fNext = fTrial
    state.residual = naturalResidual(state.trial, state.fTrial, bounds, state.work)
    return state
  },
  ...common,
  output: (state) => ({ x: Vector.clone(state.trial), residual: state.residual, counts: { ...state.counts } })
}

/**
 * Solves 0 ∈ F(x) + N_C(x) with Korpelevich's extragradient method from
 * `x0` (projected onto the box first, if any), until the natural residual
 * ‖x − P_C(x − F(x))‖₂ ≤ tolerance. Two F evaluations per iteration. A NaN
 * or ±∞ in F ends the run as `diverged` with the last finite iterate.
 *
 * @example
 * const result = Extragradient.solve(MonotoneOperator.bilinearSaddle(A, p, q), z0, { tolerance: 1e-10 })
 * @throws DimensionMismatch when `x0` or a bound has the wrong length.
 * @throws NonFiniteInput when `x0` or F(x0) has a NaN or ±∞.
 * @throws InvalidOptions for an option out of range, a lower bound above an upper one, or no step size and no `operator.lipschitz`.
 * @category solvers
 * @since 0.1.0
 */
export const solve = (
  operator: Operator,
  x0: Float64Array,
  options: ExtragradientOptions = {}
): InclusionResult => runInclusion(extragradient, { operator, x0 }, options)

/**
 * Solves 0 ∈ F(x) + N_C(x) with Popov's optimistic gradient method from `x0`:
 * one F evaluation per iteration; the result's x is the last trial point x̄_k.
 *
 * @example
 * const result = Extragradient.solveOptimistic(F, x0, { stepSize: 0.2 / L })
 * @throws DimensionMismatch when `x0` or a bound has the wrong length.
 * @throws NonFiniteInput when `x0` or F(x0) has a NaN or ±∞.
 * @throws InvalidOptions for an option out of range, a lower bound above an upper one, or no step size and no `operator.lipschitz`.
 * @category solvers
 * @since 0.1.0
 */
export const solveOptimistic = (
  operator: Operator,
  x0: Float64Array,
  options: ExtragradientOptions = {}
): InclusionResult => runInclusion(optimistic, { operator, x0 }, options)
