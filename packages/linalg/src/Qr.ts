/**
 * QR factorization A = Q·R of a dense m × n matrix by Householder reflections,
 * with and without column pivoting: the orthogonal–triangular decomposition that
 * least-squares solvers, orthonormal bases, rank estimation and determinants
 * build on.
 *
 * The factorization is stored compactly as LAPACK's `dgeqrf` does: R in the upper
 * triangle of `qr`, and below the diagonal of column k the essential part of the
 * Householder vector vₖ (with vₖ[k] = 1 implied), so that
 * Q = H₀·H₁·…·H_{p−1}, Hₖ = I − τₖ·vₖ·vₖᵀ, p = min(m, n).
 * Householder QR is backward stable: the computed factors are the exact factors
 * of A + ΔA with ‖ΔA‖_F ≤ c·m·n·u·‖A‖_F (Golub & Van Loan, *Matrix Computations*,
 * 4th ed., §5.2.2; Higham, *Accuracy and Stability of Numerical Algorithms*, §19.3).
 *
 * @since 0.1.0
 */
import { Blas2, Blas3, Errors, Matrix, Vector } from "@descent/core"

/**
 * A Householder QR factorization in compact (LAPACK `dgeqrf`) form.
 *
 * @category models
 * @since 0.1.0
 */
export interface QR {
  /** m × n: R on and above the diagonal, Householder vectors below it. */
  readonly qr: Matrix.Matrix
  /** The min(m, n) Householder scalars τₖ (τₖ = 0 means Hₖ = I). */
  readonly tau: Float64Array
}

/**
 * A column-pivoted QR factorization A·P = Q·R with its numerical rank.
 *
 * @category models
 * @since 0.1.0
 */
export interface PivotedQR extends QR {
  /** `permutation[j]` is the column of A that stands at position j of A·P. */
  readonly permutation: Int32Array
  /** The number of diagonal entries of R with |Rₖₖ| > rcond·|R₀₀|. */
  readonly rank: number
}

/**
 * Options of `qrPivoted`.
 *
 * @category models
 * @since 0.1.0
 */
export interface PivotedOptions {
  /** Relative threshold on |Rₖₖ| / |R₀₀| for the numerical rank; default max(m, n)·ε. */
  readonly rcond?: number
}

/**
 * Options of the `q` and `r` accessors.
 *
 * @category models
 * @since 0.1.0
 */
export interface FactorOptions {
  /** Full (m × m Q, m × n R) instead of thin (m × p Q, p × n R, p = min(m, n)); default false. */
  readonly full?: boolean
}

const EPS = 2 ** -52
/** LAPACK's safmin/eps: the smallest β whose reciprocal scaling is safe. */
const SAFE_MIN = 2 ** -969

/**
 * Overflow-safe 2-norm of column j of the m × n row-major `a`, rows from..m−1.
 */
const columnNorm = (a: Float64Array, m: number, n: number, j: number, from: number): number => {
  let scale = 0
  for (let i = from; i < m; i++) {
    const v = Math.abs(a[i * n + j]!)
    if (v > scale) scale = v
  }
  if (scale === 0 || !Number.isFinite(scale)) return scale
  let s = 0
  for (let i = from; i < m; i++) {
    const v = a[i * n + j]! / scale
    s += v * v
  }
  return scale * Math.sqrt(s)
}

/**
 * Generates the reflector Hₖ that zeroes a[k+1.., k] (LAPACK `dlarfg`), writes
 * β = ∓‖x‖ into a[k, k] and v's essential part below it, and returns τ.
 */
