/**
 * The building blocks of first-order optimizers as Optax gradient
 * transformations (names are Optax's, in camelCase): scaling by a constant or
 * a learning-rate schedule, the adaptive scalings of Adam, AMSGrad, AdaMax,
 * AdaGrad and (centered) RMSProp, momentum (`trace`), elementwise and
 * global-norm clipping, decoupled weight decay, Lion's sign update, and the
 * guards `applyIfFinite` (skip steps with NaN/∞ updates), `zeroNans` and
 * `keepNonnegative`. Optimizers (`Optimizers.ts`) are `chain`s of these.
 *
 * Every transform follows the memory contract of `GradientTransform.ts`: state
 * buffers are allocated once in `init` (`Vector.zeros`), and `update` writes the
 * new updates in place into the incoming `updates` tree, mutates the state in
 * place and returns the same state object. The arithmetic reproduces Optax's
 * float64 operation order (as executed by XLA on CPU), so trajectories agree
 * with Optax to the last bit in the tested cases (test/transforms.test.ts).
 * The known exceptions are `clipByGlobalNorm` on long leaves, whose norm XLA
 * sums in a different order (see `Tree.squaredNorm`), and `applyIfFinite`,
 * whose Optax counterpart compiles the wrapped update inside `lax.cond`, where
 * XLA may fuse multiply-adds (a few ulps after many steps).
 *
 * Hyperparameters are validated when a transform is constructed: a value
 * outside its range throws `Errors.InvalidOptions` naming the field.
 *
 * @since 0.1.0
 */
import { OptimizerKernels } from "@descent/core"
import { type EmptyState, emptyState, type GradientTransform } from "./GradientTransform.ts"
import {
  increment,
  invalid,
  leavesLike,
  requireDecay,
  requireFinite,
  requireNonNegative,
  requireParams,
  requirePositive,
  requireStepSize
} from "./internal/validate.ts"
import { evaluate, type Schedule } from "./Schedules.ts"
import type { Params } from "./Tree.ts"
import * as Tree from "./Tree.ts"

/**
 * A step size (learning rate, weight decay): a constant, a serializable
 * `Schedule` (evaluated with `Schedules.evaluate`), or a function of the step
 * count. Schedules and functions are evaluated at the number of previous
 * updates (0 at the first update), as in Optax.
 *
 * @category models
 * @since 0.1.0
 */
export type StepSize = number | Schedule | ((step: number) => number)

/**
 * The value of a step size at `step` (`Schedules.evaluate` for a schedule).
 *
 * @category evaluators
 * @since 0.1.0
 */
export const stepSizeAt = (stepSize: StepSize, step: number): number =>
  typeof stepSize === "number"
    ? stepSize
    : typeof stepSize === "function"
      ? stepSize(step)
      : evaluate(stepSize, step)

// ---------------------------------------------------------------------------
// Scaling
// ---------------------------------------------------------------------------

/**
 * Multiplies updates by a constant: `u ← stepSize · u` (Optax's `scale`).
 *
 * @category transforms
 * @since 0.1.0
 */
export const scale = (stepSize: number): GradientTransform<EmptyState> => {
  const s = requireFinite("scale", "stepSize", stepSize)
  return {
    init: () => emptyState,
    update: (updates, state) => {
      if (Tree.isLeaf(updates)) {
        for (let i = 0; i < updates.length; i++) updates[i] = s * updates[i]!
      } else {
        for (const u of Tree.leaves(updates)) for (let i = 0; i < u.length; i++) u[i] = s * u[i]!
      }
      return { updates, state }
    }
  }
}

/**
 * State of a transform driven by a schedule: the number of updates so far
 * (Optax's `ScaleByScheduleState`; an int32 counter that saturates).
 *
 * @category models
 * @since 0.1.0
 */
export interface CountState {
  count: number
}

/**
 * State of a transform whose coefficient is a `StepSize`: `EmptyState` for a
 * constant, `CountState` for a schedule or function.
 *
 * @category models
 * @since 0.1.0
 */
export type StepSizeState = EmptyState | CountState

/**
 * Multiplies updates by `stepSize(count)`, the schedule evaluated at the
 * number of previous updates (Optax's `scale_by_schedule`).
 *
 * @category transforms
 * @since 0.1.0
 */
