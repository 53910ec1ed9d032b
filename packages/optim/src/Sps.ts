/**
 * SGD with the stochastic Polyak step size SPS_max on a finite sum
 * f(x) = (1/n)·Σᵢ fᵢ(x) (Loizou, Vaswani, Laradji & Lacoste-Julien,
 * "Stochastic Polyak Step-size for SGD: An Adaptive Learning Rate for Fast
 * Convergence", AISTATS 2021):
 *
 *   xₖ₊₁ = xₖ − γₖ·∇f_{iₖ}(xₖ),   γₖ = min( (f_{iₖ}(xₖ) − f*_{iₖ}) / (c·‖∇f_{iₖ}(xₖ)‖²), γ_b ),
 *
 * iₖ uniform on {0, …, n − 1}, f*ᵢ a lower bound on (the minimum of) fᵢ — 0
 * for nonnegative losses, and exact for models that interpolate the data —,
 * c > 0 (the paper's theory takes c = 1/2) and γ_b the largest step.
 *
 * The step is the existing Polyak transform (`Polyak.polyakSgd`, Optax's
 * `polyak_sgd`), not a copy of it: with scaling s = c and cap γ_b/c,
 * `polyakSgd` takes −c·min(gap/(c²‖g‖²), γ_b/c)·g = −γₖ·g. The gap
 * fᵢ(x) − f*ᵢ is passed in `extras.value` (with the transform's own f* = 0),
 * so per-component lower bounds need no new transform. The `"sps+"` variant
 * takes the positive part of the gap (Garrigos, Gower & Schaipp 2023).
 *
 * One solver step is one epoch of `stepsPerEpoch` SGD steps (default n),
 * followed by a full gradient for the stopping test ‖∇f(x)‖∞ ≤ tolerance.
 * Requires per-sample values (`problem.componentValueAndGradient`).
 *
 * Cost: `counts` are in COMPONENT evaluations: one fᵢ and one ∇fᵢ per SGD
 * step, plus n of each for the full value and gradient after every epoch;
 * `passes` = counts.gradient / n.
 *
 * Randomness: epoch s draws its indices with `Random.integers` from
 * `Random.foldIn(key, s)`: bit-reproducible from the key.
 *
 * @since 0.1.0
 */
import { Blas1, Random, type Solver, Vector } from "@descent/core"
import type { FiniteSum, FiniteSumResult } from "./FiniteSum.ts"
import { type GradientTransform, type StateOf, step as transformStep } from "./GradientTransform.ts"
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
import { requireInteger, requireKey, requireOneOf } from "./internal/stochastic.ts"
import { invalid, requireFinite, requireNonNegative, requirePositive } from "./internal/validate.ts"
import { type MinimizeOptions, runSolver, type SolverOutput } from "./Minimize.ts"
import { polyakSgd } from "./Polyak.ts"

/**
 * Options of SPS. `maxIterations` (from `MinimizeOptions`) counts epochs.
 *
 * @category models
 * @since 0.1.0
 */
export interface SpsOptions extends MinimizeOptions {
  /** γ_b ≥ 0, the largest step size. Default 1 (Optax's default). */
  readonly maxLearningRate?: number
  /** c > 0 in the denominator c·‖∇fᵢ‖². Default 1/2 (the paper's theory). */
  readonly scale?: number
  /** f*ᵢ: one lower bound for every component, or one per component (length n). Default 0. */
  readonly lowerBounds?: number | ArrayLike<number>
  /** `"sps"` (the gap fᵢ − f*ᵢ) or `"sps+"` (its positive part). Default `"sps"`. */
  readonly variant?: "sps" | "sps+"
  /** SGD steps per epoch (≥ 1). Default n. */
  readonly stepsPerEpoch?: number
  /** Stop when ‖∇f(x)‖∞ ≤ tolerance after an epoch (≥ 0). Default 1e-8. */
  readonly tolerance?: number
  /** The PRNG key of the index draws. Default `Random.key(0)`. */
  readonly key?: Random.Key
}

/**
 * Defaults of `SpsOptions` (`stepsPerEpochPerComponent` is stepsPerEpoch/n).
 *
 * @category constants
 * @since 0.1.0
 */
export const spsDefaults = {
  maxLearningRate: 1,
  scale: 0.5,
  lowerBounds: 0,
  variant: "sps",
  stepsPerEpochPerComponent: 1,
  tolerance: 1e-8,
  seed: 0
} as const

type SpsTransform = ReturnType<typeof polyakSgd>

/**
 * State of SPS: the snapshot (`EpochState`), the SGD iterate, the Polyak
 * transform and its state, the lower bounds and the epoch's indices.
 *
 * @category models
 * @since 0.1.0
 */