const householder = (a: Float64Array, m: number, n: number, k: number): number => {
  let alpha = a[k * n + k]!
  let xnorm = columnNorm(a, m, n, k, k + 1)
  if (xnorm === 0) return 0
  let beta = alpha >= 0 ? -Math.hypot(alpha, xnorm) : Math.hypot(alpha, xnorm)
  // Tiny β: rescale so that 1/(α − β) cannot overflow (LAPACK dlarfg).
  let rescaled = 0
  if (Math.abs(beta) < SAFE_MIN) {
    while (Math.abs(beta) < SAFE_MIN && rescaled < 20) {
      rescaled++
      for (let i = k + 1; i < m; i++) a[i * n + k] = a[i * n + k]! / SAFE_MIN
      beta /= SAFE_MIN
      alpha /= SAFE_MIN
    }
    xnorm = columnNorm(a, m, n, k, k + 1)
    beta = alpha >= 0 ? -Math.hypot(alpha, xnorm) : Math.hypot(alpha, xnorm)
  }
  const tau = (beta - alpha) / beta
  const scale = 1 / (alpha - beta)
  for (let i = k + 1; i < m; i++) a[i * n + k] = a[i * n + k]! * scale
  for (let j = 0; j < rescaled; j++) beta *= SAFE_MIN
  a[k * n + k] = beta
  return tau
}

/**
 * Applies Hₖ = I − τ·v·vᵀ (v stored in column k of `a` below row k, v[k] = 1) from
 * the left to columns c0..c1−1 of the m × nc row-major `b` (rows k..m−1), using
 * `w` (length ≥ c1) as workspace: w = Bᵀv, B ← B − τ·v·wᵀ, both sweeps row-wise.
 */
const applyReflector = (
  a: Float64Array,
  n: number,
  k: number,
  tau: number,
  b: Float64Array,
  m: number,
  nc: number,
  c0: number,
  c1: number,
  w: Float64Array
): void => {
  if (tau === 0 || c0 >= c1) return
  for (let j = c0; j < c1; j++) w[j] = b[k * nc + j]!
  for (let i = k + 1; i < m; i++) {
    const vi = a[i * n + k]!
    if (vi === 0) continue
    const r = i * nc
    for (let j = c0; j < c1; j++) w[j] = w[j]! + vi * b[r + j]!
  }
  for (let j = c0; j < c1; j++) w[j] = tau * w[j]!
  {
    const r = k * nc
    for (let j = c0; j < c1; j++) b[r + j] = b[r + j]! - w[j]!
  }
  for (let i = k + 1; i < m; i++) {
    const vi = a[i * n + k]!
    if (vi === 0) continue
    const r = i * nc
    for (let j = c0; j < c1; j++) b[r + j] = b[r + j]! - vi * w[j]!
  }
}

/** Panel width of the blocked factorization and of the blocked formation of Q. */
const BLOCK = 32
/** Below this many trailing columns the unblocked reflector sweep is as fast. */
const BLOCK_CROSSOVER = 2 * BLOCK

/**
 * The compact WY form H_k·…·H_{k+kb−1} = I − V·T·Vᵀ of kb consecutive reflectors
 * (Schreiber & Van Loan 1989; LAPACK `dlarft`, forward, columnwise): V is the
 * (m − k) × kb unit lower-trapezoidal matrix of the vectors, T is kb × kb upper
 * triangular with T[j][j] = τⱼ and T[0:j, j] = −τⱼ·T[0:j, 0:j]·V[:, 0:j]ᵀ·vⱼ.
 */
const compactWy = (
  a: Float64Array,
  m: number,
  n: number,
  k: number,
  kb: number,
  tau: Float64Array
): { V: Matrix.Matrix; T: Matrix.Matrix } => {
  const mk = m - k
  const V = Matrix.zeros(mk, kb)
  const v = V.data
  for (let i = 0; i < mk; i++) {
    const row = (k + i) * n + k
    const last = Math.min(i, kb)
    for (let j = 0; j < last; j++) v[i * kb + j] = a[row + j]!
    if (i < kb) v[i * kb + i] = 1
  }
  const G = Matrix.zeros(kb, kb)
  Blas3.gemm(true, false, 1, V, V, 0, G)
  const T = Matrix.zeros(kb, kb)
  const t = T.data
  const g = G.data
  for (let i = 0; i < kb; i++) {
    const ti = tau[k + i]!
    if (ti === 0) continue
    for (let j = 0; j < i; j++) t[j * kb + i] = -ti * g[j * kb + i]!
    // T[0:i, i] ← T[0:i, 0:i]·T[0:i, i] (upper triangular, top to bottom in place).
    for (let j = 0; j < i; j++) {
      let sum = 0
      for (let l = j; l < i; l++) sum += t[j * kb + l]! * t[l * kb + i]!
      t[j * kb + i] = sum
    }
    t[i * kb + i] = ti
  }
  return { V, T }
}