export const scaleBySchedule = (
  schedule: Schedule | ((step: number) => number),
  options: { readonly flipSign?: boolean } = {}
): GradientTransform<CountState> => {
  requireStepSize("scaleBySchedule", "schedule", schedule)
  const sign = options.flipSign === true ? -1 : 1
  return {
    init: () => ({ count: 0 }),
    update: (updates, state) => {
      const s = sign * stepSizeAt(schedule, state.count)
      for (const u of Tree.leaves(updates)) for (let i = 0; i < u.length; i++) u[i] = s * u[i]!
      state.count = increment(state.count)
      return { updates, state }
    }
  }
}

/**
 * Scales updates by the negated learning rate, `u ← −η · u` (or `+η` with
 * `flipSign: false`), so that adding the updates descends. A constant η gives a
 * stateless `scale(−η)`; a schedule gives `scaleBySchedule` with state
 * `{ count }`. Optax's `scale_by_learning_rate`.
 *
 * @category transforms
 * @since 0.1.0
 */
export const scaleByLearningRate = (
  learningRate: StepSize,
  options: { readonly flipSign?: boolean } = {}
): GradientTransform<StepSizeState> => {
  requireStepSize("scaleByLearningRate", "learningRate", learningRate)
  const flip = options.flipSign ?? true
  if (typeof learningRate === "number") {
    return scale(flip ? -learningRate : learningRate) as GradientTransform<StepSizeState>
  }
  return scaleBySchedule(learningRate, { flipSign: flip }) as GradientTransform<StepSizeState>
}

// ---------------------------------------------------------------------------
// Adam
// ---------------------------------------------------------------------------

/**
 * Options of `scaleByAdam`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScaleByAdamOptions {
  /** Decay of the first-moment average, in [0, 1). Default 0.9. */
  readonly b1?: number
  /** Decay of the second-moment average, in [0, 1). Default 0.999. */
  readonly b2?: number
  /** Added to √ν̂ in the denominator, ≥ 0. Default 1e-8. */
  readonly eps?: number
  /** Added to ν̂ inside the square root, ≥ 0. Default 0. */
  readonly epsRoot?: number
  /** Nesterov momentum (NAdam, Dozat 2016). Default false. */
  readonly nesterov?: boolean
}

/**
 * Default options of `scaleByAdam` (Optax's defaults).
 *
 * @category models
 * @since 0.1.0
 */
export const scaleByAdamDefaults = { b1: 0.9, b2: 0.999, eps: 1e-8, epsRoot: 0, nesterov: false } as const

/**
 * State of `scaleByAdam`: step count and the first and second moments.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScaleByAdamState {
  count: number
  readonly mu: Params
  readonly nu: Params
}

/**
 * The scalars of Adam's step t (core's `OptimizerKernels.adam`), the update
 * multiplied by `scale`. Optax's bias correction `mu / (1 - b1**t)` runs in
 * XLA, whose algebraic simplifier rewrites division by a broadcast scalar as
 * multiplication by its reciprocal; multiplying by 1/(1 − β₁ᵗ) reproduces it
 * bit for bit.
 *
 * @internal
 */
export const adamCoefficients = (
  b1: number,
  b2: number,
  eps: number,
  epsRoot: number,
  nesterov: boolean,
  t: number,
  scale: number
): OptimizerKernels.AdamCoefficients => ({
  b1,
  b2,
  r1: 1 / (1 - b1 ** t),
  r1Next: 1 / (1 - b1 ** increment(t)),
  r2: 1 / (1 - b2 ** t),
  epsRoot,
  eps,
  scale,
  nesterov
})

/**
 * Adam's scaling (Kingma & Ba, "Adam: A Method for Stochastic Optimization",
 * ICLR 2015), exactly as `optax.scale_by_adam`: with t the step count after
 * incrementing,
 *
 *   μ ← (1 − β₁)·g + β₁·μ,   ν ← (1 − β₂)·g² + β₂·ν,
 *   μ̂ = μ / (1 − β₁ᵗ),   ν̂ = ν / (1 − β₂ᵗ),
 *   u = μ̂ / (√(ν̂ + ε_root) + ε).
 *
 * With `nesterov`, μ̂ = β₁·μ/(1 − β₁ᵗ⁺¹) + (1 − β₁)·g/(1 − β₁ᵗ) (NAdam).
 *
 * @category transforms
 * @since 0.1.0
 */
