/**
 * A private symmetric eigensolver for the matrix-root module: the cyclic Jacobi
 * method (Golub & Van Loan, "Matrix Computations", 4th ed., Algorithm 8.5.3),
 * A = V·diag(λ)·Vᵀ with V orthogonal.
 *
 * Each sweep applies one plane rotation per off-diagonal pair (p, q), chosen to
 * zero a_pq (Rutishauser's stable formulas, 1966); convergence is quadratic, and
 * eigenvalues are computed to high relative accuracy for well-behaved scaled
 * SPD matrices (Demmel & Veselić 1992). Kept here so that `MatrixRoots.ts` does
 * not depend on the public `SymmetricEigen` module.
 *
 * @since 0.1.0
 */
import { Matrix, Vector } from "@descent/core"

/** Result of `jacobiEigen`: eigenvalues (ascending) and eigenvectors as the columns of `vectors`. */
export interface JacobiEigen {
  readonly values: Float64Array
  readonly vectors: Matrix.Matrix
  readonly sweeps: number
}

const MAX_SWEEPS = 60

/**
 * Eigen-decomposition of the symmetric part (A + Aᵀ)/2 of a square A, sorted
 * by ascending eigenvalue. Stops when every off-diagonal entry satisfies
 * |a_pq| ≤ u·√(|a_pp|·|a_qq|) (or is exactly zero), at most 60 sweeps.
 *
 * @internal
 */
export const jacobiEigen = (A: Matrix.Matrix): JacobiEigen => {
  const n = A.rows
  const W = Matrix.zeros(n, n)
  const w = W.data
  const a0 = A.data
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) w[i * n + j] = 0.5 * (a0[i * n + j]! + a0[j * n + i]!)
  const V = Matrix.identity(n)
  const v = V.data
  const eps = 2 ** -53
  let sweeps = 0
  for (; sweeps < MAX_SWEEPS; sweeps++) {
    let rotated = false
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = w[p * n + q]!
        if (apq === 0) continue
        const app = w[p * n + p]!
        const aqq = w[q * n + q]!
        if (Math.abs(apq) <= eps * Math.sqrt(Math.abs(app) * Math.abs(aqq))) {
          w[p * n + q] = 0
          w[q * n + p] = 0
          continue
        }
        rotated = true
        // tan of the rotation angle: the smaller root of t² + 2θt − 1 = 0.
        const theta = (aqq - app) / (2 * apq)
        const t =
          Math.abs(theta) > 1e150
            ? 1 / (2 * theta)
            : Math.sign(theta === 0 ? 1 : theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1))
        const c = 1 / Math.sqrt(t * t + 1)
        const s = t * c
        // A ← Jᵀ A J on rows/columns p, q.
        for (let k = 0; k < n; k++) {
          const akp = w[k * n + p]!
          const akq = w[k * n + q]!
          w[k * n + p] = c * akp - s * akq
          w[k * n + q] = s * akp + c * akq
        }
        for (let k = 0; k < n; k++) {
          const apk = w[p * n + k]!
          const aqk = w[q * n + k]!
          w[p * n + k] = c * apk - s * aqk
          w[q * n + k] = s * apk + c * aqk
        }
        w[p * n + q] = 0
        w[q * n + p] = 0
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!
          const vkq = v[k * n + q]!
          v[k * n + p] = c * vkp - s * vkq
          v[k * n + q] = s * vkp + c * vkq
        }
      }
    }
    if (!rotated) break
  }
  // Sort ascending.
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => w[i * n + i]! - w[j * n + j]!)
  const values = Vector.zeros(n)
  const vectors = Matrix.zeros(n, n)
  for (let k = 0; k < n; k++) {
    const src = order[k]!
    values[k] = w[src * n + src]!
    for (let i = 0; i < n; i++) vectors.data[i * n + k] = v[i * n + src]!
  }
  return { values, vectors, sweeps }
}
