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
 * the smallest s that meets it, followed by s squarings. When that s is ≥ 2,
 * A⁸ = (A⁴)² is formed too and may allow fewer squarings, or degree 15
 * (`eighthPowerTailFits`).
 *
 * @since 0.1.0
 * @internal
 */
import { Blas1, Blas3, Matrix } from "@descent/core"

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

/** The tail bound with ‖A⁸‖ (`eighthPowerTailFits`) sums terms k < TAIL_END at most. */
const TAIL_END = 100

/** log₂(k!) for k < TAIL_END + 8 (a table: the degree choice reads it several times per call). */
const LOG2_FACTORIALS: ReadonlyArray<number> = (() => {
  const t = [0]
  for (let k = 1; k < TAIL_END + 8; k++) t.push(t[k - 1]! + Math.log2(k))
  return t
})()
const log2Factorial = (k: number): number => LOG2_FACTORIALS[k]!

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
  readonly A8: Matrix.Matrix
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
  A8: Matrix.zeros(d, d),
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

/**
 * Whether degree m meets the truncation target with s squarings by the
 * bound through ‖A⁸‖ (log₂ of ‖A‖₁ and ‖A⁸‖₁ given, and log₂ Nᵣ below in
 * `logR`). For a nearly nilpotent A (nearly a DAG: paths of
 * A's graph end after a few edges) ‖Aᵏ‖^{1/k} keeps falling after k = 4,
 * which α (from A² … A⁴) cannot see. For k = 8q + r,
 *
 *   ‖Aᵏ‖₁ ≤ ‖A⁸‖^q·Nᵣ,   N₀ = 1, Nᵣ = ‖Aʳ‖ (r ≤ 4), Nᵣ = ‖A⁴‖·‖Aʳ⁻⁴‖ (r = 5, 6, 7),
 *
 * and the remainder Σ_{k>m} ‖Bᵏ‖/k! (B = 2⁻ˢA) is summed over k < K + 8,
 * K > m the first k where the ratio of terms eight apart, ≤ ‖B⁸‖·k!/(k+8)!
 * ≤ ‖B⁸‖/(k+1)⁸, is ≤ ½: the rest is then at most the last eight terms
 * again (a geometric series per r). (K = m + 1 unless ‖B⁸‖ > 10¹⁰.)
 */
const eighthPowerTailFits = (
  logR: ReadonlyArray<number>,
  logNorm: number,
  log8: number,
  m: number,
  s: number
): boolean => {
  // K: (K + 1)⁸ ≥ 2‖B⁸‖.
  const start = Math.max(m + 1, Math.ceil(2 ** ((log8 - 8 * s + 1) / 8)) - 1)
  if (!(start + 8 <= TAIL_END)) return false
  // Terms relative to the target u·‖B‖₁ = 2^(logNorm − s − 53).
  const target = logNorm - s - LOG2_INVERSE_UNIT_ROUNDOFF
  let sum = 0
  let last = 0
  for (let k = m + 1; k < start + 8; k++) {
    const term = 2 ** ((k >> 3) * log8 + logR[k & 7]! - s * k - log2Factorial(k) - target)
    sum += term
    if (k >= start) last += term
  }
  return sum + last <= 1
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
  // ((out + c₁B) + c₂B²) + c₃B³ (or (c₁B + c₂B²) + c₃B³) entry by entry, as
  // three passes of core's kernels.
  if (accumulate) Blas1.axpy(c1, A, out)
  else {
    Blas1.copy(A, out)
    Blas1.scal(c1, out)
  }
  Blas1.axpy(c2, A2, out)
  Blas1.axpy(c3, A3, out)
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
      // One more product, A⁸ = (A⁴)², pays when it saves two or more squarings.
      if (s >= 2 && s <= MAX_FOLDED_SCALING) {
        Blas3.gemm(false, false, 1, ws.A4, ws.A4, 0, ws.A8)
        const log8 = Math.log2(norm1(ws.A8, sums))
        const [l2, l3, l4] = [Math.log2(n2), Math.log2(n3), Math.log2(n4)]
        const logR = [0, logNorm, l2, l3, l4, l4 + logNorm, l4 + l2, l4 + l3]
        // The cheapest (fewest products) of degree 15 or 19 with fewer squarings;
        // at equal cost the one with fewer squarings.
        for (let t = 0; t < s; t++) {
          if (eighthPowerTailFits(logR, logNorm, log8, 15, t)) {
            blocks = 3
            s = t
            break
          }
          if (eighthPowerTailFits(logR, logNorm, log8, 19, t)) {
            s = t
            break
          }
        }
      }
    }
  } else {
    blocks = MAX_BLOCKS
    s = Math.min(MAX_SCALING, Math.max(1, Math.ceil(logNorm) + 1))
  }
  let source = A
  let sigma = 2 ** -s
  if (s > MAX_FOLDED_SCALING || !Number.isFinite(n4)) {
    Blas1.copy(A.data, ws.B.data)
    Blas1.scal(sigma, ws.B.data)
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
    Blas1.axpy(2, P.data, T.data)
    const swap = P
    P = T
    T = swap
  }
  Blas1.copy(P.data, F.data)
}
