/**
 * Powers and roots of symmetric positive definite matrices: A^{1/2}, the inverse
 * p-th roots A^{−1/p} that Shampoo-type preconditioners apply (Gupta, Koren &
 * Singer 2018; Anil et al. 2020, "Scalable second order optimization for deep
 * learning"), and general real powers A^r.
 *
 * Two routes:
 * - **Eigen route** (`powerEigen`, `sqrtEigen`, `inverseRootEigen`):
 *   A = V·diag(λ)·Vᵀ, A^r = V·diag(λʳ)·Vᵀ (Higham, "Functions of Matrices",
 *   2008, §1.2 and §6.1), with `SymmetricEigen.eigh` (Householder
 *   tridiagonalization and implicit QL) on the symmetric part of A. Exact up
 *   to the eigensolver's backward error, any real r; O(n³).
 * - **Coupled Newton route** (`inverseRootNewton`, `sqrtNewton`): only matrix
 *   products (Guo & Higham 2006, "A Schur–Newton method for the matrix p-th
 *   root and its inverse", SIAM J. Matrix Anal. Appl. 28(3); Higham 2008,
 *   §7.3): X_{k+1} = X_k·((p+1)I − M_k)/p, M_{k+1} = (((p+1)I − M_k)/p)^p·M_k,
 *   X_0 = z^{1/p}·I, M_0 = z·A, so that M_k = X_k^p·A → I and X_k → A^{−1/p}.
 *   z = (1 + p)/(2‖A‖_F) puts the spectrum of M_0 in (0, (1+p)/2], inside the
 *   region of convergence (0, p + 1) (the choice of Anil et al. 2020). The
 *   iteration reports its `status`, `iterations` and the residual
 *   max|M_k − I|; it never loops past `maxIterations`.
 *
 * Every function accepts a ridge `epsilon` ≥ 0 and works with A + εI, the usual
 * regularization of Shampoo's statistics.
 *
 * @since 0.1.0
 */
import { Blas1, Blas3, Errors, Matrix, type Solver, Vector } from "@descent/core"
import {
  addToDiagonal,
  checkIterationOptions,
  checkNonNegative,
  maxAbsDeviationFromIdentity,
  symmetrize
} from "./internal/matrix.ts"
import * as SymmetricEigen from "./SymmetricEigen.ts"

/**
 * Options of the eigen-route functions.
 *
 * @category models
 * @since 0.1.0
 */
export interface EigenRootOptions {
  /** Ridge ε ≥ 0: the function is applied to A + εI. Default 0. */
  readonly epsilon?: number
}

/**
 * Result of the eigen-route functions.
 *
 * @category models
 * @since 0.1.0
 */
export interface EigenRootResult {
  /** (A + εI)^r. */
  readonly value: Matrix.Matrix
  /** The eigenvalues of the symmetric part of A + εI, ascending. */
  readonly eigenvalues: Float64Array
}

/**
 * Options of the coupled Newton iterations; defaults in `defaultNewtonRootOptions`.
 *
 * @category models
 * @since 0.1.0
 */
export interface NewtonRootOptions {
  /** Ridge ε ≥ 0: the root of A + εI is computed. Default 0. */
  readonly epsilon?: number
  /** Iteration budget (a positive integer). Default 100. */
  readonly maxIterations?: number
  /** Stop when max|M_k − I| ≤ tolerance (> 0). Default 1e-12. */
  readonly tolerance?: number
}

/**
 * Defaults of `NewtonRootOptions`. 100 iterations cover condition numbers up to
 * about 1e16 for p ≤ 8 (the smallest eigenvalue of M grows by ((p+1)/p)^p ≥ 2.25
 * per step until it nears 1, then convergence is quadratic); 1e-12 is a few
 * hundred units of roundoff, above the level where rounding stalls M_k near I.
 *
 * @category models
 * @since 0.1.0
 */
export const defaultNewtonRootOptions = { epsilon: 0, maxIterations: 100, tolerance: 1e-12 } as const

/**
 * Result of the coupled Newton iterations.
 *
 * @category models
 * @since 0.1.0
 */
