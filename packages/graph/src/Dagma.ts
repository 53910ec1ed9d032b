/**
 * DAGMA for linear SEMs (Bello, Aragam & Ravikumar, "DAGMA: Learning DAGs
 * via M-matrices and a Log-Determinant Acyclicity Characterization", NeurIPS
 * 2022): acyclicity through the log-determinant
 *
 *   h_s(W) = −log det(sI − W∘W) + d·log s,
 *
 * defined on the M-matrix domain {W : ρ(W∘W) < s}, where h_s ≥ 0 with
 * equality exactly at DAGs (paper, Theorem 1), and
 * ∇h_s(W) = 2W ∘ (sI − W∘W)⁻ᵀ (paper, eq. (7)). h_s grows to +∞ at the
 * domain's boundary, so it acts as a barrier: DAGMA follows the central path
 * (paper, Algorithm 1)
 *
 *   W⁽ᵗ⁺¹⁾ = argmin_W  μₜ·(L(W) + λ₁‖W‖₁) + h_{sₜ}(W),   t = 0, …, T − 1,
 *
 * with μₜ decreasing to 0 (a `Schedules` value; default μₜ = 0.1ᵗ), each
 * subproblem solved by Adam (`Optimizers.adam`, step size 3·10⁻⁴,
 * β = (0.99, 0.999)) from the previous solution with the l1 subgradient
 * λ₁·sign(W): `warmIterations` (3·10⁴) steps for t < T − 1 and
 * `finalIterations` (6·10⁴) for the last, stopping early when the stage
 * objective changes by ≤ `tolerance` (10⁻⁶, relative) between checks every
 * `checkEvery` (1000) steps. As in the paper, W ranges over all of ℝ^{d×d}:
 * a diagonal entry is a self-loop, a cycle that h_s penalizes like any other
 * (the learned graph drops the diagonal).
 *
 * Leaving the domain. After each Adam step sI − W∘W must remain an M-matrix.
 * Its inverse, log-determinant and the domain test come from one elimination
 * without pivoting (a Z-matrix is a nonsingular M-matrix exactly when all
 * pivots are positive; its inverse is then ≥ 0). When a step leaves the
 * domain it is halved until the iterate is back inside (a step size below
 * 10⁻¹⁶ ends the stage at the last point inside); at a stage's first step, or
 * when s ≤ 0.9, the stage restarts from its starting point with half the
 * step size and s + 0.1, as the reference implementation does (at most
 * `maxRestarts` times per stage, then the run `stalled`).
 *
 * Losses: `"l2"` = ½ tr((I − W)ᵀ Σ (I − W)) from Σ = XᵀX/n of the centered
 * data (every step O(d³) whatever n is), gradient −Σ(I − W); `"logistic"`
 * for 0/1 data, (1/n) Σ softplus(XW) − X∘(XW), gradient (1/n)Xᵀ(σ(XW) − X)
 * (O(n·d²) per step). The learned graph drops |Wᵢⱼ| < `threshold`
 * (0.3), then the weakest edges until it is acyclic (`Dag.pruneToDag`).
 *
 * @since 0.1.0
 */
import { Blas1, Blas3, Errors, Logistic, Matrix, OptimizerKernels, Solver, Vector } from "@descent/core"
import { GradientTransform, Optimizers, Schedules } from "@descent/optim"
import * as Dag from "./Dag.ts"
import * as Data from "./Data.ts"
import {
  invertShiftedSquare,
  type MMatrixWorkspace,
  makeMMatrixWorkspace,
  shiftedSquareInverse
} from "./internal/mMatrix.ts"

/**
 * The data-fit term L(W): least squares (continuous data) or the logistic
 * loss (0/1 data).
 *
 * @category models
 * @since 0.1.0
 */
export type Loss = "l2" | "logistic"

/**
 * Options of DAGMA.
 *
 * @category models
 * @since 0.1.0
 */
