/**
 * The debiased Sinkhorn divergence (Genevay, Peyré & Cuturi, "Learning
 * generative models with Sinkhorn divergences", AISTATS 2018; Feydy, Séjourné,
 * Vialard, Amari, Trouvé & Peyré, "Interpolating between optimal transport and
 * MMD using Sinkhorn divergences", AISTATS 2019):
 *
 *   S_ε(α, β) = OT_ε(α, β) − ½·OT_ε(α, α) − ½·OT_ε(β, β),
 *   OT_ε(α, β) = min_{P ∈ U(a, b)} ⟨C, P⟩ + ε·KL(P | a⊗b).
 *
 * Entropic OT is biased (OT_ε(α, α) > 0); the two self terms remove the bias,
 * so S_ε(α, α) = 0, and S_ε(α, β) ≥ 0 with equality iff α = β when
 * exp(−C/ε) is a positive definite kernel (squared-Euclidean and Euclidean
 * costs; Feydy et al., Thm 1). S_ε interpolates between OT (ε → 0) and an MMD
 * (ε → ∞). (With −ε·H(P) in place of ε·KL(P | a⊗b) the three terms shift by
 * entropies of a and b that cancel in S_ε: the divergence does not depend on
 * that convention.)
 *
 * Solver: the three problems run side by side in one state, one iteration of
 * each per step. OT_ε(α, β) by log-domain Sinkhorn with potentials (f, g),
 * P = a⊗b·exp((f ⊕ g − C)/ε); each self term by the symmetric update of
 * Feydy et al. (§3.1), p ← ½(p + T(p)) with
 * T(p)_i = −ε·log Σ_j a_j exp((p_j − C_ii')/ε), which converges fast and keeps
 * the plan symmetric — one fused pass of core's
 * `Reductions.logSumExpAffineRows` per step. The values are the dual
 * objectives ⟨f, a⟩ + ⟨g, b⟩ − ε(ΣP − ΣaΣb) and 2⟨p, a⟩ − ε(ΣP − (Σa)²),
 * exact at the fixed points and within O(error²) of them nearby.
 *
 * POT's `ot.bregman.empirical_sinkhorn_divergence` debiases the linear costs
 * ⟨C, P_ε⟩ instead and clamps at 0; both are returned (`divergence` is
 * Feydy's, `linearDivergence` POT's before clamping).
 *
 * @since 0.1.0
 */
import { Blas1, Errors, type Matrix, Reductions, type Solver, Vector } from "@descent/core"
import * as Geometry from "./Geometry.ts"
import { runToResult } from "./internal/entropic.ts"
import {
  checkBalanced,
  checkSupport,
  initScaling,
  integerAtLeast,
  linearCost,
  logOf,
  nonNegative,
  positiveFinite,
  readWeights,
  type ScalingState,
  scalingStep
} from "./internal/logScaling.ts"

/**
 * The three geometries (x↔y, x↔x, y↔y, all in the same cost units) and the
 * weights of α = Σ a_i δ_{x_i} and β = Σ b_j δ_{y_j}.
 *
 * @category models
 * @since 0.1.0
 */
export interface SinkhornDivergenceProblem {
  readonly xy: Geometry.Geometry
  readonly xx: Geometry.Geometry
  readonly yy: Geometry.Geometry
  readonly a: Float64Array
  readonly b: Float64Array
}

/**
 * Options of `make` and `pointClouds`.
 *
 * @category models
 * @since 0.1.0
 */
export interface SinkhornDivergenceProblemOptions {
  /** Weights of x (≥ 0); default uniform 1/n. */
  readonly a?: ArrayLike<number>
  /** Weights of y; default uniform 1/m. The masses must agree (relative 1e-9). */
  readonly b?: ArrayLike<number>
}

/**
 * Options of `pointClouds`.
 *
 * @category models
 * @since 0.1.0
 */
export interface PointCloudDivergenceOptions extends SinkhornDivergenceProblemOptions {
  /** Ground cost. Default `"sqeuclidean"` (as POT's `metric="sqeuclidean"`). */
  readonly cost?: Geometry.PointCost
  /** Costs are divided by this common factor (> 0) in all three geometries. Default 1. */
  readonly scale?: number
}

