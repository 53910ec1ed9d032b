/**
 * SVD and the norms built on it (norm, cond, slogdet) against SciPy/NumPy
 * (`fixtures/decompositions.json`, made by the committed, seeded
 * `fixtures/generate_decompositions.py`), plus fast-check properties.
 *
 * Tolerances come from rounding-error bounds (u = 2⁻⁵³):
 * - The SVD is computed by orthogonal transformations only, so U·Σ·Vᵀ = A + ΔA with
 *   ‖ΔA‖ ≤ c·n·u·‖A‖ and orthonormal factors to c·n·u (Drmač & Veselić 2008). Weyl's
 *   theorem for singular values gives |σ̂ⱼ − σⱼ| ≤ ‖ΔA‖₂; SciPy is within the same, so
 *   the two agree to 2·c·n·u·‖A‖_F.
 * - ‖A‖_F, ‖A‖₁, ‖A‖_∞ are sums of n terms of one sign: relative error ≤ γₙ ≈ n·u
 *   each, so 2·c·n·u relative between two implementations.
 * - κ₂ = σ₀/σ_{k−1}: σ_{k−1} has absolute error c·n·u·σ₀, i.e. relative error
 *   c·n·u·κ₂, so cond is compared with rtol = 2·c·n·u·κ₂.
 * - log|det A|: a backward error ΔA changes it by tr(A⁻¹ΔA) ≤ n·‖A⁻¹‖₂·‖ΔA‖₂
 *   ≤ c·n²·u·κ₂; the sign must match exactly.
 */
import { Blas3, Errors, Matrix } from "@descent/core"
import { assertClose, loadFixture, matrixOfShape } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Norms from "../src/Norms.ts"
import * as Svd from "../src/Svd.ts"
import { FC, fro, gram, mat, SAFETY, U } from "./helpers.ts"

interface GeneralCase {
  readonly rows: number
  readonly cols: number
  readonly A: number[][]
  readonly singularValues: number[]
  readonly rank: number
  readonly cond: number | null
  readonly norms: { readonly fro: number; readonly one: number; readonly inf: number; readonly two: number }
  readonly slogdet: { readonly sign: number; readonly logAbsDet: number } | null
}
const fixture = loadFixture<{ general: Record<string, GeneralCase> }>(
  import.meta.url,
  "./fixtures/decompositions.json"
)

/** Asserts U·Σ·Vᵀ = A, UᵀU = I, VᵀV = I, σ descending and ≥ 0. */
const assertSvd = (A: Matrix.Matrix, s: Svd.Svd, label: string): void => {
  const { U: Uf, singularValues: sv, Vt } = s
  const k = sv.length
  const US = Matrix.zeros(A.rows, k)
  for (let i = 0; i < A.rows; i++)
    for (let j = 0; j < k; j++) US.data[i * k + j] = Uf.data[i * Uf.cols + j]! * sv[j]!
  const VtK = Matrix.zeros(k, A.cols)
  VtK.data.set(Vt.data.subarray(0, k * A.cols))
  const R = Matrix.zeros(A.rows, A.cols)
  if (R.data.length > 0 && k > 0) Blas3.gemm(false, false, 1, US, VtK, 0, R)
  const dim = Math.max(A.rows, A.cols, 1)
  assertClose(R, A, { rtol: 0, atol: SAFETY * dim * U * fro(A), label: `${label} UΣVᵀ = A` })
  assertClose(gram(Uf, true), Matrix.identity(Uf.cols), {
    rtol: 0,
    atol: SAFETY * dim * U,
    label: `${label} UᵀU`
  })
  assertClose(gram(Vt, false), Matrix.identity(Vt.rows), {
    rtol: 0,
    atol: SAFETY * dim * U,
    label: `${label} VᵀV`
  })
  for (let j = 0; j < k; j++) {
    expect(sv[j]!).toBeGreaterThanOrEqual(0)
    if (j > 0) expect(sv[j]!).toBeLessThanOrEqual(sv[j - 1]!)
  }
}

describe("Svd against SciPy", () => {
  for (const [name, c] of Object.entries(fixture.general)) {
    it(`${name} (${c.rows}×${c.cols}): σ within 2·c·n·u·‖A‖, thin and full factors`, () => {
      const A = mat(c.A, c.cols)
      const k = Math.min(c.rows, c.cols)
      const thin = Svd.svd(A)
      expect([thin.U.rows, thin.U.cols, thin.Vt.rows, thin.Vt.cols]).toEqual([c.rows, k, k, c.cols])
      const atol = 2 * SAFETY * Math.max(c.rows, c.cols, 1) * U * c.norms.fro
      assertClose(thin.singularValues, c.singularValues, { rtol: 0, atol, label: name })
      assertClose(Svd.singularValues(A), c.singularValues, { rtol: 0, atol, label: `${name} values only` })
      assertSvd(A, thin, name)
      const full = Svd.svd(A, { full: true })
      expect([full.U.rows, full.U.cols, full.Vt.rows, full.Vt.cols]).toEqual([c.rows, c.rows, c.cols, c.cols])
      assertSvd(A, full, `${name} full`)
    })
  }
})

