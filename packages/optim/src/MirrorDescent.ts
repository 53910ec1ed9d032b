/**
 * Entropic mirror descent (exponentiated gradient) on the simplex
 * Δ_r = {x ≥ 0, Σx = r}: minimizes a convex f over probability-like vectors
 * with multiplicative updates, no projection.
 *
 * Mirror descent with the negative-entropy mirror map ψ(x) = Σ xᵢ log xᵢ
 * replaces the Euclidean proximity term of projected gradient by the
 * Kullback–Leibler divergence; on the simplex the step has the closed form
 *
 *   xₖ₊₁,ᵢ = r · xₖ,ᵢ·exp(−ηₖ ∂ᵢf(xₖ)) / Σⱼ xₖ,ⱼ·exp(−ηₖ ∂ⱼf(xₖ)),
 *
 * computed in the log domain (logits ← logits − ηₖ∇f, x = r·softmax(logits)),
 * which never overflows. With ηₖ ∝ √(2 log n)/(L∞·√k) the weighted average
 * x̄ₖ = Σ ηⱼxⱼ / Σ ηⱼ satisfies f(x̄ₖ) − f* = O(L∞·√(log n / k)) for
 * Lipschitz f (‖∂f‖∞ ≤ L∞) — the log n dependence, against √n for projected
 * subgradient, is the point of the entropic geometry.
 *
 * The step size is a number, a `Schedules.Schedule` or a function of the
 * iteration (0-based). The run stops on the simplex duality gap
 * ⟨∇f(x), x⟩ − r·minᵢ ∂ᵢf(x) ≥ f(x) − f* (the Frank–Wolfe gap of Δ_r).
 *
 * References: Nemirovski & Yudin, *Problem Complexity and Method Efficiency
 * in Optimization* (1983); Beck & Teboulle, "Mirror descent and nonlinear
 * projected subgradient methods for convex optimization", *Oper. Res. Lett.*
 * 31(3) (2003); Kivinen & Warmuth, "Exponentiated gradient versus gradient
 * descent for linear predictors", *Inform. Comput.* 132 (1997).
 *
 * @since 0.1.0
 */
import { Blas1, Elementwise, Errors, Objective, Reductions, type Solver, Vector } from "@descent/core"
import { allFinite } from "./internal/secondOrder.ts"
import { invalid, requireNonNegative, requirePositive, requireStepSize } from "./internal/validate.ts"
import {
  checkStart,
  evaluateStart,
  type MinimizeOptions,
  type MinimizeResult,
  runSolver,
  type SolverOutput
} from "./Minimize.ts"
import { type StepSize, stepSizeAt } from "./Transforms.ts"

/**
 * Options of entropic mirror descent.
 *
 * @category models
 * @since 0.1.0
 */
export interface MirrorDescentOptions extends MinimizeOptions {
  /** ηₖ: a number, a `Schedules.Schedule` or a function of k (0-based), ≥ 0. Default 1. */
  readonly stepSize?: StepSize
  /** r > 0, the simplex's total mass. Default 1. */
  readonly radius?: number
  /** Stop when the simplex duality gap is ≤ tolerance (≥ 0). Default 1e-6. */
  readonly tolerance?: number
}

/**
 * Defaults of `MirrorDescentOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultMirrorDescentOptions = {
  maxIterations: 1000,
  stepSize: 1,
  radius: 1,
  tolerance: 1e-6
} as const

/**
 * The problem: an objective over the simplex and a start, a non-negative
 * vector with positive sum (rescaled to mass r; zero entries stay zero).
 *
 * @category models
 * @since 0.1.0
 */
export interface MirrorDescentProblem {
  readonly objective: Objective.Objective
  readonly x0: Float64Array
}

/**
 * The result of entropic mirror descent; `gradientNorm` is the duality gap too.
 *
 * @category models
 * @since 0.1.0
 */
export interface MirrorDescentResult extends MinimizeResult {
  /** The simplex duality gap ⟨∇f(x), x⟩ − r·min ∂ᵢf(x) at x. */
  readonly dualityGap: number
  /** The step-weighted average Σ ηₖxₖ / Σ ηₖ of the iterates x₀ … x_{K−1} (x₀ when no step was taken). */
  readonly average: Float64Array
}

/**
 * Mirror-descent output (before `runSolver` adds status, iterations and trace).
 *
 * @category models
 * @since 0.1.0
 */
export type MirrorDescentOutput = SolverOutput & Omit<MirrorDescentResult, keyof MinimizeResult>

/**
 * State of entropic mirror descent; `x`, `gradient`, `value` are the last
 * finite iterate, `logits` its log-weights (x = r·softmax(logits)).
 *
 * @category models
 * @since 0.1.0
 */
export interface MirrorDescentState {
  readonly objective: Objective.MeteredObjective
  readonly stepSize: StepSize
  readonly radius: number
  readonly tolerance: number
  x: Float64Array
  gradient: Float64Array
  logits: Float64Array
  xTrial: Float64Array
  gradientTrial: Float64Array
  logitsTrial: Float64Array
  readonly average: Float64Array
  weightSum: number
  value: number
  dualityGap: number
  iteration: number
  end: "diverged" | undefined
  message: string | undefined
}

const NAME = "MirrorDescent"

