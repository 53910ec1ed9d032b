/**
 * Tests of MatrixRoots (eigen and coupled-Newton routes) against SciPy
 * (scipy.linalg.sqrtm, fractional_matrix_power), the invariants
 * (A^{−1/4})⁴·A = I and (A^{1/2})² = A, and of NewtonSchulz (cubic: orthonormal
 * polar factor; quintic: Muon's singular-value band).
 */
import { Blas3, Errors, Matrix, Random } from "@descent/core"
import { assertClose, loadFixture, spdMatrix } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Roots from "../src/MatrixRoots.ts"
import * as NewtonSchulz from "../src/NewtonSchulz.ts"
import * as SymmetricEigen from "../src/SymmetricEigen.ts"
import { dyadic, gram, mat, maxAbs, PROPERTY_SEED, probe, product, type Rows, U as u } from "./helpers.ts"

interface RootCase {
  name: string
  regime: string
  A: Rows
  cond: number | null
  sqrtm: Rows
  invRoot2?: Rows
  invRoot4?: Rows
  power1_3?: Rows
}
interface Fixture {
  roots: RootCase[]
  roots200: {
    n: number
    phase: number
    sqrtmV: number[]
    sqrtmDiag: number[]
    invRoot4V: number[]
    invRoot4Diag: number[]
  }
}
const fixture = loadFixture<Fixture>(import.meta.url, "./fixtures/functions.json")

const fromValue = (m: { rows: number; cols: number; data: Float64Array }): Matrix.Matrix => {
  const out = Matrix.zeros(m.rows, m.cols)
  out.data.set(m.data)
  return out
}

/**
 * Forward error of A^r for SPD A, relative to max|A^r|: the eigenvalues carry
 * absolute errors ≈ n·u·λ_max, so the λ_min component of A^r moves by
 * |r|·λ_min^{r−1}·n·u·λ_max. Relative to max|A^r| this is |r|·n·u·κ for r < 0
 * (λ_min^r dominates) and |r|·n·u·κ^{1−r} for r > 0 (Higham 2008, §3.1 and
 * Theorem 3.15). SciPy's reference carries an error of the same size, hence 4 =
 * 2 × 2 (observed ≤ 0.1 of the allowance at κ = 1e12 for r = −1/4).
 */
const ROOT_FACTOR = 4
const rootTolerance = (n: number, kappa: number, r: number, ref: ArrayLike<number>) => ({
  rtol: 0,
  atol:
    ROOT_FACTOR *
    Math.max(1, n) *
    u *
    Math.max(1, Math.abs(r) * (r < 0 ? kappa : kappa ** (1 - r))) *
    maxAbs(ref)
})
/**
 * A rank-deficient PSD matrix: a zero eigenvalue is computed as ±n·u·‖A‖, whose
 * square root is √(n·u·‖A‖): the unavoidable absolute error of sqrt (×4 for the
 * reference's own error and the n terms of V·diag·Vᵀ).
 */
const psdTolerance = (n: number, A: Matrix.Matrix) => ({
  rtol: 0,
  atol: 4 * Math.sqrt(n * u * maxAbs(A.data) * n)
})

/** B·Bᵀ/n + I with dyadic B, rebuilt as generate_functions.py does (κ ≈ 4). */
const spd200 = (n: number, phase: number): Matrix.Matrix => {
  const B = dyadic(n, phase, 1)
  const A = Matrix.identity(n)
  Blas3.gemm(false, true, 1 / n, B, B, 1, A)
  return A
}
const matVec = (X: Matrix.Matrix, v: Float64Array): Float64Array => {
  const out = new Float64Array(X.rows)
  for (let i = 0; i < X.rows; i++)
    for (let j = 0; j < X.cols; j++) out[i] = out[i]! + X.data[i * X.cols + j]! * v[j]!
  return out
}
const diagOf = (X: Matrix.Matrix): number[] =>
  Array.from({ length: X.rows }, (_, i) => X.data[i * X.cols + i]!)
