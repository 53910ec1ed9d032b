/**
 * Entropic unbalanced optimal transport: marginals relaxed by KL penalties
 * instead of imposed, so mass may be created or destroyed where moving it
 * costs more than the penalty (Chizat, Peyré, Schmitzer & Vialard, "Scaling
 * algorithms for unbalanced optimal transport problems", Math. Comp. 2018;
 * Séjourné, Feydy, Vialard, Trouvé & Peyré, "Sinkhorn divergences for
 * unbalanced optimal transport", 2019):
 *
 *   min_{P ≥ 0} ⟨C, P⟩ + ε·KL(P | a⊗b) + ρ_a·KL(P·1 | a) + ρ_b·KL(Pᵀ·1 | b),
 *
 * with the generalized KL(p | q) = Σ p log(p/q) − p + q everywhere, and
 * ρ_a, ρ_b from the `LinearProblem` (`rhoA`, `rhoB`; ∞ keeps that marginal a
 * hard constraint, so ρ_a = ρ_b = ∞ is balanced Sinkhorn and ρ_a = ∞ with
 * finite ρ_b the semi-relaxed problem). This is POT's
 * `ot.unbalanced.sinkhorn_unbalanced` with `reg_type="kl"`, `reg = ε`,
 * `reg_m = (ρ_a, ρ_b)` (same plan; POT's `log["total_cost"]` drops the mass
 * terms of the KLs, `objective` here keeps them).
 *
 * Updates (Chizat et al., Prop. 3.1 in the log domain): with the plan
 * P_ij = a_i b_j exp((f_i + g_j − C_ij)/ε),
 *
 *   f_i ← −τ_a·ε·log Σ_j b_j exp((g_j − C_ij)/ε),   τ_a = ρ_a/(ρ_a + ε),
 *   g_j ← −τ_b·ε·log Σ_i a_i exp((f_i − C_ij)/ε),   τ_b = ρ_b/(ρ_b + ε),
 *
 * each one fused pass of core's `Reductions.logSumExpAffineRows/Cols`, so no
 * ε underflows. At the fixed point P·1 = a·exp(−f/ρ_a) and
 * Pᵀ·1 = b·exp(−g/ρ_b): the stopping test is the L1 distance of the plan's
 * marginals to these (for ρ = ∞, to a and b), which is `marginalErrors`.
 * `f`, `g` are the dual potentials of the problem above: the dual objective
 *
 *   −ρ_a⟨a, e^{−f/ρ_a} − 1⟩ − ρ_b⟨b, e^{−g/ρ_b} − 1⟩ − ε⟨a⊗b, e^{(f⊕g−C)/ε} − 1⟩
 *
 * (⟨a, f⟩ for ρ_a = ∞) equals `objective` at the optimum. Note this is the
 * convention P = a⊗b·exp(…), under which potentials differ from those of
 * `SinkhornLog` (P = exp((f + g − C)/ε)) by ε·log a and ε·log b.
 *
 * Point-cloud geometries are materialized once (n·m doubles).
 *
 * @since 0.1.0
 */
import { Matrix, type Solver, Vector } from "@descent/core"
import * as Geometry from "./Geometry.ts"
import { runToResult } from "./internal/entropic.ts"
import {
  checkSupport,
  colMarginal,
  generalizedKl,
  initScaling,
  integerAtLeast,
  linearCost,
  nonNegative,
  planInto,
  positiveFinite,
  readPotentialInto,
  rowMarginal,
  type ScalingState,
  scalingStep
} from "./internal/logScaling.ts"
import type { LinearProblem } from "./LinearProblem.ts"
import type { TransportResult } from "./TransportResult.ts"

/**
 * Options of `solve`.
 *
 * @category models
 * @since 0.1.0
 */
