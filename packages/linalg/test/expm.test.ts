/**
 * Tests of Expm: SciPy fixtures (scipy.linalg.expm, expm_frechet) in every
 * regime, the invariants e^A·e^{−A} = I and e^A = V·diag(e^λ)·Vᵀ for symmetric A,
 * and the derivative rules of `expmTraced` / `traceExpmTraced`.
 */
import { Autodiff, Blas3, Errors, Matrix, Tensor as T } from "@descent/core"
import { assertClose, loadFixture, matrixOfShape } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Expm from "../src/Expm.ts"
import * as SymmetricEigen from "../src/SymmetricEigen.ts"
import { dyadic, mat, maxAbs, norm1, PROPERTY_SEED, probe, type Rows, U as u } from "./helpers.ts"

interface ExpmCase {
  name: string
  regime: string
  A: Rows
  expm: Rows
  norm1: number
}
interface FrechetCase {
  name: string
  A: Rows
  E: Rows
  expm: Rows
  frechet: Rows
}
interface Fixture {
  meta: { numpy: string; scipy: string; seed: number }
  expm: ExpmCase[]
  expm200: {
    n: number
    phase: number
    scale: number
    Ev: number[]
    diag: number[]
    row0: number[]
    trace: number
  }
  frechet: FrechetCase[]
}
const fixture = loadFixture<Fixture>(import.meta.url, "./fixtures/functions.json")

/**
 * Forward error of expm, relative to max|e^A|: the relative condition number of
 * e^A is ≈ ‖A‖ for normal A (Higham 2008, Theorem 10.30), and the Padé solve,
 * squarings and n-term sums add a factor n; 8 absorbs the constants (observed:
 * ≤ 1.1 of the n·max(1, ‖A‖₁)·u unit on every fixture, including ‖A‖₁ = 1e3).
 */
const EXPM_FACTOR = 8
const expmTolerance = (n: number, normA: number, ref: ArrayLike<number>) => ({
  rtol: 0,
  atol: EXPM_FACTOR * Math.max(1, n) * Math.max(1, normA) * u * maxAbs(ref)
})

/** checkGrad's central differences with h = 1e-6: truncation O(h²) and rounding O(u/h) ≈ 1e-10 relative. */
const GRAD_CHECK = { eps: 1e-6, rtol: 1e-6, atol: 1e-8 }

describe("expm against scipy.linalg.expm", () => {
  it("records its provenance", () => {
    expect(fixture.meta.seed).toBe(20261122)
    expect(fixture.meta.scipy).toMatch(/^1\./)
  })
  for (const c of fixture.expm) {
    it(`${c.name} (${c.regime})`, () => {
      const A = mat(c.A)
      const before = Matrix.clone(A)
      const X = Expm.expm(A)
      const ref = mat(c.expm, A.cols)
      expect([X.rows, X.cols]).toEqual([A.rows, A.cols])
      assertClose(X, ref, expmTolerance(A.rows, c.norm1, ref.data))
      expect(A.data).toEqual(before.data) // input not mutated
      if (A.rows > 0) {
        let tr = 0
        for (let i = 0; i < A.rows; i++) tr += ref.data[i * A.rows + i]!
        assertClose(Expm.traceExpm(A), tr, expmTolerance(A.rows, c.norm1, ref.data))
      }
    })
  }

  it("n = 200 (dyadic input, probes E·v, diag E, row 0, tr E)", () => {
    const f = fixture.expm200
    const A = dyadic(f.n, f.phase, f.scale)
    const X = Expm.expm(A)
    const normA = norm1(A)
    const tol = expmTolerance(f.n, normA, f.diag.concat(f.row0))
    const v = probe(f.n)
    const Xv = new Float64Array(f.n)
    for (let i = 0; i < f.n; i++) for (let j = 0; j < f.n; j++) Xv[i] = Xv[i]! + X.data[i * f.n + j]! * v[j]!
    // E·v sums n products: one more factor n·max|v| in the absolute error.
    assertClose(Xv, f.Ev, { rtol: 0, atol: tol.atol * f.n * maxAbs(v) })
    const diag = Array.from({ length: f.n }, (_, i) => X.data[i * f.n + i]!)
    assertClose(diag, f.diag, tol)
    assertClose(X.data.subarray(0, f.n), f.row0, tol)
    assertClose(Expm.traceExpm(A), f.trace, { rtol: 0, atol: tol.atol * f.n })
  })
})

