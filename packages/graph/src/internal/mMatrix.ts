/**
 * The inverse and log-determinant of M = sI − W∘W for DAGMA's inner loop, in
 * one pass, without pivoting, and with the M-matrix domain test built in.
 *
 * M is a Z-matrix (off-diagonal entries ≤ 0). A Z-matrix is a nonsingular
 * M-matrix exactly when all its leading principal minors are positive
 * (Berman & Plemmons, "Nonnegative Matrices in the Mathematical Sciences",
 * 1994, Thm. 6.2.3, condition (E17)), i.e. when every pivot of Gaussian
 * elimination without pivoting is positive; its inverse is then entrywise
 * ≥ 0 (condition (N38)). Elimination without pivoting is stable on M-matrices:
 * every Schur complement is again an M-matrix (Fiedler & Pták 1962), so no
 * row interchanges are needed and the sign pattern is kept in floating point
 * (the off-diagonal updates add terms of one sign).
 *
 * The inverse is computed by recursive 2 × 2 block elimination, so that the
 * O(d³) work runs in `Blas3.gemm`: with M = [A B; C D], A of order p,
 *
 *   A⁻¹ (recursively),  T₂ = C·A⁻¹,  S = D − T₂·B,  S⁻¹ (recursively),
 *   M⁻¹ = [A⁻¹ − T₁·X₂₁   −T₁·S⁻¹;  X₂₁   S⁻¹],  T₁ = A⁻¹·B,  X₂₁ = −S⁻¹·T₂,
 *
 * six products and two half-size inverses (2d³ flops, as LU plus inversion),
 * and log det M = log det A + log det S. Blocks of order ≤ `BASE_ORDER` are
 * inverted by Gauss–Jordan elimination without pivoting, whose pivots are the
 * leading principal minor ratios of the block, so the domain test is exact:
 * the first pivot ≤ 0 (or NaN) ends the computation. The reference code of
 * DAGMA tests the computed inverse for negative entries instead; the
 * inverse is tested for negative entries here as well.
 *
 * Internal: allocated once per learner (`makeMMatrixWorkspace`), no
 * allocation per call.
 *
 * @since 0.1.0
 * @internal
 */
import { Blas3, Matrix } from "@descent/core"

/** Blocks of this order or less are inverted by Gauss–Jordan elimination (plain loops beat gemm calls there). */
const BASE_ORDER = 16

interface Block {
  readonly n: number
  /** The matrix to invert (n × n), overwritten. */
  readonly M: Matrix.Matrix
  /** Its inverse (n × n). */
  readonly X: Matrix.Matrix
  readonly split?: {
    readonly p: number
    readonly q: number
    readonly first: Block
    readonly second: Block
    /** B (p × q), C (q × p), T₁ = A⁻¹B (p × q), T₂ = CA⁻¹ (q × p), X₁₂ (p × q), X₂₁ (q × p). */
    readonly B: Matrix.Matrix
    readonly C: Matrix.Matrix
    readonly T1: Matrix.Matrix
    readonly T2: Matrix.Matrix
    readonly X12: Matrix.Matrix
    readonly X21: Matrix.Matrix
    readonly X11: Matrix.Matrix
  }
}

const makeBlock = (n: number, base: number, M: Matrix.Matrix = Matrix.zeros(n, n)): Block => {
  const X = Matrix.zeros(n, n)
  if (n <= base) return { n, M, X }
  const p = n >> 1
  const q = n - p
  return {
    n,
    M,
    X,
    split: {
      p,
      q,
      first: makeBlock(p, base),
      second: makeBlock(q, base),
      B: Matrix.zeros(p, q),
      C: Matrix.zeros(q, p),
      T1: Matrix.zeros(p, q),
      T2: Matrix.zeros(q, p),
      X12: Matrix.zeros(p, q),
      X21: Matrix.zeros(q, p),
      X11: Matrix.zeros(p, p)
    }
  }
}

/**
 * Buffers for M = sI − W∘W of order d: `matrix` (M itself, overwritten) and
 * `inverse` (M⁻¹ after a successful call).
 *
 * @internal
 */
export interface MMatrixWorkspace {
  readonly d: number
  readonly inverse: Matrix.Matrix
  readonly root: Block
}

/**
 * Allocates the buffers for order d (once per learner); blocks of order ≤
 * `baseOrder` are inverted by Gauss–Jordan elimination.
 *
 * @internal
 */
export const makeMMatrixWorkspace = (d: number, baseOrder: number = BASE_ORDER): MMatrixWorkspace => {
  const root = makeBlock(d, Math.max(1, baseOrder))
  return { d, inverse: root.X, root }
}