export interface NewtonRootResult {
  /** The computed root (A^{−1/p} for `inverseRootNewton`, A^{1/2} for `sqrtNewton`). */
  readonly value: Matrix.Matrix
  /** `converged` (residual ≤ tolerance), `stalled` (rounding stopped progress above the tolerance), `maxIterations` or `diverged` (non-finite or growing residual). */
  readonly status: Solver.Status
  readonly iterations: number
  /** max|M_k − I| at the last iterate, M_k = X_k^p·(A + εI). */
  readonly residual: number
}

/** A + εI as a fresh matrix (validated: square, finite). */
const ridged = (operation: string, A: Matrix.Matrix, epsilon: number): Matrix.Matrix => {
  Matrix.assertSquare(operation, "A", A)
  Vector.assertFinite(operation, "A", A.data)
  checkNonNegative(operation, "epsilon", epsilon)
  const B = Matrix.clone(A)
  if (epsilon !== 0) addToDiagonal(B, epsilon)
  return B
}

/** V·diag(f)·Vᵀ. */
const reconstruct = (V: Matrix.Matrix, f: Float64Array): Matrix.Matrix => {
  const n = V.rows
  const W = Matrix.clone(V)
  const w = W.data
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) w[i * n + j] = w[i * n + j]! * f[j]!
  const out = Matrix.zeros(n, n)
  Blas3.gemm(false, true, 1, W, V, 0, out)
  return out
}

/**
 * (A + εI)^r for a symmetric positive (semi)definite A and any finite real r,
 * by the eigen-decomposition A + εI = V·diag(λ)·Vᵀ: the result is
 * V·diag(λʳ)·Vᵀ (Higham 2008, Definition 1.2). Only the symmetric part of A is
 * used. Eigenvalues within n·u·λ_max of 0 are rounding of a semidefinite
 * matrix: for r > 0, those in [−n·u·λ_max, 0] are set to 0; for r ≤ 0 every
 * eigenvalue must exceed n·u·λ_max. Accuracy: eigenvalues carry absolute
 * errors ≈ u·‖A‖₂, so the component of λ_min has relative error ≈ u·κ(A) and
 * A^r inherits ≈ |r|·u·κ(A) (raise ε to bound κ).
 *
 * @throws DimensionMismatch when A is not square.
 * @throws NonFiniteInput when A holds NaN or ±Infinity.
 * @throws InvalidOptions when `epsilon` is negative or not finite, or `exponent` is not finite.
 * @throws NotPositiveDefinite when an eigenvalue is negative (r > 0) or not above n·u·λ_max (r ≤ 0); `column` is its ascending index, `pivot` its value.
 * @category matrix functions
 * @since 0.1.0
 */
export const powerEigen = (
  A: Matrix.Matrix,
  exponent: number,
  options: EigenRootOptions = {}
): EigenRootResult => powerEigenImpl("powerEigen", A, exponent, options)

const powerEigenImpl = (
  operation: string,
  A: Matrix.Matrix,
  exponent: number,
  options: EigenRootOptions
): EigenRootResult => {
  if (!Number.isFinite(exponent))
    throw new Errors.InvalidOptions({
      operation,
      field: "exponent",
      value: exponent,
      requirement: "a finite number"
    })
  const B = ridged(operation, A, options.epsilon ?? 0)
  const n = B.rows
  if (n === 0) return { value: Matrix.zeros(0, 0), eigenvalues: Vector.zeros(0) }
  symmetrize(B) // the symmetric part: `SymmetricEigen` reads only the lower triangle
  const { eigenvalues: values, eigenvectors: vectors } = SymmetricEigen.eigh(B)
  const lmax = Math.max(Math.abs(values[0]!), Math.abs(values[n - 1]!))
  // The eigensolver's absolute error (Weyl): below this, λ is indistinguishable from 0.
  const rounding = n * 2 ** -53 * lmax
  const f = Vector.zeros(n)
  for (let k = 0; k < n; k++) {
    const l = values[k]!
    if (exponent > 0) {
      if (l < -rounding) throw new Errors.NotPositiveDefinite({ operation, column: k, pivot: l })
      f[k] = l <= 0 ? 0 : l ** exponent
    } else {
      if (!(l > rounding)) throw new Errors.NotPositiveDefinite({ operation, column: k, pivot: l })
      f[k] = l ** exponent
    }
  }
  return { value: reconstruct(vectors, f), eigenvalues: values }
}

