/**
 * Trust-region Newton–CG: minimizes a smooth f with gradients and
 * Hessian-vector products, solving each trust-region subproblem
 *
 *   min_p m(p) = f(xₖ) + ∇f(xₖ)ᵀp + ½·pᵀ∇²f(xₖ)p   subject to ‖p‖₂ ≤ Δₖ
 *
 * approximately by the Steihaug–Toint truncated conjugate gradient method:
 * CG from p = 0, stopped at the boundary when a step leaves the region or a
 * direction of non-positive curvature appears (then moving along it to the
 * boundary), or when ‖∇m(p)‖₂ ≤ min(0.5, √‖∇f‖₂)·‖∇f‖₂. The step is accepted
 * when the ratio ρ = (f(xₖ) − f(xₖ + p))/(m(0) − m(p)) exceeds η, and the
 * radius is updated by ρ: quartered when ρ < ¼, doubled (up to Δ_max) when
 * ρ > ¾ and the step reached the boundary.
 *
 * References: Nocedal & Wright, *Numerical Optimization*, 2nd ed. (2006),
 * Alg. 7.2 (CG–Steihaug) and Alg. 4.1 (trust region); Steihaug, "The
 * conjugate gradient method and trust regions in large scale optimization",
 * *SIAM J. Numer. Anal.* 20 (1983); Toint, "Towards an efficient sparsity
 * exploiting Newton method for minimization" (1981).
 *
 * @since 0.1.0
 */
import { Blas1, Objective, type Solver, Vector } from "@descent/core"
import { allFinite, type HessianOperator, hessianOperator, infNorm } from "./internal/secondOrder.ts"
import { invalid, requireNonNegative, requirePositive, requirePositiveInteger } from "./internal/validate.ts"
import {
  checkStart,
  evaluateStart,
  type MinimizeOptions,
  type MinimizeResult,
  runSolver,
  type SolverOutput
} from "./Minimize.ts"

/**
 * Options of the trust-region Newton–CG method.
 *
 * @category models
 * @since 0.1.0
 */
export interface TrustRegionNcgOptions extends MinimizeOptions {
  /** Stop when ‖∇f(x)‖∞ ≤ tolerance (≥ 0). Default 1e-5. */
  readonly tolerance?: number
  /** Δ₀ > 0, the initial radius. Default 1 (SciPy's). */
  readonly initialRadius?: number
  /** Δ_max ≥ Δ₀, the largest radius. Default 1000 (SciPy's). */
  readonly maxRadius?: number
  /** η ∈ [0, ¼): accept the step when ρ > η. Default 0.15 (SciPy's). */
  readonly acceptance?: number
  /** Inner CG budget per outer iteration, times the dimension. Default 20. */
  readonly innerIterationsPerDimension?: number
  /**
   * The run ends as `stalled` when the radius falls below this fraction of
   * 1 + ‖x‖₂ (no representable step can make progress). Default 1e-15.
   */
  readonly minRadius?: number
}

/**
 * Defaults of `TrustRegionNcgOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultTrustRegionNcgOptions = {
  maxIterations: 1000,
  tolerance: 1e-5,
  initialRadius: 1,
  maxRadius: 1000,
  acceptance: 0.15,
  innerIterationsPerDimension: 20,
  minRadius: 1e-15
} as const

/**
 * The problem: an objective and a starting point.
 *
 * @category models
 * @since 0.1.0
 */
export interface TrustRegionNcgProblem {
  readonly objective: Objective.Objective
  readonly x0: Float64Array
}

/**
 * A trust-region Newton–CG result.
 *
 * @category models
 * @since 0.1.0
 */
export interface TrustRegionNcgResult extends MinimizeResult {
  /** The final trust radius Δ. */
  readonly radius: number
  /** CG iterations over the whole run. */
  readonly innerIterations: number
  /** Outer iterations whose step was rejected (ρ ≤ η). */
  readonly rejectedSteps: number
  /** True when the objective's exact Hessian-vector product was used (else finite differences). */
  readonly exactHessian: boolean
}

/**
 * Trust-region Newton–CG output (before `runSolver` adds status, iterations and trace).
 *
 * @category models
 * @since 0.1.0
 */
export type TrustRegionNcgOutput = SolverOutput & Omit<TrustRegionNcgResult, keyof MinimizeResult>

/**
 * Trust-region Newton–CG state; `x`, `gradient`, `value` are the last
 * accepted (finite) iterate.
 *
 * @category models
 * @since 0.1.0
 */
