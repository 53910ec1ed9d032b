/**
 * Cholesky factorization A = L·Lᵀ of a symmetric positive definite matrix:
 * solves SPD systems (normal equations, Newton steps, Gaussian covariances),
 * computes log-determinants and inverses, tests positive definiteness, and
 * updates or downdates the factor after a rank-1 change of A in O(n²).
 *
 * L is lower triangular with a positive diagonal, and unique. The factorization
 * is backward stable without pivoting: L̂·L̂ᵀ = A + ΔA with
 * |ΔA| ≤ γₙ₊₁·|L̂|·|L̂ᵀ|, γₖ = k·u/(1 − k·u) (Higham, "Accuracy and Stability of
 * Numerical Algorithms", 2nd ed., Thm. 10.3; Golub & Van Loan, "Matrix
 * Computations", 4th ed., §4.2).
 *
 * The algorithm is LAPACK's right-looking blocked `dpotrf`, applied
 * recursively: factor a diagonal block (by the same algorithm with a smaller
 * block, down to an unblocked loop), solve for the panel below it with
 * `Blas3.trsm`, and subtract the panel's outer product from the trailing
 * lower triangle with one `Blas3.gemm` call of depth 128 per column tile (a
 * syrk that computes only the lower triangle, up to the diagonal block of
 * each tile). The matrix is held as column tiles during the factorization,
 * so that these kernels run in place on contiguous arrays.
 *
 * @since 0.1.0
 */
import { Blas2, Blas3, Errors, Matrix, Memory, Vector } from "@descent/core"
import { symmetrize, view } from "./internal/matrix.ts"
import { type Factorization, solveWith } from "./internal/solve.ts"

/**
 * A Cholesky factorization A = L·Lᵀ.
 *
 * @category models
 * @since 0.1.0
 */
export interface CholeskyFactorization {
  /** n × n lower triangular with positive diagonal; zeros above the diagonal. */
  readonly L: Matrix.Matrix
}

/**
 * Block sizes of the recursion levels below the tiled top level (see the
 * module comment): diagonal blocks of 128 are factored with blocks of 32,
 * those unblocked. Tuned with `bench/factorizations.ts`.
 */
const BLOCK_SIZES: ReadonlyArray<number> = [32]
/** Rows of the trailing matrix updated by one gemm call. */
const UPDATE_ROWS = 256
/**
 * Width of the column tiles of the top level (see `cholTiled`): trailing
 * updates are gemm calls of depth 128, near the kernel's peak.
 */
const TILE_WIDTH = 128

/**
 * Unblocked Cholesky–Banachiewicz of the lower triangle of the n × n matrix
 * `a` (row stride n), in place; `column0` offsets the column in errors.
 */
const cholUnblocked = (operation: string, A: Matrix.Matrix, column0: number): void => {
  const { rows: n, data: a } = A
  for (let j = 0; j < n; j++) {
    const rj = j * n
    let d = a[rj + j]!
    for (let k = 0; k < j; k++) d -= a[rj + k]! * a[rj + k]!
    if (!(d > 0)) throw new Errors.NotPositiveDefinite({ operation, column: column0 + j, pivot: d })
    const ljj = Math.sqrt(d)
    a[rj + j] = ljj
    for (let i = j + 1; i < n; i++) {
      const ri = i * n
      let s = a[ri + j]!
      for (let k = 0; k < j; k++) s -= a[ri + k]! * a[rj + k]!
      a[ri + j] = s / ljj
    }
  }
}

/**
 * Blocked Cholesky of the lower triangle of the n × n matrix A, in place
 * (entries above the diagonal are neither read nor written).
 */
const cholBlocked = (operation: string, A: Matrix.Matrix, column0: number, level: number): void => {
  const n = A.rows
  const nb = level < BLOCK_SIZES.length ? BLOCK_SIZES[level]! : 0
  if (nb === 0 || n <= nb) {
    cholUnblocked(operation, A, column0)
    return
  }
  const diagonal = Vector.zeros(nb * nb)
  const panelT = Vector.zeros(nb * (n - nb))
  const panel = Vector.zeros((n - nb) * nb)
  const update = Vector.zeros(Math.min(UPDATE_ROWS, n - nb) * (n - nb))
  try {
    cholSteps(operation, A, column0, level, nb, diagonal, panelT, panel, update)
  } finally {
    Memory.free(diagonal)
    Memory.free(panelT)
    Memory.free(panel)
    Memory.free(update)
  }
}

