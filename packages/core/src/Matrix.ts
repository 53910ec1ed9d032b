/**
 * Dense row-major matrices: `{ rows, cols, data }` with `data[i * cols + j] = A[i, j]`.
 *
 * A plain record rather than a class, so matrices serialize, structured-clone
 * across workers and destructure freely. Constructors allocate through core's
 * allocator (see `Vector`).
 *
 * @since 0.1.0
 */
import { DimensionMismatch } from "./Errors.ts"
import * as Vector from "./Vector.ts"

/**
 * A dense row-major matrix of float64 values.
 *
 * @category models
 * @since 0.1.0
 */
export interface Matrix {
  readonly rows: number
  readonly cols: number
  /** Row-major entries; length `rows * cols`. */
  readonly data: Float64Array
}

const checkDims = (operation: string, rows: number, cols: number): void => {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw new RangeError(`${operation}: shape (${rows}, ${cols}) is not a pair of non-negative integers`)
  }
}

/**
 * A `rows × cols` matrix of zeros.
 *
 * @category constructors
 * @since 0.1.0
 */
export const zeros = (rows: number, cols: number): Matrix => {
  checkDims("Matrix.zeros", rows, cols)
  return { rows, cols, data: Vector.zeros(rows * cols) }
}

/**
 * A `rows × cols` matrix with every entry `value`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const full = (rows: number, cols: number, value: number): Matrix => {
  const A = zeros(rows, cols)
  A.data.fill(value)
  return A
}

/**
 * The `n × n` identity.
 *
 * @category constructors
 * @since 0.1.0
 */
export const identity = (n: number): Matrix => {
  const A = zeros(n, n)
  for (let i = 0; i < n; i++) A.data[i * n + i] = 1
  return A
}

/**
 * A square matrix with `d` on its diagonal.
 *
 * @category constructors
 * @since 0.1.0
 */
export const diag = (d: ArrayLike<number>): Matrix => {
  const n = d.length
  const A = zeros(n, n)
  for (let i = 0; i < n; i++) A.data[i * n + i] = d[i]!
  return A
}

/**
 * A matrix from an array of equally long rows. `fromRows([])` is the 0 × 0 matrix;
 * pass `cols` to build a 0 × cols matrix.
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromRows = (rowsIn: ReadonlyArray<ArrayLike<number>>, cols?: number): Matrix => {
  const m = rowsIn.length
  const n = cols ?? (m > 0 ? rowsIn[0]!.length : 0)
  const A = zeros(m, n)
  for (let i = 0; i < m; i++) {
    const r = rowsIn[i]!
    if (r.length !== n) {
      throw new DimensionMismatch({
        operation: "Matrix.fromRows",
        what: `row ${i}`,
        expected: [n],
        actual: [r.length]
      })
    }
    for (let j = 0; j < n; j++) A.data[i * n + j] = r[j]!
  }
  return A
}

/**
 * A matrix that wraps (does not copy) row-major `data` of length `rows * cols`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromData = (rows: number, cols: number, data: Float64Array): Matrix => {
  checkDims("Matrix.fromData", rows, cols)
  if (data.length !== rows * cols) {
    throw new DimensionMismatch({
      operation: "Matrix.fromData",
      what: "data",
      expected: [rows * cols],
      actual: [data.length]
    })
  }
  return { rows, cols, data }
}

/**
 * A deep copy of `A`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const clone = (A: Matrix): Matrix => ({ rows: A.rows, cols: A.cols, data: Vector.clone(A.data) })

/**
 * The rows of `A` as nested JS arrays (for printing and JSON).
 *
 * @category conversions
 * @since 0.1.0
 */
export const toRows = (A: Matrix): number[][] => {
  const out: number[][] = []
  for (let i = 0; i < A.rows; i++) out.push(Array.from(A.data.subarray(i * A.cols, (i + 1) * A.cols)))
  return out
}

/**
 * Row `i` of `A` as a view sharing `A`'s storage (writes go through).
 *
 * @category views
 * @since 0.1.0
 */
export const row = (A: Matrix, i: number): Float64Array => {
  if (!Number.isInteger(i) || i < 0 || i >= A.rows)
    throw new RangeError(`Matrix.row: row ${i} is outside 0…${A.rows - 1}`)
  return A.data.subarray(i * A.cols, (i + 1) * A.cols)
}

/**
 * Rows `start` (inclusive) to `end` (exclusive) of `A` as a matrix view sharing storage.
 *
 * @category views
 * @since 0.1.0
 */
export const rowRange = (A: Matrix, start: number, end: number): Matrix => {
  if (!(0 <= start && start <= end && end <= A.rows)) {
    throw new RangeError(`Matrix.rowRange: [${start}, ${end}) is outside 0…${A.rows}`)
  }
  return { rows: end - start, cols: A.cols, data: A.data.subarray(start * A.cols, end * A.cols) }
}

/**
 * Copies column `j` of `A` into `out` (length `A.rows`).
 *
 * @category views
 * @since 0.1.0
 */
export const getColumn = (A: Matrix, j: number, out: Float64Array): Float64Array => {
  Vector.assertLength("Matrix.getColumn", "out", out, A.rows)
  for (let i = 0; i < A.rows; i++) out[i] = A.data[i * A.cols + j]!
  return out
}

/**
 * Writes `Aᵀ` into `out` (`A.cols × A.rows`); `out` must not alias `A`.
 *
 * @category kernels
 * @since 0.1.0
 */
export const transposeInto = (A: Matrix, out: Matrix): Matrix => {
  assertShape("Matrix.transposeInto", "out", out, A.cols, A.rows)
  const { rows: m, cols: n } = A
  const a = A.data
  const o = out.data
  // Blocked so both the reads and the writes stay within cache lines.
  const B = 32
  for (let ii = 0; ii < m; ii += B) {
    const iEnd = Math.min(ii + B, m)
    for (let jj = 0; jj < n; jj += B) {
      const jEnd = Math.min(jj + B, n)
      for (let i = ii; i < iEnd; i++) {
        for (let j = jj; j < jEnd; j++) o[j * m + i] = a[i * n + j]!
      }
    }
  }
  return out
}

/**
 * A new matrix holding `Aᵀ`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const transpose = (A: Matrix): Matrix => transposeInto(A, zeros(A.cols, A.rows))

/**
 * Throws `DimensionMismatch` unless `A` is `rows × cols`.
 *
 * @category guards
 * @since 0.1.0
 */
export const assertShape = (operation: string, what: string, A: Matrix, rows: number, cols: number): void => {
  if (A.rows !== rows || A.cols !== cols || A.data.length !== rows * cols) {
    throw new DimensionMismatch({ operation, what, expected: [rows, cols], actual: [A.rows, A.cols] })
  }
}

/**
 * Throws `DimensionMismatch` unless `A` is square.
 *
 * @category guards
 * @since 0.1.0
 */
export const assertSquare = (operation: string, what: string, A: Matrix): void => {
  if (A.rows !== A.cols)
    throw new DimensionMismatch({ operation, what, expected: [A.rows, A.rows], actual: [A.rows, A.cols] })
}