describe("Svd properties", () => {
  const shapes = fc
    .tuple(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 8 }))
    .chain(([m, n, r]) =>
      // Rank ≤ r products as well as general matrices, to exercise zero singular values.
      fc.tuple(matrixOfShape(m, n), matrixOfShape(m, r, 3), matrixOfShape(r, n, 3), fc.boolean())
    )
    .map(([a, b, c, lowRank]) => {
      const A = Matrix.zeros(a.rows, a.cols)
      if (lowRank && b.cols > 0 && A.data.length > 0) {
        Blas3.gemm(false, false, 1, { ...b }, { ...c }, 0, A)
      } else {
        A.data.set(a.data)
      }
      return A
    })
  it("U·Σ·Vᵀ = A with orthonormal U, V (thin and full), random and low-rank A", () => {
    fc.assert(
      fc.property(shapes, (A) => {
        assertSvd(A, Svd.svd(A), "thin")
        assertSvd(A, Svd.svd(A, { full: true }), "full")
      }),
      FC
    )
  })
})

describe("Svd at the edges of the floating-point range", () => {
  for (const scale of [1e300, 1e-300]) {
    it(`A·${scale}: σ scale exactly with A (power-of-two rescaling avoids overflow of ‖a‖²)`, () => {
      const c = fixture.general.well_tall!
      const A = mat(c.A, c.cols)
      for (let i = 0; i < A.data.length; i++) A.data[i] = A.data[i]! * scale
      const s = Svd.svd(A)
      const atol = 2 * SAFETY * c.rows * U * c.norms.fro * scale
      assertClose(
        s.singularValues,
        c.singularValues.map((x) => x * scale),
        { rtol: 0, atol }
      )
      assertSvd(A, s, `scaled ${scale}`)
    })
  }
})

describe("Norms against NumPy", () => {
  for (const [name, c] of Object.entries(fixture.general)) {
    it(`${name}: norm (fro, 1, ∞, 2), cond, slogdet`, () => {
      const A = mat(c.A, c.cols)
      const n = Math.max(c.rows, c.cols, 1)
      const sumRtol = 2 * SAFETY * n * U
      assertClose(Norms.norm(A, "fro"), c.norms.fro, { rtol: sumRtol, label: "fro" })
      assertClose(Norms.norm(A), c.norms.fro, { rtol: sumRtol, label: "default" })
      assertClose(Norms.norm(A, 1), c.norms.one, { rtol: sumRtol, label: "1" })
      assertClose(Norms.norm(A, Number.POSITIVE_INFINITY), c.norms.inf, { rtol: sumRtol, label: "inf" })
      assertClose(Norms.norm(A, 2), c.norms.two, {
        rtol: 0,
        atol: 2 * SAFETY * n * U * c.norms.fro,
        label: "2"
      })
      if (c.cond === null) {
        expect(() => Norms.cond(A)).toThrow(Errors.EmptyInput)
      } else if (c.rank === Math.min(c.rows, c.cols)) {
        assertClose(Norms.cond(A), c.cond, { rtol: 2 * SAFETY * n * U * c.cond, label: "cond" })
      } else {
        // Numerically singular: σ_{k−1} is rounding noise of size ≤ c·n·u·σ₀.
        expect(Norms.cond(A)).toBeGreaterThan(1 / (SAFETY * n * U))
      }
      if (c.slogdet !== null) {
        const { sign, logAbsDet } = Norms.slogdet(A)
        expect(sign).toBe(c.slogdet.sign)
        const kappa = c.cond ?? 1
        assertClose(logAbsDet, c.slogdet.logAbsDet, {
          rtol: 0,
          atol: SAFETY * n * n * U * kappa,
          label: "slogdet"
        })
      }
    })
  }

  it("slogdet of singular and permutation matrices", () => {
    expect(Norms.slogdet(Matrix.zeros(3, 3))).toEqual({ sign: 0, logAbsDet: Number.NEGATIVE_INFINITY })
    const P = Matrix.fromRows([
      [0, 1, 0],
      [1, 0, 0],
      [0, 0, 1]
    ])
    const r = Norms.slogdet(P)
    expect(r.sign).toBe(-1)
    assertClose(r.logAbsDet, 0, { rtol: 0, atol: SAFETY * 3 * U })
  })

  it("validates its input", () => {
    expect(() => Norms.slogdet(Matrix.zeros(2, 3))).toThrow(Errors.DimensionMismatch)
    expect(() => Norms.norm(Matrix.fromRows([[Number.NaN]]))).toThrow(Errors.NonFiniteInput)
    expect(() => Norms.norm(Matrix.identity(2), 3)).toThrow(Errors.InvalidOptions)
    expect(() => Svd.svd(Matrix.fromRows([[1, Number.POSITIVE_INFINITY]]))).toThrow(Errors.NonFiniteInput)
  })
})
