/**
 * Entropic Gromov–Wasserstein and fused Gromov–Wasserstein: match two
 * metric-measure spaces known only through their intra-domain costs C1
 * (n × n) and C2 (m × m), by the plan T ∈ U(a, b) minimizing the distortion
 *
 *   GW(T) = Σ_{i,j,k,l} (C1_ik − C2_jl)² T_ij T_kl              (square loss),
 *
 * or, with a feature cost M (n × m) and α ∈ [0, 1], the fused objective
 * (Vayer, Chapel, Flamary, Tavenard & Courty, "Optimal transport for
 * structured data with application on graphs", ICML 2019)
 *
 *   E(T) = (1 − α)·⟨M, T⟩ + α·GW(T),
 *
 * regularized by −ε·H(T). The problem is a non-convex quadratic program;
 * Peyré, Cuturi & Solomon ("Gromov–Wasserstein averaging of kernel and
 * distance matrices", ICML 2016) minimize it by projected mirror descent in
 * the KL geometry with step 1/ε, which reduces each iteration to one
 * entropic OT problem on the linearized cost:
 *
 *   T ← argmin_{T ∈ U(a, b)} ⟨∇E(T_k), T⟩ − ε·H(T)   (a Sinkhorn solve),
 *   ∇E(T) = (1 − α)·M + α·(L⊗T + Lᵀ⊗T),
 *   (L⊗T)_ij = (C1²·a)_i + (C2²·b)_j − 2·(C1·T·C2ᵀ)_ij,
 *
 * (C² elementwise; for symmetric C1, C2 the gradient is 2·L⊗T, POT's
 * `gwggrad`). The row and column constants are written with a and b, as
 * POT's `init_matrix`; they shift the potentials but not the plan. The
 * products use core's `Blas3.gemm` (O(n²m + nm²) per iteration); the inner
 * problems run the log-domain Sinkhorn of `UnbalancedSinkhorn` (balanced),
 * warm-started from the previous potentials. This is POT's
 * `ot.gromov.entropic_gromov_wasserstein` / `entropic_fused_gromov_wasserstein`
 * (`solver="PGD"`, `loss_fun="square_loss"`), from the same initial plan
 * (default a⊗b, POT's `G0`).
 *
 * The outer loop stops when ‖T_{k+1} − T_k‖_F ≤ tolerance (POT's test);
 * being non-convex, different starts may reach different stationary plans.
 *
 * @since 0.1.0
 */
import { Blas1, Blas3, Errors, Matrix, type Solver, Vector } from "@descent/core"
import { runToResult } from "./internal/entropic.ts"
import {
  checkBalanced,
  checkMatrix,
  initScaling,
  integerAtLeast,
  nonNegative,
  planInto,
  positiveFinite,
  readWeights,
  resetScaling,
  runScaling,
  type ScalingState
} from "./internal/logScaling.ts"
import type { TransportResult } from "./TransportResult.ts"

/**
 * A validated (fused) Gromov–Wasserstein problem.
 *
 * @category models
 * @since 0.1.0
 */
export interface GromovWassersteinProblem {
  readonly C1: Matrix.Matrix
  readonly C2: Matrix.Matrix
  readonly a: Float64Array
  readonly b: Float64Array
  /** The feature cost M (n × m) of the fused problem, or undefined. */
  readonly featureCost: Matrix.Matrix | undefined
  /** Weight of the GW term: 1 for pure GW. */
  readonly alpha: number
}

/**
 * Options of `make`.
 *
 * @category models
 * @since 0.1.0
 */
export interface GromovWassersteinProblemOptions {
  /** Weights on the first space (≥ 0); default uniform 1/n. */
  readonly a?: ArrayLike<number>
  /** Weights on the second space; default uniform 1/m. Masses must agree (relative 1e-9). */
  readonly b?: ArrayLike<number>
  /** Feature cost M (n × m, finite) for fused GW. */
  readonly featureCost?: Matrix.Matrix
  /** α ∈ [0, 1]: E = (1 − α)⟨M, T⟩ + α·GW. Default 0.5 with a feature cost (as POT), 1 without. */
  readonly alpha?: number
}

const MAKE = "GromovWasserstein.make"

