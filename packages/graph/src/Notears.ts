/**
 * NOTEARS for linear SEMs (Zheng, Aragam, Ravikumar & Xing, "DAGs with NO
 * TEARS: Continuous Optimization for Structure Learning", NeurIPS 2018):
 * structure learning as one smooth equality-constrained program,
 *
 *   min_W  L(W) + λ₁‖W‖₁   subject to   h(W) = tr e^{W∘W} − d = 0,
 *
 * where h(W) = 0 exactly when W is the weighted adjacency of a DAG (paper,
 * Theorem 1) and ∇h(W) = (e^{W∘W})ᵀ ∘ 2W (paper, eq. (8)).
 *
 * Losses (X is n × d, one sample per row):
 * - `"l2"`, least squares on the centered data: L(W) = (1/2n)‖X − XW‖²_F =
 *   ½ tr((I − W)ᵀ Σ (I − W)) with Σ = XᵀX/n, gradient −Σ(I − W). It is
 *   evaluated from Σ (computed once), so every evaluation costs O(d³)
 *   whatever n is, where the reference code multiplies by X (O(n·d²)).
 * - `"logistic"`, for 0/1 data (not centered): L(W) = (1/n) Σ softplus(XW) −
 *   X∘(XW), gradient (1/n) Xᵀ(σ(XW) − X).
 *
 * Algorithm (paper, Algorithm 1): the augmented Lagrangian
 *
 *   L_ρ(W, α) = L(W) + λ₁‖W‖₁ + (ρ/2)·h(W)² + α·h(W)
 *
 * is minimized over W for the current (ρ, α) by L-BFGS-B (`@descent/optim`'s
 * `LbfgsB`), warm-started at the previous solution. The l1 term is made
 * smooth by the split W = W⁺ − W⁻ with W⁺, W⁻ ≥ 0 (2d² bound-constrained
 * variables, ‖W‖₁ = Σ W⁺ + W⁻ at the optimum); the diagonal is held at zero
 * by the bounds 0 ≤ W⁺ᵢᵢ, W⁻ᵢᵢ ≤ 0. One outer (dual-ascent) iteration solves
 * the subproblem, multiplying ρ by `penaltyGrowth` (10) and solving again
 * until h has dropped below `progressRatio` (¼) of its previous value, then
 * sets α ← α + ρ·h. The run ends when h ≤ `tolerance` (1e-8), or stalls when
 * ρ reaches `maxPenalty` (1e16). The learned graph drops |Wᵢⱼ| < `threshold`
 * (0.3), then (rarely needed once h ≤ 1e-8) the weakest edges until it is
 * acyclic (`Dag.pruneToDag`).
 *
 * @since 0.1.0
 */
import { Blas3, Errors, Logistic, Matrix, Memory, type Objective, Solver, Vector } from "@descent/core"
import { LbfgsB } from "@descent/optim"
import * as Dag from "./Dag.ts"
import * as Data from "./Data.ts"
import { exponentialMinusIdentity, makeExpWorkspace } from "./internal/nonnegativeExp.ts"

/**
 * The data-fit term L(W): least squares (continuous data) or the logistic
 * loss (0/1 data).
 *
 * @category models
 * @since 0.1.0
 */
export type Loss = "l2" | "logistic"

/**
 * Options of the L-BFGS-B subproblem solves (`LbfgsB.LbfgsBOptions` without
 * the bounds, which NOTEARS sets).
 *
 * @category models
 * @since 0.1.0
 */
export interface SubproblemOptions {
  /** Stop when the projected gradient's ∞-norm is ≤ this (≥ 0). Default 1e-5 (SciPy's `gtol`). */
  readonly tolerance?: number
  /** Stop when the relative decrease of the objective is ≤ this (≥ 0). Default 2.220446049250313e-9 (SciPy's `ftol`). */
  readonly functionTolerance?: number
  /** L-BFGS-B iterations per subproblem (an integer ≥ 0). Default 15000 (SciPy's `maxiter`). */
  readonly maxIterations?: number
  /** Correction pairs kept (an integer ≥ 1). Default 10 (SciPy's `maxcor`). */
  readonly memory?: number
  /** Function evaluations per line search (an integer ≥ 1). Default 20 (SciPy's `maxls`). */
  readonly maxLineSearchTrials?: number
}

/**
 * Options of NOTEARS.
 *
 * @category models
 * @since 0.1.0
 */
