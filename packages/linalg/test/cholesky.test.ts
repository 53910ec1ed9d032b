import { Blas3, Errors, Matrix, Random, Vector } from "@descent/core"
import { assertClose, loadFixture } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Cholesky from "../src/Cholesky.ts"
import { absolute, asColumn, gamma, gram, mat, maxAbs, normInf, PROPERTY_SEED } from "./helpers.ts"

// ---------------------------------------------------------------------------
// Error bounds (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed.)

/**
 * Backward error of Cholesky (Thm 10.3, also for the blocked algorithm with
 * conventional multiplication): |A − L̂·L̂ᵀ| ≤ γₙ₊₁·|L̂|·|L̂ᵀ|; forming L̂·L̂ᵀ in
 * the test adds γₙ·|L̂|·|L̂ᵀ|, and the blocked constant another factor 2: 4.
 */
const RECONSTRUCTION_FACTOR = 4
/**
 * Solve residuals (Thm 10.4): (A + ΔA)·x̂ = b with |ΔA| ≤ γ₃ₙ₊₁·|L̂|·|L̂ᵀ|, plus
 * γₙ₊₁·‖A‖∞·‖x̂‖∞ for forming the residual: factor 2 for the blocked constant.
 */
const RESIDUAL_FACTOR = 2
/**
 * Forward errors (solutions, factors, inverse, log-determinant) are the
 * backward error times the condition number κ₂(A) recorded by the fixture;
 * with κ∞ ≤ n·κ₂ and one error from each of the two implementations compared
 * (ours and SciPy's): factor 2 on n·κ₂·γ₃ₙ₊₁. For L itself the first-order
 * perturbation bound is ‖ΔL‖_F/‖L‖₂ ≤ κ₂(A)·‖ΔA‖_F/‖A‖₂ (Sun 1991).
 */
const FORWARD_FACTOR = 2
/**
 * Rank-1 updates by rotations are backward stable: L̃·L̃ᵀ = L·Lᵀ ± x·xᵀ + E,
 * ‖E‖ ≤ c·n·u·(‖L‖² + ‖x‖²) (Stewart, "The effects of rounding error on an
 * algorithm for downdating a Cholesky factorization", 1979; c a small constant,
 * 4 here, for the two rotations per entry); the downdate's forward error also
 * grows with κ(A − x·xᵀ), which the comparison with refactoring includes.
 */
const UPDATE_FACTOR = 4

// ---------------------------------------------------------------------------
// Helpers

/** Checks A = L·Lᵀ to RECONSTRUCTION_FACTOR·γₙ₊₁·max(|L||Lᵀ|). */
const checkReconstruction = (L: Matrix.Matrix, A: Matrix.Matrix, factor = RECONSTRUCTION_FACTOR): void => {
  const n = A.rows
  const bound = factor * gamma(n + 1) * maxAbs(gram(absolute(L)).data)
  assertClose(gram(L), A, { rtol: 0, atol: bound, label: "A = L·Lᵀ" })
}

const checkLowerTriangular = (L: Matrix.Matrix): void => {
  const n = L.rows
  for (let i = 0; i < n; i++) {
    expect(L.data[i * n + i]).toBeGreaterThan(0)
    for (let j = i + 1; j < n; j++) expect(L.data[i * n + j]).toBe(0)
  }
}

const checkResidual = (L: Matrix.Matrix, A: Matrix.Matrix, X: Matrix.Matrix, B: Matrix.Matrix): void => {
  const n = A.rows
  const R = Matrix.clone(B)
  Blas3.gemm(false, false, -1, A, X, 1, R)
  const bound =
    RESIDUAL_FACTOR *
    (gamma(3 * n + 1) * normInf(gram(absolute(L))) + gamma(n + 1) * normInf(A)) *
    maxAbs(X.data)
  assertClose(R.data, new Float64Array(R.data.length), { rtol: 0, atol: bound, label: "residual B − A·X" })
}

/** B·Bᵀ + n·I for a uniform B in [−1, 1]: eigenvalues in [n, n + n²], so κ₂ ≤ n + 1. */
const randomSpd = (seed: number, n: number): Matrix.Matrix => {
  const B = Matrix.fromData(
    n,
    n,
    Vector.fromArray(Random.uniform(Random.key(seed), n * n, { low: -1, high: 1 }))
  )
  const A = Matrix.zeros(n, n)
  Blas3.gemm(false, true, 1, B, B, 0, A)
  for (let i = 0; i < n; i++) A.data[i * n + i] = A.data[i * n + i]! + n
  // gemm's two triangles are mirror images bit for bit only up to summation order: symmetrize.
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) A.data[j * n + i] = A.data[i * n + j]!
  return A
}

const expectNotPositiveDefinite = (fn: () => unknown, column: number): Errors.NotPositiveDefinite => {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(Errors.NotPositiveDefinite)
    expect((e as Errors.NotPositiveDefinite).column).toBe(column)
    return e as Errors.NotPositiveDefinite
  }
  return expect.unreachable()
}

// ---------------------------------------------------------------------------
// SciPy fixtures

