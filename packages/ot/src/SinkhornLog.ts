/**
 * Sinkhorn's algorithm in the log domain (Peyré & Cuturi, "Computational
 * Optimal Transport", 2019, §4.4; Schmitzer 2019, §3.1): the same alternating
 * projections as `Sinkhorn`, written on the potentials f = ε·log u,
 * g = ε·log v so that nothing underflows at any ε:
 *
 *   g_j ← ε·log b_j − ε·LSE_i((f_i − C_ij)/ε),
 *   f_i ← ε·log a_i − ε·LSE_j((g_j − C_ij)/ε).
 *
 * Each half step is one call of core's fused kernels
 * (`Reductions.logSumExpAffineCols` / `logSumExpAffineRows`: one SIMD pass
 * over C, no n × m temporaries). The column sums of the last half step are
 * kept for the next column update, and they give the column marginal
 * exp(g_j/ε + LSE_i(…)), so the marginal error costs O(n) per iteration.
 *
 * On an online point cloud (`Geometry.pointCloud` with `online`, the default
 * beyond 2²⁴ pairs) the costs are recomputed in row blocks inside each pass
 * and never stored: memory O(n + m), about 1.5× the time per iteration.
 *
 * Forbidden pairs (C_ij = +∞) contribute nothing to the sums; points of zero
 * mass get the potential −∞. Use this solver for small ε or +∞ costs; at
 * moderate ε the scaling form (`Sinkhorn`) is several times faster per
 * iteration and switches to these updates by itself when it must.
 *
 * @since 0.1.0
 */
import type { Solver } from "@descent/core"
import {
  type PlainFields,
  type PlainOutput,
  type PlainState,
  plainSolver,
  solvePlain
} from "./internal/plainSinkhorn.ts"
import type { LinearProblem } from "./LinearProblem.ts"
import type { TransportResult } from "./TransportResult.ts"

/**
 * Options of `solve`.
 *
 * @category models
 * @since 0.1.0
 */
export interface SinkhornLogOptions {
  /** ε > 0, in the geometry's (normalized) cost units. Default 0.01. */
  readonly epsilon?: number
  /** Stop when ‖P·1 − a‖₁ + ‖Pᵀ·1 − b‖₁ ≤ tolerance (≥ 0). Default 1e-9. */
  readonly tolerance?: number
  /** Iteration budget (≥ 0). Default 1000. */
  readonly maxIterations?: number
  /** Check and record the marginal error every this many iterations (≥ 1). Default 1. */
  readonly checkEvery?: number
  /** Warm start: the source potential f (cost units, length n). Default 0. */
  readonly initialF?: ArrayLike<number>
}

/**
 * Defaults of `SinkhornLogOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultSinkhornLogOptions = {
  epsilon: 0.01,
  tolerance: 1e-9,
  maxIterations: 1000,
  checkEvery: 1
} as const

/**
 * A log-domain Sinkhorn result (`domain` is always `"log"`).
 *
 * @category models
 * @since 0.1.0
 */
export interface SinkhornLogResult extends TransportResult, PlainFields {}

/**
 * The solver state.
 *
 * @category models
 * @since 0.1.0
 */
export type SinkhornLogState = PlainState

/**
 * Log-domain Sinkhorn as a `Solver.IterativeSolver`.
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<
  LinearProblem,
  SinkhornLogOptions,
  SinkhornLogState,
  PlainOutput
> = plainSolver("SinkhornLog", false, { ...defaultSinkhornLogOptions, logFallback: true })

/**
 * Solves the entropic problem by log-domain Sinkhorn iterations.
 *
 * @example
 * const result = SinkhornLog.solve(problem, { epsilon: 1e-3, maxIterations: 10_000 })
 * @throws InvalidOptions when an option is out of range (e.g. ε ≤ 0) or a point of positive mass has no allowed pair.
 * @category solvers
 * @since 0.1.0
 */
export const solve = (problem: LinearProblem, options: SinkhornLogOptions = {}): SinkhornLogResult =>
  solvePlain(solver, problem, options, defaultSinkhornLogOptions)
