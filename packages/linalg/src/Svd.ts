/**
 * Singular value decomposition A = U·Σ·Vᵀ of a dense m × n matrix: the
 * decomposition behind least squares with rank deficiency, pseudo-inverses,
 * 2-norms and condition numbers, low-rank approximation and Procrustes problems.
 *
 * Algorithm (Drmač & Veselić, "New fast and accurate Jacobi SVD algorithm I/II",
 * *SIAM J. Matrix Anal. Appl.* 29 (2008)): with m ≥ n (else the transpose is
 * decomposed), a column-pivoted QR A·P = Q·R first, then the one-sided
 * (Hestenes) Jacobi method on X = Rᵀ: plane rotations orthogonalize the columns
 * of X (the rows of R, contiguous in row-major storage) until every pair satisfies
 * |xₚᵀx_q| ≤ √n·ε·‖xₚ‖·‖x_q‖. Then X·W = U_X·Σ, so R = W·Σ·U_Xᵀ and
 * A = (Q·W)·Σ·(P·U_X)ᵀ. The pivoted QR grades the rows of R, which speeds up the
 * (ultimately quadratic) convergence of the cyclic sweeps (about ten for a dense
 * 200 × 200 matrix); dots and rotations run in core's SIMD level-1 kernels.
 * Every step is an orthogonal
 * transformation: the result is backward stable (UΣVᵀ = A + ΔA, ‖ΔA‖ ≤ c·n·u·‖A‖)
 * and each singular value is within c·n·u·‖A‖₂ of the exact one.
 *
 * @since 0.1.0
 */
import { Blas1, Blas3, Matrix, Vector } from "@descent/core"
import * as Qr from "./Qr.ts"

/**
 * A singular value decomposition A = U·diag(singularValues)·Vt.
 *
 * @category models
 * @since 0.1.0
 */
export interface Svd {
  /** m × k (thin, k = min(m, n)) or m × m (full), orthonormal columns. */
  readonly U: Matrix.Matrix
  /** The k = min(m, n) singular values, descending, ≥ 0. */
  readonly singularValues: Float64Array
  /** k × n (thin) or n × n (full), orthonormal rows: Vᵀ. */
  readonly Vt: Matrix.Matrix
}

/**
 * Options of `svd`.
 *
 * @category models
 * @since 0.1.0
 */
export interface SvdOptions {
  /** Square U (m × m) and Vt (n × n) instead of the thin factors; default false. */
  readonly full?: boolean
}

const EPS = 2 ** -52
/** Jacobi sweeps before giving up on further rotations (convergence takes ≈ 5–10). */
const MAX_SWEEPS = 60
/** An updated squared norm below this fraction of the pair's larger one is recomputed (cancellation). */
const REUPDATE = 0.1

/**
 * One-sided Jacobi on the rows of the k × k row-major `w` (the columns of X);
 * the same rotations are applied to the rows of `z` (which starts as I) when
 * `z` is given.
 */
