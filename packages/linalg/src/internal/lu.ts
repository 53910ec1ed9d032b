/**
 * The kernels of LU factorization with partial pivoting (P·A = L·U, packed as
 * LAPACK `dgetrf` packs it), shared by `Lu` and by `Expm`'s Padé solve, which
 * works in place on its own workspace. See `Lu.ts` for the method and its
 * references.
 *
 * @since 0.1.0
 */
import { Blas3, type Matrix, Memory, Vector } from "@descent/core"
import { view } from "./matrix.ts"

/**
 * Block sizes of the recursion levels below the tiled top level: a panel
 * (128 columns, `TILE_WIDTH`) is factored in panels of `BLOCK_SIZES[0]`
 * columns, and so on; the last level runs the unblocked loop. Tuned with
 * `bench/factorizations.ts` (16 to 64 and two levels are within noise).
 */
const BLOCK_SIZES: ReadonlyArray<number> = [32]
const UNBLOCKED_WIDTH = 16
/**
 * Width of the column tiles of the top level (see `luTiled`): the trailing
 * updates are gemm calls of depth 128, deep enough for core's packed gemm to
 * run near its peak (96 and 192 were slower in `bench/factorizations.ts`).
 */
const TILE_WIDTH = 128

/** dst[0:rows, 0:cols] (row stride `ldd`) ← src[r0:r0+rows, c0:c0+cols] (row stride `lds`). */
const copyIn = (
  src: Float64Array,
  lds: number,
  r0: number,
  c0: number,
  rows: number,
  cols: number,
  dst: Float64Array
): void => {
  // Plain loops: a subarray per row costs more than copying short rows.
  for (let i = 0; i < rows; i++) {
    const o = (r0 + i) * lds + c0
    const d = i * cols
    for (let j = 0; j < cols; j++) dst[d + j] = src[o + j]!
  }
}

/** dst[r0:r0+rows, c0:c0+cols] (row stride `ldd`) ← src (contiguous rows × cols). */
const copyOut = (
  src: Float64Array,
  rows: number,
  cols: number,
  dst: Float64Array,
  ldd: number,
  r0: number,
  c0: number
): void => {
  for (let i = 0; i < rows; i++) {
    const o = i * cols
    const d = (r0 + i) * ldd + c0
    for (let j = 0; j < cols; j++) dst[d + j] = src[o + j]!
  }
}

/** Swaps a[r1, from:to] and a[r2, from:to] (row stride `ld`). */
const swapSegment = (a: Float64Array, ld: number, r1: number, r2: number, from: number, to: number): void => {
  const o1 = r1 * ld
  const o2 = r2 * ld
  for (let j = from; j < to; j++) {
    const t = a[o1 + j]!
    a[o1 + j] = a[o2 + j]!
    a[o2 + j] = t
  }
}

/**
 * Unblocked right-looking LU with partial pivoting of an s × c matrix (s ≥ c),
 * in place (LAPACK `dgetf2`). Returns the first zero pivot index or −1.
 */
const luUnblocked = (A: Matrix.Matrix, ipiv: Int32Array): number => {
  const { rows: s, cols: c, data: a } = A
  const kmax = Math.min(s, c)
  let zero = -1
  for (let j = 0; j < kmax; j++) {
    let p = j
    let best = Math.abs(a[j * c + j]!)
    for (let i = j + 1; i < s; i++) {
      const v = Math.abs(a[i * c + j]!)
      if (v > best) {
        best = v
        p = i
      }
    }
    ipiv[j] = p
    if (best === 0) {
      // The column is zero at and below the diagonal: nothing to eliminate.
      if (zero < 0) zero = j
      continue
    }
    if (p !== j) swapSegment(a, c, j, p, 0, c)
    const pivot = a[j * c + j]!
    const rj = j * c
    for (let i = j + 1; i < s; i++) {
      const ri = i * c
      const l = a[ri + j]! / pivot
      a[ri + j] = l
      if (l === 0) continue
      for (let t = j + 1; t < c; t++) a[ri + t] = a[ri + t]! - l * a[rj + t]!
    }
  }
  return zero
}

