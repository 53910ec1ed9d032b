/**
 * LU factorization with partial pivoting: solves square linear systems A·x = b,
 * computes determinants and inverses of general (non-symmetric) matrices.
 *
 * The factorization is P·A = L·U with P a permutation (row interchanges chosen
 * by partial pivoting: at step j the entry of largest magnitude in column j, at
 * or below the diagonal, becomes the pivot), L unit lower triangular with
 * |Lᵢⱼ| ≤ 1, and U upper triangular. It is backward stable in practice:
 * the computed factors satisfy P·(A + ΔA) = L̂·Û with ‖ΔA‖ ≤ c·n·u·ρ·‖A‖, ρ the
 * growth factor (Golub & Van Loan, "Matrix Computations", 4th ed., §3.4;
 * Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., §9.3).
 *
 * The algorithm is the right-looking blocked LU of LAPACK's `dgetrf`, applied
 * recursively: a panel of 128 columns is factored (by the same blocked
 * algorithm with 32-column panels, down to an unblocked loop), its row
 * interchanges are applied to the other columns, the block row of U is a
 * unit-lower triangular solve (`Blas3.trsm`), and the trailing matrix takes
 * `Blas3.gemm` updates of depth 128, where nearly all of the 2n³/3 flops are
 * spent. The matrix is held as column tiles during the factorization, so that
 * these kernels run in place on contiguous arrays.
 *
 * @since 0.1.0
 */
import { Blas2, Errors, Matrix, Memory, Vector } from "@descent/core"
import { factorInto, permuteRows, solveInPlace } from "./internal/lu.ts"
import { type Factorization, solveWith } from "./internal/solve.ts"

/**
 * A packed LU factorization P·A = L·U of a square matrix.
 *
 * @category models
 * @since 0.1.0
 */
export interface LuFactorization {
  /**
   * L and U packed in one n × n matrix, as LAPACK `dgetrf` and SciPy's
   * `lu_factor` return them: U on and above the diagonal, the multipliers of L
   * (whose unit diagonal is not stored) below it.
   */
  readonly lu: Matrix.Matrix
  /**
   * Row interchanges, 0-based (LAPACK's `ipiv` minus one, SciPy's `piv`): for
   * i = 0, 1, …, n − 1 in order, row i was swapped with row `pivots[i]` ≥ i.
   */
  readonly pivots: Int32Array
  /** The sign of the permutation P, (−1)^(number of i with pivots[i] ≠ i): det(P). */
  readonly sign: 1 | -1
  /**
   * Index of the first exactly zero pivot Uᵢᵢ (the matrix is singular), or −1.
   * The factorization completes anyway; `solve`, `inverse` throw `Singular`.
   */
  readonly zeroPivot: number
}

/**
 * Factors a square matrix as P·A = L·U with partial pivoting.
 *
 * Blocked right-looking LU (LAPACK `dgetrf`; Golub & Van Loan, "Matrix
 * Computations", 4th ed., Alg. 3.4.1 and §3.2.11): the trailing updates are
 * `Blas3.gemm` calls of depth 128. An exactly singular matrix (a zero pivot)
 * is factored anyway and reported in `zeroPivot`; `A` is not modified.
 *
 * @example
 * const f = Lu.factor(Matrix.fromRows([[0, 2], [3, 4]]))
 * // f.pivots = [1, 1], f.sign = −1, Lu.determinant(f) = −6
 * @throws DimensionMismatch when A is not square.
 * @throws NonFiniteInput when A has a NaN or infinite entry.
 * @category factorizations
 * @since 0.1.0
 */
export const factor = (A: Matrix.Matrix): LuFactorization => {
  Matrix.assertSquare("Lu.factor", "A", A)
  Vector.assertFinite("Lu.factor", "A", A.data)
  const n = A.rows
  const pivots = new Int32Array(n)
  const lu = Matrix.zeros(n, n)
  const zeroPivot = factorInto(A.data, lu, pivots)
  let swaps = 0
  for (let i = 0; i < n; i++) if (pivots[i] !== i) swaps++
  return { lu, pivots, sign: swaps % 2 === 0 ? 1 : -1, zeroPivot }
}

/** Throws `Singular` at the first zero diagonal entry of U. */
const assertNonsingular = (operation: string, f: LuFactorization): void => {
  const { rows: n, data } = f.lu
  for (let i = 0; i < n; i++) {
    if (data[i * n + i] === 0) throw new Errors.Singular({ operation, index: i })
  }
}

/**
 * Solves A·X = B for a matrix right-hand side from the factorization of A:
 * X = U⁻¹·L⁻¹·P·B by two triangular solves with many right-hand sides
 * (`Blas3.trsm`). B is not modified.
 *
 * @throws DimensionMismatch when B does not have n rows.
 * @throws NonFiniteInput when B has a NaN or infinite entry.
 * @throws Singular when U has a zero diagonal entry (its index is reported).
 * @category solvers
 * @since 0.1.0
 */
