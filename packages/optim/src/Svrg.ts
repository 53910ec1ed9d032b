/**
 * SVRG, stochastic variance-reduced gradient (Johnson & Zhang, "Accelerating
 * Stochastic Gradient Descent using Predictive Variance Reduction", NeurIPS
 * 2013), for a finite sum f(x) = (1/n)·Σᵢ fᵢ(x) (`FiniteSum`).
 *
 * Each epoch s takes a snapshot x̃ with its full gradient μ̃ = ∇f(x̃), then
 * runs m stochastic steps from w₀ = x̃ with the control-variate estimate
 *
 *   vₜ = ∇f_{iₜ}(wₜ) − ∇f_{iₜ}(x̃) + μ̃,   wₜ₊₁ = wₜ − η·vₜ,   t = 0, …, m − 1,
 *
 * iₜ uniform on {0, …, n − 1} (with replacement). vₜ is unbiased for ∇f(wₜ)
 * and its variance vanishes as wₜ and x̃ approach the minimizer, so a constant
 * step size gives linear convergence for strongly convex f. The next snapshot
 * is the last inner iterate w_m (`snapshot: "last"`, the paper's practical
 * option I) or the average (1/m)·Σₜ₌₁..ₘ wₜ (`"average"`, the snapshot of
 * the convex analyses, e.g. Prox-SVRG: Xiao & Zhang, SIAM J. Optim. 24, 2014).
 *
 * One solver step is one epoch; `iterations` in the result are epochs. The
 * stopping test is ‖∇f(x̃)‖∞ ≤ tolerance at a snapshot: the full gradient
 * computed for the next epoch's control variate doubles as the stopping test,
 * at no extra cost.
 *
 * Cost: `counts.gradient` is in COMPONENT gradient evaluations: n per
 * snapshot plus 2 per inner step (∇fᵢ at wₜ and at x̃; the snapshot's
 * component gradients are not stored), so an epoch costs n + 2m;
 * `passes` = counts.gradient / n.
 *
 * Randomness: epoch s draws its m indices with `Random.integers` from
 * `Random.foldIn(key, s)`: a run is bit-reproducible from its key.
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
import { requireInteger, requireKey, requireOneOf, stepSizeOrDefault } from "./internal/stochastic.ts"
import { type MinimizeOptions, runSolver, type SolverOutput } from "./Minimize.ts"

/**
 * Options of SVRG. `maxIterations` (from `MinimizeOptions`) counts epochs.
 *
 * @category models
 * @since 0.1.0
 */
export interface SvrgOptions extends MinimizeOptions {
  /** η > 0, the inner step size. Default 1/(10·L), L = `problem.smoothness` (required when the problem has none). */
  readonly stepSize?: number
  /** m ≥ 1, inner steps per epoch. Default 2n (the paper's choice for convex problems). */
  readonly innerIterations?: number
  /** The next snapshot: the last inner iterate (`"last"`) or the inner iterates' mean (`"average"`). Default `"last"`. */
  readonly snapshot?: "last" | "average"
  /** Stop when ‖∇f(x̃)‖∞ ≤ tolerance at a snapshot (≥ 0). Default 1e-8. */
  readonly tolerance?: number
  /** The PRNG key of the index draws. Default `Random.key(0)`. */
  readonly key?: Random.Key
}

/**
 * Defaults of `SvrgOptions`. `stepSizeTimesSmoothness` is η·L of the default
 * step η = 0.1/L: with it Johnson & Zhang's Theorem 1 contracts the expected
 * gap by 12.5·L/(μm) + 1/4 per epoch, < 1 once m > 17·L/μ.
 * `innerIterationsPerComponent` is m/n.
 *
 * @category constants
 * @since 0.1.0
 */
export const svrgDefaults = {
  stepSizeTimesSmoothness: 0.1,
  innerIterationsPerComponent: 2,
  snapshot: "last",
  tolerance: 1e-8,
  seed: 0
} as const

/**
 * State of SVRG: the snapshot and its gradient (`EpochState`), the inner
 * iterate, the component-gradient buffers and the epoch's indices.
 *
 * @category models
 * @since 0.1.0
 */
