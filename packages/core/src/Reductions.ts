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
import { DimensionMismatch, InvalidOptions } from "./Errors.ts"
import { allocateFloat64 } from "./internal/allocate.ts"
import { exp as detExp, log as detLog } from "./internal/detmath.ts"
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
  const max = workspace ?? allocateFloat64(n)
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

// ── fused affine log-sum-exp (the Sinkhorn family's inner loop) ─────────────

/** Rows per block of the one-pass column kernel (same on both backends, so the bits agree). */
const LSE_BLOCK_ROWS = 32

/** max with WebAssembly's f64.max semantics: NaN wins, max(−0, +0) = +0. */
const maxIeee = (a: number, b: number): number => {
  if (a !== a || b !== b) return Number.NaN
  if (a > b) return a
  if (b > a) return b
  return a === 0 && Object.is(a, -0) ? b : a
}

/**
 * (shift + M)·invEps + log S, with a non-finite maximum as its own result.
 * The kernels take M over the non-NaN terms only (a running `M < w ? w : M`,
 * one SIMD instruction where a NaN-propagating max takes several), so a NaN
 * term shows in S when M is finite; when M is not, the callers look for one
 * (`rowHasNaN`, `colHasNaN`: the rare path). Either way the result is NaN
 * whenever a term is.
 */
const finishAffine = (shift: number, M: number, S: number, invEps: number, hasNaN: boolean): number => {
  if (M === Number.NEGATIVE_INFINITY || M === Number.POSITIVE_INFINITY) return hasNaN ? Number.NaN : M
  return (shift + M) * invEps + detLog(S)
}

const isInfinite = (x: number): boolean => x === Number.POSITIVE_INFINITY || x === Number.NEGATIVE_INFINITY

/** True when some gⱼ − Cᵢⱼ of row i is NaN. */
const rowHasNaN = (c: Float64Array, n: number, g: Float64Array, i: number): boolean => {
  const o = i * n
  for (let j = 0; j < n; j++) if (Number.isNaN(g[j]! - c[o + j]!)) return true
  return false
}

/** True when some fᵢ − Cᵢⱼ of column j is NaN. */
const colHasNaN = (c: Float64Array, m: number, n: number, f: Float64Array, j: number): boolean => {
  for (let i = 0; i < m; i++) if (Number.isNaN(f[i]! - c[i * n + j]!)) return true
  return false
}

let lseScratch: Float64Array<ArrayBufferLike> = new Float64Array(0)
const scratchOf = (n: number): Float64Array<ArrayBufferLike> => {
  if (lseScratch.length < n) lseScratch = allocateFloat64(n)
  return lseScratch
}

const checkAffine = (
  operation: string,
  C: Matrix,
  f: Float64Array,
  g: Float64Array,
  epsilon: number
): void => {
  checkLength(operation, "f", f, C.rows)
  checkLength(operation, "g", g, C.cols)
  if (!(epsilon > 0) || epsilon === Number.POSITIVE_INFINITY) {
    throw new InvalidOptions({
      operation,
      field: "epsilon",
      value: epsilon,
      requirement: "a finite number > 0"
    })
  }
}

/**
 * outᵢ ← log Σⱼ exp((fᵢ + gⱼ − Cᵢⱼ)/ε) for every row i, in one sweep over C with
 * no temporaries: with wⱼ = gⱼ − Cᵢⱼ and M = maxⱼ wⱼ (the row stays in cache for
 * the second sweep), outᵢ = (fᵢ + M)/ε + log Σⱼ exp((wⱼ − M)/ε). This is the
 * log-domain Sinkhorn update (Peyré & Cuturi, "Computational Optimal Transport",
 * §4.4). An entry Cᵢⱼ = +∞ (a forbidden pair) contributes 0; a row with no
 * allowed pair gives −∞; a NaN term gives NaN. 1/ε multiplies (it is computed once), exp and log are
 * the engine-independent ones of core, so both backends give the same bits.
 *
 * @throws DimensionMismatch when f, g or out do not fit C.
 * @throws InvalidOptions when ε is not a finite positive number.
 * @category kernels
 * @since 0.1.0
 */
