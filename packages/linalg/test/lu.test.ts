import { Blas3, Errors, Matrix, Random, Vector } from "@descent/core"
import { assertClose, loadFixture } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Lu from "../src/Lu.ts"
import { absolute, asColumn, gamma, mat, maxAbs, normInf, PROPERTY_SEED, product } from "./helpers.ts"

// ---------------------------------------------------------------------------
// Error bounds (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed.)

/**
 * Backward error of LU (Thm 9.3, which holds for blocked LU with conventional
 * matrix multiplication up to the constant, Ch. 13): |P·A − L̂·Û| ≤ γₙ·|L̂|·|Û|. The test forms
 * L̂·Û in floating point too (another γₙ·|L̂|·|Û|), so the reconstruction is
 * checked at 2γₙ·max(|L̂|·|Û|), doubled for the constant hidden in the
 * blocked variant: factor 4.
 */
const RECONSTRUCTION_FACTOR = 4
/**
 * Solve residuals (Thm 9.4): (A + ΔA)·x̂ = b with |ΔA| ≤ γ₃ₙ·|L̂|·|Û|, so
 * ‖b − A·x̂‖∞ ≤ γ₃ₙ·‖|L̂|·|Û|‖∞·‖x̂‖∞, plus γₙ₊₁·‖A‖∞·‖x̂‖∞ for forming the
 * residual in the test. Factor 2 for the blocked variant's constant.
 */
const RESIDUAL_FACTOR = 2
/**
 * Forward error against SciPy's solution (Thm 7.2 with the backward error
 * above): ‖x̂ − x‖∞/‖x‖∞ ≲ κ∞(A)·γ₃ₙ·‖|L̂|·|Û|‖∞/‖A‖∞ for each of the two
 * solutions, κ∞ ≤ n·κ₂ (κ₂ is recorded by the fixture): factor 2 for the two.
 */
const FORWARD_FACTOR = 2

// ---------------------------------------------------------------------------
// Helpers

/** L (unit lower), U and P·A from a factorization. */
const unpack = (f: Lu.LuFactorization, A: Matrix.Matrix) => {
  const n = A.rows
  const L = Matrix.zeros(n, n)
  const Um = Matrix.zeros(n, n)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = f.lu.data[i * n + j]!
      if (j < i) L.data[i * n + j] = v
      else Um.data[i * n + j] = v
    }
    L.data[i * n + i] = 1
  }
  const PA = Matrix.clone(A)
  for (let i = 0; i < n; i++) {
    const p = f.pivots[i]!
    for (let j = 0; j < n; j++) {
      const t = PA.data[i * n + j]!
      PA.data[i * n + j] = PA.data[p * n + j]!
      PA.data[p * n + j] = t
    }
  }
  return { L, U: Um, PA }
}

/** |L̂|·|Û|, the matrix every LU error bound is stated in. */
const absLU = (f: Lu.LuFactorization, A: Matrix.Matrix): Matrix.Matrix => {
  const { L, U: Um } = unpack(f, A)
  return product(absolute(L), absolute(Um))
}

/** Checks P·A = L·U to RECONSTRUCTION_FACTOR·γₙ·max(|L||U|). */
const checkReconstruction = (f: Lu.LuFactorization, A: Matrix.Matrix): void => {
  const n = A.rows
  const { L, U: Um, PA } = unpack(f, A)
  const bound = RECONSTRUCTION_FACTOR * gamma(n) * maxAbs(product(absolute(L), absolute(Um)).data)
  assertClose(product(L, Um), PA, { rtol: 0, atol: bound, label: "P·A = L·U" })
}

/** Checks the residual of A·X = B column by column against the backward-error bound. */
const checkResidual = (f: Lu.LuFactorization, A: Matrix.Matrix, X: Matrix.Matrix, B: Matrix.Matrix): void => {
  const n = A.rows
  const R = Matrix.clone(B)
  Blas3.gemm(false, false, -1, A, X, 1, R)
  const growth = normInf(absLU(f, A))
  const bound = RESIDUAL_FACTOR * (gamma(3 * n) * growth + gamma(n + 1) * normInf(A)) * maxAbs(X.data)
  assertClose(R.data, new Float64Array(R.data.length), { rtol: 0, atol: bound, label: "residual B − A·X" })
}

const randomMatrix = (seed: number, n: number): Matrix.Matrix =>
  Matrix.fromData(n, n, Vector.fromArray(Random.uniform(Random.key(seed), n * n, { low: -1, high: 1 })))

// ---------------------------------------------------------------------------
// SciPy fixtures