/** Gauss–Jordan inversion without pivoting of block.M into block.X; Σ log pivots, or −∞ at a pivot ≤ 0. */
const gaussJordan = (block: Block): number => {
  const n = block.n
  const x = block.X.data
  const m = block.M.data
  for (let k = 0; k < n * n; k++) x[k] = m[k]!
  let logDet = 0
  for (let k = 0; k < n; k++) {
    const rk = k * n
    const pivot = x[rk + k]!
    if (!(pivot > 0)) return Number.NEGATIVE_INFINITY
    logDet += Math.log(pivot)
    const inv = 1 / pivot
    x[rk + k] = 1
    for (let j = 0; j < n; j++) x[rk + j] = x[rk + j]! * inv
    for (let i = 0; i < n; i++) {
      if (i === k) continue
      const ri = i * n
      const f = x[ri + k]!
      if (f === 0) continue
      x[ri + k] = 0
      for (let j = 0; j < n; j++) x[ri + j] = x[ri + j]! - f * x[rk + j]!
    }
  }
  return logDet
}

/** Copies the rows r0… and columns c0… block of src (width `width`) into dst (rows × cols). */
const copyOut = (src: Float64Array, width: number, r0: number, c0: number, dst: Matrix.Matrix): void => {
  const { rows, cols, data } = dst
  for (let i = 0; i < rows; i++) {
    const from = (r0 + i) * width + c0
    const to = i * cols
    for (let j = 0; j < cols; j++) data[to + j] = src[from + j]!
  }
}

/** Copies src (rows × cols) into the block of dst (width `width`) at rows r0…, columns c0…. */
const copyIn = (src: Matrix.Matrix, dst: Float64Array, width: number, r0: number, c0: number): void => {
  const { rows, cols, data } = src
  for (let i = 0; i < rows; i++) {
    const from = i * cols
    const to = (r0 + i) * width + c0
    for (let j = 0; j < cols; j++) dst[to + j] = data[from + j]!
  }
}

/** block.X ← block.M⁻¹ by recursive block elimination; log det M, or −∞ outside the domain. */
const invert = (block: Block): number => {
  const sp = block.split
  if (sp === undefined) return gaussJordan(block)
  const { p, first, second, B, C, T1, T2, X12, X21, X11 } = sp
  const n = block.n
  const m = block.M.data
  copyOut(m, n, 0, 0, first.M)
  copyOut(m, n, 0, p, B)
  copyOut(m, n, p, 0, C)
  copyOut(m, n, p, p, second.M)
  const logA = invert(first)
  if (logA === Number.NEGATIVE_INFINITY) return logA
  Blas3.gemm(false, false, 1, C, first.X, 0, T2)
  Blas3.gemm(false, false, -1, T2, B, 1, second.M)
  const logS = invert(second)
  if (logS === Number.NEGATIVE_INFINITY) return logS
  Blas3.gemm(false, false, -1, second.X, T2, 0, X21)
  Blas3.gemm(false, false, 1, first.X, B, 0, T1)
  Blas3.gemm(false, false, -1, T1, second.X, 0, X12)
  const a = first.X.data
  const x11 = X11.data
  for (let k = 0; k < p * p; k++) x11[k] = a[k]!
  Blas3.gemm(false, false, -1, T1, X21, 1, X11)
  const x = block.X.data
  copyIn(X11, x, n, 0, 0)
  copyIn(X12, x, n, 0, p)
  copyIn(X21, x, n, p, 0)
  copyIn(second.X, x, n, p, p)
  return logA + logS
}

/**
 * Writes (sI − W∘W)⁻¹ into `workspace.inverse` and returns
 * log det(sI − W∘W); returns −∞ (the inverse is then garbage) when
 * sI − W∘W is not a nonsingular M-matrix: a pivot ≤ 0, a NaN, or a negative
 * entry of the computed inverse. `W` is d × d row-major.
 *
 * @internal
 */
export const shiftedSquareInverse = (W: Float64Array, s: number, workspace: MMatrixWorkspace): number => {
  const { d, root } = workspace
  const m = root.M.data
  for (let k = 0; k < d * d; k++) m[k] = -(W[k]! * W[k]!)
  for (let i = 0; i < d; i++) m[i * d + i] = m[i * d + i]! + s
  const logDet = invert(root)
  if (logDet === Number.NEGATIVE_INFINITY || logDet !== logDet) return Number.NEGATIVE_INFINITY
  const x = root.X.data
  for (let k = 0; k < d * d; k++) if (!(x[k]! >= 0)) return Number.NEGATIVE_INFINITY
  return logDet
}
