/**
 * Objectives and linear operators as first-order/second-order oracles, and
 * meters that count how often each oracle is called.
 *
 * Oracle counts — not wall time alone — are how optimization papers compare
 * methods (function evaluations, gradient evaluations, Hessian-vector products,
 * matrix-vector products); metering the oracle makes every solver report them
 * the same way.
 *
 * @since 0.1.0
 */
import * as Blas2 from "./Blas2.ts"
import { DimensionMismatch } from "./Errors.ts"
import type { Matrix } from "./Matrix.ts"

/**
 * A smooth objective f: ℝⁿ → ℝ.
 *
 * @category models
 * @since 0.1.0
 */
export interface Objective {
  /** n, the length of x. */
  readonly dimension: number
  /** f(x). */
  value(x: Float64Array): number
  /** Writes ∇f(x) into `gradient` and returns f(x). */
  valueAndGradient(x: Float64Array, gradient: Float64Array): number
  /** Writes ∇²f(x)·v into `out`, when the objective provides it. */
  readonly hessianVectorProduct?: (x: Float64Array, v: Float64Array, out: Float64Array) => void
}

/**
 * A linear map x ↦ A·x given by its action.
 *
 * @category models
 * @since 0.1.0
 */
export interface LinearOperator {
  readonly rows: number
  readonly cols: number
  /** out ← A·x. */
  apply(x: Float64Array, out: Float64Array): void
  /** out ← Aᵀ·x, when available. */
  readonly applyTranspose?: (x: Float64Array, out: Float64Array) => void
}

/**
 * Oracle call counts.
 *
 * @category models
 * @since 0.1.0
 */
export interface OracleCounts {
  value: number
  gradient: number
  hessianVector: number
  matvec: number
}

/**
 * An objective with its call counts.
 *
 * @category models
 * @since 0.1.0
 */
export interface MeteredObjective extends Objective {
  readonly counts: Readonly<OracleCounts>
  /** Sets every count back to zero. */
  reset(): void
}

/**
 * An operator with its call counts (`matvec` counts `apply` and `applyTranspose`).
 *
 * @category models
 * @since 0.1.0
 */
export interface MeteredOperator extends LinearOperator {
  readonly counts: Readonly<OracleCounts>
  reset(): void
}

/**
 * Fresh zero counts.
 *
 * @category constructors
 * @since 0.1.0
 */
export const zeroCounts = (): OracleCounts => ({ value: 0, gradient: 0, hessianVector: 0, matvec: 0 })

/**
 * Wraps `f` so that every oracle call is counted: `value` counts f(x),
 * `gradient` counts ∇f(x) (a `valueAndGradient` call counts once in each), and
 * `hessianVector` counts ∇²f(x)·v.
 *
 * @category constructors
 * @since 0.1.0
 */
export const meter = (f: Objective): MeteredObjective => {
  const counts = zeroCounts()
  const hvp = f.hessianVectorProduct
  const metered: MeteredObjective = {
    dimension: f.dimension,
    counts,
    value: (x) => {
      counts.value++
      return f.value(x)
    },
    valueAndGradient: (x, g) => {
      counts.value++
      counts.gradient++
      return f.valueAndGradient(x, g)
    },
    reset: () => {
      counts.value = 0
      counts.gradient = 0
      counts.hessianVector = 0
      counts.matvec = 0
    },
    ...(hvp === undefined
      ? {}
      : {
          hessianVectorProduct: (x: Float64Array, v: Float64Array, out: Float64Array) => {
            counts.hessianVector++
            hvp(x, v, out)
          }
        })
  }
  return metered
}

/**
 * Wraps `op` so that every application is counted in `matvec`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const meterOperator = (op: LinearOperator): MeteredOperator => {
  const counts = zeroCounts()
  const t = op.applyTranspose
  return {
    rows: op.rows,
    cols: op.cols,
    counts,
    apply: (x, out) => {
      counts.matvec++
      op.apply(x, out)
    },
    reset: () => {
      counts.matvec = 0
    },
    ...(t === undefined
      ? {}
      : {
          applyTranspose: (x: Float64Array, out: Float64Array) => {
            counts.matvec++
            t(x, out)
          }
        })
  }
}

/**
 * The operator of a dense matrix, applied with `gemv` / `gemvT`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const operatorFromMatrix = (A: Matrix): LinearOperator => ({
  rows: A.rows,
  cols: A.cols,
  apply: (x, out) => Blas2.gemv(1, A, x, 0, out),
  applyTranspose: (x, out) => Blas2.gemvT(1, A, x, 0, out)
})

/**
 * Throws `DimensionMismatch` unless `x` has the objective's dimension.
 *
 * @category guards
 * @since 0.1.0
 */
export const assertDimension = (operation: string, f: Objective, x: Float64Array): void => {
  if (x.length !== f.dimension) {
    throw new DimensionMismatch({ operation, what: "x", expected: [f.dimension], actual: [x.length] })
  }
}
