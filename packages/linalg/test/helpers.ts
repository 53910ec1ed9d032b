/**
 * Helpers shared by the linalg test files: rounding-error constants, small
 * matrix utilities written independently of the code under test (plain loops or
 * one `gemm`), and the deterministic inputs the fixture generators rebuild.
 */
import { Blas3, Matrix } from "@descent/core"
import { matrixFromRows } from "@descent/testing"

// ---------------------------------------------------------------------------
// Rounding-error constants (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed.)

/** Unit roundoff of binary64. */
export const U = 2 ** -53
/** γₖ = k·u/(1 − k·u), the constant of the rounding-error bounds. */
export const gamma = (k: number): number => (k * U) / (1 - k * U)
/**
 * The constant c of the c·n·u·‖A‖ bounds of orthogonal-transformation methods
 * (Householder, Givens, Jacobi steps: Higham's γ_{cn} with c ≈ 1–6); 8 covers
 * them without hiding an O(n) bug.
 */
export const SAFETY = 8

/** The pinned seed of every property test, so that a failure reproduces exactly. */
export const PROPERTY_SEED = 20_261_122
/** fast-check parameters of the decomposition property tests. */
export const FC = { seed: PROPERTY_SEED, numRuns: 100 } as const

// ---------------------------------------------------------------------------
// Matrices

/** Fixture rows as written by the generators. */
export type Rows = ReadonlyArray<ReadonlyArray<number>>

/** A matrix from fixture rows (`cols` for rowless matrices), in the allocator's memory. */
export const mat = (rows: Rows, cols?: number): Matrix.Matrix => {
  const m = matrixFromRows(rows, cols)
  const out = Matrix.zeros(m.rows, m.cols)
  out.data.set(m.data)
  return out
}

/** x as an n × 1 matrix (shares x's storage). */
export const asColumn = (x: Float64Array): Matrix.Matrix => Matrix.fromData(x.length, 1, x)

/** max |xᵢ| (0 for an empty x). */
export const maxAbs = (x: ArrayLike<number>): number => {
  let m = 0
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]!))
  return m
}

/** ‖A‖∞, the largest absolute row sum. */
export const normInf = (A: Matrix.Matrix): number => {
  let m = 0
  for (let i = 0; i < A.rows; i++) {
    let s = 0
    for (let j = 0; j < A.cols; j++) s += Math.abs(A.data[i * A.cols + j]!)
    m = Math.max(m, s)
  }
  return m
}

/** ‖A‖₁, the largest absolute column sum (the row sums of Aᵀ, in the same order). */
export const norm1 = (A: Matrix.Matrix): number => normInf(Matrix.transpose(A))

/** ‖A‖_F. */
export const fro = (A: Matrix.Matrix): number => Math.hypot(...A.data)

/** |A| entrywise, as a new matrix. */
export const absolute = (A: Matrix.Matrix): Matrix.Matrix => {
  const B = Matrix.clone(A)
  for (let i = 0; i < B.data.length; i++) B.data[i] = Math.abs(B.data[i]!)
  return B
}

/** A·B, or Aᵀ·B when `transA` (empty shapes allowed). */
export const product = (A: Matrix.Matrix, B: Matrix.Matrix, transA = false): Matrix.Matrix => {
  const C = Matrix.zeros(transA ? A.cols : A.rows, B.cols)
  if (C.data.length > 0 && (transA ? A.rows : A.cols) > 0) Blas3.gemm(transA, false, 1, A, B, 0, C)
  return C
}

/** A·Aᵀ, or Aᵀ·A when `transA` (empty shapes allowed). */
export const gram = (A: Matrix.Matrix, transA = false): Matrix.Matrix => {
  const k = transA ? A.cols : A.rows
  const G = Matrix.zeros(k, k)
  if (k > 0 && A.data.length > 0) Blas3.gemm(transA, !transA, 1, A, A, 0, G)
  return G
}

// ---------------------------------------------------------------------------
// Inputs rebuilt as generate_functions.py builds them

/** Dyadic n × n input, entries round(1024·sin(0.7·k + phase))/1024 · scale (exact in binary). */
export const dyadic = (n: number, phase: number, scale: number): Matrix.Matrix => {
  const A = Matrix.zeros(n, n)
  for (let k = 0; k < n * n; k++) A.data[k] = (Math.round(Math.sin(0.7 * k + phase) * 1024) / 1024) * scale
  return A
}

/** The probe vector vᵢ = ((i mod 7) − 3)/4 of the n = 200 fixtures. */
export const probe = (n: number): Float64Array => {
  const v = new Float64Array(n)
  for (let i = 0; i < n; i++) v[i] = ((i % 7) - 3) / 4
  return v
}
