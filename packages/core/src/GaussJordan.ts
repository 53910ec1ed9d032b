/**
 * In-place matrix inversion by Gauss–Jordan elimination without pivoting, for
 * the matrices that need no row interchanges: those whose leading principal
 * minors are all positive (nonsingular M-matrices, symmetric positive definite
 * and strictly diagonally dominant matrices with a positive diagonal). Such a
 * matrix has positive elimination pivots, and the kernel reports the first
 * pivot that is not positive instead of inverting, so it doubles as an exact
 * test of that property (a Z-matrix is a nonsingular M-matrix exactly when
 * all pivots are positive; Berman & Plemmons, "Nonnegative Matrices in the
 * Mathematical Sciences", 1994, Thm. 6.2.3). The pivots are returned too:
 * their product is det A.
 *
 * Elimination (Gauss–Jordan, in place; e.g. Golub & Van Loan, "Matrix
 * Computations", 4th ed., §1.2.10 and §3.1): for k = 0, …, n − 1, with
 * p = A[k,k] > 0,
 *
 *   A[k,k] ← 1,  row k ← row k / p,
 *   for every i ≠ k:  f = A[i,k],  A[i,k] ← 0,  row i ← row i − f·row k,
 *
 * which leaves A⁻¹ in A (n³ multiply–adds). Every entry sees exactly these
 * operations in this order. The kernel takes the pivots in blocks of four:
 * first the four pivot rows are eliminated among themselves, keeping a copy
 * of each pivot row as it was used, then every other row receives the four
 * updates in one pass (its four multipliers computed first, in the order
 * above). The arithmetic is the same, operation for operation; one pass per
 * block instead of per pivot reads and writes each row a quarter as often.
 * The WebAssembly SIMD kernel and the TypeScript loop compute the same bits.
 *
 * @since 0.1.0
 */
import { DimensionMismatch } from "./Errors.ts"
import { wasm } from "./internal/wasm/runtime.ts"
import type { Matrix } from "./Matrix.ts"

const heap = wasm?.heap
const simd = wasm?.kernels

/** Pivots eliminated together in one pass over the other rows. */
const BLOCK = 4

// Copies of the block's pivot rows (BLOCK × n), grown on demand, never shrunk
// (scratch of the WebAssembly heap on the SIMD path).
let pivotRows = new Float64Array(0)
let wasmPivotRows = 0
let wasmPivotRowsLength = 0

/**
 * Overwrites the square matrix A with A⁻¹ by Gauss–Jordan elimination without
 * pivoting and writes the pivots into `pivots` (length n; det A = Π pivots).
 * Returns n when every pivot is > 0; otherwise the index k of the first pivot
 * that is not (≤ 0 or NaN), with A left partly eliminated and pivots[k…]
 * unwritten.
 *
 * @throws DimensionMismatch when A is not square or `pivots` has not length n.
 * @category kernels
 * @since 0.1.0
 */
