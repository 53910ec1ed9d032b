/**
 * Zeroth-order (derivative-free) optimization: gradient ESTIMATES built from
 * function values only, fed to any gradient transform (`GradientTransform`,
 * e.g. `Optimizers.sgd`, `Optimizers.adam`, `Polyak.polyakSgd`) in place of
 * the gradient. Three estimators of ∇f(x):
 *
 * - `gaussianSmoothing` (Nesterov & Spokoiny, "Random Gradient-Free
 *   Minimization of Convex Functions", Found. Comput. Math. 17, 2017): with
 *   u ~ N(0, I) and smoothing μ > 0,
 *     forward:  g = (f(x + μu) − f(x))/μ · u,
 *     central:  g = (f(x + μu) − f(x − μu))/(2μ) · u,
 *   unbiased estimates of ∇f_μ(x), the gradient of the Gaussian smoothing
 *   f_μ(x) = E f(x + μu); for a quadratic f, ∇f_μ = ∇f, so both are
 *   unbiased for ∇f itself. Averaged over `directions` independent u.
 * - `coordinateDifferences`: deterministic finite differences along the
 *   coordinate axes, forward (f(x + hᵢeᵢ) − f(x))/hᵢ with error O(h) or
 *   central (f(x + hᵢeᵢ) − f(x − hᵢeᵢ))/(2hᵢ) with error O(h²), hᵢ = h·max(1, |xᵢ|)
 *   rounded so that x ± hᵢ is exact (the step actually taken).
 * - `spsa`, simultaneous perturbation (Spall, "Multivariate Stochastic
 *   Approximation Using a Simultaneous Perturbation Gradient Approximation",
 *   IEEE Trans. Autom. Control 37(3), 1992): with Rademacher Δ (±1 entries)
 *   and perturbation c > 0, gᵢ = (f(x + cΔ) − f(x − cΔ))/(2c·Δᵢ); two
 *   evaluations whatever the dimension; unbiased for quadratics.
 *
 * `minimize` runs any gradient transform with an estimator and returns a
 * `MinimizeResult` whose `counts.value` are the function evaluations
 * (`counts.gradient` stays 0: no gradient is ever evaluated).
 *
 * Randomness comes only from the key passed to `estimate`; `minimize`
 * estimates at its k-th point (x₀ is point 0) with `Random.foldIn(key, k)`,
 * so a run is bit-reproducible from its key. Estimators allocate their
 * buffers once, in `init`.
 *
 * @since 0.1.0
 */
import { Blas1, Elementwise, Errors, type Objective, Random, type Solver, Vector } from "@descent/core"
import { type GradientTransform, step as transformStep } from "./GradientTransform.ts"
import { allFinite, normInf, requireInteger, requireKey, requireOneOf } from "./internal/stochastic.ts"
import { invalid, requireNonNegative, requirePositive } from "./internal/validate.ts"
import {
  checkStart,
  type MinimizeOptions,
  type MinimizeResult,
  runSolver,
  type SolverOutput
} from "./Minimize.ts"

/**
 * A function f: ℝⁿ → ℝ known by its values (any `Objective` qualifies).
 *
 * @category models
 * @since 0.1.0
 */
export interface ValueOracle {
  /** n, the length of x. */
  readonly dimension: number
  /** f(x). */
  value(x: Float64Array): number
}

/**
 * A zeroth-order gradient estimator with workspace `W`.
 *
 * @category models
 * @since 0.1.0
 */
export interface GradientEstimator<W> {
  /** A stable identifier. */
  readonly name: string
  /** Function evaluations one `estimate` makes in dimension n (f(x) itself is passed in, not counted). */
  evaluations(dimension: number): number
  /** Buffers for dimension n, allocated once. */
  init(dimension: number): W
  /**
   * Writes the estimate of ∇f(x) into `out`. `fx` = f(x) (already known to
   * the caller; forward differences reuse it). The only randomness is drawn
   * from `key`. `x` is restored before returning.
   */
  estimate(
    f: (x: Float64Array) => number,
    x: Float64Array,
    fx: number,
    key: Random.Key,
    out: Float64Array,
    workspace: W
  ): void
}

/**
 * A one-sided (`"forward"`) or symmetric (`"central"`) difference.
 *
 * @category models
 * @since 0.1.0
 */
export type Difference = "forward" | "central"