const MAKE = "SinkhornDivergence.make"
const MASS_TOLERANCE = 1e-9

/**
 * A divergence problem from three geometries: `xy` is n × m, `xx` n × n,
 * `yy` m × m (the caller keeps their costs in the same units).
 *
 * @throws DimensionMismatch when the shapes do not fit; NonFiniteInput,
 *   NegativeMass, InvalidOptions for bad weights; UnbalancedMarginals when
 *   Σa ≠ Σb.
 * @category constructors
 * @since 0.1.0
 */
export const make = (
  xy: Geometry.Geometry,
  xx: Geometry.Geometry,
  yy: Geometry.Geometry,
  options: SinkhornDivergenceProblemOptions = {}
): SinkhornDivergenceProblem => {
  const n = xy.rows
  const m = xy.cols
  if (xx.rows !== n || xx.cols !== n)
    throw new Errors.DimensionMismatch({
      operation: MAKE,
      what: "xx",
      expected: [n, n],
      actual: [xx.rows, xx.cols]
    })
  if (yy.rows !== m || yy.cols !== m)
    throw new Errors.DimensionMismatch({
      operation: MAKE,
      what: "yy",
      expected: [m, m],
      actual: [yy.rows, yy.cols]
    })
  const { w: a, mass: massA } = readWeights(MAKE, "a", options.a, n)
  const { w: b, mass: massB } = readWeights(MAKE, "b", options.b, m)
  checkBalanced(MAKE, massA, massB, MASS_TOLERANCE)
  return { xy, xx, yy, a, b }
}

/**
 * A divergence problem between two point clouds (rows of x and y), with the
 * lazy point-cloud geometries of `Geometry.pointCloud` and one common scale.
 *
 * @throws the errors of `Geometry.pointCloud` and `make`; InvalidOptions for a bad `scale`.
 * @category constructors
 * @since 0.1.0
 */
export const pointClouds = (
  x: Matrix.Matrix,
  y: Matrix.Matrix,
  options: PointCloudDivergenceOptions = {}
): SinkhornDivergenceProblem => {
  const scale = positiveFinite("SinkhornDivergence.pointClouds", "scale", options.scale ?? 1)
  const cost = options.cost ?? "sqeuclidean"
  // Unnormalized geometries (scale 1) given the common scale.
  const at = (u: Matrix.Matrix, v: Matrix.Matrix): Geometry.Geometry => ({
    ...Geometry.pointCloud(u, v, { cost }),
    scale
  })
  return make(at(x, y), at(x, x), at(y, y), options)
}

/**
 * Options of `solve`.
 *
 * @category models
 * @since 0.1.0
 */
export interface SinkhornDivergenceOptions {
  /** ε > 0, in the geometries' cost units. Default 0.05. */
  readonly epsilon?: number
  /**
   * Stop when each of the three plans has marginal error
   * ‖P·1 − a‖₁ + ‖Pᵀ·1 − b‖₁ ≤ tolerance (≥ 0). Default 1e-9.
   */
  readonly tolerance?: number
  /** Iteration budget (≥ 0). Default 1000. */
  readonly maxIterations?: number
}

/**
 * Defaults of `SinkhornDivergenceOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultSinkhornDivergenceOptions = {
  epsilon: 0.05,
  tolerance: 1e-9,
  maxIterations: 1000
} as const

/**
 * The divergence and its three terms.
 *
 * @category models
 * @since 0.1.0
 */
export interface SinkhornDivergenceResult {
  readonly status: Solver.Status
  readonly iterations: number
  readonly epsilon: number
  /** S_ε = OT_ε(α, β) − ½OT_ε(α, α) − ½OT_ε(β, β) (Feydy et al.), in cost units. */
  readonly divergence: number
  /** ⟨C, P_xy⟩ − ½⟨C, P_xx⟩ − ½⟨C, P_yy⟩: POT's `empirical_sinkhorn_divergence` before its clamp at 0. */
  readonly linearDivergence: number
  /** OT_ε(α, β), OT_ε(α, α), OT_ε(β, β). */
  readonly regularizedXY: number
  readonly regularizedXX: number
  readonly regularizedYY: number
  /** ⟨C, P⟩ of the three entropic plans. */
  readonly linearXY: number
  readonly linearXX: number
  readonly linearYY: number
  /** Potentials of OT_ε(α, β) (P = a⊗b·exp((f ⊕ g − C)/ε)). */
  readonly f: Float64Array
  readonly g: Float64Array
  /** Symmetric potentials of the self terms on x and on y. */
  readonly p: Float64Array
  readonly q: Float64Array
  /** The largest of the three marginal errors at each iteration. */
  readonly marginalErrors: ReadonlyArray<number>
}