/** The block steps of `cholBlocked`, on its scratch buffers. */
const cholSteps = (
  operation: string,
  A: Matrix.Matrix,
  column0: number,
  level: number,
  nb: number,
  diagonal: Float64Array,
  panelT: Float64Array,
  panel: Float64Array,
  update: Float64Array
): void => {
  const { rows: n, data: a } = A
  for (let k0 = 0; k0 < n; k0 += nb) {
    const w = Math.min(nb, n - k0)
    // 1. Diagonal block: L11·L11ᵀ = A11.
    const D = view(diagonal, w, w)
    const d = D.data
    for (let i = 0; i < w; i++) {
      const o = (k0 + i) * n + k0
      for (let j = 0; j <= i; j++) d[i * w + j] = a[o + j]!
    }
    cholBlocked(operation, D, column0 + k0, level + 1)
    for (let i = 0; i < w; i++) {
      const o = (k0 + i) * n + k0
      for (let j = 0; j <= i; j++) a[o + j] = d[i * w + j]!
    }
    const m = n - k0 - w
    if (m === 0) break
    // 2. Panel: L21 = A21·L11⁻ᵀ, computed as L21ᵀ = L11⁻¹·A21ᵀ so that trsm
    //    runs along rows of length m.
    const PT = view(panelT, w, m)
    const pt = PT.data
    for (let i = 0; i < m; i++) {
      const o = (k0 + w + i) * n + k0
      for (let j = 0; j < w; j++) pt[j * m + i] = a[o + j]!
    }
    // Entries above D's diagonal hold stale values from A; trsm reads only the lower triangle.
    Blas3.trsm(D, PT, { side: "left", lower: true })
    const P = view(panel, m, w)
    const p = P.data
    for (let i = 0; i < m; i++) {
      const o = (k0 + w + i) * n + k0
      for (let j = 0; j < w; j++) {
        const v = pt[j * m + i]!
        p[i * w + j] = v
        a[o + j] = v
      }
    }
    // 3. Trailing lower triangle A22 ← A22 − L21·L21ᵀ, by block rows:
    //    rows i0:i1 need columns 0:i1 only.
    for (let i0 = 0; i0 < m; i0 += UPDATE_ROWS) {
      const i1 = Math.min(m, i0 + UPDATE_ROWS)
      const r = i1 - i0
      const C = view(update, r, i1)
      const c = C.data
      for (let i = 0; i < r; i++) {
        const o = (k0 + w + i0 + i) * n + k0 + w
        const ci = i * i1
        for (let j = 0; j <= i0 + i; j++) c[ci + j] = a[o + j]!
      }
      Blas3.gemm(false, true, -1, view(p, r, w, i0 * w), view(p, i1, w), 1, C)
      for (let i = 0; i < r; i++) {
        const o = (k0 + w + i0 + i) * n + k0 + w
        const ci = i * i1
        for (let j = 0; j <= i0 + i; j++) a[o + j] = c[ci + j]!
      }
    }
  }
}

/**
 * The top level for n > TILE_WIDTH: the lower triangle is held as column
 * tiles, tile t holding rows t·w:n of its w columns as one row-major array, so
 * every operand of a block step is contiguous. The diagonal block (the first
 * w rows of tile k) is factored in place by `cholBlocked`, the panel below it
 * solved by `Blas3.trsm` (on its transpose, so trsm runs along long rows),
 * and each tile to the right, from its diagonal block down, takes one gemm
 * A ← A − L₂₁·L₂₁ᵀ in place: only the lower triangle is computed, up to
 * the diagonal block of each tile. Reads the lower triangle of `a` (row
 * stride n) and writes L into `out` (whose upper triangle stays zero).
 */