/**
 * Options of `gaussianSmoothing`.
 *
 * @category models
 * @since 0.1.0
 */
export interface GaussianSmoothingOptions {
  /** μ > 0, the smoothing radius. Default 1e-6. */
  readonly smoothing?: number
  /** Independent directions averaged per estimate (≥ 1). Default 1. */
  readonly directions?: number
  /** `"forward"` (the paper's g_μ: 1 evaluation per direction) or `"central"` (ĝ_μ: 2). Default `"forward"`. */
  readonly difference?: Difference
}

/**
 * Options of `coordinateDifferences`.
 *
 * @category models
 * @since 0.1.0
 */
export interface CoordinateDifferencesOptions {
  /** `"forward"` (n evaluations, error O(h)) or `"central"` (2n, error O(h²)). Default `"central"`. */
  readonly difference?: Difference
  /**
   * h > 0, the relative step: coordinate i moves by h·max(1, |xᵢ|). Default
   * √ε ≈ 1.49e-8 for forward and ε^(1/3) ≈ 6.06e-6 for central differences
   * (ε = 2⁻⁵², balancing truncation and rounding error).
   */
  readonly step?: number
}

/**
 * Options of `spsa`.
 *
 * @category models
 * @since 0.1.0
 */
export interface SpsaOptions {
  /** c > 0, the perturbation size. Default 1e-4. */
  readonly perturbation?: number
  /** Independent perturbations averaged per estimate (≥ 1). Default 1. */
  readonly directions?: number
}

/**
 * Defaults of the estimators' options.
 *
 * @category constants
 * @since 0.1.0
 */
export const estimatorDefaults = {
  gaussianSmoothing: { smoothing: 1e-6, directions: 1, difference: "forward" },
  coordinateDifferences: {
    difference: "central",
    forwardStep: 1.4901161193847656e-8,
    centralStep: 6.055454452393343e-6
  },
  spsa: { perturbation: 1e-4, directions: 1 }
} as const

/**
 * Workspace of the random-direction estimators: the directions (one row of
 * `directions` per direction) as views of one buffer, and a trial point.
 *
 * @category models
 * @since 0.1.0
 */
export interface DirectionsWorkspace {
  readonly buffer: Float64Array
  readonly rows: ReadonlyArray<Float64Array>
  readonly trial: Float64Array
}

const directionsWorkspace = (dimension: number, directions: number): DirectionsWorkspace => {
  const buffer = Vector.zeros(dimension * directions)
  const rows: Float64Array[] = []
  for (let k = 0; k < directions; k++) rows.push(buffer.subarray(k * dimension, (k + 1) * dimension))
  return { buffer, rows, trial: Vector.zeros(dimension) }
}

/**
 * Two-point Gaussian-smoothing estimator (Nesterov & Spokoiny 2017): for
 * K = `directions` independent u_k ~ N(0, I) (`Random.normal` of `key`),
 *
 *   g = (1/K)·Σ_k (f(x + μu_k) − f(x))/μ · u_k            (forward),
 *   g = (1/K)·Σ_k (f(x + μu_k) − f(x − μu_k))/(2μ) · u_k   (central).
 *
 * E g = ∇f_μ(x), the gradient of f_μ(x) = E f(x + μu), with
 * ‖∇f_μ − ∇f‖ ≤ (μ/2)·L·(n + 3)^(3/2) for an L-smooth f (the paper's
 * Lemma 3); for a quadratic, ∇f_μ = ∇f exactly. Variance per coordinate about
 * ‖∇f‖²/K.
 *
 * @throws InvalidOptions when an option is out of range.
 * @category constructors
 * @since 0.1.0
 */
export const gaussianSmoothing = (
  options: GaussianSmoothingOptions = {}
): GradientEstimator<DirectionsWorkspace> => {
  const op = "ZerothOrder.gaussianSmoothing"
  const d = estimatorDefaults.gaussianSmoothing
  const mu = requirePositive(op, "smoothing", options.smoothing ?? d.smoothing)
  const directions = requireInteger(op, "directions", options.directions ?? d.directions, 1)
  const central =
    requireOneOf(op, "difference", options.difference ?? d.difference, ["forward", "central"]) === "central"
  return {
    name: central ? "gaussianSmoothingCentral" : "gaussianSmoothing",
    evaluations: () => (central ? 2 : 1) * directions,
    init: (dimension) => directionsWorkspace(dimension, directions),
    estimate: (f, x, fx, key, out, w) => {
      Random.normal(key, w.buffer)
      out.fill(0)
      for (let k = 0; k < directions; k++) {
        const u = w.rows[k]!
        Blas1.copy(x, w.trial)
        Blas1.axpy(mu, u, w.trial)
        const plus = f(w.trial)
        let coefficient: number
        if (central) {
          Blas1.copy(x, w.trial)
          Blas1.axpy(-mu, u, w.trial)
          coefficient = (plus - f(w.trial)) / (2 * mu)
        } else coefficient = (plus - fx) / mu
        Blas1.axpy(coefficient / directions, u, out)
      }
    }
  }
}

