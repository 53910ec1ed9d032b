/**
 * Symmetric eigendecomposition against SciPy's `eigh` (`fixtures/decompositions.json`,
 * made by the committed, seeded `fixtures/generate_decompositions.py`), plus fast-check
 * properties.
 *
 * Tolerances come from rounding-error bounds (u = 2⁻⁵³):
 * - Tridiagonalization and QL are orthogonal transformations, so V·Λ·Vᵀ = A + ΔA with
 *   ‖ΔA‖₂ ≤ c·n·u·‖A‖₂ and ‖VᵀV − I‖ ≤ c·n·u (Golub & Van Loan, 4th ed., §8.3.6).
 * - Weyl's theorem then puts every computed eigenvalue within ‖ΔA‖₂ of the exact one;
 *   SciPy's LAPACK result is within the same distance, so the two agree to
 *   2·c·n·u·‖A‖ (we use ‖A‖_F ≥ ‖A‖₂). Eigenvectors are not unique (sign, repeated
 *   eigenvalues) and are checked through A·V = V·Λ and orthogonality.
 */
import { Blas3, Errors, Matrix } from "@descent/core"
import { assertClose, loadFixture, matrixFromRows, matrixOfShape } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as SymmetricEigen from "../src/SymmetricEigen.ts"
import { FC, fro, SAFETY, U } from "./helpers.ts"

interface SymmetricCase {
  readonly n: number
  readonly A?: number[][]
  readonly fromGeneral?: string
  readonly eigenvalues: number[]
}
interface Fixture {
  readonly symmetric: Record<string, SymmetricCase>
  readonly general: Record<string, { readonly A: number[][]; readonly rows: number; readonly cols: number }>
}
const fixture = loadFixture<Fixture>(import.meta.url, "./fixtures/decompositions.json")

const load = (c: SymmetricCase): Matrix.Matrix => {
  const A = Matrix.zeros(c.n, c.n)
  if (c.fromGeneral !== undefined) {
    // G + Gᵀ of the integer matrix, exactly as the generator forms it.
    const G = matrixFromRows(fixture.general[c.fromGeneral]!.A, c.n)
    for (let i = 0; i < c.n; i++)
      for (let j = 0; j < c.n; j++) A.data[i * c.n + j] = G.data[i * c.n + j]! + G.data[j * c.n + i]!
  } else {
    A.data.set(matrixFromRows(c.A!, c.n).data)
  }
  return A
}

/** Asserts V·Λ·Vᵀ = A and VᵀV = I to the backward-error bounds. */
const assertSpectral = (A: Matrix.Matrix, result: SymmetricEigen.SymmetricEigen, label: string): void => {
  const n = A.rows
  const { eigenvalues: w, eigenvectors: V } = result
  const VL = Matrix.clone(V)
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) VL.data[i * n + j] = V.data[i * n + j]! * w[j]!
  const R = Matrix.zeros(n, n)
  const VtV = Matrix.zeros(n, n)
  if (n > 0) {
    Blas3.gemm(false, true, 1, VL, V, 0, R)
    Blas3.gemm(true, false, 1, V, V, 0, VtV)
  }
  const dim = Math.max(n, 1)
  assertClose(R, A, { rtol: 0, atol: SAFETY * dim * U * fro(A), label: `${label} VΛVᵀ = A` })
  assertClose(VtV, Matrix.identity(n), { rtol: 0, atol: SAFETY * dim * U, label: `${label} VᵀV = I` })
  for (let j = 1; j < n; j++) expect(w[j]!).toBeGreaterThanOrEqual(w[j - 1]!)
}

describe("SymmetricEigen against SciPy eigh", () => {
  for (const [name, c] of Object.entries(fixture.symmetric)) {
    it(`${name} (n = ${c.n}): eigenvalues within 2·c·n·u·‖A‖, V·Λ·Vᵀ = A, VᵀV = I`, () => {
      const A = load(c)
      const result = SymmetricEigen.eigh(A)
      const atol = 2 * SAFETY * Math.max(c.n, 1) * U * fro(A)
      assertClose(result.eigenvalues, c.eigenvalues, { rtol: 0, atol, label: name })
      assertSpectral(A, result, name)
      assertClose(SymmetricEigen.eigvalsh(A), c.eigenvalues, { rtol: 0, atol, label: `${name} eigvalsh` })
    })
  }
})

describe("SymmetricEigen properties", () => {
  const symmetric = fc
    .integer({ min: 0, max: 10 })
    .chain((n) => matrixOfShape(n, n))
    .map((b) => {
      const n = b.rows
      const A = Matrix.zeros(n, n)
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) A.data[i * n + j] = b.data[i * n + j]! + b.data[j * n + i]!
      return A
    })
  it("V·Λ·Vᵀ = A and VᵀV = I for random symmetric A", () => {
    fc.assert(
      fc.property(symmetric, (A) => assertSpectral(A, SymmetricEigen.eigh(A), "random")),
      FC
    )
  })
  it("only the lower triangle is read", () => {
    fc.assert(
      fc.property(symmetric, (A) => {
        const n = A.rows
        const B = Matrix.clone(A)
        for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) B.data[i * n + j] = 1e3
        expect(SymmetricEigen.eigh(B).eigenvalues).toEqual(SymmetricEigen.eigh(A).eigenvalues)
      }),
      { ...FC, numRuns: 30 }
    )
  })
  it("a diagonal matrix returns its sorted diagonal exactly", () => {
    const A = Matrix.diag([3, -1, 2, 0])
    const { eigenvalues } = SymmetricEigen.eigh(A)
    expect(Array.from(eigenvalues)).toEqual([-1, 0, 2, 3])
  })
})

describe("SymmetricEigen input validation", () => {
  it("rejects non-square and non-finite input; does not mutate A", () => {
    expect(() => SymmetricEigen.eigh(Matrix.zeros(2, 3))).toThrow(Errors.DimensionMismatch)
    const A = Matrix.fromRows([
      [1, 0],
      [Number.POSITIVE_INFINITY, 1]
    ])
    expect(() => SymmetricEigen.eigvalsh(A)).toThrow(Errors.NonFiniteInput)
    const B = Matrix.fromRows([
      [2, 1],
      [1, 2]
    ])
    const copy = Matrix.clone(B)
    SymmetricEigen.eigh(B)
    expect(B.data).toEqual(copy.data)
  })
})
