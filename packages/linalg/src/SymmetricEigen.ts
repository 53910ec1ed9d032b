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
 * Both phases are orthogonal transformations, so the computed decomposition is
 * backward stable: V·Λ·Vᵀ = A + ΔA with ‖ΔA‖₂ ≤ c·n·u·‖A‖₂, and each eigenvalue is
 * within c·n·u·‖A‖₂ of an exact one (Weyl). Eigenvectors are accurate to
 * O(u·‖A‖ / gap). Only the lower triangle of A is read, as LAPACK `dsyev` with
 * uplo = 'L' (and `scipy.linalg.eigh`'s default) does.
 *
 * @since 0.1.0
 */
import { Errors, Matrix, Vector } from "@descent/core"

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
 * Householder tridiagonalization (EISPACK `tred2`): on entry v holds the lower
 * triangle of A (row-major n × n); on exit v = Q, d the diagonal and e the
 * subdiagonal of T = QᵀAQ in e[1..n−1].
 */
const tridiagonalize = (
  v: Float64Array,
  n: number,
  d: Float64Array,
  e: Float64Array,
  work: Float64Array,
  vectors: boolean
): void => {
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
        v[j * n + i] = 0
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
      // e ← A₍ᵢ₎·d with A₍ᵢ₎ the symmetric matrix of the lower triangle of v[0:i, 0:i],
      // row by row (contiguous in row-major storage).
      for (let j = 0; j < i; j++) {
        e[j] = 0
        v[j * n + i] = d[j]!
      }
      for (let k = 0; k < i; k++) {
        const row = k * n
        const dk = d[k]!
        let sum = 0
        for (let j = 0; j < k; j++) {
          const akj = v[row + j]!
          sum += akj * d[j]!
          e[j] = e[j]! + akj * dk
        }
        e[k] = e[k]! + sum + v[row + k]! * dk
      }
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
  if (!vectors) {
    // T's diagonal was left on the diagonal of v; Q is not needed.
    for (let i = 0; i < n; i++) d[i] = v[i * n + i]!
    e[0] = 0
    return
  }
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    v[(n - 1) * n + i] = v[i * n + i]!
    v[i * n + i] = 1
    const h = d[i + 1]!
    if (h !== 0) {
      // V ← (I − d·uᵀ)·V on the leading (i+1) × (i+1) block, u = column i + 1:
      // work = Vᵀ·u accumulated row by row, then row k minus d[k]·work.
      for (let j = 0; j <= i; j++) work[j] = 0
      for (let k = 0; k <= i; k++) {
        const row = k * n
        const uk = v[row + i + 1]!
        d[k] = uk / h
        for (let j = 0; j <= i; j++) work[j] = work[j]! + uk * v[row + j]!
      }
      for (let k = 0; k <= i; k++) {
        const row = k * n
        const dk = d[k]!
        for (let j = 0; j <= i; j++) v[row + j] = v[row + j]! - dk * work[j]!
      }
    }
    for (let k = 0; k <= i; k++) v[k * n + i + 1] = 0
  }
  for (let j = 0; j < n; j++) {
    d[j] = v[(n - 1) * n + j]!
    v[(n - 1) * n + j] = 0
  }
  if (n > 0) v[(n - 1) * n + n - 1] = 1
  e[0] = 0
}

/**
 * Implicit QL iteration with shifts on the tridiagonal (d, e) (EISPACK `tql2`).
 * `w` holds the accumulated orthogonal matrix TRANSPOSED (row j = column j of Q),
 * so each Givens rotation touches two contiguous rows; it is skipped when
 * `vectors` is false.
 */
const tridiagonalQl = (
  d: Float64Array,
  e: Float64Array,
  w: Float64Array,
  n: number,
  vectors: boolean
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
        let r = Math.hypot(p, 1)
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
          r = Math.hypot(p, e[i]!)
          e[i + 1] = s * r
          s = e[i]! / r
          c = p / r
          p = c * d[i]! - s * g
          d[i + 1] = h + s * (c * g + s * d[i]!)
          if (vectors) {
            const ri = i * n
            const rj = ri + n
            for (let k = 0; k < n; k++) {
              const x = w[ri + k]!
              const y = w[rj + k]!
              w[rj + k] = s * x + c * y
              w[ri + k] = c * x - s * y
            }
          }
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
  tridiagonalize(v, n, d, e, Vector.zeros(n), vectors)
  // Transpose Q in place so that the QL rotations work on contiguous rows.
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const t = v[i * n + j]!
      v[i * n + j] = v[j * n + i]!
      v[j * n + i] = t
    }
  }
  tridiagonalQl(d, e, v, n, vectors)
  // Sort ascending; column j of the result is row order[j] of the transposed Q.
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => d[i]! - d[j]!)
  const eigenvalues = Vector.zeros(n)
  const eigenvectors = Matrix.zeros(vectors ? n : 0, vectors ? n : 0)
  for (let j = 0; j < n; j++) {
    const src = order[j]!
    eigenvalues[j] = d[src]!
    if (vectors) for (let k = 0; k < n; k++) eigenvectors.data[k * n + j] = v[src * n + k]!
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