/**
 * The principal square root (A + εI)^{1/2} of a symmetric positive
 * semidefinite matrix, by the eigen route (see `powerEigen`).
 *
 * @throws DimensionMismatch when A is not square.
 * @throws NonFiniteInput when A holds NaN or ±Infinity.
 * @throws InvalidOptions when `epsilon` is negative or not finite.
 * @throws NotPositiveDefinite when an eigenvalue is below −n·u·λ_max.
 * @category matrix functions
 * @since 0.1.0
 */
export const sqrtEigen = (A: Matrix.Matrix, options: EigenRootOptions = {}): EigenRootResult =>
  powerEigenImpl("sqrtEigen", A, 0.5, options)

const checkDegree = (operation: string, p: number): void => {
  if (!(Number.isInteger(p) && p >= 1))
    throw new Errors.InvalidOptions({ operation, field: "p", value: p, requirement: "an integer ≥ 1" })
}

/**
 * The inverse p-th root (A + εI)^{−1/p} of a symmetric positive definite
 * matrix (p = 4 for Shampoo with two-sided statistics), by the eigen route
 * (see `powerEigen`).
 *
 * @throws DimensionMismatch when A is not square.
 * @throws NonFiniteInput when A holds NaN or ±Infinity.
 * @throws InvalidOptions when `p` is not an integer ≥ 1, or `epsilon` is negative or not finite.
 * @throws NotPositiveDefinite when an eigenvalue of A + εI is not above n·u·λ_max (numerically zero or negative).
 * @category matrix functions
 * @since 0.1.0
 */
export const inverseRootEigen = (
  A: Matrix.Matrix,
  p: number,
  options: EigenRootOptions = {}
): EigenRootResult => {
  checkDegree("inverseRootEigen", p)
  return powerEigenImpl("inverseRootEigen", A, -1 / p, options)
}

interface NewtonCore {
  readonly X: Matrix.Matrix
  readonly B: Matrix.Matrix
  readonly status: Solver.Status
  readonly iterations: number
  readonly residual: number
}

const newtonCore = (
  operation: string,
  A: Matrix.Matrix,
  p: number,
  options: NewtonRootOptions
): NewtonCore => {
  checkDegree(operation, p)
  const maxIterations = options.maxIterations ?? defaultNewtonRootOptions.maxIterations
  const tolerance = options.tolerance ?? defaultNewtonRootOptions.tolerance
  checkIterationOptions(operation, maxIterations, tolerance)
  const B = ridged(operation, A, options.epsilon ?? 0)
  const n = B.rows
  if (n === 0) return { X: Matrix.zeros(0, 0), B, status: "converged", iterations: 0, residual: 0 }
  const fro = Blas1.nrm2(B.data)
  if (!(fro > 0)) throw new Errors.NotPositiveDefinite({ operation, column: 0, pivot: B.data[0]! })
  const z = (1 + p) / (2 * fro)
  const X = Matrix.zeros(n, n)
  const M = Matrix.clone(B)
  Blas1.scal(z, M.data)
  const x0 = z ** (1 / p)
  for (let i = 0; i < n; i++) X.data[i * n + i] = x0
  const Tm = Matrix.zeros(n, n)
  const P = Matrix.zeros(n, n)
  const S = Matrix.zeros(n, n)
  let Xc = X
  let Xn = Matrix.zeros(n, n)
  let Mc = M
  let Mn = Matrix.zeros(n, n)
  let residual = maxAbsDeviationFromIdentity(Mc)
  let best = residual
  let sinceBest = 0
  let status: Solver.Status = "maxIterations"
  let iterations = 0
  while (iterations < maxIterations) {
    if (residual <= tolerance) {
      status = "converged"
      break
    }
    // T = ((p+1)I − M)/p.
    Blas1.axpby(-1 / p, Mc.data, 0, Tm.data)
    addToDiagonal(Tm, (p + 1) / p)
    Blas3.gemm(false, false, 1, Xc, Tm, 0, Xn)
    // P = T^p by repeated multiplication (p is small in practice).
    let Pc = Tm
    if (p > 1) {
      Blas3.gemm(false, false, 1, Tm, Tm, 0, P)
      let Q = P
      let R = S
      for (let k = 2; k < p; k++) {
        Blas3.gemm(false, false, 1, Q, Tm, 0, R)
        const tmp = Q
        Q = R
        R = tmp
      }
      Pc = Q
    }
    Blas3.gemm(false, false, 1, Pc, Mc, 0, Mn)
    let tmp = Xc
    Xc = Xn
    Xn = tmp
    tmp = Mc
    Mc = Mn
    Mn = tmp
    iterations++
    residual = maxAbsDeviationFromIdentity(Mc)
    if (!Number.isFinite(residual)) {
      status = "diverged"
      break
    }
    if (residual < best) {
      best = residual
      sinceBest = 0
    } else if (best < 0.5 && ++sinceBest >= 3) {
      // Near convergence (the quadratic phase), no progress in three steps:
      // rounding (residual small) or divergence. In the linear phase the
      // entrywise deviation from I can stall near 1 for many steps while the
      // smallest eigenvalues of M still grow by ≥ 2.25 per step, so it is not
      // judged there; the iteration budget bounds it.
      status = best < 1e-6 ? "stalled" : "diverged"
      break
    }
    if (residual > 1e3) {
      // Exact iterates keep the spectrum of M in (0, 1] after the first step;
      // a deviation this large means an indefinite A or lost accuracy.
      status = "diverged"
      break
    }
  }
  if (status === "maxIterations" && residual <= tolerance) status = "converged"
  return { X: Xc, B, status, iterations, residual }
}

