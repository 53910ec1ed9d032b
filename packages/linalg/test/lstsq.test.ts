/**
 * Least squares and the pseudo-inverse against SciPy (`fixtures/decompositions.json`,
 * made by the committed, seeded `fixtures/generate_decompositions.py`), plus fast-check
 * properties (residual orthogonality, Penrose conditions).
 *
 * Tolerances come from rounding-error bounds (u = 2⁻⁵³, κ = σ₀/σ_{r−1} the condition
 * number of the rank-r problem, θ the angle between b and range(A)):
 * - Solution (Golub & Van Loan, 4th ed., Thm 5.3.1): ‖x̂ − x‖/‖x‖ ≤ c·n·u·(2κ/cos θ
 *   + κ²·tan θ); SciPy meets the same bound, so we allow twice it.
 * - Residual (ibid.): ‖r̂ − r‖ ≤ c·n·u·(1 + 2κ)·‖b‖.
 * - Normal equations for a backward-stable solver: ‖Aᵀ(b − A·x̂)‖ ≤ c·n·u·‖A‖·(‖b‖ +
 *   2‖A‖·‖x̂‖), plus rcond·σ₀·‖b‖ for the directions truncated as rank-deficient.
 * - Pseudo-inverse at fixed rank (Wedin 1973): ‖ΔA⁺‖ ≤ c·κ·‖A⁺‖·‖ΔA‖/‖A‖, with
 *   ‖ΔA‖ ≤ c·n·u·‖A‖: atol = 2·c·n·u·κ·‖A⁺‖₂ between two implementations.
 */
import { Blas2, Errors, Matrix } from "@descent/core"
import { assertClose, loadFixture, matrixFromRows, matrixOfShape, vectorOfLength } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as LeastSquares from "../src/LeastSquares.ts"
import { FC, mat, product, SAFETY, U } from "./helpers.ts"

interface GeneralCase {
  readonly rows: number
  readonly cols: number
  readonly A: number[][]
  readonly b: number[]
  readonly singularValues: number[]
  readonly rank: number
  readonly lstsq: { readonly x: number[]; readonly residuals: number; readonly rank: number }
  readonly pinv: number[][] | null
}
const fixture = loadFixture<{ general: Record<string, GeneralCase> }>(
  import.meta.url,
  "./fixtures/decompositions.json"
)

const norm2 = (x: ArrayLike<number>): number => Math.hypot(...Array.from(x))
const transpose = (A: Matrix.Matrix): Matrix.Matrix => Matrix.transpose(A)

describe("LeastSquares.lstsq against SciPy", () => {
  for (const [name, c] of Object.entries(fixture.general)) {
    it(`${name} (${c.rows}×${c.cols}): rank ${c.lstsq.rank}, minimum-norm x, residual`, () => {
      const A = mat(c.A, c.cols)
      const b = Float64Array.from(c.b)
      const result = LeastSquares.lstsq(A, b)
      expect(result.rank).toBe(c.lstsq.rank)
      const n = Math.max(c.rows, c.cols, 1)
      const s = c.singularValues
      const r = c.lstsq.rank
      const kappa = r > 0 ? s[0]! / s[r - 1]! : 1
      const bNorm = norm2(c.b)
      const rNorm = Math.sqrt(c.lstsq.residuals)
      const sinTheta = bNorm > 0 ? Math.min(1, rNorm / bNorm) : 0
      const cosTheta = Math.sqrt(1 - sinTheta * sinTheta)
      const xNorm = norm2(c.lstsq.x)
      const xBound =
        cosTheta > 0
          ? 2 * SAFETY * n * U * ((2 * kappa) / cosTheta + (kappa * kappa * sinTheta) / cosTheta) * xNorm
          : Number.POSITIVE_INFINITY
      assertClose(result.x, c.lstsq.x, { rtol: 0, atol: xBound, label: `${name} x` })
      const rBound = 2 * SAFETY * n * U * (1 + 2 * kappa) * bNorm
      assertClose(Math.sqrt(result.residuals), rNorm, { rtol: 0, atol: rBound, label: `${name} ‖r‖` })
      assertClose(result.singularValues, s, { rtol: 0, atol: 2 * SAFETY * n * U * (s[0] ?? 0), label: "σ" })
    })
    if (c.pinv !== null) {
      it(`${name}: pinv equals SciPy's to 2·c·n·u·κ·‖A⁺‖`, () => {
        const s = c.singularValues
        const r = c.rank
        const pinvNorm = r > 0 ? 1 / s[r - 1]! : 0
        const kappa = r > 0 ? s[0]! / s[r - 1]! : 1
        const n = Math.max(c.rows, c.cols, 1)
        const X = LeastSquares.pinv(mat(c.A, c.cols))
        expect([X.rows, X.cols]).toEqual([c.cols, c.rows])
        assertClose(X, matrixFromRows(c.pinv!, c.rows), {
          rtol: 0,
          atol: 2 * SAFETY * n * U * kappa * pinvNorm
        })
      })
    }
  }
})

