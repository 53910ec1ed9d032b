/**
 * CoLiDE, concomitant linear DAG estimation (Saboksayr, Mateos & Tepper,
 * "CoLiDE: Concomitant Linear DAG Estimation", ICLR 2024): learns the weighted
 * adjacency W of a linear SEM X = X·W + E together with the noise scale, so
 * that the sparsity weight λ needs no retuning when the noise level changes.
 *
 * With S = XᵀX/n the covariance of the centered data and R = I − W, the
 * concomitant scores (jointly convex in W and the scales) are
 *
 * - equal variance (CoLiDE-EV), one scale σ > 0:
 *   S(W, σ) = tr(RᵀSR)/(2σ) + d·σ/2,
 * - non-equal variance (CoLiDE-NV), one scale σⱼ > 0 per node:
 *   S(W, σ) = Σⱼ ([RᵀSR]ⱼⱼ/(2σⱼ) + σⱼ/2),
 *
 * plus λ‖W‖₁, minimized subject to acyclicity. For fixed W the scales have
 * the closed forms σ = √(tr(RᵀSR)/d) and σⱼ = √[RᵀSR]ⱼⱼ (the residual standard
 * deviations), and the paper alternates one Adam step on W with these
 * updates. Here the scales are always at their closed form, so the score in W
 * is S(W, σ(W)) and its gradient −S·R·diag(1/σ) (the envelope theorem: ∂S/∂σ =
 * 0 there), the same iteration.
 *
 * Acyclicity is DAGMA's log-det barrier on its central path (Bello, Kuleshov
 * & Ravikumar, NeurIPS 2022): stages t = 0…T−1 minimize
 * μₜ·(S + λ‖W‖₁) + h^{sₜ}(W), h^{s}(W) = −log det(sI − W∘W) + d·log s, by
 * Adam from the previous stage's W, with μ decreasing geometrically (see
 * `internal/centralPath.ts` for the step-size backtracking and stage restarts
 * when an iterate leaves the barrier's domain). The defaults are those of the
 * paper's experiments: λ = 0.05, T = 4, s = (1, 0.9, 0.8, 0.7), μ₀ = 1,
 * factor 0.1, 2·10⁴ warm and 7·10⁴ final Adam steps at step size 3·10⁻⁴
 * (β₁ = 0.99, β₂ = 0.999), a stage ending early when its objective changes by
 * ≤ 10⁻⁶ (relative) over 1000 steps, and the learned graph thresholded at 0.3.
 *
 * @since 0.1.0
 */
import { Errors, Matrix, Solver, Vector } from "@descent/core"
import * as Dag from "./Dag.ts"
import {
  type CentralPathSettings,
  type CentralPathState,
  centralPathBudget,
  initCentralPath,
  MAX_STAGE_RESTARTS,
  type SmoothScore,
  stepCentralPath
} from "./internal/centralPath.ts"
import {
  decay,
  initialWeights,
  integerAtLeast,
  learnerData,
  nonNegative,
  positive,
  unitInterval
} from "./internal/learnerInput.ts"
import { l1Norm, residualCovariance, thresholdedDag } from "./internal/learnerKernels.ts"

/**
 * Options of CoLiDE.
 *
 * @category models
 * @since 0.1.0
 */
export interface ColideOptions {
  /** One noise scale for all nodes (CoLiDE-EV) or one per node (CoLiDE-NV). Default true. */
  readonly equalVariances?: boolean
  /** The l1 weight λ ≥ 0. Default 0.05. */
  readonly lambda1?: number
  /** The number of central-path stages T ≥ 1. Default 4. */
  readonly stages?: number
  /** The first stage's score weight μ₀ > 0. Default 1. */
  readonly muInit?: number
  /** μ is multiplied by this factor in (0, 1] after each stage. Default 0.1. */
  readonly muFactor?: number
  /** The log-det scales sₜ > 0 per stage (the last repeats). Default [1, 0.9, 0.8, 0.7]. */
  readonly s?: ReadonlyArray<number>
  /** Adam steps of each of the first T − 1 stages (≥ 1). Default 20000. */
  readonly warmIterations?: number
  /** Adam steps of the last stage (≥ 1). Default 70000. */
  readonly finalIterations?: number
  /** Adam's step size (> 0). Default 3e-4. */
  readonly learningRate?: number
  /** Adam's first-moment decay β₁ ∈ [0, 1). Default 0.99. */
  readonly beta1?: number
  /** Adam's second-moment decay β₂ ∈ [0, 1). Default 0.999. */
  readonly beta2?: number
  /** Steps between a stage's convergence checks (≥ 1). Default 1000. */
  readonly checkEvery?: number
  /** A stage ends when its objective changes by ≤ this (relative) between checks (≥ 0). Default 1e-6. */
  readonly tolerance?: number
  /** Edges with |Wᵢⱼ| below this are dropped from the learned graph (≥ 0). Default 0.3. */
  readonly threshold?: number
  /** The starting W (d × d). Default: zero. */
  readonly initialWeights?: Matrix.Matrix
}

