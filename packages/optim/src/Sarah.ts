/**
 * SARAH, the StochAstic Recursive grAdient algoritHm (Nguyen, Liu, Scheinberg
 * & Takáč, "SARAH: A Novel Method for Machine Learning Problems Using
 * Stochastic Recursive Gradient", ICML 2017), for a finite sum
 * f(x) = (1/n)·Σᵢ fᵢ(x) (`FiniteSum`).
 *
 * Each epoch starts at the snapshot w₀ = x̃ with the full gradient
 * v₀ = ∇f(w₀) and updates a RECURSIVE (biased) gradient estimate:
 *
 *   w₁ = w₀ − η·v₀,
 *   vₜ = ∇f_{iₜ}(wₜ) − ∇f_{iₜ}(wₜ₋₁) + vₜ₋₁,   wₜ₊₁ = wₜ − η·vₜ,   t = 1, …, m − 1,
 *
 * iₜ uniform on {0, …, n − 1}. Unlike SVRG's estimate, vₜ is biased but its
 * error shrinks along the inner loop (the paper's Theorem 1), and the inner
 * loop alone converges linearly for strongly convex f.
 *
 * The next snapshot is the last inner iterate w_m (`snapshot: "last"`, the
 * paper's practical choice) or wₜ with t uniform on {0, …, m} (`"random"`,
 * the iterate of its Algorithm 1 and of the analysis). SARAH+ (the paper's
 * Algorithm 2) ends the inner loop early, as soon as
 * ‖vₜ₋₁‖² ≤ γ·‖v₀‖² (`innerStoppingRatio` γ; the paper suggests γ = 1/8), at
 * most m steps; γ = 0 (the default) is plain SARAH.
 *
 * One solver step is one epoch; the stopping test is ‖∇f(x̃)‖∞ ≤ tolerance
 * at a snapshot, whose full gradient is the next epoch's v₀.
 *
 * Cost: `counts.gradient` is in COMPONENT gradient evaluations: n per
 * snapshot plus 2 per inner step (∇fᵢ at wₜ and wₜ₋₁), at most n + 2(m − 1)
 * per epoch; `passes` = counts.gradient / n.
 *
 * Randomness: epoch s splits `Random.foldIn(key, s)` into the key of its
 * indices (`Random.integers`) and the key of the random snapshot index: a run
 * is bit-reproducible from its key.
 *
 * @since 0.1.0
 */
import { Blas1, Random, type Solver, Vector } from "@descent/core"
import type { FiniteSum, FiniteSumResult } from "./FiniteSum.ts"
import {
  acceptCandidate,
  type EpochProblem,
  type EpochState,
  epochMetrics,
  epochOutput,
  epochResidual,
  epochStatus,
  initEpochState
} from "./internal/epochSolver.ts"
import {
  requireInteger,
  requireKey,
  requireOneOf,
  requireUnitInterval,
  stepSizeOrDefault
} from "./internal/stochastic.ts"
import { type MinimizeOptions, runSolver, type SolverOutput } from "./Minimize.ts"

/**
 * Options of SARAH / SARAH+. `maxIterations` (from `MinimizeOptions`) counts epochs.
 *
 * @category models
 * @since 0.1.0
 */
export interface SarahOptions extends MinimizeOptions {
  /** η > 0, the inner step size. Default 1/(2L), L = `problem.smoothness` (required when the problem has none). */
  readonly stepSize?: number
  /** m ≥ 1, the (largest) number of inner steps per epoch, counting w₀ → w₁. Default n. */
  readonly innerIterations?: number
  /**
   * The next snapshot: the last inner iterate (`"last"`) or wₜ with t uniform
   * on {0, …, m} (`"random"`; when SARAH+ stops before t, the last iterate).
   * Default `"last"`.
   */
  readonly snapshot?: "last" | "random"
  /** γ ∈ [0, 1): SARAH+ ends the inner loop once ‖vₜ₋₁‖² ≤ γ‖v₀‖²; 0 is plain SARAH. Default 0. */
  readonly innerStoppingRatio?: number
  /** Stop when ‖∇f(x̃)‖∞ ≤ tolerance at a snapshot (≥ 0). Default 1e-8. */
  readonly tolerance?: number
  /** The PRNG key of the random draws. Default `Random.key(0)`. */
  readonly key?: Random.Key
}

/**
 * Defaults of `SarahOptions`. `stepSizeTimesSmoothness` is η·L of the
 * default η = 1/(2L), with which the paper's Theorem 2 contracts by
 * 2L/(μ(m + 1)) + 1/3 per epoch (< 1 once m > 3L/μ);
 * `innerIterationsPerComponent` is m/n.
 *
 * @category constants
 * @since 0.1.0
 */
export const sarahDefaults = {
  stepSizeTimesSmoothness: 0.5,
  innerIterationsPerComponent: 1,
  snapshot: "last",
  innerStoppingRatio: 0,
  tolerance: 1e-8,
  seed: 0
} as const

/**
 * State of SARAH: the snapshot (`EpochState`), the inner iterates wₜ and
 * wₜ₋₁, the recursive estimate vₜ, two component-gradient buffers and the
 * epoch's indices.
 *
 * @category models
 * @since 0.1.0
 */
