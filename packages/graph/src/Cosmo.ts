/**
 * COSMO, constraint-free structure learning with smooth acyclic orientations
 * (Massidda, Landolfi, Cinquini & Bacciu, "Constraint-Free Structure Learning
 * with Smooth Acyclic Orientations", ICLR 2024): a linear SEM learner that
 * never evaluates an acyclicity function. A priority vector p ∈ ℝᵈ orients
 * every pair of nodes from lower to higher priority, so any graph it
 * produces is acyclic by construction.
 *
 * The weights are W = A ∘ O, A ∈ ℝ^{d×d} free, and the smooth orientation
 *
 *   O_ij = σ((p_j − p_i − ε)/t)  (i ≠ j),   O_ii = 0,
 *
 * with σ the logistic function, ε > 0 the shift (the margin by which p_j must
 * exceed p_i for the arc i → j) and t > 0 the temperature. As t → 0, O tends
 * to the 0/1 orientation [p_j − p_i > ε], a strict order of the nodes (paper,
 * Theorem 1). COSMO minimizes, jointly in A and p by Adam,
 *
 *   tr((I − W)ᵀS(I − W))/d + λ₁‖A‖₁ + λ₂‖A‖_F + λ_p‖p‖₂,
 *
 * where S = XᵀX/n is the covariance of the centered data (the first term is
 * the mean squared error ‖X − XW‖²_F/(n·d) of the paper's objective, computed
 * from S: one O(d³) evaluation per step, independent of n). The temperature is
 * annealed from `initialTemperature` to `finalTemperature` by a cosine
 * schedule over the iterations (`@descent/optim` `Schedules.cosine`). With
 * `hardOrientation` (an option of the authors' code) the forward pass uses the
 * 0/1 orientation and the gradient of the priorities that of the smooth one (a
 * straight-through estimator).
 *
 * The learned graph is A ∘ [p_j − p_i > ε] with |Wᵢⱼ| < `threshold` dropped:
 * its arcs all go up the priority order, so it is a DAG without any repair.
 * The priorities start from N(0, ε²/2) and A from U(−√(3/d), √(3/d)) (the
 * authors' initialization), drawn from core's counter-based generator with
 * the `seed` option.
 *
 * @since 0.1.0
 */
import { Errors, Matrix, Random, Solver, Vector } from "@descent/core"
import { GradientTransform, Optimizers, Schedules } from "@descent/optim"
import {
  initialWeights,
  integerAtLeast,
  learnerData,
  nonNegative,
  positive
} from "./internal/learnerInput.ts"
import { addL1Subgradient, l1Norm, residualCovariance } from "./internal/learnerKernels.ts"

/**
 * Options of COSMO.
 *
 * @category models
 * @since 0.1.0
 */
export interface CosmoOptions {
  /** The l1 weight λ₁ ≥ 0 on A. Default 1e-3. */
  readonly lambda1?: number
  /** The weight λ₂ ≥ 0 of the Frobenius norm ‖A‖_F. Default 1e-3. */
  readonly lambda2?: number
  /** The weight λ_p ≥ 0 of ‖p‖₂. Default 1e-3. */
  readonly priorityPenalty?: number
  /** The shift ε > 0: the arc i → j needs p_j > p_i + ε. Default 0.01. */
  readonly shift?: number
  /** The temperature at the first step (> 0). Default 0.3. */
  readonly initialTemperature?: number
  /** The temperature at the last step (> 0, ≤ initialTemperature). Default 1e-3. */
  readonly finalTemperature?: number
  /** Forward pass with the 0/1 orientation (straight-through gradients, the authors' option). Default false. */
  readonly hardOrientation?: boolean
  /** Adam's step size (> 0). Default 3e-2. */
  readonly learningRate?: number
  /** Adam steps (≥ 1); the temperature schedule spans them. Default 3000. */
  readonly maxIterations?: number
  /** Edges with |Wᵢⱼ| below this are dropped from the learned graph (≥ 0). Default 0.3. */
  readonly threshold?: number
  /** Seed of the initialization (an integer). Default 0. */
  readonly seed?: number
  /** The starting A (d × d) instead of the random one. */
  readonly initialWeights?: Matrix.Matrix
  /** The starting priorities p (length d) instead of the random ones. */
  readonly initialPriorities?: ArrayLike<number>
}