/**
 * Defaults of `ColideOptions` (the paper's experimental settings).
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultColideOptions = {
  equalVariances: true,
  lambda1: 0.05,
  stages: 4,
  muInit: 1,
  muFactor: 0.1,
  s: [1, 0.9, 0.8, 0.7],
  warmIterations: 20_000,
  finalIterations: 70_000,
  learningRate: 3e-4,
  beta1: 0.99,
  beta2: 0.999,
  checkEvery: 1000,
  tolerance: 1e-6,
  threshold: 0.3
} as const

/**
 * A noise scale is never taken below this, so a perfectly fitted node (zero
 * residual, only possible on degenerate data) does not divide by zero. Far
 * below any residual standard deviation of real data.
 *
 * @category constants
 * @since 0.1.0
 */
export const SCALE_FLOOR = 1e-12

/**
 * What CoLiDE's solver outputs.
 *
 * @category models
 * @since 0.1.0
 */
export interface ColideOutput {
  /** The learned graph: `weights` without the diagonal, thresholded, pruned to a DAG. */
  readonly W: Matrix.Matrix
  /** The raw weights of the last iterate (before thresholding). */
  readonly weights: Matrix.Matrix
  /** The noise scale(s) at `weights`: one entry (EV) or d entries (NV). */
  readonly noiseScale: Float64Array
  /** The concomitant score plus the l1 penalty, S(W, σ(W)) + λ‖W‖₁, at `weights`. */
  readonly score: number
  /** DAGMA's h¹(W) = −log det(I − W∘W) at `weights` (+∞ outside its domain). */
  readonly acyclicity: number
  /** Central-path stages finished (T when the path completed). */
  readonly stagesCompleted: number
  /** Stage restarts after leaving the barrier's domain. */
  readonly restarts: number
}

/**
 * The result of `fit`: the solver's output with the run's status and
 * iteration count (Adam steps).
 *
 * @category models
 * @since 0.1.0
 */
export interface ColideResult extends ColideOutput {
  readonly status: Solver.Status
  readonly iterations: number
}

/**
 * CoLiDE's state (buffers mutated by `step`).
 *
 * @category models
 * @since 0.1.0
 */
export interface ColideState {
  readonly d: number
  readonly equalVariances: boolean
  readonly lambda1: number
  readonly threshold: number
  readonly covariance: Matrix.Matrix
  readonly path: CentralPathState
  /** σ at the last score evaluation (1 or d entries). */
  readonly noiseScale: Float64Array
}

const NAME = "Colide"

/** The concomitant score at σ(W), with its gradient; records σ into `noiseScale`. */
const concomitantScore = (
  S: Matrix.Matrix,
  equalVariances: boolean,
  noiseScale: Float64Array
): SmoothScore => {
  const d = S.rows
  const R = Matrix.zeros(d, d)
  const Q = Matrix.zeros(d, d)
  const r = Vector.zeros(d)
  return {
    valueAndGradient: (W, gradient) => {
      const total = residualCovariance(S, W, R, Q, r)
      const q = Q.data
      if (equalVariances) {
        const sigma = Math.max(Math.sqrt(total / d), SCALE_FLOOR)
        noiseScale[0] = sigma
        for (let k = 0; k < d * d; k++) gradient[k] = -q[k]! / sigma
        return total / (2 * sigma) + (d * sigma) / 2
      }
      let value = 0
      for (let j = 0; j < d; j++) {
        const sigma = Math.max(Math.sqrt(r[j]!), SCALE_FLOOR)
        noiseScale[j] = sigma
        value += r[j]! / (2 * sigma) + sigma / 2
      }
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) gradient[i * d + j] = -q[i * d + j]! / noiseScale[j]!
      }
      return value
    }
  }
}