export interface SarahState extends EpochState {
  readonly stepSize: number
  readonly innerIterations: number
  readonly random: boolean
  readonly stoppingRatio: number
  readonly key: Random.Key
  readonly w: Float64Array
  readonly wPrevious: Float64Array
  readonly v: Float64Array
  readonly componentAtW: Float64Array
  readonly componentAtPrevious: Float64Array
  readonly indices: Float64Array
  readonly chosen: Float64Array
  /** Inner steps of the last epoch (SARAH+ may stop before m). */
  lastInnerIterations: number
}

/**
 * SARAH as a solver of core's protocol; one `step` is one epoch.
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<
  EpochProblem,
  SarahOptions,
  SarahState,
  SolverOutput & { readonly passes: number }
> = {
  name: "Sarah",
  init: (problem, options) => {
    const op = "Sarah"
    const base = initEpochState(op, problem, options.tolerance ?? sarahDefaults.tolerance)
    const stepSize = stepSizeOrDefault(
      op,
      options.stepSize,
      problem.problem.smoothness,
      sarahDefaults.stepSizeTimesSmoothness,
      "smoothness"
    )
    const innerIterations = requireInteger(
      op,
      "innerIterations",
      options.innerIterations ?? sarahDefaults.innerIterationsPerComponent * base.n,
      1
    )
    const snapshot = requireOneOf(op, "snapshot", options.snapshot ?? sarahDefaults.snapshot, [
      "last",
      "random"
    ])
    const stoppingRatio = requireUnitInterval(
      op,
      "innerStoppingRatio",
      options.innerStoppingRatio ?? sarahDefaults.innerStoppingRatio
    )
    const key = requireKey(op, "key", options.key ?? Random.key(sarahDefaults.seed))
    const d = base.x.length
    return {
      ...base,
      stepSize,
      innerIterations,
      random: snapshot === "random",
      stoppingRatio,
      key,
      w: Vector.zeros(d),
      wPrevious: Vector.zeros(d),
      v: Vector.zeros(d),
      componentAtW: Vector.zeros(d),
      componentAtPrevious: Vector.zeros(d),
      indices: Vector.zeros(Math.max(innerIterations - 1, 0)),
      chosen: Vector.zeros(1),
      lastInnerIterations: 0
    }
  },
  step: (state) => {
    const { problem, stepSize: eta, innerIterations: m, w, wPrevious, v, indices } = state
    const gw = state.componentAtW
    const gp = state.componentAtPrevious
    const out = state.candidate
    const [indexKey, snapshotKey] = Random.split(Random.foldIn(state.key, state.epoch >>> 0), 2)
    if (indices.length > 0) Random.integers(indexKey!, indices, { high: state.n })
    const chosen = state.random ? Random.integers(snapshotKey!, state.chosen, { high: m + 1 })[0]! : -1
    // w₀ = x̃, v₀ = ∇f(x̃), w₁ = w₀ − η·v₀
    Blas1.copy(state.x, wPrevious)
    Blas1.copy(state.gradient, v)
    Blas1.copy(state.x, w)
    Blas1.axpy(-eta, v, w)
    if (chosen === 0) Blas1.copy(wPrevious, out)
    else if (chosen === 1) Blas1.copy(w, out)
    const threshold = state.stoppingRatio * Blas1.dot(v, v)
    let vv = Blas1.dot(v, v)
    let t = 1
    while (t < m && vv > threshold) {
      const i = indices[t - 1]!
      problem.componentGradient(i, w, gw)
      problem.componentGradient(i, wPrevious, gp)
      // vₜ = ∇fᵢ(wₜ) − ∇fᵢ(wₜ₋₁) + vₜ₋₁;  wₜ₊₁ = wₜ − η·vₜ
      Blas1.axpy(1, gw, v)
      Blas1.axpy(-1, gp, v)
      Blas1.copy(w, wPrevious)
      Blas1.axpy(-eta, v, w)
      t++
      if (t === chosen) Blas1.copy(w, out)
      if (state.stoppingRatio > 0) vv = Blas1.dot(v, v)
    }
    // The last iterate; also when SARAH+ stopped before the random index.
    if (!state.random || chosen > t) Blas1.copy(w, out)
    state.lastInnerIterations = t
    acceptCandidate(state)
    state.epoch++
    return state
  },
  status: epochStatus,
  residual: epochResidual,
  metrics: (state) => ({ ...epochMetrics(state), innerIterations: state.lastInnerIterations }),
  output: epochOutput
}

/**
 * Minimizes the finite sum `problem` with SARAH (or SARAH+, with
 * `innerStoppingRatio` > 0) from `x0`, returning a `FiniteSumResult`:
 * `iterations` are epochs, `counts.gradient` component gradients (n per
 * snapshot + 2 per inner step), `passes` the same in full gradients. A NaN or
 * ±∞ value or gradient at a new snapshot ends the run as `diverged` with the
 * last finite snapshot.
 *
 * @example
 * const result = Sarah.minimize(problem, Vector.zeros(problem.dimension), { innerStoppingRatio: 1 / 8 })
 * @throws DimensionMismatch when `x0` does not have `problem.dimension` entries.
 * @throws NonFiniteInput when `x0`, f(x0) or ∇f(x0) has a NaN or ±∞.
 * @throws InvalidOptions for an option out of range, or no `stepSize` and no `problem.smoothness`.
 * @category solvers
 * @since 0.1.0
 */
export const minimize = (problem: FiniteSum, x0: Float64Array, options: SarahOptions = {}): FiniteSumResult =>
  runSolver(solver, { problem, x0 }, options) as FiniteSumResult
