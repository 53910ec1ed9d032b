/**
 * Level-2 BLAS kernels: matrix–vector operations on row-major `Matrix` records.
 *
 * All write into caller-given outputs and never allocate. Row-wise loops use the
 * shared eight-accumulator reductions of `internal/level1.ts`, so row i of
 * `gemv` equals `dot(row i, x)` bit for bit.
 *
 * @since 0.1.0
 */
import { DimensionMismatch, Singular } from "./Errors.ts"
import { axpyRow, dotRow, resident } from "./internal/dispatch.ts"
import { axpyAt, dotAt, scalAt } from "./internal/level1.ts"
import { wasm } from "./internal/wasm/runtime.ts"
import type { Matrix } from "./Matrix.ts"

const heap = wasm?.heap
const simd = wasm?.kernels

const checkLength = (operation: string, what: string, x: Float64Array, n: number): void => {
  if (x.length !== n) throw new DimensionMismatch({ operation, what, expected: [n], actual: [x.length] })
}

/** y ← βy, with β = 0 meaning "overwrite" (BLAS semantics: NaN in y is not kept). */
const scaleOutput = (beta: number, y: Float64Array, n: number): void => {
  if (beta === 0) y.fill(0, 0, n)
  else if (beta !== 1) scalAt(n, beta, y, 0)
}

/**
 * y ← α·A·x + β·y for an m × n matrix A (x of length n, y of length m).
 * β = 0 overwrites y.
 *
 * @throws DimensionMismatch when x or y does not fit A.
 * @category kernels
 * @since 0.1.0
 */
export const gemv = (alpha: number, A: Matrix, x: Float64Array, beta: number, y: Float64Array): void => {
  const { rows: m, cols: n, data: a } = A
  checkLength("gemv", "x", x, n)
  checkLength("gemv", "y", y, m)
  if (simd !== undefined && heap!.contains(a) && heap!.contains(x) && heap!.contains(y)) {
    simd.gemv(m, n, alpha, a.byteOffset, x.byteOffset, beta, y.byteOffset)
    return
  }
  if (beta === 0) {
    for (let i = 0; i < m; i++) y[i] = alpha * dotAt(n, a, i * n, x, 0)
  } else {
    for (let i = 0; i < m; i++) y[i] = alpha * dotAt(n, a, i * n, x, 0) + beta * y[i]!
  }
}

/**
 * y ← α·Aᵀ·x + β·y for an m × n matrix A (x of length m, y of length n).
 * Computed as β·y followed by the row updates y += (α xᵢ)·Aᵢ in order of i, the
 * cache-friendly order for row-major storage.
 *
 * @throws DimensionMismatch when x or y does not fit A.
 * @category kernels
 * @since 0.1.0
 */
export const gemvT = (alpha: number, A: Matrix, x: Float64Array, beta: number, y: Float64Array): void => {
  const { rows: m, cols: n, data: a } = A
  checkLength("gemvT", "x", x, m)
  checkLength("gemvT", "y", y, n)
  scaleOutput(beta, y, n)
  if (simd !== undefined && heap!.contains(a) && heap!.contains(x) && heap!.contains(y)) {
    simd.gemvTUpdate(m, n, alpha, a.byteOffset, x.byteOffset, y.byteOffset)
    return
  }
  let i = 0
  // Four rows per sweep over y: one load and store of y per four updates, with
  // the additions still in the order of i.
  for (; i + 4 <= m; i += 4) {
    const t0 = alpha * x[i]!
    const t1 = alpha * x[i + 1]!
    const t2 = alpha * x[i + 2]!
    const t3 = alpha * x[i + 3]!
    const r0 = i * n
    const r1 = r0 + n
    const r2 = r1 + n
    const r3 = r2 + n
    for (let j = 0; j < n; j++) {
      y[j] = y[j]! + t0 * a[r0 + j]! + t1 * a[r1 + j]! + t2 * a[r2 + j]! + t3 * a[r3 + j]!
    }
  }
  for (; i < m; i++) axpyAt(n, alpha * x[i]!, a, i * n, y, 0)
}