const jacobi = (w: Float64Array, k: number, len: number, z: Float64Array | undefined): void => {
  const tol = EPS * Math.sqrt(Math.max(len, 1))
  // Row views (made once) so that the dots and rotations run in core's SIMD kernels.
  const rows = Array.from({ length: k }, (_, p) => w.subarray(p * len, (p + 1) * len))
  const zRows = z === undefined ? [] : Array.from({ length: k }, (_, p) => z.subarray(p * k, (p + 1) * k))
  const tmp = Vector.zeros(Math.max(len, k))
  const tmpW = tmp.subarray(0, len)
  const tmpZ = tmp.subarray(0, k)
  const sq = Vector.zeros(k)
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let rotated = false
    // Squared row norms, exact at the start of a sweep and updated by the rotations
    // (α' = α − tγ, β' = β + tγ; Hestenes 1958), recomputed when cancellation
    // makes the update unreliable.
    for (let p = 0; p < k; p++) sq[p] = Blas1.dot(rows[p]!, rows[p]!)
    for (let p = 0; p < k - 1; p++) {
      const xp = rows[p]!
      for (let qq = p + 1; qq < k; qq++) {
        const alpha = sq[p]!
        const beta = sq[qq]!
        if (alpha === 0 || beta === 0) continue
        const xq = rows[qq]!
        const gamma = Blas1.dot(xp, xq)
        if (gamma === 0 || Math.abs(gamma) <= tol * Math.sqrt(alpha) * Math.sqrt(beta)) continue
        rotated = true
        const zeta = (beta - alpha) / (2 * gamma)
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.hypot(1, zeta))
        const c = 1 / Math.sqrt(1 + t * t)
        const s = c * t
        rotate(xp, xq, c, s, tmpW)
        const alphaNew = alpha - t * gamma
        const betaNew = beta + t * gamma
        const larger = Math.max(alpha, beta)
        sq[p] = alphaNew > REUPDATE * larger ? alphaNew : Blas1.dot(xp, xp)
        sq[qq] = betaNew > REUPDATE * larger ? betaNew : Blas1.dot(xq, xq)
        if (z !== undefined) rotate(zRows[p]!, zRows[qq]!, c, s, tmpZ)
      }
    }
    if (!rotated) break
  }
}

/** (x, y) ← (c·x − s·y, s·x + c·y) with core's kernels; `tmp` has the length of x. */
const rotate = (x: Float64Array, y: Float64Array, c: number, s: number, tmp: Float64Array): void => {
  tmp.set(x)
  Blas1.scal(c, x)
  Blas1.axpy(-s, y, x)
  Blas1.scal(c, y)
  Blas1.axpy(s, tmp, y)
}

/**
 * Fills rows `from..rows−1` of the rows × n matrix B (whose first `from` rows are
 * orthonormal) with an orthonormal completion, from the full Q of a QR
 * factorization of the first rows transposed.
 */
const completeRows = (B: Matrix.Matrix, from: number): void => {
  const { rows, cols: n } = B
  if (from >= rows) return
  const T = Matrix.zeros(n, from)
  for (let i = 0; i < from; i++) for (let j = 0; j < n; j++) T.data[j * from + i] = B.data[i * n + j]!
  const Q = Qr.q(Qr.qr(T), { full: true })
  for (let i = from; i < rows; i++) for (let j = 0; j < n; j++) B.data[i * n + j] = Q.data[j * n + i]!
}

/** The SVD of a finite m × n A with m ≥ n. */
const tallSvd = (A: Matrix.Matrix, full: boolean, vectors: boolean): Svd => {
  const { rows: m, cols: n } = A
  const f = Qr.qrPivoted(A, { rcond: 0 })
  const W = Qr.r(f)
  const w = W.data
  const z = vectors ? Matrix.identity(n).data : undefined
  jacobi(w, n, n, z)
  const norms = Vector.zeros(n)
  for (let j = 0; j < n; j++) {
    let scale = 0
    for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(w[j * n + i]!))
    let s = 0
    if (scale > 0) for (let i = 0; i < n; i++) s += (w[j * n + i]! / scale) ** 2
    norms[j] = scale * Math.sqrt(s)
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => norms[j]! - norms[i]!)
  const singularValues = Vector.zeros(n)
  for (let j = 0; j < n; j++) singularValues[j] = norms[order[j]!]!
  if (!vectors || z === undefined) {
    return { U: Matrix.zeros(0, 0), singularValues, Vt: Matrix.zeros(0, 0) }
  }
  // Vt row j = (row order[j] of W) / σⱼ, columns scattered by the QR permutation.
  const Vt = Matrix.zeros(n, n)
  let positive = 0
  for (let j = 0; j < n; j++) {
    const sigma = singularValues[j]!
    if (sigma === 0) break
    const src = order[j]! * n
    for (let i = 0; i < n; i++) Vt.data[j * n + f.permutation[i]!] = w[src + i]! / sigma
    positive++
  }
  completeRows(Vt, positive)
  // U = Q·Z_sortedᵀ, Z row j = column j of the Jacobi rotations' product.
  const Zs = Matrix.zeros(n, n)
  for (let j = 0; j < n; j++) {
    const src = order[j]! * n
    for (let i = 0; i < n; i++) Zs.data[j * n + i] = z[src + i]!
  }
  const Uthin = Matrix.zeros(m, n)
  Blas3.gemm(false, true, 1, Qr.q(f), Zs, 0, Uthin)
  if (!full || m === n) return { U: Uthin, singularValues, Vt }
  const Qfull = Qr.q(f, { full: true })
  const U = Matrix.zeros(m, m)
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) U.data[i * m + j] = Uthin.data[i * n + j]!
    for (let j = n; j < m; j++) U.data[i * m + j] = Qfull.data[i * m + j]!
  }
  return { U, singularValues, Vt }
}

