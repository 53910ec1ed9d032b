/**
 * LU factorization with partial pivoting: solves square linear systems A·x = b,
 * computes determinants and inverses of general (non-symmetric) matrices.
 *
 * The factorization is P·A = L·U with P a permutation (row interchanges chosen
 * by partial pivoting: at step j the entry of largest magnitude in column j, at
 * or below the diagonal, becomes the pivot), L unit lower triangular with
 * |Lᵢⱼ| ≤ 1, and U upper triangular. It is backward stable in practice:
 * the computed factors satisfy P·(A + ΔA) = L̂·Û with ‖ΔA‖ ≤ c·n·u·ρ·‖A‖, ρ the
 * growth factor (Golub & Van Loan, "Matrix Computations", 4th ed., §3.4;
 * Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., §9.3).
 *
 * The algorithm is the right-looking blocked LU of LAPACK's `dgetrf`, applied
 * recursively: a panel of 128 columns is factored (by the same blocked
 * algorithm with 32-column panels, down to an unblocked loop), its row
 * interchanges are applied to the other columns, the block row of U is a
 * unit-lower triangular solve (`Blas3.trsm`), and the trailing matrix takes
 * `Blas3.gemm` updates of depth 128, where nearly all of the 2n³/3 flops are
 * spent. The matrix is held as column tiles during the factorization, so that
 * these kernels run in place on contiguous arrays.
 *
 * @since 0.1.0
 */
import { Blas2, Blas3, Errors, Matrix, Memory, Vector } from "@descent/core"

/**
 * A packed LU factorization P·A = L·U of a square matrix.
 *
 * @category models
 * @since 0.1.0
 */
export interface LuFactorization {
  /**
   * L and U packed in one n × n matrix, as LAPACK `dgetrf` and SciPy's
   * `lu_factor` return them: U on and above the diagonal, the multipliers of L
   * (whose unit diagonal is not stored) below it.
   */
  readonly lu: Matrix.Matrix
  /**
   * Row interchanges, 0-based (LAPACK's `ipiv` minus one, SciPy's `piv`): for
   * i = 0, 1, …, n − 1 in order, row i was swapped with row `pivots[i]` ≥ i.
   */
  readonly pivots: Int32Array
  /** The sign of the permutation P, (−1)^(number of i with pivots[i] ≠ i): det(P). */
  readonly sign: 1 | -1
  /**
   * Index of the first exactly zero pivot Uᵢᵢ (the matrix is singular), or −1.
   * The factorization completes anyway; `solve`, `inverse` throw `Singular`.
   */
  readonly zeroPivot: number
}

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