/**
 * Blocked LU with partial pivoting of an s × c matrix (s ≥ c), in place,
 * panels factored recursively at the next level. Returns the first zero pivot
 * index or −1; `ipiv` receives the row interchanges in this matrix's indices.
 */
const luBlocked = (A: Matrix.Matrix, ipiv: Int32Array, level: number): number => {
  const { rows: s, cols: c, data: a } = A
  const nb = level < BLOCK_SIZES.length ? BLOCK_SIZES[level]! : 0
  if (nb === 0 || c <= UNBLOCKED_WIDTH) return luUnblocked(A, ipiv)
  if (c <= nb) return luBlocked(A, ipiv, level + 1)
  const kmax = Math.min(s, c)
  // One scratch allocation (allocations dominate at small n): panel, U₁₂ block, trailing matrix.
  const panelSize = s * nb
  const blockSize = nb * (c - Math.min(nb, c))
  const scratch = Vector.zeros(panelSize + blockSize + (s - nb) * (c - nb))
  const panel = scratch.subarray(0, panelSize)
  const block = scratch.subarray(panelSize, panelSize + blockSize)
  const trailing = scratch.subarray(panelSize + blockSize)
  let zero = -1
  for (let k0 = 0; k0 < kmax; k0 += nb) {
    const w = Math.min(nb, kmax - k0)
    const m = s - k0
    // 1. Factor the panel A[k0:s, k0:k0+w].
    const P = view(panel, m, w)
    copyIn(a, c, k0, k0, m, w, P.data)
    const piv = ipiv.subarray(k0, k0 + w)
    const z = luBlocked(P, piv, level + 1)
    if (z >= 0 && zero < 0) zero = k0 + z
    copyOut(P.data, m, w, a, c, k0, k0)
    // 2. Apply its interchanges to the columns left and right of the panel.
    for (let j = 0; j < w; j++) {
      const p = piv[j]! + k0
      piv[j] = p
      if (p !== k0 + j) {
        swapSegment(a, c, k0 + j, p, 0, k0)
        swapSegment(a, c, k0 + j, p, k0 + w, c)
      }
    }
    const rest = c - k0 - w
    if (rest === 0) continue
    // 3. Block row of U: U12 = L11⁻¹·A12.
    const T = view(block, w, rest)
    copyIn(a, c, k0, k0 + w, w, rest, T.data)
    Blas3.trsm(view(P.data, w, w), T, { side: "left", lower: true, unitDiagonal: true })
    copyOut(T.data, w, rest, a, c, k0, k0 + w)
    if (m === w) continue
    // 4. Trailing update A22 ← A22 − L21·U12, one gemm.
    const C = view(trailing, m - w, rest)
    copyIn(a, c, k0 + w, k0 + w, m - w, rest, C.data)
    Blas3.gemm(false, false, -1, view(P.data, m - w, w, w * w), T, 1, C)
    copyOut(C.data, m - w, rest, a, c, k0 + w, k0 + w)
  }
  Memory.free(scratch)
  return zero
}

/**
 * The top level for a square n × n matrix: the matrix is held as column tiles
 * of `TILE_WIDTH` columns, each tile an n × w row-major array, so that every
 * operand of a block step is a contiguous array: the panel (rows k0:n of tile
 * k) is factored in place by `luBlocked`, and each tile to its right takes its
 * trsm and an m × w × nb gemm in place, with no copies of the trailing matrix.
 * Reads `a` (row stride n) and writes the packed factors into `out`.
 */