export interface UnbalancedSinkhornOptions {
  /** ε > 0, in the geometry's (normalized) cost units. Default 0.01. */
  readonly epsilon?: number
  /**
   * Stop when ‖P·1 − a·e^{−f/ρ_a}‖₁ + ‖Pᵀ·1 − b·e^{−g/ρ_b}‖₁ ≤ tolerance (≥ 0):
   * the distance to the optimality conditions (the marginal error when
   * balanced). Default 1e-9.
   */
  readonly tolerance?: number
  /** Iteration budget (≥ 0). Default 1000. */
  readonly maxIterations?: number
  /** Check and record the error every this many iterations (≥ 1). Default 1. */
  readonly checkEvery?: number
  /** Warm start: the source potential f (length n, this module's convention). Default 0. */
  readonly initialF?: ArrayLike<number>
}

/**
 * Defaults of `UnbalancedSinkhornOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultUnbalancedSinkhornOptions = {
  epsilon: 0.01,
  tolerance: 1e-9,
  maxIterations: 1000,
  checkEvery: 1
} as const

/**
 * An unbalanced Sinkhorn result. `cost` is ⟨C, P⟩ (POT's
 * `sinkhorn_unbalanced2` with `returnCost="linear"`), in normalized units.
 *
 * @category models
 * @since 0.1.0
 */
export interface UnbalancedSinkhornResult extends TransportResult {
  readonly epsilon: number
  readonly rhoA: number
  readonly rhoB: number
  /** The primal objective ⟨C, P⟩ + ε·KL(P | a⊗b) + ρ_a·KL(P·1 | a) + ρ_b·KL(Pᵀ·1 | b) (ρ = ∞ terms omitted). */
  readonly objective: number
  /** The dual objective at (f, g) (see the module comment); ≤ `objective`, equal at the optimum. */
  readonly dualObjective: number
  /** Total transported mass Σ P_ij. */
  readonly mass: number
  /** P·1. */
  readonly rowMarginal: Float64Array
  /** Pᵀ·1. */
  readonly colMarginal: Float64Array
  /** The last error (see `tolerance`). */
  readonly marginalError: number
}

/**
 * The solver output (`solve` adds status and iterations).
 *
 * @category models
 * @since 0.1.0
 */
export type UnbalancedSinkhornOutput = Omit<UnbalancedSinkhornResult, "status" | "iterations">

/**
 * The solver state: the scaling iterations and the error history.
 *
 * @category models
 * @since 0.1.0
 */
export interface UnbalancedSinkhornState {
  readonly problem: LinearProblem
  readonly scaling: ScalingState
  readonly tolerance: number
  readonly checkEvery: number
  readonly errors: number[]
  iteration: number
}

const NAME = "UnbalancedSinkhorn"