/**
 * A (fused) GW problem between the spaces (C1, a) and (C2, b).
 *
 * @throws EmptyInput, DimensionMismatch, NonFiniteInput for bad matrices;
 *   NegativeMass, InvalidOptions for bad weights or α; UnbalancedMarginals
 *   when Σa ≠ Σb.
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  C1: Matrix.Matrix,
  C2: Matrix.Matrix,
  options: GromovWassersteinProblemOptions = {}
): GromovWassersteinProblem => {
  const n = C1.rows
  const m = C2.rows
  checkMatrix(MAKE, "C1", C1, n, n, false)
  checkMatrix(MAKE, "C2", C2, m, m, false)
  const { w: a, mass: massA } = readWeights(MAKE, "a", options.a, n)
  const { w: b, mass: massB } = readWeights(MAKE, "b", options.b, m)
  checkBalanced(MAKE, massA, massB, 1e-9)
  const M = options.featureCost
  if (M !== undefined) checkMatrix(MAKE, "featureCost", M, n, m, false)
  const alpha = options.alpha ?? (M === undefined ? 1 : 0.5)
  if (typeof alpha !== "number" || !(alpha >= 0 && alpha <= 1))
    throw new Errors.InvalidOptions({
      operation: MAKE,
      field: "alpha",
      value: alpha,
      requirement: "a number in [0, 1]"
    })
  if (M === undefined && alpha !== 1)
    throw new Errors.InvalidOptions({
      operation: MAKE,
      field: "alpha",
      value: alpha,
      requirement: "1 when no featureCost is given"
    })
  return {
    C1: Matrix.clone(C1),
    C2: Matrix.clone(C2),
    a,
    b,
    featureCost: M === undefined ? undefined : Matrix.clone(M),
    alpha
  }
}

/**
 * Options of `solve`.
 *
 * @category models
 * @since 0.1.0
 */
export interface GromovWassersteinOptions {
  /** ε > 0, in the units of the linearized cost ∇E. Default 0.1 (POT's default). */
  readonly epsilon?: number
  /** Stop when ‖T_{k+1} − T_k‖_F ≤ tolerance (≥ 0). Default 1e-9 (POT's `tol`). */
  readonly tolerance?: number
  /** Outer (mirror-descent) iteration budget (≥ 0). Default 1000 (POT's `max_iter`). */
  readonly maxIterations?: number
  /** Inner Sinkhorn stopping test: marginal error ‖T1 − a‖₁ + ‖Tᵀ1 − b‖₁ ≤ this (≥ 0). Default 1e-9. */
  readonly innerTolerance?: number
  /** Inner Sinkhorn iteration budget per outer iteration (≥ 1). Default 1000. */
  readonly innerMaxIterations?: number
  /** The starting plan T_0 (n × m, ≥ 0, finite). Default a⊗b. */
  readonly initialPlan?: Matrix.Matrix
}

/**
 * Defaults of `GromovWassersteinOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultGromovWassersteinOptions = {
  epsilon: 0.1,
  tolerance: 1e-9,
  maxIterations: 1000,
  innerTolerance: 1e-9,
  innerMaxIterations: 1000
} as const

/**
 * A (fused) GW result. `cost` is the objective E(T) = (1 − α)⟨M, T⟩ + α·GW(T)
 * at the returned plan (without the entropy), POT's `gw_dist` / `fgw_dist`;
 * `f`, `g` are the potentials of the last inner problem (cost units of ∇E,
 * convention T = a⊗b·exp((f ⊕ g − ∇E)/ε)); `marginalErrors` the plan's
 * marginal error after each outer iteration.
 *
 * @category models
 * @since 0.1.0
 */
export interface GromovWassersteinResult extends TransportResult {
  readonly epsilon: number
  readonly alpha: number
  /** GW(T) = Σ (C1_ik − C2_jl)² T_ij T_kl, with T's actual marginals. */
  readonly gwLoss: number
  /** ⟨M, T⟩ (0 without a feature cost). */
  readonly linearLoss: number
  /** ‖T_{k+1} − T_k‖_F at each outer iteration. */
  readonly changes: ReadonlyArray<number>
  /** Inner Sinkhorn iterations, summed over the outer iterations. */
  readonly innerIterations: number
  /** Outer iterations whose inner solve hit `innerMaxIterations` before `innerTolerance`. */
  readonly innerFailures: number
}

/**
 * The solver output (`solve` adds status and iterations).
 *
 * @category models
 * @since 0.1.0
 */
export type GromovWassersteinOutput = Omit<GromovWassersteinResult, "status" | "iterations">

/**
 * The solver state.
 *
 * @category models
 * @since 0.1.0
 */
export interface GromovWassersteinState {
  readonly problem: GromovWassersteinProblem
  readonly epsilon: number
  readonly tolerance: number
  readonly innerTolerance: number
  readonly innerMaxIterations: number
  readonly symmetric: boolean
  /** (C1²)·a + (C1²)ᵀ·a (or 2(C1²)·a when symmetric), and likewise for C2, b. */
  readonly rowConstant: Float64Array
  readonly colConstant: Float64Array
  /** The current plan and the next one (swapped each step). */
  plan: Matrix.Matrix
  next: Matrix.Matrix
  /** The linearized cost ∇E(T) the inner problem runs on. */
  readonly gradient: Matrix.Matrix
  readonly work: Matrix.Matrix
  readonly scaling: ScalingState
  readonly changes: number[]
  readonly errors: number[]
  change: number
  innerIterations: number
  innerFailures: number
}

