/**
 * Matrix norms, the 2-norm condition number and the sign and logarithm of the
 * determinant: the scalar summaries used to scale tolerances, diagnose
 * ill-conditioning and evaluate Gaussian log-likelihoods without overflow.
 *
 * - ‖A‖_F = √(Σᵢⱼ aᵢⱼ²), ‖A‖₁ = maxⱼ Σᵢ|aᵢⱼ|, ‖A‖_∞ = maxᵢ Σⱼ|aᵢⱼ|, ‖A‖₂ = σ₀.
 * - κ₂(A) = σ₀ / σ_{k−1}.
 * - log|det A| = Σₖ log|Rₖₖ| from a Householder QR A = Q·R, with
 *   sign(det A) = (−1)^(number of nontrivial reflectors)·Πₖ sign(Rₖₖ), since each
 *   reflector I − τvvᵀ with τ ≠ 0 has determinant −1.
 *
 * Reference: Golub & Van Loan, *Matrix Computations*, 4th ed., §2.3 and §5.2.
 *
 * @since 0.1.0
 */
import { Errors, Matrix, Vector } from "@descent/core"
import * as Qr from "./Qr.ts"
import * as Svd from "./Svd.ts"

/**
 * Which matrix norm `norm` computes: "fro" (Frobenius), 1 (max column sum),
 * `Infinity` (max row sum) or 2 (largest singular value). TypeScript has no
 * literal type for `Infinity`, so the numeric orders are typed `number` and
 * checked at run time.
 *
 * @category models
 * @since 0.1.0
 */
export type NormOrder = "fro" | number

/**
 * The sign and log-magnitude of a determinant: det A = sign·exp(logAbsDet).
 *
 * @category models
 * @since 0.1.0
 */
export interface SignedLogDet {
  /** +1, −1, or 0 for a singular matrix. */
  readonly sign: number
  /** log|det A|; −∞ for a singular matrix. */
  readonly logAbsDet: number
}

/**
 * A matrix norm of the m × n A: "fro" (Frobenius, overflow-safe), 1, Infinity, or
 * 2 (the largest singular value, from `Svd.singularValues`). The empty matrix has
 * norm 0.
 *
 * Reference: Golub & Van Loan, *Matrix Computations*, 4th ed., §2.3.
 *
 * @throws NonFiniteInput when A has a NaN or infinite entry.
 * @throws InvalidOptions when `order` is not one of the four supported orders.
 * @category evaluators
 * @since 0.1.0
 */
export const norm = (A: Matrix.Matrix, order: NormOrder = "fro"): number => {
  const operation = "Norms.norm"
  Vector.assertFinite(operation, "A", A.data)
  const { rows: m, cols: n, data: a } = A
  if (order === "fro") {
    let scale = 0
    for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]!))
    if (scale === 0) return 0
    let s = 0
    for (let i = 0; i < a.length; i++) {
      const v = a[i]! / scale
      s += v * v
    }
    return scale * Math.sqrt(s)
  }
  if (order === 1) {
    const sums = Vector.zeros(n)
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) sums[j] = sums[j]! + Math.abs(a[i * n + j]!)
    let best = 0
    for (let j = 0; j < n; j++) best = Math.max(best, sums[j]!)
    return best
  }
  if (order === Number.POSITIVE_INFINITY) {
    let best = 0
    for (let i = 0; i < m; i++) {
      let s = 0
      for (let j = 0; j < n; j++) s += Math.abs(a[i * n + j]!)
      best = Math.max(best, s)
    }
    return best
  }
  if (order === 2) {
    const s = Svd.singularValues(A)
    return s.length === 0 ? 0 : s[0]!
  }
  throw new Errors.InvalidOptions({
    operation,
    field: "order",
    value: order,
    requirement: '"fro", 1, 2 or Infinity'
  })
}

/**
 * The 2-norm condition number κ₂(A) = σ₀ / σ_{k−1} of an m × n A (k = min(m, n)),
 * from its singular values; Infinity when A is rank-deficient to working
 * precision (σ_{k−1} = 0). Computed singular values carry absolute errors of
 * order u·σ₀, so a computed κ above ≈ 1/u means "numerically singular".
 *
 * Reference: Golub & Van Loan, *Matrix Computations*, 4th ed., §2.6.2.
 *
 * @throws NonFiniteInput when A has a NaN or infinite entry.
 * @throws EmptyInput when A has no entries.
 * @category evaluators
 * @since 0.1.0
 */
export const cond = (A: Matrix.Matrix): number => {
  const s = Svd.singularValues(A)
  if (s.length === 0) throw new Errors.EmptyInput({ operation: "Norms.cond", what: "A" })
  const smallest = s[s.length - 1]!
  return smallest === 0 ? Number.POSITIVE_INFINITY : s[0]! / smallest
}

/**
 * The sign and natural logarithm of |det A| for a square A, from its Householder
 * QR: log|det A| = Σₖ log|Rₖₖ| (no overflow or underflow of the product) and
 * sign = (−1)^(reflectors with τ ≠ 0)·Πₖ sign(Rₖₖ). A singular A gives
 * `{ sign: 0, logAbsDet: -Infinity }`; the 0 × 0 matrix has det 1. Backward
 * stable: the result is exact for some A + ΔA with ‖ΔA‖_F ≤ c·n²·u·‖A‖_F.
 *
 * Reference: Golub & Van Loan, *Matrix Computations*, 4th ed., §5.2.
 *
 * @throws DimensionMismatch when A is not square.
 * @throws NonFiniteInput when A has a NaN or infinite entry.
 * @category evaluators
 * @since 0.1.0
 */
export const slogdet = (A: Matrix.Matrix): SignedLogDet => {
  Matrix.assertSquare("Norms.slogdet", "A", A)
  Vector.assertFinite("Norms.slogdet", "A", A.data)
  const { qr: F, tau } = Qr.qr(A)
  const n = A.rows
  let sign = 1
  let logAbsDet = 0
  for (let k = 0; k < n; k++) {
    const rkk = F.data[k * n + k]!
    if (rkk === 0) return { sign: 0, logAbsDet: Number.NEGATIVE_INFINITY }
    if (rkk < 0) sign = -sign
    if (tau[k] !== 0) sign = -sign
    logAbsDet += Math.log(Math.abs(rkk))
  }
  return { sign, logAbsDet }
}