export interface NotearsOptions {
  /** The loss L(W). Default `"l2"`. */
  readonly loss?: Loss
  /** The l1 weight λ₁ (≥ 0). Default 0.1 (the reference README's). */
  readonly lambda1?: number
  /** Stop when h(W) ≤ this (> 0). Default 1e-8 (the paper's `h_tol`). */
  readonly tolerance?: number
  /** Stop (as `stalled`) when ρ reaches this (> 1). Default 1e16 (`rho_max`). */
  readonly maxPenalty?: number
  /** ρ is multiplied by this when h has not dropped enough (> 1). Default 10. */
  readonly penaltyGrowth?: number
  /** An outer iteration needs h ≤ progressRatio · (previous h), in (0, 1). Default 0.25. */
  readonly progressRatio?: number
  /** Edges with |Wᵢⱼ| below this are dropped from the learned graph (≥ 0). Default 0.3 (`w_threshold`). */
  readonly threshold?: number
  /** Dual-ascent (outer) iterations in `fit` (an integer ≥ 0). Default 100 (`max_iter`). */
  readonly maxIterations?: number
  /** Options of each L-BFGS-B subproblem. Defaults: SciPy's L-BFGS-B defaults, as the reference uses. */
  readonly subproblem?: SubproblemOptions
  /** Aborting the signal ends `fit` as `interrupted` after the current outer iteration. */
  readonly signal?: AbortSignal
}

/**
 * Defaults of `NotearsOptions` (the reference implementation's).
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultNotearsOptions = {
  loss: "l2",
  lambda1: 0.1,
  tolerance: 1e-8,
  maxPenalty: 1e16,
  penaltyGrowth: 10,
  progressRatio: 0.25,
  threshold: 0.3,
  maxIterations: 100,
  subproblem: {
    tolerance: LbfgsB.defaultLbfgsBOptions.tolerance,
    functionTolerance: LbfgsB.defaultLbfgsBOptions.functionTolerance,
    maxIterations: LbfgsB.defaultLbfgsBOptions.maxIterations,
    memory: LbfgsB.defaultLbfgsBOptions.memory,
    maxLineSearchTrials: LbfgsB.defaultLbfgsBOptions.maxLineSearchTrials
  }
} as const

/**
 * Work counts of a NOTEARS run.
 *
 * @category models
 * @since 0.1.0
 */
export interface NotearsCounts {
  /** Evaluations of the augmented Lagrangian (nearly all with its gradient) by L-BFGS-B. */
  readonly evaluations: number
  /** L-BFGS-B solves (one or more per outer iteration). */
  readonly subproblems: number
  /** L-BFGS-B iterations over all solves. */
  readonly subproblemIterations: number
}

/**
 * What NOTEARS's solver outputs.
 *
 * @category models
 * @since 0.1.0
 */
export interface NotearsOutput {
  /** The learned graph: `Wraw` with |Wᵢⱼ| < threshold dropped, pruned to a DAG if needed. */
  readonly W: Matrix.Matrix
  /** The raw estimate W = W⁺ − W⁻ of the last outer iteration (zero diagonal). */
  readonly Wraw: Matrix.Matrix
  /** h(Wraw) = tr e^{Wraw∘Wraw} − d. */
  readonly h: number
  /** L(Wraw), the loss without the l1 term. */
  readonly loss: number
  /** The final penalty ρ and multiplier α. */
  readonly rho: number
  readonly alpha: number
  /** Edges removed beyond the threshold to make `W` acyclic (usually 0). */
  readonly prunedEdges: number
  readonly counts: NotearsCounts
}

/**
 * The result of `fit`: the output with the run's status and outer iteration
 * count. `converged`: h ≤ tolerance; `stalled`: ρ reached `maxPenalty` first;
 * `maxIterations`: the outer budget ran out; `diverged`: a non-finite h.
 *
 * @category models
 * @since 0.1.0
 */
export interface NotearsResult extends NotearsOutput {
  readonly status: Solver.Status
  readonly iterations: number
}

/** The validated settings of a run. */
interface Settings {
  readonly loss: Loss
  readonly lambda1: number
  readonly tolerance: number
  readonly maxPenalty: number
  readonly penaltyGrowth: number
  readonly progressRatio: number
  readonly threshold: number
  readonly subproblem: Required<SubproblemOptions>
}

/**
 * NOTEARS's state; `step` mutates it.
 *
 * @category models
 * @since 0.1.0
 */