/**
 * Unbalanced Sinkhorn as a `Solver.IterativeSolver`: one step is one f- and
 * one g-update (two fused passes over C).
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<
  LinearProblem,
  UnbalancedSinkhornOptions,
  UnbalancedSinkhornState,
  UnbalancedSinkhornOutput
> = {
  name: NAME,
  init: (problem, options) => {
    const epsilon = positiveFinite(
      NAME,
      "epsilon",
      options.epsilon ?? defaultUnbalancedSinkhornOptions.epsilon
    )
    const tolerance = nonNegative(
      NAME,
      "tolerance",
      options.tolerance ?? defaultUnbalancedSinkhornOptions.tolerance
    )
    const checkEvery = integerAtLeast(
      NAME,
      "checkEvery",
      options.checkEvery ?? defaultUnbalancedSinkhornOptions.checkEvery,
      1
    )
    const C = Geometry.materialize(problem.geometry)
    checkSupport(NAME, C, problem.a, problem.b)
    const f0 = readPotentialInto(NAME, "initialF", options.initialF, C.rows)
    const scaling = initScaling(C, problem.a, problem.b, epsilon, problem.rhoA, problem.rhoB, f0)
    return { problem, scaling, tolerance, checkEvery, errors: [scaling.error], iteration: 0 }
  },
  step: (state) => {
    scalingStep(state.scaling)
    state.iteration++
    if (state.iteration % state.checkEvery === 0) state.errors.push(state.scaling.error)
    return state
  },
  status: (state) =>
    state.iteration % state.checkEvery === 0 && state.scaling.error <= state.tolerance
      ? "converged"
      : undefined,
  residual: (state) => state.scaling.error,
  metrics: (state) => ({ marginalError: state.scaling.error }),
  output: (state) => unbalancedOutput(state.scaling, state.errors)
}

/** The result fields of a scaling state (copies of the potentials). */
const unbalancedOutput = (s: ScalingState, errors: ReadonlyArray<number>): UnbalancedSinkhornOutput => {
  const n = s.a.length
  const m = s.b.length
  const f = Vector.clone(s.f)
  const g = Vector.clone(s.g)
  const r = rowMarginal(s, Vector.zeros(n))
  const c = colMarginal(s, Vector.zeros(m))
  const { cost, mass } = linearCost(s.C, f, g, s.logA, s.logB, s.epsilon)
  const { epsilon, rhoA, rhoB, a, b, C, logA, logB } = s
  let massA = 0
  let massB = 0
  for (let i = 0; i < n; i++) massA += a[i]!
  for (let j = 0; j < m; j++) massB += b[j]!
  // ⟨C, P⟩ + ε·KL(P | a⊗b) = ⟨f, r⟩ + ⟨g, c⟩ − ε·(ΣP − ΣaΣb) for P of this form.
  let entropic = -epsilon * (mass - massA * massB)
  for (let i = 0; i < n; i++) if (r[i]! > 0) entropic += f[i]! * r[i]!
  for (let j = 0; j < m; j++) if (c[j]! > 0) entropic += g[j]! * c[j]!
  let objective = entropic
  if (rhoA !== Number.POSITIVE_INFINITY) objective += rhoA * generalizedKl(r, a)
  if (rhoB !== Number.POSITIVE_INFINITY) objective += rhoB * generalizedKl(c, b)
  const dualObjective = dualTerm(f, a, rhoA) + dualTerm(g, b, rhoB) - epsilon * (mass - massA * massB)
  return {
    f,
    g,
    cost,
    marginalErrors: errors.slice(),
    plan: () => planInto(C, f, g, logA, logB, epsilon, Matrix.zeros(n, m)),
    epsilon,
    rhoA,
    rhoB,
    objective,
    dualObjective,
    mass,
    rowMarginal: r,
    colMarginal: c,
    marginalError: s.error
  }
}

/** −ρ⟨w, e^{−h/ρ} − 1⟩, or ⟨w, h⟩ for ρ = ∞ (zero weights skipped). */
const dualTerm = (h: Float64Array, w: Float64Array, rho: number): number => {
  let s = 0
  for (let i = 0; i < h.length; i++) {
    const wi = w[i]!
    if (wi === 0) continue
    s += rho === Number.POSITIVE_INFINITY ? wi * h[i]! : -rho * wi * Math.expm1(-h[i]! / rho)
  }
  return s
}

/**
 * Solves the entropic unbalanced problem (see the module comment).
 *
 * @example
 * const problem = LinearProblem.make(Geometry.fromCostMatrix(C), { a, b, rhoA: 1, rhoB: 1 })
 * const { plan, objective, status } = UnbalancedSinkhorn.solve(problem, { epsilon: 0.05 })
 * @throws InvalidOptions for ε ≤ 0 (or not finite), a negative tolerance, a bad
 *   iteration count, or a point of positive mass with no finite cost to the other side.
 * @throws DimensionMismatch, NonFiniteInput for a bad `initialF`.
 * @category solvers
 * @since 0.1.0
 */
export const solve = (
  problem: LinearProblem,
  options: UnbalancedSinkhornOptions = {}
): UnbalancedSinkhornResult => {
  const maxIterations = integerAtLeast(
    NAME,
    "maxIterations",
    options.maxIterations ?? defaultUnbalancedSinkhornOptions.maxIterations,
    0
  )
  return runToResult(solver, problem, options, { maxIterations })
}
