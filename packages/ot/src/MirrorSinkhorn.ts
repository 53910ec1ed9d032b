/**
 * Mirror Sinkhorn (Ballu & Berthet, "Mirror Sinkhorn: fast online
 * optimization on transport polytopes", ICML 2023): minimize a convex
 * function F over the transport polytope U(a, b) = {P ≥ 0 : P·1 = a, Pᵀ·1 = b}
 * with a single loop that alternates a mirror-descent step in the entropic
 * geometry with one Sinkhorn half-projection:
 *
 *   P'_{t+1} = P_t ⊙ exp(−η_t·∇F(P_t)),
 *   P_{t+1}  = diag(a ⊘ P'1)·P'  (t even)   or   P'·diag(b ⊘ P'ᵀ1)  (t odd),
 *
 * from P_0 = a⊗b/Σa. No inner loop and no target precision: the output is
 * the step-weighted average P̄_T = Σ_t η_t P_t / Σ_t η_t, rounded onto U(a, b)
 * (Altschuler, Weed & Rigollet, "Near-linear time approximation algorithms
 * for optimal transport via Sinkhorn iteration", NeurIPS 2017, Alg. 2; it
 * moves P̄ by at most twice its marginal error in ℓ1), whose suboptimality
 * decays as O(L·√(log(nm)/T)) for ‖∇F‖∞ ≤ L. ∇F may be replaced by unbiased
 * stochastic estimates (the online setting): the gradient oracle receives a
 * key, `Random.foldIn(options.key, t)`, so runs are reproducible.
 *
 * Implementation: log P_t = log a ⊕ log b + f ⊕ g − K with K = Σ_s η_s ∇F(P_s)
 * (one `Blas1.axpy` per step); each half-projection is one fused pass of
 * core's `Reductions.logSumExpAffineRows/Cols` (ε = 1), so nothing
 * underflows however large K grows. For a linear F = ⟨C, P⟩ this is Sinkhorn
 * with ε_t = 1/Σ_{s<t} η_s decreasing to 0, and (f, g)/Σ η approach optimal
 * transport potentials; the reported `f`, `g` are scaled so.
 *
 * Steps: η_t = c/√(t + 1) for a number c (the anytime schedule of the
 * analysis), or any `Schedules.Schedule` of `@descent/optim` evaluated at t.
 * The default c = √(2·log(n·m))/‖∇F(P_0)‖∞ is the mirror-descent step for a
 * KL diameter log(nm) and gradients of size ‖∇F(P_0)‖∞.
 *
 * Mirror Sinkhorn runs a fixed horizon T (`iterations`), to which its
 * guarantee applies; completing it is reported as `converged`.
 *
 * @since 0.1.0
 */
import { Blas1, Errors, Matrix, Random, Reductions, type Solver, Vector } from "@descent/core"
import { Schedules } from "@descent/optim"
import { runToResult } from "./internal/entropic.ts"
import {
  checkBalanced,
  checkMatrix,
  integerAtLeast,
  logOf,
  positiveFinite,
  readWeights
} from "./internal/logScaling.ts"
import type { TransportResult } from "./TransportResult.ts"

/**
 * What the gradient oracle receives besides the plan.
 *
 * @category models
 * @since 0.1.0
 */
export interface GradientContext {
  /** The iteration t (0-based). */
  readonly iteration: number
  /** `Random.foldIn(options.key, t)`: the randomness of a stochastic gradient at t. */
  readonly key: Random.Key
}

/**
 * A convex objective on n × m plans.
 *
 * @category models
 * @since 0.1.0
 */
export interface Objective {
  /** F(P). */
  readonly value: (plan: Matrix.Matrix) => number
  /** Writes ∇F(P), or an unbiased estimate of it, into `out` (n × m). */
  readonly gradient: (plan: Matrix.Matrix, out: Matrix.Matrix, context: GradientContext) => void
}

/**
 * A validated Mirror Sinkhorn problem.
 *
 * @category models
 * @since 0.1.0
 */
export interface MirrorSinkhornProblem {
  readonly rows: number
  readonly cols: number
  readonly a: Float64Array
  readonly b: Float64Array
  readonly objective: Objective
}

/**
 * Options of `make` and `linear`.
 *
 * @category models
 * @since 0.1.0
 */
export interface MirrorSinkhornProblemOptions {
  /** Row marginal (≥ 0); default uniform 1/n. */
  readonly a?: ArrayLike<number>
  /** Column marginal; default uniform 1/m. Masses must agree (relative 1e-9). */
  readonly b?: ArrayLike<number>
}

const MAKE = "MirrorSinkhorn.make"