const condition = (A: Matrix.Matrix): number => {
  const values = SymmetricEigen.eigvalsh(A)
  return values.length === 0 ? 1 : values[values.length - 1]! / values[0]!
}

describe("SPD roots against SciPy", () => {
  for (const c of fixture.roots) {
    it(`${c.name} (${c.regime})`, () => {
      const A = mat(c.A)
      const before = Matrix.clone(A)
      const n = A.rows
      const ref = mat(c.sqrtm, n)
      if (c.regime === "rank-deficient") {
        assertClose(Roots.sqrtEigen(A).value, ref, psdTolerance(n, A))
        expect(() => Roots.inverseRootEigen(A, 2)).toThrow(Errors.NotPositiveDefinite)
        return
      }
      const kappa = c.cond ?? 1
      assertClose(Roots.sqrtEigen(A).value, ref, rootTolerance(n, kappa, 0.5, ref.data))
      const inv2 = mat(c.invRoot2!, n)
      const inv4 = mat(c.invRoot4!, n)
      const p13 = mat(c.power1_3!, n)
      assertClose(Roots.inverseRootEigen(A, 2).value, inv2, rootTolerance(n, kappa, -0.5, inv2.data))
      assertClose(Roots.inverseRootEigen(A, 4).value, inv4, rootTolerance(n, kappa, -0.25, inv4.data))
      assertClose(Roots.powerEigen(A, 1 / 3).value, p13, rootTolerance(n, kappa, 1 / 3, p13.data))
      const newton4 = Roots.inverseRootNewton(A, 4)
      expect(newton4.status).toBe("converged")
      expect(newton4.residual).toBeLessThanOrEqual(Roots.defaultNewtonRootOptions.tolerance)
      // The Newton routes stop at residual = max|X^p·A − I| ≤ 1e-12: X then has a further
      // relative error ≤ residual/p (entries: n·residual·max|X|).
      const newtonExtra = (residual: number, ref: Matrix.Matrix) => n * residual * maxAbs(ref.data)
      const tol4 = rootTolerance(n, kappa, -0.25, inv4.data)
      assertClose(newton4.value, inv4, { rtol: 0, atol: tol4.atol + newtonExtra(newton4.residual, inv4) })
      const newtonSqrt = Roots.sqrtNewton(A)
      expect(newtonSqrt.status).toBe("converged")
      const tolS = rootTolerance(n, kappa, 0.5, ref.data)
      assertClose(newtonSqrt.value, ref, { rtol: 0, atol: tolS.atol + newtonExtra(newtonSqrt.residual, ref) })
      expect(A.data).toEqual(before.data)
    })
  }

  it("n = 200 (probes X·v and diag X)", () => {
    const f = fixture.roots200
    const A = spd200(f.n, f.phase)
    const v = probe(f.n)
    // κ ≈ 4; X·v sums n products, one more factor n·max|v|.
    const kappa = 4
    const S = Roots.sqrtEigen(A).value
    const sTol = rootTolerance(f.n, kappa, 0.5, f.sqrtmDiag)
    assertClose(diagOf(S), f.sqrtmDiag, sTol)
    assertClose(matVec(S, v), f.sqrtmV, { rtol: 0, atol: sTol.atol * f.n * maxAbs(v) })
    const R = Roots.inverseRootEigen(A, 4).value
    const rTol = rootTolerance(f.n, kappa, -0.25, f.invRoot4Diag)
    assertClose(diagOf(R), f.invRoot4Diag, rTol)
    assertClose(matVec(R, v), f.invRoot4V, { rtol: 0, atol: rTol.atol * f.n * maxAbs(v) })
    const N = Roots.inverseRootNewton(A, 4)
    expect(N.status).toBe("converged")
    assertClose(diagOf(N.value), f.invRoot4Diag, {
      rtol: 0,
      atol: rTol.atol + f.n * N.residual * maxAbs(f.invRoot4Diag)
    })
  })
})