/**
 * Workspace of `coordinateDifferences`: no buffer is needed, since x is
 * perturbed in place, one coordinate at a time, and restored.
 *
 * @category models
 * @since 0.1.0
 */
export interface CoordinateWorkspace {
  readonly dimension: number
}

/**
 * Finite differences along the coordinate axes, hᵢ = h·max(1, |xᵢ|) rounded
 * to the exactly representable step (xᵢ + hᵢ) − xᵢ:
 *
 *   forward:  gᵢ = (f(x + hᵢeᵢ) − f(x))/hᵢ,          error ≤ (hᵢ/2)·max|∂ᵢ²f| + rounding,
 *   central:  gᵢ = (f(x + hᵢeᵢ) − f(x − h'ᵢeᵢ))/(hᵢ + h'ᵢ), error ≤ (h²/6)·max|∂ᵢ³f| + rounding,
 *
 * n or 2n evaluations, deterministic (the key is unused). x is perturbed in
 * place, one coordinate at a time, and restored exactly.
 *
 * @throws InvalidOptions when an option is out of range.
 * @category constructors
 * @since 0.1.0
 */
export const coordinateDifferences = (
  options: CoordinateDifferencesOptions = {}
): GradientEstimator<CoordinateWorkspace> => {
  const op = "ZerothOrder.coordinateDifferences"
  const d = estimatorDefaults.coordinateDifferences
  const central =
    requireOneOf(op, "difference", options.difference ?? d.difference, ["forward", "central"]) === "central"
  const h = requirePositive(op, "step", options.step ?? (central ? d.centralStep : d.forwardStep))
  return {
    name: central ? "centralDifferences" : "forwardDifferences",
    evaluations: (n) => (central ? 2 * n : n),
    init: (dimension) => ({ dimension }),
    estimate: (f, x, fx, _key, out) => {
      for (let i = 0; i < x.length; i++) {
        const xi = x[i]!
        const hi = h * Math.max(1, Math.abs(xi))
        const up = xi + hi
        x[i] = up
        const plus = f(x)
        if (central) {
          const down = xi - hi
          x[i] = down
          const minus = f(x)
          out[i] = (plus - minus) / (up - down)
        } else out[i] = (plus - fx) / (up - xi)
        x[i] = xi
      }
    }
  }
}

/**
 * SPSA (Spall 1992): for K = `directions` independent Rademacher vectors Δ_k
 * (entries ±1 with probability ½ each, from `Random.bernoulli` of `key`),
 *
 *   gᵢ = (1/K)·Σ_k (f(x + cΔ_k) − f(x − cΔ_k))/(2c·Δ_{k,i}),
 *
 * 2K evaluations in any dimension. For a quadratic, f(x + cΔ) − f(x − cΔ) =
 * 2c·∇f(x)ᵀΔ exactly, so g = (∇fᵀΔ)Δ: unbiased, with Var gᵢ = Σ_{j≠i} (∂ⱼf)²/K.
 * For a smooth f the bias is O(c²) (Spall's Lemma 1).
 *
 * @throws InvalidOptions when an option is out of range.
 * @category constructors
 * @since 0.1.0
 */
