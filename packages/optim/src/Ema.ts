/**
 * Exponential moving averages (EMAs) in an optimizer, in two distinct roles:
 *
 * - `ema(decay, { debias })` averages the **updates**: it is a transform in the
 *   gradient path, so it changes the trajectory. Followed by a learning rate,
 *   it is momentum with dampening, and with `debias` Adam's bias-corrected
 *   first moment (Optax's `optax.ema`):
 *
 *     m ← (1 − β)·u + β·m,   u ← m / (1 − βᵗ)   (u ← m without debias).
 *
 * - `emaParams(decay)` averages the **parameters**: it leaves the updates
 *   unchanged (the trajectory is that of the rest of the chain) and keeps in
 *   its state the EMA of the iterates, read with `averagedParams(state)`.
 *   This is the "EMA of weights" used for evaluation (Polyak & Juditsky 1992
 *   averaging, in its exponential form):
 *
 *     θ̄₀ = θ₀,   θ̄ ← (1 − β)·θ + β·θ̄   after every step, θ the new parameters.
 *
 * @since 0.1.0
 */
import type { GradientTransform } from "./GradientTransform.ts"
import { increment, leavesLike, requireDecay, requireParams } from "./internal/validate.ts"
import type { Params } from "./Tree.ts"
import * as Tree from "./Tree.ts"

/**
 * Options of `ema`.
 *
 * @category models
 * @since 0.1.0
 */
export interface EmaOptions {
  /** Divide the average by 1 − βᵗ (bias correction for the zero start). Default true (Optax's). */
  readonly debias?: boolean
}

/**
 * State of `ema`: the number of updates and the (not debiased) average of
 * the updates (Optax's `EmaState`).
 *
 * @category models
 * @since 0.1.0
 */
export interface EmaState {
  count: number
  readonly ema: Params
}

/**
 * The exponential moving average of the **updates** (Optax's `ema`): with t
 * the number of updates including this one,
 *
 *   m ← (1 − β)·u + β·m   (m₀ = 0),   u ← m / (1 − βᵗ)  (debias, default)  or  u ← m.
 *
 * The bias correction undoes the pull of the zero start: for constant updates
 * u the output is u at every step (up to rounding). Unlike `trace`
 * (m ← u + β·m, no (1 − β) factor), the average has the scale of the updates.
 * `decay` β is in [0, 1); otherwise `Errors.InvalidOptions` (field `decay`).
 *
 * @category transforms
 * @since 0.1.0
 */
export const ema = (decay: number, options: EmaOptions = {}): GradientTransform<EmaState> => {
  const op = "ema"
  const b = requireDecay(op, "decay", decay)
  const debias = options.debias ?? true
  const c = 1 - b
  return {
    init: (params) => ({ count: 0, ema: Tree.zerosLike(params) }),
    update: (updates, state) => {
      const ms = Tree.leaves(state.ema)
      const us = leavesLike(op, updates, ms)
      const t = increment(state.count)
      const correction = 1 - b ** t
      // Optax's bias correction `m / (1 − βᵗ)` is one jitted XLA computation
      // over the whole tree. For a tree with a single leaf of ≥ 2 entries, XLA
      // rewrites the division by the broadcast scalar as a multiplication by
      // its reciprocal (as in `Transforms.scaleByAdam`); with several leaves,
      // or one scalar leaf, it divides (checked on Optax 0.2.8 / jax 0.10.2).
      // Doing the same reproduces Optax bit for bit on both kinds of tree.
      const divide = debias && !(us.length === 1 && us[0]!.length >= 2)
      const r = debias ? 1 / correction : 1 // v·1 = v exactly
      for (let k = 0; k < us.length; k++) {
        const u = us[k]!
        const m = ms[k]!
        // Two loops rather than a per-element branch (see `scaleByAdam`).
        if (divide) {
          for (let i = 0; i < u.length; i++) {
            const v = c * u[i]! + b * m[i]!
            m[i] = v
            u[i] = v / correction
          }
        } else {
          for (let i = 0; i < u.length; i++) {
            const v = c * u[i]! + b * m[i]!
            m[i] = v
            u[i] = v * r
          }
        }
      }
      state.count = t
      return { updates, state }
    }
  }
}

/**
 * State of `emaParams`: the number of averaged steps and the running average
 * of the parameters (read it with `averagedParams`).
 *
 * @category models
 * @since 0.1.0
 */
export interface EmaParamsState {
  count: number
  readonly average: Params
}

/**
 * Keeps the exponential moving average of the **parameters** (EMA of weights,
 * Polyak averaging in exponential form) and leaves the updates unchanged:
 *
 *   θ̄₀ = θ₀ (a copy of the parameters given to `init`),
 *   θ̄ ← (1 − β)·(θ + u) + β·θ̄   at every update,
 *
 * where θ + u are the parameters after this step. Put it **last** in a
 * `chain`, so that u is the final update (`chain(Optimizers.adam(1e-3),
 * emaParams(0.999))`); `update` requires `params`. The average is read with
 * `averagedParams(state)` (for a chain, of the chain's last state). Starting
 * from θ₀ rather than zero, the average needs no bias correction. The update
 * is Optax's `optax.tree.update_moment(θ + u, θ̄, β, 1)` applied after every
 * step. `decay` β is in [0, 1); otherwise `Errors.InvalidOptions` (field
 * `decay`).
 *
 * @category transforms
 * @since 0.1.0
 */
export const emaParams = (decay: number): GradientTransform<EmaParamsState> => {
  const op = "emaParams"
  const b = requireDecay(op, "decay", decay)
  const c = 1 - b
  return {
    init: (params) => ({ count: 0, average: Tree.clone(params) }),
    update: (updates, state, params) => {
      const avg = Tree.leaves(state.average)
      const us = leavesLike(op, updates, avg)
      const ps = leavesLike(op, requireParams(op, params), avg)
      for (let k = 0; k < us.length; k++) {
        const u = us[k]!
        const p = ps[k]!
        const a = avg[k]!
        for (let i = 0; i < u.length; i++) a[i] = c * (p[i]! + u[i]!) + b * a[i]!
      }
      state.count = increment(state.count)
      return { updates, state }
    }
  }
}

/**
 * The running average of the parameters kept by `emaParams` (its own buffers,
 * not a copy: `Tree.clone` it to keep a snapshot).
 *
 * @category accessors
 * @since 0.1.0
 */
export const averagedParams = (state: EmaParamsState): Params => state.average
