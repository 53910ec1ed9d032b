/**
 * Sinkhorn's algorithm in scaling form (Cuturi, "Sinkhorn Distances:
 * Lightspeed Computation of Optimal Transport", NeurIPS 2013): the entropic
 * problem
 *
 *   min_{P ≥ 0, P·1 = a, Pᵀ·1 = b} ⟨C, P⟩ − ε·H(P),   H(P) = −Σ P_ij (log P_ij − 1),
 *
 * has the solution P = diag(u)·K·diag(v), K = exp(−C/ε), and alternating
 * projections on the two marginal constraints are the updates
 *
 *   v ← b ⊘ (Kᵀu),   u ← a ⊘ (K v).
 *
 * Each iteration is one sweep over K in row blocks: K_B·v (core's SIMD
 * `gemv`), u_B, then Kᵀu accumulated from the same block while it is still in
 * cache (`gemvT`), so the kernel is read from memory once per iteration.
 * After an iteration the row marginals are exact and both marginal errors
 * come for free (‖u ∘ Kv − a‖₁ + ‖v ∘ Kᵀu − b‖₁).
 *
 * Small ε never yields NaN: when exp(−C/ε) is not a normal double for some
 * finite cost (|C_ij|/ε > 700, e.g. ε < 1.4·10⁻³ on costs normalized to
 * [0, 1]) the solver starts in the log domain (`SinkhornLog`'s updates); when
 * during the run a product Kv or Kᵀu underflows (below 10⁻²⁸⁰) or overflows,
 * it switches to the log domain from the last valid scaling and goes on there
 * (`switchedToLogAt` records when). Forbidden pairs (C_ij = +∞) give K_ij = 0.
 * On an online point cloud (`Geometry.pointCloud` with `online`, the default
 * beyond 2²⁴ pairs) there is no kernel matrix to keep: the solver runs the
 * log-domain updates with the costs recomputed in row blocks, and memory
 * stays O(n + m).
 *
 * Potentials are reported in cost units, f = ε·log u, g = ε·log v (−∞ on
 * points of zero mass), as POT's `ot.sinkhorn` log's `u`, `v` up to
 * f ↦ f + t, g ↦ g − t. `cost` is ⟨C, P⟩ (POT's `sinkhorn2`),
 * `regularizedCost` is ⟨C, P⟩ − ε·H(P).
 *
 * @since 0.1.0
 */
import type { Solver } from "@descent/core"
import {
  type PlainFields,
  type PlainOptions,
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
export interface SinkhornOptions {
  /** ε > 0, in the geometry's (normalized) cost units. Default 0.05. */
  readonly epsilon?: number
  /** Stop when ‖P·1 − a‖₁ + ‖Pᵀ·1 − b‖₁ ≤ tolerance (≥ 0). Default 1e-9. */
  readonly tolerance?: number
  /** Iteration budget (≥ 0; one iteration updates v, then u). Default 1000, as POT. */
  readonly maxIterations?: number
  /** Check and record the marginal error every this many iterations (≥ 1). Default 1 (the check is O(n)). */
  readonly checkEvery?: number
  /** Continue in the log domain when the scalings underflow or overflow (else stop as `diverged`). Default true. */
  readonly logFallback?: boolean
  /** Warm start: the source potential f (cost units, length n). Default 0. */
  readonly initialF?: ArrayLike<number>
}

/**
 * Defaults of `SinkhornOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultSinkhornOptions = {
  epsilon: 0.05,
  tolerance: 1e-9,
  maxIterations: 1000,
  checkEvery: 1,
  logFallback: true
} as const

/**
 * A Sinkhorn result.
 *
 * @category models
 * @since 0.1.0
 */
export interface SinkhornResult extends TransportResult, PlainFields {}

/**
 * The solver state (buffers mutated by `step`).
 *
 * @category models
 * @since 0.1.0
 */
export type SinkhornState = PlainState

/**
 * Scaling-form Sinkhorn as a `Solver.IterativeSolver`.
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<LinearProblem, SinkhornOptions, SinkhornState, PlainOutput> =
  plainSolver("Sinkhorn", true, defaultSinkhornOptions)

/**
 * Solves the entropic problem by Sinkhorn's scaling iterations.
 *
 * @example
 * const result = Sinkhorn.solve(problem, { epsilon: 0.05 })
 * if (result.status === "converged") console.log(result.cost, result.plan())
 * @throws InvalidOptions when an option is out of range (e.g. ε ≤ 0) or a point of positive mass has no allowed pair.
 * @throws DimensionMismatch, NonFiniteInput for a bad `initialF`.
 * @category solvers
 * @since 0.1.0
 */
export const solve = (problem: LinearProblem, options: SinkhornOptions = {}): SinkhornResult =>
  solvePlain(solver, problem, options satisfies PlainOptions, defaultSinkhornOptions)