export const spsa = (options: SpsaOptions = {}): GradientEstimator<DirectionsWorkspace> => {
  const op = "ZerothOrder.spsa"
  const d = estimatorDefaults.spsa
  const c = requirePositive(op, "perturbation", options.perturbation ?? d.perturbation)
  const directions = requireInteger(op, "directions", options.directions ?? d.directions, 1)
  return {
    name: "spsa",
    evaluations: () => 2 * directions,
    init: (dimension) => directionsWorkspace(dimension, directions),
    estimate: (f, x, _fx, key, out, w) => {
      Random.bernoulli(key, w.buffer)
      // {0, 1} → {−1, +1}
      Blas1.scal(2, w.buffer)
      Elementwise.addScalar(w.buffer, -1, w.buffer)
      out.fill(0)
      for (let k = 0; k < directions; k++) {
        const delta = w.rows[k]!
        Blas1.copy(x, w.trial)
        Blas1.axpy(c, delta, w.trial)
        const plus = f(w.trial)
        Blas1.copy(x, w.trial)
        Blas1.axpy(-c, delta, w.trial)
        const minus = f(w.trial)
        // 1/Δᵢ = Δᵢ for Δᵢ = ±1.
        Blas1.axpy((plus - minus) / (2 * c * directions), delta, out)
      }
    }
  }
}

/**
 * Options of `minimize`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ZerothOrderOptions extends MinimizeOptions {
  /** The PRNG key; the estimate at the k-th point (x₀ is point 0) draws from `Random.foldIn(key, k)`. Default `Random.key(0)`. */
  readonly key?: Random.Key
  /**
   * Stop as `converged` when the estimate's ‖g‖∞ ≤ tolerance (≥ 0; 0 never
   * stops). Default 0, i.e. run the iteration budget: a random estimate can be
   * small by chance, so only deterministic estimators make this a reliable test.
   */
  readonly tolerance?: number
}

/**
 * Defaults of `ZerothOrderOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const zerothOrderDefaults = { seed: 0, tolerance: 0 } as const

/**
 * State of `minimize`'s solver: the iterate x (the last one with a finite
 * value and estimate), f(x), the estimate ĝ(x), a trial point with its value
 * and estimate, and the transform's state.
 *
 * @category models
 * @since 0.1.0
 */
export interface ZerothOrderState<S, W> {
  readonly f: (x: Float64Array) => number
  readonly transform: GradientTransform<S>
  readonly estimator: GradientEstimator<W>
  readonly workspace: W
  readonly key: Random.Key
  readonly tolerance: number
  readonly evaluationsPerPoint: number
  /** The updates handed to the transform (a copy of the estimate: transforms consume their input). */
  readonly updates: Float64Array
  /** `extras.value` of the transform, rewritten each step. */
  readonly extras: { value: number }
  transformState: S
  x: Float64Array
  fun: number
  estimate: Float64Array
  estimateNorm: number
  trial: Float64Array
  trialEstimate: Float64Array
  /** Function evaluations so far. */
  evaluations: number
  /** Points estimated so far (x0 is point 0): the key of point k is foldIn(key, k). */
  points: number
  diverged: boolean
}

/**
 * The problem of `minimize`'s solver.
 *
 * @category models
 * @since 0.1.0
 */
export interface ZerothOrderProblem<S, W> {
  readonly objective: ValueOracle
  readonly x0: Float64Array
  readonly transform: GradientTransform<S>
  readonly estimator: GradientEstimator<W>
}

const estimateAt = <S, W>(
  state: ZerothOrderState<S, W>,
  x: Float64Array,
  fx: number,
  out: Float64Array
): void => {
  state.estimator.estimate(state.f, x, fx, Random.foldIn(state.key, state.points >>> 0), out, state.workspace)
  state.points++
  state.evaluations += state.evaluationsPerPoint - 1
}

