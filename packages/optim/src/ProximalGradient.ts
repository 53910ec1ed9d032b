/**
 * Proximal gradient methods for composite problems
 *
 *   min_x F(x) = f(x) + g(x),
 *
 * f smooth (an `Objective`), g closed convex with a cheap proximal operator
 * (a `Prox.Prox`: ℓ1, group lasso, nuclear norm, indicator of a box,
 * simplex, ball…).
 *
 * - ISTA (proximal gradient): x_{k+1} = p_L(x_k), where
 *   p_L(y) = prox_{g/L}(y − ∇f(y)/L).
 * - FISTA (Beck & Teboulle 2009): x_{k+1} = p_L(y_k),
 *   t_{k+1} = (1 + √(1 + 4t_k²))/2, y_{k+1} = x_{k+1} + ((t_k − 1)/t_{k+1})(x_{k+1} − x_k),
 *   an O(1/k²) rate instead of O(1/k); optionally with adaptive restart
 *   (O'Donoghue & Candès 2015): momentum is reset (t = 1, y = x) when
 *   F(x_{k+1}) > F(x_k) ("functionValue") or when
 *   (y_k − x_{k+1})ᵀ(x_{k+1} − x_k) > 0 ("gradient"), which recovers linear
 *   convergence under strong convexity without knowing its modulus.
 *
 * The step 1/L is either fixed (`lipschitz`, a Lipschitz constant of ∇f) or
 * found by backtracking (Beck & Teboulle §4): L is multiplied by
 * `backtrackingFactor` until
 *
 *   f(p) ≤ f(y) + ∇f(y)ᵀ(p − y) + (L/2)‖p − y‖²,   p = p_L(y).
 *
 * The run stops when the gradient mapping G_L(y) = L·(y − p_L(y)) — zero
 * exactly at minimizers of F — has ‖G_L(y)‖∞ ≤ tolerance.
 *
 * References: Beck & Teboulle, "A fast iterative shrinkage-thresholding
 * algorithm for linear inverse problems", *SIAM J. Imaging Sci.* 2(1) (2009);
 * O'Donoghue & Candès, "Adaptive restart for accelerated gradient schemes",
 * *Found. Comput. Math.* 15 (2015); Parikh & Boyd, "Proximal Algorithms" (2014) §4.
 *
 * @since 0.1.0
 */
import { Blas1, Objective, type Solver, Vector } from "@descent/core"
import { allFinite, infNorm } from "./internal/secondOrder.ts"
import { invalid, requireNonNegative, requirePositive, requirePositiveInteger } from "./internal/validate.ts"
import {
  checkStart,
  evaluateStart,
  type MinimizeOptions,
  type MinimizeResult,
  runSolver,
  type SolverOutput
} from "./Minimize.ts"
import type { Prox } from "./Prox.ts"

/**
 * Momentum restart rule of FISTA (O'Donoghue & Candès 2015): none, when the
 * composite objective increases, or when the momentum points against the
 * gradient mapping.
 *
 * @category models
 * @since 0.1.0
 */
export type Restart = "none" | "functionValue" | "gradient"

/**
 * Options of ISTA and FISTA.
 *
 * @category models
 * @since 0.1.0
 */
export interface ProximalGradientOptions extends MinimizeOptions {
  /** Stop when the gradient mapping has ‖G_L(y)‖∞ ≤ tolerance (≥ 0). Default 1e-6. */
  readonly tolerance?: number
  /** A Lipschitz constant L of ∇f: the fixed step 1/L, no backtracking. Default: none (backtracking). */
  readonly lipschitz?: number
  /** The first estimate of L when backtracking (> 0). Default 1. */
  readonly initialLipschitz?: number
  /** η > 1: L ← η·L when the sufficient-decrease test fails. Default 2. */
  readonly backtrackingFactor?: number
  /** Backtracking trials per iteration before the run ends as `stalled`. Default 60. */
  readonly maxBacktracks?: number
  /** FISTA's restart rule (ignored by ISTA). Default "none" (Beck–Teboulle's FISTA). */
  readonly restart?: Restart
}

