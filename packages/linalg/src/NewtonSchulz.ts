/**
 * Newton–Schulz orthogonalization: the orthogonal polar factor U·Vᵀ of
 * G = U·Σ·Vᵀ (the nearest semi-orthogonal matrix in the Frobenius norm) by
 * matrix products only, the update direction of the Muon optimizer.
 *
 * Both iterations act on the singular values alone: X ← φ(X·Xᵀ)·X maps every
 * singular value σ to σ·φ(σ²) and keeps the singular vectors.
 * - **Cubic** (Higham, "Functions of Matrices", 2008, §8.3, eq. (8.20);
 *   Kovarik 1970, Björck & Bowie 1971): X ← (3X − X·Xᵀ·X)/2, σ ↦ (3σ − σ³)/2,
 *   which converges to 1 for every σ ∈ (0, √3), quadratically near 1.
 * - **Quintic** (Jordan et al. 2024, "Muon: an optimizer for hidden layers in
 *   neural networks"): X ← a·X + (b·A + c·A²)·X with A = X·Xᵀ and
 *   (a, b, c) = (3.4445, −4.7750, 2.0315), a fixed number of steps (default 5).
 *   The coefficients maximize the slope at 0 (a = 3.4445) so small singular
 *   values grow fast, at the price of not converging: after five steps the
 *   singular values lie roughly in [0.7, 1.2], not at 1. The result is only
 *   approximately orthogonal; that suffices for Muon's update direction. The
 *   band holds for singular values σ ≳ 2e-3·‖G‖_F (five steps multiply a small
 *   σ by at most a⁵ ≈ 490); smaller ones stay below it (a square 50 × 50
 *   Gaussian G ends with σ_min ≈ 0.4).
 *
 * Both first divide G by its Frobenius norm (so every σ ≤ 1) and run on the
 * wide orientation (Gᵀ when G has more rows than columns), so X·Xᵀ is the
 * smaller Gram matrix.
 *
 * @since 0.1.0
 */
import { Blas1, Blas3, Errors, Matrix, type Solver, Vector } from "@descent/core"
import { checkIterationOptions, checkNonNegative, maxAbsDeviationFromIdentity } from "./internal/matrix.ts"

/**
 * Muon's quintic coefficients (a, b, c) (Jordan et al. 2024).
 *
 * @category models
 * @since 0.1.0
 */
export const muonCoefficients: readonly [number, number, number] = [3.4445, -4.775, 2.0315]

/**
 * Options of `quintic`; defaults in `defaultQuinticOptions`.
 *
 * @category models
 * @since 0.1.0
 */
export interface QuinticOptions {
  /** Number of steps (an integer ≥ 0). Default 5, as in Muon. */
  readonly steps?: number
  /** Added to ‖G‖_F before dividing (≥ 0; guards G = 0). Default 1e-7, as in Muon. */
  readonly epsilon?: number
  /** (a, b, c) of X ← a·X + (b·A + c·A²)·X. Default `muonCoefficients`. */
  readonly coefficients?: readonly [number, number, number]
}

/**
 * Defaults of `QuinticOptions`.
 *
 * @category models
 * @since 0.1.0
 */
export const defaultQuinticOptions = { steps: 5, epsilon: 1e-7, coefficients: muonCoefficients } as const

/**
 * Result of `quintic`.
 *
 * @category models
 * @since 0.1.0
 */
export interface QuinticResult {
  /** The approximately orthogonalized G, of G's shape. */
  readonly value: Matrix.Matrix
  readonly iterations: number
}

/**
 * Options of `cubic`; defaults in `defaultCubicOptions`.
 *
 * @category models
 * @since 0.1.0
 */
export interface CubicOptions {
  /** Iteration budget (an integer ≥ 1). Default 100: a singular value σ/‖G‖_F grows by 1.5 per step, so 100 steps cover ‖G‖_F/σ_min up to about 1e15. */
  readonly maxIterations?: number
  /** Stop when max|X·Xᵀ − I| ≤ tolerance (> 0), on the smaller Gram matrix. Default 1e-12 (rounding keeps the residual near n·u). */
  readonly tolerance?: number
}

/**
 * Defaults of `CubicOptions`.
 *
 * @category models
 * @since 0.1.0
 */
export const defaultCubicOptions = { maxIterations: 100, tolerance: 1e-12 } as const

/**
 * Result of `cubic`.
 *
 * @category models
 * @since 0.1.0
 */
export interface CubicResult {
  /** The orthogonal polar factor of G (orthonormal columns when G is tall, rows when wide). */
  readonly value: Matrix.Matrix
  /** `converged`, `stalled` (no progress in three steps: G is rank-deficient or rounding dominates), `maxIterations` or `diverged` (non-finite). */
  readonly status: Solver.Status
  readonly iterations: number
  /** max|X·Xᵀ − I| of the returned matrix in its wide orientation. */
  readonly residual: number
}

/** G (or Gᵀ, whichever is wide) divided by ‖G‖_F + ε, as a fresh matrix. */
const normalizedWide = (G: Matrix.Matrix, epsilon: number): { W: Matrix.Matrix; transposed: boolean } => {
  const transposed = G.rows > G.cols
  const W = transposed ? Matrix.transpose(G) : Matrix.clone(G)
  const d = Blas1.nrm2(W.data) + epsilon
  if (d > 0) Blas1.scal(1 / d, W.data)
  return { W, transposed }
}

