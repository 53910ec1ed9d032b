/**
 * F = e^A − I for an entrywise nonnegative square A (NOTEARS's A = W∘W), by
 * a truncated Taylor series with scaling and squaring, without allocation.
 *
 * Why not `@descent/linalg`'s general `Expm.expm` (Padé with a linear
 * solve): for A ≥ 0 every Taylor term Aᵏ/k! is ≥ 0, so the series has no
 * cancellation and needs no solve, and computing F = e^A − I directly gives
 * h(W) = tr F with an absolute error of order u·‖e^A − I‖₁ instead of the
 * u·d of tr e^A − d, which matters when W is small (h ≪ d). Squaring also
 * stays in that form: e^{2B} − I = 2F + F².
 *
 * Degree and scaling. The powers A², A³, A⁴ are formed first (they are the
 * Paterson–Stockmeyer powers of the evaluation below) and give the bound of
 * Al-Mohy & Higham ("A new scaling and squaring algorithm for the matrix
 * exponential", SIAM J. Matrix Anal. Appl. 31(3), 2009, Lemma 4.1):
 * ‖Aᵏ‖₁ ≤ αᵏ for k ≥ p(p − 1), α = max(‖Aᵖ‖^{1/p}, ‖Aᵖ⁺¹‖^{1/(p+1)}), p = 2, 3,
 * which for nearly nilpotent A (nearly a DAG) is much smaller than ‖A‖₁. With
 * B = 2⁻ˢA, the truncation after degree m leaves the nonnegative remainder
 *
 *   Σ_{k>m} Bᵏ/k!,   ‖·‖₁ ≤ α_B^{m+1}/(m+1)! · 1/(1 − α_B/(m+2)),
 *
 * which is required to be ≤ u·‖B‖₁ ≤ u·‖e^B − I‖₁ (u = 2⁻⁵³; e^B − I ≥ B).
 * Degrees m = 4r + 3 (r = 0…4) cost 3 + r products (r = 0: 2) by
 * Paterson–Stockmeyer in B⁴ (Higham, "Functions of Matrices", 2008, §4.4.3);
 * the cheapest one that meets the bound with s = 0 is used, else m = 19 with
 * the smallest s that meets it, followed by s squarings.
 *
 * @since 0.1.0
 * @internal
 */
import { Blas3, Matrix } from "@descent/core"

/** −log₂ u, u = 2⁻⁵³ the unit roundoff of float64: the truncation error target. */
const LOG2_INVERSE_UNIT_ROUNDOFF = 53
/** The largest degree used (r = 4 Horner steps in B⁴). */
const MAX_BLOCKS = 4
/**
 * Above this many squarings the powers are recomputed from the scaled matrix
 * (2^{-4s} would underflow); e^A then overflows anyway.
 */
const MAX_FOLDED_SCALING = 60
/** A bound on the squarings: 2^1100 exceeds the ratio of any two finite doubles. */
const MAX_SCALING = 1100

/** 1/k! for k = 0 … 4·MAX_BLOCKS + 3. */
const INVERSE_FACTORIALS: ReadonlyArray<number> = (() => {
  const c = [1]
  for (let k = 1; k <= 4 * MAX_BLOCKS + 3; k++) c.push(c[k - 1]! / k)
  return c
})()

/** log₂((m+1)!) for m = 4r + 3. */
const log2Factorial = (k: number): number => {
  let s = 0
  for (let i = 2; i <= k; i++) s += Math.log2(i)
  return s
}

/**
 * Buffers for order d.
 *
 * @internal
 */
export interface ExpWorkspace {
  readonly d: number
  readonly B: Matrix.Matrix
  readonly A2: Matrix.Matrix
  readonly A3: Matrix.Matrix
  readonly A4: Matrix.Matrix
  readonly P: Matrix.Matrix
  readonly T: Matrix.Matrix
}

/**
 * Allocates the buffers for order d (once per learner).
 *
 * @internal
 */
export const makeExpWorkspace = (d: number): ExpWorkspace => ({
  d,
  B: Matrix.zeros(d, d),
  A2: Matrix.zeros(d, d),
  A3: Matrix.zeros(d, d),
  A4: Matrix.zeros(d, d),
  P: Matrix.zeros(d, d),
  T: Matrix.zeros(d, d)
})

/** ‖A‖₁ = max column sum of |Aᵢⱼ|. */
const norm1 = (A: Matrix.Matrix, sums: Float64Array): number => {
  const { rows, cols, data } = A
  sums.fill(0, 0, cols)
  for (let i = 0; i < rows; i++) {
    const row = i * cols
    for (let j = 0; j < cols; j++) sums[j] = sums[j]! + Math.abs(data[row + j]!)
  }
  let max = 0
  for (let j = 0; j < cols; j++) if (!(sums[j]! <= max)) max = sums[j]!
  return max
}

/** log₂ of the remainder bound over u·‖B‖₁ at degree m = 4r + 3 (B = 2⁻ˢA): ≤ 0 meets the target. */
const excess = (logAlpha: number, logNorm: number, m: number, s: number): number => {
  const logAlphaB = logAlpha - s
  const ratio = 2 ** logAlphaB / (m + 2)
  if (!(ratio < 1)) return Number.POSITIVE_INFINITY
  return (
    (m + 1) * logAlphaB -
    log2Factorial(m + 1) -
    Math.log2(1 - ratio) -
    (logNorm - s) +
    LOG2_INVERSE_UNIT_ROUNDOFF
  )
}