export const scaleByAdam = (options: ScaleByAdamOptions = {}): GradientTransform<ScaleByAdamState> => {
  const op = "scaleByAdam"
  const b1 = requireDecay(op, "b1", options.b1 ?? scaleByAdamDefaults.b1)
  const b2 = requireDecay(op, "b2", options.b2 ?? scaleByAdamDefaults.b2)
  const eps = requireNonNegative(op, "eps", options.eps ?? scaleByAdamDefaults.eps)
  const epsRoot = requireNonNegative(op, "epsRoot", options.epsRoot ?? scaleByAdamDefaults.epsRoot)
  const nesterov = options.nesterov ?? false
  return {
    init: (params) => ({ count: 0, mu: Tree.zerosLike(params), nu: Tree.zerosLike(params) }),
    update: (updates, state) => {
      const mus = Tree.leaves(state.mu)
      const nus = Tree.leaves(state.nu)
      const gs = leavesLike(op, updates, mus)
      const t = increment(state.count)
      const coefficients = adamCoefficients(b1, b2, eps, epsRoot, nesterov, t, 1)
      for (let k = 0; k < gs.length; k++)
        OptimizerKernels.adam(gs[k]!, mus[k]!, nus[k]!, gs[k]!, coefficients, false)
      state.count = t
      return { updates, state }
    }
  }
}

// ---------------------------------------------------------------------------
// RMSProp
// ---------------------------------------------------------------------------

/**
 * Options of `scaleByRms`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScaleByRmsOptions {
  /** Decay of the squared-gradient average, in [0, 1). Default 0.9. */
  readonly decay?: number
  /** Stabilizer, ≥ 0. Default 1e-8. */
  readonly eps?: number
  /** Initial value of the squared-gradient average, ≥ 0. Default 0. */
  readonly initialScale?: number
  /** `1/√(ν + ε)` when true (default), `1/(√ν + ε)` when false. */
  readonly epsInSqrt?: boolean
  /** Divide ν by 1 − decayᵗ. Default false. */
  readonly biasCorrection?: boolean
}

/**
 * State of `scaleByRms`: step count (used only with bias correction) and the
 * squared-gradient average.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScaleByRmsState {
  count: number
  readonly nu: Params
}

/** The validated options shared by `scaleByRms` and `scaleByStddev`. */
const rmsSettings = (op: string, options: ScaleByRmsOptions) => ({
  decay: requireDecay(op, "decay", options.decay ?? 0.9),
  eps: requireNonNegative(op, "eps", options.eps ?? 1e-8),
  initialScale: requireNonNegative(op, "initialScale", options.initialScale ?? 0),
  epsInSqrt: options.epsInSqrt ?? true,
  biasCorrection: options.biasCorrection ?? false
})

/**
 * RMSProp's scaling (Tieleman & Hinton, Lecture 6.5, 2012), as
 * `optax.scale_by_rms`:
 *
 *   ν ← (1 − ρ)·g² + ρ·ν,   u = g / √(ν̂ + ε)   (or g / (√ν̂ + ε)),
 *
 * with ν̂ = ν, or ν / (1 − ρᵗ) under bias correction. The scaling is computed
 * as `(1 / √(ν̂ + ε)) · g`, the order of Optax's `rsqrt(ν̂ + ε) · g`.
 *
 * @category transforms
 * @since 0.1.0
 */
export const scaleByRms = (options: ScaleByRmsOptions = {}): GradientTransform<ScaleByRmsState> => {
  const op = "scaleByRms"
  const { decay, eps, initialScale, epsInSqrt, biasCorrection } = rmsSettings(op, options)
  const c = 1 - decay
  return {
    init: (params) => ({ count: 0, nu: Tree.fullLike(params, initialScale) }),
    update: (updates, state) => {
      const nus = Tree.leaves(state.nu)
      const gs = leavesLike(op, updates, nus)
      const t = biasCorrection ? increment(state.count) : 0
      // Optax divides by the bias correction inside XLA, which rewrites
      // x / broadcast(c) as x · (1/c): multiply by the reciprocal to match.
      const rc = biasCorrection ? 1 / (1 - decay ** t) : 1
      for (let k = 0; k < gs.length; k++) {
        const g = gs[k]!
        const nu = nus[k]!
        for (let i = 0; i < g.length; i++) {
          const gi = g[i]!
          const v = c * (gi * gi) + decay * nu[i]!
          nu[i] = v
          const vHat = v * rc // rc = 1 without bias correction, and v·1 = v exactly
          const s = epsInSqrt ? 1 / Math.sqrt(vHat + eps) : 1 / (Math.sqrt(vHat) + eps)
          g[i] = s * gi
        }
      }
      state.count = t
      return { updates, state }
    }
  }
}