/**
 * B[k:, c0:] ← (I − V·op(T)·Vᵀ)·B[k:, c0:] for the nb-column row-major `b` (m rows),
 * with op(T) = Tᵀ (applying Hᵀ, for the factorization) or T (applying H, for Q).
 * The O(m·n·kb) products run in `Blas3.gemm` on copies of the block.
 */
const applyCompactWy = (
  V: Matrix.Matrix,
  T: Matrix.Matrix,
  transposeT: boolean,
  b: Float64Array,
  nb: number,
  k: number,
  c0: number
): void => {
  const mk = V.rows
  const kb = V.cols
  const nc = nb - c0
  if (nc <= 0 || mk === 0) return
  const C = Matrix.zeros(mk, nc)
  const c = C.data
  for (let i = 0; i < mk; i++) c.set(b.subarray((k + i) * nb + c0, (k + i) * nb + nb), i * nc)
  const W = Matrix.zeros(kb, nc)
  Blas3.gemm(true, false, 1, V, C, 0, W)
  const TW = Matrix.zeros(kb, nc)
  Blas3.gemm(transposeT, false, 1, T, W, 0, TW)
  Blas3.gemm(false, false, -1, V, TW, 1, C)
  for (let i = 0; i < mk; i++) b.set(c.subarray(i * nc, i * nc + nc), (k + i) * nb + c0)
}

const validate = (operation: string, A: Matrix.Matrix): void => {
  if (A.data.length !== A.rows * A.cols) {
    throw new Errors.DimensionMismatch({
      operation,
      what: "A.data",
      expected: [A.rows * A.cols],
      actual: [A.data.length]
    })
  }
  Vector.assertFinite(operation, "A", A.data)
}

/**
 * Householder QR factorization A = Q·R of an m × n matrix (LAPACK `dgeqrf`):
 * for k = 0, …, min(m, n) − 1 the reflector Hₖ = I − τₖvₖvₖᵀ maps column k below
 * the diagonal to β·e₁ with β = −sign(aₖₖ)·‖aₖ‖ (the sign that avoids
 * cancellation). Panels of 32 reflectors are combined into the compact WY form
 * I − V·T·Vᵀ and applied to the trailing columns with `Blas3.gemm`. Backward
 * stable: Q·R = A + ΔA with ‖ΔA‖_F ≤ c·m·n·u·‖A‖_F.
 *
 * Reference: Golub & Van Loan, *Matrix Computations*, 4th ed., Algorithm 5.2.1
 * and §5.2.3; Schreiber & Van Loan, "A storage-efficient WY representation for
 * products of Householder transformations", *SIAM J. Sci. Stat. Comput.* 10 (1989).
 *
 * @throws NonFiniteInput when A has a NaN or infinite entry.
 * @category factorizations
 * @since 0.1.0
 */
export const qr = (A: Matrix.Matrix): QR => {
  validate("Qr.qr", A)
  const { rows: m, cols: n } = A
  const F = Matrix.clone(A)
  const a = F.data
  const p = Math.min(m, n)
  const tau = Vector.zeros(p)
  const w = Vector.zeros(n)
  for (let k = 0; k < p; k += BLOCK) {
    const kb = Math.min(BLOCK, p - k)
    const blocked = n - k - kb >= BLOCK_CROSSOVER
    // Panel: reflectors applied within the panel only when the rest is blocked.
    const end = blocked ? k + kb : n
    for (let j = k; j < k + kb; j++) {
      const t = householder(a, m, n, j)
      tau[j] = t
      applyReflector(a, n, j, t, a, m, n, j + 1, end, w)
    }
    if (blocked) {
      const { V, T } = compactWy(a, m, n, k, kb, tau)
      applyCompactWy(V, T, true, a, n, k, k + kb)
    }
  }
  return { qr: F, tau }
}