const simplexGap = (x: Float64Array, g: Float64Array, radius: number): number =>
  Blas1.dot(g, x) - radius * Reductions.min(g)

/**
 * Entropic mirror descent as a `Solver.IterativeSolver`.
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<
  MirrorDescentProblem,
  MirrorDescentOptions,
  MirrorDescentState,
  MirrorDescentOutput
> = {
  name: NAME,
  init: (problem, options) => {
    const d = defaultMirrorDescentOptions
    const stepSize = requireStepSize(NAME, "stepSize", options.stepSize ?? d.stepSize)
    const radius = requirePositive(NAME, "radius", options.radius ?? d.radius)
    const tolerance = requireNonNegative(NAME, "tolerance", options.tolerance ?? d.tolerance)
    const objective = Objective.meter(problem.objective)
    const x = checkStart(NAME, objective, problem.x0)
    const n = x.length
    if (n === 0) throw new Errors.EmptyInput({ operation: NAME, what: "x0" })
    for (let i = 0; i < n; i++) if (x[i]! < 0) throw invalid(NAME, `x0[${i}]`, x[i], "a non-negative entry")
    const mass = Blas1.asum(x)
    if (!(mass > 0)) throw invalid(NAME, "x0", mass, "a vector with positive sum")
    Blas1.scal(radius / mass, x)
    const logits = Vector.zeros(n)
    for (let i = 0; i < n; i++) logits[i] = Math.log(x[i]!)
    const gradient = Vector.zeros(n)
    const value = evaluateStart(NAME, objective, x, gradient)
    return {
      objective,
      stepSize,
      radius,
      tolerance,
      x,
      gradient,
      logits,
      xTrial: Vector.zeros(n),
      gradientTrial: Vector.zeros(n),
      logitsTrial: Vector.zeros(n),
      average: Vector.clone(x),
      weightSum: 0,
      value,
      dualityGap: simplexGap(x, gradient, radius),
      iteration: 0,
      end: undefined,
      message: undefined
    }
  },
  step: (state) => {
    const eta = stepSizeAt(state.stepSize, state.iteration)
    if (!(eta >= 0) || !Number.isFinite(eta)) {
      state.end = "diverged"
      state.message = `the step size at iteration ${state.iteration} is ${eta}; x is the last finite iterate`
      return state
    }
    // Running step-weighted average of x₀ … x_k.
    state.weightSum += eta
    if (state.weightSum > 0)
      Blas1.axpby(eta / state.weightSum, state.x, 1 - eta / state.weightSum, state.average)
    // logits ← logits − η∇f, recentred at max 0; x = r·softmax(logits).
    const { logitsTrial, xTrial } = state
    Blas1.copy(state.logits, logitsTrial)
    Blas1.axpy(-eta, state.gradient, logitsTrial)
    Elementwise.addScalar(logitsTrial, -Reductions.max(logitsTrial), logitsTrial)
    Reductions.softmax(logitsTrial, xTrial)
    Blas1.scal(state.radius, xTrial)
    const value = state.objective.valueAndGradient(xTrial, state.gradientTrial)
    state.iteration++
    if (!Number.isFinite(value) || !allFinite(state.gradientTrial) || !allFinite(xTrial)) {
      state.end = "diverged"
      state.message = "the objective or its gradient became NaN or infinite; x is the last finite iterate"
      return state
    }
    const x = state.x
    state.x = xTrial
    state.xTrial = x
    const g = state.gradient
    state.gradient = state.gradientTrial
    state.gradientTrial = g
    const l = state.logits
    state.logits = logitsTrial
    state.logitsTrial = l
    state.value = value
    state.dualityGap = simplexGap(state.x, state.gradient, state.radius)
    return state
  },
  status: (state) => (state.dualityGap <= state.tolerance ? "converged" : undefined),
  residual: (state) => (state.end === "diverged" ? Number.NaN : Math.max(state.dualityGap, 0)),
  metrics: (state) => ({ objective: state.value, dualityGap: state.dualityGap }),
  output: (state) => ({
    x: Vector.clone(state.x),
    fun: state.value,
    gradient: Vector.clone(state.gradient),
    gradientNorm: Math.max(state.dualityGap, 0),
    counts: { ...state.objective.counts },
    dualityGap: state.dualityGap,
    average: Vector.clone(state.average),
    ...(state.message === undefined ? {} : { message: state.message })
  })
}

/**
 * Minimizes `objective` over the simplex of mass `radius` by entropic mirror
 * descent (exponentiated gradient) from `x0` (rescaled to that mass).
 *
 * @example
 * const result = MirrorDescent.minimize(objective, Vector.full(n, 1 / n), { stepSize: 0.5, tolerance: 1e-8 })
 * @throws DimensionMismatch when `x0` does not have the objective's dimension.
 * @throws NonFiniteInput when `x0`, f(x0) or ∇f(x0) has a NaN or ±∞.
 * @throws InvalidOptions when `x0` has a negative entry or zero sum, or an option is out of range.
 * @throws EmptyInput when `x0` is empty.
 * @category solvers
 * @since 0.1.0
 */
export const minimize = (
  objective: Objective.Objective,
  x0: Float64Array,
  options: MirrorDescentOptions = {}
): MirrorDescentResult => runSolver(solver, { objective, x0 }, options) as MirrorDescentResult
