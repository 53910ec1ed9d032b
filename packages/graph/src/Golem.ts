/**
 * GOLEM, gradient-based optimization of a DAG-penalized likelihood (Ng,
 * Ghassami & Zhang, "On the Role of Sparsity and DAG Constraints for Learning
 * Linear DAGs", NeurIPS 2020): the Gaussian likelihood of the linear SEM
 * X = X·W + E with soft sparsity and acyclicity penalties, minimized without
 * constraints.
 *
 * With S = XᵀX/n the covariance of the centered data and R = I − W, the
 * residual variance of node j is rⱼ = ‖Xⱼ − X·Wⱼ‖²/n = [RᵀSR]ⱼⱼ, and the
 * negative profile log-likelihoods (paper, eqs. (2)–(3); divided by n and
 * without constants) are
 *
 * - equal noise variances (GOLEM-EV): L(W) = d/2·log Σⱼ rⱼ − log|det(I − W)|,
 * - non-equal variances (GOLEM-NV):    L(W) = ½ Σⱼ log rⱼ − log|det(I − W)|.
 *
 * The score L(W) + λ₁‖W‖₁ + λ₂·h(W), h(W) = tr e^{W∘W} − d (NOTEARS's
 * acyclicity residual), is minimized over W with a zero diagonal by Adam. The
 * gradients are, with Q = S·R, −d·Q/Σr (EV) or −Q·diag(1/r) (NV), plus
 * (I − W)⁻ᵀ from the log-determinant (LU of I − W), λ₁·sign(W) and
 * λ₂·2W∘(e^{W∘W})ᵀ. Everything comes from the d × d covariance, so one step
 * costs O(d³) whatever n is.
 *
 * Defaults are the paper's: Adam with step size 10⁻³ for 10⁵ steps from
 * W = 0, λ₁ = 2·10⁻² and λ₂ = 5 for GOLEM-EV; λ₁ = 2·10⁻³ and λ₂ = 5 for
 * GOLEM-NV, which starts from the GOLEM-EV solution (the paper's
 * initialization, as the NV likelihood is non-convex in a harder way); the
 * learned graph drops |Wᵢⱼ| < 0.3 and then the weakest edges until acyclic.
 *
 * @since 0.1.0
 */
import { Matrix, Memory, Solver, Vector } from "@descent/core"
import { GradientTransform, Optimizers } from "@descent/optim"
import * as Dag from "./Dag.ts"
import {
  initialWeights,
  integerAtLeast,
  learnerData,
  nonNegative,
  positive
} from "./internal/learnerInput.ts"
import {
  addL1Subgradient,
  l1Norm,
  logAbsDetAndInverseTranspose,
  residualCovariance,
  thresholdedDag,
  zeroDiagonal
} from "./internal/learnerKernels.ts"

/**
 * Options of GOLEM.
 *
 * @category models
 * @since 0.1.0
 */
export interface GolemOptions {
  /** GOLEM-EV (one noise variance) or GOLEM-NV (one per node). Default true. */
  readonly equalVariances?: boolean
  /** The l1 weight λ₁ ≥ 0. Default 2e-2 (EV) or 2e-3 (NV). */
  readonly lambda1?: number
  /** The acyclicity weight λ₂ ≥ 0. Default 5. */
  readonly lambda2?: number
  /** Adam's step size (> 0). Default 1e-3. */
  readonly learningRate?: number
  /** Adam steps (≥ 1); GOLEM-NV's EV initialization takes as many again. Default 1e5. */
  readonly maxIterations?: number
  /**
   * Stop early when the score changes by ≤ this (relative) over `checkEvery`
   * steps (≥ 0; 0 runs all `maxIterations` steps, as the paper). Default 0.
   */
  readonly tolerance?: number
  /** Steps between early-stopping checks (≥ 1). Default 1000. */
  readonly checkEvery?: number
  /** Edges with |Wᵢⱼ| below this are dropped from the learned graph (≥ 0). Default 0.3. */
  readonly threshold?: number
  /**
   * The starting W (d × d). Default: zero for GOLEM-EV; for GOLEM-NV, `fit`
   * first runs GOLEM-EV (with the EV defaults of λ₁, λ₂) and starts there.
   */
  readonly initialWeights?: Matrix.Matrix
}

/**
 * Defaults of `GolemOptions` for GOLEM-EV (the paper's).
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultGolemOptions = {
  equalVariances: true,
  lambda1: 2e-2,
  lambda2: 5,
  learningRate: 1e-3,
  maxIterations: 100_000,
  tolerance: 0,
  checkEvery: 1000,
  threshold: 0.3
} as const

/**
 * Defaults of `GolemOptions` for GOLEM-NV (the paper's): as GOLEM-EV's but
 * λ₁ = 2e-3.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultGolemNvOptions = { ...defaultGolemOptions, equalVariances: false, lambda1: 2e-3 } as const

/**
 * What GOLEM's solver outputs.
 *
 * @category models
 * @since 0.1.0
 */
