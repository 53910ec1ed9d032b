/**
 * The log-determinant central path of DAGMA (Bello, Kuleshov, Ravikumar,
 * "DAGMA: Learning DAGs via M-matrices and a Log-Determinant Acyclicity
 * Characterization", NeurIPS 2022, Algorithm 1), written once for any learner
 * whose score is smooth plus an l1 penalty (CoLiDE uses it; DAGMA's own module
 * may too).
 *
 * With hˢ(W) = −log det(sI − W∘W) + d·log s, which is ≥ 0 on the set of W
 * with ρ(W∘W) < s and zero exactly at DAGs, the central path solves for
 * stages t = 0, …, T − 1
 *
 *   Wₜ₊₁ = argmin_W μₜ·(f(W) + λ‖W‖₁) + h^{sₜ}(W),   μₜ₊₁ = μₜ·factor,
 *
 * each subproblem by Adam from Wₜ (warm start), `warmIterations` steps for
 * the first T − 1 stages and `finalIterations` for the last, stopping a stage
 * early when the relative change of its objective over `checkEvery` steps is
 * ≤ `tolerance`. The gradient of the barrier is ∇hˢ(W) = 2·W ∘ (sI − W∘W)⁻ᵀ.
 *
 * Leaving the domain (sI − W∘W no longer an M-matrix; an exact pivot test
 * plus the paper's test of the inverse for negative entries) is handled as
 * in the paper: inside a stage the last step is undone and retried with half the
 * step size; at a stage's first step (or when s ≤ 0.9) the stage restarts
 * from its initial W with half the step size and s + 0.1. Both loops are
 * bounded (`MIN_STEP_SIZE`, `MAX_STAGE_RESTARTS`).
 *
 * @since 0.1.0
 * @internal
 */
import { Blas1, Matrix, Vector } from "@descent/core"
import { type GradientTransform, Transforms } from "@descent/optim"
import { addL1Subgradient, l1Norm } from "./learnerKernels.ts"
import { type MMatrixWorkspace, makeMMatrixWorkspace, shiftedSquareInverse } from "./mMatrix.ts"

/** A backtracked step size below this ends the stage with the current W (DAGMA's bound). */
export const MIN_STEP_SIZE = 1e-16
/** Stage restarts (s ← s + 0.1, step size halved) allowed before the path stops as `stalled`. */
export const MAX_STAGE_RESTARTS = 40

/**
 * A smooth score f: its value at W and its gradient written into `gradient`
 * (both d × d, row-major).
 *
 * @internal
 */
export interface SmoothScore {
  readonly valueAndGradient: (W: Float64Array, gradient: Float64Array) => number
}

/**
 * The central path's settings (all validated by the caller).
 *
 * @internal
 */
export interface CentralPathSettings {
  readonly stages: number
  readonly muInit: number
  readonly muFactor: number
  /** sₜ per stage; the last entry repeats when there are fewer than `stages`. */
  readonly s: ReadonlyArray<number>
  readonly warmIterations: number
  readonly finalIterations: number
  readonly learningRate: number
  readonly beta1: number
  readonly beta2: number
  readonly lambda1: number
  readonly checkEvery: number
  readonly tolerance: number
}

/**
 * The path's state; `stepCentralPath` mutates it.
 *
 * @internal
 */
export interface CentralPathState {
  readonly d: number
  readonly score: SmoothScore
  readonly settings: CentralPathSettings
  /** The iterate (d × d, row-major). */
  readonly W: Float64Array
  /** W at the start of the current stage (restarts go back to it). */
  readonly stageStart: Float64Array
  readonly gradient: Float64Array
  /** The last Adam direction (to undo a step). */
  readonly direction: Float64Array
  /** Buffers of the M-matrix inverse. */
  readonly mMatrix: MMatrixWorkspace
  /** ∇hˢ(W) at the last domain test. */
  readonly barrierGradient: Matrix.Matrix
  readonly adam: GradientTransform.GradientTransform<Transforms.ScaleByAdamState>
  adamState: Transforms.ScaleByAdamState
  stage: number
  /** Steps taken in the current stage. */
  inner: number
  mu: number
  s: number
  /** The step size of the current stage attempt. */
  stageStepSize: number
  /** The current (possibly backtracked) step size. */
  stepSize: number
  previousObjective: number
  objective: number
  restarts: number
  backtracks: number
  /** Set when the path has ended. */
  end: "converged" | "maxIterations" | "stalled" | undefined
}

const sAt = (settings: CentralPathSettings, stage: number): number =>
  settings.s[Math.min(stage, settings.s.length - 1)]!

/**
 * The initial state at W₀ (copied).
 *
 * @internal
 */
export const initCentralPath = (
  d: number,
  score: SmoothScore,
  settings: CentralPathSettings,
  W0: Float64Array
): CentralPathState => {
  const W = Vector.clone(W0)
  const adam = Transforms.scaleByAdam({ b1: settings.beta1, b2: settings.beta2 })
  return {
    d,
    score,
    settings,
    W,
    stageStart: Vector.clone(W0),
    gradient: Vector.zeros(d * d),
    direction: Vector.zeros(d * d),
    mMatrix: makeMMatrixWorkspace(d),
    barrierGradient: Matrix.zeros(d, d),
    adam,
    adamState: adam.init(W),
    stage: 0,
    inner: 0,
    mu: settings.muInit,
    s: sAt(settings, 0),
    stageStepSize: settings.learningRate,
    stepSize: settings.learningRate,
    previousObjective: Number.POSITIVE_INFINITY,
    objective: Number.NaN,
    restarts: 0,
    backtracks: 0,
    end: undefined
  }
}