export interface DagmaOptions {
  /** The loss L(W). Default `"l2"`. */
  readonly loss?: Loss
  /** The l1 weight λ₁ (≥ 0). Default 0.02 (the reference's linear example). */
  readonly lambda1?: number
  /** The number of central-path stages T (an integer ≥ 1). Default 5. */
  readonly stages?: number
  /** μₜ, the score weight of stage t, as a schedule over t = 0…T − 1 (values > 0). Default 0.1ᵗ. */
  readonly mu?: Schedules.Schedule
  /** sₜ per stage (> 0; a shorter list repeats its last entry), or one s for all. Default [1, 0.9, 0.8, 0.7, 0.6]. */
  readonly s?: number | ReadonlyArray<number>
  /** Adam's step size (> 0). Default 3e-4. */
  readonly learningRate?: number
  /** Adam's first-moment decay β₁ ∈ [0, 1). Default 0.99. */
  readonly beta1?: number
  /** Adam's second-moment decay β₂ ∈ [0, 1). Default 0.999. */
  readonly beta2?: number
  /** Adam steps of each of the first T − 1 stages (an integer ≥ 1). Default 30000. */
  readonly warmIterations?: number
  /** Adam steps of the last stage (an integer ≥ 1). Default 60000. */
  readonly finalIterations?: number
  /** Steps between a stage's convergence checks (an integer ≥ 1). Default 1000. */
  readonly checkEvery?: number
  /** A stage ends when its objective changes by ≤ this (relative) between checks (≥ 0). Default 1e-6. */
  readonly tolerance?: number
  /** Restarts (s + 0.1, half the step size) allowed per stage (an integer ≥ 0). Default 20. */
  readonly maxRestarts?: number
  /** Edges with |Wᵢⱼ| below this are dropped from the learned graph (≥ 0). Default 0.3. */
  readonly threshold?: number
  /** Aborting the signal ends `fit` as `interrupted` after the current stage. */
  readonly signal?: AbortSignal
}

/**
 * Defaults of `DagmaOptions` (the reference implementation's).
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultDagmaOptions = {
  loss: "l2",
  lambda1: 0.02,
  stages: 5,
  mu: Schedules.exponential({ initValue: 1, transitionSteps: 1, decayRate: 0.1 }),
  s: [1, 0.9, 0.8, 0.7, 0.6],
  learningRate: 3e-4,
  beta1: 0.99,
  beta2: 0.999,
  warmIterations: 30_000,
  finalIterations: 60_000,
  checkEvery: 1000,
  tolerance: 1e-6,
  maxRestarts: 20,
  threshold: 0.3
} as const

/** A step size at or below this ends a stage's backtracking (the reference's bound). */
const MIN_STEP_SIZE = 1e-16
/** The reference's test for restarting rather than backtracking: s at or below this. */
const BACKTRACK_MIN_S = 0.9
/** s grows by this at each stage restart (the reference's). */
const RESTART_S_INCREMENT = 0.1

/**
 * Work counts of a DAGMA run.
 *
 * @category models
 * @since 0.1.0
 */
export interface DagmaCounts {
  /** Adam steps over all stages and restarts. */
  readonly adamSteps: number
  /** Stage restarts (s + 0.1, half the step size). */
  readonly restarts: number
  /** Step halvings after leaving the domain. */
  readonly backtracks: number
}

/**
 * What DAGMA's solver outputs.
 *
 * @category models
 * @since 0.1.0
 */
export interface DagmaOutput {
  /** The learned graph: `Wraw` without its diagonal, |Wᵢⱼ| < threshold dropped, pruned to a DAG if needed. */
  readonly W: Matrix.Matrix
  /** The raw estimate of the last stage. */
  readonly Wraw: Matrix.Matrix
  /** h₁(Wraw) = −log det(I − Wraw∘Wraw) (+∞ outside the domain ρ < 1). */
  readonly h: number
  /** L(Wraw), the loss without the l1 term. */
  readonly loss: number
  /** The s of each finished stage (after restarts). */
  readonly s: ReadonlyArray<number>
  /** Edges removed beyond the threshold to make `W` acyclic (usually 0). */
  readonly prunedEdges: number
  readonly counts: DagmaCounts
}

