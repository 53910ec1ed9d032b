/**
 * The inverse and log-determinant of M = sI − W∘W for DAGMA's inner loop, in
 * one pass, without pivoting, and with the M-matrix domain test built in.
 *
 * M is a Z-matrix (off-diagonal entries ≤ 0). A Z-matrix is a nonsingular
 * M-matrix exactly when all its leading principal minors are positive
 * (Berman & Plemmons, "Nonnegative Matrices in the Mathematical Sciences",
 * 1994, Thm. 6.2.3, condition (E17)), i.e. when every pivot of Gaussian
 * elimination without pivoting is positive; its inverse is then entrywise
 * ≥ 0 (condition (N38)). Elimination without pivoting is stable on M-matrices:
 * every Schur complement is again an M-matrix (Fiedler & Pták 1962), so no
 * row interchanges are needed and the sign pattern is kept in floating point
 * (the off-diagonal updates add terms of one sign).
 *
 * M (or Mᵀ) is written by core's `Elementwise.shiftedNegativeSquare`; the
 * inverse comes from core's Gauss–Jordan kernel
 * (`GaussJordan.invertPositivePivots`, d³ multiply–adds), which stops at the
 * first pivot ≤ 0 (or NaN), so the domain test is exact; log det M is the sum
 * of the pivots' logarithms. The reference code of DAGMA tests the computed
 * inverse for negative entries instead; the inverse is tested for negative
 * entries here as well.
 *
 * Internal: allocated once per learner (`makeMMatrixWorkspace`), no
 * allocation per call.
 *
 * @since 0.1.0
 * @internal
 */
import { Elementwise, GaussJordan, Matrix, Vector } from "@descent/core"

/**
 * Buffers for M = sI − W∘W of order d: `inverse` (M, overwritten by M⁻¹
 * after a successful call) and the elimination pivots.
 *
 * @internal
 */
export interface MMatrixWorkspace {
  readonly d: number
  readonly inverse: Matrix.Matrix
  readonly pivots: Float64Array
  /** The last W seen, as a d × d matrix (no record allocated per call). */
  source: Matrix.Matrix | undefined
}

/**
 * Allocates the buffers for order d (once per learner).
 *
 * @internal
 */
export const makeMMatrixWorkspace = (d: number): MMatrixWorkspace => ({
  d,
  inverse: Matrix.zeros(d, d),
  pivots: Vector.zeros(d),
  source: undefined
})

/**
 * Writes (sI − W∘W)⁻¹ into `workspace.inverse` — or its transpose
 * (sI − W∘W)⁻ᵀ = (sI − Wᵀ∘Wᵀ)⁻¹ when `transposed`, the form the gradient
 * 2W∘(sI − W∘W)⁻ᵀ reads in storage order — and returns whether sI − W∘W is
 * a nonsingular M-matrix (all pivots > 0, no NaN, no negative entry of the
 * computed inverse; otherwise the inverse is garbage). With `checkSigns`
 * false the last test is left to the caller (who reads the inverse anyway).
 * The log-determinant is left to `pivotLogDeterminant`, for the callers that
 * need it. `W` is d × d row-major.
 *
 * @internal
 */
export const invertShiftedSquare = (
  W: Float64Array,
  s: number,
  workspace: MMatrixWorkspace,
  transposed: boolean,
  checkSigns = true
): boolean => {
  const { d, inverse, pivots } = workspace
  let source = workspace.source
  if (source?.data !== W) source = workspace.source = Matrix.fromData(d, d, W)
  Elementwise.shiftedNegativeSquare(source, s, transposed, inverse)
  if (GaussJordan.invertPositivePivots(inverse, pivots) < d) return false
  if (!checkSigns) return true
  const x = inverse.data
  // The inverse of an M-matrix is ≥ 0; NaN fails the test too (no branch per entry).
  let ok = 1
  for (let k = 0; k < d * d; k++) ok &= +(x[k]! >= 0)
  return ok === 1
}

/** Products of pivots are logged before they leave this range (no underflow or overflow in between). */
const PRODUCT_BOUND = 1e150

/**
 * log det(sI − W∘W) = Σ log pivots of the last call of `invertShiftedSquare`
 * that returned true (the transpose has the same leading minors, hence the
 * same pivots' product). Pivots are multiplied in runs and one log taken per
 * run.
 *
 * @internal
 */
export const pivotLogDeterminant = (workspace: MMatrixWorkspace): number => {
  const { d, pivots } = workspace
  let logDet = 0
  let product = 1
  for (let i = 0; i < d; i++) {
    product *= pivots[i]!
    if (product < 1 / PRODUCT_BOUND || product > PRODUCT_BOUND) {
      logDet += Math.log(product)
      product = 1
    }
  }
  return logDet + Math.log(product)
}

/**
 * Writes (sI − W∘W)⁻¹ into `workspace.inverse` and returns
 * log det(sI − W∘W); returns −∞ (the inverse is then garbage) when
 * sI − W∘W is not a nonsingular M-matrix: a pivot ≤ 0, a NaN, or a negative
 * entry of the computed inverse. `W` is d × d row-major.
 *
 * @internal
 */
export const shiftedSquareInverse = (W: Float64Array, s: number, workspace: MMatrixWorkspace): number =>
  invertShiftedSquare(W, s, workspace, false) ? pivotLogDeterminant(workspace) : Number.NEGATIVE_INFINITY