/**
 * Muon's quintic Newton–Schulz iteration: a fixed number of steps
 * X ← a·X + (b·X·Xᵀ + c·(X·Xᵀ)²)·X from X₀ = G/(‖G‖_F + ε). Cheap (three
 * products per step) and deliberately inexact: the singular values of the
 * result end roughly in [0.7, 1.2] (see the module comment), not at 1.
 *
 * @throws NonFiniteInput when G holds NaN or ±Infinity.
 * @throws InvalidOptions when `steps` is not an integer ≥ 0, `epsilon` is negative, or a coefficient is not finite.
 * @category matrix functions
 * @since 0.1.0
 */
export const quintic = (G: Matrix.Matrix, options: QuinticOptions = {}): QuinticResult => {
  const operation = "NewtonSchulz.quintic"
  const steps = options.steps ?? defaultQuinticOptions.steps
  const epsilon = options.epsilon ?? defaultQuinticOptions.epsilon
  const [a, b, c] = options.coefficients ?? defaultQuinticOptions.coefficients
  if (!(Number.isInteger(steps) && steps >= 0))
    throw new Errors.InvalidOptions({
      operation,
      field: "steps",
      value: steps,
      requirement: "an integer ≥ 0"
    })
  checkNonNegative(operation, "epsilon", epsilon)
  if (!(Number.isFinite(a) && Number.isFinite(b) && Number.isFinite(c)))
    throw new Errors.InvalidOptions({
      operation,
      field: "coefficients",
      value: [a, b, c],
      requirement: "three finite numbers"
    })
  Vector.assertFinite(operation, "G", G.data)
  if (G.rows === 0 || G.cols === 0) return { value: Matrix.zeros(G.rows, G.cols), iterations: 0 }
  const { W, transposed } = normalizedWide(G, epsilon)
  const k = W.rows
  const m = W.cols
  const A = Matrix.zeros(k, k)
  const B = Matrix.zeros(k, k)
  let X = W
  let Xn = Matrix.zeros(k, m)
  for (let s = 0; s < steps; s++) {
    Blas3.gemm(false, true, 1, X, X, 0, A)
    Blas3.gemm(false, false, c, A, A, 0, B)
    Blas1.axpy(b, A.data, B.data)
    Blas1.axpby(a, X.data, 0, Xn.data)
    Blas3.gemm(false, false, 1, B, X, 1, Xn)
    const t = X
    X = Xn
    Xn = t
  }
  return { value: transposed ? Matrix.transpose(X) : X, iterations: steps }
}

/**
 * The orthogonal polar factor U·Vᵀ of G = U·Σ·Vᵀ by the cubic Newton–Schulz
 * iteration X ← (3X − X·Xᵀ·X)/2 from X₀ = G/‖G‖_F, until max|X·Xᵀ − I| ≤
 * tolerance. Converges for full-rank G (every normalized σ ∈ (0, 1]); the
 * number of steps grows like log₁.₅ κ(G). For a rank-deficient G the zero
 * singular values stay zero and the status is `stalled` or `maxIterations`.
 *
 * @throws NonFiniteInput when G holds NaN or ±Infinity.
 * @throws InvalidOptions when `maxIterations` is not an integer ≥ 1 or `tolerance` is not positive.
 * @category matrix functions
 * @since 0.1.0
 */
export const cubic = (G: Matrix.Matrix, options: CubicOptions = {}): CubicResult => {
  const operation = "NewtonSchulz.cubic"
  const maxIterations = options.maxIterations ?? defaultCubicOptions.maxIterations
  const tolerance = options.tolerance ?? defaultCubicOptions.tolerance
  checkIterationOptions(operation, maxIterations, tolerance)
  Vector.assertFinite(operation, "G", G.data)
  if (G.rows === 0 || G.cols === 0)
    return { value: Matrix.zeros(G.rows, G.cols), status: "converged", iterations: 0, residual: 0 }
  const { W, transposed } = normalizedWide(G, 0)
  const k = W.rows
  const m = W.cols
  const A = Matrix.zeros(k, k)
  let X = W
  let Xn = Matrix.zeros(k, m)
  let status: Solver.Status = "maxIterations"
  let iterations = 0
  let residual = Number.POSITIVE_INFINITY
  let best = Number.POSITIVE_INFINITY
  let sinceBest = 0
  for (;;) {
    Blas3.gemm(false, true, 1, X, X, 0, A)
    residual = maxAbsDeviationFromIdentity(A)
    if (!Number.isFinite(residual)) {
      status = "diverged"
      break
    }
    if (residual <= tolerance) {
      status = "converged"
      break
    }
    if (residual < best) {
      best = residual
      sinceBest = 0
    } else if (++sinceBest >= 3) {
      status = "stalled"
      break
    }
    if (iterations >= maxIterations) break
    Blas1.axpby(1.5, X.data, 0, Xn.data)
    Blas3.gemm(false, false, -0.5, A, X, 1, Xn)
    const t = X
    X = Xn
    Xn = t
    iterations++
  }
  return { value: transposed ? Matrix.transpose(X) : X, status, iterations, residual }
}
