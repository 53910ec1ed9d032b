/**
 * Sophia (Liu, Li, Hall, Liang & Ma, "Sophia: A Scalable Stochastic
 * Second-order Optimizer for Language Model Pre-training", ICLR 2024,
 * arXiv:2305.14342): a diagonal second-order method whose step is a
 * momentum divided by a running estimate of the Hessian diagonal, clipped
 * per coordinate so that a wrong or negative curvature estimate can never
 * produce a step longer than the learning rate.
 *
 * With g the gradient, t the step count after incrementing and h the
 * Hessian-diagonal average (zero until the first estimate),
 *
 *   m ← (1 − β₁)·g + β₁·m,   m̂ = m / (1 − β₁ᵗ),
 *   u = clip(m̂ / max(γ·h, ε), −ρ, ρ),
 *
 * and every k steps (when the count before this step is a multiple of k) the
 * average is refreshed from Hutchinson's estimate D = z ⊙ (∇²f·z) with z a
 * Rademacher vector: h ← (1 − β₂)·D + β₂·h. The update above uses h from
 * before the refresh. `sophia` chains this with decoupled weight decay and the
 * learning rate: p ← p − η·(u + λ·p).
 *
 * This is `optax.contrib.sophia` (Optax 0.2.8) operation for operation,
 * including its estimator (`hutchinson_estimator_diag_hessian`, Rademacher
 * rather than the paper's Gaussian probes) and its random draws: the seed is
 * `jax.random.PRNGKey(seed)` and the signs come from core's JAX-compatible
 * Threefry generator, so trajectories agree with Optax's, bit for bit in the
 * tested cases except for one compiler effect: Optax refreshes h inside
 * `jax.lax.cond`, which XLA compiles into a fused multiply-add
 * fma(β₂, h, (1 − β₂)·D), ≤ 1 ulp from the plain arithmetic here (see
 * test/sophia.test.ts). The Hessian-vector product at the current parameters
 * is passed in `extras.hessianVectorProduct` (e.g. from `Autodiff.hvp`); it is
 * required at every step (`Errors.InvalidOptions` naming
 * `hessianVectorProduct` when missing) and called once per refresh.
 *
 * @since 0.1.0
 */
import type { Random } from "@descent/core"
import { chain, type GradientTransform } from "./GradientTransform.ts"
import { hutchinsonDiagonal, keyFromSeed, requireHessianVectorProduct } from "./internal/hutchinson.ts"
import {
  increment,
  leavesLike,
  requireDecay,
  requireNonNegative,
  requirePositive,
  requirePositiveInteger
} from "./internal/validate.ts"
import { addDecayedWeights, type StepSize, type StepSizeState, scaleByLearningRate } from "./Transforms.ts"
import type { Params } from "./Tree.ts"
import * as Tree from "./Tree.ts"

/**
 * Options of `scaleBySophia`; defaults in `sophiaDefaults`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScaleBySophiaOptions {
  /** Decay β₁ of the gradient average, in [0, 1). Default 0.965. */
  readonly b1?: number
  /** Decay β₂ of the Hessian-diagonal average, in [0, 1). Default 0.99 (per refresh: 0.999 per step with k = 10). */
  readonly b2?: number
  /** Floor ε of the denominator max(γ·h, ε), ≥ 0. Default 1e-8. */
  readonly eps?: number
  /** Scale γ of the Hessian diagonal, ≥ 0. Default 0.01. */
  readonly gamma?: number
  /** Clipping threshold ρ > 0 of each coordinate of the step, or `null` for no clipping. Default 1. */
  readonly clipThreshold?: number | null
  /** Refresh the Hessian-diagonal average every k steps, an integer ≥ 1. Default 10. */
  readonly updateInterval?: number
  /** Seed of the Rademacher probes (the key is `Random.key(seed)` = `jax.random.PRNGKey(seed)`), an integer ≥ 0. Default 0. */
  readonly seed?: number
}

/**
 * Options of `sophia`: `scaleBySophia`'s, plus decoupled weight decay.
 *
 * @category models
 * @since 0.1.0
 */
export interface SophiaOptions extends ScaleBySophiaOptions {
  /** Decoupled weight decay λ (≥ 0, or a schedule). Default 1e-4. */
  readonly weightDecay?: StepSize
}

/**
 * Default options of `scaleBySophia` and `sophia` (those of `optax.contrib.sophia`).
 *
 * @category models
 * @since 0.1.0
 */
export const sophiaDefaults = {
  b1: 0.965,
  b2: 0.99,
  eps: 1e-8,
  gamma: 0.01,
  clipThreshold: 1,
  updateInterval: 10,
  seed: 0,
  weightDecay: 1e-4
} as const