export interface TrustRegionNcgState {
  readonly objective: Objective.MeteredObjective
  readonly hessian: HessianOperator
  readonly tolerance: number
  readonly maxRadius: number
  readonly acceptance: number
  readonly minRadius: number
  readonly maxInner: number
  x: Float64Array
  gradient: Float64Array
  xTrial: Float64Array
  gradientTrial: Float64Array
  /** The subproblem step p. */
  readonly step: Float64Array
  /** ∇m(p) = g + B·p. */
  readonly residual: Float64Array
  readonly conjugate: Float64Array
  readonly product: Float64Array
  value: number
  gradientNorm: number
  radius: number
  innerIterations: number
  rejectedSteps: number
  end: "stalled" | "diverged" | undefined
  message: string | undefined
}

const NAME = "TrustRegionNcg"

/** A hundred units of rounding of f's value (relative): the noise level of actual and predicted decreases. */
const FUNCTION_NOISE = 100 * Number.EPSILON

/** τ ≥ 0 with ‖z + τ·d‖₂ = Δ (the positive root; ‖z‖ ≤ Δ). */
const boundaryStep = (z: Float64Array, d: Float64Array, radius: number): number => {
  const a = Blas1.dot(d, d)
  const b = Blas1.dot(z, d)
  const c = Blas1.dot(z, z) - radius * radius
  // Positive root of a·τ² + 2b·τ + c = 0 (c ≤ 0), in the cancellation-free form.
  const disc = Math.sqrt(Math.max(b * b - a * c, 0))
  return b >= 0 ? -c / (b + disc) : (disc - b) / a
}

/**
 * Steihaug–Toint CG (Nocedal–Wright Alg. 7.2) into `state.step`, leaving
 * ∇m(p) = g + B·p in `state.residual`. Returns whether p is on the boundary.
 */
const steihaug = (state: TrustRegionNcgState): boolean => {
  const { x, gradient: g, step: z, residual: r, conjugate: d, product: bd, radius } = state
  const gNorm = Blas1.nrm2(g)
  const tolerance = Math.min(0.5, Math.sqrt(gNorm)) * gNorm
  z.fill(0)
  Blas1.copy(g, r)
  Blas1.copy(g, d)
  Blas1.scal(-1, d)
  let rr = gNorm * gNorm
  for (let j = 0; j < state.maxInner; j++) {
    state.hessian.apply(x, g, d, bd)
    state.innerIterations++
    const curvature = Blas1.dot(d, bd)
    if (!(curvature > 0)) {
      // Move along the direction of non-positive curvature to the boundary.
      const tau = Number.isNaN(curvature) ? 0 : boundaryStep(z, d, radius)
      Blas1.axpy(tau, d, z)
      Blas1.axpy(tau, bd, r)
      return true
    }
    const alpha = rr / curvature
    // Would the full CG step leave the region? ‖z + α·d‖² > Δ².
    const zz = Blas1.dot(z, z)
    const zd = Blas1.dot(z, d)
    const dd = Blas1.dot(d, d)
    if (zz + alpha * (2 * zd + alpha * dd) >= radius * radius) {
      const tau = boundaryStep(z, d, radius)
      Blas1.axpy(tau, d, z)
      Blas1.axpy(tau, bd, r)
      return true
    }
    Blas1.axpy(alpha, d, z)
    Blas1.axpy(alpha, bd, r)
    const rrNext = Blas1.dot(r, r)
    if (Math.sqrt(rrNext) <= tolerance) return false
    Blas1.axpby(-1, r, rrNext / rr, d)
    rr = rrNext
  }
  return false
}