describe("root invariants (fast-check)", () => {
  const spd = spdMatrix(10).map(fromValue)

  it("(A^{−1/4})⁴·A = I (eigen and Newton routes)", () => {
    fc.assert(
      fc.property(spd, (A) => {
        const n = A.rows
        // Forming X⁴·A multiplies the relative error of X (≈ n·u·κ/4) by 4 and adds
        // the products' own rounding, each amplified by κ(A). The Newton route stops
        // at max|X⁴A − I| = residual ≤ 1e-12, so its X⁴A carries that residual too
        // (n·residual bounds the entries of the n-term products).
        const atol = 4 * ROOT_FACTOR * n * u * condition(A) * n
        const newton = Roots.inverseRootNewton(A, 4)
        for (const [X, extra] of [
          [Roots.inverseRootEigen(A, 4).value, 0],
          [newton.value, n * newton.residual]
        ] as const) {
          const X2 = product(X, X)
          assertClose(product(product(X2, X2), A), Matrix.identity(n), { rtol: 0, atol: atol + extra })
        }
      }),
      { seed: PROPERTY_SEED, numRuns: 40 }
    )
  })

  it("(A^{1/2})² = A (eigen and Newton routes)", () => {
    fc.assert(
      fc.property(spd, (A) => {
        const n = A.rows
        // Backward-stable square root: ‖S² − A‖ ≲ c·n·u·‖S‖² = c·n·u·‖A‖₂ (entrywise ≤ n·max|A|).
        // The Newton route stops at max|X²A − I| = residual, so S = A·X has
        // S² − A ≈ A·(X²A − I): entries ≤ n·residual·max|A|.
        const atol = ROOT_FACTOR * n * n * u * maxAbs(A.data) * Math.sqrt(condition(A))
        assertClose(product(Roots.sqrtEigen(A).value, Roots.sqrtEigen(A).value), A, { rtol: 0, atol })
        const newton = Roots.sqrtNewton(A)
        const extra = n * newton.residual * maxAbs(A.data)
        assertClose(product(newton.value, newton.value), A, { rtol: 0, atol: atol + extra })
      }),
      { seed: PROPERTY_SEED, numRuns: 40 }
    )
  })
})