/**
 * Defaults of `ProximalGradientOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultProximalGradientOptions = {
  maxIterations: 1000,
  tolerance: 1e-6,
  initialLipschitz: 1,
  backtrackingFactor: 2,
  maxBacktracks: 60,
  restart: "none"
} as const

/**
 * A composite problem f + g from a starting point.
 *
 * @category models
 * @since 0.1.0
 */
export interface CompositeProblem {
  /** The smooth part f. */
  readonly objective: Objective.Objective
  /** The nonsmooth part g, by its proximal operator. */
  readonly regularizer: Prox
  readonly x0: Float64Array
}

/**
 * The result of ISTA/FISTA. `fun` is F(x) = f(x) + g(x), `gradient` is
 * ∇f(x), `gradientNorm` is ‖G_L‖∞, the gradient-mapping norm the run stopped on.
 *
 * @category models
 * @since 0.1.0
 */
export interface ProximalGradientResult extends MinimizeResult {
  /** f(x), the smooth part. */
  readonly smoothValue: number
  /** g(x), the regularizer. */
  readonly regularizerValue: number
  /** The final L (the step is 1/L). */
  readonly lipschitz: number
  /** Momentum restarts performed (FISTA). */
  readonly restarts: number
}

/**
 * ISTA/FISTA output (before `runSolver` adds status, iterations and trace).
 *
 * @category models
 * @since 0.1.0
 */
export type ProximalGradientOutput = SolverOutput & Omit<ProximalGradientResult, keyof MinimizeResult>

/**
 * State of ISTA/FISTA. `x` and `smoothValue` are always the last finite
 * iterate; `y` is the extrapolated point (= x for ISTA).
 *
 * @category models
 * @since 0.1.0
 */
export interface ProximalGradientState {
  readonly objective: Objective.MeteredObjective
  readonly regularizer: Prox
  readonly accelerated: boolean
  readonly restart: Restart
  readonly tolerance: number
  readonly fixedStep: boolean
  readonly backtrackingFactor: number
  readonly maxBacktracks: number
  x: Float64Array
  xPrevious: Float64Array
  readonly y: Float64Array
  readonly gradientY: Float64Array
  /** Whether f(y), ∇f(y) are current. */
  yEvaluated: boolean
  valueY: number
  /** Scratch: the forward step y − ∇f(y)/L, then p − y. */
  readonly work: Float64Array
  /** f(x). */
  smoothValue: number
  /** g(x). */
  regularizerValue: number
  lipschitz: number
  momentum: number
  restarts: number
  mappingNorm: number
  end: "stalled" | "diverged" | undefined
  message: string | undefined
}

/** Rounding level of f (relative) admitted by the sufficient-decrease test. */
const FUNCTION_NOISE = 100 * Number.EPSILON

/** out ← prox_{g/L}(y − ∇f(y)/L); `work` ← out − y. Returns ‖out − y‖∞. */
const proxStep = (
  regularizer: Prox,
  y: Float64Array,
  gradient: Float64Array,
  lipschitz: number,
  out: Float64Array,
  work: Float64Array
): number => {
  Blas1.copy(y, work)
  Blas1.axpy(-1 / lipschitz, gradient, work)
  regularizer.prox(work, 1 / lipschitz, out)
  Blas1.copy(out, work)
  Blas1.axpy(-1, y, work)
  return infNorm(work)
}

const makeSolver = (
  name: string,
  accelerated: boolean
): Solver.IterativeSolver<
  CompositeProblem,
  ProximalGradientOptions,
  ProximalGradientState,
  ProximalGradientOutput