export interface GolemOutput {
  /** The learned graph: `weights` thresholded and pruned to a DAG. */
  readonly W: Matrix.Matrix
  /** The raw weights of the last iterate (zero diagonal). */
  readonly weights: Matrix.Matrix
  /** The penalized score L(W) + λ₁‖W‖₁ + λ₂h(W) at `weights`. */
  readonly score: number
  /** The negative log-likelihood term L(W) at `weights`. */
  readonly likelihood: number
  /** NOTEARS's h(W) = tr e^{W∘W} − d at `weights`. */
  readonly acyclicity: number
}

/**
 * The result of `fit`: the solver's output with the run's status and
 * iteration count (Adam steps, both phases for GOLEM-NV).
 *
 * @category models
 * @since 0.1.0
 */
export interface GolemResult extends GolemOutput {
  readonly status: Solver.Status
  readonly iterations: number
}

/**
 * GOLEM's state (buffers mutated by `step`).
 *
 * @category models
 * @since 0.1.0
 */
export interface GolemState {
  readonly d: number
  readonly equalVariances: boolean
  readonly lambda1: number
  readonly lambda2: number
  readonly threshold: number
  readonly tolerance: number
  readonly checkEvery: number
  readonly covariance: Matrix.Matrix
  /** The iterate (d × d row-major) and its matrix view. */
  readonly W: Float64Array
  readonly Wmatrix: Matrix.Matrix
  readonly gradient: Float64Array
  readonly R: Matrix.Matrix
  readonly Q: Matrix.Matrix
  readonly residuals: Float64Array
  readonly identity: Matrix.Matrix
  readonly inverseTranspose: Matrix.Matrix
  readonly acyclicityGradient: Matrix.Matrix
  readonly adam: AdamTransform
  adamState: GradientTransform.StateOf<AdamTransform>
  iteration: number
  /** The score at W (before the next step), its parts, and the score at the last check. */
  score: number
  likelihood: number
  acyclicity: number
  scoreAtCheck: number
  converged: boolean
}

const NAME = "Golem"

type AdamTransform = ReturnType<typeof Optimizers.adam>

/**
 * Evaluates the score at W and writes its gradient (zero diagonal); returns
 * the score, +∞ when I − W is singular.
 */
const evaluate = (state: GolemState): number =>
  // The LU and matrix-exponential temporaries go back to the allocator at once.
  Memory.scoped(
    () => evaluateUnscoped(state),
    () => []
  )

const evaluateUnscoped = (state: GolemState): number => {
  const { d, W, gradient: g } = state
  const total = residualCovariance(state.covariance, W, state.R, state.Q, state.residuals)
  const q = state.Q.data
  let likelihood: number
  if (state.equalVariances) {
    likelihood = (d / 2) * Math.log(total)
    const c = d / total
    for (let k = 0; k < d * d; k++) g[k] = -c * q[k]!
  } else {
    likelihood = 0
    const r = state.residuals
    for (let j = 0; j < d; j++) likelihood += 0.5 * Math.log(r[j]!)
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) g[i * d + j] = -q[i * d + j]! / r[j]!
  }
  // −log|det(I − W)|: gradient +(I − W)⁻ᵀ. R = I − W is in state.R.
  const det = logAbsDetAndInverseTranspose(state.R, state.identity, state.inverseTranspose)
  if (det === undefined) {
    state.likelihood = Number.POSITIVE_INFINITY
    state.score = Number.POSITIVE_INFINITY
    return state.score
  }
  likelihood -= det.logAbsDet
  const inv = state.inverseTranspose.data
  for (let k = 0; k < d * d; k++) g[k] = g[k]! + inv[k]!
  addL1Subgradient(state.lambda1, W, g)
  const h = Dag.expAcyclicityWithGradient(state.Wmatrix, state.acyclicityGradient)
  const hg = state.acyclicityGradient.data
  for (let k = 0; k < d * d; k++) g[k] = g[k]! + state.lambda2 * hg[k]!
  zeroDiagonal(g, d)
  state.likelihood = likelihood
  state.acyclicity = h
  state.score = likelihood + state.lambda1 * l1Norm(W) + state.lambda2 * h
  return state.score
}

const finiteArray = (x: Float64Array): boolean => Vector.findNonFinite(x) < 0