/**
 * A problem: minimize `objective` over U(a, b), plans of shape rows × cols.
 *
 * @throws InvalidOptions for shapes that are not integers ≥ 1 or bad weights;
 *   DimensionMismatch, NonFiniteInput, NegativeMass; UnbalancedMarginals when Σa ≠ Σb.
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  rows: number,
  cols: number,
  objective: Objective,
  options: MirrorSinkhornProblemOptions = {}
): MirrorSinkhornProblem => {
  integerAtLeast(MAKE, "rows", rows, 1)
  integerAtLeast(MAKE, "cols", cols, 1)
  const { w: a, mass: massA } = readWeights(MAKE, "a", options.a, rows)
  const { w: b, mass: massB } = readWeights(MAKE, "b", options.b, cols)
  checkBalanced(MAKE, massA, massB, 1e-9)
  return { rows, cols, a, b, objective }
}

/**
 * The optimal transport problem F(P) = ⟨C, P⟩ (finite C, copied).
 *
 * @throws the errors of `make`; NonFiniteInput for non-finite costs.
 * @category constructors
 * @since 0.1.0
 */
export const linear = (
  C: Matrix.Matrix,
  options: MirrorSinkhornProblemOptions = {}
): MirrorSinkhornProblem => {
  checkMatrix("MirrorSinkhorn.linear", "C", C, C.rows, C.cols, false)
  const cost = Matrix.clone(C)
  return make(
    C.rows,
    C.cols,
    {
      value: (P) => Blas1.dot(cost.data, P.data),
      gradient: (_P, out) => Blas1.copy(cost.data, out.data)
    },
    options
  )
}

/**
 * Options of `solve`.
 *
 * @category models
 * @since 0.1.0
 */
export interface MirrorSinkhornOptions {
  /** The horizon T: number of iterations (≥ 1). Default 1000. */
  readonly iterations?: number
  /**
   * c > 0 for η_t = c/√(t + 1), or a schedule t ↦ η_t (values > 0).
   * Default c = √(2·log(n·m))/‖∇F(P_0)‖∞.
   */
  readonly stepSize?: number | Schedules.Schedule
  /** Key of the gradient oracle's randomness. Default `Random.key(0)`. */
  readonly key?: Random.Key
}

/**
 * Defaults of `MirrorSinkhornOptions` (the step size's default depends on
 * the problem; see `stepSize`).
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultMirrorSinkhornOptions = { iterations: 1000, seed: 0 } as const

/**
 * A Mirror Sinkhorn result: `plan()` is the rounded average (in U(a, b) up
 * to rounding), `cost` is F at it, `f`, `g` the scaled log-scalings (see the
 * module comment), `marginalErrors` the marginal error of each iterate P_t
 * (one side is exact after its half-projection).
 *
 * @category models
 * @since 0.1.0
 */
export interface MirrorSinkhornResult extends TransportResult {
  /** F at the rounded average (= `cost`). */
  readonly objective: number
  /** The step-weighted average P̄_T before rounding. */
  readonly averagePlan: Matrix.Matrix
  /** ‖P̄·1 − a‖₁ + ‖P̄ᵀ·1 − b‖₁ (the rounding moves P̄ by at most twice this in ℓ1). */
  readonly averageMarginalError: number
  /** Σ_t η_t. */
  readonly stepSizeSum: number
}

/**
 * The solver output (`solve` adds status and iterations).
 *
 * @category models
 * @since 0.1.0
 */
export type MirrorSinkhornOutput = Omit<MirrorSinkhornResult, "status" | "iterations">

/**
 * The solver state.
 *
 * @category models
 * @since 0.1.0
 */
export interface MirrorSinkhornState {
  readonly problem: MirrorSinkhornProblem
  readonly horizon: number
  readonly key: Random.Key
  readonly step: (t: number) => number
  readonly logA: Float64Array
  readonly logB: Float64Array
  /** K = Σ η_s ∇F(P_s). */
  readonly K: Matrix.Matrix
  /** The current iterate P_t. */
  readonly plan: Matrix.Matrix
  /** Σ η_s P_s. */
  readonly sum: Matrix.Matrix
  readonly gradient: Matrix.Matrix
  readonly f: Float64Array
  readonly g: Float64Array
  readonly shiftN: Float64Array
  readonly shiftM: Float64Array
  readonly lseN: Float64Array
  readonly lseM: Float64Array
  readonly errors: number[]
  iteration: number
  stepSizeSum: number
  error: number
}

const NAME = "MirrorSinkhorn"

/** plan ← exp(log a ⊕ log b + f ⊕ g − K). */
const writePlan = (s: MirrorSinkhornState): void => {
  const n = s.problem.rows
  const m = s.problem.cols
  const k = s.K.data
  const p = s.plan.data
  for (let i = 0; i < n; i++) {
    const fi = s.f[i]! + s.logA[i]!
    const o = i * m
    if (fi === Number.NEGATIVE_INFINITY) {
      p.fill(0, o, o + m)
      continue
    }
    for (let j = 0; j < m; j++) p[o + j] = Math.exp(fi + s.g[j]! + s.logB[j]! - k[o + j]!)
  }
}