/**
 * Defaults of `CosmoOptions`. The paper tunes its hyperparameters per
 * benchmark; these were chosen on ER2 linear-Gaussian data (d = 5…20,
 * n = 1000, full-batch steps from the covariance), where the smooth forward
 * orientation with a small shift recovered far more arcs than the
 * straight-through one.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultCosmoOptions = {
  lambda1: 1e-3,
  lambda2: 1e-3,
  priorityPenalty: 1e-3,
  shift: 0.01,
  initialTemperature: 0.3,
  finalTemperature: 1e-3,
  hardOrientation: false,
  learningRate: 3e-2,
  maxIterations: 3000,
  threshold: 0.3,
  seed: 0
} as const

/**
 * What COSMO's solver outputs.
 *
 * @category models
 * @since 0.1.0
 */
export interface CosmoOutput {
  /** The learned graph A ∘ [p_j − p_i > ε], thresholded: a DAG by construction. */
  readonly W: Matrix.Matrix
  /** A ∘ [p_j − p_i > ε] before thresholding. */
  readonly weights: Matrix.Matrix
  /** The free weights A. */
  readonly adjacency: Matrix.Matrix
  /** The priorities p (arcs go from lower to higher priority). */
  readonly priorities: Float64Array
  /** The nodes sorted by increasing priority (a topological order of W). */
  readonly order: Int32Array
  /** The objective at the last step (at the temperature then in force). */
  readonly score: number
  /** The mean squared error tr((I − W)ᵀS(I − W))/d of `weights`. */
  readonly meanSquaredError: number
  /** The temperature of the last step. */
  readonly temperature: number
}

/**
 * The result of `fit`: the solver's output with the run's status and
 * iteration count.
 *
 * @category models
 * @since 0.1.0
 */
export interface CosmoResult extends CosmoOutput {
  readonly status: Solver.Status
  readonly iterations: number
}

type AdamTransform = ReturnType<typeof Optimizers.adam>

/**
 * COSMO's state (buffers mutated by `step`).
 *
 * @category models
 * @since 0.1.0
 */
export interface CosmoState {
  readonly d: number
  readonly lambda1: number
  readonly lambda2: number
  readonly priorityPenalty: number
  readonly shift: number
  readonly hardOrientation: boolean
  readonly threshold: number
  readonly schedule: Schedules.Schedule
  readonly covariance: Matrix.Matrix
  /** The parameters: A (d × d row-major) and p (d). */
  readonly params: { readonly adjacency: Float64Array; readonly priorities: Float64Array }
  readonly grads: { readonly adjacency: Float64Array; readonly priorities: Float64Array }
  /** W = A ∘ O (forward orientation), the soft orientation, and scratch. */
  readonly W: Float64Array
  readonly soft: Float64Array
  readonly R: Matrix.Matrix
  readonly Q: Matrix.Matrix
  readonly residuals: Float64Array
  readonly adam: AdamTransform
  adamState: GradientTransform.StateOf<AdamTransform>
  iteration: number
  temperature: number
  score: number
  meanSquaredError: number
}

const NAME = "Cosmo"

/** The logistic function, without overflow for large |x|. */
const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)))