/** A row-major matrix over the first `rows · cols` entries of `buffer`. */
const view = (buffer: Float64Array, rows: number, cols: number, offset = 0): Matrix.Matrix => ({
  rows,
  cols,
  data: buffer.subarray(offset, offset + rows * cols)
})

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
  const panel = Vector.zeros(s * nb)
  const block = Vector.zeros(nb * (c - Math.min(nb, c)))
  const trailing = Vector.zeros((s - nb) * (c - nb))
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
  Memory.free(panel)
  Memory.free(block)
  Memory.free(trailing)
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
 * Factors a square matrix as P·A = L·U with partial pivoting.
 *
 * Blocked right-looking LU (LAPACK `dgetrf`; Golub & Van Loan, "Matrix
 * Computations", 4th ed., Alg. 3.4.1 and §3.2.11): the trailing updates are
 * `Blas3.gemm` calls of depth 128. An exactly singular matrix (a zero pivot)
 * is factored anyway and reported in `zeroPivot`; `A` is not modified.
 *
 * @example
 * const f = Lu.factor(Matrix.fromRows([[0, 2], [3, 4]]))
 * // f.pivots = [1, 1], f.sign = −1, Lu.determinant(f) = −6
 * @throws DimensionMismatch when A is not square.
 * @throws NonFiniteInput when A has a NaN or infinite entry.
 * @category factorizations
 * @since 0.1.0
 */
export const factor = (A: Matrix.Matrix): LuFactorization => {
  Matrix.assertSquare("Lu.factor", "A", A)
  Vector.assertFinite("Lu.factor", "A", A.data)
  const n = A.rows
  const pivots = new Int32Array(n)
  let lu: Matrix.Matrix
  let zeroPivot: number
  if (n <= TILE_WIDTH) {
    lu = Matrix.clone(A)
    zeroPivot = luBlocked(lu, pivots, 0)
  } else {
    lu = Matrix.zeros(n, n)
    zeroPivot = luTiled(n, A.data, lu.data, pivots)
  }
  let swaps = 0
  for (let i = 0; i < n; i++) if (pivots[i] !== i) swaps++
  return { lu, pivots, sign: swaps % 2 === 0 ? 1 : -1, zeroPivot }
}

/** Throws `Singular` at the first zero diagonal entry of U. */
const assertNonsingular = (operation: string, f: LuFactorization): void => {
  const { rows: n, data } = f.lu
  for (let i = 0; i < n; i++) {
    if (data[i * n + i] === 0) throw new Errors.Singular({ operation, index: i })
  }
}

/** Applies the row interchanges of `pivots` to the rows of B (n × k), in order. */
const permuteRows = (pivots: Int32Array, b: Float64Array, k: number): void => {
  for (let i = 0; i < pivots.length; i++) {
    const p = pivots[i]!
    if (p !== i) swapSegment(b, k, i, p, 0, k)
  }
}

/**
 * Solves A·X = B for a matrix right-hand side from the factorization of A:
 * X = U⁻¹·L⁻¹·P·B by two triangular solves with many right-hand sides
 * (`Blas3.trsm`). B is not modified.
 *
 * @throws DimensionMismatch when B does not have n rows.
 * @throws NonFiniteInput when B has a NaN or infinite entry.
 * @throws Singular when U has a zero diagonal entry (its index is reported).
 * @category solvers
 * @since 0.1.0
 */
export const solveMatrix = (f: LuFactorization, B: Matrix.Matrix): Matrix.Matrix => {
  const n = f.lu.rows
  if (B.rows !== n) {
    throw new Errors.DimensionMismatch({
      operation: "Lu.solveMatrix",
      what: "B",
      expected: [n, B.cols],
      actual: [B.rows, B.cols]
    })
  }
  Vector.assertFinite("Lu.solveMatrix", "B", B.data)
  assertNonsingular("Lu.solveMatrix", f)
  const X = Matrix.clone(B)
  permuteRows(f.pivots, X.data, X.cols)
  Blas3.trsm(f.lu, X, { side: "left", lower: true, unitDiagonal: true })
  Blas3.trsm(f.lu, X, { side: "left", lower: false })
  return X
}

const solveVector = (f: LuFactorization, b: Vector.Vector): Vector.Vector => {
  const n = f.lu.rows
  Vector.assertLength("Lu.solve", "b", b, n)
  Vector.assertFinite("Lu.solve", "b", b)
  assertNonsingular("Lu.solve", f)
  const x = Vector.clone(b)
  permuteRows(f.pivots, x, 1)
  Blas2.trsv(f.lu, x, { lower: true, unitDiagonal: true })
  Blas2.trsv(f.lu, x, { lower: false })
  return x
}

const isFactorization = (x: LuFactorization | Matrix.Matrix): x is LuFactorization => "lu" in x

/**
 * Solves A·x = b (b a vector) or A·X = B (B a matrix).
 *
 * The first argument is either a factorization from `factor`, reused across
 * right-hand sides (O(n²) per vector), or the matrix A itself, which is then
 * factored first (O(n³)). With the factorization P·A = L·U, x = U⁻¹·L⁻¹·P·b by
 * forward and back substitution (Golub & Van Loan, §3.1 and §3.4.3). Neither
 * input is modified.
 *
 * @example
 * const x = Lu.solve(Matrix.fromRows([[2, 1], [1, 3]]), Vector.fromArray([3, 5]))
 * // x = [0.8, 1.4]
 * @throws DimensionMismatch when b does not have n entries (rows) or A is not square.
 * @throws NonFiniteInput when A or b has a NaN or infinite entry.
 * @throws Singular when a pivot is exactly zero (its index is reported).
 * @category solvers
 * @since 0.1.0
 */
export function solve(f: LuFactorization | Matrix.Matrix, b: Vector.Vector): Vector.Vector
export function solve(f: LuFactorization | Matrix.Matrix, B: Matrix.Matrix): Matrix.Matrix
export function solve(
  f: LuFactorization | Matrix.Matrix,
  b: Vector.Vector | Matrix.Matrix
): Vector.Vector | Matrix.Matrix {
  if (isFactorization(f)) return b instanceof Float64Array ? solveVector(f, b) : solveMatrix(f, b)
  const g = factor(f)
  try {
    return b instanceof Float64Array ? solveVector(g, b) : solveMatrix(g, b)
  } finally {
    // The factorization is internal: return its memory now rather than at the next GC.
    Memory.free(g.lu.data)
  }
}

/**
 * The determinant det(A) = det(P)·Π Uᵢᵢ (zero for an exactly singular A).
 * May overflow or underflow for large n: `logAbsDeterminant` does not.
 *
 * @category evaluators
 * @since 0.1.0
 */
export const determinant = (f: LuFactorization): number => {
  const { rows: n, data } = f.lu
  let d: number = f.sign
  for (let i = 0; i < n; i++) d *= data[i * n + i]!
  return d
}

/**
 * The sign and log-magnitude of det(A), as `numpy.linalg.slogdet`:
 * det(A) = sign·exp(logAbsDet), logAbsDet = Σ log|Uᵢᵢ|. For a singular A,
 * sign = 0 and logAbsDet = −∞. The empty matrix has determinant 1.
 *
 * @category evaluators
 * @since 0.1.0
 */
export const logAbsDeterminant = (
  f: LuFactorization
): { readonly sign: -1 | 0 | 1; readonly logAbsDet: number } => {
  const { rows: n, data } = f.lu
  let sign: number = f.sign
  let logAbsDet = 0
  for (let i = 0; i < n; i++) {
    const u = data[i * n + i]!
    if (u === 0) return { sign: 0, logAbsDet: Number.NEGATIVE_INFINITY }
    if (u < 0) sign = -sign
    logAbsDet += Math.log(Math.abs(u))
  }
  return { sign: sign < 0 ? -1 : 1, logAbsDet }
}

/**
 * The inverse A⁻¹ = U⁻¹·L⁻¹·P, as the solution of A·X = I. Prefer `solve`
 * when the inverse is only applied to vectors.
 *
 * @throws Singular when a pivot is exactly zero (its index is reported).
 * @category evaluators
 * @since 0.1.0
 */
export const inverse = (f: LuFactorization): Matrix.Matrix => {
  assertNonsingular("Lu.inverse", f)
  const I = Matrix.identity(f.lu.rows)
  const X = solveMatrix(f, I)
  Memory.free(I.data)
  return X
}
