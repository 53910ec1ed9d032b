/**
 * Householder QR (plain and column-pivoted) against SciPy (`fixtures/decompositions.json`,
 * made by the committed, seeded `fixtures/generate_decompositions.py`), plus fast-check
 * properties of the factors.
 *
 * Tolerances come from rounding-error bounds, not from observed errors (u = 2⁻⁵³):
 * - Backward stability (Higham, *Accuracy and Stability*, Thm 19.4): Q·R = A + ΔA with
 *   ‖ΔA‖_F ≤ c·m·n·u·‖A‖_F, and ‖QᵀQ − I‖ ≤ c·m·u for the computed Q. We take the
 *   dimension factor as max(m, n) per entry and c = SAFETY.
 * - Forward error of R (Sun, "Perturbation bounds for the Cholesky and QR
 *   factorizations", BIT 31 (1991)): ‖ΔR‖_F ≤ c·κ₂(A)·‖ΔA‖_F, so |R| is compared with
 *   SciPy's with atol = SAFETY·n·u·κ₂·‖A‖_F, in the full-column-rank regimes only.
 */
import { Errors, Matrix } from "@descent/core"
import { assertClose, loadFixture, matrixFromRows, matrixOfShape } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Qr from "../src/Qr.ts"
import { FC, fro, mat, product, SAFETY, U } from "./helpers.ts"

interface GeneralCase {
  readonly rows: number
  readonly cols: number
  readonly A: number[][]
  readonly absR: number[][]
  readonly pivotedAbsDiagR: number[]
  readonly permutation: number[]
  readonly rank: number
  readonly cond: number | null
  readonly norms: { readonly fro: number }
  readonly slogdet: { readonly sign: number; readonly logAbsDet: number } | null
}
const fixture = loadFixture<{ general: Record<string, GeneralCase> }>(
  import.meta.url,
  "./fixtures/decompositions.json"
)

/** A with its columns permuted: column j of the result is column perm[j] of A. */
const permuteColumns = (A: Matrix.Matrix, perm: Int32Array): Matrix.Matrix => {
  const B = Matrix.zeros(A.rows, A.cols)
  for (let i = 0; i < A.rows; i++)
    for (let j = 0; j < A.cols; j++) B.data[i * A.cols + j] = A.data[i * A.cols + perm[j]!]!
  return B
}

/** Asserts Q·R = target and QᵀQ = I to the backward-error bounds. */
const assertFactors = (Q: Matrix.Matrix, R: Matrix.Matrix, target: Matrix.Matrix, label: string): void => {
  const dim = Math.max(target.rows, target.cols, 1)
  assertClose(product(Q, R), target, {
    rtol: 0,
    atol: SAFETY * dim * U * fro(target),
    label: `${label} QR = A`
  })
  assertClose(product(Q, Q, true), Matrix.identity(Q.cols), {
    rtol: 0,
    atol: SAFETY * dim * U,
    label: `${label} QᵀQ = I`
  })
  for (let i = 0; i < R.rows; i++)
    for (let j = 0; j < Math.min(i, R.cols); j++) expect(R.data[i * R.cols + j]).toBe(0)
}

describe("Qr.qr against SciPy", () => {
  for (const [name, c] of Object.entries(fixture.general)) {
    it(`${name} (${c.rows}×${c.cols}): Q·R = A, QᵀQ = I, thin and full`, () => {
      const A = mat(c.A, c.cols)
      const f = Qr.qr(A)
      const k = Math.min(c.rows, c.cols)
      const Q = Qr.q(f)
      const R = Qr.r(f)
      expect([Q.rows, Q.cols, R.rows, R.cols]).toEqual([c.rows, k, k, c.cols])
      assertFactors(Q, R, A, name)
      const Qf = Qr.q(f, { full: true })
      const Rf = Qr.r(f, { full: true })
      expect([Qf.rows, Qf.cols, Rf.rows, Rf.cols]).toEqual([c.rows, c.rows, c.rows, c.cols])
      assertFactors(Qf, Rf, A, `${name} full`)
    })
    if (c.rank === Math.min(c.rows, c.cols) && c.cond !== null && c.rows >= c.cols) {
      it(`${name}: |R| equals SciPy's up to κ₂·u (full column rank)`, () => {
        const R = Qr.r(Qr.qr(mat(c.A, c.cols)))
        const absR = Matrix.zeros(R.rows, R.cols)
        for (let i = 0; i < R.data.length; i++) absR.data[i] = Math.abs(R.data[i]!)
        const atol = SAFETY * c.cols * U * c.cond! * c.norms.fro
        assertClose(absR, matrixFromRows(c.absR, c.cols), { rtol: 0, atol })
      })
    }
  }
})