export interface SvrgState extends EpochState {
  readonly stepSize: number
  readonly innerIterations: number
  readonly average: boolean
  readonly key: Random.Key
  readonly w: Float64Array
  readonly componentAtW: Float64Array
  readonly componentAtSnapshot: Float64Array
  readonly indices: Float64Array
}

/**
 * SVRG as a solver of core's protocol; one `step` is one epoch.
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<
  EpochProblem,
  SvrgOptions,
  SvrgState,
  SolverOutput & { readonly passes: number }
> = {
  name: "Svrg",
  init: (problem, options) => {
    const op = "Svrg"
    const base = initEpochState(op, problem, options.tolerance ?? svrgDefaults.tolerance)
    const n = base.n
    const stepSize = stepSizeOrDefault(
      op,
      options.stepSize,
      problem.problem.smoothness,
      svrgDefaults.stepSizeTimesSmoothness,
      "smoothness"
    )
    const innerIterations = requireInteger(
      op,
      "innerIterations",
      options.innerIterations ?? svrgDefaults.innerIterationsPerComponent * n,
      1
    )
    const snapshot = requireOneOf(op, "snapshot", options.snapshot ?? svrgDefaults.snapshot, [
      "last",
      "average"
    ])
    const key = requireKey(op, "key", options.key ?? Random.key(svrgDefaults.seed))
    const d = base.x.length
    return {
      ...base,
      stepSize,
      innerIterations,
      average: snapshot === "average",
      key,
      w: Vector.zeros(d),
      componentAtW: Vector.zeros(d),
      componentAtSnapshot: Vector.zeros(d),
      indices: Vector.zeros(innerIterations)
    }
  },
  step: (state) => {
    const { problem, stepSize: eta, innerIterations: m, x, gradient, w, indices } = state
    const gw = state.componentAtW
    const gs = state.componentAtSnapshot
    Random.integers(Random.foldIn(state.key, state.epoch >>> 0), indices, { high: state.n })
    Blas1.copy(x, w)
    const out = state.candidate
    if (state.average) out.fill(0)
    for (let t = 0; t < m; t++) {
      const i = indices[t]!
      problem.componentGradient(i, w, gw)
      problem.componentGradient(i, x, gs)
      // w ← w − η·(∇fᵢ(w) − ∇fᵢ(x̃) + μ̃)
      Blas1.axpy(-eta, gw, w)
      Blas1.axpy(eta, gs, w)
      Blas1.axpy(-eta, gradient, w)
      if (state.average) Blas1.axpy(1, w, out)
    }
    if (state.average) Blas1.scal(1 / m, out)
    else Blas1.copy(w, out)
    acceptCandidate(state)
    state.epoch++
    return state
  },
  status: epochStatus,
  residual: epochResidual,
  metrics: epochMetrics,
  output: epochOutput
}

/**
 * Minimizes the finite sum `problem` with SVRG from `x0` and returns a
 * `FiniteSumResult`: `iterations` are epochs, `counts.gradient` component
 * gradients (n per snapshot + 2 per inner step), `passes` the same in full
 * gradients. Never throws for not converging: a NaN or ±∞ value or gradient
 * at a new snapshot ends the run as `diverged` with the last finite snapshot.
 *
 * @example
 * const problem = FiniteSum.logisticRegression(X, y, 1e-2)
 * const result = Svrg.minimize(problem, Vector.zeros(problem.dimension), { tolerance: 1e-10 })
 * @throws DimensionMismatch when `x0` does not have `problem.dimension` entries.
 * @throws NonFiniteInput when `x0`, f(x0) or ∇f(x0) has a NaN or ±∞.
 * @throws InvalidOptions for an option out of range, or no `stepSize` and no `problem.smoothness`.
 * @category solvers
 * @since 0.1.0
 */
export const minimize = (problem: FiniteSum, x0: Float64Array, options: SvrgOptions = {}): FiniteSumResult =>
  runSolver(solver, { problem, x0 }, options) as FiniteSumResult