/**
 * The result of `fit`. `converged`: all T stages done, the last one stopped
 * by the tolerance; `maxIterations`: the last stage used its whole budget;
 * `stalled`: a stage needed more than `maxRestarts` restarts; `diverged`: a
 * non-finite objective.
 *
 * @category models
 * @since 0.1.0
 */
export interface DagmaResult extends DagmaOutput {
  readonly status: Solver.Status
  readonly iterations: number
}

interface Settings {
  readonly loss: Loss
  readonly lambda1: number
  readonly stages: number
  readonly mu: Schedules.Schedule
  readonly s: ReadonlyArray<number>
  readonly learningRate: number
  readonly beta1: number
  readonly beta2: number
  readonly warmIterations: number
  readonly finalIterations: number
  readonly checkEvery: number
  readonly tolerance: number
  readonly maxRestarts: number
  readonly threshold: number
}

type AdamTransform = ReturnType<typeof Optimizers.adam>

/**
 * DAGMA's state; `step` mutates it.
 *
 * @category models
 * @since 0.1.0
 */
export interface DagmaState {
  readonly d: number
  readonly settings: Settings
  readonly loss: Loss
  /** Σ = XᵀX/n of the centered data (l2; empty for the logistic loss). */
  readonly covariance: Matrix.Matrix
  /** The raw data and the n × d buffer of XW (logistic only). */
  readonly X: Matrix.Matrix | undefined
  readonly XW: Matrix.Matrix | undefined
  /** The iterate (d × d row-major) and its matrix view. */
  readonly W: Float64Array
  readonly Wmatrix: Matrix.Matrix
  /** The iterate before the last Adam step, and a stage's starting point. */
  readonly previous: Float64Array
  readonly stageStart: Float64Array
  readonly gradient: Float64Array
  readonly gradientMatrix: Matrix.Matrix
  /** −μΣ of the current stage (l2). */
  readonly scoreOffset: Float64Array
  /** I − W, and a d × d scratch for products. */
  readonly R: Matrix.Matrix
  readonly product: Matrix.Matrix
  readonly mMatrix: MMatrixWorkspace
  /** The step size Adam reads (halved by backtracking). */
  readonly stepSize: { value: number }
  readonly adam: AdamTransform
  /** Finished stages. */
  stage: number
  /** s of the finished stages. */
  readonly sUsed: Array<number>
  /** The last stage objective μ(L + λ₁‖W‖₁) + h_s, and whether the last stage met the tolerance. */
  objective: number
  lastConverged: boolean
  stalled: boolean
  adamSteps: number
  restarts: number
  backtracks: number
}

const NAME = "Dagma"

/** L(W) at state.W; with `gradientScale` ≠ 0 also writes gradientScale·∇L into state.gradient. */
const lossAt = (state: DagmaState, gradientScale: number): number => {
  const { d, W } = state
  if (state.loss === "l2") {
    const R = state.R.data
    for (let k = 0; k < d * d; k++) R[k] = -W[k]!
    for (let i = 0; i < d; i++) R[i * d + i] = R[i * d + i]! + 1
    Blas3.gemm(false, false, 1, state.covariance, state.R, 0, state.product)
    const Q = state.product.data
    let loss = 0
    for (let k = 0; k < d * d; k++) loss += R[k]! * Q[k]!
    if (gradientScale !== 0) {
      const g = state.gradient
      for (let k = 0; k < d * d; k++) g[k] = -gradientScale * Q[k]!
    }
    return 0.5 * loss
  }
  const X = state.X!
  const XW = state.XW!
  const n = X.rows
  Blas3.gemm(false, false, 1, X, state.Wmatrix, 0, XW)
  // XW ← (σ(XW) − X)/n; the gradient (1/n)Xᵀ(σ(XW) − X) = (1/n)Xᵀσ(XW) − Σ.
  const total = Logistic.logisticLoss(XW.data, X.data, XW.data, 1 / n)
  if (gradientScale !== 0) {
    Blas3.gemm(true, false, 1, X, XW, 0, state.product)
    const g = state.gradient
    const P = state.product.data
    for (let k = 0; k < d * d; k++) g[k] = gradientScale * P[k]!
  }
  return total / n
}