/**
 * Trust-region Newton–CG as a `Solver.IterativeSolver`.
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<
  TrustRegionNcgProblem,
  TrustRegionNcgOptions,
  TrustRegionNcgState,
  TrustRegionNcgOutput
> = {
  name: NAME,
  init: (problem, options) => {
    const d = defaultTrustRegionNcgOptions
    const tolerance = requireNonNegative(NAME, "tolerance", options.tolerance ?? d.tolerance)
    const initialRadius = requirePositive(NAME, "initialRadius", options.initialRadius ?? d.initialRadius)
    const maxRadius = requirePositive(NAME, "maxRadius", options.maxRadius ?? d.maxRadius)
    if (maxRadius < initialRadius)
      throw invalid(NAME, "maxRadius", maxRadius, `at least initialRadius = ${initialRadius}`)
    const acceptance = options.acceptance ?? d.acceptance
    if (typeof acceptance !== "number" || !(acceptance >= 0 && acceptance < 0.25))
      throw invalid(NAME, "acceptance", acceptance, "a number in [0, 0.25)")
    const perDimension = requirePositiveInteger(
      NAME,
      "innerIterationsPerDimension",
      options.innerIterationsPerDimension ?? d.innerIterationsPerDimension
    )
    const minRadius = requireNonNegative(NAME, "minRadius", options.minRadius ?? d.minRadius)
    const objective = Objective.meter(problem.objective)
    const x = checkStart(NAME, objective, problem.x0)
    const n = x.length
    const gradient = Vector.zeros(n)
    const value = evaluateStart(NAME, objective, x, gradient)
    return {
      objective,
      hessian: hessianOperator(objective),
      tolerance,
      maxRadius,
      acceptance,
      minRadius,
      maxInner: perDimension * Math.max(n, 1),
      x,
      gradient,
      xTrial: Vector.zeros(n),
      gradientTrial: Vector.zeros(n),
      step: Vector.zeros(n),
      residual: Vector.zeros(n),
      conjugate: Vector.zeros(n),
      product: Vector.zeros(n),
      value,
      gradientNorm: infNorm(gradient),
      radius: initialRadius,
      innerIterations: 0,
      rejectedSteps: 0,
      end: undefined,
      message: undefined
    }
  },
  step: (state) => {
    const onBoundary = steihaug(state)
    const { x, gradient: g, step: p, residual: r } = state
    // m(p) − m(0) = gᵀp + ½pᵀBp = ½(gᵀp + (g + Bp)ᵀp).
    const predicted = -0.5 * (Blas1.dot(g, p) + Blas1.dot(r, p))
    Blas1.copy(x, state.xTrial)
    Blas1.axpy(1, p, state.xTrial)
    const trial = state.objective.valueAndGradient(state.xTrial, state.gradientTrial)
    if (Number.isNaN(trial) || trial === Number.NEGATIVE_INFINITY) {
      state.end = "diverged"
      state.message = "the objective became NaN or −∞ at a trial point; x is the last finite iterate"
      return state
    }
    // ρ with both decreases shifted by the rounding level of f (Conn, Gould &
    // Toint, *Trust-Region Methods* (2000) §17.4.2): near a minimizer, where
    // both are at rounding level, ρ → 1 instead of a ratio of noise.
    const noise = FUNCTION_NOISE * Math.abs(state.value)
    const actual = state.value - trial + noise
    const shifted = predicted + noise
    const rho = shifted > 0 ? actual / shifted : actual > 0 ? 1 : Number.NEGATIVE_INFINITY
    // An accepted step never increases f beyond its rounding level, and then
    // only when it reduces the gradient (progress f cannot resolve).
    const accept =
      rho > state.acceptance &&
      (trial <= state.value ||
        (trial - state.value <= noise && infNorm(state.gradientTrial) < state.gradientNorm))
    if (rho < 0.25 || !accept) state.radius *= 0.25
    else if (rho > 0.75 && onBoundary) state.radius = Math.min(2 * state.radius, state.maxRadius)
    if (accept) {
      if (!allFinite(state.gradientTrial)) {
        state.end = "diverged"
        state.message = "the gradient became NaN or infinite; x is the last finite iterate"
        return state
      }
      const xOld = state.x
      state.x = state.xTrial
      state.xTrial = xOld
      const gOld = state.gradient
      state.gradient = state.gradientTrial
      state.gradientTrial = gOld
      state.value = trial
      state.gradientNorm = infNorm(state.gradient)
    } else {
      state.rejectedSteps++
      if (state.radius < state.minRadius * (1 + Blas1.nrm2(state.x))) {
        state.end = "stalled"
        state.message = `trust radius ${state.radius.toExponential(2)} too small to make progress (gradient norm ${state.gradientNorm.toExponential(2)})`
      }
    }
    return state
  },
  status: (state) =>
    state.end === "stalled" ? "stalled" : state.gradientNorm <= state.tolerance ? "converged" : undefined,
  residual: (state) => (state.end === "diverged" ? Number.NaN : state.gradientNorm),
  metrics: (state) => ({
    objective: state.value,
    gradientNorm: state.gradientNorm,
    radius: state.radius,
    innerIterations: state.innerIterations
  }),
  output: (state) => ({
    x: Vector.clone(state.x),
    fun: state.value,
    gradient: Vector.clone(state.gradient),
    gradientNorm: state.gradientNorm,
    counts: { ...state.objective.counts },
    radius: state.radius,
    innerIterations: state.innerIterations,
    rejectedSteps: state.rejectedSteps,
    exactHessian: state.hessian.exact,
    ...(state.message === undefined ? {} : { message: state.message })
  })
}

/**
 * Minimizes `objective` from `x0` by trust-region Newton–CG (Steihaug–Toint).
 *
 * @example
 * const result = TrustRegionNcg.minimize(objective, Vector.fromArray([-1.2, 1]), { tolerance: 1e-10 })
 * @throws DimensionMismatch when `x0` does not have the objective's dimension.
 * @throws NonFiniteInput when `x0`, f(x0) or ∇f(x0) has a NaN or ±∞.
 * @throws InvalidOptions when an option is out of range (e.g. maxRadius < initialRadius).
 * @category solvers
 * @since 0.1.0
 */
export const minimize = (
  objective: Objective.Objective,
  x0: Float64Array,
  options: TrustRegionNcgOptions = {}
): TrustRegionNcgResult => runSolver(solver, { objective, x0 }, options) as TrustRegionNcgResult
