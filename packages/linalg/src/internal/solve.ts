/**
 * The dispatch behind `Cholesky.solve` and `Lu.solve`: a vector or matrix
 * right-hand side, and either a factorization or the matrix itself (factored
 * here, its storage freed after the solve).
 *
 * @since 0.1.0
 */
import { type Matrix, Memory, type Vector } from "@descent/core"

/**
 * What `solveWith` needs from a factorization module.
 *
 * @internal
 */
export interface Factorization<F> {
  /** Tells a factorization from a matrix. */
  readonly is: (x: F | Matrix.Matrix) => x is F
  readonly factor: (A: Matrix.Matrix) => F
  readonly solveVector: (f: F, b: Vector.Vector) => Vector.Vector
  readonly solveMatrix: (f: F, B: Matrix.Matrix) => Matrix.Matrix
  /** The array that holds the factors, returned to the allocator when `solveWith` factored A itself. */
  readonly storage: (f: F) => Float64Array
}

/**
 * Solves A·x = b (b a vector) or A·X = B (B a matrix) from a factorization of
 * A or from A itself. Neither input is modified.
 *
 * @internal
 */
export const solveWith = <F>(
  module: Factorization<F>,
  f: F | Matrix.Matrix,
  b: Vector.Vector | Matrix.Matrix
): Vector.Vector | Matrix.Matrix => {
  const run = (g: F): Vector.Vector | Matrix.Matrix =>
    b instanceof Float64Array ? module.solveVector(g, b) : module.solveMatrix(g, b)
  if (module.is(f)) return run(f)
  const g = module.factor(f)
  try {
    return run(g)
  } finally {
    // The factorization is internal: return its memory now rather than at the next GC.
    Memory.free(module.storage(g))
  }
}