/**
 * State of `scaleBySophia`: step count, the key of the next Hutchinson
 * probe, the gradient average μ, the Hessian-diagonal average ν, and a
 * parameter-shaped buffer for the probe.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScaleBySophiaState {
  count: number
  key: Random.Key
  readonly mu: Params
  readonly nu: Params
  readonly probe: Params
}

/**
 * Sophia's scaling with Hutchinson's Hessian-diagonal estimate (see the
 * module comment), as `optax.contrib.scale_by_sophia`.
 *
 * @throws InvalidOptions when an option is out of range, or at `update` when `extras.hessianVectorProduct` is missing.
 * @throws DimensionMismatch at `update` when the updates or the Hessian-vector product do not match the parameters.
 * @category transforms
 * @since 0.1.0
 */
export const scaleBySophia = (options: ScaleBySophiaOptions = {}): GradientTransform<ScaleBySophiaState> => {
  const op = "scaleBySophia"
  const b1 = requireDecay(op, "b1", options.b1 ?? sophiaDefaults.b1)
  const b2 = requireDecay(op, "b2", options.b2 ?? sophiaDefaults.b2)
  const eps = requireNonNegative(op, "eps", options.eps ?? sophiaDefaults.eps)
  const gamma = requireNonNegative(op, "gamma", options.gamma ?? sophiaDefaults.gamma)
  const clipOption =
    options.clipThreshold === undefined ? sophiaDefaults.clipThreshold : options.clipThreshold
  const clipThreshold = clipOption === null ? null : requirePositive(op, "clipThreshold", clipOption)
  const interval = requirePositiveInteger(
    op,
    "updateInterval",
    options.updateInterval ?? sophiaDefaults.updateInterval
  )
  const key = keyFromSeed(op, options.seed ?? sophiaDefaults.seed)
  const c1 = 1 - b1
  const c2 = 1 - b2
  const hi = clipThreshold ?? Number.POSITIVE_INFINITY
  const lo = -hi
  return {
    init: (params) => ({
      count: 0,
      key,
      mu: Tree.zerosLike(params),
      nu: Tree.zerosLike(params),
      probe: Tree.zerosLike(params)
    }),
    update: (updates, state, _params, extras) => {
      const hvp = requireHessianVectorProduct(op, extras)
      const mus = Tree.leaves(state.mu)
      const nus = Tree.leaves(state.nu)
      const gs = leavesLike(op, updates, mus)
      const t = increment(state.count)
      // Optax's bias correction `mu / (1 - b1**t)` runs in XLA, which rewrites
      // division by a broadcast scalar as multiplication by its reciprocal.
      const r1 = 1 / (1 - b1 ** t)
      for (let k = 0; k < gs.length; k++) {
        const g = gs[k]!
        const mu = mus[k]!
        const nu = nus[k]!
        for (let i = 0; i < g.length; i++) {
          const m = c1 * g[i]! + b1 * mu[i]!
          mu[i] = m
          const u = (m * r1) / Math.max(gamma * nu[i]!, eps)
          g[i] = Math.min(Math.max(u, lo), hi) // jnp.clip: NaN stays NaN
        }
      }
      if (state.count % interval === 0) {
        state.key = hutchinsonDiagonal(op, state.key, state.probe, hvp)
        const ds = Tree.leaves(state.probe)
        for (let k = 0; k < ds.length; k++) {
          const d = ds[k]!
          const nu = nus[k]!
          for (let i = 0; i < d.length; i++) nu[i] = c2 * d[i]! + b2 * nu[i]!
        }
      }
      state.count = t
      return { updates, state }
    }
  }
}

/**
 * Sophia (Liu et al. 2023) as `optax.contrib.sophia`: `chain(scaleBySophia,
 * addDecayedWeights(λ), scaleByLearningRate(η))`, so the step is
 * −η·(clip(m̂ / max(γ·h, ε), −ρ, ρ) + λ·p). With the default clipping ρ = 1 no
 * coordinate moves by more than η·(1 + λ·|p|). `update` needs `params` when
 * λ ≠ 0 and always `extras.hessianVectorProduct`.
 *
 * @category optimizers
 * @since 0.1.0
 */
export const sophia = (
  learningRate: StepSize,
  options: SophiaOptions = {}
): GradientTransform<[ScaleBySophiaState, StepSizeState, StepSizeState]> =>
  chain(
    scaleBySophia(options),
    addDecayedWeights(options.weightDecay ?? sophiaDefaults.weightDecay),
    scaleByLearningRate(learningRate)
  )
