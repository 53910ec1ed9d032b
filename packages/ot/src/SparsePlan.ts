/**
 * Sparse transport plans: the exact solvers' plans have at most n + m − 1
 * nonzero entries (a basic solution of the transportation polytope is
 * supported on a spanning forest of the bipartite graph), so they return
 * them as coordinate lists (i, j, mass) and build the dense n × m matrix only
 * when asked.
 *
 * @since 0.1.0
 */
import { Matrix, Vector } from "@descent/core"
import { costAt, type Geometry } from "./Geometry.ts"

/**
 * A plan in coordinate form: entry k moves `mass[k]` from source `rows[k]`
 * to target `cols[k]`. A pair appears at most once; masses are ≥ 0 (a basic
 * entry of a degenerate solution may carry 0).
 *
 * @category models
 * @since 0.1.0
 */
export interface SparsePlan {
  /** Number of sources (n). */
  readonly sourceCount: number
  /** Number of targets (m). */
  readonly targetCount: number
  readonly rows: Int32Array
  readonly cols: Int32Array
  readonly mass: Float64Array
}

/**
 * The dense n × m plan.
 *
 * @category conversions
 * @since 0.1.0
 */
export const toDense = (plan: SparsePlan): Matrix.Matrix => {
  const P = Matrix.zeros(plan.sourceCount, plan.targetCount)
  for (let k = 0; k < plan.mass.length; k++)
    P.data[plan.rows[k]! * plan.targetCount + plan.cols[k]!]! += plan.mass[k]!
  return P
}

/**
 * Row sums P·1 (length n) and column sums Pᵀ·1 (length m).
 *
 * @category evaluators
 * @since 0.1.0
 */
export const marginals = (plan: SparsePlan): { readonly rows: Float64Array; readonly cols: Float64Array } => {
  const rows = Vector.zeros(plan.sourceCount)
  const cols = Vector.zeros(plan.targetCount)
  for (let k = 0; k < plan.mass.length; k++) {
    rows[plan.rows[k]!]! += plan.mass[k]!
    cols[plan.cols[k]!]! += plan.mass[k]!
  }
  return { rows, cols }
}

/**
 * ‖P·1 − a‖₁ + ‖Pᵀ·1 − b‖₁.
 *
 * @category evaluators
 * @since 0.1.0
 */
export const marginalError = (plan: SparsePlan, a: ArrayLike<number>, b: ArrayLike<number>): number => {
  const { rows, cols } = marginals(plan)
  let e = 0
  for (let i = 0; i < rows.length; i++) e += Math.abs(rows[i]! - a[i]!)
  for (let j = 0; j < cols.length; j++) e += Math.abs(cols[j]! - b[j]!)
  return e
}

/**
 * ⟨C, P⟩ = Σ_k mass_k · C(rows_k, cols_k) in the geometry's (normalized)
 * units. Zero-mass entries contribute nothing, even on a forbidden (+∞) pair.
 *
 * @category evaluators
 * @since 0.1.0
 */
export const cost = (plan: SparsePlan, geometry: Geometry): number => {
  let s = 0
  for (let k = 0; k < plan.mass.length; k++) {
    const m = plan.mass[k]!
    if (m !== 0) s += m * costAt(geometry, plan.rows[k]!, plan.cols[k]!)
  }
  return s
}
