/**
 * A private dense solve for the matrix-function modules: LU factorization with
 * partial pivoting (PA = LU, Golub & Van Loan, "Matrix Computations", 4th ed.,
 * Algorithm 3.4.2, the right-looking blocked form of LAPACK's dgetrf) and the
 * solve A·X = B for many right-hand sides.
 *
 * Kept here so that `Expm.ts` does not depend on the public `Lu` module. Panels
 * of `BLOCK` columns are factored with plain loops; the block row of U comes
 * from `Blas3.trsm` and the trailing update A₂₂ ← A₂₂ − L₂₁·U₁₂ from
 * `Blas3.gemm`, which carry the O(n³) work. The two triangular solves with the
 * right-hand sides also run in `Blas3.trsm`.
 *
 * @since 0.1.0
 */
import { Blas3, Errors, Matrix } from "@descent/core"

type Mat = Matrix.Matrix

/** Panel width: narrow panels keep the plain-loop share small; the rest goes to gemm/trsm. */
const BLOCK = 16

/** Copies the block rows r0…r0+m−1, columns c0…c0+k−1 of the n-column `src` into `dst` (m × k). */
const copyOut = (src: Float64Array, n: number, r0: number, c0: number, dst: Mat): void => {
  const { rows: m, cols: k, data: d } = dst
  for (let i = 0; i < m; i++) {
    const s = (r0 + i) * n + c0
    for (let j = 0; j < k; j++) d[i * k + j] = src[s + j]!
  }
}
const copyIn = (dst: Float64Array, n: number, r0: number, c0: number, src: Mat): void => {
  const { rows: m, cols: k, data: d } = src
  for (let i = 0; i < m; i++) {
    const s = (r0 + i) * n + c0
    for (let j = 0; j < k; j++) dst[s + j] = d[i * k + j]!
  }
}

/**
 * Overwrites the n × n matrix `A` with its LU factors (unit lower L below the
 * diagonal, U on and above it, rows permuted) and `B` (n × k) with the
 * solution X of A·X = B.
 *
 * @throws Singular when a pivot column is exactly zero.
 * @internal
 */
export const solveInPlace = (operation: string, A: Mat, B: Mat): void => {
  const n = A.rows
  const k = B.cols
  const a = A.data
  const b = B.data
  // One scratch allocation: U₁₂ (≤ BLOCK·n), L₁₁ / L₂₁ (≤ BLOCK·n), A₂₂ (≤ n²).
  const panel = Math.min(n, BLOCK) * n
  const scratch = Matrix.zeros(1, 2 * panel + n * n).data
  const scratch1 = scratch.subarray(0, panel)
  const scratch3 = scratch.subarray(panel, 2 * panel)
  const scratch2 = scratch.subarray(2 * panel)
  for (let k0 = 0; k0 < n; k0 += BLOCK) {
    const k1 = Math.min(n, k0 + BLOCK)
    // 1. Factor the panel (rows k0…n−1, columns k0…k1−1), swapping whole rows.
    for (let j = k0; j < k1; j++) {
      let p = j
      let best = Math.abs(a[j * n + j]!)
      for (let i = j + 1; i < n; i++) {
        const v = Math.abs(a[i * n + j]!)
        if (v > best) {
          best = v
          p = i
        }
      }
      if (best === 0) throw new Errors.Singular({ operation, index: j })
      if (p !== j) {
        for (let c = 0; c < n; c++) {
          const t = a[j * n + c]!
          a[j * n + c] = a[p * n + c]!
          a[p * n + c] = t
        }
        for (let c = 0; c < k; c++) {
          const t = b[j * k + c]!
          b[j * k + c] = b[p * k + c]!
          b[p * k + c] = t
        }
      }
      const inv = 1 / a[j * n + j]!
      for (let i = j + 1; i < n; i++) {
        const l = a[i * n + j]! * inv
        a[i * n + j] = l
        if (l !== 0) for (let c = j + 1; c < k1; c++) a[i * n + c] = a[i * n + c]! - l * a[j * n + c]!
      }
    }
    const nb = k1 - k0
    const rest = n - k1
    if (rest === 0) break
    // 2. U₁₂ ← L₁₁⁻¹·A₁₂.
    const L11 = Matrix.fromData(nb, nb, scratch3.subarray(0, nb * nb))
    copyOut(a, n, k0, k0, L11)
    const U12 = Matrix.fromData(nb, rest, scratch1.subarray(0, nb * rest))
    copyOut(a, n, k0, k1, U12)
    Blas3.trsm(L11, U12, { side: "left", lower: true, unitDiagonal: true })
    copyIn(a, n, k0, k1, U12)
    // 3. A₂₂ ← A₂₂ − L₂₁·U₁₂.
    const L21 = Matrix.fromData(rest, nb, scratch3.subarray(0, rest * nb))
    copyOut(a, n, k1, k0, L21)
    const A22 = Matrix.fromData(rest, rest, scratch2.subarray(0, rest * rest))
    copyOut(a, n, k1, k1, A22)
    Blas3.gemm(false, false, -1, L21, U12, 1, A22)
    copyIn(a, n, k1, k1, A22)
  }
  Blas3.trsm(A, B, { side: "left", lower: true, unitDiagonal: true })
  Blas3.trsm(A, B, { side: "left", lower: false })
}
