/**
 * Eigenvalues and eigenvectors of a real symmetric matrix, A = V·Λ·Vᵀ with V
 * orthogonal and Λ real diagonal: the spectral decomposition behind PCA, matrix
 * functions of SPD matrices, curvature analysis and generalized Rayleigh
 * quotients.
 *
 * Two phases (Golub & Van Loan, *Matrix Computations*, 4th ed., §8.3):
 * 1. Householder tridiagonalization Qᵀ·A·Q = T (EISPACK `tred2`), accumulating Q.
 * 2. The implicit symmetric QL iteration with Wilkinson-type shifts on T
 *    (EISPACK `tql2`), applying its Givens rotations to Q.
 *
 * Q is accumulated transposed (its columns as contiguous rows, in WebAssembly
 * memory): the back-transformation is one `gemv` and one `ger` per reflector and
 * each QL rotation is one SIMD `Blas1.rot` on two rows.
 *
 * Both phases are orthogonal transformations, so the computed decomposition is
 * backward stable: V·Λ·Vᵀ = A + ΔA with ‖ΔA‖₂ ≤ c·n·u·‖A‖₂, and each eigenvalue is
 * within c·n·u·‖A‖₂ of an exact one (Weyl). Eigenvectors are accurate to
 * O(u·‖A‖ / gap). Only the lower triangle of A is read, as LAPACK `dsyev` with
 * uplo = 'L' (and `scipy.linalg.eigh`'s default) does.
 *
 * @since 0.1.0
 */
import { Blas1, Blas2, Errors, Matrix, Vector } from "@descent/core"

/**
 * The spectral decomposition of a symmetric matrix.
 *
 * @category models
 * @since 0.1.0
 */
export interface SymmetricEigen {
  /** The n eigenvalues in ascending order. */
  readonly eigenvalues: Float64Array
  /** n × n orthogonal matrix whose column j is the eigenvector of `eigenvalues[j]`. */
  readonly eigenvectors: Matrix.Matrix
}

const EPS = 2 ** -52
/** QL sweeps allowed per eigenvalue before it is accepted as is (LAPACK allows 30). */
const MAX_ITERATIONS_PER_EIGENVALUE = 60

/** Squares summed in this range neither overflow nor lose precision to underflow. */
const NORM_TINY = 2 ** -960
const NORM_HUGE = 2 ** 960

/**
 * √(a² + b²): the direct formula when its squares are safe (a few times faster
 * than `Math.hypot` in V8, within an ulp of it), `Math.hypot` otherwise.
 */
const planeNorm = (a: number, b: number): number => {
  const ss = a * a + b * b
  return ss > NORM_TINY && ss < NORM_HUGE ? Math.sqrt(ss) : Math.hypot(a, b)
}

const validate = (operation: string, A: Matrix.Matrix): void => {
  Matrix.assertSquare(operation, "A", A)
  for (let i = 0; i < A.rows; i++) {
    for (let j = 0; j <= i; j++) {
      const v = A.data[i * A.cols + j]!
      if (!Number.isFinite(v)) {
        throw new Errors.NonFiniteInput({ operation, what: "A", index: i * A.cols + j, value: v })
      }
    }
  }
}

/**
 * Householder tridiagonalization (EISPACK `tred2`, reduction part).
 *
 * On entry V holds the lower triangle of A and zeros above the diagonal. On exit
 * the diagonal of V is the diagonal of T = QᵀAQ, e[1..n−1] its subdiagonal, and
 * for i ≥ 1 row i of U holds (in columns 0..i−1, zeros after) the Householder
 * vector uᵢ of the reflector I − uᵢuᵢᵀ/hᵢ, with hᵢ in d[i] (hᵢ = 0: none).
 *
 * Step i works on the leading i × i block A₍ᵢ₎ of V. Since the strict upper
 * triangle of V stays zero, rows 0..i−1 of V at full width are [L 0] with L the
 * lower triangle of A₍ᵢ₎, and A₍ᵢ₎·x = L·x + Lᵀ·x − diag(L)∘x comes from one
 * `gemvPair` sweep over those rows.
 */
