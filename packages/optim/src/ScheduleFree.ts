/**
 * Schedule-free learning (Defazio, Yang, Mehta, Mishchenko, Khaled &
 * Cutkosky, "The Road Less Scheduled", NeurIPS 2024): optimizers that need no
 * learning-rate decay schedule — and no stopping time — yet match or beat
 * tuned cosine and linear-decay schedules. Momentum is replaced by an
 * interpolation between two sequences and an online average: with the base
 * optimizer's step (for SGD, −γ·∇f),
 *
 *   y_t = (1 − β)·z_t + β·x_t          (where the gradient is evaluated),
 *   z_{t+1} = z_t − γ·∇f(y_t)          (the base optimizer's iterates),
 *   x_{t+1} = (1 − c_{t+1})·x_t + c_{t+1}·z_{t+1}   (the evaluation point),
 *
 * with averaging weights c_{t+1} = w_t/Σ_{i≤t} w_i, w_t = (max_{i≤t} γ_i)^r
 * (r = `weightLrPower`, 2 by default), which down-weights the warmup steps.
 *
 * The parameters the caller holds and updates are y, the point at which
 * gradients are computed; the state stores z; x — the point to evaluate,
 * test and ship — is recovered as x = (y − (1 − β)·z)/β by {@link evalParams}.
 * So the memory is the base optimizer's plus one copy of the parameters.
 *
 * `scheduleFree`, `scheduleFreeSgd`, `scheduleFreeAdamw` and `evalParams`
 * reproduce `optax.contrib.schedule_free`, `schedule_free_sgd`,
 * `schedule_free_adamw` and `schedule_free_eval_params` (Optax 0.2.8) with the
 * same hyperparameters and defaults, in float64, bit for bit in the tested
 * cases (test/schedule-free.test.ts). As in Optax, the averaging weight uses
 * the learning rate at the 1-based step count while the base optimizer
 * evaluates its schedule at the 0-based count. One deliberate difference:
 * Optax's aliases compute their warmup `count / warmup_steps` on the int32
 * step count, which JAX promotes to float32 even under `jax_enable_x64`, so
 * with `warmup_steps` their learning rates are float32-rounded; here the
 * warmup is evaluated in float64 (`Schedules.linear`), which reproduces the
 * aliases' composition on a float64 warmup bit for bit and the aliases
 * themselves to about 1e-6 relative (1.1e-6 at worst in the tested cases).
 *
 * @since 0.1.0
 */
import { chain, type EmptyState, type GradientTransform } from "./GradientTransform.ts"
import {
  increment,
  invalid,
  leavesLike,
  requireDecay,
  requireNonNegative,
  requireParams,
  requirePositiveInteger,
  requireStepSize
} from "./internal/validate.ts"
import { type LearningRateState, sgd } from "./Optimizers.ts"
import * as Schedules from "./Schedules.ts"
import {
  addDecayedWeights,
  type ScaleByRmsState,
  type StepSize,
  scaleByLearningRate,
  scaleByRms,
  stepSizeAt,
  type TraceState
} from "./Transforms.ts"
import type { Params } from "./Tree.ts"
import * as Tree from "./Tree.ts"

/**
 * Options of `scheduleFree`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScheduleFreeOptions {
  /** β ∈ (0, 1]: the interpolation between z and x in y. Default 0.9. */
  readonly b1?: number
  /** r ≥ 0: the averaging weights are (max learning rate so far)^r. Default 2. */
  readonly weightLrPower?: number
}

/**
 * Default options of the schedule-free optimizers (Optax's defaults).
 *
 * @category models
 * @since 0.1.0
 */
export const scheduleFreeDefaults = { b1: 0.9, weightLrPower: 2 } as const

/**
 * State of `scheduleFree` (Optax's `ScheduleFreeState`): β, the sum of the
 * averaging weights so far, the 1-based step count, the largest learning
 * rate so far, the base optimizer's state and the base iterates z.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScheduleFreeState<S> {
  readonly b1: number
  weightSum: number
  stepCount: number
  maxLr: number
  baseOptimizerState: S
  readonly z: Params
}

/** β ∈ (0, 1]: β = 0 would leave x unrecoverable from y and z. */
const requireB1 = (operation: string, value: number): number => {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || value > 1) {
    throw invalid(operation, "b1", value, "a number in (0, 1]")
  }
  return value
}

/** `jnp.nan_to_num(r, nan=0, posinf=∞)`: NaN → 0, −∞ → the most negative float. */
const nanToNum = (r: number): number =>
  Number.isNaN(r) ? 0 : r === Number.NEGATIVE_INFINITY ? -Number.MAX_VALUE : r