export interface NotearsState {
  readonly d: number
  readonly settings: Settings
  /** The augmented Lagrangian of the current (ρ, α) over w = [W⁺; W⁻] (2d² entries). */
  readonly objective: Objective.Objective
  /** The current w = [W⁺; W⁻] (row-major halves). */
  w: Float64Array
  /** Upper bounds of w: 0 on the diagonal entries, +∞ elsewhere. */
  readonly upper: Float64Array
  /** Buffers of the evaluations; `penalty` holds the ρ and α the objective reads. */
  readonly buffers: Buffers
  /** h at w (0 at the start, W = 0). */
  h: number
  outerIterations: number
  evaluations: number
  subproblems: number
  subproblemIterations: number
}

const NAME = "Notears"

/** Evaluation buffers (allocated once per run). */
interface Buffers {
  readonly d: number
  readonly loss: Loss
  readonly lambda1: number
  /** ρ and α of the current subproblem. */
  readonly penalty: { rho: number; alpha: number }
  /** Σ = XᵀX/n of the centered data (l2), or of the raw data (logistic). */
  readonly covariance: Matrix.Matrix
  /** The raw data (logistic only) and the n × d products XW and σ(XW) − X. */
  readonly X: Matrix.Matrix | undefined
  readonly XW: Matrix.Matrix | undefined
  readonly W: Matrix.Matrix
  /** l2: I − W; logistic: unused. */
  readonly R: Matrix.Matrix
  /** The loss gradient −Σ(I − W) (l2) or Xᵀ(σ(XW) − X)/n (logistic). */
  readonly lossGradient: Matrix.Matrix
  /** A = W∘W, then e^A − I. */
  readonly A: Matrix.Matrix
  readonly F: Matrix.Matrix
  readonly exp: ReturnType<typeof makeExpWorkspace>
}

/** W = W⁺ − W⁻ from w = [W⁺; W⁻]. */
const assemble = (b: Buffers, x: Float64Array): void => {
  const dd = b.d * b.d
  const W = b.W.data
  for (let k = 0; k < dd; k++) W[k] = x[k]! - x[dd + k]!
}

/** L(W) and its gradient into `lossGradient` (W assembled). */
const lossAt = (b: Buffers): number => {
  const { d } = b
  const W = b.W.data
  const G = b.lossGradient.data
  if (b.loss === "l2") {
    const R = b.R.data
    for (let k = 0; k < d * d; k++) R[k] = -W[k]!
    for (let i = 0; i < d; i++) R[i * d + i] = R[i * d + i]! + 1
    // G ← −Σ·R; L = ½ Σᵢⱼ Rᵢⱼ (ΣR)ᵢⱼ.
    Blas3.gemm(false, false, -1, b.covariance, b.R, 0, b.lossGradient)
    let loss = 0
    for (let k = 0; k < d * d; k++) loss -= R[k]! * G[k]!
    return 0.5 * loss
  }
  const X = b.X!
  const XW = b.XW!
  const n = X.rows
  Blas3.gemm(false, false, 1, X, b.W, 0, XW)
  // Σ softplus(XW) − X∘XW, and XW ← (σ(XW) − X)/n.
  const total = Logistic.logisticLoss(XW.data, X.data, XW.data, 1 / n)
  Blas3.gemm(true, false, 1, X, XW, 0, b.lossGradient)
  return total / n
}

/** h(W) = tr(e^{W∘W} − I), with e^{W∘W} − I left in F (W assembled). */
const acyclicityAt = (b: Buffers): number => {
  const { d } = b
  const W = b.W.data
  const A = b.A.data
  for (let k = 0; k < d * d; k++) A[k] = W[k]! * W[k]!
  exponentialMinusIdentity(b.A, b.F, b.exp)
  const F = b.F.data
  let h = 0
  for (let i = 0; i < d; i++) h += F[i * d + i]!
  return h
}