interface CholeskyCase {
  name: string
  n: number
  A: number[][]
  b: number[]
  B: number[][]
  cond: number
  failColumn?: number
  logdet?: number
  x?: number[]
  X?: number[][]
  L?: number[][]
  inverse?: number[][]
  updateX?: number[]
  updateL?: number[][]
  downdateX?: number[]
  downdateL?: number[][]
  badDowndateX?: number[]
  updateCond?: number
  downdateCond?: number
}
interface Fixture {
  seed: number
  numpy: string
  scipy: string
  cholesky: CholeskyCase[]
}
const fixture = loadFixture<Fixture>(import.meta.url, "./fixtures/factorizations.json")

describe("Cholesky against SciPy (cho_factor / cho_solve, numpy.linalg.slogdet / cholesky)", () => {
  for (const c of fixture.cholesky.filter((c) => c.failColumn === undefined)) {
    it(`${c.name}: L·Lᵀ = A, L, solves, log-determinant, inverse`, () => {
      const n = c.n
      const A = mat(c.A, n)
      const Acopy = Matrix.clone(A)
      const f = Cholesky.factor(A)
      expect(A.data).toEqual(Acopy.data)
      checkLowerTriangular(f.L)
      checkReconstruction(f.L, A)
      const relative = gamma(3 * n + 1) * (n === 0 ? 1 : normInf(gram(absolute(f.L))) / normInf(A))
      const forward = FORWARD_FACTOR * n * c.cond * relative
      if (c.L !== undefined && n > 0) {
        const Lref = mat(c.L, n)
        assertClose(f.L, Lref, { rtol: 0, atol: forward * maxAbs(Lref.data), label: "L vs cho_factor" })
      }
      const b = Vector.fromArray(c.b)
      const x = Cholesky.solve(f, b)
      checkResidual(f.L, A, asColumn(x), asColumn(b))
      assertClose(x, c.x!, { rtol: 0, atol: forward * maxAbs(c.x!), label: "x vs cho_solve" })
      const B = mat(c.B, 3)
      const X = Cholesky.solveMatrix(f, B)
      checkResidual(f.L, A, X, B)
      if (n > 0) {
        const Xref = mat(c.X!, 3)
        assertClose(X, Xref, { rtol: 0, atol: forward * maxAbs(Xref.data), label: "X vs cho_solve" })
      }
      // log det(A + ΔA) − log det(A) ≈ tr(A⁻¹ΔA), |·| ≤ n·κ₂·‖ΔA‖/‖A‖.
      assertClose(Cholesky.logDeterminant(f), c.logdet!, { rtol: 0, atol: forward, label: "log det" })
      if (c.inverse !== undefined && n > 0) {
        const inv = mat(c.inverse, n)
        const ours = Cholesky.inverse(f)
        assertClose(ours, inv, { rtol: 0, atol: forward * maxAbs(inv.data), label: "inverse" })
        expect(ours.data).toEqual(Matrix.transpose(ours).data)
      }
    })
  }

  for (const c of fixture.cholesky.filter((c) => c.updateX !== undefined)) {
    it(`${c.name}: rank-1 update and downdate equal refactoring A ± x·xᵀ`, () => {
      const n = c.n
      const f = Cholesky.factor(mat(c.A, n))
      const x = Vector.fromArray(c.updateX!)
      const xCopy = Vector.clone(x)
      const up = Cholesky.update(f, x)
      expect(x).toEqual(xCopy)
      checkLowerTriangular(up.L)
      const upRef = mat(c.updateL!, n)
      const upTol = UPDATE_FACTOR * FORWARD_FACTOR * n * c.updateCond! * gamma(3 * n + 1) * maxAbs(upRef.data)
      assertClose(up.L, upRef, { rtol: 0, atol: upTol, label: "update vs cholesky(A + x·xᵀ)" })

      const v = Vector.fromArray(c.downdateX!)
      const down = Cholesky.downdate(f, v)
      checkLowerTriangular(down.L)
      const downRef = mat(c.downdateL!, n)
      const downTol =
        UPDATE_FACTOR * FORWARD_FACTOR * n * c.downdateCond! * gamma(3 * n + 1) * maxAbs(downRef.data)
      assertClose(down.L, downRef, { rtol: 0, atol: downTol, label: "downdate vs cholesky(A − x·xᵀ)" })

      // x = 1.5·L·ẑ makes A − x·xᵀ = L(I − 2.25·ẑẑᵀ)Lᵀ indefinite.
      expect(() => Cholesky.downdate(f, Vector.fromArray(c.badDowndateX!))).toThrow(
        Errors.NotPositiveDefinite
      )
    })
  }

  for (const c of fixture.cholesky.filter((c) => c.failColumn !== undefined)) {
    it(`${c.name}: NotPositiveDefinite at the column where SciPy stops (${c.failColumn})`, () => {
      const A = mat(c.A, c.n)
      const e = expectNotPositiveDefinite(() => Cholesky.factor(A), c.failColumn!)
      if (c.name === "rank-deficient")
        expect(e.pivot).toBe(0) // a zero row and column: an exact zero pivot
      else expect(e.pivot).toBeLessThan(0)
      expectNotPositiveDefinite(() => Cholesky.solve(A, Vector.fromArray(c.b)), c.failColumn!)
    })
  }
})