describe("expm avoids overscaling (Al-Mohy & Higham 2009, §1)", () => {
  /**
   * e^A for A = [[1, b], [0, −1]] is [[e, b·sinh 1], [0, 1/e]]. Scaling by ‖A‖₁ ≈ b
   * would square ≈ log₂ b times and lose accuracy in the (1, 1) and (2, 2)
   * entries; the α_p-based choice keeps every entry accurate to a few ulps
   * (16u allows for the reference's own Math.sinh/Math.exp rounding).
   */
  const OVERSCALING_RTOL = 16 * u
  for (const b of [1e2, 1e5, 1e10]) {
    it(`[[1, ${b}], [0, −1]]`, () => {
      const X = Expm.expm(
        Matrix.fromRows([
          [1, b],
          [0, -1]
        ])
      )
      assertClose(X.data, [Math.E, b * Math.sinh(1), 0, Math.exp(-1)], { rtol: OVERSCALING_RTOL, atol: 0 })
    })
  }
})

describe("expmFrechet against scipy.linalg.expm_frechet", () => {
  for (const c of fixture.frechet) {
    it(c.name, () => {
      const A = mat(c.A)
      const E = mat(c.E)
      const r = Expm.expmFrechet(A, E)
      const n = A.rows
      const ref = mat(c.frechet)
      // L(A, E) = top-right block of exp of the 2n × 2n block matrix (norm ≤ 2‖A‖₁ after E's rescaling).
      assertClose(r.frechet, ref, expmTolerance(2 * n, 2 * norm1(A), ref.data))
      const refE = mat(c.expm)
      assertClose(r.expm, refE, expmTolerance(2 * n, 2 * norm1(A), refE.data))
    })
  }

  it("is linear in E and zero for E = 0", () => {
    const A = mat([
      [0.3, -1.2, 0.5],
      [0.7, 0.1, -0.4],
      [-0.2, 0.9, 0.6]
    ])
    const E = mat([
      [1, 0, -2],
      [0.5, 3, 0],
      [0, -1, 1]
    ])
    const L1 = Expm.expmFrechet(A, E).frechet
    const E3 = Matrix.clone(E)
    for (let i = 0; i < 9; i++) E3.data[i] = 3 * E3.data[i]!
    const L3 = Expm.expmFrechet(A, E3).frechet
    const scaled = Matrix.clone(L1)
    for (let i = 0; i < 9; i++) scaled.data[i] = 3 * scaled.data[i]!
    assertClose(L3, scaled, expmTolerance(6, 2 * norm1(A), scaled.data))
    expect(Array.from(Expm.expmFrechet(A, Matrix.zeros(3, 3)).frechet.data)).toEqual(new Array(9).fill(0))
  })
})

