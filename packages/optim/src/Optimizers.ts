/**
 * Ready-made first-order optimizers, each a `chain` of the transforms in
 * `Transforms.ts` exactly as the corresponding Optax alias (`optax.sgd`,
 * `optax.adam`, `optax.adamw`, `optax.nadam`, `optax.amsgrad`,
 * `optax.adamax`, `optax.adagrad`, `optax.rmsprop`, `optax.lion`), so that the
 * same hyperparameters give the same float64 trajectory as Optax:
 *
 * ```ts
 * const opt = Optimizers.adam(1e-3)
 * let state = opt.init(params)
 * for (let t = 0; t < 100; t++) {
 *   const r = opt.update(gradient(params), state, params)
 *   state = r.state
 *   applyUpdatesInPlace(params, r.updates)
 * }
 * ```
 *
 * The learning rate η is a number (≥ 0) or a schedule; bad hyperparameters
 * throw `Errors.InvalidOptions` naming the field.
 *
 * @since 0.1.0
 */
import { OptimizerKernels } from "@descent/core"
import {
  applyUpdatesInPlace,
  chain,
  type EmptyState,
  type GradientTransform,
  identity
} from "./GradientTransform.ts"
import { increment, requireDecay } from "./internal/validate.ts"
import {
  adamCoefficients,
  addDecayedWeights,
  type ScaleByAdamState,
  type ScaleByAmsgradState,
  type ScaleByLionState,
  type ScaleByRmsState,
  type ScaleByRssState,
  type ScaleByStddevState,
  type StepSize,
  type StepSizeState,
  scaleByAdam,
  scaleByAdamax,
  scaleByAdamDefaults,
  scaleByAmsgrad,
  scaleByLearningRate,
  scaleByLion,
  scaleByRms,
  scaleByRss,
  scaleByStddev,
  stepSizeAt,
  type TraceState,
  trace
} from "./Transforms.ts"
import type { Params } from "./Tree.ts"
import * as Tree from "./Tree.ts"

/**
 * State of a learning-rate scaling or weight decay: empty for a constant, a
 * step count for a schedule (`Transforms.StepSizeState`).
 *
 * @category models
 * @since 0.1.0
 */
export type LearningRateState = StepSizeState

/** Validates a momentum coefficient under the name the caller used. */
const checkMomentum = (operation: string, value: number): number => requireDecay(operation, "momentum", value)

/**
 * Options of `sgd`.
 *
 * @category models
 * @since 0.1.0
 */
export interface SgdOptions {
  /** Momentum coefficient β in [0, 1); omitted for plain gradient descent. */
  readonly momentum?: number
  /** Nesterov momentum (requires `momentum`). Default false. */
  readonly nesterov?: boolean
}

/**
 * Stochastic gradient descent `p ← p − η·g`, with optional heavy-ball or
 * Nesterov momentum (`m ← g + β·m`, step −η·m or −η·(g + β·m)): Optax's
 * `sgd` = `chain(trace(β) or identity, scaleByLearningRate(η))`.
 *
 * @category optimizers
 * @since 0.1.0
 */
export const sgd = (
  learningRate: StepSize,
  options: SgdOptions = {}
): GradientTransform<[TraceState | EmptyState, LearningRateState]> => {
  const first: GradientTransform<TraceState | EmptyState> =
    options.momentum === undefined
      ? (identity() as GradientTransform<TraceState | EmptyState>)
      : (trace({
          decay: checkMomentum("sgd", options.momentum),
          nesterov: options.nesterov ?? false
        }) as GradientTransform<TraceState | EmptyState>)
  return chain(first, scaleByLearningRate(learningRate))
}

/**
 * Heavy-ball momentum (Polyak 1964): `sgd(η, { momentum: β })`, β default 0.9.
 *
 * @category optimizers
 * @since 0.1.0
 */