/**
 * The solver output (`solve` adds status and iterations).
 *
 * @category models
 * @since 0.1.0
 */
export type SinkhornDivergenceOutput = Omit<SinkhornDivergenceResult, "status" | "iterations">

/** A self problem OT_ε(α, α) solved by symmetric updates. */
interface SelfState {
  readonly C: Matrix.Matrix
  readonly a: Float64Array
  readonly logA: Float64Array
  readonly p: Float64Array
  /** log Σ_j a_j exp((p_j − C_ij)/ε) for the current p. */
  readonly lse: Float64Array
  readonly shift: Float64Array
  readonly zeros: Float64Array
  error: number
}

/**
 * The solver state.
 *
 * @category models
 * @since 0.1.0
 */
export interface SinkhornDivergenceState {
  readonly epsilon: number
  readonly tolerance: number
  readonly cross: ScalingState
  readonly selfX: SelfState
  readonly selfY: SelfState
  readonly errors: number[]
}

const NAME = "SinkhornDivergence"

/** lse ← log Σ_j a_j exp((p_j − C_ij)/ε) and the marginal error 2‖P1 − a‖₁ of the current p. */
const refreshSelf = (s: SelfState, epsilon: number): void => {
  Blas1.copy(s.p, s.shift)
  Blas1.axpy(epsilon, s.logA, s.shift)
  Reductions.logSumExpAffineRows(s.C, s.zeros, s.shift, epsilon, s.lse)
  const inv = 1 / epsilon
  let e = 0
  for (let i = 0; i < s.a.length; i++) {
    const ai = s.a[i]!
    if (ai > 0) e += Math.abs(ai * Math.exp(s.p[i]! * inv + s.lse[i]!) - ai)
  }
  s.error = 2 * e
}

const initSelf = (C: Matrix.Matrix, a: Float64Array, epsilon: number): SelfState => {
  const n = a.length
  const s: SelfState = {
    C,
    a,
    logA: logOf(a),
    p: Vector.zeros(n),
    lse: Vector.zeros(n),
    shift: Vector.zeros(n),
    zeros: Vector.zeros(n),
    error: Number.POSITIVE_INFINITY
  }
  refreshSelf(s, epsilon)
  return s
}

/** p ← ½(p + T(p)), T(p) = −ε·lse, then the new error. */
const stepSelf = (s: SelfState, epsilon: number): void => {
  for (let i = 0; i < s.p.length; i++) s.p[i] = 0.5 * (s.p[i]! - epsilon * s.lse[i]!)
  refreshSelf(s, epsilon)
}

const errorOf = (s: SinkhornDivergenceState): number => Math.max(s.cross.error, s.selfX.error, s.selfY.error)