const cholTiled = (operation: string, n: number, a: Float64Array, out: Float64Array): void => {
  const nb = TILE_WIDTH
  const count = Math.ceil(n / nb)
  const tiles: Float64Array[] = []
  const panelT = Vector.zeros(nb * (n - nb))
  try {
    for (let t = 0; t < count; t++) {
      const j0 = t * nb
      const w = Math.min(nb, n - j0)
      const tile = Vector.zeros((n - j0) * w)
      tiles.push(tile)
      for (let i = j0; i < n; i++) {
        const o = i * n + j0
        const d = (i - j0) * w
        const end = Math.min(w, i - j0 + 1)
        for (let j = 0; j < end; j++) {
          const v = a[o + j]!
          if (!Number.isFinite(v))
            throw new Errors.NonFiniteInput({ operation, what: "A", index: o + j, value: v })
          tile[d + j] = v
        }
      }
    }
    for (let k = 0; k < count; k++) {
      const k0 = k * nb
      const w = Math.min(nb, n - k0)
      const m = n - k0 - w
      const tile = tiles[k]!
      // 1. Diagonal block, in place.
      const D = view(tile, w, w)
      cholBlocked(operation, D, k0, 0)
      if (m === 0) break
      // 2. Panel L21 = A21·L11⁻ᵀ, as L21ᵀ = L11⁻¹·A21ᵀ.
      const PT = view(panelT, w, m)
      const pt = PT.data
      for (let i = 0; i < m; i++) {
        const o = (w + i) * w
        for (let j = 0; j < w; j++) pt[j * m + i] = tile[o + j]!
      }
      Blas3.trsm(D, PT, { side: "left", lower: true })
      for (let i = 0; i < m; i++) {
        const o = (w + i) * w
        for (let j = 0; j < w; j++) tile[o + j] = pt[j * m + i]!
      }
      // 3. Tile t (columns j0:j0+wt) from row j0 down: A ← A − L21[j0:n]·L21[j0:j0+wt]ᵀ.
      for (let t = k + 1; t < count; t++) {
        const j0 = t * nb
        const wt = Math.min(nb, n - j0)
        const r = j0 - k0 // row of tile k where global row j0 lies
        Blas3.gemm(
          false,
          true,
          -1,
          view(tile, n - j0, w, r * w),
          view(tile, wt, w, r * w),
          1,
          view(tiles[t]!, n - j0, wt)
        )
      }
    }
    for (let t = 0; t < count; t++) {
      const j0 = t * nb
      const w = Math.min(nb, n - j0)
      const tile = tiles[t]!
      for (let i = j0; i < n; i++) {
        const o = i * n + j0
        const d = (i - j0) * w
        const end = Math.min(w, i - j0 + 1)
        for (let j = 0; j < end; j++) out[o + j] = tile[d + j]!
      }
    }
  } finally {
    for (const tile of tiles) Memory.free(tile)
    Memory.free(panelT)
  }
}

/**
 * Factors a symmetric positive definite matrix as A = L·Lᵀ.
 *
 * Only the lower triangle of A (entries with row ≥ column) is read, as in
 * LAPACK `dpotrf` with uplo = 'L' and SciPy's `cho_factor(A, lower=True)`.
 * Blocked right-looking algorithm (Golub & Van Loan, §4.2.9): the trailing
 * updates are `Blas3.gemm` calls of depth 128. `A` is not modified.
 *
 * @example
 * const { L } = Cholesky.factor(Matrix.fromRows([[4, 2], [2, 5]]))
 * // L = [[2, 0], [1, 2]]
 * @throws DimensionMismatch when A is not square.
 * @throws NonFiniteInput when A has a NaN or infinite entry.
 * @throws NotPositiveDefinite when a pivot Aⱼⱼ − Σₖ Lⱼₖ² is not > 0: the
 *   leading (j+1) × (j+1) block is not positive definite (column j and the
 *   pivot are reported).
 * @category factorizations
 * @since 0.1.0
 */
export const factor = (A: Matrix.Matrix): CholeskyFactorization => {
  Matrix.assertSquare("Cholesky.factor", "A", A)
  const n = A.rows
  const L = Matrix.zeros(n, n)
  const a = A.data
  const l = L.data
  if (n > TILE_WIDTH) {
    try {
      cholTiled("Cholesky.factor", n, a, l)
    } catch (e) {
      Memory.free(l)
      throw e
    }
    return { L }
  }
  for (let i = 0; i < n; i++) {
    const o = i * n
    for (let j = 0; j <= i; j++) {
      const v = a[o + j]!
      if (!Number.isFinite(v)) {
        Memory.free(l)
        throw new Errors.NonFiniteInput({ operation: "Cholesky.factor", what: "A", index: o + j, value: v })
      }
      l[o + j] = v
    }
  }
  try {
    cholBlocked("Cholesky.factor", L, 0, 0)
  } catch (e) {
    Memory.free(l)
    throw e
  }
  return { L }
}

const isFactorization = (x: CholeskyFactorization | Matrix.Matrix): x is CholeskyFactorization => "L" in x