/** The augmented Lagrangian at x = [W⁺; W⁻], with its gradient when `g` is given. */
const lagrangian = (b: Buffers, x: Float64Array, g: Float64Array | undefined): number => {
  const { d, lambda1 } = b
  const dd = d * d
  const { rho, alpha } = b.penalty
  assemble(b, x)
  const loss = lossAt(b)
  const h = acyclicityAt(b)
  let l1 = 0
  for (let k = 0; k < 2 * dd; k++) l1 += x[k]!
  const value = loss + 0.5 * rho * h * h + alpha * h + lambda1 * l1
  if (g !== undefined) {
    const c = 2 * (rho * h + alpha)
    const G = b.lossGradient.data
    const W = b.W.data
    const F = b.F.data
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        const k = i * d + j
        // ∇h = (e^A)ᵀ ∘ 2W, and (e^A)ⱼᵢ = Fⱼᵢ + δᵢⱼ.
        const e = i === j ? F[k]! + 1 : F[j * d + i]!
        const smooth = G[k]! + c * W[k]! * e
        g[k] = smooth + lambda1
        g[dd + k] = lambda1 - smooth
      }
    }
  }
  return value
}

const checkPositive = (field: string, value: unknown): number => {
  if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value)) {
    throw new Errors.InvalidOptions({ operation: NAME, field, value, requirement: "a finite number > 0" })
  }
  return value
}

const checkNonNegative = (field: string, value: unknown): number => {
  if (typeof value !== "number" || !(value >= 0) || !Number.isFinite(value)) {
    throw new Errors.InvalidOptions({ operation: NAME, field, value, requirement: "a finite number ≥ 0" })
  }
  return value
}

const settingsOf = (options: NotearsOptions): Settings => {
  const o = { ...defaultNotearsOptions, ...options }
  const loss = o.loss
  if (loss !== "l2" && loss !== "logistic") {
    throw new Errors.InvalidOptions({
      operation: NAME,
      field: "loss",
      value: loss,
      requirement: '"l2" or "logistic"'
    })
  }
  const maxPenalty = checkPositive("maxPenalty", o.maxPenalty)
  if (!(maxPenalty > 1)) {
    throw new Errors.InvalidOptions({
      operation: NAME,
      field: "maxPenalty",
      value: maxPenalty,
      requirement: "> 1"
    })
  }
  const penaltyGrowth = checkPositive("penaltyGrowth", o.penaltyGrowth)
  if (!(penaltyGrowth > 1)) {
    throw new Errors.InvalidOptions({
      operation: NAME,
      field: "penaltyGrowth",
      value: penaltyGrowth,
      requirement: "> 1"
    })
  }
  const progressRatio = checkPositive("progressRatio", o.progressRatio)
  if (!(progressRatio < 1)) {
    throw new Errors.InvalidOptions({
      operation: NAME,
      field: "progressRatio",
      value: progressRatio,
      requirement: "a number in (0, 1)"
    })
  }
  return {
    loss,
    lambda1: checkNonNegative("lambda1", o.lambda1),
    tolerance: checkPositive("tolerance", o.tolerance),
    maxPenalty,
    penaltyGrowth,
    progressRatio,
    threshold: checkNonNegative("threshold", o.threshold),
    subproblem: { ...defaultNotearsOptions.subproblem, ...options.subproblem }
  }
}

/** The output of state `state` (h, loss and graphs at the current w). */
const outputOf = (state: NotearsState): NotearsOutput => {
  const { d, buffers: b } = state
  assemble(b, state.w)
  const loss = lossAt(b)
  const h = acyclicityAt(b)
  const Wraw = Matrix.clone(b.W)
  const finite = Vector.findNonFinite(Wraw.data) < 0
  const pruned = finite
    ? Dag.pruneToDag(Wraw, { threshold: state.settings.threshold })
    : { W: Matrix.zeros(d, d), removed: 0 }
  return {
    W: pruned.W,
    Wraw,
    h,
    loss,
    rho: b.penalty.rho,
    alpha: b.penalty.alpha,
    prunedEdges: pruned.removed,
    counts: {
      evaluations: state.evaluations,
      subproblems: state.subproblems,
      subproblemIterations: state.subproblemIterations
    }
  }
}

