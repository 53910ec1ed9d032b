/**
 * Polyak step sizes: learning rates computed from the objective's value.
 * When the optimal value f* (or a lower bound on it) is known — 0 for models
 * that interpolate their data — the step that would reach f* along the
 * gradient if f were linear is (f(x) − f*)/‖∇f(x)‖² (Polyak, 1987). The
 * stochastic Polyak step size SPS_max (Loizou, Vaswani, Laradji &
 * Lacoste-Julien, "Stochastic Polyak Step-size for SGD: An Adaptive Learning
 * Rate for Fast Convergence", AISTATS 2021) caps it:
 *
 *   x ← x − min((f(x) − f*)/(‖g‖² + ε), γ_max)·g,
 *
 * and SPS+ (Garrigos, Gower & Schaipp, 2023) uses the positive part of the
 * gap f(x) − f*. `scaleByPolyak` and `polyakSgd` reproduce
 * `optax.scale_by_polyak` and `optax.polyak_sgd` (Optax 0.2.8) bit for bit in
 * float64 in the tested cases.
 *
 * Momentum variant: `momo` is MoMo (Schaipp, Ohana, Eickenberg, Defazio &
 * Gower, "MoMo: Momentum Models for Adaptive Learning Rates", ICML 2024),
 * `optax.contrib.momo`: SGD with heavy-ball momentum whose step is the
 * Polyak step of a model built from averaged losses, gradients and
 * ⟨gradient, iterate⟩ products, capped by the learning rate. It was chosen
 * over chaining `trace` after a Polyak step (whose averaged directions no
 * longer satisfy the Polyak step's derivation) because it is the published
 * momentum form of SPS_max and has an Optax reference.
 *
 * The objective's value f(x) (of the same minibatch as the gradient) is
 * passed to `update` in `extras.value` (`GradientTransform.UpdateExtras`);
 * when it is missing, `update` throws `Errors.InvalidOptions` naming
 * `value`.
 *
 * @since 0.1.0
 */
import { chain, type EmptyState, emptyState, type GradientTransform } from "./GradientTransform.ts"
import {
  increment,
  invalid,
  leavesLike,
  requireDecay,
  requireFinite,
  requireNonNegative,
  requireParams,
  requireStepSize
} from "./internal/validate.ts"
import { type LearningRateState, sgd } from "./Optimizers.ts"
import { type StepSize, stepSizeAt, type TraceState } from "./Transforms.ts"
import type { Params } from "./Tree.ts"
import * as Tree from "./Tree.ts"

/** The machine epsilon of float64 (`jnp.finfo(float).eps`): below it a squared norm counts as zero. */
const FLOAT64_EPS = Number.EPSILON

/** `extras.value`, required: a number. */
const requireValue = (operation: string, value: number | undefined): number => {
  if (typeof value !== "number") {
    throw invalid(operation, "value", value, "the objective's value, passed to update in extras.value")
  }
  return value
}

/**
 * Options of `scaleByPolyak`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScaleByPolyakOptions {
  /** f*: a lower bound on (guess of) the objective's minimum. Default 0. */
  readonly fMin?: number
  /** γ_max ≥ 0: the largest step size. Default 1. */
  readonly maxLearningRate?: number
  /** ε ≥ 0 added to ‖g‖² in the denominator. Default 0. */
  readonly eps?: number
  /** `"sps"` (the gap f − f*) or `"sps+"` (its positive part). Default `"sps"`. */
  readonly variant?: "sps" | "sps+"
}

/**
 * Default options of `scaleByPolyak` and `polyakSgd` (Optax's defaults).
 *
 * @category models
 * @since 0.1.0
 */
export const scaleByPolyakDefaults = { fMin: 0, maxLearningRate: 1, eps: 0, variant: "sps" } as const

/**
 * Scales the updates by Polyak's step size (Loizou et al., AISTATS 2021), as
 * `optax.scale_by_polyak`: with f = `extras.value` and ‖u‖² the squared global
 * norm of the incoming updates,
 *
 *   s = min((f − f*)/(‖u‖² + ε), γ_max)   (SPS+: (f − f*)₊ in the numerator),
 *   u ← s·u,
 *
 * and s = 0 when ‖u‖² + ε ≤ 2⁻⁵² (a zero gradient takes no step). With the
 * plain `"sps"` variant a value below f* gives a negative step (an ascent
 * step), as in Optax. Stateless; throws `Errors.InvalidOptions` naming
 * `value` when `extras.value` is missing.
 *
 * @category transforms
 * @since 0.1.0
 */