/** The powers B², B³, B⁴ of the d × d `B` into the workspace. */
const powers = (B: Matrix.Matrix, ws: ExpWorkspace): void => {
  Blas3.gemm(false, false, 1, B, B, 0, ws.A2)
  Blas3.gemm(false, false, 1, ws.A2, B, 0, ws.A3)
  Blas3.gemm(false, false, 1, ws.A2, ws.A2, 0, ws.A4)
}

/**
 * out ← C_j(B) = c₄ⱼI + c₄ⱼ₊₁B + c₄ⱼ₊₂B² + c₄ⱼ₊₃B³ (c₀ = 0: no identity in
 * e^B − I), plus `out` itself when `accumulate`; B = σA with the powers of A.
 */
const addBlock = (
  out: Float64Array,
  j: number,
  sigma: number,
  A: Float64Array,
  A2: Float64Array,
  A3: Float64Array,
  d: number,
  accumulate: boolean
): void => {
  const c0 = j === 0 ? 0 : INVERSE_FACTORIALS[4 * j]!
  const c1 = INVERSE_FACTORIALS[4 * j + 1]! * sigma
  const c2 = INVERSE_FACTORIALS[4 * j + 2]! * sigma * sigma
  const c3 = INVERSE_FACTORIALS[4 * j + 3]! * sigma * sigma * sigma
  const n = d * d
  if (accumulate) for (let k = 0; k < n; k++) out[k] = out[k]! + c1 * A[k]! + c2 * A2[k]! + c3 * A3[k]!
  else for (let k = 0; k < n; k++) out[k] = c1 * A[k]! + c2 * A2[k]! + c3 * A3[k]!
  if (c0 !== 0) for (let i = 0; i < d; i++) out[i * d + i] = out[i * d + i]! + c0
}

/**
 * Writes e^A − I into F for A ≥ 0 entrywise (d × d; F must not alias A). A
 * with an infinite or huge norm gives infinite entries (e^A overflows). The
 * work is 2 to 7 products plus one per squaring.
 *
 * @internal
 */
export const exponentialMinusIdentity = (A: Matrix.Matrix, F: Matrix.Matrix, ws: ExpWorkspace): void => {
  const { d } = ws
  const sums = ws.T.data
  const norm = norm1(A, sums)
  if (norm === 0) {
    F.data.fill(0)
    return
  }
  powers(A, ws)
  const n2 = norm1(ws.A2, sums)
  const n3 = norm1(ws.A3, sums)
  const n4 = norm1(ws.A4, sums)
  const logNorm = Math.log2(norm)
  // α for degrees ≥ 3 (p = 2) and, tighter when smaller, for degrees ≥ 5 (p = 3).
  const alpha2 = Math.max(Math.log2(n2) / 2, Math.log2(n3) / 3)
  const alpha3 = Math.min(alpha2, Math.max(Math.log2(n3) / 3, Math.log2(n4) / 4))
  let blocks = -1
  let s = 0
  if (Number.isFinite(n4) && Number.isFinite(logNorm)) {
    for (let r = 0; r <= MAX_BLOCKS; r++) {
      if (excess(r === 0 ? alpha2 : alpha3, logNorm, 4 * r + 3, 0) <= 0) {
        blocks = r
        break
      }
    }
    if (blocks < 0) {
      blocks = MAX_BLOCKS
      const m = 4 * MAX_BLOCKS + 3
      // Smallest s with excess ≤ 0: the excess falls by m per unit of s.
      s = Math.max(1, Math.ceil(excess(alpha3, logNorm, m, 0) / m))
      while (excess(alpha3, logNorm, m, s) > 0 && s < MAX_SCALING) s++
    }
  } else {
    blocks = MAX_BLOCKS
    s = Math.min(MAX_SCALING, Math.max(1, Math.ceil(logNorm) + 1))
  }
  let source = A
  let sigma = 2 ** -s
  if (s > MAX_FOLDED_SCALING || !Number.isFinite(n4)) {
    const b = ws.B.data
    const a = A.data
    for (let k = 0; k < d * d; k++) b[k] = a[k]! * sigma
    source = ws.B
    powers(source, ws)
    sigma = 1
  }
  const a = source.data
  const A2 = ws.A2.data
  const A3 = ws.A3.data
  // Paterson–Stockmeyer: P = C_r; P ← C_j + B⁴·P for j = r − 1 … 0.
  let P = ws.P
  let T = ws.T
  addBlock(P.data, blocks, sigma, a, A2, A3, d, false)
  const sigma4 = sigma * sigma * sigma * sigma
  for (let j = blocks - 1; j >= 0; j--) {
    Blas3.gemm(false, false, sigma4, ws.A4, P, 0, T)
    addBlock(T.data, j, sigma, a, A2, A3, d, true)
    const swap = P
    P = T
    T = swap
  }
  // Squarings: e^{2B} − I = 2F + F².
  for (let k = 0; k < s; k++) {
    Blas3.gemm(false, false, 1, P, P, 0, T)
    const t = T.data
    const p = P.data
    for (let i = 0; i < d * d; i++) t[i] = t[i]! + 2 * p[i]!
    const swap = P
    P = T
    T = swap
  }
  const f = F.data
  const p = P.data
  for (let k = 0; k < d * d; k++) f[k] = p[k]!
}