/** Entries beyond this range (either way) are rescaled so that squared norms cannot overflow or underflow. */
const SAFE_RANGE = 2 ** 400

const decompose = (operation: string, A: Matrix.Matrix, full: boolean, vectors: boolean): Svd => {
  Vector.assertFinite(operation, "A", A.data)
  let maxAbs = 0
  for (let i = 0; i < A.data.length; i++) maxAbs = Math.max(maxAbs, Math.abs(A.data[i]!))
  // Scale by a power of two (exact) when ‖A‖² could leave the floating-point range.
  // (The exponent is clamped so that 2^e itself stays finite for subnormal maxAbs.)
  const exponent = Math.max(-1000, Math.min(1000, -Math.round(Math.log2(maxAbs))))
  const factor = maxAbs > SAFE_RANGE || (maxAbs > 0 && maxAbs < 1 / SAFE_RANGE) ? 2 ** exponent : 1
  let B = A
  if (factor !== 1) {
    B = Matrix.clone(A)
    for (let i = 0; i < B.data.length; i++) B.data[i] = B.data[i]! * factor
  }
  const tall = B.rows >= B.cols
  const s = tallSvd(tall ? B : Matrix.transpose(B), full, vectors)
  if (factor !== 1)
    for (let j = 0; j < s.singularValues.length; j++) s.singularValues[j] = s.singularValues[j]! / factor
  if (!vectors || tall) return s
  return { U: Matrix.transpose(s.Vt), singularValues: s.singularValues, Vt: Matrix.transpose(s.U) }
}

/**
 * Singular value decomposition A = U·diag(σ)·Vᵀ of an m × n matrix, σ descending,
 * by column-pivoted QR followed by one-sided Jacobi on Rᵀ (Drmač–Veselić). Thin
 * by default (U m × k, Vt k × n, k = min(m, n)); with `{ full: true }` U is m × m
 * and Vt n × n. Backward stable: U·Σ·Vᵀ = A + ΔA with ‖ΔA‖₂ ≤ c·n·u·‖A‖₂; each σⱼ
 * has absolute error ≤ c·n·u·σ₀. Singular vectors are unique only up to sign (and
 * rotation within repeated singular values).
 *
 * Reference: Drmač & Veselić, *SIAM J. Matrix Anal. Appl.* 29(4) (2008) 1322–1362;
 * Golub & Van Loan, *Matrix Computations*, 4th ed., §8.6.4.
 *
 * @throws NonFiniteInput when A has a NaN or infinite entry.
 * @category factorizations
 * @since 0.1.0
 */
export const svd = (A: Matrix.Matrix, options: SvdOptions = {}): Svd =>
  decompose("Svd.svd", A, options.full === true, true)

/**
 * The min(m, n) singular values of an m × n matrix, descending, as `svd` computes
 * them but without forming U and V.
 *
 * Reference: Drmač & Veselić, *SIAM J. Matrix Anal. Appl.* 29(4) (2008).
 *
 * @throws NonFiniteInput when A has a NaN or infinite entry.
 * @category factorizations
 * @since 0.1.0
 */
export const singularValues = (A: Matrix.Matrix): Float64Array =>
  decompose("Svd.singularValues", A, false, false).singularValues