// ---------------------------------------------------------------------------
// Momentum
// ---------------------------------------------------------------------------

/**
 * Options of `trace`.
 *
 * @category models
 * @since 0.1.0
 */
export interface TraceOptions {
  /** Momentum coefficient, in [0, 1). */
  readonly decay: number
  /** Nesterov's accelerated variant. Default false. */
  readonly nesterov?: boolean
}

/**
 * State of `trace`: the momentum buffer.
 *
 * @category models
 * @since 0.1.0
 */
export interface TraceState {
  readonly trace: Params
}

/**
 * Heavy-ball momentum (Polyak 1964), or Nesterov's variant (Sutskever et al.,
 * ICML 2013), as `optax.trace`:
 *
 *   m ← g + β·m,   u = m   (Nesterov: u = g + β·m).
 *
 * @category transforms
 * @since 0.1.0
 */
export const trace = (options: TraceOptions): GradientTransform<TraceState> => {
  const op = "trace"
  const decay = requireDecay(op, "decay", options.decay)
  const nesterov = options.nesterov ?? false
  return {
    init: (params) => ({ trace: Tree.zerosLike(params) }),
    update: (updates, state) => {
      const ms = Tree.leaves(state.trace)
      const gs = leavesLike(op, updates, ms)
      for (let k = 0; k < gs.length; k++) {
        const g = gs[k]!
        const m = ms[k]!
        for (let i = 0; i < g.length; i++) {
          const gi = g[i]!
          const t = gi + decay * m[i]!
          m[i] = t
          g[i] = nesterov ? gi + decay * t : t
        }
      }
      return { updates, state }
    }
  }
}

// ---------------------------------------------------------------------------
// Clipping
// ---------------------------------------------------------------------------

/**
 * Clips every entry of the updates to [−maxDelta, maxDelta] (Optax's `clip`).
 * NaN entries stay NaN.
 *
 * @category transforms
 * @since 0.1.0
 */
export const clip = (maxDelta: number): GradientTransform<EmptyState> => {
  const hi = requireNonNegative("clip", "maxDelta", maxDelta)
  const lo = -hi
  return {
    init: () => emptyState,
    update: (updates, state) => {
      for (const u of Tree.leaves(updates)) {
        for (let i = 0; i < u.length; i++) {
          const x = u[i]!
          if (x > hi) u[i] = hi
          else if (x < lo) u[i] = lo
        }
      }
      return { updates, state }
    }
  }
}

/**
 * Rescales the updates so that their global norm ‖u‖ = √(Σ over all leaves uᵢ²)
 * is at most `maxNorm` (Pascanu et al., ICML 2013), as
 * `optax.clip_by_global_norm`: if ‖u‖ < maxNorm the updates are unchanged,
 * otherwise `u ← (u / ‖u‖) · maxNorm`, computed as `(u · (1/‖u‖)) · maxNorm`
 * like XLA (which rewrites division by a broadcast scalar).
 *
 * @category transforms
 * @since 0.1.0
 */
export const clipByGlobalNorm = (maxNorm: number): GradientTransform<EmptyState> => {
  const max = requirePositive("clipByGlobalNorm", "maxNorm", maxNorm)
  return {
    init: () => emptyState,
    update: (updates, state) => {
      const norm = Tree.globalNorm(updates)
      if (!(norm < max)) {
        for (const u of Tree.leaves(updates))
          for (let i = 0; i < u.length; i++) u[i] = u[i]! * (1 / norm) * max
      }
      return { updates, state }
    }
  }
}

// ---------------------------------------------------------------------------
// Weight decay
// ---------------------------------------------------------------------------

/**
 * Adds decoupled weight decay `u ← u + λ·p` (Loshchilov & Hutter, "Decoupled
 * Weight Decay Regularization", ICLR 2019), as `optax.add_decayed_weights`.
 * λ is a constant (state `EmptyState`; λ = 0 is a no-op) or a schedule
 * evaluated at the step count (state `{ count }`). `update` requires `params`.
 *
 * @category transforms
 * @since 0.1.0
 */