export const scaleByPolyak = (options: ScaleByPolyakOptions = {}): GradientTransform<EmptyState> => {
  const op = "scaleByPolyak"
  const fMin = requireFinite(op, "fMin", options.fMin ?? scaleByPolyakDefaults.fMin)
  const maxLearningRate = requireNonNegative(
    op,
    "maxLearningRate",
    options.maxLearningRate ?? scaleByPolyakDefaults.maxLearningRate
  )
  const eps = requireNonNegative(op, "eps", options.eps ?? scaleByPolyakDefaults.eps)
  const variant = options.variant ?? scaleByPolyakDefaults.variant
  if (variant !== "sps" && variant !== "sps+") throw invalid(op, "variant", variant, `"sps" or "sps+"`)
  const positivePart = variant === "sps+"
  return {
    init: () => emptyState,
    update: (updates, state, _params, extras) => {
      const value = requireValue(op, extras?.value)
      const squaredNorm = Tree.squaredNorm(updates)
      let gap = value - fMin
      if (positivePart) gap = Math.max(gap, 0)
      const denominator = squaredNorm + eps
      const step = denominator <= FLOAT64_EPS ? 0 : Math.min(gap / denominator, maxLearningRate)
      for (const u of Tree.leaves(updates)) for (let i = 0; i < u.length; i++) u[i] = step * u[i]!
      return { updates, state }
    }
  }
}

/**
 * Options of `polyakSgd`: those of `scaleByPolyak`, plus a global scaling s.
 *
 * @category models
 * @since 0.1.0
 */
export interface PolyakSgdOptions extends ScaleByPolyakOptions {
  /**
   * s ≥ 0 or a schedule, applied before the Polyak step as in Optax: the
   * updates entering `scaleByPolyak` are −s·g, so the Polyak step is computed
   * from ‖s·g‖² and the overall step is −s·min((f − f*)/(s²‖g‖² + ε), γ_max)·g.
   * Default 1.
   */
  readonly scaling?: StepSize
}

/**
 * SGD with the Polyak step size SPS_max (Loizou et al., AISTATS 2021):
 * `chain(Optimizers.sgd(s), scaleByPolyak(options))`, Optax's `polyak_sgd`,
 * so with the default s = 1 the step is
 * x ← x − min((f(x) − f*)/(‖g‖² + ε), γ_max)·g.
 * Pass f(x) in `extras.value`. Defaults γ_max = 1, f* = 0, ε = 0, `"sps"`.
 *
 * @category optimizers
 * @since 0.1.0
 */
export const polyakSgd = (
  options: PolyakSgdOptions = {}
): GradientTransform<[[TraceState | EmptyState, LearningRateState], EmptyState]> =>
  chain(sgd(options.scaling ?? 1), scaleByPolyak(options))

/**
 * Options of `momo`.
 *
 * @category models
 * @since 0.1.0
 */
export interface MomoOptions {
  /** β ∈ [0, 1): the averaging coefficient of the model. Default 0.9. */
  readonly beta?: number
  /** f*: a lower bound on the objective. Default 0. */
  readonly lowerBound?: number
  /** λ ≥ 0: weight decay, applied as in the MoMo paper's AdamW-like form. Default 0. */
  readonly weightDecay?: number
  /** Estimate the lower bound on the fly (MoMo*, the paper's §5). Default false. */
  readonly adaptLowerBound?: boolean
}

/**
 * Default options of `momo` (Optax's defaults; the learning rate defaults to 1).
 *
 * @category models
 * @since 0.1.0
 */
export const momoDefaults = { beta: 0.9, lowerBound: 0, weightDecay: 0, adaptLowerBound: false } as const

/**
 * State of `momo`: the averaged gradient d, the averaged loss f̄, the averaged
 * ⟨g, x⟩ (γ), the current lower bound and the step count.
 *
 * @category models
 * @since 0.1.0
 */
export interface MomoState {
  readonly expAvg: Params
  barf: number
  gamma: number
  lb: number
  count: number
}