const NAME = "GromovWasserstein"

const isSymmetric = (C: Matrix.Matrix): boolean => {
  const n = C.rows
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) if (C.data[i * n + j] !== C.data[j * n + i]) return false
  return true
}

/** (C²)·w into out; with `transpose`, (C²)ᵀ·w. */
const squaredTimes = (C: Matrix.Matrix, w: Float64Array, transpose: boolean, out: Float64Array): void => {
  const n = C.rows
  out.fill(0)
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const c = C.data[i * n + k]!
      if (transpose) out[k] = out[k]! + c * c * w[i]!
      else out[i] = out[i]! + c * c * w[k]!
    }
  }
}

/** gradient ← ∇E(T) (see the module comment). */
const writeGradient = (s: GromovWassersteinState): void => {
  const { C1, C2, featureCost, alpha } = s.problem
  const G = s.gradient
  const T = s.plan
  if (featureCost !== undefined && alpha < 1) {
    Blas1.copy(featureCost.data, G.data)
    Blas1.scal(1 - alpha, G.data)
  } else G.data.fill(0)
  if (alpha === 0) return
  // C1·T·C2ᵀ (and C1ᵀ·T·C2 when not symmetric).
  Blas3.gemm(false, true, 1, T, C2, 0, s.work)
  Blas3.gemm(false, false, s.symmetric ? -4 * alpha : -2 * alpha, C1, s.work, 1, G)
  if (!s.symmetric) {
    Blas3.gemm(false, false, 1, T, C2, 0, s.work)
    Blas3.gemm(true, false, -2 * alpha, C1, s.work, 1, G)
  }
  const n = G.rows
  const m = G.cols
  for (let i = 0; i < n; i++) {
    const ri = alpha * s.rowConstant[i]!
    const o = i * m
    for (let j = 0; j < m; j++) G.data[o + j] = G.data[o + j]! + ri + alpha * s.colConstant[j]!
  }
}

/** Inner Sinkhorn on the current gradient, then next ← its plan. */
const innerSolve = (s: GromovWassersteinState, fresh: boolean): void => {
  if (!fresh) resetScaling(s.scaling)
  const k = runScaling(s.scaling, s.innerTolerance, s.innerMaxIterations)
  s.innerIterations += k
  if (!(s.scaling.error <= s.innerTolerance)) s.innerFailures++
  const sc = s.scaling
  planInto(s.gradient, sc.f, sc.g, sc.logA, sc.logB, s.epsilon, s.next)
}

/** ‖P·1 − a‖₁ + ‖Pᵀ·1 − b‖₁ of an explicit plan. */
const planError = (P: Matrix.Matrix, a: Float64Array, b: Float64Array): number => {
  const n = P.rows
  const m = P.cols
  let e = 0
  const cols = new Float64Array(m)
  for (let i = 0; i < n; i++) {
    let r = 0
    for (let j = 0; j < m; j++) {
      const p = P.data[i * m + j]!
      r += p
      cols[j] = cols[j]! + p
    }
    e += Math.abs(r - a[i]!)
  }
  for (let j = 0; j < m; j++) e += Math.abs(cols[j]! - b[j]!)
  return e
}