describe("MatrixRoots options, status and errors", () => {
  const A = mat([
    [4, 1, 0.5],
    [1, 3, 0.2],
    [0.5, 0.2, 2]
  ])

  it("the ridge ε computes the root of A + εI", () => {
    const eps = 0.3
    const shifted = Matrix.clone(A)
    for (let i = 0; i < 3; i++) shifted.data[i * 4] = shifted.data[i * 4]! + eps
    const ref = Roots.inverseRootEigen(shifted, 4).value
    // Same eigenproblem up to the rounding of the shift: n·u·κ-sized differences.
    const tol = rootTolerance(3, condition(shifted), -0.25, ref.data)
    assertClose(Roots.inverseRootEigen(A, 4, { epsilon: eps }).value, ref, tol)
    const newton = Roots.inverseRootNewton(A, 4, { epsilon: eps })
    assertClose(newton.value, ref, { rtol: 0, atol: tol.atol + 3 * newton.residual * maxAbs(ref.data) })
    // A singular PSD matrix becomes invertible with a ridge.
    const P = mat([
      [1, 1],
      [1, 1]
    ])
    expect(() => Roots.inverseRootEigen(P, 2)).toThrow(Errors.NotPositiveDefinite)
    expect(Roots.inverseRootEigen(P, 2, { epsilon: 1 }).eigenvalues[0]).toBeCloseTo(1, 14)
  })

  it("converges on ridged low-rank Gram matrices (Shampoo's statistics), where M − I stalls near 1 for many steps", () => {
    // G Gᵀ + εI with G of rank k < m: eigenvalues spread over ~10⁴–10⁸, the
    // linear phase of the iteration lasts tens of steps (it used to be
    // misreported as "diverged" after three).
    for (const [m, k, eps, seed] of [
      [10, 3, 1e-6, 4],
      [8, 8, 1e-4, 6],
      [30, 4, 1e-6, 8]
    ] as const) {
      const G = Matrix.fromData(m, k, Random.normal(Random.key(seed), m * k))
      for (let i = 0; i < m * k; i++) G.data[i] = G.data[i]! * 10 ** (i % 3)
      const L = Matrix.zeros(m, m)
      Blas3.gemm(false, true, 1, G, G, 0, L)
      const newton = Roots.inverseRootNewton(L, 4, { epsilon: eps })
      expect(newton.status, `m = ${m}, k = ${k}`).toBe("converged")
      const ref = Roots.inverseRootEigen(L, 4, { epsilon: eps }).value
      // Both are backward stable; they agree to κ(L + εI)^{1/4}-amplified rounding.
      const shifted = Matrix.clone(L)
      for (let i = 0; i < m; i++) shifted.data[i * m + i] = shifted.data[i * m + i]! + eps
      const tol = rootTolerance(m, condition(shifted), -0.25, ref.data)
      assertClose(newton.value, ref, { rtol: 0, atol: tol.atol + 3 * newton.residual * maxAbs(ref.data) })
    }
  })

  it("reports non-convergence instead of looping", () => {
    const r = Roots.inverseRootNewton(A, 4, { maxIterations: 2 })
    expect(r.status).toBe("maxIterations")
    expect(r.iterations).toBe(2)
    expect(r.residual).toBeGreaterThan(Roots.defaultNewtonRootOptions.tolerance)
    const indefinite = mat([
      [1, 0],
      [0, -1]
    ])
    const bad = Roots.inverseRootNewton(indefinite, 2)
    expect(bad.status).not.toBe("converged")
    expect(bad.iterations).toBeLessThanOrEqual(Roots.defaultNewtonRootOptions.maxIterations)
    expect(() => Roots.inverseRootEigen(indefinite, 2)).toThrow(Errors.NotPositiveDefinite)
    expect(() => Roots.sqrtEigen(indefinite)).toThrow(Errors.NotPositiveDefinite)
  })

  it("validates inputs and options", () => {
    expect(() => Roots.sqrtEigen(Matrix.zeros(2, 3))).toThrow(Errors.DimensionMismatch)
    const nan = Matrix.clone(A)
    nan.data[4] = Number.NaN
    expect(() => Roots.inverseRootNewton(nan, 4)).toThrow(Errors.NonFiniteInput)
    expect(() => Roots.inverseRootEigen(A, 0)).toThrow(Errors.InvalidOptions)
    expect(() => Roots.inverseRootEigen(A, 2.5)).toThrow(Errors.InvalidOptions)
    expect(() => Roots.sqrtEigen(A, { epsilon: -1 })).toThrow(Errors.InvalidOptions)
    expect(() => Roots.powerEigen(A, Number.NaN)).toThrow(Errors.InvalidOptions)
    expect(() => Roots.inverseRootNewton(A, 4, { maxIterations: 0 })).toThrow(Errors.InvalidOptions)
    expect(() => Roots.inverseRootNewton(A, 4, { tolerance: 0 })).toThrow(Errors.InvalidOptions)
    expect(() => Roots.sqrtNewton(Matrix.zeros(2, 2))).toThrow(Errors.NotPositiveDefinite)
    try {
      Roots.inverseRootEigen(A, 0)
    } catch (e) {
      expect((e as Errors.InvalidOptions).field).toBe("p")
    }
  })
})