const settingsOf = (options: ColideOptions): CentralPathSettings & { readonly threshold: number } => {
  const o = { ...defaultColideOptions, ...options }
  const s = o.s
  if (!Array.isArray(s) || s.length === 0) {
    throw new Errors.InvalidOptions({
      operation: NAME,
      field: "s",
      value: s,
      requirement: "a non-empty array"
    })
  }
  for (let t = 0; t < s.length; t++) positive(NAME, `s[${t}]`, s[t]!)
  return {
    stages: integerAtLeast(NAME, "stages", o.stages, 1),
    muInit: positive(NAME, "muInit", o.muInit),
    muFactor: unitInterval(NAME, "muFactor", o.muFactor),
    s,
    warmIterations: integerAtLeast(NAME, "warmIterations", o.warmIterations, 1),
    finalIterations: integerAtLeast(NAME, "finalIterations", o.finalIterations, 1),
    learningRate: positive(NAME, "learningRate", o.learningRate),
    beta1: decay(NAME, "beta1", o.beta1),
    beta2: decay(NAME, "beta2", o.beta2),
    lambda1: nonNegative(NAME, "lambda1", o.lambda1),
    checkEvery: integerAtLeast(NAME, "checkEvery", o.checkEvery, 1),
    tolerance: nonNegative(NAME, "tolerance", o.tolerance),
    threshold: nonNegative(NAME, "threshold", o.threshold)
  }
}

/**
 * CoLiDE as a `Solver.IterativeSolver` on the data matrix X (n × d, one
 * sample per row). One iteration is one Adam step of the central path; the
 * run ends `converged` when the last stage met its tolerance,
 * `maxIterations` when it used its step budget, `stalled` after too many
 * stage restarts. The residual is the current Adam step size (NaN once the
 * iterate is not finite, which the loop reports as `diverged`).
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<Matrix.Matrix, ColideOptions, ColideState, ColideOutput> = {
  name: NAME,
  init: (X, options) => {
    const { d, covariance } = learnerData(`${NAME}.fit`, X)
    const settings = settingsOf(options)
    const W0 = initialWeights(NAME, options.initialWeights, d) ?? Vector.zeros(d * d)
    const equalVariances = options.equalVariances ?? defaultColideOptions.equalVariances
    const noiseScale = Vector.zeros(equalVariances ? 1 : d)
    const score = concomitantScore(covariance, equalVariances, noiseScale)
    return {
      d,
      equalVariances,
      lambda1: settings.lambda1,
      threshold: settings.threshold,
      covariance,
      path: initCentralPath(d, score, settings, W0),
      noiseScale
    }
  },
  step: (state) => {
    stepCentralPath(state.path)
    return state
  },
  status: (state) => state.path.end,
  residual: (state) => {
    const W = state.path.W
    return Vector.findNonFinite(W) >= 0 ? Number.NaN : state.path.stepSize
  },
  metrics: (state) => ({
    objective: state.path.objective,
    stage: state.path.stage,
    stepSize: state.path.stepSize
  }),
  output: (state) => {
    const { d, path } = state
    const weights = Matrix.fromData(d, d, Vector.clone(path.W))
    const scratch = Vector.zeros(d * d)
    const finite = Vector.findNonFinite(path.W) < 0
    const score = finite
      ? path.score.valueAndGradient(path.W, scratch) + state.lambda1 * l1Norm(path.W)
      : Number.NaN
    return {
      W: thresholdedDag(path.W, d, state.threshold),
      weights,
      noiseScale: Vector.clone(state.noiseScale),
      score,
      acyclicity: finite ? Dag.logDetAcyclicity(weights, 1) : Number.NaN,
      stagesCompleted:
        path.end === undefined ? path.stage : path.end === "stalled" ? path.stage : path.settings.stages,
      restarts: path.restarts
    }
  }
}

/**
 * Runs CoLiDE on X (n × d, one sample per row) and returns the learned DAG.
 *
 * @example
 * const result = Colide.fit(X, { equalVariances: false })
 * // result.W is a DAG; result.noiseScale holds the d estimated noise standard deviations
 * @throws NonFiniteInput when X holds NaN or ±Infinity.
 * @throws TooFewSamples when X has fewer than 2 rows.
 * @throws ConstantColumn when a column of X is constant.
 * @throws InvalidOptions when an option is out of range (e.g. λ < 0).
 * @category solvers
 * @since 0.1.0
 */
export const fit = (X: Matrix.Matrix, options: ColideOptions = {}): ColideResult => {
  const state = solver.init(X, options)
  const { settings } = state.path
  // The path ends on its own; this bound only adds the steps its (bounded)
  // stage restarts can repeat.
  const maxIterations =
    centralPathBudget(settings) +
    MAX_STAGE_RESTARTS * (Math.max(settings.warmIterations, settings.finalIterations) + 1)
  const run = Solver.runFrom(solver, state, { maxIterations })
  return { ...run.output, status: run.status, iterations: run.iterations }
}