/** The orientations at temperature t, W = A ∘ O, the objective and its gradients. */
const evaluate = (state: CosmoState, t: number): number => {
  const { d, shift, covariance: S, W, soft } = state
  const A = state.params.adjacency
  const p = state.params.priorities
  const gA = state.grads.adjacency
  const gp = state.grads.priorities
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      const k = i * d + j
      if (i === j) {
        soft[k] = 0
        W[k] = 0
        continue
      }
      const delta = p[j]! - p[i]! - shift
      const o = sigmoid(delta / t)
      soft[k] = o
      W[k] = A[k]! * (state.hardOrientation ? (delta > 0 ? 1 : 0) : o)
    }
  }
  const total = residualCovariance(S, W, state.R, state.Q, state.residuals)
  const mse = total / d
  const q = state.Q.data
  // ∂(tr(RᵀSR)/d)/∂W = −(2/d)·S·R = −(2/d)·Q.
  gp.fill(0)
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      const k = i * d + j
      if (i === j) {
        gA[k] = 0
        continue
      }
      const gW = (-2 / d) * q[k]!
      const o = soft[k]!
      const forward = state.hardOrientation ? (p[j]! - p[i]! - shift > 0 ? 1 : 0) : o
      gA[k] = gW * forward
      // Through the smooth orientation: ∂O_ij/∂p_j = −∂O_ij/∂p_i = O(1 − O)/t.
      const gO = (gW * A[k]! * o * (1 - o)) / t
      gp[j] = gp[j]! + gO
      gp[i] = gp[i]! - gO
    }
  }
  addL1Subgradient(state.lambda1, A, gA)
  let frobenius = 0
  for (let k = 0; k < d * d; k++) frobenius += A[k]! * A[k]!
  frobenius = Math.sqrt(frobenius)
  if (frobenius > 0 && state.lambda2 > 0) {
    for (let k = 0; k < d * d; k++) gA[k] = gA[k]! + (state.lambda2 * A[k]!) / frobenius
  }
  let pNorm = 0
  for (let i = 0; i < d; i++) pNorm += p[i]! * p[i]!
  pNorm = Math.sqrt(pNorm)
  if (pNorm > 0 && state.priorityPenalty > 0) {
    for (let i = 0; i < d; i++) gp[i] = gp[i]! + (state.priorityPenalty * p[i]!) / pNorm
  }
  state.meanSquaredError = mse
  state.score = mse + state.lambda1 * l1Norm(A) + state.lambda2 * frobenius + state.priorityPenalty * pNorm
  return state.score
}