/**
 * Column-pivoted Householder QR A·P = Q·R (Businger & Golub 1965; LAPACK
 * `dgeqp3`'s unblocked step): at step k the remaining column of largest norm is
 * swapped to position k, so |R₀₀| ≥ |R₁₁| ≥ …; the partial column norms are
 * downdated after each step and recomputed when cancellation makes the downdate
 * unreliable (Drmač & Bujanović 2008). The numerical rank is the number of
 * |Rₖₖ| > rcond·|R₀₀|.
 *
 * Reference: Golub & Van Loan, *Matrix Computations*, 4th ed., Algorithm 5.4.1.
 *
 * @throws NonFiniteInput when A has a NaN or infinite entry.
 * @throws InvalidOptions when `rcond` is negative or not finite.
 * @category factorizations
 * @since 0.1.0
 */
export const qrPivoted = (A: Matrix.Matrix, options: PivotedOptions = {}): PivotedQR => {
  validate("Qr.qrPivoted", A)
  const { rows: m, cols: n } = A
  const rcond = options.rcond ?? Math.max(m, n) * EPS
  if (!(rcond >= 0) || !Number.isFinite(rcond)) {
    throw new Errors.InvalidOptions({
      operation: "Qr.qrPivoted",
      field: "rcond",
      value: rcond,
      requirement: "a finite number ≥ 0"
    })
  }
  const F = Matrix.clone(A)
  const a = F.data
  const p = Math.min(m, n)
  const tau = Vector.zeros(p)
  const w = Vector.zeros(n)
  const vn1 = Vector.zeros(n)
  const vn2 = Vector.zeros(n)
  const permutation = new Int32Array(n)
  for (let j = 0; j < n; j++) {
    permutation[j] = j
    vn1[j] = columnNorm(a, m, n, j, 0)
    vn2[j] = vn1[j]!
  }
  const tol3z = Math.sqrt(EPS)
  for (let k = 0; k < p; k++) {
    let pvt = k
    for (let j = k + 1; j < n; j++) if (vn1[j]! > vn1[pvt]!) pvt = j
    if (pvt !== k) {
      for (let i = 0; i < m; i++) {
        const t = a[i * n + k]!
        a[i * n + k] = a[i * n + pvt]!
        a[i * n + pvt] = t
      }
      const tp = permutation[k]!
      permutation[k] = permutation[pvt]!
      permutation[pvt] = tp
      vn1[pvt] = vn1[k]!
      vn2[pvt] = vn2[k]!
    }
    const t = householder(a, m, n, k)
    tau[k] = t
    applyReflector(a, n, k, t, a, m, n, k + 1, n, w)
    for (let j = k + 1; j < n; j++) {
      if (vn1[j] === 0) continue
      const r = Math.abs(a[k * n + j]!) / vn1[j]!
      const temp = Math.max(0, 1 - r * r)
      const ratio = vn1[j]! / vn2[j]!
      if (temp * ratio * ratio <= tol3z) {
        vn1[j] = columnNorm(a, m, n, j, k + 1)
        vn2[j] = vn1[j]!
      } else {
        vn1[j] = vn1[j]! * Math.sqrt(temp)
      }
    }
  }
  let rank = 0
  if (p > 0) {
    const r00 = Math.abs(a[0]!)
    while (rank < p && Math.abs(a[rank * n + rank]!) > rcond * r00) rank++
  }
  return { qr: F, tau, permutation, rank }
}

/**
 * The orthogonal factor Q = H₀·H₁·…·H_{p−1} of a QR factorization, formed by
 * blocked backward accumulation (LAPACK `dorgqr`): the thin m × min(m, n) Q with
 * orthonormal columns, or with `{ full: true }` the square m × m Q.
 *
 * Reference: Golub & Van Loan, *Matrix Computations*, 4th ed., §5.1.6.
 *
 * @category accessors
 * @since 0.1.0
 */
export const q = (factorization: QR, options: FactorOptions = {}): Matrix.Matrix => {
  const { qr: F, tau } = factorization
  const { rows: m, cols: n } = F
  const p = tau.length
  const cols = options.full === true ? m : p
  const Q = Matrix.zeros(m, cols)
  const b = Q.data
  for (let i = 0; i < Math.min(m, cols); i++) b[i * cols + i] = 1
  const w = Vector.zeros(cols)
  // Blocks from the last to the first; within a block, reflectors in reverse order.
  const lastStart = p > 0 ? Math.floor((p - 1) / BLOCK) * BLOCK : 0
  for (let k = lastStart; k >= 0 && p > 0; k -= BLOCK) {
    const kb = Math.min(BLOCK, p - k)
    if (cols - k >= BLOCK_CROSSOVER) {
      const { V, T } = compactWy(F.data, m, n, k, kb, tau)
      applyCompactWy(V, T, false, b, cols, k, k)
    } else {
      for (let j = k + kb - 1; j >= k; j--) applyReflector(F.data, n, j, tau[j]!, b, m, cols, j, cols, w)
    }
  }
  return Q
}

