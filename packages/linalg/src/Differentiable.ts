/**
 * Linear-algebra operations for `@descent/core`'s `Autodiff`: solve, inverse,
 * log-determinants, Cholesky and the symmetric eigendecomposition as traced
 * `Tensor` operations with their reverse-mode rules (and `Expm.expmTraced` for
 * the exponential).
 *
 * Each forward pass runs the package's factorizations on plain values; each
 * rule is written with traced operations — often with the operation itself,
 * e.g. the rule of solve solves with Aᵀ — so scores built from them also have
 * exact Hessian-vector products. The rules are the standard matrix-calculus
 * results (Giles 2008, "An extended collection of matrix derivative results
 * for forward and reverse mode algorithmic differentiation"; Murray 2016,
 * "Differentiation of the Cholesky decomposition"; Magnus & Neudecker for
 * eigenvalues and eigenvectors).
 *
 * @since 0.1.0
 */
import { Autodiff, Errors, Matrix, Tensor as T, type Tensor as TensorType } from "@descent/core"
import * as Cholesky from "./Cholesky.ts"
import * as Lu from "./Lu.ts"
import * as SymmetricEigen from "./SymmetricEigen.ts"

type Tensor = TensorType.Tensor

const asMatrix = (operation: string, t: Tensor): Matrix.Matrix => {
  if (t.shape.length !== 2) {
    throw new Errors.DimensionMismatch({
      operation,
      what: "A",
      expected: [t.shape[0] ?? 1, t.shape[0] ?? 1],
      actual: [...t.shape]
    })
  }
  return { rows: t.shape[0]!, cols: t.shape[1]!, data: t.data }
}
const fromMatrix = (A: Matrix.Matrix): Tensor => T.from(A)

const solvePrimitive = Autodiff.customVjp(
  ([A, b]) => {
    const M = asMatrix("solve", A!)
    if (b!.shape.length === 1) return T.from(Lu.solve(M, b!.data))
    return fromMatrix(Lu.solve(M, asMatrix("solve", b!)))
  },
  (g, x, [A]) => {
    // x = A⁻¹b: b̄ = A⁻ᵀḡ, Ā = −b̄·xᵀ.
    const bBar = solve(T.transpose(A!), g)
    const aBar = x.shape.length === 1 ? T.neg(T.outer(bBar, x)) : T.neg(T.matmul(bBar, T.transpose(x)))
    return [aBar, bBar]
  }
)

/**
 * x = A⁻¹·b for a square A and a vector or matrix b (LU with partial pivoting),
 * differentiable in A and b: b̄ = A⁻ᵀ·x̄, Ā = −b̄·xᵀ.
 *
 * @throws Errors.Singular when A is exactly singular.
 * @category differentiable
 * @since 0.1.0
 */
export const solve = (A: T.TensorLike, b: T.TensorLike): Tensor => solvePrimitive(A, b)

const inversePrimitive = Autodiff.customVjp(
  ([A]) => {
    const f = Lu.factor(asMatrix("inverse", A!))
    return fromMatrix(Lu.inverse(f))
  },
  // Y = A⁻¹: Ā = −Yᵀ·Ȳ·Yᵀ.
  (g, Y) => [T.neg(T.matmul(T.matmul(T.transpose(Y), g), T.transpose(Y)))]
)

/**
 * A⁻¹, differentiable: Ā = −A⁻ᵀ·Ȳ·A⁻ᵀ.
 *
 * @throws Errors.Singular when A is exactly singular.
 * @category differentiable
 * @since 0.1.0
 */
export const inverse = (A: T.TensorLike): Tensor => inversePrimitive(A)

const logAbsDetPrimitive = Autodiff.customVjp(
  ([A]) => {
    const { logAbsDet } = Lu.logAbsDeterminant(Lu.factor(asMatrix("logAbsDeterminant", A!)))
    return T.scalar(logAbsDet)
  },
  // d log|det A| = tr(A⁻¹ dA): Ā = ḡ·A⁻ᵀ.
  (g, _y, [A]) => [T.mul(g, T.transpose(inverse(A!)))]
)

/**
 * log |det A| of a square matrix (the second output of `slogdet`),
 * differentiable: Ā = ḡ·A⁻ᵀ. DAGMA's acyclicity function is
 * −log det(sI − W∘W) + d·log s.
 *
 * @category differentiable
 * @since 0.1.0
 */
export const logAbsDeterminant = (A: T.TensorLike): Tensor => logAbsDetPrimitive(A)