/**
 * MoMo (Schaipp et al., "MoMo: Momentum Models for Adaptive Learning Rates",
 * ICML 2024), as `optax.contrib.momo` (Optax 0.2.8): with f = `extras.value`,
 * α = the learning rate at the step count, β_t = 0 at the first step and β
 * after, and λ the weight decay,
 *
 *   f̄ ← β_t·f̄ + (1 − β_t)·f,   d ← β_t·d + (1 − β_t)·g,   γ ← β_t·γ + (1 − β_t)·⟨g, x⟩,
 *   τ = min(α, max((1 + αλ)(f̄ − f* − γ) + ⟨d, x⟩, 0)/‖d‖²)   (τ = 0 if ‖d‖² ≤ 2⁻⁵²),
 *   x ← x − αλ/(1 + αλ)·x − τ·d.
 *
 * With `adaptLowerBound`, f* starts at `lowerBound` and is lowered and
 * re-estimated each step as in the paper's MoMo* (never below `lowerBound`).
 * This is SGD with heavy-ball momentum d and a Polyak-type step capped by α:
 * the momentum variant of SPS_max. Returns the full step (learning rate
 * included); `update` requires `params` and `extras.value`.
 *
 * The inner products ⟨g, x⟩ and ⟨d, x⟩ round each product and sum in index
 * order. This reproduces Optax's `momo` bit for bit when its `vdot` is summed
 * the same way; XLA evaluates Optax's `vdot` as a chain of fused
 * multiply-adds, so Optax proper differs by those ulps (≤ 5e-14 relative over
 * 100 steps in the tested cases, except MoMo* on Rosenbrock, whose
 * lower-bound feedback amplifies them to 1e-11; test/polyak.test.ts).
 *
 * @category optimizers
 * @since 0.1.0
 */
export const momo = (learningRate: StepSize = 1, options: MomoOptions = {}): GradientTransform<MomoState> => {
  const op = "momo"
  requireStepSize(op, "learningRate", learningRate)
  const beta = requireDecay(op, "beta", options.beta ?? momoDefaults.beta)
  const lowerBound = requireFinite(op, "lowerBound", options.lowerBound ?? momoDefaults.lowerBound)
  const weightDecay = requireNonNegative(op, "weightDecay", options.weightDecay ?? momoDefaults.weightDecay)
  const adapt = options.adaptLowerBound ?? momoDefaults.adaptLowerBound
  if (typeof adapt !== "boolean") throw invalid(op, "adaptLowerBound", adapt, "a boolean")
  return {
    init: (params) => ({ expAvg: Tree.zerosLike(params), barf: 0, gamma: 0, lb: lowerBound, count: 0 }),
    update: (updates, state, params, extras) => {
      const value = requireValue(op, extras?.value)
      const ds = Tree.leaves(state.expAvg)
      const gs = leavesLike(op, updates, ds)
      const xs = leavesLike(op, requireParams(op, params), ds)
      const bt = state.count === 0 ? 0 : beta
      const ct = 1 - bt
      const barf = bt * state.barf + ct * value
      let gx = 0
      let dd = 0
      let dx = 0
      for (let k = 0; k < gs.length; k++) {
        const g = gs[k]!
        const d = ds[k]!
        const x = xs[k]!
        for (let i = 0; i < g.length; i++) {
          const gi = g[i]!
          const xi = x[i]!
          const di = bt * d[i]! + ct * gi
          d[i] = di
          gx += gi * xi
          dd += di * di
          dx += di * xi
        }
      }
      const gamma = bt * state.gamma + ct * gx
      const alpha = stepSizeAt(learningRate, state.count)
      const decay = 1 + alpha * weightDecay
      let lb = state.lb
      if (adapt) {
        const cap = decay * (barf - gamma) + dx
        if (cap < decay * lb) lb = Math.max(cap / (2 * decay), lowerBound)
      }
      const t1 = dd <= FLOAT64_EPS ? 0 : Math.max(decay * (barf - lb - gamma) + dx, 0) / dd
      const tau = Math.min(alpha, t1)
      const shrink = -(alpha * weightDecay) / decay
      for (let k = 0; k < gs.length; k++) {
        const u = gs[k]!
        const d = ds[k]!
        const x = xs[k]!
        for (let i = 0; i < u.length; i++) u[i] = shrink * x[i]! - tau * d[i]!
      }
      if (adapt) state.lb = Math.max(barf + dx - gamma - 0.5 * tau * dd, lowerBound)
      state.barf = barf
      state.gamma = gamma
      state.count = increment(state.count)
      return { updates, state }
    }
  }
}