interface LuCase {
  name: string
  n: number
  A: number[][]
  b: number[]
  B: number[][]
  det: number
  slogdet: { sign: number; logAbsDet: number }
  cond: number
  zeroPivot: number
  piv: number[]
  lu?: number[][]
  x?: number[]
  X?: number[][]
  inverse?: number[][]
}
interface Fixture {
  seed: number
  numpy: string
  scipy: string
  lu: LuCase[]
}
const fixture = loadFixture<Fixture>(import.meta.url, "./fixtures/factorizations.json")

describe("Lu against SciPy (scipy.linalg.lu_factor / lu_solve / det, numpy.linalg.slogdet)", () => {
  expect(fixture.seed).toBeTypeOf("number")
  for (const c of fixture.lu.filter((c) => c.zeroPivot < 0)) {
    it(`${c.name}: pivots, P·A = L·U, solves, determinant, inverse`, () => {
      const n = c.n
      const A = mat(c.A, n)
      const Acopy = Matrix.clone(A)
      const f = Lu.factor(A)
      expect(A.data).toEqual(Acopy.data)
      expect(f.zeroPivot).toBe(-1)
      expect(Array.from(f.pivots)).toEqual(c.piv)
      checkReconstruction(f, A)
      const growth = n === 0 ? 1 : normInf(absLU(f, A)) / normInf(A)
      const kappa = n * c.cond
      const forward = FORWARD_FACTOR * kappa * gamma(3 * n) * growth

      // Vector right-hand side.
      const b = Vector.fromArray(c.b)
      const x = Lu.solve(f, b)
      checkResidual(f, A, asColumn(x), asColumn(b))
      assertClose(x, c.x!, { rtol: 0, atol: forward * maxAbs(c.x!), label: "x vs lu_solve" })
      // Matrix right-hand side.
      const B = mat(c.B, 3)
      const X = Lu.solveMatrix(f, B)
      checkResidual(f, A, X, B)
      if (n > 0) {
        const Xref = mat(c.X!, 3)
        assertClose(X, Xref, { rtol: 0, atol: forward * maxAbs(Xref.data), label: "X vs lu_solve" })
      }
      // Determinants: det(A + ΔA)/det(A) − 1 ≈ tr(A⁻¹ΔA), |·| ≤ n·κ₂·γₙ·growth.
      const logTol = FORWARD_FACTOR * n * c.cond * gamma(n) * growth
      const s = Lu.logAbsDeterminant(f)
      expect(s.sign).toBe(c.slogdet.sign)
      assertClose(s.logAbsDet, c.slogdet.logAbsDet, { rtol: 0, atol: logTol, label: "log|det|" })
      if (Number.isFinite(c.det))
        assertClose(Lu.determinant(f), c.det, { rtol: logTol, atol: 0, label: "det" })
      else expect(Lu.determinant(f)).toBe(c.det) // n = 200: the determinant overflows in both
      // Inverse: each column is a solve.
      if (c.inverse !== undefined && n > 0) {
        const inv = mat(c.inverse, n)
        assertClose(Lu.inverse(f), inv, { rtol: 0, atol: forward * maxAbs(inv.data), label: "inverse" })
      }
    })
  }

  it("well-conditioned and 1×1: the packed factors equal SciPy's (same pivots, unique factors)", () => {
    for (const c of fixture.lu.filter((c) => c.name === "well-conditioned" || c.name === "1x1")) {
      const A = mat(c.A, c.n)
      const f = Lu.factor(A)
      const ref = mat(c.lu!, c.n)
      // With the pivots fixed, the factors' first-order perturbation is bounded
      // by the backward error times condition numbers of the factors (Barrlund,
      // BIT 31, 1991), here taken as n·κ∞(A)·γₙ·‖|L||U|‖∞ with κ∞ ≤ n·κ₂; the
      // cases have κ₂ ≈ 10 and 1.
      const tol = FORWARD_FACTOR * c.n * c.n * c.cond * gamma(c.n) * normInf(absLU(f, A))
      assertClose(f.lu, ref, { rtol: 0, atol: tol, label: `${c.name} lu` })
    }
  })

  it("rank-deficient: factors, reports the zero pivot, and solve/inverse throw Singular", () => {
    const c = fixture.lu.find((c) => c.name === "rank-deficient")!
    const A = mat(c.A, c.n)
    const f = Lu.factor(A)
    expect(f.zeroPivot).toBe(c.zeroPivot)
    expect(Array.from(f.pivots)).toEqual(c.piv)
    checkReconstruction(f, A)
    expect(Lu.determinant(f)).toBe(0)
    expect(Lu.logAbsDeterminant(f)).toEqual({ sign: 0, logAbsDet: Number.NEGATIVE_INFINITY })
    const expectSingular = (fn: () => unknown) => {
      try {
        fn()
        expect.unreachable()
      } catch (e) {
        expect(e).toBeInstanceOf(Errors.Singular)
        expect((e as Errors.Singular).index).toBe(c.zeroPivot)
      }
    }
    expectSingular(() => Lu.solve(f, Vector.fromArray(c.b)))
    expectSingular(() => Lu.solve(A, Vector.fromArray(c.b)))
    expectSingular(() => Lu.solveMatrix(f, mat(c.B, 3)))
    expectSingular(() => Lu.inverse(f))
  })
})