/**
 * GOLEM as a `Solver.IterativeSolver` on the data matrix X (n × d, one sample
 * per row): one iteration is one Adam step. Starts from `initialWeights` or
 * zero (this solver does not run the EV initialization of GOLEM-NV; `fit`
 * does). Runs until the loop's iteration budget (`maxIterations` status), or
 * `converged` when `tolerance` > 0 and the score settles; `diverged` when the
 * score becomes non-finite (I − W singular).
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<Matrix.Matrix, GolemOptions, GolemState, GolemOutput> = {
  name: NAME,
  init: (X, options) => {
    const { d, covariance } = learnerData(`${NAME}.fit`, X)
    const equalVariances = options.equalVariances ?? true
    const base = equalVariances ? defaultGolemOptions : defaultGolemNvOptions
    const o = { ...base, ...options }
    const lambda1 = nonNegative(NAME, "lambda1", o.lambda1)
    const lambda2 = nonNegative(NAME, "lambda2", o.lambda2)
    const learningRate = positive(NAME, "learningRate", o.learningRate)
    integerAtLeast(NAME, "maxIterations", o.maxIterations, 1)
    const tolerance = nonNegative(NAME, "tolerance", o.tolerance)
    const checkEvery = integerAtLeast(NAME, "checkEvery", o.checkEvery, 1)
    const threshold = nonNegative(NAME, "threshold", o.threshold)
    const W = Vector.zeros(d * d)
    const W0 = initialWeights(NAME, options.initialWeights, d)
    if (W0 !== undefined) W.set(W0)
    zeroDiagonal(W, d)
    const adam = Optimizers.adam(learningRate)
    const state: GolemState = {
      d,
      equalVariances,
      lambda1,
      lambda2,
      threshold,
      tolerance,
      checkEvery,
      covariance,
      W,
      Wmatrix: Matrix.fromData(d, d, W),
      gradient: Vector.zeros(d * d),
      R: Matrix.zeros(d, d),
      Q: Matrix.zeros(d, d),
      residuals: Vector.zeros(d),
      identity: Matrix.identity(d),
      inverseTranspose: Matrix.zeros(d, d),
      acyclicityGradient: Matrix.zeros(d, d),
      adam,
      adamState: adam.init(W),
      iteration: 0,
      score: Number.NaN,
      likelihood: Number.NaN,
      acyclicity: Number.NaN,
      scoreAtCheck: Number.POSITIVE_INFINITY,
      converged: false
    }
    evaluate(state)
    state.scoreAtCheck = state.score
    return state
  },
  step: (state) => {
    if (!Number.isFinite(state.score)) return state
    state.adamState = GradientTransform.step(state.adam, state.W, state.gradient, state.adamState)
    zeroDiagonal(state.W, state.d)
    state.iteration++
    if (!finiteArray(state.W)) {
      state.score = Number.NaN
      return state
    }
    evaluate(state)
    if (state.tolerance > 0 && state.iteration % state.checkEvery === 0) {
      const change = Math.abs(state.scoreAtCheck - state.score) / Math.max(Math.abs(state.scoreAtCheck), 1)
      if (change <= state.tolerance) state.converged = true
      state.scoreAtCheck = state.score
    }
    return state
  },
  status: (state) => (state.converged ? "converged" : undefined),
  residual: (state) => state.score,
  metrics: (state) => ({ score: state.score, likelihood: state.likelihood, acyclicity: state.acyclicity }),
  output: (state) => {
    const { d } = state
    return {
      W: thresholdedDag(state.W, d, state.threshold),
      weights: Matrix.fromData(d, d, Vector.clone(state.W)),
      score: state.score,
      likelihood: state.likelihood,
      acyclicity: state.acyclicity
    }
  }
}

/**
 * Runs GOLEM on X (n × d, one sample per row) and returns the learned DAG.
 * GOLEM-NV (`equalVariances: false`) without `initialWeights` first runs
 * GOLEM-EV with the EV defaults of λ₁ and λ₂ (and this call's step size,
 * iterations and tolerance) and starts from its raw weights.
 *
 * @example
 * const ev = Golem.fit(X)                              // GOLEM-EV, λ₁ = 0.02, λ₂ = 5
 * const nv = Golem.fit(X, { equalVariances: false })   // GOLEM-NV from the EV solution
 * @throws NonFiniteInput when X holds NaN or ±Infinity.
 * @throws TooFewSamples when X has fewer than 2 rows.
 * @throws ConstantColumn when a column of X is constant.
 * @throws InvalidOptions when an option is out of range (e.g. λ₁ < 0).
 * @category solvers
 * @since 0.1.0
 */
export const fit = (X: Matrix.Matrix, options: GolemOptions = {}): GolemResult => {
  const equalVariances = options.equalVariances ?? true
  const maxIterations = options.maxIterations ?? defaultGolemOptions.maxIterations
  let previous = 0
  let start = options.initialWeights
  if (!equalVariances && start === undefined) {
    const ev = fit(X, {
      ...options,
      equalVariances: true,
      lambda1: defaultGolemOptions.lambda1,
      lambda2: defaultGolemOptions.lambda2
    })
    previous = ev.iterations
    start = ev.weights
  }
  const run = Solver.run(solver, X, start === undefined ? options : { ...options, initialWeights: start }, {
    maxIterations
  })
  return { ...run.output, status: run.status, iterations: previous + run.iterations }
}