const tridiagonalize = (
  V: Matrix.Matrix,
  U: Matrix.Matrix | undefined,
  d: Float64Array,
  e: Float64Array
): void => {
  const n = V.rows
  const v = V.data
  // x: the current d padded with zeros to length n; y, z: L·x and Lᵀ·x.
  const x = Vector.zeros(n)
  const y = Vector.zeros(n)
  const z = Vector.zeros(n)
  for (let j = 0; j < n; j++) d[j] = v[(n - 1) * n + j]!
  for (let i = n - 1; i > 0; i--) {
    let scale = 0
    let h = 0
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!)
    if (scale === 0) {
      e[i] = d[i - 1]!
      for (let j = 0; j < i; j++) {
        d[j] = v[(i - 1) * n + j]!
        v[i * n + j] = 0
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] = d[k]! / scale
        h += d[k]! * d[k]!
      }
      let f = d[i - 1]!
      let g = Math.sqrt(h)
      if (f > 0) g = -g
      e[i] = scale * g
      h -= f * g
      d[i - 1] = f - g
      if (U !== undefined) for (let j = 0; j < i; j++) U.data[i * n + j] = d[j]!
      // e ← A₍ᵢ₎·d (see above); x[i..n) is zero.
      for (let j = 0; j < i; j++) x[j] = d[j]!
      x[i] = 0
      const yi = y.subarray(0, i)
      Blas2.gemvPair(Matrix.fromData(i, n, v.subarray(0, i * n)), x, yi, x.subarray(0, i), z)
      for (let j = 0; j < i; j++) e[j] = yi[j]! + z[j]! - v[j * n + j]! * d[j]!
      f = 0
      for (let j = 0; j < i; j++) {
        e[j] = e[j]! / h
        f += e[j]! * d[j]!
      }
      const hh = f / (h + h)
      for (let j = 0; j < i; j++) e[j] = e[j]! - hh * d[j]!
      // Rank-2 update of the lower triangle, A₍ᵢ₎ ← A₍ᵢ₎ − d·eᵀ − e·dᵀ, row by row.
      for (let k = 0; k < i; k++) {
        const row = k * n
        const ek = e[k]!
        const dk = d[k]!
        for (let j = 0; j <= k; j++) v[row + j] = v[row + j]! - (d[j]! * ek + e[j]! * dk)
      }
      for (let j = 0; j < i; j++) {
        d[j] = v[(i - 1) * n + j]!
        v[i * n + j] = 0
      }
    }
    d[i] = h
  }
  e[0] = 0
}

/**
 * Accumulates Qᵀ from the reflectors left in U by `tridiagonalize` into the
 * n × n matrix W (row j of W = column j of Q), growing the leading block as
 * EISPACK `tred2` does: W ← (W ⊕ 1)·(I − u·uᵀ/h). The rows of W are used at full
 * width (columns beyond the block are zero, as are those of u), so each step is
 * one `gemv` and one `ger` on contiguous rows.
 */
const accumulate = (U: Matrix.Matrix, h: Float64Array, W: Matrix.Matrix): void => {
  const n = W.rows
  const w = W.data
  const t = Vector.zeros(n)
  for (let i = 0; i < n; i++) w[i * n + i] = 1
  for (let b = 1; b < n; b++) {
    const hb = h[b]!
    if (hb === 0) continue
    const u = U.data.subarray(b * n, b * n + n)
    const block = Matrix.fromData(b, n, w.subarray(0, b * n))
    const tb = t.subarray(0, b)
    Blas2.gemv(1, block, u, 0, tb)
    Blas2.ger(-1 / hb, tb, u, block)
  }
}

/**
 * Implicit QL iteration with shifts on the tridiagonal (d, e) (EISPACK `tql2`).
 * `rows` are the rows of the accumulated orthogonal matrix TRANSPOSED (row j =
 * column j of Q), so each Givens rotation updates two contiguous rows; they are
 * undefined when only eigenvalues are wanted.
 */