export const addDecayedWeights = (weightDecay: StepSize = 0): GradientTransform<StepSizeState> => {
  const op = "addDecayedWeights"
  requireStepSize(op, "weightDecay", weightDecay)
  const apply = (updates: Params, params: Params | undefined, s: number): void => {
    for (const [u, p] of Tree.zip(updates, requireParams(op, params), op)) {
      for (let i = 0; i < u.length; i++) u[i] = u[i]! + s * p[i]!
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

// ---------------------------------------------------------------------------
// Lion
// ---------------------------------------------------------------------------

/**
 * Options of `scaleByLion`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScaleByLionOptions {
  /** Interpolation between gradient and momentum for the sign, in [0, 1). Default 0.9. */
  readonly b1?: number
  /** Decay of the momentum, in [0, 1). Default 0.99. */
  readonly b2?: number
}

/**
 * State of `scaleByLion`: step count and momentum.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScaleByLionState {
  count: number
  readonly mu: Params
}

/**
 * Lion's sign update (Chen et al., "Symbolic Discovery of Optimization
 * Algorithms", 2023), as `optax.scale_by_lion` (mode "hard"):
 *
 *   u = sign((1 − β₁)·g + β₁·m),   m ← (1 − β₂)·g + β₂·m.
 *
 * @category transforms
 * @since 0.1.0
 */
export const scaleByLion = (options: ScaleByLionOptions = {}): GradientTransform<ScaleByLionState> => {
  const op = "scaleByLion"
  const b1 = requireDecay(op, "b1", options.b1 ?? 0.9)
  const b2 = requireDecay(op, "b2", options.b2 ?? 0.99)
  const c1 = 1 - b1
  const c2 = 1 - b2
  return {
    init: (params) => ({ count: 0, mu: Tree.zerosLike(params) }),
    update: (updates, state) => {
      const mus = Tree.leaves(state.mu)
      const gs = leavesLike(op, updates, mus)
      for (let k = 0; k < gs.length; k++) {
        const g = gs[k]!
        const mu = mus[k]!
        for (let i = 0; i < g.length; i++) {
          const gi = g[i]!
          const m = mu[i]!
          g[i] = Math.sign(c1 * gi + b1 * m)
          mu[i] = c2 * gi + b2 * m
        }
      }
      state.count = increment(state.count)
      return { updates, state }
    }
  }
}

// ---------------------------------------------------------------------------
// Centered RMSProp
// ---------------------------------------------------------------------------

/**
 * State of `scaleByStddev`: step count (used only with bias correction) and
 * the averages of the gradient and of its square.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScaleByStddevState {
  count: number
  readonly mu: Params
  readonly nu: Params
}

/**
 * Centered RMSProp's scaling (Graves, "Generating Sequences With Recurrent
 * Neural Networks", 2013), as `optax.scale_by_stddev`:
 *
 *   μ ← (1 − ρ)·g + ρ·μ,   ν ← (1 − ρ)·g² + ρ·ν,
 *   u = g / √(ν̂ − μ̂² + ε)   (or g / (√(ν̂ − μ̂²) + ε)),
 *
 * with (μ̂, ν̂) = (μ, ν), or both divided by 1 − ρᵗ under bias correction.
 * Options and defaults as `scaleByRms`.
 *
 * @category transforms
 * @since 0.1.0
 */
export const scaleByStddev = (options: ScaleByRmsOptions = {}): GradientTransform<ScaleByStddevState> => {
  const op = "scaleByStddev"
  const { decay, eps, initialScale, epsInSqrt, biasCorrection } = rmsSettings(op, options)
  const c = 1 - decay
  return {
    init: (params) => ({ count: 0, mu: Tree.zerosLike(params), nu: Tree.fullLike(params, initialScale) }),
    update: (updates, state) => {
      const mus = Tree.leaves(state.mu)
      const nus = Tree.leaves(state.nu)
      const gs = leavesLike(op, updates, nus)
      const t = biasCorrection ? increment(state.count) : 0
      // XLA rewrites x / broadcast(1 − ρᵗ) as x · (1/(1 − ρᵗ)).
      const rc = biasCorrection ? 1 / (1 - decay ** t) : 1
      for (let k = 0; k < gs.length; k++) {
        const g = gs[k]!
        const mu = mus[k]!
        const nu = nus[k]!
        for (let i = 0; i < g.length; i++) {
          const gi = g[i]!
          const m = c * gi + decay * mu[i]!
          const v = c * (gi * gi) + decay * nu[i]!
          mu[i] = m
          nu[i] = v
          const mHat = m * rc // rc = 1 without bias correction (exact)
          const vHat = v * rc
          const centered = vHat - mHat * mHat
          const s = epsInSqrt ? 1 / Math.sqrt(centered + eps) : 1 / (Math.sqrt(centered) + eps)
          g[i] = s * gi
        }
      }
      state.count = t
      return { updates, state }
    }
  }
}

// ---------------------------------------------------------------------------
// AMSGrad
// ---------------------------------------------------------------------------

/**
 * Options of `scaleByAmsgrad`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScaleByAmsgradOptions {
  /** Decay of the first-moment average, in [0, 1). Default 0.9. */
  readonly b1?: number
  /** Decay of the second-moment average, in [0, 1). Default 0.999. */
  readonly b2?: number
  /** Added to √ν_max in the denominator, ≥ 0. Default 1e-8. */
  readonly eps?: number
  /** Added to ν_max inside the square root, ≥ 0. Default 0. */
  readonly epsRoot?: number
  /** Divide μ by 1 − β₁ᵗ. Default true. */
  readonly biasCorrectionMu?: boolean
  /** Divide ν by 1 − β₂ᵗ before taking the running maximum. Default true. */
  readonly biasCorrectionNu?: boolean
}

/**
 * State of `scaleByAmsgrad`: step count, moments and the running maximum of
 * the (bias-corrected) second moment.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScaleByAmsgradState {
  count: number
  readonly mu: Params
  readonly nu: Params
  readonly nuMax: Params
}

/**
 * AMSGrad's scaling (Reddi et al., "On the Convergence of Adam and Beyond",
 * ICLR 2018), as `optax.scale_by_amsgrad`: Adam's moments, but the
 * denominator uses the running maximum of ν̂,
 *
 *   ν_max ← max(ν_max, ν̂),   u = μ̂ / (√(ν_max + ε_root) + ε).
 *
 * @category transforms
 * @since 0.1.0
 */
export const scaleByAmsgrad = (
  options: ScaleByAmsgradOptions = {}
): GradientTransform<ScaleByAmsgradState> => {
  const op = "scaleByAmsgrad"
  const b1 = requireDecay(op, "b1", options.b1 ?? 0.9)
  const b2 = requireDecay(op, "b2", options.b2 ?? 0.999)
  const eps = requireNonNegative(op, "eps", options.eps ?? 1e-8)
  const epsRoot = requireNonNegative(op, "epsRoot", options.epsRoot ?? 0)
  const correctMu = options.biasCorrectionMu ?? true
  const correctNu = options.biasCorrectionNu ?? true
  const c1 = 1 - b1
  const c2 = 1 - b2
  return {
    init: (params) => ({
      count: 0,
      mu: Tree.zerosLike(params),
      nu: Tree.zerosLike(params),
      nuMax: Tree.zerosLike(params)
    }),
    update: (updates, state) => {
      const mus = Tree.leaves(state.mu)
      const nus = Tree.leaves(state.nu)
      const maxs = Tree.leaves(state.nuMax)
      const gs = leavesLike(op, updates, mus)
      const t = increment(state.count)
      // Reciprocal multiplication, as XLA executes Optax's bias correction.
      const r1 = correctMu ? 1 / (1 - b1 ** t) : 1
      const r2 = correctNu ? 1 / (1 - b2 ** t) : 1
      for (let k = 0; k < gs.length; k++) {
        const g = gs[k]!
        const mu = mus[k]!
        const nu = nus[k]!
        const nuMax = maxs[k]!
        for (let i = 0; i < g.length; i++) {
          const gi = g[i]!
          const m = c1 * gi + b1 * mu[i]!
          const v = c2 * (gi * gi) + b2 * nu[i]!
          mu[i] = m
          nu[i] = v
          const vMax = Math.max(nuMax[i]!, correctNu ? v * r2 : v)
          nuMax[i] = vMax
          g[i] = (correctMu ? m * r1 : m) / (Math.sqrt(vMax + epsRoot) + eps)
        }
      }
      state.count = t
      return { updates, state }
    }
  }
}

// ---------------------------------------------------------------------------
// AdaMax
// ---------------------------------------------------------------------------

/**
 * Options of `scaleByAdamax`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScaleByAdamaxOptions {
  /** Decay of the first-moment average, in [0, 1). Default 0.9. */
  readonly b1?: number
  /** Decay of the infinity norm, in [0, 1). Default 0.999. */
  readonly b2?: number
  /** Added to |g| in the infinity norm, ≥ 0. Default 1e-8. */
  readonly eps?: number
}