describe("expm invariants (fast-check)", () => {
  it("e^A · e^{−A} = I", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }).chain((n) => matrixOfShape(n, n, 1)),
        ({ rows: n, data }) => {
          const A = Matrix.zeros(n, n)
          A.data.set(data)
          const negA = Matrix.zeros(n, n)
          for (let i = 0; i < n * n; i++) negA.data[i] = -A.data[i]!
          const E = Expm.expm(A)
          const F = Expm.expm(negA)
          const P = Matrix.zeros(n, n)
          Blas3.gemm(false, false, 1, E, F, 0, P)
          // Each factor has relative error ≲ EXPM_FACTOR·n·max(1, ‖A‖₁)·u; the product's error is
          // bounded by that times ‖e^A‖₁·‖e^{−A}‖₁, plus the product's own n·u.
          const atol = 2 * EXPM_FACTOR * n * Math.max(1, norm1(A)) * u * norm1(E) * norm1(F)
          assertClose(P, Matrix.identity(n), { rtol: 0, atol })
        }
      ),
      { seed: PROPERTY_SEED, numRuns: 60 }
    )
  })

  it("e^A = V·diag(e^λ)·Vᵀ for symmetric A", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }).chain((n) => matrixOfShape(n, n, 2)),
        ({ rows: n, data }) => {
          const A = Matrix.zeros(n, n)
          for (let i = 0; i < n; i++)
            for (let j = 0; j < n; j++) A.data[i * n + j] = 0.5 * (data[i * n + j]! + data[j * n + i]!)
          const { eigenvalues: values, eigenvectors: V } = SymmetricEigen.eigh(A)
          const W = Matrix.clone(V)
          for (let i = 0; i < n; i++)
            for (let j = 0; j < n; j++) W.data[i * n + j] = W.data[i * n + j]! * Math.exp(values[j]!)
          const ref = Matrix.zeros(n, n)
          Blas3.gemm(false, true, 1, W, V, 0, ref)
          // Both routes are backward stable; e^A is perfectly conditioned in the normal case up to ‖A‖.
          assertClose(Expm.expm(A), ref, expmTolerance(n, norm1(A), ref.data))
        }
      ),
      { seed: PROPERTY_SEED, numRuns: 60 }
    )
  })
})

describe("differentiable expm", () => {
  const A = mat([
    [0.2, -0.9, 0.4],
    [1.1, -0.3, 0.6],
    [-0.5, 0.8, 0.1]
  ])
  const C = mat([
    [1, 2, -1],
    [0.5, -1, 3],
    [2, 0, 1]
  ])

  it("expmTraced: value equals expm and the gradient passes checkGrad", () => {
    const value = T.toValue(Expm.expmTraced(A)) as Matrix.Matrix
    expect(Array.from(value.data)).toEqual(Array.from(Expm.expm(A).data))
    const f = (x: T.Tensor) => T.sum(T.mul(Expm.expmTraced(T.reshape(x, [3, 3])), C))
    const r = Autodiff.checkGrad(f, Float64Array.from(A.data), GRAD_CHECK)
    expect(r.ok, `worst ${r.worstIndex}: ${r.maxRelError}`).toBe(true)
  })

  it("expmTraced: the gradient of ⟨C, e^A⟩ is L(Aᵀ, C) from expmFrechet", () => {
    const g = Autodiff.grad<[Matrix.Matrix]>((X) => T.sum(T.mul(Expm.expmTraced(X), C)))(A) as Matrix.Matrix
    const ref = Expm.expmFrechet(Matrix.transpose(A), C).frechet
    assertClose(g, ref, expmTolerance(6, 2 * norm1(A), ref.data))
  })

  it("expmTraced: second derivatives (hvp) agree with finite differences of the gradient", () => {
    const f = (X: T.Tensor) => T.sum(T.mul(Expm.expmTraced(X), C))
    const V = mat([
      [0.3, -0.2, 0.1],
      [0, 0.5, -0.4],
      [0.2, 0.1, 0.3]
    ])
    const hv = Autodiff.hvp(f, A, V) as Matrix.Matrix
    const h = 1e-5
    const shifted = (s: number) => {
      const X = Matrix.clone(A)
      for (let i = 0; i < 9; i++) X.data[i] = X.data[i]! + s * h * V.data[i]!
      return Autodiff.grad<[Matrix.Matrix]>(f)(X) as Matrix.Matrix
    }
    const gp = shifted(1)
    const gm = shifted(-1)
    const fd = Array.from({ length: 9 }, (_, i) => (gp.data[i]! - gm.data[i]!) / (2 * h))
    // Central difference of the gradient with h = 1e-5: truncation O(h²) ≈ 1e-10, rounding O(u/h) ≈ 1e-11.
    assertClose(hv.data, fd, { rtol: 1e-7, atol: 1e-8 })
  })

  it("traceExpmTraced: value, checkGrad, and the NOTEARS gradient (e^{W∘W})ᵀ ∘ 2W", () => {
    expect(Expm.traceExpmTraced(A).item()).toBe(Expm.traceExpm(A))
    const r = Autodiff.checkGrad(
      (x) => Expm.traceExpmTraced(T.reshape(x, [3, 3])),
      Float64Array.from(A.data),
      GRAD_CHECK
    )
    expect(r.ok, `worst ${r.worstIndex}: ${r.maxRelError}`).toBe(true)
    const W = A
    const g = Autodiff.grad<[Matrix.Matrix]>((X) => T.sub(Expm.traceExpmTraced(T.mul(X, X)), 3))(
      W
    ) as Matrix.Matrix
    const WW = Matrix.clone(W)
    for (let i = 0; i < 9; i++) WW.data[i] = W.data[i]! * W.data[i]!
    const E = Matrix.transpose(Expm.expm(WW))
    const ref = Matrix.zeros(3, 3)
    for (let i = 0; i < 9; i++) ref.data[i] = E.data[i]! * 2 * W.data[i]!
    assertClose(g, ref, expmTolerance(3, norm1(WW), ref.data))
  })
})