const marginalError = (
  P: Matrix.Matrix,
  a: Float64Array,
  b: Float64Array,
  r: Float64Array,
  c: Float64Array
): number => {
  Reductions.rowSums(P, r)
  Reductions.colSums(P, c)
  let e = 0
  for (let i = 0; i < a.length; i++) e += Math.abs(r[i]! - a[i]!)
  for (let j = 0; j < b.length; j++) e += Math.abs(c[j]! - b[j]!)
  return e
}

/** One Mirror Sinkhorn iteration (see the module comment). */
const iterate = (s: MirrorSinkhornState): void => {
  const { problem, K, plan, sum, gradient } = s
  const t = s.iteration
  const eta = s.step(t)
  if (!(eta > 0) || eta === Number.POSITIVE_INFINITY)
    throw new Errors.InvalidOptions({
      operation: NAME,
      field: "stepSize",
      value: eta,
      requirement: `a step > 0 at t = ${t}`
    })
  problem.objective.gradient(plan, gradient, { iteration: t, key: Random.foldIn(s.key, t) })
  Blas1.axpy(eta, plan.data, sum.data)
  s.stepSizeSum += eta
  Blas1.axpy(eta, gradient.data, K.data)
  // Fold the weights into the potentials: P_ij = exp(F_i + G_j − K_ij).
  Blas1.copy(s.f, s.shiftN)
  Blas1.axpy(1, s.logA, s.shiftN)
  Blas1.copy(s.g, s.shiftM)
  Blas1.axpy(1, s.logB, s.shiftM)
  if (t % 2 === 0) {
    Reductions.logSumExpAffineRows(K, s.shiftN, s.shiftM, 1, s.lseN)
    for (let i = 0; i < s.f.length; i++) s.f[i] = s.f[i]! + s.logA[i]! - s.lseN[i]!
  } else {
    Reductions.logSumExpAffineCols(K, s.shiftN, s.shiftM, 1, s.lseM)
    for (let j = 0; j < s.g.length; j++) s.g[j] = s.g[j]! + s.logB[j]! - s.lseM[j]!
  }
  writePlan(s)
  s.iteration = t + 1
  s.error = marginalError(plan, problem.a, problem.b, s.lseN, s.lseM)
  s.errors.push(s.error)
}

/**
 * Mirror Sinkhorn as a `Solver.IterativeSolver` (run it for `iterations` steps).
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<
  MirrorSinkhornProblem,
  MirrorSinkhornOptions,
  MirrorSinkhornState,
  MirrorSinkhornOutput
> = {
  name: NAME,
  init: (problem, options) => {
    const horizon = integerAtLeast(
      NAME,
      "iterations",
      options.iterations ?? defaultMirrorSinkhornOptions.iterations,
      1
    )
    const key = options.key ?? Random.key(defaultMirrorSinkhornOptions.seed)
    const { rows: n, cols: m, a, b } = problem
    const logA = logOf(a)
    const logB = logOf(b)
    const massA = Reductions.sum(a)
    const state: MirrorSinkhornState = {
      problem,
      horizon,
      key,
      step: () => 0,
      logA,
      logB,
      K: Matrix.zeros(n, m),
      plan: Matrix.zeros(n, m),
      sum: Matrix.zeros(n, m),
      gradient: Matrix.zeros(n, m),
      f: Vector.full(n, -Math.log(massA)),
      g: Vector.zeros(m),
      shiftN: Vector.zeros(n),
      shiftM: Vector.zeros(m),
      lseN: Vector.zeros(n),
      lseM: Vector.zeros(m),
      errors: [],
      iteration: 0,
      stepSizeSum: 0,
      error: 0
    }
    writePlan(state)
    state.error = marginalError(state.plan, a, b, state.lseN, state.lseM)
    state.errors.push(state.error)
    return { ...state, step: stepRule(problem, state, options.stepSize) }
  },
  step: (state) => {
    iterate(state)
    return state
  },
  status: (state) => (state.iteration >= state.horizon ? "converged" : undefined),
  residual: (state) => state.error,
  metrics: (state) => ({ marginalError: state.error, stepSizeSum: state.stepSizeSum }),
  output: (state) => mirrorOutput(state)
}

/** η_t from the option (see `stepSize`). */
const stepRule = (
  problem: MirrorSinkhornProblem,
  state: MirrorSinkhornState,
  stepSize: number | Schedules.Schedule | undefined
): ((t: number) => number) => {
  if (typeof stepSize === "object") {
    const schedule = Schedules.fromJSON(stepSize)
    return (t) => Schedules.evaluate(schedule, t)
  }
  let c: number
  if (stepSize === undefined) {
    // ∇F(P_0) with the key of t = 0 (a stochastic oracle may draw differently at t = 0 itself).
    problem.objective.gradient(state.plan, state.gradient, { iteration: 0, key: Random.foldIn(state.key, 0) })
    let L = 0
    for (let k = 0; k < state.gradient.data.length; k++) L = Math.max(L, Math.abs(state.gradient.data[k]!))
    state.gradient.data.fill(0)
    if (!(L > 0) || !Number.isFinite(L))
      throw new Errors.InvalidOptions({
        operation: NAME,
        field: "stepSize",
        value: L,
        requirement: "given explicitly when ∇F(P_0) is 0 or not finite (the default scales by its size)"
      })
    c = Math.sqrt(2 * Math.log(Math.max(2, problem.rows * problem.cols))) / L
  } else c = positiveFinite(NAME, "stepSize", stepSize)
  return (t) => c / Math.sqrt(t + 1)
}