/**
 * Entropic (fused) GW as a `Solver.IterativeSolver`: one step is one
 * mirror-descent iteration (a gradient and an inner Sinkhorn solve).
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<
  GromovWassersteinProblem,
  GromovWassersteinOptions,
  GromovWassersteinState,
  GromovWassersteinOutput
> = {
  name: NAME,
  init: (problem, options) => {
    const d = defaultGromovWassersteinOptions
    const epsilon = positiveFinite(NAME, "epsilon", options.epsilon ?? d.epsilon)
    const tolerance = nonNegative(NAME, "tolerance", options.tolerance ?? d.tolerance)
    const innerTolerance = nonNegative(NAME, "innerTolerance", options.innerTolerance ?? d.innerTolerance)
    const innerMaxIterations = integerAtLeast(
      NAME,
      "innerMaxIterations",
      options.innerMaxIterations ?? d.innerMaxIterations,
      1
    )
    const { C1, C2, a, b } = problem
    const n = C1.rows
    const m = C2.rows
    const plan = Matrix.zeros(n, m)
    if (options.initialPlan !== undefined) {
      checkMatrix(NAME, "initialPlan", options.initialPlan, n, m, false)
      for (let k = 0; k < plan.data.length; k++) {
        const v = options.initialPlan.data[k]!
        if (v < 0)
          throw new Errors.InvalidOptions({
            operation: NAME,
            field: "initialPlan",
            value: v,
            requirement: "a matrix with entries ≥ 0"
          })
        plan.data[k] = v
      }
    } else for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) plan.data[i * m + j] = a[i]! * b[j]!
    const symmetric = isSymmetric(C1) && isSymmetric(C2)
    const rowConstant = Vector.zeros(n)
    const colConstant = Vector.zeros(m)
    const tmpN = Vector.zeros(n)
    const tmpM = Vector.zeros(m)
    squaredTimes(C1, a, false, rowConstant)
    squaredTimes(C2, b, false, colConstant)
    if (symmetric) {
      Blas1.scal(2, rowConstant)
      Blas1.scal(2, colConstant)
    } else {
      squaredTimes(C1, a, true, tmpN)
      squaredTimes(C2, b, true, tmpM)
      Blas1.axpy(1, tmpN, rowConstant)
      Blas1.axpy(1, tmpM, colConstant)
    }
    const gradient = Matrix.zeros(n, m)
    const inf = Number.POSITIVE_INFINITY
    const state: GromovWassersteinState = {
      problem,
      epsilon,
      tolerance,
      innerTolerance,
      innerMaxIterations,
      symmetric,
      rowConstant,
      colConstant,
      plan,
      next: Matrix.zeros(n, m),
      gradient,
      work: Matrix.zeros(n, m),
      // Potentials are set up on the first gradient in the first step.
      scaling: initScaling(gradient, a, b, epsilon, inf, inf),
      changes: [],
      errors: [planError(plan, a, b)],
      change: Number.MAX_VALUE,
      innerIterations: 0,
      innerFailures: 0
    }
    return state
  },
  step: (state) => {
    writeGradient(state)
    innerSolve(state, false)
    let change = 0
    const p = state.plan.data
    const q = state.next.data
    for (let k = 0; k < p.length; k++) change += (q[k]! - p[k]!) ** 2
    state.change = Math.sqrt(change)
    const previous = state.plan
    state.plan = state.next
    state.next = previous
    state.changes.push(state.change)
    state.errors.push(state.scaling.error)
    return state
  },
  status: (state) => (state.change <= state.tolerance ? "converged" : undefined),
  residual: (state) => state.change,
  metrics: (state) => ({ change: state.change, marginalError: state.scaling.error }),
  output: (state) => gwOutput(state)
}

const gwOutput = (s: GromovWassersteinState): GromovWassersteinOutput => {
  const { C1, C2, featureCost, alpha } = s.problem
  const T = Matrix.clone(s.plan)
  const n = T.rows
  const m = T.cols
  const r = Vector.zeros(n)
  const c = Vector.zeros(m)
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) {
      const p = T.data[i * m + j]!
      r[i] = r[i]! + p
      c[j] = c[j]! + p
    }
  // GW(T) = rᵀ(C1²)r + cᵀ(C2²)c − 2⟨T, C1·T·C2ᵀ⟩.
  const W = Matrix.zeros(n, m)
  const V = Matrix.zeros(n, m)
  Blas3.gemm(false, true, 1, T, C2, 0, W)
  Blas3.gemm(false, false, 1, C1, W, 0, V)
  const tn = Vector.zeros(n)
  const tm = Vector.zeros(m)
  squaredTimes(C1, r, false, tn)
  squaredTimes(C2, c, false, tm)
  const gwLoss = Blas1.dot(r, tn) + Blas1.dot(c, tm) - 2 * Blas1.dot(T.data, V.data)
  const linearLoss = featureCost === undefined ? 0 : Blas1.dot(featureCost.data, T.data)
  const cost = alpha === 1 ? gwLoss : (1 - alpha) * linearLoss + alpha * gwLoss
  return {
    f: Vector.clone(s.scaling.f),
    g: Vector.clone(s.scaling.g),
    cost,
    marginalErrors: s.errors.slice(),
    plan: () => Matrix.clone(T),
    epsilon: s.epsilon,
    alpha,
    gwLoss,
    linearLoss,
    changes: s.changes.slice(),
    innerIterations: s.innerIterations,
    innerFailures: s.innerFailures
  }
}

/**
 * Solves entropic (fused) Gromov–Wasserstein (see the module comment).
 *
 * @example
 * const problem = GromovWasserstein.make(C1, C2)
 * const { plan, cost, status } = GromovWasserstein.solve(problem, { epsilon: 0.05 })
 * @throws InvalidOptions for ε ≤ 0 (or not finite), negative tolerances, bad
 *   iteration counts or a negative initial plan; DimensionMismatch,
 *   NonFiniteInput for a bad `initialPlan`.
 * @category solvers
 * @since 0.1.0
 */
export const solve = (
  problem: GromovWassersteinProblem,
  options: GromovWassersteinOptions = {}
): GromovWassersteinResult => {
  const maxIterations = integerAtLeast(
    NAME,
    "maxIterations",
    options.maxIterations ?? defaultGromovWassersteinOptions.maxIterations,
    0
  )
  return runToResult(solver, problem, options, { maxIterations })
}