/**
 * COSMO as a `Solver.IterativeSolver` on the data matrix X (n × d, one sample
 * per row). One iteration is one Adam step on (A, p); the temperature
 * schedule spans `maxIterations` steps, so the loop should be given the same
 * budget (`fit` does). The run always ends `maxIterations` (or `diverged`):
 * COSMO has no stopping test of its own.
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<Matrix.Matrix, CosmoOptions, CosmoState, CosmoOutput> = {
  name: NAME,
  init: (X, options) => {
    const { d, covariance } = learnerData(`${NAME}.fit`, X)
    const o = { ...defaultCosmoOptions, ...options }
    const lambda1 = nonNegative(NAME, "lambda1", o.lambda1)
    const lambda2 = nonNegative(NAME, "lambda2", o.lambda2)
    const priorityPenalty = nonNegative(NAME, "priorityPenalty", o.priorityPenalty)
    const shift = positive(NAME, "shift", o.shift)
    const t0 = positive(NAME, "initialTemperature", o.initialTemperature)
    const t1 = positive(NAME, "finalTemperature", o.finalTemperature)
    if (t1 > t0) {
      throw new Errors.InvalidOptions({
        operation: NAME,
        field: "finalTemperature",
        value: t1,
        requirement: `a number ≤ initialTemperature (${t0})`
      })
    }
    const learningRate = positive(NAME, "learningRate", o.learningRate)
    const maxIterations = integerAtLeast(NAME, "maxIterations", o.maxIterations, 1)
    const threshold = nonNegative(NAME, "threshold", o.threshold)
    const seed = integerAtLeast(NAME, "seed", o.seed, 0)
    const [kA, kp] = Random.split(Random.key(seed), 2)
    const bound = Math.sqrt(3 / d)
    const adjacency = Random.uniform(kA!, d * d, { low: -bound, high: bound })
    const A0 = initialWeights(NAME, options.initialWeights, d)
    if (A0 !== undefined) adjacency.set(A0)
    for (let i = 0; i < d; i++) adjacency[i * d + i] = 0
    const priorities = Random.normal(kp!, d, { scale: shift / Math.SQRT2 })
    if (options.initialPriorities !== undefined) {
      const given = options.initialPriorities
      if (given.length !== d) {
        throw new Errors.DimensionMismatch({
          operation: NAME,
          what: "initialPriorities",
          expected: [d],
          actual: [given.length]
        })
      }
      for (let i = 0; i < d; i++) {
        const v = given[i]!
        if (v - v !== 0)
          throw new Errors.NonFiniteInput({ operation: NAME, what: "initialPriorities", index: i, value: v })
        priorities[i] = v
      }
    }
    const params = { adjacency, priorities }
    const adam = Optimizers.adam(learningRate)
    const state: CosmoState = {
      d,
      lambda1,
      lambda2,
      priorityPenalty,
      shift,
      hardOrientation: o.hardOrientation,
      threshold,
      schedule: Schedules.cosine({ initValue: t0, decaySteps: maxIterations, alpha: t1 / t0 }),
      covariance,
      params,
      grads: { adjacency: Vector.zeros(d * d), priorities: Vector.zeros(d) },
      W: Vector.zeros(d * d),
      soft: Vector.zeros(d * d),
      R: Matrix.zeros(d, d),
      Q: Matrix.zeros(d, d),
      residuals: Vector.zeros(d),
      adam,
      adamState: adam.init(params),
      iteration: 0,
      temperature: t0,
      score: Number.NaN,
      meanSquaredError: Number.NaN
    }
    evaluate(state, t0)
    return state
  },
  step: (state) => {
    state.temperature = Schedules.evaluate(state.schedule, state.iteration)
    evaluate(state, state.temperature)
    state.adamState = GradientTransform.step(state.adam, state.params, state.grads, state.adamState)
    const A = state.params.adjacency
    for (let i = 0; i < state.d; i++) A[i * state.d + i] = 0
    state.iteration++
    return state
  },
  status: () => undefined,
  residual: (state) => state.score,
  metrics: (state) => ({
    score: state.score,
    meanSquaredError: state.meanSquaredError,
    temperature: state.temperature
  }),
  output: (state) => {
    const { d, shift } = state
    const A = state.params.adjacency
    const p = state.params.priorities
    const weights = Matrix.zeros(d, d)
    const W = Matrix.zeros(d, d)
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        if (i === j || !(p[j]! - p[i]! > shift)) continue
        const w = A[i * d + j]!
        weights.data[i * d + j] = w
        if (Math.abs(w) >= state.threshold) W.data[i * d + j] = w
      }
    }
    const order = Int32Array.from({ length: d }, (_, i) => i).sort((a, b) => p[a]! - p[b]! || a - b)
    const R = Matrix.zeros(d, d)
    const Q = Matrix.zeros(d, d)
    const r = Vector.zeros(d)
    const mse = residualCovariance(state.covariance, weights.data, R, Q, r) / d
    return {
      W,
      weights,
      adjacency: Matrix.fromData(d, d, Vector.clone(A)),
      priorities: Vector.clone(p),
      order,
      score: state.score,
      meanSquaredError: mse,
      temperature: state.temperature
    }
  }
}

/**
 * Runs COSMO on X (n × d, one sample per row) and returns the learned DAG.
 *
 * @example
 * const result = Cosmo.fit(X, { seed: 1 })
 * // result.W is a DAG; result.order sorts the nodes by priority
 * @throws NonFiniteInput when X holds NaN or ±Infinity.
 * @throws TooFewSamples when X has fewer than 2 rows.
 * @throws ConstantColumn when a column of X is constant.
 * @throws InvalidOptions when an option is out of range (e.g. λ₁ < 0, ε ≤ 0).
 * @category solvers
 * @since 0.1.0
 */
export const fit = (X: Matrix.Matrix, options: CosmoOptions = {}): CosmoResult => {
  const maxIterations = options.maxIterations ?? defaultCosmoOptions.maxIterations
  const run = Solver.run(solver, X, options, { maxIterations })
  return { ...run.output, status: run.status, iterations: run.iterations }
}