/**
 * AdaMax's scaling (Kingma & Ba, ICLR 2015, §7.1), as `optax.scale_by_adamax`:
 *
 *   μ ← (1 − β₁)·g + β₁·μ,   ν ← max(|g| + ε, β₂·ν),   u = (μ / (1 − β₁ᵗ)) / ν.
 *
 * The state has Adam's shape (`ScaleByAdamState`, ν the infinity norm).
 *
 * @category transforms
 * @since 0.1.0
 */
export const scaleByAdamax = (options: ScaleByAdamaxOptions = {}): GradientTransform<ScaleByAdamState> => {
  const op = "scaleByAdamax"
  const b1 = requireDecay(op, "b1", options.b1 ?? 0.9)
  const b2 = requireDecay(op, "b2", options.b2 ?? 0.999)
  const eps = requireNonNegative(op, "eps", options.eps ?? 1e-8)
  const c1 = 1 - b1
  return {
    init: (params) => ({ count: 0, mu: Tree.zerosLike(params), nu: Tree.zerosLike(params) }),
    update: (updates, state) => {
      const mus = Tree.leaves(state.mu)
      const nus = Tree.leaves(state.nu)
      const gs = leavesLike(op, updates, mus)
      const t = increment(state.count)
      const r1 = 1 / (1 - b1 ** t)
      for (let k = 0; k < gs.length; k++) {
        const g = gs[k]!
        const mu = mus[k]!
        const nu = nus[k]!
        for (let i = 0; i < g.length; i++) {
          const gi = g[i]!
          const m = c1 * gi + b1 * mu[i]!
          const v = Math.max(Math.abs(gi) + eps, b2 * nu[i]!)
          mu[i] = m
          nu[i] = v
          g[i] = (m * r1) / v
        }
      }
      state.count = t
      return { updates, state }
    }
  }
}