/**
 * Solves A·X = B for a matrix right-hand side from A = L·Lᵀ: two triangular
 * solves with many right-hand sides, X = L⁻ᵀ·(L⁻¹·B). B is not modified.
 *
 * @throws DimensionMismatch when B does not have n rows.
 * @throws NonFiniteInput when B has a NaN or infinite entry.
 * @category solvers
 * @since 0.1.0
 */
export const solveMatrix = (f: CholeskyFactorization, B: Matrix.Matrix): Matrix.Matrix => {
  const n = f.L.rows
  if (B.rows !== n) {
    throw new Errors.DimensionMismatch({
      operation: "Cholesky.solveMatrix",
      what: "B",
      expected: [n, B.cols],
      actual: [B.rows, B.cols]
    })
  }
  Vector.assertFinite("Cholesky.solveMatrix", "B", B.data)
  const X = Matrix.clone(B)
  Blas3.trsm(f.L, X, { side: "left", lower: true })
  Blas3.trsm(f.L, X, { side: "left", lower: true, transpose: true })
  return X
}

const solveVector = (f: CholeskyFactorization, b: Vector.Vector): Vector.Vector => {
  Vector.assertLength("Cholesky.solve", "b", b, f.L.rows)
  Vector.assertFinite("Cholesky.solve", "b", b)
  const x = Vector.clone(b)
  Blas2.trsv(f.L, x, { lower: true })
  Blas2.trsv(f.L, x, { lower: true, transpose: true })
  return x
}

/**
 * Solves A·x = b (b a vector) or A·X = B (B a matrix) for a symmetric
 * positive definite A.
 *
 * The first argument is either a factorization from `factor`, reused across
 * right-hand sides (O(n²) per vector), or A itself, which is factored first.
 * x = L⁻ᵀ·(L⁻¹·b) by forward and back substitution (Golub & Van Loan, §4.2).
 * Neither input is modified.
 *
 * @example
 * const x = Cholesky.solve(Matrix.fromRows([[4, 2], [2, 5]]), Vector.fromArray([2, 1]))
 * // x = [0.5, 0]
 * @throws DimensionMismatch when b does not have n entries (rows) or A is not square.
 * @throws NonFiniteInput when A or b has a NaN or infinite entry.
 * @throws NotPositiveDefinite when A is given and is not positive definite.
 * @category solvers
 * @since 0.1.0
 */
export function solve(f: CholeskyFactorization | Matrix.Matrix, b: Vector.Vector): Vector.Vector
export function solve(f: CholeskyFactorization | Matrix.Matrix, B: Matrix.Matrix): Matrix.Matrix
export function solve(
  f: CholeskyFactorization | Matrix.Matrix,
  b: Vector.Vector | Matrix.Matrix
): Vector.Vector | Matrix.Matrix {
  return solveWith(module, f, b)
}

const module: Factorization<CholeskyFactorization> = {
  is: isFactorization,
  factor,
  solveVector,
  solveMatrix,
  storage: (f) => f.L.data
}

/**
 * log det(A) = 2·Σ log Lᵢᵢ, without the overflow or underflow of det(A)
 * itself (0 for the empty matrix).
 *
 * @category evaluators
 * @since 0.1.0
 */
export const logDeterminant = (f: CholeskyFactorization): number => {
  const { rows: n, data } = f.L
  let s = 0
  for (let i = 0; i < n; i++) s += Math.log(data[i * n + i]!)
  return 2 * s
}

/**
 * The inverse A⁻¹ = L⁻ᵀ·L⁻¹, symmetric positive definite, as the solution of
 * A·X = I. Prefer `solve` when the inverse is only applied to vectors.
 *
 * @category evaluators
 * @since 0.1.0
 */
export const inverse = (f: CholeskyFactorization): Matrix.Matrix => {
  const n = f.L.rows
  const I = Matrix.identity(n)
  const X = solveMatrix(f, I)
  Memory.free(I.data)
  // The two triangles differ by rounding only.
  symmetrize(X)
  return X
}

/** The factor L of a factorization or the factor itself, checked against x; returns a copy of L. */
const rankOneStart = (
  operation: string,
  f: CholeskyFactorization | Matrix.Matrix,
  x: Vector.Vector
): Matrix.Matrix => {
  const L = isFactorization(f) ? f.L : f
  Matrix.assertSquare(operation, "L", L)
  Vector.assertLength(operation, "x", x, L.rows)
  Vector.assertFinite(operation, "x", x)
  return Matrix.clone(L)
}