describe("Qr.qrPivoted against SciPy", () => {
  for (const [name, c] of Object.entries(fixture.general)) {
    it(`${name}: A·P = Q·R, rank ${c.rank}, |R₀₀| ≥ |R₁₁| ≥ …`, () => {
      const A = mat(c.A, c.cols)
      const f = Qr.qrPivoted(A)
      assertFactors(Qr.q(f), Qr.r(f), permuteColumns(A, f.permutation), name)
      expect(f.rank).toBe(c.rank)
      const k = f.tau.length
      for (let i = 1; i < k; i++) {
        // Pivoting makes |Rᵢᵢ| non-increasing up to the rounding of the norm downdates.
        const prev = Math.abs(f.qr.data[(i - 1) * c.cols + i - 1]!)
        expect(Math.abs(f.qr.data[i * c.cols + i]!)).toBeLessThanOrEqual(prev * (1 + SAFETY * c.rows * U))
      }
    })
    if (name.startsWith("well") || name === "one") {
      it(`${name}: same pivots and |diag R| as SciPy (distinct column norms)`, () => {
        const f = Qr.qrPivoted(mat(c.A, c.cols))
        expect(Array.from(f.permutation)).toEqual(c.permutation)
        const d = Array.from({ length: f.tau.length }, (_, i) => Math.abs(f.qr.data[i * c.cols + i]!))
        assertClose(d, c.pivotedAbsDiagR, { rtol: 0, atol: SAFETY * c.cols * U * c.cond! * c.norms.fro })
      })
    }
  }

  it("rank follows rcond", () => {
    const c = fixture.general.ill_square!
    expect(Qr.qrPivoted(mat(c.A, c.cols), { rcond: 1e-6 }).rank).toBeLessThan(8)
    expect(Qr.qrPivoted(mat(c.A, c.cols), { rcond: 0 }).rank).toBe(8)
  })
})

describe("Qr properties", () => {
  const shapes = fc
    .tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 }))
    .chain(([m, n]) => matrixOfShape(m, n))
  it("Q·R = A and QᵀQ = I for random shapes (thin and full)", () => {
    fc.assert(
      fc.property(shapes, (value) => {
        const A = Matrix.zeros(value.rows, value.cols)
        A.data.set(value.data)
        const f = Qr.qr(A)
        assertFactors(Qr.q(f), Qr.r(f), A, "thin")
        assertFactors(Qr.q(f, { full: true }), Qr.r(f, { full: true }), A, "full")
        const p = Qr.qrPivoted(A)
        assertFactors(Qr.q(p), Qr.r(p), permuteColumns(A, p.permutation), "pivoted")
      }),
      FC
    )
  })
  it("applyQtInPlace(B) equals Qᵀ·B", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }).chain((m) => fc.tuple(matrixOfShape(m, 4), matrixOfShape(m, 3))),
        ([a, b]) => {
          const A = Matrix.zeros(a.rows, a.cols)
          A.data.set(a.data)
          const B = Matrix.zeros(b.rows, b.cols)
          B.data.set(b.data)
          const f = Qr.qr(A)
          const expected = product(Qr.q(f, { full: true }), B, true)
          Qr.applyQtInPlace(f, B)
          assertClose(B, expected, { rtol: 0, atol: SAFETY * a.rows * U * fro(B) })
        }
      ),
      FC
    )
  })
})

describe("Qr blocked path (panels of 32 with a gemm trailing update)", () => {
  for (const [m, n] of [
    [150, 100],
    [100, 150],
    [97, 97]
  ] as const) {
    it(`${m}×${n}: Q·R = A and QᵀQ = I, thin and full`, () => {
      const A = Matrix.zeros(m, n)
      for (let i = 0; i < A.data.length; i++) A.data[i] = Math.sin(0.37 * i * i + i)
      const f = Qr.qr(A)
      assertFactors(Qr.q(f), Qr.r(f), A, "thin")
      assertFactors(Qr.q(f, { full: true }), Qr.r(f, { full: true }), A, "full")
    })
  }
})

describe("Qr input validation", () => {
  it("rejects NaN/Inf, bad rcond and wrong shapes; does not mutate A", () => {
    const A = Matrix.fromRows([
      [1, 2],
      [3, Number.NaN]
    ])
    expect(() => Qr.qr(A)).toThrow(Errors.NonFiniteInput)
    expect(() => Qr.qrPivoted(Matrix.identity(2), { rcond: -1 })).toThrow(Errors.InvalidOptions)
    const B = Matrix.fromRows([
      [1, 2],
      [3, 4]
    ])
    const copy = Matrix.clone(B)
    Qr.qr(B)
    Qr.qrPivoted(B)
    expect(B.data).toEqual(copy.data)
    expect(() => Qr.applyQtInPlace(Qr.qr(B), Matrix.zeros(3, 1))).toThrow(Errors.DimensionMismatch)
  })
})
