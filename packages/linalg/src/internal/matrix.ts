/**
 * Small dense-matrix helpers shared by the factorization and matrix-function
 * modules (`Cholesky`, `Lu`, `Expm`, `MatrixRoots`, `NewtonSchulz`), and the
 * option checks their iterations have in common. Vector-level work goes to
 * core's `Blas1`; what is left here has no kernel in `@descent/core`.
 *
 * @since 0.1.0
 */
import { Errors, type Matrix } from "@descent/core"

/**
 * A row-major `rows × cols` matrix over `buffer[offset … offset + rows·cols)`
 * (a view: no copy).
 *
 * @internal
 */
export const view = (buffer: Float64Array, rows: number, cols: number, offset = 0): Matrix.Matrix => ({
  rows,
  cols,
  data: buffer.subarray(offset, offset + rows * cols)
})

let columnSums = new Float64Array(0)

/**
 * ‖A‖₁, the largest absolute column sum (accumulated row by row, contiguously).
 * NaN and ±Infinity propagate (an overflowed power reports +∞).
 *
 * @internal
 */
export const norm1 = (A: Matrix.Matrix): number => {
  const { rows: m, cols: n, data: a } = A
  // A reused plain scratch: this is called several times per expm, where an
  // allocator round trip per call cost ~10 % of the time at n = 50.
  if (columnSums.length < n) columnSums = new Float64Array(n)
  const sums = columnSums
  sums.fill(0, 0, n)
  for (let i = 0; i < m; i++) {
    const r = i * n
    for (let j = 0; j < n; j++) sums[j] = sums[j]! + Math.abs(a[r + j]!)
  }
  let best = 0
  for (let j = 0; j < n; j++) if (!(sums[j]! <= best)) best = sums[j]!
  return best
}

/**
 * tr A = Σᵢ Aᵢᵢ of a square matrix.
 *
 * @internal
 */
export const trace = (A: Matrix.Matrix): number => {
  const { rows: n, data: a } = A
  let t = 0
  for (let i = 0; i < n; i++) t += a[i * n + i]!
  return t
}

/**
 * A ← A + c·I, in place (A square).
 *
 * @internal
 */
export const addToDiagonal = (A: Matrix.Matrix, c: number): void => {
  const { rows: n, data: a } = A
  for (let i = 0; i < n; i++) a[i * n + i] = a[i * n + i]! + c
}

/**
 * A ← (A + Aᵀ)/2, in place (A square).
 *
 * @internal
 */
export const symmetrize = (A: Matrix.Matrix): void => {
  const { rows: n, data: a } = A
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const v = 0.5 * (a[i * n + j]! + a[j * n + i]!)
      a[i * n + j] = v
      a[j * n + i] = v
    }
  }
}

/**
 * max|Mᵢⱼ − δᵢⱼ| of a square M: the residual of iterations that drive M to I.
 * NaN propagates.
 *
 * @internal
 */
export const maxAbsDeviationFromIdentity = (M: Matrix.Matrix): number => {
  const { rows: n, data: m } = M
  let r = 0
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const d = Math.abs(m[i * n + j]! - (i === j ? 1 : 0))
      if (!(d <= r)) r = d
    }
  }
  return r
}

/**
 * Throws `InvalidOptions` unless `value` is a finite number ≥ 0 (a ridge or a
 * guard ε).
 *
 * @internal
 */
export const checkNonNegative = (operation: string, field: string, value: number): void => {
  if (!(Number.isFinite(value) && value >= 0))
    throw new Errors.InvalidOptions({ operation, field, value, requirement: "a finite number ≥ 0" })
}

/**
 * Throws `InvalidOptions` unless `maxIterations` is an integer ≥ 1 and
 * `tolerance` a finite number > 0 (checked in that order).
 *
 * @internal
 */
export const checkIterationOptions = (operation: string, maxIterations: number, tolerance: number): void => {
  if (!(Number.isInteger(maxIterations) && maxIterations >= 1))
    throw new Errors.InvalidOptions({
      operation,
      field: "maxIterations",
      value: maxIterations,
      requirement: "an integer ≥ 1"
    })
  if (!(tolerance > 0 && Number.isFinite(tolerance)))
    throw new Errors.InvalidOptions({
      operation,
      field: "tolerance",
      value: tolerance,
      requirement: "a finite number > 0"
    })
}