export const momentum = (
  learningRate: StepSize,
  options: { readonly momentum?: number } = {}
): GradientTransform<[TraceState, LearningRateState]> =>
  chain(
    trace({ decay: checkMomentum("momentum", options.momentum ?? 0.9) }),
    scaleByLearningRate(learningRate)
  )

/**
 * Nesterov momentum (Sutskever et al., ICML 2013): `sgd(η, { momentum: β,
 * nesterov: true })`, β default 0.9.
 *
 * @category optimizers
 * @since 0.1.0
 */
export const nesterov = (
  learningRate: StepSize,
  options: { readonly momentum?: number } = {}
): GradientTransform<[TraceState, LearningRateState]> =>
  chain(
    trace({ decay: checkMomentum("nesterov", options.momentum ?? 0.9), nesterov: true }),
    scaleByLearningRate(learningRate)
  )

/**
 * Options of `adam` (see `scaleByAdam`).
 *
 * @category models
 * @since 0.1.0
 */
export interface AdamOptions {
  readonly b1?: number
  readonly b2?: number
  readonly eps?: number
  readonly epsRoot?: number
  readonly nesterov?: boolean
}

/**
 * Adam (Kingma & Ba, ICLR 2015): `chain(scaleByAdam(options),
 * scaleByLearningRate(η))`, Optax's `adam`. Defaults β₁ = 0.9, β₂ = 0.999,
 * ε = 1e-8, ε_root = 0.
 *
 * @category optimizers
 * @since 0.1.0
 */
export const adam = (
  learningRate: StepSize,
  options: AdamOptions = {}
): GradientTransform<[ScaleByAdamState, LearningRateState]> => {
  const tx = chain(scaleByAdam(options), scaleByLearningRate(learningRate))
  const b1 = options.b1 ?? scaleByAdamDefaults.b1
  const b2 = options.b2 ?? scaleByAdamDefaults.b2
  const eps = options.eps ?? scaleByAdamDefaults.eps
  const epsRoot = options.epsRoot ?? scaleByAdamDefaults.epsRoot
  const nesterov = options.nesterov ?? false
  // The fused step: scaleByAdam, the learning-rate scaling and the addition to
  // the parameters in one pass per leaf (core's OptimizerKernels.adam), with
  // the same operations in the same order, hence the same bits as `update`
  // followed by `applyUpdatesInPlace`.
  const step = (
    params: Params,
    grads: Params,
    state: [ScaleByAdamState, LearningRateState]
  ): [ScaleByAdamState, LearningRateState] => {
    const [moments, rate] = state
    const mus = Tree.leaves(moments.mu)
    const nus = Tree.leaves(moments.nu)
    const gs = Tree.leaves(grads)
    const ps = Tree.leaves(params)
    const sameShape = (xs: ReadonlyArray<Float64Array>): boolean =>
      xs.length === mus.length && xs.every((x, k) => x.length === mus[k]!.length)
    if (!sameShape(gs) || !sameShape(ps)) {
      // The unfused path names the mismatch in its DimensionMismatch.
      const r = tx.update(grads, state, params)
      applyUpdatesInPlace(params, r.updates)
      return r.state
    }
    const t = increment(moments.count)
    let eta: number
    if ("count" in rate) {
      eta = stepSizeAt(learningRate, rate.count)
      rate.count = increment(rate.count)
    } else eta = learningRate as number
    const coefficients = adamCoefficients(b1, b2, eps, epsRoot, nesterov, t, -eta)
    for (let k = 0; k < gs.length; k++)
      OptimizerKernels.adam(gs[k]!, mus[k]!, nus[k]!, ps[k]!, coefficients, true)
    moments.count = t
    return state
  }
  return { ...tx, step }
}

/**
 * Options of `adamw`: Adam's, plus the decoupled weight decay λ (≥ 0, or a
 * schedule; default 1e-4, Optax's default).
 *
 * @category models
 * @since 0.1.0
 */