/**
 * The inverse p-th root (A + εI)^{−1/p} of a symmetric positive definite
 * matrix by the coupled Newton iteration of Guo & Higham (2006) (see the
 * module comment): only matrix products, p + 1 per step, which suits Shampoo
 * where the previous root is not reused. Linear convergence (rate ≥ 2.25 per
 * step on the smallest eigenvalue) until the spectrum of M_k nears 1, then
 * quadratic. The definiteness of A is not checked: an indefinite A makes the
 * iteration diverge or stall, which `status` reports.
 *
 * @throws DimensionMismatch when A is not square.
 * @throws NonFiniteInput when A holds NaN or ±Infinity.
 * @throws InvalidOptions when `p`, `epsilon`, `maxIterations` or `tolerance` is out of range.
 * @throws NotPositiveDefinite when A + εI is the zero matrix.
 * @category matrix functions
 * @since 0.1.0
 */
export const inverseRootNewton = (
  A: Matrix.Matrix,
  p: number,
  options: NewtonRootOptions = {}
): NewtonRootResult => {
  const r = newtonCore("inverseRootNewton", A, p, options)
  return { value: r.X, status: r.status, iterations: r.iterations, residual: r.residual }
}

/**
 * The principal square root (A + εI)^{1/2} of a symmetric positive definite
 * matrix by the coupled Newton iteration for p = 2 (X_k → A^{−1/2}), returning
 * A·X_k (= A^{1/2} at convergence; Higham 2008, §6.3 and §7.3). Reports
 * `status`, `iterations` and `residual` as `inverseRootNewton` does.
 *
 * @throws DimensionMismatch when A is not square.
 * @throws NonFiniteInput when A holds NaN or ±Infinity.
 * @throws InvalidOptions when `epsilon`, `maxIterations` or `tolerance` is out of range.
 * @throws NotPositiveDefinite when A + εI is the zero matrix.
 * @category matrix functions
 * @since 0.1.0
 */
export const sqrtNewton = (A: Matrix.Matrix, options: NewtonRootOptions = {}): NewtonRootResult => {
  const r = newtonCore("sqrtNewton", A, 2, options)
  const n = r.B.rows
  const value = Matrix.zeros(n, n)
  if (n > 0) Blas3.gemm(false, false, 1, r.B, r.X, 0, value)
  return { value, status: r.status, iterations: r.iterations, residual: r.residual }
}