const tridiagonalQl = (
  d: Float64Array,
  e: Float64Array,
  n: number,
  rows: ReadonlyArray<Float64Array> | undefined
): void => {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!
  if (n > 0) e[n - 1] = 0
  let f = 0
  let tst1 = 0
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!))
    let m = l
    while (m < n - 1) {
      if (Math.abs(e[m]!) <= EPS * tst1) break
      m++
    }
    if (m > l) {
      let iteration = 0
      do {
        iteration++
        let g = d[l]!
        let p = (d[l + 1]! - g) / (2 * e[l]!)
        let r = planeNorm(p, 1)
        if (p < 0) r = -r
        d[l] = e[l]! / (p + r)
        d[l + 1] = e[l]! * (p + r)
        const dl1 = d[l + 1]!
        let h = g - d[l]!
        for (let i = l + 2; i < n; i++) d[i] = d[i]! - h
        f += h
        p = d[m]!
        let c = 1
        let c2 = c
        let c3 = c
        const el1 = e[l + 1]!
        let s = 0
        let s2 = 0
        for (let i = m - 1; i >= l; i--) {
          c3 = c2
          c2 = c
          s2 = s
          g = c * e[i]!
          h = c * p
          r = planeNorm(p, e[i]!)
          e[i + 1] = s * r
          s = e[i]! / r
          c = p / r
          p = c * d[i]! - s * g
          d[i + 1] = h + s * (c * g + s * d[i]!)
          // Row i + 1 ← c·row i+1 + s·row i, row i ← c·row i − s·row i+1.
          if (rows !== undefined) Blas1.rot(c, s, rows[i + 1]!, rows[i]!)
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1
        e[l] = s * p
        d[l] = c * p
      } while (Math.abs(e[l]!) > EPS * tst1 && iteration < MAX_ITERATIONS_PER_EIGENVALUE)
    }
    d[l] = d[l]! + f
    e[l] = 0
  }
}

const decompose = (operation: string, A: Matrix.Matrix, vectors: boolean): SymmetricEigen => {
  validate(operation, A)
  const n = A.rows
  const V = Matrix.zeros(n, n)
  const v = V.data
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) v[i * n + j] = A.data[i * n + j]!
  const d = Vector.zeros(n)
  const e = Vector.zeros(n)
  const U = vectors ? Matrix.zeros(n, n) : undefined
  tridiagonalize(V, U, d, e)
  // W = Qᵀ in WebAssembly memory, so the rotations below run on the SIMD kernels
  // over contiguous rows; its row views are made once.
  const W = Matrix.zeros(vectors ? n : 0, vectors ? n : 0)
  const w = W.data
  if (U !== undefined) accumulate(U, d, W)
  for (let i = 0; i < n; i++) d[i] = v[i * n + i]!
  const rows = vectors ? Array.from({ length: n }, (_, i) => w.subarray(i * n, i * n + n)) : undefined
  tridiagonalQl(d, e, n, rows)
  // Sort ascending; column j of the result is row order[j] of the transposed Q.
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => d[i]! - d[j]!)
  const eigenvalues = Vector.zeros(n)
  const eigenvectors = Matrix.zeros(vectors ? n : 0, vectors ? n : 0)
  for (let j = 0; j < n; j++) {
    const src = order[j]!
    eigenvalues[j] = d[src]!
    if (vectors) for (let k = 0; k < n; k++) eigenvectors.data[k * n + j] = w[src * n + k]!
  }
  return { eigenvalues, eigenvectors }
}

/**
 * Eigenvalues and eigenvectors of a symmetric n × n matrix A (only its lower
 * triangle is read): A = V·diag(λ)·Vᵀ with λ ascending and V orthogonal, by
 * Householder tridiagonalization and the implicit QL iteration. Backward stable:
 * each λⱼ is within c·n·u·‖A‖₂ of an eigenvalue of A; eigenvector j is accurate
 * to O(u·‖A‖₂ / gapⱼ) and its sign is arbitrary.
 *
 * Reference: Golub & Van Loan, *Matrix Computations*, 4th ed., Algorithms 8.3.1
 * and 8.3.3; Bowdler, Martin, Reinsch & Wilkinson, "The QR and QL algorithms for
 * symmetric matrices", *Numer. Math.* 11 (1968).
 *
 * @throws DimensionMismatch when A is not square.
 * @throws NonFiniteInput when the lower triangle of A has a NaN or infinite entry.
 * @category factorizations
 * @since 0.1.0
 */
export const eigh = (A: Matrix.Matrix): SymmetricEigen => decompose("SymmetricEigen.eigh", A, true)

/**
 * The eigenvalues of a symmetric n × n matrix A (lower triangle read), ascending;
 * as `eigh` without accumulating the eigenvectors.
 *
 * Reference: Golub & Van Loan, *Matrix Computations*, 4th ed., §8.3.
 *
 * @throws DimensionMismatch when A is not square.
 * @throws NonFiniteInput when the lower triangle of A has a NaN or infinite entry.
 * @category factorizations
 * @since 0.1.0
 */
export const eigvalsh = (A: Matrix.Matrix): Float64Array =>
  decompose("SymmetricEigen.eigvalsh", A, false).eigenvalues