export interface AdamWOptions extends AdamOptions {
  readonly weightDecay?: StepSize
}

/**
 * AdamW (Loshchilov & Hutter, ICLR 2019): `chain(scaleByAdam(options),
 * addDecayedWeights(λ), scaleByLearningRate(η))`, so the step is
 * −η·(μ̂/(√ν̂ + ε) + λ·p). Optax's `adamw` (without `mask`).
 *
 * @category optimizers
 * @since 0.1.0
 */
export const adamw = (
  learningRate: StepSize,
  options: AdamWOptions = {}
): GradientTransform<[ScaleByAdamState, LearningRateState, LearningRateState]> =>
  chain(
    scaleByAdam(options),
    addDecayedWeights(options.weightDecay ?? 1e-4),
    scaleByLearningRate(learningRate)
  )

/**
 * Options of `rmsprop` (see `scaleByRms`), plus optional momentum applied
 * after the learning rate.
 *
 * @category models
 * @since 0.1.0
 */
export interface RmspropOptions {
  readonly decay?: number
  readonly eps?: number
  readonly initialScale?: number
  readonly epsInSqrt?: boolean
  readonly biasCorrection?: boolean
  /** Centered RMSProp (`scaleByStddev`, Graves 2013). Default false. */
  readonly centered?: boolean
  readonly momentum?: number
  readonly nesterov?: boolean
}

/**
 * RMSProp (Tieleman & Hinton 2012): `chain(scaleByRms(options),
 * scaleByLearningRate(η), trace(β) or identity)`, Optax's `rmsprop`; with
 * `centered: true`, `scaleByStddev` (centered RMSProp, Graves 2013) replaces
 * `scaleByRms`. Defaults decay 0.9, ε = 1e-8.
 *
 * @category optimizers
 * @since 0.1.0
 */
export const rmsprop = (
  learningRate: StepSize,
  options: RmspropOptions = {}
): GradientTransform<[ScaleByRmsState | ScaleByStddevState, LearningRateState, TraceState | EmptyState]> => {
  const last: GradientTransform<TraceState | EmptyState> =
    options.momentum === undefined
      ? (identity() as GradientTransform<TraceState | EmptyState>)
      : (trace({
          decay: checkMomentum("rmsprop", options.momentum),
          nesterov: options.nesterov ?? false
        }) as GradientTransform<TraceState | EmptyState>)
  const rms: {
    decay?: number
    eps?: number
    initialScale?: number
    epsInSqrt?: boolean
    biasCorrection?: boolean
  } = {}
  if (options.decay !== undefined) rms.decay = options.decay
  if (options.eps !== undefined) rms.eps = options.eps
  if (options.initialScale !== undefined) rms.initialScale = options.initialScale
  if (options.epsInSqrt !== undefined) rms.epsInSqrt = options.epsInSqrt
  if (options.biasCorrection !== undefined) rms.biasCorrection = options.biasCorrection
  const first: GradientTransform<ScaleByRmsState | ScaleByStddevState> =
    options.centered === true
      ? (scaleByStddev(rms) as GradientTransform<ScaleByRmsState | ScaleByStddevState>)
      : (scaleByRms(rms) as GradientTransform<ScaleByRmsState | ScaleByStddevState>)
  return chain(first, scaleByLearningRate(learningRate), last)
}

/**
 * Options of `lion`.
 *
 * @category models
 * @since 0.1.0
 */
export interface LionOptions {
  readonly b1?: number
  readonly b2?: number
  /** Decoupled weight decay λ (≥ 0 or a schedule). Default 1e-3 (Optax's). */
  readonly weightDecay?: StepSize
}

/**
 * Lion (Chen et al., 2023): `chain(scaleByLion(options), addDecayedWeights(λ),
 * scaleByLearningRate(η))`, Optax's `lion`. Defaults β₁ = 0.9, β₂ = 0.99,
 * λ = 1e-3.
 *
 * @category optimizers
 * @since 0.1.0
 */