/**
 * NOTEARS as a `Solver.IterativeSolver` on the data matrix X (n × d, one
 * sample per row): one iteration is one dual-ascent step (one or more
 * L-BFGS-B solves of the augmented Lagrangian, then α ← α + ρh). Starts from
 * W = 0, ρ = 1, α = 0. `status` is `converged` once h ≤ tolerance (after at
 * least one step), `stalled` once ρ ≥ maxPenalty; the residual is h.
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<Matrix.Matrix, NotearsOptions, NotearsState, NotearsOutput> = {
  name: NAME,
  init: (X, options) => {
    const operation = `${NAME}.fit`
    Data.checkData(operation, X)
    const settings = settingsOf(options)
    const { rows: n, cols: d } = X
    const logistic = settings.loss === "logistic"
    const buffers: Buffers = {
      d,
      loss: settings.loss,
      lambda1: settings.lambda1,
      penalty: { rho: 1, alpha: 0 },
      covariance: logistic ? Matrix.zeros(0, 0) : Data.covariance(X, { center: true }),
      X: logistic ? X : undefined,
      XW: logistic ? Matrix.zeros(n, d) : undefined,
      W: Matrix.zeros(d, d),
      R: Matrix.zeros(d, d),
      lossGradient: Matrix.zeros(d, d),
      A: Matrix.zeros(d, d),
      F: Matrix.zeros(d, d),
      exp: makeExpWorkspace(d)
    }
    const dimension = 2 * d * d
    const upper = Vector.full(dimension, Number.POSITIVE_INFINITY)
    for (let i = 0; i < d; i++) {
      upper[i * d + i] = 0
      upper[d * d + i * d + i] = 0
    }
    const state: NotearsState = {
      d,
      settings,
      objective: {
        dimension,
        value: (x) => lagrangian(buffers, x, undefined),
        valueAndGradient: (x, g) => lagrangian(buffers, x, g)
      },
      w: Vector.zeros(dimension),
      upper,
      buffers,
      h: 0,
      outerIterations: 0,
      evaluations: 0,
      subproblems: 0,
      subproblemIterations: 0
    }
    return state
  },
  step: (state) => {
    const { settings, buffers } = state
    const penalty = buffers.penalty
    if (penalty.rho >= settings.maxPenalty) return state
    let w = state.w
    let h = state.h
    // The reference value of the progress test: +∞ before the first outer iteration.
    const previous = state.outerIterations === 0 ? Number.POSITIVE_INFINITY : state.h
    // Solve; grow ρ until h has dropped enough (at most log(maxPenalty)/log(growth) solves).
    while (penalty.rho < settings.maxPenalty) {
      const result = LbfgsB.minimize(state.objective, state.w, {
        ...settings.subproblem,
        lower: 0,
        upper: state.upper
      })
      state.subproblems++
      state.subproblemIterations += result.iterations
      state.evaluations += result.counts.value
      if (w !== state.w) Memory.free(w)
      w = result.x
      Memory.free(result.gradient)
      assemble(buffers, w)
      h = acyclicityAt(buffers)
      // A NaN h ends the iteration; the loop then reports `diverged`.
      if (h > settings.progressRatio * previous) penalty.rho *= settings.penaltyGrowth
      else break
    }
    Memory.free(state.w)
    state.w = w
    state.h = h
    penalty.alpha += penalty.rho * h
    state.outerIterations++
    return state
  },
  status: (state) => {
    if (state.outerIterations === 0) return undefined
    if (state.h <= state.settings.tolerance) return "converged"
    if (state.buffers.penalty.rho >= state.settings.maxPenalty) return "stalled"
    return undefined
  },
  residual: (state) => state.h,
  metrics: (state) => ({
    h: state.h,
    rho: state.buffers.penalty.rho,
    alpha: state.buffers.penalty.alpha,
    subproblems: state.subproblems
  }),
  output: outputOf
}

/**
 * Runs NOTEARS on X (n × d, one sample per row) and returns the learned DAG
 * with the raw estimate, h, the loss and the work done.
 *
 * @example
 * const result = Notears.fit(X, { lambda1: 0.1 })
 * // result.W: the learned DAG (|w| ≥ 0.3), result.h ≤ 1e-8 when converged
 * @throws NonFiniteInput when X holds NaN or ±Infinity.
 * @throws TooFewSamples when X has fewer than 2 rows.
 * @throws ConstantColumn when a column of X is constant.
 * @throws EmptyInput when X has no rows or columns.
 * @throws InvalidOptions when an option is out of range (e.g. λ₁ < 0).
 * @category solvers
 * @since 0.1.0
 */
export const fit = (X: Matrix.Matrix, options: NotearsOptions = {}): NotearsResult => {
  const maxIterations = options.maxIterations ?? defaultNotearsOptions.maxIterations
  const run = Solver.run(solver, X, options, {
    maxIterations,
    ...(options.signal === undefined ? {} : { signal: options.signal })
  })
  return { ...run.output, status: run.status, iterations: run.iterations }
}