/**
 * hˢ(W) with its gradient 2W ∘ (sI − W∘W)⁻ᵀ in `barrierGradient`, or
 * undefined outside the domain ρ(W∘W) < s (or at a non-finite iterate). The
 * inverse and log-determinant come from DAGMA's allocation-free M-matrix
 * kernel (`internal/mMatrix.ts`), whose domain test is exact.
 */
const barrierAt = (state: CentralPathState): number | undefined => {
  const { d, W, s } = state
  if (Vector.findNonFinite(W) >= 0) return undefined
  const logDet = shiftedSquareInverse(W, s, state.mMatrix)
  if (!Number.isFinite(logDet)) return undefined
  const inv = state.mMatrix.inverse.data
  const g = state.barrierGradient.data
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) g[i * d + j] = 2 * W[i * d + j]! * inv[j * d + i]!
  }
  return -logDet + d * Math.log(s)
}

/** The stage objective μ(f(W) + λ‖W‖₁) + hˢ(W) (gradient buffer used as scratch). */
const objectiveAt = (state: CentralPathState, barrier: number): number =>
  state.mu *
    (state.score.valueAndGradient(state.W, state.gradient) + state.settings.lambda1 * l1Norm(state.W)) +
  barrier

const restartStage = (state: CentralPathState): void => {
  state.restarts++
  if (state.restarts > MAX_STAGE_RESTARTS) {
    state.end = "stalled"
    return
  }
  Blas1.copy(state.stageStart, state.W)
  state.stageStepSize *= 0.5
  state.stepSize = state.stageStepSize
  state.s += 0.1
  state.inner = 0
  state.previousObjective = Number.POSITIVE_INFINITY
  state.adamState = state.adam.init(state.W)
}

const finishStage = (state: CentralPathState, byTolerance: boolean): void => {
  const { settings } = state
  if (state.stage === settings.stages - 1) {
    state.end = byTolerance ? "converged" : "maxIterations"
    return
  }
  state.stage++
  state.mu *= settings.muFactor
  state.s = sAt(settings, state.stage)
  state.stageStepSize = settings.learningRate
  state.stepSize = settings.learningRate
  state.inner = 0
  state.previousObjective = Number.POSITIVE_INFINITY
  Blas1.copy(state.W, state.stageStart)
  state.adamState = state.adam.init(state.W)
}

/**
 * One Adam step of the current stage (with DAGMA's backtracking and stage
 * restarts), or a stage transition. Does nothing once `end` is set.
 *
 * @internal
 */
export const stepCentralPath = (state: CentralPathState): void => {
  if (state.end !== undefined) return
  const { W, settings } = state
  let barrier = barrierAt(state)
  // Outside the domain: undo the last step and halve the step size (bounded
  // by MIN_STEP_SIZE), or restart the stage.
  while (barrier === undefined) {
    if (state.inner === 0 || state.s <= 0.9) {
      restartStage(state)
      return
    }
    Blas1.axpy(state.stepSize, state.direction, W)
    state.stepSize *= 0.5
    state.backtracks++
    if (state.stepSize <= MIN_STEP_SIZE) {
      finishStage(state, false)
      return
    }
    Blas1.axpy(-state.stepSize, state.direction, W)
    barrier = barrierAt(state)
  }
  const g = state.gradient
  state.score.valueAndGradient(W, g)
  Blas1.scal(state.mu, g)
  addL1Subgradient(state.mu * settings.lambda1, W, g)
  Blas1.axpy(1, state.barrierGradient.data, g)
  const { updates, state: next } = state.adam.update(g, state.adamState)
  state.adamState = next
  Blas1.copy(updates as Float64Array, state.direction)
  Blas1.axpy(-state.stepSize, state.direction, W)
  state.inner++
  const stageIterations =
    state.stage === settings.stages - 1 ? settings.finalIterations : settings.warmIterations
  if (state.inner % settings.checkEvery === 0 || state.inner >= stageIterations) {
    const b = barrierAt(state)
    // The check point is outside the domain: the next step backtracks (or,
    // at the stage's last step, the next stage restarts).
    if (b === undefined) {
      if (state.inner >= stageIterations) finishStage(state, false)
      return
    }
    state.objective = objectiveAt(state, b)
    const change = Math.abs((state.previousObjective - state.objective) / state.previousObjective)
    if (change <= settings.tolerance) {
      finishStage(state, true)
      return
    }
    state.previousObjective = state.objective
  }
  if (state.inner >= stageIterations) finishStage(state, false)
}

/**
 * The total step budget of a path with these settings (plus the slack its
 * restarts may need is not counted: restarts are bounded separately).
 *
 * @internal
 */
export const centralPathBudget = (settings: CentralPathSettings): number =>
  (settings.stages - 1) * settings.warmIterations + settings.finalIterations
