/**
 * AdaHessian (Yao, Gholami, Shen, Mustafa, Keutzer & Mahoney, "ADAHESSIAN: An
 * Adaptive Second Order Optimizer for Machine Learning", AAAI 2021,
 * arXiv:2006.00719): Adam with the squared gradient replaced by the squared
 * Hessian diagonal, so the step adapts to curvature rather than to gradient
 * magnitude.
 *
 * Each step estimates the Hessian diagonal with Hutchinson's method,
 * D = z ⊙ (∇²f·z) for a Rademacher vector z (E[D] = diag ∇²f; exact for
 * every z when the Hessian is diagonal), optionally averages D over
 * consecutive blocks of b entries of a leaf (the paper's spatial averaging,
 * eq. (10), for convolution kernels: b = kernel height × width), and with t the
 * step count after incrementing and k the Hessian power (eqs. (9), (11)):
 *
 *   m ← β₁·m + (1 − β₁)·g,   v ← β₂·v + (1 − β₂)·D²,
 *   u = (m / (1 − β₁ᵗ)) / ((√v)ᵏ / (√(1 − β₂ᵗ))ᵏ + ε).
 *
 * `adahessian` chains this with decoupled weight decay and the learning rate,
 * p ← p − η·(u + λ·p), as the authors' reference implementation.
 *
 * The probes are drawn from a seeded key held in the state and split at
 * every step (the scheme of `optax.contrib.hutchinson_estimator_diag_hessian`,
 * with core's JAX-compatible Threefry generator), so the same seed gives
 * bit-identical trajectories. The Hessian-vector product at the current
 * parameters is passed in `extras.hessianVectorProduct` (e.g. from
 * `Autodiff.hvp`); without it `update` throws `Errors.InvalidOptions` naming
 * `hessianVectorProduct`.
 *
 * Departures from the reference implementation: the spatial average is of D
 * itself, as in the paper's eq. (10), where the code averages |D| over the
 * kernel dimensions of 4-d tensors; and the Hessian is estimated at every
 * step with one probe (the code can estimate it every few steps).
 *
 * @since 0.1.0
 */
import type { Random } from "@descent/core"
import { Errors } from "@descent/core"
import { chain, type GradientTransform } from "./GradientTransform.ts"
import { hutchinsonDiagonal, keyFromSeed, requireHessianVectorProduct } from "./internal/hutchinson.ts"
import { type LeafAnnotations, resolveLeafAnnotations } from "./internal/leafAnnotations.ts"
import { increment, invalid, leavesLike, requireDecay, requireNonNegative } from "./internal/validate.ts"
import { addDecayedWeights, type StepSize, type StepSizeState, scaleByLearningRate } from "./Transforms.ts"
import type { Params } from "./Tree.ts"
import * as Tree from "./Tree.ts"

/**
 * Options of `scaleByAdaHessian`; defaults in `adahessianDefaults`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScaleByAdaHessianOptions {
  /** Decay β₁ of the gradient average, in [0, 1). Default 0.9. */
  readonly b1?: number
  /** Decay β₂ of the squared Hessian-diagonal average, in [0, 1). Default 0.999. */
  readonly b2?: number
  /** Added to the denominator, ≥ 0. Default 1e-4 (the paper's). */
  readonly eps?: number
  /** Hessian power k in [0, 1] (k = 1: Newton-like scaling; k = 0: momentum SGD). Default 1. */
  readonly hessianPower?: number
  /** Seed of the Rademacher probes (`Random.key(seed)`), an integer ≥ 0. Default 0. */
  readonly seed?: number
  /**
   * Spatial averaging: for the leaves listed (by index in traversal order, or
   * by path such as `"conv.kernel"`), the block size b ≥ 1 over which D is
   * averaged; the leaf's length must be a multiple of b. Unlisted leaves use
   * b = 1 (no averaging). Default: none.
   */
  readonly blockSizes?: LeafAnnotations<number>
}

/**
 * Options of `adahessian`: `scaleByAdaHessian`'s, plus decoupled weight decay.
 *
 * @category models
 * @since 0.1.0
 */
export interface AdaHessianOptions extends ScaleByAdaHessianOptions {
  /** Decoupled weight decay λ (≥ 0, or a schedule). Default 0. */
  readonly weightDecay?: StepSize
}

/**
 * Default options of `scaleByAdaHessian` and `adahessian` (the reference
 * implementation's). The paper's experiments use the learning rate 0.15.
 *
 * @category models
 * @since 0.1.0
 */
export const adahessianDefaults = {
  b1: 0.9,
  b2: 0.999,
  eps: 1e-4,
  hessianPower: 1,
  seed: 0,
  blockSizes: {},
  weightDecay: 0
} as const