describe("expm input validation", () => {
  it("rejects non-square and non-finite inputs", () => {
    expect(() => Expm.expm(Matrix.zeros(2, 3))).toThrow(Errors.DimensionMismatch)
    expect(() => Expm.traceExpm(Matrix.zeros(3, 2))).toThrow(Errors.DimensionMismatch)
    const A = Matrix.zeros(2, 2)
    A.data[3] = Number.NaN
    expect(() => Expm.expm(A)).toThrow(Errors.NonFiniteInput)
    expect(() => Expm.expmFrechet(Matrix.zeros(2, 2), Matrix.zeros(3, 3))).toThrow(Errors.DimensionMismatch)
    const E = Matrix.zeros(2, 2)
    E.data[0] = Number.POSITIVE_INFINITY
    expect(() => Expm.expmFrechet(Matrix.zeros(2, 2), E)).toThrow(Errors.NonFiniteInput)
    expect(() => Expm.expmTraced(Matrix.zeros(2, 3))).toThrow(Errors.DimensionMismatch)
  })

  it("handles 0 × 0 and 1 × 1 in every entry point", () => {
    expect(Expm.expmFrechet(Matrix.zeros(0, 0), Matrix.zeros(0, 0)).frechet.rows).toBe(0)
    expect(Expm.traceExpm(Matrix.zeros(0, 0))).toBe(0)
    // d/dt e^{a+t·e} = e·e^a for scalars; e^{0.5}·2 to a few ulps (expm's 1 × 1 error bound).
    const L = Expm.expmFrechet(Matrix.fromRows([[0.5]]), Matrix.fromRows([[2]])).frechet.data[0]!
    assertClose(L, 2 * Math.exp(0.5), { rtol: EXPM_FACTOR * u, atol: 0 })
    const g = Autodiff.grad<[Matrix.Matrix]>((X) => T.sum(Expm.expmTraced(X)))(
      Matrix.fromRows([[0.5]])
    ) as Matrix.Matrix
    assertClose(g.data[0]!, Math.exp(0.5), { rtol: EXPM_FACTOR * u, atol: 0 })
  })

  it("overflows to Infinity instead of failing when e^A does", () => {
    const X = Expm.expm(Matrix.fromRows([[800]]))
    expect(X.data[0]).toBe(Number.POSITIVE_INFINITY)
  })
})