describe("NewtonSchulz", () => {
  /** Orthonormality of a polar factor from the cubic iteration: the stopping test max|XXᵀ − I| ≤ 1e-12 plus the final product's n·u. */
  const ORTHO_TOL = { rtol: 0, atol: 2 * NewtonSchulz.defaultCubicOptions.tolerance }

  const gaussian = (m: number, n: number, seed: number): Matrix.Matrix =>
    Matrix.fromData(m, n, Random.normal(Random.key(seed), m * n))
  /** The Gram matrix of the smaller side. */
  const smallerGram = (X: Matrix.Matrix): Matrix.Matrix => gram(X, X.rows >= X.cols)
  const singularValues = (X: Matrix.Matrix): number[] =>
    Array.from(SymmetricEigen.eigvalsh(smallerGram(X)), (l) => Math.sqrt(Math.max(l, 0)))

  it("cubic: orthonormal columns, and the polar factor (XᵀG symmetric positive definite)", () => {
    const G = gaussian(12, 5, 7)
    const r = NewtonSchulz.cubic(G)
    expect(r.status).toBe("converged")
    expect([r.value.rows, r.value.cols]).toEqual([12, 5])
    assertClose(smallerGram(r.value), Matrix.identity(5), ORTHO_TOL)
    const H = Matrix.zeros(5, 5)
    Blas3.gemm(true, false, 1, r.value, G, 0, H)
    // H = XᵀG = V·Σ·Vᵀ: symmetric up to the orthogonality error times ‖G‖.
    assertClose(H, Matrix.transpose(H), { rtol: 0, atol: 1e-10 * maxAbs(H.data) })
    expect(SymmetricEigen.eigvalsh(H)[0]).toBeGreaterThan(0)
  })

  it("cubic on well-conditioned inputs has orthonormal columns (fast-check)", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 8 })
          .chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: n, max: 12 }))),
        fc.integer({ min: 0, max: 1000 }),
        ([n, m], seed) => {
          // Q·diag(s) with s ∈ [1, 10]: κ ≤ 10, built from a QR-free recipe: G + 3·[I; 0].
          const G = gaussian(m, n, seed)
          for (let i = 0; i < n; i++) G.data[i * n + i] = G.data[i * n + i]! + 3 * Math.sqrt(m)
          const r = NewtonSchulz.cubic(G)
          expect(r.status).toBe("converged")
          assertClose(smallerGram(r.value), Matrix.identity(n), ORTHO_TOL)
        }
      ),
      { seed: PROPERTY_SEED, numRuns: 40 }
    )
  })

  it("quintic: Muon's band — singular values in [0.6, 1.25], not 1", () => {
    for (const [m, n, seed] of [
      [20, 10, 1],
      [64, 32, 2],
      [10, 30, 3]
    ] as const) {
      const r = NewtonSchulz.quintic(gaussian(m, n, seed))
      expect(r.iterations).toBe(5)
      expect([r.value.rows, r.value.cols]).toEqual([m, n])
      const s = singularValues(r.value)
      // Documented band ~[0.7, 1.2] (Jordan et al. 2024); margins for the
      // random inputs' spread. The quintic must not orthogonalize exactly.
      expect(Math.min(...s)).toBeGreaterThan(0.6)
      expect(Math.max(...s)).toBeLessThan(1.25)
      expect(Math.max(...s.map((x) => Math.abs(x - 1)))).toBeGreaterThan(0.01)
    }
  })

  it("special inputs and validation", () => {
    expect(NewtonSchulz.quintic(Matrix.zeros(0, 3)).value.rows).toBe(0)
    expect(NewtonSchulz.cubic(Matrix.zeros(3, 0)).status).toBe("converged")
    expect(Array.from(NewtonSchulz.quintic(Matrix.zeros(2, 2)).value.data)).toEqual([0, 0, 0, 0])
    const one = NewtonSchulz.cubic(Matrix.fromRows([[-2.5]]))
    expect(one.value.data[0]).toBeCloseTo(-1, 12)
    expect(NewtonSchulz.cubic(Matrix.zeros(3, 2)).status).toBe("stalled")
    const nan = Matrix.zeros(2, 2)
    nan.data[1] = Number.NaN
    expect(() => NewtonSchulz.quintic(nan)).toThrow(Errors.NonFiniteInput)
    expect(() => NewtonSchulz.quintic(Matrix.identity(2), { steps: -1 })).toThrow(Errors.InvalidOptions)
    expect(() => NewtonSchulz.cubic(Matrix.identity(2), { tolerance: -1 })).toThrow(Errors.InvalidOptions)
    const G = gaussian(4, 3, 9)
    const before = Matrix.clone(G)
    NewtonSchulz.cubic(G)
    NewtonSchulz.quintic(G)
    expect(G.data).toEqual(before.data)
  })
})