export const solveMatrix = (f: LuFactorization, B: Matrix.Matrix): Matrix.Matrix => {
  const n = f.lu.rows
  if (B.rows !== n) {
    throw new Errors.DimensionMismatch({
      operation: "Lu.solveMatrix",
      what: "B",
      expected: [n, B.cols],
      actual: [B.rows, B.cols]
    })
  }
  Vector.assertFinite("Lu.solveMatrix", "B", B.data)
  assertNonsingular("Lu.solveMatrix", f)
  const X = Matrix.clone(B)
  solveInPlace(f.lu, f.pivots, X)
  return X
}

const solveVector = (f: LuFactorization, b: Vector.Vector): Vector.Vector => {
  const n = f.lu.rows
  Vector.assertLength("Lu.solve", "b", b, n)
  Vector.assertFinite("Lu.solve", "b", b)
  assertNonsingular("Lu.solve", f)
  const x = Vector.clone(b)
  permuteRows(f.pivots, x, 1)
  Blas2.trsv(f.lu, x, { lower: true, unitDiagonal: true })
  Blas2.trsv(f.lu, x, { lower: false })
  return x
}

/**
 * Solves A·x = b (b a vector) or A·X = B (B a matrix).
 *
 * The first argument is either a factorization from `factor`, reused across
 * right-hand sides (O(n²) per vector), or the matrix A itself, which is then
 * factored first (O(n³)). With the factorization P·A = L·U, x = U⁻¹·L⁻¹·P·b by
 * forward and back substitution (Golub & Van Loan, §3.1 and §3.4.3). Neither
 * input is modified.
 *
 * @example
 * const x = Lu.solve(Matrix.fromRows([[2, 1], [1, 3]]), Vector.fromArray([3, 5]))
 * // x = [0.8, 1.4]
 * @throws DimensionMismatch when b does not have n entries (rows) or A is not square.
 * @throws NonFiniteInput when A or b has a NaN or infinite entry.
 * @throws Singular when a pivot is exactly zero (its index is reported).
 * @category solvers
 * @since 0.1.0
 */
export function solve(f: LuFactorization | Matrix.Matrix, b: Vector.Vector): Vector.Vector
export function solve(f: LuFactorization | Matrix.Matrix, B: Matrix.Matrix): Matrix.Matrix
export function solve(
  f: LuFactorization | Matrix.Matrix,
  b: Vector.Vector | Matrix.Matrix
): Vector.Vector | Matrix.Matrix {
  return solveWith(module, f, b)
}

const module: Factorization<LuFactorization> = {
  is: (x): x is LuFactorization => "lu" in x,
  factor,
  solveVector,
  solveMatrix,
  storage: (f) => f.lu.data
}

/**
 * The determinant det(A) = det(P)·Π Uᵢᵢ (zero for an exactly singular A).
 * May overflow or underflow for large n: `logAbsDeterminant` does not.
 *
 * @category evaluators
 * @since 0.1.0
 */
export const determinant = (f: LuFactorization): number => {
  const { rows: n, data } = f.lu
  let d: number = f.sign
  for (let i = 0; i < n; i++) d *= data[i * n + i]!
  return d
}

/**
 * The sign and log-magnitude of det(A), as `numpy.linalg.slogdet`:
 * det(A) = sign·exp(logAbsDet), logAbsDet = Σ log|Uᵢᵢ|. For a singular A,
 * sign = 0 and logAbsDet = −∞. The empty matrix has determinant 1.
 *
 * @category evaluators
 * @since 0.1.0
 */
export const logAbsDeterminant = (
  f: LuFactorization
): { readonly sign: -1 | 0 | 1; readonly logAbsDet: number } => {
  const { rows: n, data } = f.lu
  let sign: number = f.sign
  let logAbsDet = 0
  for (let i = 0; i < n; i++) {
    const u = data[i * n + i]!
    if (u === 0) return { sign: 0, logAbsDet: Number.NEGATIVE_INFINITY }
    if (u < 0) sign = -sign
    logAbsDet += Math.log(Math.abs(u))
  }
  return { sign: sign < 0 ? -1 : 1, logAbsDet }
}

/**
 * The inverse A⁻¹ = U⁻¹·L⁻¹·P, as the solution of A·X = I. Prefer `solve`
 * when the inverse is only applied to vectors.
 *
 * @throws Singular when a pivot is exactly zero (its index is reported).
 * @category evaluators
 * @since 0.1.0
 */
export const inverse = (f: LuFactorization): Matrix.Matrix => {
  assertNonsingular("Lu.inverse", f)
  const I = Matrix.identity(f.lu.rows)
  const X = solveMatrix(f, I)
  Memory.free(I.data)
  return X
}