/**
 * State of `scaleByAdaHessian`: step count, the key of the next probe, the
 * averages m (gradient) and v (squared Hessian diagonal), a parameter-shaped
 * probe buffer, and the resolved block size of every leaf.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScaleByAdaHessianState {
  count: number
  key: Random.Key
  readonly mu: Params
  readonly nu: Params
  readonly probe: Params
  readonly blockSizes: ReadonlyArray<number>
}

/**
 * AdaHessian's scaling (see the module comment).
 *
 * @throws InvalidOptions when an option is out of range (at construction; `blockSizes` at `init`), or at `update` when `extras.hessianVectorProduct` is missing.
 * @throws DimensionMismatch at `init` when a leaf's length is not a multiple of its block size; at `update` when the updates or the Hessian-vector product do not match the parameters.
 * @category transforms
 * @since 0.1.0
 */
export const scaleByAdaHessian = (
  options: ScaleByAdaHessianOptions = {}
): GradientTransform<ScaleByAdaHessianState> => {
  const op = "scaleByAdaHessian"
  const b1 = requireDecay(op, "b1", options.b1 ?? adahessianDefaults.b1)
  const b2 = requireDecay(op, "b2", options.b2 ?? adahessianDefaults.b2)
  const eps = requireNonNegative(op, "eps", options.eps ?? adahessianDefaults.eps)
  const k = options.hessianPower ?? adahessianDefaults.hessianPower
  if (typeof k !== "number" || !(k >= 0 && k <= 1)) throw invalid(op, "hessianPower", k, "a number in [0, 1]")
  const key = keyFromSeed(op, options.seed ?? adahessianDefaults.seed)
  const c1 = 1 - b1
  const c2 = 1 - b2
  return {
    init: (params) => {
      const leaves = Tree.leaves(params)
      const sizes = resolveLeafAnnotations(op, "blockSizes", options.blockSizes, params).map((b, index) => {
        if (b === undefined) return 1
        if (typeof b !== "number" || !Number.isInteger(b) || b < 1) {
          throw invalid(op, "blockSizes", b, `an integer ≥ 1 for leaf ${index}`)
        }
        if (leaves[index]!.length % b !== 0) {
          throw new Errors.DimensionMismatch({
            operation: op,
            what: `leaf ${index} (a whole number of blocks of ${b})`,
            expected: [Math.ceil(leaves[index]!.length / b) * b],
            actual: [leaves[index]!.length]
          })
        }
        return b
      })
      return {
        count: 0,
        key,
        mu: Tree.zerosLike(params),
        nu: Tree.zerosLike(params),
        probe: Tree.zerosLike(params),
        blockSizes: sizes
      }
    },
    update: (updates, state, _params, extras) => {
      const hvp = requireHessianVectorProduct(op, extras)
      const mus = Tree.leaves(state.mu)
      const nus = Tree.leaves(state.nu)
      const gs = leavesLike(op, updates, mus)
      state.key = hutchinsonDiagonal(op, state.key, state.probe, hvp)
      const ds = Tree.leaves(state.probe)
      const t = increment(state.count)
      const bc1 = 1 - b1 ** t
      const rootBc2 = Math.sqrt(1 - b2 ** t) ** k
      for (let j = 0; j < gs.length; j++) {
        const g = gs[j]!
        const mu = mus[j]!
        const nu = nus[j]!
        const d = ds[j]!
        const b = state.blockSizes[j]!
        if (b > 1) {
          for (let start = 0; start < d.length; start += b) {
            let s = 0
            for (let i = start; i < start + b; i++) s += d[i]!
            d.fill(s / b, start, start + b)
          }
        }
        for (let i = 0; i < g.length; i++) {
          const m = b1 * mu[i]! + c1 * g[i]!
          const di = d[i]!
          const v = b2 * nu[i]! + c2 * (di * di)
          mu[i] = m
          nu[i] = v
          g[i] = m / bc1 / (Math.sqrt(v) ** k / rootBc2 + eps)
        }
      }
      state.count = t
      return { updates, state }
    }
  }
}

/**
 * AdaHessian (Yao et al. 2021): `chain(scaleByAdaHessian(options),
 * addDecayedWeights(λ), scaleByLearningRate(η))`, the step
 * −η·((m / (1 − β₁ᵗ)) / ((√v)ᵏ/(√(1 − β₂ᵗ))ᵏ + ε) + λ·p) of the reference
 * implementation. The paper's learning rate is 0.15. `update` needs
 * `extras.hessianVectorProduct`, and `params` when λ ≠ 0.
 *
 * @category optimizers
 * @since 0.1.0
 */
export const adahessian = (
  learningRate: StepSize,
  options: AdaHessianOptions = {}
): GradientTransform<[ScaleByAdaHessianState, StepSizeState, StepSizeState]> =>
  chain(
    scaleByAdaHessian(options),
    addDecayedWeights(options.weightDecay ?? adahessianDefaults.weightDecay),
    scaleByLearningRate(learningRate)
  )
