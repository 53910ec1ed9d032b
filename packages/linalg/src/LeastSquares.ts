/**
 * Linear least squares min ‖A·x − b‖₂ for any m × n A — over- or
 * underdetermined, full rank or rank-deficient — and the Moore–Penrose
 * pseudo-inverse A⁺.
 *
 * Both go through the SVD A = U·Σ·Vᵀ: singular values σⱼ ≤ rcond·σ₀ are treated
 * as zero, which gives the numerical rank r, and the minimum-norm solution is
 * x = Σ_{j<r} (uⱼᵀb / σⱼ)·vⱼ (LAPACK `dgelsd`'s semantics, `numpy.linalg.lstsq`).
 * This is the stable choice for rank-deficient and ill-conditioned problems: the
 * truncated SVD solution is the exact minimum-norm solution of a nearby problem
 * (Golub & Van Loan, *Matrix Computations*, 4th ed., §5.5; Björck, *Numerical
 * Methods for Least Squares Problems*, §2.7).
 *
 * @since 0.1.0
 */
import { Blas2, Blas3, Errors, Matrix, Vector } from "@descent/core"
import * as Svd from "./Svd.ts"

/**
 * Result of `lstsq`.
 *
 * @category models
 * @since 0.1.0
 */
export interface LeastSquaresResult {
  /** The minimum-norm least-squares solution (length n). */
  readonly x: Float64Array
  /**
   * ‖b − A·x‖₂², computed from the residual vector (always defined, unlike
   * NumPy's, which is empty when r < n or m ≤ n).
   */
  readonly residuals: number
  /** The numerical rank: the number of σⱼ > rcond·σ₀. */
  readonly rank: number
  /** The min(m, n) singular values of A, descending. */
  readonly singularValues: Float64Array
}

/**
 * Options of `lstsq` and `pinv`.
 *
 * @category models
 * @since 0.1.0
 */
export interface RcondOptions {
  /** Singular values ≤ rcond·σ₀ count as zero; default max(m, n)·ε (NumPy's default). */
  readonly rcond?: number
}

const EPS = 2 ** -52

const resolveRcond = (operation: string, A: Matrix.Matrix, options: RcondOptions): number => {
  const rcond = options.rcond ?? Math.max(A.rows, A.cols) * EPS
  if (!(rcond >= 0) || !Number.isFinite(rcond)) {
    throw new Errors.InvalidOptions({
      operation,
      field: "rcond",
      value: rcond,
      requirement: "a finite number ≥ 0"
    })
  }
  return rcond
}

const numericalRank = (s: Float64Array, rcond: number): number => {
  if (s.length === 0) return 0
  const cutoff = rcond * s[0]!
  let r = 0
  while (r < s.length && s[r]! > cutoff) r++
  return r
}

/**
 * The minimum-norm solution of min ‖A·x − b‖₂ for an m × n A of any shape and rank:
 * x = V·Σᵣ⁺·Uᵀ·b, where Σᵣ⁺ inverts the r singular values above rcond·σ₀ and
 * zeroes the rest. Rank-deficient problems are not an error: their rank is
 * reported. The residual b − A·x is orthogonal to the range of A (the normal
 * equations Aᵀ(b − A·x) = 0) up to c·n·u·‖A‖·‖b‖ for the kept directions.
 *
 * Reference: Golub & Van Loan, *Matrix Computations*, 4th ed., §5.5.4.
 *
 * @throws DimensionMismatch when b does not have length m.
 * @throws NonFiniteInput when A or b has a NaN or infinite entry.
 * @throws InvalidOptions when `rcond` is negative or not finite.
 * @category solvers
 * @since 0.1.0
 */
export const lstsq = (A: Matrix.Matrix, b: Float64Array, options: RcondOptions = {}): LeastSquaresResult => {
  const operation = "LeastSquares.lstsq"
  Vector.assertLength(operation, "b", b, A.rows)
  Vector.assertFinite(operation, "A", A.data)
  Vector.assertFinite(operation, "b", b)
  const rcond = resolveRcond(operation, A, options)
  const { U, singularValues, Vt } = Svd.svd(A)
  const rank = numericalRank(singularValues, rcond)
  const k = singularValues.length
  const n = A.cols
  const c = Vector.zeros(k)
  if (k > 0) Blas2.gemvT(1, U, b, 0, c)
  for (let j = 0; j < k; j++) c[j] = j < rank ? c[j]! / singularValues[j]! : 0
  const x = Vector.zeros(n)
  if (k > 0) Blas2.gemvT(1, Vt, c, 0, x)
  const residual = Vector.clone(b)
  if (n > 0 && A.rows > 0) Blas2.gemv(-1, A, x, 1, residual)
  let residuals = 0
  for (let i = 0; i < residual.length; i++) residuals += residual[i]! * residual[i]!
  return { x, residuals, rank, singularValues }
}

/**
 * The Moore–Penrose pseudo-inverse A⁺ = V·Σᵣ⁺·Uᵀ (n × m) of an m × n A, with
 * singular values ≤ rcond·σ₀ treated as zero. It is the unique X with
 * AXA = A, XAX = X, (AX)ᵀ = AX, (XA)ᵀ = XA (for the truncated A).
 *
 * Reference: Golub & Van Loan, *Matrix Computations*, 4th ed., §5.5.2;
 * Penrose, "A generalized inverse for matrices", *Proc. Cambridge Philos. Soc.* 51 (1955).
 *
 * @throws NonFiniteInput when A has a NaN or infinite entry.
 * @throws InvalidOptions when `rcond` is negative or not finite.
 * @category solvers
 * @since 0.1.0
 */
export const pinv = (A: Matrix.Matrix, options: RcondOptions = {}): Matrix.Matrix => {
  const operation = "LeastSquares.pinv"
  Vector.assertFinite(operation, "A", A.data)
  const rcond = resolveRcond(operation, A, options)
  const { rows: m, cols: n } = A
  const { U, singularValues, Vt } = Svd.svd(A)
  const rank = numericalRank(singularValues, rcond)
  const X = Matrix.zeros(n, m)
  if (rank === 0) return X
  // X = Vᵣ·Σᵣ⁻¹·Uᵣᵀ: scale the first r rows of Vt, then X = (Σᵣ⁻¹Vtᵣ)ᵀ·Uᵣᵀ.
  const Vr = Matrix.zeros(rank, n)
  for (let j = 0; j < rank; j++) {
    const inv = 1 / singularValues[j]!
    for (let i = 0; i < n; i++) Vr.data[j * n + i] = Vt.data[j * n + i]! * inv
  }
  const k = U.cols
  const Ur = Matrix.zeros(m, rank)
  for (let i = 0; i < m; i++) for (let j = 0; j < rank; j++) Ur.data[i * rank + j] = U.data[i * k + j]!
  Blas3.gemm(true, true, 1, Vr, Ur, 0, X)
  return X
}