const l1Norm = (W: Float64Array): number => {
  let s = 0
  for (let k = 0; k < W.length; k++) s += Math.abs(W[k]!)
  return s
}

/** The stage objective μ(L(W) + λ₁‖W‖₁) + h_s(W) at state.W; +∞ outside the domain. */
const objectiveAt = (state: DagmaState, mu: number, s: number): number => {
  const logDet = shiftedSquareInverse(state.W, s, state.mMatrix)
  if (logDet === Number.NEGATIVE_INFINITY) return Number.POSITIVE_INFINITY
  const h = -logDet + state.d * Math.log(s)
  return mu * (lossAt(state, 0) + state.settings.lambda1 * l1Norm(state.W)) + h
}

/**
 * The full gradient μ∇L + μλ₁·sign(W) + 2W∘(sI − W∘W)⁻ᵀ at state.W (the
 * transposed inverse already in the workspace, its signs not yet tested).
 * For l2, μ∇L = μΣW − μΣ: the l1 and barrier terms go on top of −μΣ
 * (`scoreOffset`, set per stage) and one gemm adds μΣW, so no pass forms
 * I − W or the loss value. Returns false (gradient unfinished) when the
 * inverse has a negative or NaN entry: W is outside the domain.
 */
const gradientAt = (state: DagmaState, mu: number): boolean => {
  const { W, gradient: g } = state
  const l2 = state.loss === "l2"
  if (!l2) lossAt(state, mu)
  // Barrier, l1 term and the sign test of the inverse in one pass.
  const base = l2 ? state.scoreOffset : g
  const l1 = mu * state.settings.lambda1
  if (!OptimizerKernels.hadamardL1Gradient(base, 2, W, state.mMatrix.inverse.data, l1, g)) return false
  if (l2) Blas3.gemm(false, false, mu, state.covariance, state.Wmatrix, 1, state.gradientMatrix)
  return true
}

/** Whether W is inside the domain, with the gradient at W when it is. */
const domainAndGradient = (state: DagmaState, mu: number, s: number): boolean =>
  invertShiftedSquare(state.W, s, state.mMatrix, true, false) && gradientAt(state, mu)

type StageEnd = "converged" | "budget" | "restart"

/**
 * One attempt at stage `stage` from `stageStart` with step size `stepSize`
 * and scale s: Adam until the tolerance, the budget, or a restart.
 */
const runStage = (state: DagmaState, mu: number, s: number, budget: number): StageEnd => {
  const { settings, W, previous, d } = state
  const n = d * d
  Blas1.copy(state.stageStart, W)
  if (state.loss === "l2") {
    const sigma = state.covariance.data
    for (let k = 0; k < n; k++) state.scoreOffset[k] = -mu * sigma[k]!
  }
  let adamState = state.adam.init(W)
  let objectivePrevious = Number.POSITIVE_INFINITY
  for (let iteration = 1; iteration <= budget; iteration++) {
    let inside = domainAndGradient(state, mu, s)
    // Outside the domain: restart the stage, or halve the last step until back inside.
    while (!inside) {
      if (iteration === 1 || s <= BACKTRACK_MIN_S) return "restart"
      state.stepSize.value *= 0.5
      state.backtracks++
      if (state.stepSize.value <= MIN_STEP_SIZE) {
        Blas1.copy(previous, W)
        return "converged"
      }
      for (let k = 0; k < n; k++) W[k] = previous[k]! + 0.5 * (W[k]! - previous[k]!)
      inside = domainAndGradient(state, mu, s)
    }
    Blas1.copy(W, previous)
    adamState = GradientTransform.step(state.adam, W, state.gradient, adamState)
    state.adamSteps++
    if (iteration % settings.checkEvery === 0 || iteration === budget) {
      const objective = objectiveAt(state, mu, s)
      if (Number.isFinite(objective)) {
        state.objective = objective
        if (Math.abs((objectivePrevious - objective) / objectivePrevious) <= settings.tolerance)
          return "converged"
        objectivePrevious = objective
      }
    }
  }
  return "budget"
}

