/**
 * Gradient accumulation: an optimizer step from the mean of the gradients of
 * k consecutive mini-batches, for an effective batch k times larger than
 * what fits in memory at once (Optax's `MultiSteps`).
 *
 * `multiSteps(inner, { everyK: k })` accumulates the running mean of the
 * incoming gradients, returns zero updates for k − 1 calls, and on the k-th
 * passes the mean to `inner` and returns its update:
 *
 *   ḡ ← ḡ + (g − ḡ)/(n + 1)   (n = mini-steps accumulated so far; Welford's mean),
 *   u = 0 for n + 1 < k,   u = inner(ḡ) and ḡ ← 0 at n + 1 = k.
 *
 * `inner` is updated (and its state advanced) only on the k-th call, so its
 * step count is the number of *gradient steps*. A function `everyK(step)`
 * may vary k with the gradient step (a growing batch size). An optional
 * `shouldSkipUpdate` rejects a mini-step (`skipNotFinite` skips gradients
 * with NaN or ±∞): the update is zero and nothing is accumulated, as if the
 * call had not happened.
 *
 * The accumulator is float64, like every buffer of this library; Optax's
 * default accumulator is float32 (`accumulator_dtype`), so compare with Optax
 * run with `accumulator_dtype=jnp.float64`.
 *
 * @since 0.1.0
 */
import type { GradientTransform } from "./GradientTransform.ts"
import { increment, invalid, leavesLike, requirePositiveInteger } from "./internal/validate.ts"
import type { Params } from "./Tree.ts"
import * as Tree from "./Tree.ts"

/**
 * Decides whether a mini-step's gradient is rejected (Optax's
 * `ShouldSkipUpdateFunction`, returning just the decision): called with the
 * incoming updates, the current gradient step and the parameters (when
 * given to `update`).
 *
 * @category models
 * @since 0.1.0
 */
export type ShouldSkipUpdate = (updates: Params, gradientStep: number, params: Params | undefined) => boolean

/**
 * Rejects updates containing NaN or ±∞ (Optax's `skip_not_finite`).
 *
 * @category evaluators
 * @since 0.1.0
 */
export const skipNotFinite: ShouldSkipUpdate = (updates) => {
  for (const u of Tree.leaves(updates)) {
    for (let i = 0; i < u.length; i++) if (!Number.isFinite(u[i]!)) return true
  }
  return false
}

/**
 * Rejects updates whose squared global norm Σ uᵢ² is not below
 * `maxSquaredNorm` (also NaN norms), as Optax's `skip_large_updates`.
 * `maxSquaredNorm` must be > 0, else `Errors.InvalidOptions`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const skipLargeUpdates = (maxSquaredNorm: number): ShouldSkipUpdate => {
  if (typeof maxSquaredNorm !== "number" || Number.isNaN(maxSquaredNorm) || maxSquaredNorm <= 0) {
    throw invalid("skipLargeUpdates", "maxSquaredNorm", maxSquaredNorm, "a number > 0")
  }
  return (updates) => !(Tree.squaredNorm(updates) < maxSquaredNorm)
}

/**
 * Options of `multiSteps`.
 *
 * @category models
 * @since 0.1.0
 */
export interface MultiStepsOptions {
  /**
   * Mini-steps per gradient step: an integer ≥ 1, or a function of the
   * gradient step returning one (Optax's `every_k_schedule`).
   */
  readonly everyK: number | ((gradientStep: number) => number)
  /** Average the accumulated gradients (default true); false sums them. */
  readonly useGradMean?: boolean
  /** Rejects a mini-step (see `ShouldSkipUpdate`); default: none, as Optax. */
  readonly shouldSkipUpdate?: ShouldSkipUpdate
}

/**
 * State of `multiSteps` (Optax's `MultiStepsState`).
 *
 * @category models
 * @since 0.1.0
 */