/**
 * y ← A·x and z ← Aᵀ·w in one sweep over the m × n matrix A, which is read once
 * instead of twice (the two marginals of a scaled kernel in Sinkhorn-type
 * methods). The results equal `gemv(1, A, x, 0, y)` and `gemvT(1, A, w, 0, z)`
 * bit for bit.
 *
 * @throws DimensionMismatch when x, y, w or z does not fit A.
 * @category kernels
 * @since 0.1.0
 */
export const gemvPair = (
  A: Matrix,
  x: Float64Array,
  y: Float64Array,
  w: Float64Array,
  z: Float64Array
): void => {
  const { rows: m, cols: n, data: a } = A
  checkLength("gemvPair", "x", x, n)
  checkLength("gemvPair", "y", y, m)
  checkLength("gemvPair", "w", w, m)
  checkLength("gemvPair", "z", z, n)
  if (simd !== undefined && resident(a, x, y) && resident(w, z, a)) {
    simd.gemvPair(m, n, a.byteOffset, x.byteOffset, y.byteOffset, w.byteOffset, z.byteOffset)
    return
  }
  z.fill(0)
  for (let i = 0; i < m; i++) {
    y[i] = dotAt(n, a, i * n, x, 0)
    axpyAt(n, w[i]!, a, i * n, z, 0)
  }
}

/**
 * Stores u and v as columns `cu` and `cv` of the m × n matrix A, then, in the
 * same sweep over A, with its rows split at f:
 *
 *   a ← A[0:f]ᵀ·u[0:f],   b ← A[0:f]ᵀ·v[0:f],   c ← A[f:m]ᵀ·v[f:m]
 *
 * (the new columns included). Each product equals `gemvT(1, rows, ·, 0, ·)`
 * on those rows bit for bit. A limited-memory quasi-Newton method that keeps
 * its correction pairs as columns of A, rows ordered free coordinates first
 * (L-BFGS-B's subspace step), gets a new pair's inner products with every
 * stored pair over both blocks from one pass over A instead of four.
 *
 * @throws DimensionMismatch when u or v does not have m entries, a, b or c not n,
 * or cu, cv, f are out of range.
 * @category kernels
 * @since 0.1.0
 */
export const storeColumnsGemvT = (
  A: Matrix,
  cu: number,
  cv: number,
  u: Float64Array,
  v: Float64Array,
  f: number,
  a: Float64Array,
  b: Float64Array,
  c: Float64Array
): void => {
  const { rows: m, cols: n, data } = A
  checkLength("storeColumnsGemvT", "u", u, m)
  checkLength("storeColumnsGemvT", "v", v, m)
  checkLength("storeColumnsGemvT", "a", a, n)
  checkLength("storeColumnsGemvT", "b", b, n)
  checkLength("storeColumnsGemvT", "c", c, n)
  for (const [what, value, limit] of [
    ["cu", cu, n - 1],
    ["cv", cv, n - 1],
    ["f", f, m]
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || value > limit) {
      throw new DimensionMismatch({
        operation: "storeColumnsGemvT",
        what,
        expected: [limit],
        actual: [value]
      })
    }
  }
  if (simd !== undefined && resident(data, u, v) && resident(a, b, c)) {
    simd.storeColumnsGemvT(
      m,
      n,
      data.byteOffset,
      cu,
      cv,
      u.byteOffset,
      v.byteOffset,
      f,
      a.byteOffset,
      b.byteOffset,
      c.byteOffset
    )
    return
  }
  a.fill(0)
  b.fill(0)
  c.fill(0)
  for (let p = 0; p < m; p++) {
    const row = p * n
    const up = u[p]!
    const vp = v[p]!
    data[row + cu] = up
    data[row + cv] = vp
    if (p < f) {
      for (let j = 0; j < n; j++) {
        const x = data[row + j]!
        a[j] = a[j]! + up * x
        b[j] = b[j]! + vp * x
      }
    } else {
      for (let j = 0; j < n; j++) c[j] = c[j]! + vp * data[row + j]!
    }
  }
}

/**
 * Rank-1 update A ← A + α·x·yᵀ (x of length m, y of length n).
 *
 * @throws DimensionMismatch when x or y does not fit A.
 * @category kernels
 * @since 0.1.0
 */
export const ger = (alpha: number, x: Float64Array, y: Float64Array, A: Matrix): void => {
  const { rows: m, cols: n, data: a } = A
  checkLength("ger", "x", x, m)
  checkLength("ger", "y", y, n)
  const fast = resident(a, y)
  for (let i = 0; i < m; i++) {
    const t = alpha * x[i]!
    if (t !== 0) axpyRow(fast, n, t, y, 0, a, i * n)
  }
}