// ---------------------------------------------------------------------------
// Direct cases and errors

describe("Lu", () => {
  it("the documented 2×2 example: one interchange, det = −6", () => {
    const f = Lu.factor(
      Matrix.fromRows([
        [0, 2],
        [3, 4]
      ])
    )
    expect(Array.from(f.pivots)).toEqual([1, 1])
    expect(f.sign).toBe(-1)
    expect(Lu.determinant(f)).toBe(-6)
    expect(
      Array.from(
        Lu.solve(
          Matrix.fromRows([
            [2, 1],
            [1, 3]
          ]),
          Vector.fromArray([3, 5])
        )
      )
    ).toEqual([0.8, 1.4])
  })

  it("an exactly zero column past the first block reports its index (blocked path)", () => {
    const n = 300
    const A = randomMatrix(7, n)
    for (let i = 0; i < n; i++) A.data[i * n + 211] = 0
    const f = Lu.factor(A)
    expect(f.zeroPivot).toBe(211)
    checkReconstruction(f, A)
    expect(() => Lu.solve(f, Vector.ones(n))).toThrow(Errors.Singular)
  })

  it("validates its inputs", () => {
    expect(() => Lu.factor(Matrix.zeros(2, 3))).toThrow(Errors.DimensionMismatch)
    const A = Matrix.fromRows([
      [1, 2],
      [3, Number.NaN]
    ])
    expect(() => Lu.factor(A)).toThrow(Errors.NonFiniteInput)
    const f = Lu.factor(
      Matrix.fromRows([
        [1, 2],
        [3, 4]
      ])
    )
    expect(() => Lu.solve(f, Vector.zeros(3))).toThrow(Errors.DimensionMismatch)
    expect(() => Lu.solve(f, Matrix.zeros(3, 2))).toThrow(Errors.DimensionMismatch)
    expect(() => Lu.solve(f, Vector.fromArray([1, Number.POSITIVE_INFINITY]))).toThrow(Errors.NonFiniteInput)
    expect(() => Lu.solveMatrix(f, Matrix.fromRows([[1], [Number.NaN]]))).toThrow(Errors.NonFiniteInput)
  })

  it("solve does not modify its right-hand side, and accepts A or its factorization", () => {
    const A = randomMatrix(3, 40)
    const b = Vector.fromArray(Random.normal(Random.key(4), 40))
    const bCopy = Vector.clone(b)
    const x1 = Lu.solve(A, b)
    const x2 = Lu.solve(Lu.factor(A), b)
    expect(b).toEqual(bCopy)
    expect(x1).toEqual(x2)
    // The matrix path (trsm) sums in another order than the vector path (trsv).
    const B = Matrix.fromData(40, 1, b)
    const X = Lu.solve(A, B)
    checkResidual(Lu.factor(A), A, X, B)
  })
})

// ---------------------------------------------------------------------------
// Properties

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */

describe("Lu properties (fast-check)", () => {
  it("P·A = L·U and A·x = b to backward-error accuracy, across block boundaries", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (n, seed) => {
        const A = randomMatrix(seed, n)
        const f = Lu.factor(A)
        checkReconstruction(f, A)
        let swaps = 0
        for (let i = 0; i < n; i++) {
          expect(f.pivots[i]).toBeGreaterThanOrEqual(i)
          if (f.pivots[i] !== i) swaps++
        }
        expect(f.sign).toBe(swaps % 2 === 0 ? 1 : -1)
        // Partial pivoting: every multiplier has |Lᵢⱼ| ≤ 1.
        for (let i = 0; i < n; i++)
          for (let j = 0; j < i; j++) expect(Math.abs(f.lu.data[i * n + j]!)).toBeLessThanOrEqual(1)
        const b = Vector.fromArray(Random.normal(Random.key(seed + 1), n))
        const x = Lu.solve(f, b)
        checkResidual(f, A, asColumn(x), asColumn(b))
      }),
      { seed: PROPERTY_SEED, numRuns: 30 }
    )
  })
})