> => ({
  name,
  init: (problem, options) => {
    const d = defaultProximalGradientOptions
    const tolerance = requireNonNegative(name, "tolerance", options.tolerance ?? d.tolerance)
    const fixedStep = options.lipschitz !== undefined
    const lipschitz = fixedStep
      ? requirePositive(name, "lipschitz", options.lipschitz!)
      : requirePositive(name, "initialLipschitz", options.initialLipschitz ?? d.initialLipschitz)
    const backtrackingFactor = options.backtrackingFactor ?? d.backtrackingFactor
    if (
      typeof backtrackingFactor !== "number" ||
      !(backtrackingFactor > 1) ||
      !Number.isFinite(backtrackingFactor)
    )
      throw invalid(name, "backtrackingFactor", backtrackingFactor, "a finite number > 1")
    const maxBacktracks = requirePositiveInteger(
      name,
      "maxBacktracks",
      options.maxBacktracks ?? d.maxBacktracks
    )
    const restart = options.restart ?? d.restart
    if (restart !== "none" && restart !== "functionValue" && restart !== "gradient")
      throw invalid(name, "restart", restart, `"none", "functionValue" or "gradient"`)
    const objective = Objective.meter(problem.objective)
    const x = checkStart(name, objective, problem.x0)
    const n = x.length
    const gradientY = Vector.zeros(n)
    const smoothValue = evaluateStart(name, objective, x, gradientY)
    const regularizerValue = problem.regularizer.value(x)
    const y = Vector.clone(x)
    const work = Vector.zeros(n)
    const probe = Vector.zeros(n)
    // The gradient mapping at x0 with the initial L: a meaningful first residual.
    const mappingNorm = lipschitz * proxStep(problem.regularizer, y, gradientY, lipschitz, probe, work)
    return {
      objective,
      regularizer: problem.regularizer,
      accelerated,
      restart,
      tolerance,
      fixedStep,
      backtrackingFactor,
      maxBacktracks,
      x,
      xPrevious: probe,
      y,
      gradientY,
      yEvaluated: true,
      valueY: smoothValue,
      work,
      smoothValue,
      regularizerValue,
      lipschitz,
      momentum: 1,
      restarts: 0,
      mappingNorm: Number.isFinite(mappingNorm) ? mappingNorm : Number.MAX_VALUE,
      end: undefined,
      message: undefined
    }
  },
  step: (state) => {
    const { objective, regularizer, y, gradientY, work } = state
    if (!state.yEvaluated) {
      state.valueY = objective.valueAndGradient(y, gradientY)
      state.yEvaluated = true
      if (!Number.isFinite(state.valueY) || !allFinite(gradientY)) {
        state.end = "diverged"
        state.message =
          "f or ∇f became NaN or infinite at the extrapolated point; x is the last finite iterate"
        return state
      }
    }
    // x_{k+1} = p_L(y_k) into xPrevious (which becomes x after the swap).
    const next = state.xPrevious
    let stepNorm = 0
    let valueNext = 0
    let accepted = false
    for (let trial = 0; trial < state.maxBacktracks; trial++) {
      stepNorm = proxStep(regularizer, y, gradientY, state.lipschitz, next, work)
      valueNext = objective.value(next)
      if (
        Number.isNaN(valueNext) ||
        valueNext === Number.NEGATIVE_INFINITY ||
        (state.fixedStep && !Number.isFinite(valueNext))
      ) {
        state.end = "diverged"
        state.message = "f became NaN or infinite at a proximal step; x is the last finite iterate"
        return state
      }
      if (state.fixedStep) {
        accepted = true
        break
      }
      const dd = Blas1.dot(work, work)
      const bound =
        state.valueY +
        Blas1.dot(gradientY, work) +
        0.5 * state.lipschitz * dd +
        FUNCTION_NOISE * Math.abs(state.valueY)
      if (valueNext <= bound) {
        accepted = true
        break
      }
      state.lipschitz *= state.backtrackingFactor
    }
    if (!accepted) {
      state.end = "stalled"
      state.message = `no Lipschitz estimate up to ${state.lipschitz.toExponential(2)} passed the sufficient-decrease test`
      return state
    }
    state.mappingNorm = state.lipschitz * stepNorm
    const regularizerNext = regularizer.value(next)
    const previousTotal = state.smoothValue + state.regularizerValue
    // Swap: x ← x_{k+1}, xPrevious ← x_k.
    state.xPrevious = state.x
    state.x = next
    state.smoothValue = valueNext
    state.regularizerValue = regularizerNext
    if (!state.accelerated) {
      Blas1.copy(state.x, y)
      state.valueY = valueNext
      state.yEvaluated = false
      return state
    }
    // work = x_{k+1} − y_k; restart tests of O'Donoghue & Candès.
    let restart = false
    if (state.restart === "functionValue") restart = valueNext + regularizerNext > previousTotal
    else if (state.restart === "gradient") {
      // (y_k − x_{k+1})ᵀ(x_{k+1} − x_k) > 0; y ← x_{k+1} − x_k as scratch.
      Blas1.copy(state.x, y)
      Blas1.axpy(-1, state.xPrevious, y)
      restart = -Blas1.dot(work, y) > 0
    }
    if (restart) {
      state.momentum = 1
      state.restarts++
      Blas1.copy(state.x, y)
    } else {
      const t = state.momentum
      const tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2
      const beta = (t - 1) / tNext
      state.momentum = tNext
      // y = x_{k+1} + β(x_{k+1} − x_k) = (1 + β)x_{k+1} − β·x_k.
      Blas1.copy(state.xPrevious, y)
      Blas1.axpby(1 + beta, state.x, -beta, y)
    }
    state.yEvaluated = false
    return state
  },
  status: (state) =>
    state.end === "stalled" ? "stalled" : state.mappingNorm <= state.tolerance ? "converged" : undefined,
  residual: (state) => (state.end === "diverged" ? Number.NaN : state.mappingNorm),
  metrics: (state) => ({
    objective: state.smoothValue + state.regularizerValue,
    mappingNorm: state.mappingNorm,
    lipschitz: state.lipschitz
  }),
  output: (state) => {
    const gradient = Vector.zeros(state.x.length)
    state.objective.valueAndGradient(state.x, gradient)
    return {
      x: Vector.clone(state.x),
      fun: state.smoothValue + state.regularizerValue,
      gradient,
      gradientNorm: state.mappingNorm,
      counts: { ...state.objective.counts },
      smoothValue: state.smoothValue,
      regularizerValue: state.regularizerValue,
      lipschitz: state.lipschitz,
      restarts: state.restarts,
      ...(state.message === undefined ? {} : { message: state.message })
    }
  }
})