/**
 * Makes `base` schedule-free (Defazio et al., "The Road Less Scheduled",
 * 2024), as `optax.contrib.schedule_free`. `base` must have no momentum of its
 * own (e.g. `Optimizers.sgd(γ)`, or Adam with β₁ = 0); `learningRate` is the
 * same learning rate (schedule) the base uses, without decay but possibly with
 * warmup. Each update, with γ the learning rate at the 1-based step count:
 *
 *   γ_max ← max(γ_max, γ),   w = γ_max^r,   W ← W + w,   c = w/W (0 if 0/0),
 *   z' = z + base(g),   x = (y − (1 − β)·z)/β,   x' = (1 − c)·x + c·z',
 *   y' = β·x' + (1 − β)·z',
 *
 * and the returned updates are y' − y (so `applyUpdatesInPlace(y, updates)`
 * moves the parameters to y'). `params` (= y) is required; `extras` is passed
 * to `base`. The state holds one copy of the parameters (z), allocated in
 * `init`.
 *
 * @category optimizers
 * @since 0.1.0
 */
export const scheduleFree = <S>(
  base: GradientTransform<S>,
  learningRate: StepSize,
  options: ScheduleFreeOptions = {}
): GradientTransform<ScheduleFreeState<S>> => {
  const op = "scheduleFree"
  requireStepSize(op, "learningRate", learningRate)
  const b1 = requireB1(op, options.b1 ?? scheduleFreeDefaults.b1)
  const power = requireNonNegative(
    op,
    "weightLrPower",
    options.weightLrPower ?? scheduleFreeDefaults.weightLrPower
  )
  const c = 1 - b1
  // XLA executes Optax's `(y − (1 − β)·z)/β` (division by a broadcast scalar)
  // as a multiplication by 1/β; so does this loop.
  const invB1 = 1 / b1
  return {
    init: (params) => ({
      b1,
      weightSum: 0,
      stepCount: 1,
      maxLr: 0,
      baseOptimizerState: base.init(params),
      z: Tree.clone(params)
    }),
    update: (updates, state, params, extras) => {
      const y = requireParams(op, params)
      const zs = Tree.leaves(state.z)
      const ys = leavesLike(op, y, zs)
      leavesLike(op, updates, zs)
      const lr = stepSizeAt(learningRate, state.stepCount)
      const maxLr = Math.max(state.maxLr, lr)
      const weight = maxLr ** power
      const total = state.weightSum + weight
      const ck = Number.isNaN(weight) || Number.isNaN(total) ? Number.NaN : nanToNum(weight / total)
      const r = base.update(updates, state.baseOptimizerState, params, extras)
      state.baseOptimizerState = r.state
      const us = leavesLike(op, r.updates, zs)
      const keep = 1 - ck
      for (let k = 0; k < us.length; k++) {
        const u = us[k]!
        const z = zs[k]!
        const yk = ys[k]!
        for (let i = 0; i < u.length; i++) {
          const zOld = z[i]!
          const yi = yk[i]!
          const zNew = zOld + u[i]!
          const xOld = (yi - c * zOld) * invB1
          const x = keep * xOld + ck * zNew
          u[i] = b1 * x + c * zNew - yi
          z[i] = zNew
        }
      }
      state.weightSum = total
      state.stepCount = increment(state.stepCount)
      state.maxLr = maxLr
      return { updates: r.updates, state }
    }
  }
}

/**
 * Writes the evaluation point x = (y − (1 − β)·z)/β of a schedule-free run
 * into `out` (a tree shaped like the parameters) and returns it, for
 * parameters `params` = y and the run's `state`. Allocation-free; see
 * {@link evalParams}.
 *
 * @category accessors
 * @since 0.1.0
 */
export const evalParamsInto = (out: Params, state: ScheduleFreeState<unknown>, params: Params): Params => {
  const op = "ScheduleFree.evalParamsInto"
  const zs = Tree.leaves(state.z)
  const ys = leavesLike(op, params, zs)
  const os = leavesLike(op, out, zs)
  const c = 1 - state.b1
  const inv = 1 / state.b1
  for (let k = 0; k < zs.length; k++) {
    const z = zs[k]!
    const yk = ys[k]!
    const o = os[k]!
    for (let i = 0; i < z.length; i++) o[i] = (yk[i]! - c * z[i]!) * inv
  }
  return out
}

/**
 * The evaluation point x of a schedule-free run (`optax.contrib.
 * schedule_free_eval_params`): the parameters the caller holds are the
 * gradient point y, and x = (y − (1 − β)·z)/β is the averaged sequence on
 * which to measure validation loss and which to keep at the end of
 * training. Fresh leaves; `state` and `params` are not modified.
 *
 * @category accessors
 * @since 0.1.0
 */
export const evalParams = (state: ScheduleFreeState<unknown>, params: Params): Params =>
  evalParamsInto(Tree.zerosLike(params), state, params)