/**
 * The divergence as a `Solver.IterativeSolver`: each step advances the three
 * problems by one iteration (three or four fused passes).
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<
  SinkhornDivergenceProblem,
  SinkhornDivergenceOptions,
  SinkhornDivergenceState,
  SinkhornDivergenceOutput
> = {
  name: NAME,
  init: (problem, options) => {
    const epsilon = positiveFinite(
      NAME,
      "epsilon",
      options.epsilon ?? defaultSinkhornDivergenceOptions.epsilon
    )
    const tolerance = nonNegative(
      NAME,
      "tolerance",
      options.tolerance ?? defaultSinkhornDivergenceOptions.tolerance
    )
    const { a, b } = problem
    const Cxy = Geometry.materialize(problem.xy)
    const Cxx = Geometry.materialize(problem.xx)
    const Cyy = Geometry.materialize(problem.yy)
    checkSupport(NAME, Cxy, a, b)
    checkSupport(NAME, Cxx, a, a)
    checkSupport(NAME, Cyy, b, b)
    const inf = Number.POSITIVE_INFINITY
    const state: SinkhornDivergenceState = {
      epsilon,
      tolerance,
      cross: initScaling(Cxy, a, b, epsilon, inf, inf),
      selfX: initSelf(Cxx, a, epsilon),
      selfY: initSelf(Cyy, b, epsilon),
      errors: []
    }
    state.errors.push(errorOf(state))
    return state
  },
  step: (state) => {
    if (state.cross.error > state.tolerance) scalingStep(state.cross)
    if (state.selfX.error > state.tolerance) stepSelf(state.selfX, state.epsilon)
    if (state.selfY.error > state.tolerance) stepSelf(state.selfY, state.epsilon)
    state.errors.push(errorOf(state))
    return state
  },
  status: (state) => (errorOf(state) <= state.tolerance ? "converged" : undefined),
  residual: errorOf,
  metrics: (state) => ({
    marginalError: errorOf(state),
    crossError: state.cross.error,
    selfErrorX: state.selfX.error,
    selfErrorY: state.selfY.error
  }),
  output: (state) => divergenceOutput(state)
}

/** ⟨C, P⟩, ΣP of a self problem (P = a⊗a·exp((p ⊕ p − C)/ε)). */
const selfCost = (s: SelfState, epsilon: number) => linearCost(s.C, s.p, s.p, s.logA, s.logA, epsilon)

const divergenceOutput = (state: SinkhornDivergenceState): SinkhornDivergenceOutput => {
  const { epsilon, cross, selfX, selfY } = state
  const massA = Reductions.sum(cross.a)
  const massB = Reductions.sum(cross.b)
  const xy = linearCost(cross.C, cross.f, cross.g, cross.logA, cross.logB, epsilon)
  const xx = selfCost(selfX, epsilon)
  const yy = selfCost(selfY, epsilon)
  const regularizedXY =
    dotMass(cross.f, cross.a) + dotMass(cross.g, cross.b) - epsilon * (xy.mass - massA * massB)
  const regularizedXX = 2 * dotMass(selfX.p, selfX.a) - epsilon * (xx.mass - massA * massA)
  const regularizedYY = 2 * dotMass(selfY.p, selfY.a) - epsilon * (yy.mass - massB * massB)
  return {
    epsilon,
    divergence: regularizedXY - 0.5 * (regularizedXX + regularizedYY),
    linearDivergence: xy.cost - 0.5 * (xx.cost + yy.cost),
    regularizedXY,
    regularizedXX,
    regularizedYY,
    linearXY: xy.cost,
    linearXX: xx.cost,
    linearYY: yy.cost,
    f: Vector.clone(cross.f),
    g: Vector.clone(cross.g),
    p: Vector.clone(selfX.p),
    q: Vector.clone(selfY.p),
    marginalErrors: state.errors.slice()
  }
}

/** Σ w_i h_i over w_i > 0 (a zero weight's potential does not enter). */
const dotMass = (h: Float64Array, w: Float64Array): number => {
  let s = 0
  for (let i = 0; i < h.length; i++) if (w[i]! > 0) s += w[i]! * h[i]!
  return s
}

/**
 * Computes S_ε(α, β) (see the module comment).
 *
 * @example
 * const problem = SinkhornDivergence.pointClouds(x, y)
 * const { divergence, status } = SinkhornDivergence.solve(problem, { epsilon: 0.5 })
 * @throws InvalidOptions for ε ≤ 0 (or not finite), a negative tolerance or a bad iteration count.
 * @category solvers
 * @since 0.1.0
 */
export const solve = (
  problem: SinkhornDivergenceProblem,
  options: SinkhornDivergenceOptions = {}
): SinkhornDivergenceResult => {
  const maxIterations = integerAtLeast(
    NAME,
    "maxIterations",
    options.maxIterations ?? defaultSinkhornDivergenceOptions.maxIterations,
    0
  )
  return runToResult(solver, problem, options, { maxIterations })
}