// ---------------------------------------------------------------------------
// AdaGrad
// ---------------------------------------------------------------------------

/**
 * Options of `scaleByRss`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScaleByRssOptions {
  /** Initial value of the sum of squares, ≥ 0. Default 0.1. */
  readonly initialAccumulatorValue?: number
  /** Added to the sum of squares inside the square root, ≥ 0. Default 1e-7. */
  readonly eps?: number
}

/**
 * State of `scaleByRss`: the running sum of squared gradients.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScaleByRssState {
  readonly sumOfSquares: Params
}

/**
 * AdaGrad's scaling (Duchi, Hazan & Singer, JMLR 2011), as
 * `optax.scale_by_rss`:
 *
 *   G ← G + g²,   u = g / √(G + ε)   (u = 0 where G = 0).
 *
 * @category transforms
 * @since 0.1.0
 */
export const scaleByRss = (options: ScaleByRssOptions = {}): GradientTransform<ScaleByRssState> => {
  const op = "scaleByRss"
  const initial = requireNonNegative(op, "initialAccumulatorValue", options.initialAccumulatorValue ?? 0.1)
  const eps = requireNonNegative(op, "eps", options.eps ?? 1e-7)
  return {
    init: (params) => ({ sumOfSquares: Tree.fullLike(params, initial) }),
    update: (updates, state) => {
      const ss = Tree.leaves(state.sumOfSquares)
      const gs = leavesLike(op, updates, ss)
      for (let k = 0; k < gs.length; k++) {
        const g = gs[k]!
        const s = ss[k]!
        for (let i = 0; i < g.length; i++) {
          const gi = g[i]!
          const sum = gi * gi + s[i]!
          s[i] = sum
          g[i] = (sum > 0 ? 1 / Math.sqrt(sum + eps) : 0) * gi
        }
      }
      return { updates, state }
    }
  }
}