/**
 * Options of `scheduleFreeSgd`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScheduleFreeSgdOptions extends ScheduleFreeOptions {
  /** Length of a linear warmup from 0 to the learning rate (an integer ≥ 1); none by default. */
  readonly warmupSteps?: number
  /**
   * λ ≥ 0: weight decay added to the gradient before the SGD step (so it is
   * multiplied by the learning rate). None by default.
   */
  readonly weightDecay?: number
}

/**
 * State of the base optimizer of `scheduleFreeSgd`: `Optimizers.sgd`'s, or
 * `[addDecayedWeights, sgd]`'s when `weightDecay` is given.
 *
 * @category models
 * @since 0.1.0
 */
export type ScheduleFreeSgdBaseState =
  | [TraceState | EmptyState, LearningRateState]
  | [LearningRateState, [TraceState | EmptyState, LearningRateState]]

/** The learning rate, or a linear warmup to it (`optax.warmup_constant_schedule(0, γ, W)`). */
const warmedUp = (operation: string, learningRate: number, warmupSteps: number | undefined): StepSize => {
  requireNonNegative(operation, "learningRate", learningRate)
  if (warmupSteps === undefined) return learningRate
  requirePositiveInteger(operation, "warmupSteps", warmupSteps)
  return Schedules.linear({ initValue: 0, endValue: learningRate, transitionSteps: warmupSteps })
}

/**
 * Schedule-free SGD (Defazio et al., 2024), as
 * `optax.contrib.schedule_free_sgd`: `scheduleFree(sgd(γ), γ)`, with
 * `chain(addDecayedWeights(λ), sgd(γ))` as the base when `weightDecay` is
 * given and a linear warmup 0 → γ over `warmupSteps` when given. Defaults
 * γ = 1, β = 0.9, r = 2. Evaluate at {@link evalParams}.
 *
 * @category optimizers
 * @since 0.1.0
 */
export const scheduleFreeSgd = (
  learningRate = 1,
  options: ScheduleFreeSgdOptions = {}
): GradientTransform<ScheduleFreeState<ScheduleFreeSgdBaseState>> => {
  const op = "scheduleFreeSgd"
  const lr = warmedUp(op, learningRate, options.warmupSteps)
  const plain = sgd(lr)
  const base =
    options.weightDecay === undefined
      ? plain
      : chain(addDecayedWeights(requireNonNegative(op, "weightDecay", options.weightDecay)), plain)
  return scheduleFree(base as GradientTransform<ScheduleFreeSgdBaseState>, lr, options)
}

/**
 * Options of `scheduleFreeAdamw`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ScheduleFreeAdamwOptions extends ScheduleFreeOptions {
  /** Length of a linear warmup from 0 to the learning rate (an integer ≥ 1); none by default. */
  readonly warmupSteps?: number
  /** Decay of the second-moment average, in [0, 1). Default 0.999. */
  readonly b2?: number
  /** Added to √ν̂ in the denominator, ≥ 0. Default 1e-8. */
  readonly eps?: number
  /** λ ≥ 0: decoupled weight decay (multiplied by the learning rate). Default 0. */
  readonly weightDecay?: number
}

/**
 * Schedule-free AdamW (Defazio et al., 2024), as
 * `optax.contrib.schedule_free_adamw`: `scheduleFree(base, γ)` with the base
 * AdamW without momentum, `chain(scaleByRms({ decay: β₂, eps, epsInSqrt:
 * false, biasCorrection: true }), addDecayedWeights(λ), scaleByLearningRate(γ))`
 * (the step −γ·(g/(√ν̂ + ε) + λ·y)), and a linear warmup 0 → γ over
 * `warmupSteps` when given. Defaults γ = 0.0025, β = 0.9, β₂ = 0.999,
 * ε = 1e-8, λ = 0, r = 2. Evaluate at {@link evalParams}.
 *
 * @category optimizers
 * @since 0.1.0
 */
export const scheduleFreeAdamw = (
  learningRate = 0.0025,
  options: ScheduleFreeAdamwOptions = {}
): GradientTransform<ScheduleFreeState<[ScaleByRmsState, LearningRateState, LearningRateState]>> => {
  const op = "scheduleFreeAdamw"
  const lr = warmedUp(op, learningRate, options.warmupSteps)
  const base = chain(
    scaleByRms({
      decay: requireDecay(op, "b2", options.b2 ?? 0.999),
      eps: requireNonNegative(op, "eps", options.eps ?? 1e-8),
      epsInSqrt: false,
      biasCorrection: true
    }),
    addDecayedWeights(requireNonNegative(op, "weightDecay", options.weightDecay ?? 0)),
    scaleByLearningRate(lr)
  )
  return scheduleFree(base, lr, options)
}