const invalid = (field: string, value: unknown, requirement: string) =>
  new Errors.InvalidOptions({ operation: NAME, field, value, requirement })

const finiteAtLeast = (field: string, value: unknown, min: number, strict: boolean): number => {
  if (typeof value !== "number" || !Number.isFinite(value) || (strict ? !(value > min) : !(value >= min))) {
    throw invalid(field, value, `a finite number ${strict ? ">" : "≥"} ${min}`)
  }
  return value
}

const integerAtLeast = (field: string, value: unknown, min: number): number => {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw invalid(field, value, `an integer ≥ ${min}`)
  }
  return value
}

const decayRate = (field: string, value: unknown): number => {
  if (typeof value !== "number" || !(value >= 0 && value < 1))
    throw invalid(field, value, "a number in [0, 1)")
  return value
}

const settingsOf = (options: DagmaOptions): Settings => {
  const o = { ...defaultDagmaOptions, ...options }
  if (o.loss !== "l2" && o.loss !== "logistic") throw invalid("loss", o.loss, '"l2" or "logistic"')
  const stages = integerAtLeast("stages", o.stages, 1)
  const sList = typeof o.s === "number" ? [o.s] : Array.from(o.s as ReadonlyArray<number>)
  if (sList.length === 0) throw invalid("s", o.s, "a number or a non-empty list")
  for (let i = 0; i < sList.length; i++) finiteAtLeast(`s[${i}]`, sList[i], 0, true)
  if (!Schedules.isSchedule(o.mu)) throw invalid("mu", o.mu, "a Schedules value")
  for (let t = 0; t < stages; t++) finiteAtLeast(`mu(${t})`, Schedules.evaluate(o.mu, t), 0, true)
  return {
    loss: o.loss,
    lambda1: finiteAtLeast("lambda1", o.lambda1, 0, false),
    stages,
    mu: o.mu,
    s: sList,
    learningRate: finiteAtLeast("learningRate", o.learningRate, 0, true),
    beta1: decayRate("beta1", o.beta1),
    beta2: decayRate("beta2", o.beta2),
    warmIterations: integerAtLeast("warmIterations", o.warmIterations, 1),
    finalIterations: integerAtLeast("finalIterations", o.finalIterations, 1),
    checkEvery: integerAtLeast("checkEvery", o.checkEvery, 1),
    tolerance: finiteAtLeast("tolerance", o.tolerance, 0, false),
    maxRestarts: integerAtLeast("maxRestarts", o.maxRestarts, 0),
    threshold: finiteAtLeast("threshold", o.threshold, 0, false)
  }
}

const outputOf = (state: DagmaState): DagmaOutput => {
  const { d } = state
  const Wraw = Matrix.fromData(d, d, Vector.clone(state.W))
  const loss = lossAt(state, 0)
  const logDet = shiftedSquareInverse(state.W, 1, state.mMatrix)
  const finite = Vector.findNonFinite(Wraw.data) < 0
  // The learned graph has no self-loops: drop the diagonal, then threshold and prune.
  const offDiagonal = Matrix.clone(Wraw)
  for (let i = 0; i < d; i++) offDiagonal.data[i * d + i] = 0
  const pruned = finite
    ? Dag.pruneToDag(offDiagonal, { threshold: state.settings.threshold })
    : { W: Matrix.zeros(d, d), removed: 0 }
  return {
    W: pruned.W,
    Wraw,
    h: logDet === Number.NEGATIVE_INFINITY ? Number.POSITIVE_INFINITY : -logDet,
    loss,
    s: state.sUsed.slice(),
    prunedEdges: pruned.removed,
    counts: { adamSteps: state.adamSteps, restarts: state.restarts, backtracks: state.backtracks }
  }
}