export interface MultiStepsState<S> {
  /** Mini-steps accumulated since the last gradient step, in [0, k). */
  miniStep: number
  /** Gradient steps taken (updates of the inner transform). */
  gradientStep: number
  /** The inner transform's state. */
  innerState: S
  /** The accumulated mean (or sum) of the gradients of this gradient step. */
  readonly accGrads: Params
  /** Whether `shouldSkipUpdate` rejected the last mini-step. */
  lastSkipped: boolean
  /** The number of rejected mini-steps. */
  totalSkipped: number
}

/**
 * Accumulates gradients over k mini-steps (Optax's `MultiSteps`): returns
 * zero updates while accumulating, and the inner transform's update of the
 * mean gradient ḡ = (1/k)·Σ gᵢ every k-th call (see the module
 * documentation). `params` and `extras` of the k-th call reach `inner`.
 *
 * Bad options throw `Errors.InvalidOptions` naming the field (`everyK`, also
 * when a function returns something other than an integer ≥ 1;
 * `shouldSkipUpdate`); an updates tree of another structure throws
 * `Errors.DimensionMismatch`.
 *
 * @category combinators
 * @since 0.1.0
 */
export const multiSteps = <S>(
  inner: GradientTransform<S>,
  options: MultiStepsOptions
): GradientTransform<MultiStepsState<S>> => {
  const op = "multiSteps"
  const everyK = options.everyK
  if (typeof everyK === "number") requirePositiveInteger(op, "everyK", everyK)
  else if (typeof everyK !== "function") {
    throw invalid(op, "everyK", everyK, "an integer ≥ 1 or a function of the gradient step")
  }
  const shouldSkip = options.shouldSkipUpdate
  if (shouldSkip !== undefined && typeof shouldSkip !== "function") {
    throw invalid(op, "shouldSkipUpdate", shouldSkip, "a function (updates, gradientStep, params) => boolean")
  }
  const mean = options.useGradMean ?? true
  return {
    init: (params) => ({
      miniStep: 0,
      gradientStep: 0,
      innerState: inner.init(params),
      accGrads: Tree.zerosLike(params),
      lastSkipped: false,
      totalSkipped: 0
    }),
    update: (updates, state, params, extras) => {
      const accs = Tree.leaves(state.accGrads)
      const gs = leavesLike(op, updates, accs)
      const k =
        typeof everyK === "number" ? everyK : requirePositiveInteger(op, "everyK", everyK(state.gradientStep))
      if (shouldSkip !== undefined && shouldSkip(updates, state.gradientStep, params)) {
        for (const g of gs) g.fill(0)
        state.lastSkipped = true
        state.totalSkipped = increment(state.totalSkipped)
        return { updates, state }
      }
      state.lastSkipped = false
      const emit = state.miniStep === k - 1
      // Welford's running mean, acc + (g − acc)/(n + 1), as Optax.
      const n1 = state.miniStep + 1
      for (let j = 0; j < gs.length; j++) {
        const g = gs[j]!
        const acc = accs[j]!
        for (let i = 0; i < g.length; i++) {
          const a = mean ? acc[i]! + (g[i]! - acc[i]!) / n1 : g[i]! + acc[i]!
          // On the k-th mini-step the accumulated gradient becomes the inner
          // transform's input (written into the updates) and the accumulator
          // restarts from zero; before, the updates are zero.
          acc[i] = emit ? 0 : a
          g[i] = emit ? a : 0
        }
      }
      state.miniStep = increment(state.miniStep) % k
      if (!emit) return { updates, state }
      const r = inner.update(updates, state.innerState, params, extras)
      state.innerState = r.state
      state.gradientStep = increment(state.gradientStep)
      return { updates: r.updates, state }
    }
  }
}

/**
 * True when the last call of a `multiSteps` update was a gradient step
 * (returned the inner transform's update): `miniStep = 0` and
 * `gradientStep > 0`, as Optax's `MultiSteps.has_updated`, and (unlike
 * Optax, which looks at the counters only) the last mini-step was not
 * skipped.
 *
 * @category accessors
 * @since 0.1.0
 */
export const hasUpdated = (state: MultiStepsState<unknown>): boolean =>
  state.miniStep === 0 && state.gradientStep > 0 && !state.lastSkipped
