/**
 * Row and column reductions of matrices, and the numerically stable
 * log-sum-exp and softmax the Sinkhorn family and probabilistic losses need.
 *
 * log Σⱼ exp(aⱼ) is computed as m + log Σⱼ exp(aⱼ − m) with m = maxⱼ aⱼ, so no
 * term overflows and at least one term equals 1 (no total underflow). A row of
 * all −∞ gives −∞ (an empty sum), a +∞ entry gives +∞, a NaN gives NaN.
 *
 * @since 0.1.0
 */
import { DimensionMismatch } from "./Errors.ts"
import { axpyAt, sumAt } from "./internal/level1.ts"
import { wasm } from "./internal/wasm/runtime.ts"
import type { Matrix } from "./Matrix.ts"

const heap = wasm?.heap
const simd = wasm?.kernels

const checkLength = (operation: string, what: string, x: Float64Array, n: number): void => {
  if (x.length !== n) throw new DimensionMismatch({ operation, what, expected: [n], actual: [x.length] })
}

/** m + log Σ exp(x[o+j] − m) over j < n, given m = max. */
const shiftedLogSumExp = (n: number, x: Float64Array, o: number): number => {
  let m = Number.NEGATIVE_INFINITY
  for (let j = 0; j < n; j++) {
    const v = x[o + j]!
    if (v > m) m = v
    else if (v !== v) return Number.NaN
  }
  if (m === Number.NEGATIVE_INFINITY || m === Number.POSITIVE_INFINITY) return m
  let s = 0
  for (let j = 0; j < n; j++) s += Math.exp(x[o + j]! - m)
  return m + Math.log(s)
}

/**
 * log Σᵢ exp(xᵢ), stable; −∞ for an empty vector.
 *
 * @category kernels
 * @since 0.1.0
 */
export const logSumExp = (x: Float64Array): number => shiftedLogSumExp(x.length, x, 0)

/**
 * out ← softmax(x), outᵢ = exp(xᵢ − logΣexp(x)). `out` may be `x`.
 *
 * @throws DimensionMismatch when out and x differ in length.
 * @category kernels
 * @since 0.1.0
 */
export const softmax = (x: Float64Array, out: Float64Array): void => {
  checkLength("softmax", "out", out, x.length)
  const lse = logSumExp(x)
  for (let i = 0; i < x.length; i++) out[i] = Math.exp(x[i]! - lse)
}

/**
 * outᵢ ← log Σⱼ exp(Aᵢⱼ) for each row i (length A.rows).
 *
 * @category kernels
 * @since 0.1.0
 */
export const logSumExpRows = (A: Matrix, out: Float64Array): void => {
  checkLength("logSumExpRows", "out", out, A.rows)
  for (let i = 0; i < A.rows; i++) out[i] = shiftedLogSumExp(A.cols, A.data, i * A.cols)
}

/**
 * outⱼ ← log Σᵢ exp(Aᵢⱼ) for each column j (length A.cols). Two row-wise sweeps
 * (column maxima, then shifted sums), so memory is read in storage order.
 * `workspace`, if given, must have length A.cols; otherwise one is allocated.
 *
 * @category kernels
 * @since 0.1.0
 */
export const logSumExpCols = (A: Matrix, out: Float64Array, workspace?: Float64Array): void => {
  const { rows: m, cols: n, data: a } = A
  checkLength("logSumExpCols", "out", out, n)
  const max = workspace ?? new Float64Array(n)
  checkLength("logSumExpCols", "workspace", max, n)
  max.fill(Number.NEGATIVE_INFINITY)
  for (let i = 0; i < m; i++) {
    const o = i * n
    for (let j = 0; j < n; j++) {
      const v = a[o + j]!
      // NaN wins: once max is NaN, it stays (v > NaN is false, NaN check keeps it).
      if (v > max[j]! || v !== v) max[j] = v
    }
  }
  out.fill(0)
  // A non-finite column maximum is replaced by 0: the sums below then give the
  // right special value (−∞ for an all −∞ column, +∞ with a +∞ entry, NaN with a NaN).
  for (let j = 0; j < n; j++) {
    const mj = max[j]!
    if (mj === Number.NEGATIVE_INFINITY || mj === Number.POSITIVE_INFINITY || mj !== mj) max[j] = 0
  }
  for (let i = 0; i < m; i++) {
    const o = i * n
    for (let j = 0; j < n; j++) out[j] = out[j]! + Math.exp(a[o + j]! - max[j]!)
  }
  for (let j = 0; j < n; j++) out[j] = max[j]! + Math.log(out[j]!)
}

/**
 * Row-wise softmax: each row of `out` ← softmax of the same row of A. `out` may be A.
 *
 * @category kernels
 * @since 0.1.0
 */
export const softmaxRows = (A: Matrix, out: Matrix): void => {
  if (out.rows !== A.rows || out.cols !== A.cols) {
    throw new DimensionMismatch({
      operation: "softmaxRows",
      what: "out",
      expected: [A.rows, A.cols],
      actual: [out.rows, out.cols]
    })
  }
  const n = A.cols
  for (let i = 0; i < A.rows; i++) {
    const o = i * n
    const lse = shiftedLogSumExp(n, A.data, o)
    for (let j = 0; j < n; j++) out.data[o + j] = Math.exp(A.data[o + j]! - lse)
  }
}

/**
 * outᵢ ← Σⱼ Aᵢⱼ (row sums, length A.rows).
 *
 * @category kernels
 * @since 0.1.0
 */
export const rowSums = (A: Matrix, out: Float64Array): void => {
  checkLength("rowSums", "out", out, A.rows)
  for (let i = 0; i < A.rows; i++) out[i] = sumAt(A.cols, A.data, i * A.cols)
}

/**
 * outⱼ ← Σᵢ Aᵢⱼ (column sums, length A.cols), accumulated row by row in order of i.
 *
 * @category kernels
 * @since 0.1.0
 */
export const colSums = (A: Matrix, out: Float64Array): void => {
  checkLength("colSums", "out", out, A.cols)
  out.fill(0)
  for (let i = 0; i < A.rows; i++) axpyAt(A.cols, 1, A.data, i * A.cols, out, 0)
}

/**
 * Σᵢ xᵢ, in the fixed eight-way order of the level-1 reductions.
 *
 * @category kernels
 * @since 0.1.0
 */
export const sum = (x: Float64Array): number =>
  simd !== undefined && heap!.contains(x) ? simd.sum(x.length, x.byteOffset) : sumAt(x.length, x, 0)

/**
 * maxᵢ xᵢ (−∞ for empty; NaN if any entry is NaN).
 *
 * @category kernels
 * @since 0.1.0
 */
export const max = (x: Float64Array): number => {
  let m = Number.NEGATIVE_INFINITY
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!
    if (v !== v) return Number.NaN
    if (v > m) m = v
  }
  return m
}

/**
 * minᵢ xᵢ (+∞ for empty; NaN if any entry is NaN).
 *
 * @category kernels
 * @since 0.1.0
 */
export const min = (x: Float64Array): number => {
  let m = Number.POSITIVE_INFINITY
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!
    if (v !== v) return Number.NaN
    if (v < m) m = v
  }
  return m
}
