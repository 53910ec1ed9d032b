/**
 * Stabilized Sinkhorn with absorption (Schmitzer, "Stabilized Sparse Scaling
 * Algorithms for Entropy Regularized Transport Problems", SIAM J. Sci.
 * Comput. 41(3), 2019; POT's `sinkhorn_stabilized`). The scaling iterations
 * run on the stabilized kernel K̃_ij = exp((α_i + β_j − C_ij)/ε) with
 * scalings u, v kept in [1/τ, τ]; when one leaves, it is absorbed into the
 * potentials α, β and K̃ is rebuilt (an O(n²) pass of core's SIMD exp). The
 * iterations themselves cost what the scaling form costs (one gemv and one
 * gemvT), yet nothing under- or overflows at any ε: this is the fast choice
 * at small ε, combined with `EpsilonScaling` for the smallest.
 *
 * Same objective, conventions and result fields as `Sinkhorn` (potentials
 * f = α + ε·log u, g = β + ε·log v in cost units; `cost` = ⟨C, P⟩;
 * `regularizedCost` = ⟨C, P⟩ − ε·H(P)).
 *
 * @since 0.1.0
 */
import { type Solver, Vector } from "@descent/core"
import {
  type Common,
  dense,
  type EntropicFields,
  entropicOutput,
  invalid,
  positiveFinite,
  readCommon,
  readPotential,
  runToResult,
  scalingCost
} from "./internal/entropic.ts"
import {
  makeStabilized,
  type Stabilized,
  stabilizedIterate,
  stabilizedMarginals,
  stabilizedPotentials
} from "./internal/stabilized.ts"
import type { LinearProblem } from "./LinearProblem.ts"
import type { TransportResult } from "./TransportResult.ts"

/**
 * Options of `solve`.
 *
 * @category models
 * @since 0.1.0
 */
export interface SinkhornStabilizedOptions {
  /** ε > 0, in the geometry's (normalized) cost units. Default 0.01. */
  readonly epsilon?: number
  /** Stop when ‖P·1 − a‖₁ + ‖Pᵀ·1 − b‖₁ ≤ tolerance (≥ 0). Default 1e-9. */
  readonly tolerance?: number
  /** Iteration budget (≥ 0). Default 1000. */
  readonly maxIterations?: number
  /** Check and record the marginal error every this many iterations (≥ 1). Default 1. */
  readonly checkEvery?: number
  /** Absorb when a scaling leaves [1/τ, τ] (τ > 1). Default 1e4 (POT: 1e3). */
  readonly absorptionThreshold?: number
  /** Warm start: potentials f (length n) and g (length m) in cost units, both or neither. */
  readonly initialF?: ArrayLike<number>
  readonly initialG?: ArrayLike<number>
}

/**
 * Defaults of `SinkhornStabilizedOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultSinkhornStabilizedOptions = {
  epsilon: 0.01,
  tolerance: 1e-9,
  maxIterations: 1000,
  checkEvery: 1,
  absorptionThreshold: 1e4
} as const

/**
 * A stabilized Sinkhorn result.
 *
 * @category models
 * @since 0.1.0
 */
export interface SinkhornStabilizedResult extends TransportResult, EntropicFields {
  /** How many times the scalings were absorbed (kernel rebuilds). */
  readonly absorptions: number
}

/**
 * The solver state.
 *
 * @category models
 * @since 0.1.0
 */
export interface SinkhornStabilizedState {
  readonly problem: LinearProblem
  readonly core: Stabilized
  readonly common: Common
  readonly marginalErrors: number[]
  iteration: number
  error: number
}

type Output = Omit<SinkhornStabilizedResult, "status" | "iterations">

const NAME = "SinkhornStabilized"

/** The result fields of a stabilized state (shared with `EpsilonScaling`). */
export const stabilizedOutput = (
  problem: LinearProblem,
  core: Stabilized,
  marginalErrors: ReadonlyArray<number>,
  error: number
): Output => {
  const { n, m, C } = core.d
  const f = Vector.zeros(n)
  const g = Vector.zeros(m)
  const r = Vector.zeros(n)
  const c = Vector.zeros(m)
  stabilizedPotentials(core, f, g)
  stabilizedMarginals(core, r, c)
  return {
    ...entropicOutput(
      problem,
      scalingCost(C, core.K, core.u, core.v),
      f,
      g,
      r,
      c,
      core.epsilon,
      marginalErrors,
      error,
      undefined
    ),
    absorptions: core.absorptions
  }
}

/**
 * Stabilized Sinkhorn as a `Solver.IterativeSolver`.
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<
  LinearProblem,
  SinkhornStabilizedOptions,
  SinkhornStabilizedState,
  Output
> = {
  name: NAME,
  init: (problem, options) => {
    const defaults = defaultSinkhornStabilizedOptions
    const common = readCommon(NAME, options, defaults)
    const tau = positiveFinite(
      NAME,
      "absorptionThreshold",
      options.absorptionThreshold ?? defaults.absorptionThreshold
    )
    if (!(tau > 1)) throw invalid(NAME, "absorptionThreshold", tau, "a finite number > 1")
    const d = dense(NAME, problem)
    const f0 = readPotential(NAME, "initialF", options.initialF, d.n)
    const g0 = readPotential(NAME, "initialG", options.initialG, d.m)
    const core =
      f0 !== undefined && g0 !== undefined
        ? makeStabilized(d, common.epsilon, tau, f0, g0)
        : makeStabilized(d, common.epsilon, tau)
    return { problem, core, common, marginalErrors: [], iteration: 0, error: problem.massA + problem.massB }
  },
  step: (s) => {
    stabilizedIterate(s.core)
    s.iteration++
    s.error = s.core.rowError + s.core.colError
    if (s.iteration % s.common.checkEvery === 0) s.marginalErrors.push(s.error)
    return s
  },
  status: (s) => (s.error <= s.common.tolerance ? "converged" : undefined),
  residual: (s) => s.error,
  metrics: (s) => ({ marginalError: s.error, absorptions: s.core.absorptions }),
  output: (s) => stabilizedOutput(s.problem, s.core, s.marginalErrors, s.error)
}

/**
 * Solves the entropic problem by stabilized Sinkhorn iterations.
 *
 * @example
 * const result = SinkhornStabilized.solve(problem, { epsilon: 1e-3, maxIterations: 20_000 })
 * @throws InvalidOptions when an option is out of range (e.g. ε ≤ 0, τ ≤ 1) or a point of positive mass has no allowed pair.
 * @category solvers
 * @since 0.1.0
 */
export const solve = (
  problem: LinearProblem,
  options: SinkhornStabilizedOptions = {}
): SinkhornStabilizedResult =>
  runToResult(solver, problem, options, {
    maxIterations: options.maxIterations ?? defaultSinkhornStabilizedOptions.maxIterations,
    checkEvery: options.checkEvery ?? defaultSinkhornStabilizedOptions.checkEvery
  })