/**
 * The upper-triangular factor R of a QR factorization: min(m, n) × n (thin) or,
 * with `{ full: true }`, m × n with zero rows below.
 *
 * @category accessors
 * @since 0.1.0
 */
export const r = (factorization: QR, options: FactorOptions = {}): Matrix.Matrix => {
  const { qr: F, tau } = factorization
  const { rows: m, cols: n } = F
  const rows = options.full === true ? m : tau.length
  const R = Matrix.zeros(rows, n)
  for (let i = 0; i < Math.min(rows, tau.length); i++) {
    for (let j = i; j < n; j++) R.data[i * n + j] = F.data[i * n + j]!
  }
  return R
}

/**
 * Overwrites the m × k matrix B by Qᵀ·B (Q of the factorization, m × m), applying
 * H₀, H₁, … in order (LAPACK `dorm2r` with trans = 'T').
 *
 * @throws DimensionMismatch when B does not have m rows.
 * @category kernels
 * @since 0.1.0
 */
export const applyQtInPlace = (factorization: QR, B: Matrix.Matrix): void => {
  const { qr: F, tau } = factorization
  const { rows: m, cols: n } = F
  if (B.rows !== m) {
    throw new Errors.DimensionMismatch({
      operation: "Qr.applyQtInPlace",
      what: "B",
      expected: [m],
      actual: [B.rows]
    })
  }
  const w = Vector.zeros(B.cols)
  for (let k = 0; k < tau.length; k++) applyReflector(F.data, n, k, tau[k]!, B.data, m, B.cols, 0, B.cols, w)
}

/**
 * The least-squares solution of min ‖A·x − b‖₂ for a tall (m ≥ n) matrix of
 * full column rank, from its QR factorization: x = R₁⁻¹·(Qᵀb)₁:ₙ (Golub & Van
 * Loan §5.3.3) — backward stable, and cheaper than the SVD route of
 * `LeastSquares.lstsq`, which also handles rank deficiency. Accepts the matrix
 * or a factorization from `qr`.
 *
 * @throws DimensionMismatch when A is wide (m < n) or b does not have m entries.
 * @throws Singular when a diagonal entry of R is at rounding level,
 *   max(m, n)·ε·|R₀₀| or less (A is numerically rank deficient: use
 *   `qrPivoted` or `LeastSquares.lstsq`).
 * @category solvers
 * @since 0.1.0
 */
export const solveLeastSquares = (A: QR | Matrix.Matrix, b: Float64Array): Float64Array => {
  const f = "tau" in A ? A : qr(A)
  const { rows: m, cols: n } = f.qr
  if (m < n) {
    throw new Errors.DimensionMismatch({
      operation: "Qr.solveLeastSquares",
      what: "A",
      expected: [n, n],
      actual: [m, n]
    })
  }
  if (b.length !== m) {
    throw new Errors.DimensionMismatch({
      operation: "Qr.solveLeastSquares",
      what: "b",
      expected: [m],
      actual: [b.length]
    })
  }
  const qtb = Matrix.fromData(m, 1, Vector.clone(b))
  applyQtInPlace(f, qtb)
  const x = Vector.clone(qtb.data.subarray(0, n))
  const R = r(f)
  // Numerically rank deficient (|Rᵢᵢ| at rounding level relative to |R₀₀|): the
  // solution is not determined, so refuse instead of returning noise.
  const tolerance = Math.max(m, n) * 2 ** -52 * Math.abs(R.data[0] ?? 0)
  for (let i = 0; i < n; i++) {
    if (!(Math.abs(R.data[i * n + i]!) > tolerance))
      throw new Errors.Singular({ operation: "Qr.solveLeastSquares", index: i })
  }
  Blas2.trsv(R, x, { lower: false })
  return x
}
