/**
 * What every transport solver returns (OTT-JAX's solver outputs with their
 * convergence flags; POT's `log` dictionaries, typed): how the run ended, the
 * dual potentials, the transport cost, the marginal-error history, and the
 * plan, computed on demand (an n × m matrix is the expensive part and many
 * callers need only the cost or the potentials). Solvers extend it with
 * their own fields (regularized cost, ε history, Newton steps, …).
 *
 * Not converging is `status: "maxIterations"` (or `"diverged"` if a NaN
 * appeared, which the log-domain fallbacks are there to prevent), never a
 * silent wrong answer.
 *
 * @since 0.1.0
 */
import type { Matrix, Solver } from "@descent/core"

/**
 * The common result of transport solvers.
 *
 * @category models
 * @since 0.1.0
 */
export interface TransportResult {
  readonly status: Solver.Status
  readonly iterations: number
  /** Dual potential on the source points (length n), in the geometry's normalized cost units. */
  readonly f: Float64Array
  /** Dual potential on the target points (length m). */
  readonly g: Float64Array
  /** ⟨C, P⟩ in the geometry's normalized units (× `geometry.scale` for the original units). */
  readonly cost: number
  /** Marginal error ‖P·1 − a‖₁ + ‖Pᵀ·1 − b‖₁ at each convergence check (empty for exact solvers). */
  readonly marginalErrors: ReadonlyArray<number>
  /** The transport plan P (n × m), computed when called. */
  readonly plan: () => Matrix.Matrix
}