export const invertPositivePivots = (A: Matrix, pivots: Float64Array): number => {
  const n = A.rows
  if (A.cols !== n) {
    throw new DimensionMismatch({
      operation: "GaussJordan.invertPositivePivots",
      what: "A",
      expected: [n, n],
      actual: [n, A.cols]
    })
  }
  if (pivots.length !== n) {
    throw new DimensionMismatch({
      operation: "GaussJordan.invertPositivePivots",
      what: "pivots",
      expected: [n],
      actual: [pivots.length]
    })
  }
  const a = A.data
  if (simd !== undefined && heap!.contains(a) && heap!.contains(pivots)) {
    // The kernel also keeps a block's 4 × 4 multipliers after the pivot rows.
    if (wasmPivotRowsLength < BLOCK * n + BLOCK * BLOCK) {
      wasmPivotRowsLength = BLOCK * n + BLOCK * BLOCK
      wasmPivotRows = heap!.scratch(wasmPivotRowsLength * 8)
    }
    return simd.gaussJordanInverse(n, a.byteOffset, pivots.byteOffset, wasmPivotRows)
  }
  if (pivotRows.length < BLOCK * n) pivotRows = new Float64Array(BLOCK * n)
  const r = pivotRows
  for (let k0 = 0; k0 < n; ) {
    const b = n - k0 >= BLOCK ? BLOCK : 1
    // The block's pivot rows among themselves, each copied after its scaling.
    for (let c = 0; c < b; c++) {
      const k = k0 + c
      const rk = k * n
      const pivot = a[rk + k]!
      if (!(pivot > 0)) return k
      pivots[k] = pivot
      a[rk + k] = 1
      const inv = 1 / pivot
      for (let j = 0; j < n; j++) a[rk + j] = a[rk + j]! * inv
      for (let j = 0; j < n; j++) r[c * n + j] = a[rk + j]!
      for (let e = 0; e < b; e++) {
        if (e === c) continue
        const ri = (k0 + e) * n
        const f = a[ri + k]!
        a[ri + k] = 0
        for (let j = 0; j < n; j++) a[ri + j] = a[ri + j]! - f * a[rk + j]!
      }
    }
    for (let i = 0; i < n; i++) {
      if (i >= k0 && i < k0 + b) continue
      if (b === 1) singleUpdate(a, n, i * n, k0, r)
      else blockUpdate(a, n, i * n, k0, r)
    }
    k0 += b
  }
  return n
}

/** Row at `ri` after the one pivot k0 (its pivot row in r[0…n)). */
const singleUpdate = (a: Float64Array, n: number, ri: number, k0: number, r: Float64Array): void => {
  const f = a[ri + k0]!
  a[ri + k0] = 0
  for (let j = 0; j < n; j++) a[ri + j] = a[ri + j]! - f * r[j]!
}

/** Row at `ri` after the pivots k0…k0+3 (their pivot rows in r), in the order of one pivot at a time. */
const blockUpdate = (a: Float64Array, n: number, ri: number, k0: number, r: Float64Array): void => {
  const r1 = n
  const r2 = 2 * n
  const r3 = 3 * n
  // The multipliers, each after the block's earlier pivots.
  const f0 = a[ri + k0]!
  const f1 = a[ri + k0 + 1]! - f0 * r[k0 + 1]!
  const f2 = a[ri + k0 + 2]! - f0 * r[k0 + 2]! - f1 * r[r1 + k0 + 2]!
  const f3 = a[ri + k0 + 3]! - f0 * r[k0 + 3]! - f1 * r[r1 + k0 + 3]! - f2 * r[r2 + k0 + 3]!
  // The block's own columns: zeroed at their pivot, then updated by the later ones.
  const y0 = 0 - f0 * r[k0]! - f1 * r[r1 + k0]! - f2 * r[r2 + k0]! - f3 * r[r3 + k0]!
  const y1 = 0 - f1 * r[r1 + k0 + 1]! - f2 * r[r2 + k0 + 1]! - f3 * r[r3 + k0 + 1]!
  const y2 = 0 - f2 * r[r2 + k0 + 2]! - f3 * r[r3 + k0 + 2]!
  const y3 = 0 - f3 * r[r3 + k0 + 3]!
  for (let j = 0; j < k0; j++) {
    a[ri + j] = a[ri + j]! - f0 * r[j]! - f1 * r[r1 + j]! - f2 * r[r2 + j]! - f3 * r[r3 + j]!
  }
  for (let j = k0 + BLOCK; j < n; j++) {
    a[ri + j] = a[ri + j]! - f0 * r[j]! - f1 * r[r1 + j]! - f2 * r[r2 + j]! - f3 * r[r3 + j]!
  }
  a[ri + k0] = y0
  a[ri + k0 + 1] = y1
  a[ri + k0 + 2] = y2
  a[ri + k0 + 3] = y3
}