const logDetSpdPrimitive = Autodiff.customVjp(
  ([A]) => T.scalar(Cholesky.logDeterminant(Cholesky.factor(asMatrix("logDeterminantSpd", A!)))),
  // Ā = ḡ·A⁻¹ (symmetric A; the lower triangle is what the factorization read,
  // but the symmetric cotangent is the one that matches a symmetric input).
  (g, _y, [A]) => [T.mul(g, inverse(A!))]
)

/**
 * log det A of a symmetric positive definite matrix by Cholesky,
 * differentiable: Ā = ḡ·A⁻¹.
 *
 * @throws Errors.NotPositiveDefinite when A is not positive definite.
 * @category differentiable
 * @since 0.1.0
 */
export const logDeterminantSpd = (A: T.TensorLike): Tensor => logDetSpdPrimitive(A)

/** Φ(X): the lower triangle of X with its diagonal halved (a constant mask). */
const lowerHalfDiagonal = (n: number): Tensor => {
  const m = T.zeros([n, n])
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) m.data[i * n + j] = 1
    m.data[i * n + i] = 0.5
  }
  return m
}

const choleskyPrimitive = Autodiff.customVjp(
  ([A]) => fromMatrix(Cholesky.factor(asMatrix("cholesky", A!)).L),
  (g, L) => {
    // Murray (2016): P = Φ(Lᵀ·L̄), S = L⁻ᵀ·P·L⁻¹, Ā = ½(S + Sᵀ).
    const n = L.shape[0]!
    const P = T.mul(T.matmul(T.transpose(L), g), lowerHalfDiagonal(n))
    const X = solve(T.transpose(L), P) // L⁻ᵀ·P
    const S = T.transpose(solve(T.transpose(L), T.transpose(X))) // X·L⁻¹
    return [T.mul(0.5, T.add(S, T.transpose(S)))]
  }
)

/**
 * The Cholesky factor L (A = L·Lᵀ, lower triangular) of a symmetric positive
 * definite matrix, differentiable with Murray's rule (the cotangent is
 * returned symmetrized).
 *
 * @throws Errors.NotPositiveDefinite when A is not positive definite.
 * @category differentiable
 * @since 0.1.0
 */
export const cholesky = (A: T.TensorLike): Tensor => choleskyPrimitive(A)

const eigenvaluesPrimitive = Autodiff.customVjp(
  ([A]) => T.from(SymmetricEigen.eigvalsh(asMatrix("eigvalsh", A!))),
  // dλᵢ = vᵢᵀ·dA·vᵢ: Ā = V·diag(λ̄)·Vᵀ, with V traced so that second
  // derivatives include the eigenvectors' motion.
  (g, _lambda, [A]) => {
    const V = eigenvectors(A!)
    return [T.matmul(T.mul(V, T.reshape(g, [1, g.size])), T.transpose(V))]
  }
)

/**
 * The eigenvalues (ascending) of a symmetric matrix, differentiable:
 * Ā = V·diag(λ̄)·Vᵀ. Exact for distinct eigenvalues (a repeated eigenvalue has
 * no derivative); second derivatives are exact as well.
 *
 * @category differentiable
 * @since 0.1.0
 */
export const eigvalsh = (A: T.TensorLike): Tensor => eigenvaluesPrimitive(A)

const eigenvectorsPrimitive = Autodiff.customVjp(
  ([A]) => fromMatrix(SymmetricEigen.eigh(asMatrix("eigenvectors", A!)).eigenvectors),
  (g, V, [A]) => {
    // dV = V·(F ∘ (Vᵀ·dA·V)) with Fᵢⱼ = 1/(λⱼ − λᵢ) off the diagonal:
    // Ā = V·(F ∘ (Vᵀ·V̄))·Vᵀ, symmetrized for a symmetric input.
    const lambda = eigvalsh(A!)
    const n = lambda.size
    const diff = T.sub(T.reshape(lambda, [1, n]), T.reshape(lambda, [n, 1]))
    const offDiagonal = T.sub(T.ones([n, n]), T.from(Matrix.identity(n)))
    const F = T.div(offDiagonal, T.add(diff, T.from(Matrix.identity(n))))
    const inner = T.mul(F, T.matmul(T.transpose(V), g))
    const X = T.matmul(T.matmul(V, inner), T.transpose(V))
    return [T.mul(0.5, T.add(X, T.transpose(X)))]
  }
)

/**
 * The orthonormal eigenvectors (columns, matching `eigvalsh`'s order) of a
 * symmetric matrix, differentiable for distinct eigenvalues. Eigenvectors are
 * defined up to sign: differentiate functions that do not depend on the sign
 * (e.g. V·f(Λ)·Vᵀ).
 *
 * @category differentiable
 * @since 0.1.0
 */
export const eigenvectors = (A: T.TensorLike): Tensor => eigenvectorsPrimitive(A)