// ---------------------------------------------------------------------------
// Non-finite updates and constraints
// ---------------------------------------------------------------------------

/**
 * State of `applyIfFinite`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ApplyIfFiniteState<S> {
  /** Consecutive steps with non-finite updates (0 after a finite step). */
  notfiniteCount: number
  /** Whether the updates of the last step were all finite. */
  lastFinite: boolean
  /** Total number of steps with non-finite updates. */
  totalNotfinite: number
  /** The state of the wrapped transform. */
  innerState: S
}

/**
 * Wraps `inner` so that a step whose incoming updates contain NaN or ±∞ is
 * skipped (Optax's `apply_if_finite`): the updates are set to zero (in place)
 * and the inner state is left unchanged, and the skip is counted. After more
 * than `maxConsecutiveErrors` consecutive non-finite steps, the update is
 * passed to `inner` anyway (as in Optax).
 *
 * @category transforms
 * @since 0.1.0
 */
export const applyIfFinite = <S>(
  inner: GradientTransform<S>,
  maxConsecutiveErrors: number
): GradientTransform<ApplyIfFiniteState<S>> => {
  const op = "applyIfFinite"
  if (!Number.isInteger(maxConsecutiveErrors) || maxConsecutiveErrors < 0) {
    throw invalid(op, "maxConsecutiveErrors", maxConsecutiveErrors, "an integer ≥ 0")
  }
  return {
    init: (params) => ({
      notfiniteCount: 0,
      lastFinite: true,
      totalNotfinite: 0,
      innerState: inner.init(params)
    }),
    update: (updates, state, params, extras) => {
      const leaves = Tree.leaves(updates)
      let finite = true
      for (const u of leaves) {
        for (let i = 0; i < u.length; i++) {
          if (!Number.isFinite(u[i]!)) {
            finite = false
            break
          }
        }
        if (!finite) break
      }
      const notfiniteCount = finite ? 0 : increment(state.notfiniteCount)
      let out = updates
      if (finite || notfiniteCount > maxConsecutiveErrors) {
        const r = inner.update(updates, state.innerState, params, extras)
        out = r.updates
        state.innerState = r.state
      } else {
        for (const u of leaves) u.fill(0)
      }
      state.notfiniteCount = notfiniteCount
      state.lastFinite = finite
      if (!finite) state.totalNotfinite = increment(state.totalNotfinite)
      return { updates: out, state }
    }
  }
}

/**
 * State of `zeroNans`: per leaf (in `Tree.leaves` order), whether the last
 * updates contained a NaN.
 *
 * @category models
 * @since 0.1.0
 */
export interface ZeroNansState {
  readonly foundNan: boolean[]
}

/**
 * Replaces NaN entries of the updates by 0 and records, per leaf, whether any
 * was found (Optax's `zero_nans`). ±∞ are kept.
 *
 * @category transforms
 * @since 0.1.0
 */
export const zeroNans = (): GradientTransform<ZeroNansState> => ({
  init: (params) => ({ foundNan: Tree.leaves(params).map(() => false) }),
  update: (updates, state) => {
    const leaves = Tree.leaves(updates)
    state.foundNan.length = leaves.length
    for (let k = 0; k < leaves.length; k++) {
      const u = leaves[k]!
      let found = false
      for (let i = 0; i < u.length; i++) {
        if (Number.isNaN(u[i]!)) {
          u[i] = 0
          found = true
        }
      }
      state.foundNan[k] = found
    }
    return { updates, state }
  }
})

/**
 * Keeps the parameters non-negative (Optax's `keep_params_nonnegative`):
 * where p + u < 0 the update becomes −p, so the new parameter is exactly 0.
 * Put it last in a chain; `update` requires `params`.
 *
 * @category transforms
 * @since 0.1.0
 */
export const keepNonnegative = (): GradientTransform<EmptyState> => {
  const op = "keepNonnegative"
  return {
    init: () => emptyState,
    update: (updates, state, params) => {
      for (const [u, p] of Tree.zip(updates, requireParams(op, params), op)) {
        for (let i = 0; i < u.length; i++) {
          const pi = p[i]!
          if (pi + u[i]! < 0) u[i] = -pi
        }
      }
      return { updates, state }
    }
  }
}