describe("LeastSquares properties", () => {
  const problems = fc
    .tuple(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 8 }))
    .chain(([m, n, rank]) =>
      fc.tuple(
        matrixOfShape(m, rank, 3),
        matrixOfShape(rank, n, 3),
        matrixOfShape(m, n),
        fc.boolean(),
        vectorOfLength(m)
      )
    )
    .map(([f, g, a, lowRank, b]) => {
      const A = lowRank && f.cols > 0 ? product({ ...f }, { ...g }) : Matrix.zeros(a.rows, a.cols)
      if (!(lowRank && f.cols > 0)) A.data.set(a.data)
      return { A, b }
    })

  it("the residual is orthogonal to range(A): ‖Aᵀ(b − A·x)‖ ≤ c·n·u·‖A‖·(‖b‖ + 2‖A‖‖x‖) + rcond·σ₀·‖b‖", () => {
    fc.assert(
      fc.property(problems, ({ A, b }) => {
        const { x, singularValues: s } = LeastSquares.lstsq(A, b)
        const n = Math.max(A.rows, A.cols, 1)
        const r = Float64Array.from(b)
        if (A.data.length > 0) Blas2.gemv(-1, A, x, 1, r)
        const g = new Float64Array(A.cols)
        if (A.data.length > 0) Blas2.gemvT(1, A, r, 0, g)
        const normA = s[0] ?? 0
        const bound =
          SAFETY * n * U * normA * (norm2(b) + 2 * normA * norm2(x)) + n * 2 ** -52 * normA * norm2(b)
        assertClose(g, new Float64Array(A.cols), { rtol: 0, atol: bound })
      }),
      FC
    )
  })

  it("pinv satisfies the four Penrose conditions", () => {
    fc.assert(
      fc.property(problems, ({ A }) => {
        const X = LeastSquares.pinv(A)
        const { singularValues: s } = LeastSquares.lstsq(A, new Float64Array(A.rows))
        const n = Math.max(A.rows, A.cols, 1)
        let r = 0
        while (r < s.length && s[r]! > n * 2 ** -52 * s[0]!) r++
        const kappa = r > 0 ? s[0]! / s[r - 1]! : 1
        const normA = s[0] ?? 0
        const normX = r > 0 ? 1 / s[r - 1]! : 0
        // A⁺ must be representable: ‖A⁺‖₂ = 1/σ_{r−1} overflows for subnormal σ (e.g. A = [0; 5e-324]).
        fc.pre(Number.isFinite(normX * kappa))
        const tol = SAFETY * n * U * kappa
        const AX = product(A, X)
        const XA = product(X, A)
        assertClose(product(AX, A), A, { rtol: 0, atol: tol * normA, label: "AXA = A" })
        assertClose(product(XA, X), X, { rtol: 0, atol: tol * normX, label: "XAX = X" })
        assertClose(AX, transpose(AX), { rtol: 0, atol: tol, label: "(AX)ᵀ = AX" })
        assertClose(XA, transpose(XA), { rtol: 0, atol: tol, label: "(XA)ᵀ = XA" })
      }),
      FC
    )
  })
})

describe("LeastSquares input validation", () => {
  it("rejects wrong b, non-finite input and bad rcond; rcond controls the rank", () => {
    const A = Matrix.fromRows([
      [1, 0],
      [0, 1e-8],
      [0, 0]
    ])
    expect(() => LeastSquares.lstsq(A, new Float64Array(2))).toThrow(Errors.DimensionMismatch)
    expect(() => LeastSquares.lstsq(A, Float64Array.from([1, Number.NaN, 0]))).toThrow(Errors.NonFiniteInput)
    expect(() => LeastSquares.lstsq(A, new Float64Array(3), { rcond: -1 })).toThrow(Errors.InvalidOptions)
    expect(() => LeastSquares.pinv(A, { rcond: Number.NaN })).toThrow(Errors.InvalidOptions)
    expect(LeastSquares.lstsq(A, Float64Array.from([1, 1, 1])).rank).toBe(2)
    const truncated = LeastSquares.lstsq(A, Float64Array.from([1, 1, 1]), { rcond: 1e-6 })
    expect(truncated.rank).toBe(1)
    assertClose(truncated.x, [1, 0], { rtol: 0, atol: 4 * U })
    assertClose(truncated.residuals, 2, { rtol: 4 * U })
  })
})
