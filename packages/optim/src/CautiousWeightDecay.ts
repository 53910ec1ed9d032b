/**
 * Cautious weight decay and cautious masking: two "one-line" modifications of
 * momentum optimizers that act only on the coordinates where two directions
 * agree in sign.
 *
 * Cautious weight decay (CWD; Chen, Li, Liang, Su, Xie, Pierse, Liang, Lao &
 * Liu, "Cautious Weight Decay", arXiv 2510.12402, 2025) applies decoupled
 * weight decay only where the parameter and the optimizer's update direction
 * have the same sign:
 *
 *   x_{t+1} = x_t − η_t·(u_t + λ·𝕀(u_t ⊙ x_t ≥ 0) ⊙ x_t),
 *
 * where u_t is the base optimizer's direction (Adam's m̂/(√v̂ + ε), Lion's
 * sign, …), so that decay never pulls a coordinate against the step the
 * optimizer is taking. Standard decoupled decay implicitly optimizes a
 * regularized (AdamW) or box-constrained (Lion) problem; CWD keeps the
 * original objective and, near its stationary set, searches for small-norm
 * stationary points. It needs no new hyperparameter: `adamwCautious` and
 * `lionCautious` take AdamW's and Lion's.
 *
 * Cautious masking (Liang, Chen, Liu & Liu, "Cautious Optimizers: Improving
 * Training with One Line of Code", arXiv 2411.16085, 2024) zeroes the update
 * coordinates whose sign disagrees with the current gradient, and rescales
 * the rest so the average magnitude is kept: `cautious(inner)`.
 *
 * Both follow the memory contract of `GradientTransform.ts`: `update` writes
 * in place into the incoming updates; `cautious` allocates its one buffer in
 * `init`.
 *
 * @since 0.1.0
 */
import { chain, type EmptyState, emptyState, type GradientTransform } from "./GradientTransform.ts"
import { increment, leavesLike, requireParams, requireStepSize } from "./internal/validate.ts"
import type { AdamWOptions, LearningRateState, LionOptions } from "./Optimizers.ts"
import {
  type CountState,
  type ScaleByAdamState,
  type ScaleByLionState,
  type StepSize,
  type StepSizeState,
  scaleByAdam,
  scaleByLearningRate,
  scaleByLion,
  stepSizeAt
} from "./Transforms.ts"
import type { Params } from "./Tree.ts"
import * as Tree from "./Tree.ts"

/**
 * Adds cautious decoupled weight decay (Chen et al., "Cautious Weight Decay",
 * arXiv 2510.12402, 2025): `uᵢ ← uᵢ + λ·pᵢ` where `uᵢ·pᵢ ≥ 0`, and `uᵢ`
 * unchanged where the update and the parameter have strictly opposite signs.
 * Together with a following `scaleByLearningRate(η)` this is the paper's
 * x ← x − η·(u + λ·𝕀(u ⊙ x ≥ 0) ⊙ x).
 *
 * Place it where `addDecayedWeights` would go: after the transform that
 * produces the direction u (whose sign is the descent direction before the
 * learning rate flips it) and before `scaleByLearningRate`. The indicator is
 * decided on the signs of uᵢ and pᵢ (zero counts as agreeing), not on their
 * rounded product, which could underflow to ±0 for tiny opposite-signed
 * entries. A NaN entry is left unchanged.
 *
 * λ is a constant (state `EmptyState`; λ = 0 is a no-op) or a schedule
 * evaluated at the step count (state `{ count }`), as in
 * `Transforms.addDecayedWeights`. `update` requires `params`.
 *
 * @category transforms
 * @since 0.1.0
 */
export const addCautiousDecayedWeights = (weightDecay: StepSize = 0): GradientTransform<StepSizeState> => {
  const op = "addCautiousDecayedWeights"
  requireStepSize(op, "weightDecay", weightDecay)
  const apply = (updates: Params, params: Params | undefined, s: number): void => {
    for (const [u, p] of Tree.zip(updates, requireParams(op, params), op)) {
      for (let i = 0; i < u.length; i++) {
        const ui = u[i]!
        const pi = p[i]!
        if ((ui >= 0 && pi >= 0) || (ui <= 0 && pi <= 0)) u[i] = ui + s * pi
      }
    }
  }
  if (typeof weightDecay === "number") {
    const constant: GradientTransform<EmptyState> = {
      init: () => emptyState,
      update: (updates, state, params) => {
        if (weightDecay !== 0) apply(updates, params, weightDecay)
        return { updates, state }
      }
    }
    return constant as GradientTransform<StepSizeState>
  }
  const scheduled: GradientTransform<CountState> = {
    init: () => ({ count: 0 }),
    update: (updates, state, params) => {
      apply(updates, params, stepSizeAt(weightDecay, state.count))
      state.count = increment(state.count)
      return { updates, state }
    }
  }
  return scheduled as GradientTransform<StepSizeState>
}

