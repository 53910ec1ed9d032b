/**
 * Grams, gradient descent with adaptive momentum scaling (Cao, Li & Song,
 * "Grams: Gradient Descent with Adaptive Momentum Scaling", arXiv 2412.17107,
 * 2024/2025): Adam's moments decide how far each coordinate moves, the
 * current gradient decides in which direction. With Adam's update
 * a_t = m̂_t/(√v̂_t + ε),
 *
 *   u_t = sign(g_t) ⊙ |a_t|,   x_t = x_{t−1} − η_t·(u_t + λ·x_{t−1}),
 *
 * so every coordinate moves downhill on the current gradient (Adam's step can
 * point uphill while its momentum lags a sign change), and a coordinate with
 * a zero gradient does not move. Cautious optimizers (`CautiousWeightDecay.cautious`)
 * drop the disagreeing coordinates; Grams keeps them with the gradient's sign.
 *
 * `grams` is `chain(scaleByGrams(options), addDecayedWeights(λ),
 * scaleByLearningRate(η))`, AdamW's structure. Its Adam arithmetic is
 * `Transforms.scaleByAdam`'s, so with the same gradients |u| equals Adam's
 * update bit for bit (test/grams.test.ts).
 *
 * @since 0.1.0
 */
import { chain, type GradientTransform } from "./GradientTransform.ts"
import { increment, leavesLike, requireDecay, requireNonNegative } from "./internal/validate.ts"
import type { LearningRateState } from "./Optimizers.ts"
import {
  addDecayedWeights,
  type ScaleByAdamState,
  type StepSize,
  scaleByAdamDefaults,
  scaleByLearningRate
} from "./Transforms.ts"
import * as Tree from "./Tree.ts"

/**
 * Options of `scaleByGrams` (Adam's, without Nesterov).
 *
 * @category models
 * @since 0.1.0
 */
export interface ScaleByGramsOptions {
  /** Decay of the first-moment average, in [0, 1). Default 0.9. */
  readonly b1?: number
  /** Decay of the second-moment average, in [0, 1). Default 0.999. */
  readonly b2?: number
  /** Added to √v̂ in the denominator, ≥ 0. Default 1e-8. */
  readonly eps?: number
  /** Added to v̂ inside the square root, ≥ 0. Default 0. */
  readonly epsRoot?: number
}

/**
 * Grams' scaling (Cao, Li & Song, arXiv 2412.17107): Adam's moments and bias
 * correction, exactly as `Transforms.scaleByAdam`, with t the step count after
 * incrementing,
 *
 *   m ← (1 − β₁)·g + β₁·m,   v ← (1 − β₂)·g² + β₂·v,
 *   a = (m/(1 − β₁ᵗ)) / (√(v/(1 − β₂ᵗ) + ε_root) + ε),   u = sign(g)·|a|.
 *
 * sign(0) = 0: a coordinate with a zero gradient gets a zero update. The
 * defaults are Adam's (ε = 1e-8 added to √v̂); the authors' PyTorch code adds
 * ε = 1e-6 to √v before bias correction, a different ε convention. The state
 * is Adam's (`ScaleByAdamState`).
 *
 * @category transforms
 * @since 0.1.0
 */
export const scaleByGrams = (options: ScaleByGramsOptions = {}): GradientTransform<ScaleByAdamState> => {
  const op = "scaleByGrams"
  const b1 = requireDecay(op, "b1", options.b1 ?? scaleByAdamDefaults.b1)
  const b2 = requireDecay(op, "b2", options.b2 ?? scaleByAdamDefaults.b2)
  const eps = requireNonNegative(op, "eps", options.eps ?? scaleByAdamDefaults.eps)
  const epsRoot = requireNonNegative(op, "epsRoot", options.epsRoot ?? scaleByAdamDefaults.epsRoot)
  const c1 = 1 - b1
  const c2 = 1 - b2
  return {
    init: (params) => ({ count: 0, mu: Tree.zerosLike(params), nu: Tree.zerosLike(params) }),
    update: (updates, state) => {
      const mus = Tree.leaves(state.mu)
      const nus = Tree.leaves(state.nu)
      const gs = leavesLike(op, updates, mus)
      const t = increment(state.count)
      // Bias corrections as multiplications by reciprocals, as scaleByAdam
      // (XLA's rewrite of Optax's division by a broadcast scalar).
      const r1 = 1 / (1 - b1 ** t)
      const r2 = 1 / (1 - b2 ** t)
      for (let k = 0; k < gs.length; k++) {
        const g = gs[k]!
        const mu = mus[k]!
        const nu = nus[k]!
        for (let i = 0; i < g.length; i++) {
          const gi = g[i]!
          const m = c1 * gi + b1 * mu[i]!
          const v = c2 * (gi * gi) + b2 * nu[i]!
          mu[i] = m
          nu[i] = v
          g[i] = Math.sign(gi) * Math.abs((m * r1) / (Math.sqrt(v * r2 + epsRoot) + eps))
        }
      }
      state.count = t
      return { updates, state }
    }
  }
}

/**
 * Options of `grams`: those of `scaleByGrams`, plus the decoupled weight
 * decay λ (≥ 0 or a schedule; default 0, the authors' default).
 *
 * @category models
 * @since 0.1.0
 */
export interface GramsOptions extends ScaleByGramsOptions {
  readonly weightDecay?: StepSize
}

/**
 * Grams (Cao, Li & Song, arXiv 2412.17107): `chain(scaleByGrams(options),
 * addDecayedWeights(λ), scaleByLearningRate(η))`, so the step is
 * −η·(sign(g) ⊙ |m̂/(√v̂ + ε)| + λ·x) with decoupled weight decay as in AdamW.
 * Defaults β₁ = 0.9, β₂ = 0.999, ε = 1e-8, ε_root = 0, λ = 0.
 *
 * @category optimizers
 * @since 0.1.0
 */
export const grams = (
  learningRate: StepSize,
  options: GramsOptions = {}
): GradientTransform<[ScaleByAdamState, LearningRateState, LearningRateState]> =>
  chain(scaleByGrams(options), addDecayedWeights(options.weightDecay ?? 0), scaleByLearningRate(learningRate))