/**
 * The gradient-free loop as a solver of core's protocol. Every accepted
 * iterate x carries f(x) and an estimate ĝ(x) (1 + `estimator.evaluations(n)`
 * function values). A `step` applies one transform step with ĝ(x) (and f(x)
 * in `extras.value`, so Polyak steps work unchanged) to a copy of x, then
 * evaluates f and ĝ there; the copy becomes the iterate when both are finite,
 * otherwise the state is marked diverged and keeps the last finite iterate.
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver = <S, W>(): Solver.IterativeSolver<
  ZerothOrderProblem<S, W>,
  ZerothOrderOptions,
  ZerothOrderState<S, W>,
  SolverOutput
> => ({
  name: "ZerothOrder",
  init: ({ objective, x0, transform, estimator }, options) => {
    const op = "ZerothOrder.minimize"
    if (objective === null || typeof objective !== "object" || typeof objective.value !== "function") {
      throw invalid(op, "objective", objective, "an object with dimension and value(x)")
    }
    const x = checkStart(op, objective as Objective.Objective, x0)
    const key = requireKey(op, "key", options.key ?? Random.key(zerothOrderDefaults.seed))
    const tolerance = requireNonNegative(op, "tolerance", options.tolerance ?? zerothOrderDefaults.tolerance)
    const f = (v: Float64Array): number => objective.value(v)
    const fun = f(x)
    if (!Number.isFinite(fun))
      throw new Errors.NonFiniteInput({ operation: op, what: "objective at x0", index: 0, value: fun })
    const n = x.length
    const state: ZerothOrderState<S, W> = {
      f,
      transform,
      estimator,
      workspace: estimator.init(n),
      key,
      tolerance,
      evaluationsPerPoint: estimator.evaluations(n) + 1,
      updates: Vector.zeros(n),
      extras: { value: fun },
      transformState: transform.init(x),
      x,
      fun,
      estimate: Vector.zeros(n),
      estimateNorm: 0,
      trial: Vector.zeros(n),
      trialEstimate: Vector.zeros(n),
      evaluations: 1,
      points: 0,
      diverged: false
    }
    estimateAt(state, x, fun, state.estimate)
    const bad = Vector.findNonFinite(state.estimate)
    if (bad >= 0) {
      throw new Errors.NonFiniteInput({
        operation: op,
        what: "gradient estimate at x0",
        index: bad,
        value: state.estimate[bad]!
      })
    }
    state.estimateNorm = normInf(state.estimate)
    return state
  },
  step: (state) => {
    const { x, trial, updates } = state
    Blas1.copy(x, trial)
    Blas1.copy(state.estimate, updates)
    state.extras.value = state.fun
    state.transformState = transformStep(state.transform, trial, updates, state.transformState, state.extras)
    const ft = state.f(trial)
    state.evaluations++
    if (!Number.isFinite(ft) || !allFinite(trial)) {
      state.diverged = true
      return state
    }
    estimateAt(state, trial, ft, state.trialEstimate)
    if (!allFinite(state.trialEstimate)) {
      state.diverged = true
      return state
    }
    state.x = trial
    state.trial = x
    const e = state.estimate
    state.estimate = state.trialEstimate
    state.trialEstimate = e
    state.fun = ft
    state.estimateNorm = normInf(state.estimate)
    return state
  },
  status: (state) => (state.tolerance > 0 && state.estimateNorm <= state.tolerance ? "converged" : undefined),
  residual: (state) => (state.diverged ? Number.NaN : state.estimateNorm),
  metrics: (state) => ({
    objective: state.fun,
    estimateNorm: state.estimateNorm,
    evaluations: state.evaluations
  }),
  output: (state) => ({
    x: Vector.clone(state.x),
    fun: state.fun,
    gradient: Vector.clone(state.estimate),
    gradientNorm: state.estimateNorm,
    counts: { value: state.evaluations, gradient: 0, hessianVector: 0, matvec: 0 }
  })
})

/**
 * Minimizes f, known by its values, from `x0` with the gradient transform
 * `transform` (any optimizer of this package) fed by the gradient estimates
 * of `estimator`. Returns a `MinimizeResult`: `counts.value` counts every
 * function evaluation (1 + `estimator.evaluations(n)` per iterate, plus 1 per
 * rejected trial), `counts.gradient` is 0, and `gradient` / `gradientNorm`
 * are the ESTIMATE ĝ(x) at the returned x and its ‖·‖∞. `iterations` are
 * transform steps. A NaN or ±∞ value or estimate ends the run as `diverged`
 * with the last finite iterate.
 *
 * @example
 * const result = ZerothOrder.minimize(objective, x0, Optimizers.adam(1e-2), ZerothOrder.spsa(), { maxIterations: 2000 })
 * @throws DimensionMismatch when `x0` does not have `objective.dimension` entries.
 * @throws NonFiniteInput when `x0`, f(x0) or the estimate at x0 has a NaN or ±∞.
 * @throws InvalidOptions when an option is out of range.
 * @category solvers
 * @since 0.1.0
 */
export const minimize = <S, W>(
  objective: ValueOracle,
  x0: Float64Array,
  transform: GradientTransform<S>,
  estimator: GradientEstimator<W>,
  options: ZerothOrderOptions = {}
): MinimizeResult => runSolver(solver<S, W>(), { objective, x0, transform, estimator }, options)