// ---------------------------------------------------------------------------
// Direct cases and errors

describe("Cholesky", () => {
  it("the documented examples", () => {
    const A = Matrix.fromRows([
      [4, 2],
      [2, 5]
    ])
    expect(Matrix.toRows(Cholesky.factor(A).L)).toEqual([
      [2, 0],
      [1, 2]
    ])
    expect(Array.from(Cholesky.solve(A, Vector.fromArray([2, 1])))).toEqual([0.5, 0])
  })

  it("reads only the lower triangle", () => {
    const A = randomSpd(11, 150)
    const B = Matrix.clone(A)
    for (let i = 0; i < 150; i++) for (let j = i + 1; j < 150; j++) B.data[i * 150 + j] = Number.NaN
    expect(Cholesky.factor(B).L.data).toEqual(Cholesky.factor(A).L.data)
  })

  it("reports the failing column inside a later block (blocked path)", () => {
    const n = 300
    const A = randomSpd(5, n)
    A.data[217 * n + 217] = -1
    const e = expectNotPositiveDefinite(() => Cholesky.factor(A), 217)
    expect(e.pivot).toBeLessThan(0)
  })

  it("validates its inputs", () => {
    expect(() => Cholesky.factor(Matrix.zeros(2, 3))).toThrow(Errors.DimensionMismatch)
    expect(() =>
      Cholesky.factor(
        Matrix.fromRows([
          [1, 0],
          [Number.POSITIVE_INFINITY, 1]
        ])
      )
    ).toThrow(Errors.NonFiniteInput)
    // In the tiled path (n > 128) too, with the flat index of the entry.
    const big = randomSpd(2, 200)
    big.data[150 * 200 + 7] = Number.NaN
    try {
      Cholesky.factor(big)
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(Errors.NonFiniteInput)
      expect((e as Errors.NonFiniteInput).index).toBe(150 * 200 + 7)
    }
    const f = Cholesky.factor(Matrix.identity(2))
    expect(() => Cholesky.solve(f, Vector.zeros(3))).toThrow(Errors.DimensionMismatch)
    expect(() => Cholesky.solve(f, Matrix.zeros(3, 1))).toThrow(Errors.DimensionMismatch)
    expect(() => Cholesky.solve(f, Vector.fromArray([Number.NaN, 1]))).toThrow(Errors.NonFiniteInput)
    expect(() => Cholesky.update(f, Vector.zeros(3))).toThrow(Errors.DimensionMismatch)
    expect(() => Cholesky.downdate(f, Vector.fromArray([0, Number.NaN]))).toThrow(Errors.NonFiniteInput)
    // Downdating I by e₀ leaves a zero pivot at column 0.
    expectNotPositiveDefinite(() => Cholesky.downdate(f, Vector.fromArray([1, 0])), 0)
  })
})

// ---------------------------------------------------------------------------
// Properties

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */

describe("Cholesky properties (fast-check)", () => {
  it("L·Lᵀ = A and A·x = b to backward-error accuracy, across block boundaries", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (n, seed) => {
        const A = randomSpd(seed, n)
        const f = Cholesky.factor(A)
        checkLowerTriangular(f.L)
        checkReconstruction(f.L, A)
        const b = Vector.fromArray(Random.normal(Random.key(seed + 1), n))
        checkResidual(f.L, A, asColumn(Cholesky.solve(f, b)), asColumn(b))
      }),
      { seed: PROPERTY_SEED, numRuns: 30 }
    )
  })

  it("update and downdate agree with refactoring A ± x·xᵀ", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (n, seed) => {
        const A = randomSpd(seed, n)
        const f = Cholesky.factor(A)
        const x = Vector.fromArray(Random.uniform(Random.key(seed + 1), n, { low: -1, high: 1 }))
        const Aplus = Matrix.clone(A)
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) Aplus.data[i * n + j]! += x[i]! * x[j]!
        const up = Cholesky.update(f, x)
        // κ₂(A + x·xᵀ) ≤ (n + n² + n)/n = n + 2 (|xᵢ| ≤ 1).
        const upRef = Cholesky.factor(Aplus).L
        const upTol = UPDATE_FACTOR * FORWARD_FACTOR * n * (n + 2) * gamma(3 * n + 1) * maxAbs(upRef.data)
        assertClose(up.L, upRef, { rtol: 0, atol: upTol, label: "update" })
        checkReconstruction(up.L, Aplus, UPDATE_FACTOR * RECONSTRUCTION_FACTOR)
        // Downdating the update restores L (given as the bare factor this time).
        const back = Cholesky.downdate(up.L, x)
        assertClose(back.L, f.L, { rtol: 0, atol: upTol, label: "downdate(update(L, x), x)" })
      }),
      { seed: PROPERTY_SEED, numRuns: 40 }
    )
  })
})