/**
 * AdamW with cautious weight decay: `chain(scaleByAdam(options),
 * addCautiousDecayedWeights(λ), scaleByLearningRate(η))`, i.e. `Optimizers.adamw`
 * with `addDecayedWeights` replaced (Chen et al., arXiv 2510.12402, 2025).
 * Same options and defaults as `Optimizers.adamw` (λ = 1e-4): the paper uses
 * the AdamW hyperparameters unchanged.
 *
 * @category optimizers
 * @since 0.1.0
 */
export const adamwCautious = (
  learningRate: StepSize,
  options: AdamWOptions = {}
): GradientTransform<[ScaleByAdamState, LearningRateState, LearningRateState]> =>
  chain(
    scaleByAdam(options),
    addCautiousDecayedWeights(options.weightDecay ?? 1e-4),
    scaleByLearningRate(learningRate)
  )

/**
 * Lion with cautious weight decay: `chain(scaleByLion(options),
 * addCautiousDecayedWeights(λ), scaleByLearningRate(η))`, i.e.
 * `Optimizers.lion` with `addDecayedWeights` replaced (Chen et al., arXiv
 * 2510.12402, 2025). Same options and defaults as `Optimizers.lion`
 * (β₁ = 0.9, β₂ = 0.99, λ = 1e-3). Unlike Lion's decay, which confines the
 * iterates to the box ‖x‖∞ ≤ 1/λ, cautious decay leaves the objective
 * unconstrained.
 *
 * @category optimizers
 * @since 0.1.0
 */
export const lionCautious = (
  learningRate: StepSize,
  options: LionOptions = {}
): GradientTransform<[ScaleByLionState, LearningRateState, LearningRateState]> => {
  const lionOptions: { b1?: number; b2?: number } = {}
  if (options.b1 !== undefined) lionOptions.b1 = options.b1
  if (options.b2 !== undefined) lionOptions.b2 = options.b2
  return chain(
    scaleByLion(lionOptions),
    addCautiousDecayedWeights(options.weightDecay ?? 1e-3),
    scaleByLearningRate(learningRate)
  )
}

/**
 * The floor of the kept fraction in `cautious`'s rescaling: with fewer than
 * 0.1% of a leaf's coordinates kept, the survivors are scaled by at most 1000.
 * The value of the authors' reference implementation.
 *
 * @category models
 * @since 0.1.0
 */
export const cautiousMinKeptFraction = 1e-3

/**
 * State of `cautious`: a copy of the incoming gradient (needed after the
 * inner transform has overwritten it) and the inner transform's state.
 *
 * @category models
 * @since 0.1.0
 */
export interface CautiousState<S> {
  readonly gradient: Params
  innerState: S
}

/** uᵢ·gᵢ > 0, decided on the signs (a rounded product could underflow to 0). */
const agree = (u: number, g: number): boolean => (u > 0 && g > 0) || (u < 0 && g < 0)

/**
 * Cautious masking (Liang, Chen, Liu & Liu, "Cautious Optimizers: Improving
 * Training with One Line of Code", arXiv 2411.16085, 2024): runs `inner` on
 * the gradient g, then, leaf by leaf (one parameter tensor at a time), keeps
 * only the coordinates where the inner update u agrees with the gradient,
 *
 *   φᵢ = 𝕀(uᵢ·gᵢ > 0),   uᵢ ← φᵢ·uᵢ / max(mean(φ), 10⁻³),
 *
 * so a step never moves a coordinate uphill on the current gradient, and the
 * average magnitude of the leaf's update is kept. As in
 * `addCautiousDecayedWeights`, 𝕀(uᵢ·gᵢ > 0) is decided on the signs (both
 * nonzero and equal), not on the rounded product. The rescaling by the
 * kept fraction, floored at `cautiousMinKeptFraction` and applied per
 * parameter tensor, follows the authors' reference implementation.
 *
 * Wrap the transform that produces the direction, before the learning rate:
 * `chain(cautious(scaleByAdam()), addDecayedWeights(λ), scaleByLearningRate(η))`
 * is C-AdamW, `chain(cautious(scaleByLion()), …)` C-Lion. `extras` and
 * `params` are passed to `inner` unchanged.
 *
 * @category transforms
 * @since 0.1.0
 */
export const cautious = <S>(inner: GradientTransform<S>): GradientTransform<CautiousState<S>> => {
  const op = "cautious"
  return {
    init: (params) => ({ gradient: Tree.zerosLike(params), innerState: inner.init(params) }),
    update: (updates, state, params, extras) => {
      const saved = Tree.leaves(state.gradient)
      const gs = leavesLike(op, updates, saved)
      for (let k = 0; k < gs.length; k++) saved[k]!.set(gs[k]!)
      const r = inner.update(updates, state.innerState, params, extras)
      state.innerState = r.state
      const us = leavesLike(op, r.updates, saved)
      for (let k = 0; k < us.length; k++) {
        const u = us[k]!
        const g = saved[k]!
        const n = u.length
        if (n === 0) continue
        let kept = 0
        for (let i = 0; i < n; i++) if (agree(u[i]!, g[i]!)) kept++
        const c = 1 / Math.max(kept / n, cautiousMinKeptFraction)
        for (let i = 0; i < n; i++) u[i] = agree(u[i]!, g[i]!) ? u[i]! * c : 0
      }
      return { updates: r.updates, state }
    }
  }
}