const luTiled = (n: number, a: Float64Array, out: Float64Array, ipiv: Int32Array): number => {
  const nb = TILE_WIDTH
  const count = Math.ceil(n / nb)
  const tiles: Float64Array[] = []
  for (let t = 0; t < count; t++) {
    const j0 = t * nb
    const w = Math.min(nb, n - j0)
    const tile = Vector.zeros(n * w)
    for (let i = 0; i < n; i++) {
      const o = i * n + j0
      const d = i * w
      for (let j = 0; j < w; j++) tile[d + j] = a[o + j]!
    }
    tiles.push(tile)
  }
  let zero = -1
  for (let k = 0; k < count; k++) {
    const k0 = k * nb
    const w = Math.min(nb, n - k0)
    const m = n - k0
    const tile = tiles[k]!
    // 1. Factor the panel: rows k0:n of tile k.
    const P = view(tile, m, w, k0 * w)
    const piv = ipiv.subarray(k0, k0 + w)
    const z = luBlocked(P, piv, 0)
    if (z >= 0 && zero < 0) zero = k0 + z
    for (let j = 0; j < w; j++) piv[j] = piv[j]! + k0
    // 2. Its interchanges, applied to every other tile.
    for (let t = 0; t < count; t++) {
      if (t === k) continue
      const other = tiles[t]!
      const wt = Math.min(nb, n - t * nb)
      for (let j = 0; j < w; j++) {
        const p = piv[j]!
        if (p !== k0 + j) swapSegment(other, wt, k0 + j, p, 0, wt)
      }
    }
    // 3. For each tile to the right: its block of U rows, then its trailing update.
    const L11 = view(tile, w, w, k0 * w)
    const L21 = view(tile, m - w, w, (k0 + w) * w)
    for (let t = k + 1; t < count; t++) {
      const other = tiles[t]!
      const wt = Math.min(nb, n - t * nb)
      const T = view(other, w, wt, k0 * wt)
      Blas3.trsm(L11, T, { side: "left", lower: true, unitDiagonal: true })
      if (m > w) Blas3.gemm(false, false, -1, L21, T, 1, view(other, m - w, wt, (k0 + w) * wt))
    }
  }
  for (let t = 0; t < count; t++) {
    const j0 = t * nb
    const w = Math.min(nb, n - j0)
    const tile = tiles[t]!
    for (let i = 0; i < n; i++) {
      const o = i * n + j0
      const d = i * w
      for (let j = 0; j < w; j++) out[o + j] = tile[d + j]!
    }
    Memory.free(tile)
  }
  return zero
}

/**
 * Factors the n × n matrix held in `a` (row stride n) into `out` (n × n; may
 * share `a`'s storage): packed L and U, the row interchanges in `pivots`.
 * Returns the index of the first exactly zero pivot, or −1 (the factorization
 * completes anyway).
 *
 * @internal
 */
export const factorInto = (a: Float64Array, out: Matrix.Matrix, pivots: Int32Array): number => {
  const n = out.rows
  if (n > TILE_WIDTH) return luTiled(n, a, out.data, pivots)
  if (out.data !== a) out.data.set(a)
  return luBlocked(out, pivots, 0)
}

/**
 * Applies the row interchanges of `pivots` to the rows of B (n × k), in order.
 *
 * @internal
 */
export const permuteRows = (pivots: Int32Array, b: Float64Array, k: number): void => {
  for (let i = 0; i < pivots.length; i++) {
    const p = pivots[i]!
    if (p !== i) swapSegment(b, k, i, p, 0, k)
  }
}

/**
 * X ← U⁻¹·L⁻¹·P·X in place from the packed factors (two `Blas3.trsm`); no
 * checks (U must have a nonzero diagonal).
 *
 * @internal
 */
export const solveInPlace = (lu: Matrix.Matrix, pivots: Int32Array, X: Matrix.Matrix): void => {
  permuteRows(pivots, X.data, X.cols)
  Blas3.trsm(lu, X, { side: "left", lower: true, unitDiagonal: true })
  Blas3.trsm(lu, X, { side: "left", lower: false })
}