export interface SpsState extends EpochState {
  readonly transform: GradientTransform<StateOf<SpsTransform>>
  transformState: StateOf<SpsTransform>
  readonly lowerBounds: Float64Array
  readonly stepsPerEpoch: number
  readonly key: Random.Key
  readonly componentGradient: Float64Array
  readonly indices: Float64Array
  /** The extras passed to the transform; `value` is rewritten each step. */
  readonly extras: { value: number }
  readonly componentValueAndGradient: (i: number, x: Float64Array, out: Float64Array) => number
}

/**
 * SPS as a solver of core's protocol; one `step` is one epoch.
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<
  EpochProblem,
  SpsOptions,
  SpsState,
  SolverOutput & { readonly passes: number }
> = {
  name: "Sps",
  init: (problem, options) => {
    const op = "Sps"
    const base = initEpochState(op, problem, options.tolerance ?? spsDefaults.tolerance)
    const cvg = base.problem.componentValueAndGradient
    if (cvg === undefined) {
      throw invalid(
        op,
        "problem.componentValueAndGradient",
        undefined,
        "the per-sample values fᵢ(x) the Polyak step needs"
      )
    }
    const n = base.n
    const scale = requirePositive(op, "scale", options.scale ?? spsDefaults.scale)
    const maxLearningRate = requireNonNegative(
      op,
      "maxLearningRate",
      options.maxLearningRate ?? spsDefaults.maxLearningRate
    )
    const variant = requireOneOf(op, "variant", options.variant ?? spsDefaults.variant, ["sps", "sps+"])
    const bounds = options.lowerBounds ?? spsDefaults.lowerBounds
    const lowerBounds = Vector.zeros(n)
    if (typeof bounds === "number") lowerBounds.fill(requireFinite(op, "lowerBounds", bounds))
    else {
      if (bounds === null || typeof bounds !== "object" || bounds.length !== n) {
        throw invalid(op, "lowerBounds", bounds, `a finite number or ${n} finite numbers (one per component)`)
      }
      for (let i = 0; i < n; i++) lowerBounds[i] = requireFinite(op, `lowerBounds[${i}]`, bounds[i]!)
    }
    const stepsPerEpoch = requireInteger(
      op,
      "stepsPerEpoch",
      options.stepsPerEpoch ?? spsDefaults.stepsPerEpochPerComponent * n,
      1
    )
    const key = requireKey(op, "key", options.key ?? Random.key(spsDefaults.seed))
    const transform = polyakSgd({
      scaling: scale,
      maxLearningRate: maxLearningRate / scale,
      fMin: 0,
      variant
    })
    return {
      ...base,
      transform,
      transformState: transform.init(base.x),
      lowerBounds,
      stepsPerEpoch,
      key,
      componentGradient: Vector.zeros(base.x.length),
      indices: Vector.zeros(stepsPerEpoch),
      extras: { value: 0 },
      componentValueAndGradient: cvg
    }
  },
  step: (state) => {
    const { indices, componentGradient: g, lowerBounds, extras } = state
    Random.integers(Random.foldIn(state.key, state.epoch >>> 0), indices, { high: state.n })
    const x = state.candidate
    Blas1.copy(state.x, x)
    let transformState = state.transformState
    for (let k = 0; k < state.stepsPerEpoch; k++) {
      const i = indices[k]!
      extras.value = state.componentValueAndGradient(i, x, g) - lowerBounds[i]!
      transformState = transformStep(state.transform, x, g, transformState, extras)
    }
    state.transformState = transformState
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
 * Minimizes the finite sum `problem` with SGD and the stochastic Polyak step
 * SPS_max from `x0`, returning a `FiniteSumResult` (`iterations` are epochs,
 * counts in component evaluations). A NaN or ±∞ value or gradient after an
 * epoch ends the run as `diverged` with the last finite epoch's iterate.
 *
 * @example
 * const result = Sps.minimize(FiniteSum.leastSquares(A, b), x0, { maxLearningRate: 10 })
 * @throws DimensionMismatch when `x0` does not have `problem.dimension` entries.
 * @throws NonFiniteInput when `x0`, f(x0) or ∇f(x0) has a NaN or ±∞.
 * @throws InvalidOptions for an option out of range, or a problem without per-sample values.
 * @category solvers
 * @since 0.1.0
 */
export const minimize = (problem: FiniteSum, x0: Float64Array, options: SpsOptions = {}): FiniteSumResult =>
  runSolver(solver, { problem, x0 }, options) as FiniteSumResult