/**
 * Below the diagonal of column k of the n × n factor `l` (n = w.length), the
 * rotation of a rank-1 sweep: Lᵢₖ ← (Lᵢₖ ± s·wᵢ)/c, then wᵢ ← c·wᵢ − s·Lᵢₖ, for
 * i > k (`sign` +1 for the update, −1 for the downdate).
 */
const rotateColumn = (
  l: Float64Array,
  w: Float64Array,
  k: number,
  c: number,
  s: number,
  sign: 1 | -1
): void => {
  const n = w.length
  const ss = sign * s
  for (let i = k + 1; i < n; i++) {
    const lik = (l[i * n + k]! + ss * w[i]!) / c
    l[i * n + k] = lik
    w[i] = c * w[i]! - s * lik
  }
}

/**
 * Rank-1 update: the factor L̃ of A + x·xᵀ from the factor L of A (a
 * factorization or L itself), in O(n²).
 *
 * A sweep of Givens rotations that zero x against the columns of L, the
 * method of LINPACK `dchud` (Gill, Golub, Murray & Saunders, "Methods for
 * modifying matrix factorizations", Math. Comp. 28, 1974; Golub & Van Loan,
 * §6.5): for
 * k = 0, …, n − 1, r = √(Lₖₖ² + xₖ²), c = r/Lₖₖ, s = xₖ/Lₖₖ, Lₖₖ ← r and, for
 * i > k, Lᵢₖ ← (Lᵢₖ + s·xᵢ)/c, xᵢ ← c·xᵢ − s·Lᵢₖ. Neither input is modified.
 *
 * @throws DimensionMismatch when L is not square or x does not have n entries.
 * @throws NonFiniteInput when x has a NaN or infinite entry.
 * @category factorizations
 * @since 0.1.0
 */
export const update = (f: CholeskyFactorization | Matrix.Matrix, x: Vector.Vector): CholeskyFactorization => {
  const L = rankOneStart("Cholesky.update", f, x)
  const n = L.rows
  const l = L.data
  const w = Vector.clone(x)
  for (let k = 0; k < n; k++) {
    const lkk = l[k * n + k]!
    const xk = w[k]!
    if (xk === 0) continue
    const r = Math.hypot(lkk, xk)
    l[k * n + k] = r
    rotateColumn(l, w, k, r / lkk, xk / lkk, 1)
  }
  Memory.free(w)
  return { L }
}

/**
 * Rank-1 downdate: the factor L̃ of A − x·xᵀ from the factor L of A (a
 * factorization or L itself), in O(n²), when A − x·xᵀ is positive definite.
 *
 * A sweep of hyperbolic rotations, the update's recurrence with the sign of
 * x·xᵀ reversed (Golub & Van Loan, §6.5; Stewart, "The effects of rounding
 * error on an algorithm for downdating a Cholesky factorization", 1979): for
 * k = 0, …, n − 1, r² = Lₖₖ² − xₖ² must be > 0; then c = r/Lₖₖ, s = xₖ/Lₖₖ,
 * Lₖₖ ← r and, for i > k, Lᵢₖ ← (Lᵢₖ − s·xᵢ)/c, xᵢ ← c·xᵢ − s·Lᵢₖ. Downdating
 * is less stable than updating: the result's accuracy degrades as A − x·xᵀ
 * nears singularity. Neither input is modified.
 *
 * @throws DimensionMismatch when L is not square or x does not have n entries.
 * @throws NonFiniteInput when x has a NaN or infinite entry.
 * @throws NotPositiveDefinite when A − x·xᵀ is not positive definite: the
 *   first column k with Lₖₖ² − xₖ² ≤ 0 and that value are reported.
 * @category factorizations
 * @since 0.1.0
 */
export const downdate = (
  f: CholeskyFactorization | Matrix.Matrix,
  x: Vector.Vector
): CholeskyFactorization => {
  const L = rankOneStart("Cholesky.downdate", f, x)
  const n = L.rows
  const l = L.data
  const w = Vector.clone(x)
  for (let k = 0; k < n; k++) {
    const lkk = l[k * n + k]!
    const xk = w[k]!
    if (xk === 0) continue
    const r2 = (lkk - xk) * (lkk + xk)
    if (!(r2 > 0)) {
      Memory.free(w)
      throw new Errors.NotPositiveDefinite({ operation: "Cholesky.downdate", column: k, pivot: r2 })
    }
    const r = Math.sqrt(r2)
    l[k * n + k] = r
    rotateColumn(l, w, k, r / lkk, xk / lkk, -1)
  }
  Memory.free(w)
  return { L }
}