/**
 * ISTA (proximal gradient with backtracking) as a `Solver.IterativeSolver`.
 *
 * @category solvers
 * @since 0.1.0
 */
export const istaSolver = makeSolver("Ista", false)

/**
 * FISTA (accelerated proximal gradient, optional adaptive restart) as a `Solver.IterativeSolver`.
 *
 * @category solvers
 * @since 0.1.0
 */
export const fistaSolver = makeSolver("Fista", true)

/**
 * Minimizes f + g from `x0` by ISTA (proximal gradient), O(1/k).
 *
 * @example
 * const result = ProximalGradient.ista(leastSquares, Prox.l1(0.1), Vector.zeros(n), { tolerance: 1e-8 })
 * @throws DimensionMismatch when `x0` does not have the objective's dimension.
 * @throws NonFiniteInput when `x0`, f(x0) or ∇f(x0) has a NaN or ±∞.
 * @throws InvalidOptions when an option is out of range.
 * @category solvers
 * @since 0.1.0
 */
export const ista = (
  objective: Objective.Objective,
  regularizer: Prox,
  x0: Float64Array,
  options: ProximalGradientOptions = {}
): ProximalGradientResult =>
  runSolver(istaSolver, { objective, regularizer, x0 }, options) as ProximalGradientResult

/**
 * Minimizes f + g from `x0` by FISTA (Beck & Teboulle 2009), O(1/k²), with
 * optional adaptive restart (`restart`).
 *
 * @example
 * const result = ProximalGradient.fista(leastSquares, Prox.l1(0.1), Vector.zeros(n), { restart: "gradient" })
 * @throws DimensionMismatch when `x0` does not have the objective's dimension.
 * @throws NonFiniteInput when `x0`, f(x0) or ∇f(x0) has a NaN or ±∞.
 * @throws InvalidOptions when an option is out of range.
 * @category solvers
 * @since 0.1.0
 */
export const fista = (
  objective: Objective.Objective,
  regularizer: Prox,
  x0: Float64Array,
  options: ProximalGradientOptions = {}
): ProximalGradientResult =>
  runSolver(fistaSolver, { objective, regularizer, x0 }, options) as ProximalGradientResult