/**
 * Rounds F onto U(a, b) (Altschuler, Weed & Rigollet 2017, Alg. 2): scale
 * down rows above a, then columns above b, then add the rank-one correction
 * err_r·err_cᵀ/‖err_r‖₁ of the remaining deficits. Writes into `out`.
 */
const round = (F: Matrix.Matrix, a: Float64Array, b: Float64Array, out: Matrix.Matrix): Matrix.Matrix => {
  const n = F.rows
  const m = F.cols
  Blas1.copy(F.data, out.data)
  const r = Vector.zeros(n)
  const c = Vector.zeros(m)
  Reductions.rowSums(out, r)
  for (let i = 0; i < n; i++) {
    const x = r[i]! > a[i]! ? a[i]! / r[i]! : 1
    r[i] = x
  }
  for (let i = 0; i < n; i++) if (r[i] !== 1) Blas1.scal(r[i]!, out.data.subarray(i * m, (i + 1) * m))
  Reductions.colSums(out, c)
  for (let j = 0; j < m; j++) c[j] = c[j]! > b[j]! ? b[j]! / c[j]! : 1
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out.data[i * m + j] = out.data[i * m + j]! * c[j]!
  Reductions.rowSums(out, r)
  Reductions.colSums(out, c)
  let total = 0
  for (let i = 0; i < n; i++) {
    r[i] = a[i]! - r[i]!
    total += r[i]!
  }
  for (let j = 0; j < m; j++) c[j] = b[j]! - c[j]!
  if (total > 0)
    for (let i = 0; i < n; i++)
      for (let j = 0; j < m; j++) out.data[i * m + j] = out.data[i * m + j]! + (r[i]! * c[j]!) / total
  return out
}

const mirrorOutput = (s: MirrorSinkhornState): MirrorSinkhornOutput => {
  const { problem } = s
  const n = problem.rows
  const m = problem.cols
  const average = Matrix.zeros(n, m)
  if (s.stepSizeSum > 0) {
    Blas1.copy(s.sum.data, average.data)
    Blas1.scal(1 / s.stepSizeSum, average.data)
  } else Blas1.copy(s.plan.data, average.data)
  const rounded = round(average, problem.a, problem.b, Matrix.zeros(n, m))
  const objective = problem.objective.value(rounded)
  const scale = s.stepSizeSum > 0 ? 1 / s.stepSizeSum : 1
  const f = Vector.clone(s.f)
  const g = Vector.clone(s.g)
  Blas1.scal(scale, f)
  Blas1.scal(scale, g)
  return {
    f,
    g,
    cost: objective,
    objective,
    marginalErrors: s.errors.slice(),
    plan: () => Matrix.clone(rounded),
    averagePlan: average,
    averageMarginalError: marginalError(average, problem.a, problem.b, Vector.zeros(n), Vector.zeros(m)),
    stepSizeSum: s.stepSizeSum
  }
}

/**
 * Runs Mirror Sinkhorn for `iterations` steps (see the module comment).
 *
 * @example
 * const problem = MirrorSinkhorn.linear(C, { a, b })
 * const { cost, plan } = MirrorSinkhorn.solve(problem, { iterations: 5000 })
 * @throws InvalidOptions for a bad horizon or step size (also a schedule
 *   value ≤ 0 met during the run).
 * @category solvers
 * @since 0.1.0
 */
export const solve = (
  problem: MirrorSinkhornProblem,
  options: MirrorSinkhornOptions = {}
): MirrorSinkhornResult => {
  const horizon = integerAtLeast(
    NAME,
    "iterations",
    options.iterations ?? defaultMirrorSinkhornOptions.iterations,
    1
  )
  return runToResult(solver, problem, options, { maxIterations: horizon })
}