export const logSumExpAffineRows = (
  C: Matrix,
  f: Float64Array,
  g: Float64Array,
  epsilon: number,
  out: Float64Array
): void => {
  checkAffine("logSumExpAffineRows", C, f, g, epsilon)
  checkLength("logSumExpAffineRows", "out", out, C.rows)
  const { rows: m, cols: n, data: c } = C
  const invEps = 1 / epsilon
  const sums = scratchOf(m)
  if (
    simd !== undefined &&
    heap!.contains(c) &&
    heap!.contains(g) &&
    heap!.contains(out) &&
    heap!.contains(sums)
  ) {
    simd.lseAffineRows(m, n, g.byteOffset, c.byteOffset, invEps, out.byteOffset, sums.byteOffset)
  } else {
    for (let i = 0; i < m; i++) {
      const o = i * n
      let M = Number.NEGATIVE_INFINITY
      for (let j = 0; j < n; j++) {
        const w = g[j]! - c[o + j]!
        if (M < w) M = w
      }
      out[i] = M
      if (!(M > Number.NEGATIVE_INFINITY && M < Number.POSITIVE_INFINITY)) {
        sums[i] = 0
        continue
      }
      // The eight-way summation order of the level-1 reductions.
      let s0 = 0
      let s1 = 0
      let s2 = 0
      let s3 = 0
      let s4 = 0
      let s5 = 0
      let s6 = 0
      let s7 = 0
      const n8 = n - (n % 8)
      let j = 0
      for (; j < n8; j += 8) {
        s0 += detExp((g[j]! - c[o + j]! - M) * invEps)
        s1 += detExp((g[j + 1]! - c[o + j + 1]! - M) * invEps)
        s2 += detExp((g[j + 2]! - c[o + j + 2]! - M) * invEps)
        s3 += detExp((g[j + 3]! - c[o + j + 3]! - M) * invEps)
        s4 += detExp((g[j + 4]! - c[o + j + 4]! - M) * invEps)
        s5 += detExp((g[j + 5]! - c[o + j + 5]! - M) * invEps)
        s6 += detExp((g[j + 6]! - c[o + j + 6]! - M) * invEps)
        s7 += detExp((g[j + 7]! - c[o + j + 7]! - M) * invEps)
      }
      let s = s0 + s2 + (s4 + s6) + (s1 + s3 + (s5 + s7))
      for (; j < n; j++) s += detExp((g[j]! - c[o + j]! - M) * invEps)
      sums[i] = s
    }
  }
  for (let i = 0; i < m; i++) {
    const M = out[i]!
    out[i] = finishAffine(f[i]!, M, sums[i]!, invEps, isInfinite(M) && rowHasNaN(c, n, g, i))
  }
}

/**
 * outⱼ ← log Σᵢ exp((fᵢ + gⱼ − Cᵢⱼ)/ε) for every column j, in one pass over the
 * row-major C: rows come in blocks of 32; each block first moves the per-column
 * shifts to the running maxima (rescaling the partial sums), then adds its
 * terms. Same conventions as `logSumExpAffineRows`.
 *
 * @throws DimensionMismatch when f, g or out do not fit C.
 * @throws InvalidOptions when ε is not a finite positive number.
 * @category kernels
 * @since 0.1.0
 */
export const logSumExpAffineCols = (
  C: Matrix,
  f: Float64Array,
  g: Float64Array,
  epsilon: number,
  out: Float64Array
): void => {
  checkAffine("logSumExpAffineCols", C, f, g, epsilon)
  checkLength("logSumExpAffineCols", "out", out, C.cols)
  const { rows: m, cols: n, data: c } = C
  const invEps = 1 / epsilon
  const scratch = scratchOf(2 * n)
  const S = scratch.subarray(0, n)
  const W = scratch.subarray(n, 2 * n)
  const M = out
  if (
    simd !== undefined &&
    heap!.contains(c) &&
    heap!.contains(f) &&
    heap!.contains(out) &&
    heap!.contains(scratch)
  ) {
    simd.lseAffineCols(
      m,
      n,
      f.byteOffset,
      c.byteOffset,
      invEps,
      LSE_BLOCK_ROWS,
      M.byteOffset,
      S.byteOffset,
      W.byteOffset
    )
  } else {
    M.fill(Number.NEGATIVE_INFINITY)
    S.fill(0)
    for (let i0 = 0; i0 < m; i0 += LSE_BLOCK_ROWS) {
      const i1 = Math.min(m, i0 + LSE_BLOCK_ROWS)
      W.fill(Number.NEGATIVE_INFINITY)
      for (let i = i0; i < i1; i++) {
        const fi = f[i]!
        const o = i * n
        for (let j = 0; j < n; j++) {
          const w = fi - c[o + j]!
          if (W[j]! < w) W[j] = w
        }
      }
      for (let j = 0; j < n; j++) {
        const mOld = M[j]!
        const mNew = maxIeee(mOld, W[j]!)
        const shiftOld = mOld === Number.NEGATIVE_INFINITY ? 0 : mOld
        const shiftNew = mNew === Number.NEGATIVE_INFINITY ? 0 : mNew
        const sOld = S[j]!
        S[j] = sOld === 0 ? 0 : sOld * detExp((shiftOld - shiftNew) * invEps)
        M[j] = mNew
        W[j] = shiftNew
      }
      for (let i = i0; i < i1; i++) {
        const fi = f[i]!
        const o = i * n
        for (let j = 0; j < n; j++) S[j] = S[j]! + detExp((fi - c[o + j]! - W[j]!) * invEps)
      }
    }
  }
  for (let j = 0; j < n; j++) {
    const Mj = M[j]!
    out[j] = finishAffine(g[j]!, Mj, S[j]!, invEps, isInfinite(Mj) && colHasNaN(c, m, n, f, j))
  }
}