export const lion = (
  learningRate: StepSize,
  options: LionOptions = {}
): GradientTransform<[ScaleByLionState, LearningRateState, LearningRateState]> => {
  const lionOptions: { b1?: number; b2?: number } = {}
  if (options.b1 !== undefined) lionOptions.b1 = options.b1
  if (options.b2 !== undefined) lionOptions.b2 = options.b2
  return chain(
    scaleByLion(lionOptions),
    addDecayedWeights(options.weightDecay ?? 1e-3),
    scaleByLearningRate(learningRate)
  )
}

/**
 * NAdam (Dozat, "Incorporating Nesterov Momentum into Adam", ICLR 2016
 * workshop): `adam(η, { ...options, nesterov: true })`, Optax's `nadam`.
 *
 * @category optimizers
 * @since 0.1.0
 */
export const nadam = (
  learningRate: StepSize,
  options: Omit<AdamOptions, "nesterov"> = {}
): GradientTransform<[ScaleByAdamState, LearningRateState]> =>
  adam(learningRate, { ...options, nesterov: true })

/**
 * Options of `amsgrad` (see `scaleByAmsgrad`).
 *
 * @category models
 * @since 0.1.0
 */
export interface AmsgradOptions {
  readonly b1?: number
  readonly b2?: number
  readonly eps?: number
  readonly epsRoot?: number
  readonly biasCorrectionMu?: boolean
  readonly biasCorrectionNu?: boolean
}

/**
 * AMSGrad (Reddi et al., ICLR 2018): `chain(scaleByAmsgrad(options),
 * scaleByLearningRate(η))`, Optax's `amsgrad`. Defaults β₁ = 0.9,
 * β₂ = 0.999, ε = 1e-8, ε_root = 0.
 *
 * @category optimizers
 * @since 0.1.0
 */
export const amsgrad = (
  learningRate: StepSize,
  options: AmsgradOptions = {}
): GradientTransform<[ScaleByAmsgradState, LearningRateState]> =>
  chain(scaleByAmsgrad(options), scaleByLearningRate(learningRate))

/**
 * Options of `adamax` (see `scaleByAdamax`).
 *
 * @category models
 * @since 0.1.0
 */
export interface AdamaxOptions {
  readonly b1?: number
  readonly b2?: number
  readonly eps?: number
}

/**
 * AdaMax (Kingma & Ba, ICLR 2015, §7.1): `chain(scaleByAdamax(options),
 * scaleByLearningRate(η))`, Optax's `adamax`. Defaults β₁ = 0.9,
 * β₂ = 0.999, ε = 1e-8.
 *
 * @category optimizers
 * @since 0.1.0
 */
export const adamax = (
  learningRate: StepSize,
  options: AdamaxOptions = {}
): GradientTransform<[ScaleByAdamState, LearningRateState]> =>
  chain(scaleByAdamax(options), scaleByLearningRate(learningRate))

/**
 * Options of `adagrad` (see `scaleByRss`).
 *
 * @category models
 * @since 0.1.0
 */
export interface AdagradOptions {
  /** Initial sum of squares, ≥ 0. Default 0.1. */
  readonly initialAccumulatorValue?: number
  /** Added inside the square root, ≥ 0. Default 1e-7. */
  readonly eps?: number
}

/**
 * AdaGrad (Duchi, Hazan & Singer, JMLR 2011): `chain(scaleByRss(options),
 * scaleByLearningRate(η))`, Optax's `adagrad`, so the step is
 * −η·g/√(Σg² + ε).
 *
 * @category optimizers
 * @since 0.1.0
 */
export const adagrad = (
  learningRate: StepSize,
  options: AdagradOptions = {}
): GradientTransform<[ScaleByRssState, LearningRateState]> =>
  chain(scaleByRss(options), scaleByLearningRate(learningRate))