/**
 * y ← α·A·x + β·y for a symmetric n × n A, reading only its lower triangle
 * (entries with row ≥ column), as BLAS dsymv with uplo = 'L'.
 *
 * @throws DimensionMismatch when A is not square or x, y do not fit.
 * @category kernels
 * @since 0.1.0
 */
export const symv = (alpha: number, A: Matrix, x: Float64Array, beta: number, y: Float64Array): void => {
  const { rows: n, data: a } = A
  if (A.cols !== n)
    throw new DimensionMismatch({ operation: "symv", what: "A", expected: [n, n], actual: [n, A.cols] })
  checkLength("symv", "x", x, n)
  checkLength("symv", "y", y, n)
  scaleOutput(beta, y, n)
  const fast = resident(a, x, y)
  for (let i = 0; i < n; i++) {
    const row = i * n
    const t = alpha * x[i]!
    // Strictly-lower part of row i serves both y_i (as A_ij x_j) and y_j (as A_ji x_i).
    axpyRow(fast, i, t, a, row, y, 0)
    y[i] = y[i]! + t * a[row + i]! + alpha * dotRow(fast, i, a, row, x, 0)
  }
}

/**
 * Options of the triangular solves `trsv` and `trsm`.
 *
 * @category models
 * @since 0.1.0
 */
export interface TriangularOptions {
  /** Use the lower triangle (true) or the upper triangle (false) of A. */
  readonly lower: boolean
  /** Solve with Aᵀ instead of A. Default false. */
  readonly transpose?: boolean
  /** Take the diagonal of A to be ones (it is not read). Default false. */
  readonly unitDiagonal?: boolean
}

/** Throws `Singular` at the first zero diagonal entry of a triangular A. */
export const assertNonzeroDiagonal = (operation: string, A: Matrix): void => {
  const n = A.rows
  for (let i = 0; i < n; i++) {
    if (A.data[i * n + i] === 0) throw new Singular({ operation, index: i })
  }
}

/**
 * Solves op(A)·x = b in place (b is overwritten by x) for a triangular n × n A,
 * op(A) = A or Aᵀ. Forward substitution for lower/not-transposed and
 * upper/transposed, back substitution otherwise; every inner loop runs along a
 * row of A.
 *
 * @throws DimensionMismatch when A is not square or b does not fit.
 * @throws Singular when a diagonal entry is zero (and `unitDiagonal` is off).
 * @category kernels
 * @since 0.1.0
 */
export const trsv = (A: Matrix, b: Float64Array, options: TriangularOptions): void => {
  const { rows: n, data: a } = A
  if (A.cols !== n)
    throw new DimensionMismatch({ operation: "trsv", what: "A", expected: [n, n], actual: [n, A.cols] })
  checkLength("trsv", "b", b, n)
  const unit = options.unitDiagonal === true
  if (!unit) assertNonzeroDiagonal("trsv", A)
  const transpose = options.transpose === true
  const fast = resident(a, b)
  if (options.lower && !transpose) {
    for (let i = 0; i < n; i++) {
      const s = b[i]! - dotRow(fast, i, a, i * n, b, 0)
      b[i] = unit ? s : s / a[i * n + i]!
    }
  } else if (!options.lower && !transpose) {
    for (let i = n - 1; i >= 0; i--) {
      const s = b[i]! - dotRow(fast, n - 1 - i, a, i * n + i + 1, b, i + 1)
      b[i] = unit ? s : s / a[i * n + i]!
    }
  } else if (options.lower && transpose) {
    // Lᵀx = b: x_i is final once the rows below have been eliminated.
    for (let i = n - 1; i >= 0; i--) {
      const xi = unit ? b[i]! : b[i]! / a[i * n + i]!
      b[i] = xi
      axpyRow(fast, i, -xi, a, i * n, b, 0)
    }
  } else {
    for (let i = 0; i < n; i++) {
      const xi = unit ? b[i]! : b[i]! / a[i * n + i]!
      b[i] = xi
      axpyRow(fast, n - 1 - i, -xi, a, i * n + i + 1, b, i + 1)
    }
  }
}
