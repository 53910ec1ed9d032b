/**
 * Small dense kernels shared by the likelihood- and score-based learners
 * (GOLEM, CoLiDE, COSMO, TOPO): residual covariances of a linear SEM computed
 * from the sample covariance, log-determinants and inverse transposes through
 * `@descent/linalg`'s LU, and the l1 subgradient. Internal: not exported from
 * the package.
 *
 * @since 0.1.0
 * @internal
 */
import { Blas3, Matrix, Memory, Vector } from "@descent/core"
import { Lu } from "@descent/linalg"
import * as Dag from "../Dag.ts"

/**
 * Residual covariance of the linear SEM X = X·W + E from the sample
 * covariance S = XᵀX/n: with R = I − W, writes R into `R`, Q = S·R into `Q`,
 * and the per-node residual variances rⱼ = [RᵀSR]ⱼⱼ = ‖Xⱼ − X·Wⱼ‖²/n =
 * Σᵢ Rᵢⱼ·Qᵢⱼ into `columnResidual` (length d). Returns Σⱼ rⱼ = ‖X − XW‖²_F/n.
 *
 * @internal
 */
export const residualCovariance = (
  S: Matrix.Matrix,
  W: Float64Array,
  R: Matrix.Matrix,
  Q: Matrix.Matrix,
  columnResidual: Float64Array
): number => {
  const d = S.rows
  const r = R.data
  for (let k = 0; k < d * d; k++) r[k] = -W[k]!
  for (let i = 0; i < d; i++) r[i * d + i] = r[i * d + i]! + 1
  Blas3.gemm(false, false, 1, S, R, 0, Q)
  const q = Q.data
  columnResidual.fill(0)
  for (let i = 0; i < d; i++) {
    const row = i * d
    for (let j = 0; j < d; j++) columnResidual[j] = columnResidual[j]! + r[row + j]! * q[row + j]!
  }
  let total = 0
  for (let j = 0; j < d; j++) total += columnResidual[j]!
  return total
}

/**
 * The LU of the square matrix `A`: log|det A| and, when A is nonsingular,
 * A⁻ᵀ written into `inverseTranspose`. Returns `undefined` for an exactly
 * singular A (a zero pivot) or one with a NaN or infinite entry (a diverged
 * iterate), which callers treat as leaving the domain. The LU buffers are returned to core's allocator
 * at once, so a learner calling this every iteration does not grow memory.
 *
 * @internal
 */
export const logAbsDetAndInverseTranspose = (
  A: Matrix.Matrix,
  identity: Matrix.Matrix,
  inverseTranspose: Matrix.Matrix
): { readonly logAbsDet: number; readonly sign: -1 | 0 | 1 } | undefined => {
  if (Vector.findNonFinite(A.data) >= 0) return undefined
  const f = Lu.factor(A)
  try {
    if (f.zeroPivot >= 0) return undefined
    const det = Lu.logAbsDeterminant(f)
    const inverse = Lu.solveMatrix(f, identity)
    Matrix.transposeInto(inverse, inverseTranspose)
    Memory.free(inverse.data)
    return det
  } finally {
    Memory.free(f.lu.data)
  }
}

/**
 * ‖W‖₁ = Σ|Wᵢⱼ|.
 *
 * @internal
 */
export const l1Norm = (W: Float64Array): number => {
  let s = 0
  for (let k = 0; k < W.length; k++) s += Math.abs(W[k]!)
  return s
}

/**
 * Adds λ·sign(W) (the l1 subgradient with sign(0) = 0, as autodiff of |·|
 * gives) into `gradient`.
 *
 * @internal
 */
export const addL1Subgradient = (lambda: number, W: Float64Array, gradient: Float64Array): void => {
  if (lambda === 0) return
  for (let k = 0; k < W.length; k++) {
    const w = W[k]!
    if (w > 0) gradient[k] = gradient[k]! + lambda
    else if (w < 0) gradient[k] = gradient[k]! - lambda
  }
}

/**
 * Zeroes the diagonal of the d × d row-major `A` (self-loops are not
 * parameters of a DAG).
 *
 * @internal
 */
export const zeroDiagonal = (A: Float64Array, d: number): void => {
  for (let i = 0; i < d; i++) A[i * d + i] = 0
}

/**
 * The learned graph of raw weights: the diagonal dropped, entries with
 * |Wᵢⱼ| < threshold zeroed, then the weakest edges removed until the graph is
 * acyclic (`Dag.pruneToDag`, GOLEM's `threshold_till_dag`). Always a DAG.
 *
 * @internal
 */
export const thresholdedDag = (weights: Float64Array, d: number, threshold: number): Matrix.Matrix => {
  const W = Matrix.fromData(d, d, Vector.clone(weights))
  zeroDiagonal(W.data, d)
  for (let k = 0; k < d * d; k++) if (W.data[k]! - W.data[k]! !== 0) W.data[k] = 0
  return Dag.pruneToDag(W, { threshold }).W
}