/**
 * DAGMA as a `Solver.IterativeSolver` on the data matrix X (n × d, one
 * sample per row): one iteration is one central-path stage (an Adam run of
 * up to `warmIterations` or `finalIterations` steps, with its restarts).
 * Starts from W = 0. `status` is set after the last stage (`converged` or
 * `maxIterations`, see `DagmaResult`) or when a stage stalls; the residual
 * is the last stage objective.
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<Matrix.Matrix, DagmaOptions, DagmaState, DagmaOutput> = {
  name: NAME,
  init: (X, options) => {
    Data.checkData(`${NAME}.fit`, X)
    const settings = settingsOf(options)
    const { rows: n, cols: d } = X
    const logistic = settings.loss === "logistic"
    const W = Vector.zeros(d * d)
    const gradient = Vector.zeros(d * d)
    const stepSize = { value: settings.learningRate }
    const adam = Optimizers.adam(() => stepSize.value, { b1: settings.beta1, b2: settings.beta2 })
    return {
      d,
      settings,
      loss: settings.loss,
      covariance: logistic ? Matrix.zeros(0, 0) : Data.covariance(X, { center: true }),
      X: logistic ? X : undefined,
      XW: logistic ? Matrix.zeros(n, d) : undefined,
      W,
      Wmatrix: Matrix.fromData(d, d, W),
      previous: Vector.zeros(d * d),
      stageStart: Vector.zeros(d * d),
      gradient,
      gradientMatrix: Matrix.fromData(d, d, gradient),
      scoreOffset: Vector.zeros(logistic ? 0 : d * d),
      R: Matrix.zeros(d, d),
      product: Matrix.zeros(d, d),
      mMatrix: makeMMatrixWorkspace(d),
      stepSize,
      adam,
      stage: 0,
      sUsed: [],
      objective: 0,
      lastConverged: false,
      stalled: false,
      adamSteps: 0,
      restarts: 0,
      backtracks: 0
    }
  },
  step: (state) => {
    const { settings } = state
    if (state.stage >= settings.stages || state.stalled) return state
    const t = state.stage
    const mu = Schedules.evaluate(settings.mu, t)
    let s = settings.s[Math.min(t, settings.s.length - 1)]!
    let stageStepSize = settings.learningRate
    const budget = t === settings.stages - 1 ? settings.finalIterations : settings.warmIterations
    state.stageStart.set(state.W)
    let end: StageEnd = "restart"
    for (let attempt = 0; attempt <= settings.maxRestarts; attempt++) {
      state.stepSize.value = stageStepSize
      end = runStage(state, mu, s, budget)
      if (end !== "restart") break
      state.restarts++
      stageStepSize *= 0.5
      s += RESTART_S_INCREMENT
    }
    if (end === "restart") {
      state.W.set(state.stageStart)
      state.stalled = true
      return state
    }
    state.sUsed.push(s)
    state.lastConverged = end === "converged"
    state.stage++
    return state
  },
  status: (state) => {
    if (state.stalled) return "stalled"
    if (state.stage < state.settings.stages) return undefined
    return state.lastConverged ? "converged" : "maxIterations"
  },
  residual: (state) => state.objective,
  metrics: (state) => ({
    stage: state.stage,
    objective: state.objective,
    adamSteps: state.adamSteps,
    restarts: state.restarts
  }),
  output: outputOf
}

/**
 * Runs DAGMA on X (n × d, one sample per row) and returns the learned DAG
 * with the raw estimate, h₁, the loss and the work done.
 *
 * @example
 * const result = Dagma.fit(X, { lambda1: 0.02 })
 * // result.W: the learned DAG (|w| ≥ 0.3)
 * @throws NonFiniteInput when X holds NaN or ±Infinity.
 * @throws TooFewSamples when X has fewer than 2 rows.
 * @throws ConstantColumn when a column of X is constant.
 * @throws EmptyInput when X has no rows or columns.
 * @throws InvalidOptions when an option is out of range (e.g. λ₁ < 0).
 * @category solvers
 * @since 0.1.0
 */
export const fit = (X: Matrix.Matrix, options: DagmaOptions = {}): DagmaResult => {
  const stages = options.stages ?? defaultDagmaOptions.stages
  const run = Solver.run(solver, X, options, {
    maxIterations: Number.isInteger(stages) && stages >= 1 ? stages : 1,
    ...(options.signal === undefined ? {} : { signal: options.signal })
  })
  return { ...run.output, status: run.status, iterations: run.iterations }
}
