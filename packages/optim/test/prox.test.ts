import { Blas1, Errors, Matrix, Vector } from "@descent/core"
import { Svd } from "@descent/linalg"
import { assertClose, vectorOfLength } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Prox from "../src/Prox.ts"

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */
const FC = { seed: 20_260_507, numRuns: 80 } as const

/**
 * Closed-form checks of a few float operations on entries of magnitude ≤ 10:
 * a handful of roundings, so 1e-12 absolute is ample and still catches any
 * wrong formula.
 */
const EXACT = { rtol: 1e-12, atol: 1e-12 } as const

/**
 * Optimality-condition and feasibility checks after a sort/sum or an SVD:
 * sums of n ≤ 12 entries of magnitude ≤ 10 (≈ n·10·ε), and the Jacobi SVD's
 * backward error c·n·u·‖A‖ for the nuclear-norm prox; 1e-9 leaves a margin.
 */
const ROUNDED = 1e-9

const dims = fc.integer({ min: 1, max: 12 })
const pair = dims.chain((n) => fc.tuple(vectorOfLength(n), vectorOfLength(n)))
const positive = fc.double({ min: 0.05, max: 5, noNaN: true })

const dist = (a: Float64Array, b: Float64Array): number => {
  const d = Vector.clone(a)
  Blas1.axpy(-1, b, d)
  return Blas1.nrm2(d)
}

/** Every regularizer of the module on n coordinates, for the generic properties. */
const regularizers = (n: number): Array<Prox.Prox> => {
  const half = Math.floor(n / 2)
  const groups = [
    Array.from({ length: half }, (_, i) => i),
    Array.from({ length: n - half }, (_, i) => half + i)
  ]
  const lower = Vector.fromArray(Array.from({ length: n }, (_, i) => -1 - i / n))
  const upper = Vector.fromArray(Array.from({ length: n }, (_, i) => 0.5 + i / n))
  return [
    Prox.zero(),
    Prox.l1(0.7),
    Prox.squaredL2(1.3),
    Prox.elasticNet(0.4, 0.9),
    Prox.groupLasso(n, groups, 0.8),
    Prox.nuclearNorm(n, 1, 0.5),
    Prox.box(lower, upper),
    Prox.box(-2, 3),
    Prox.nonNegative(),
    Prox.simplex(1.5),
    Prox.l1Ball(2),
    Prox.l2Ball(2),
    Prox.linfBall(0.75)
  ]
}

describe("Prox kernels: closed forms", () => {
  it("soft-thresholds", () => {
    const out = Vector.zeros(5)
    Prox.softThreshold(Vector.fromArray([3, -3, 0.5, -0.5, 1]), 1, out)
    assertClose(out, [2, -2, 0, 0, 0], EXACT)
  })

  it("elastic net and squared L2", () => {
    const x = Vector.fromArray([3, -3, 0.5])
    const out = Vector.zeros(3)
    Prox.proxElasticNet(x, 1, 1, out)
    assertClose(out, [1, -1, 0], EXACT)
    Prox.proxSquaredL2(x, 2, out)
    assertClose(out, [1, -1, 0.5 / 3], EXACT)
  })

  it("block soft-thresholds groups and copies ungrouped coordinates", () => {
    const x = Vector.fromArray([3, 4, 0.3, 0.4, 7])
    const out = Vector.zeros(5)
    Prox.blockSoftThreshold(
      x,
      [
        [0, 1],
        [2, 3]
      ],
      [1, 1],
      out
    )
    assertClose(out, [2.4, 3.2, 0, 0, 7], EXACT)
  })

  it("projects onto the simplex (worked example)", () => {
    const out = Vector.zeros(3)
    Prox.projectSimplex(Vector.fromArray([0.5, 0.5, 0.5]), 1, out)
    assertClose(out, [1 / 3, 1 / 3, 1 / 3], EXACT)
    Prox.projectSimplex(Vector.fromArray([2, 0, -1]), 1, out)
    assertClose(out, [1, 0, 0], EXACT)
    // τ = (1 + 0.6 − 1)/2 = 0.3.
    Prox.projectSimplex(Vector.fromArray([1, 0.6, -0.5]), 1, out)
    assertClose(out, [0.7, 0.3, 0], EXACT)
  })

  it("projects onto the l1, l2 and l∞ balls", () => {
    const out = Vector.zeros(3)
    Prox.projectL1Ball(Vector.fromArray([3, -1, 0.5]), 2, out)
    assertClose(out, [2, 0, 0], EXACT)
    Prox.projectL1Ball(Vector.fromArray([0.5, -0.5, 0.5]), 2, out)
    assertClose(out, [0.5, -0.5, 0.5], EXACT)
    Prox.projectL2Ball(Vector.fromArray([3, 4, 0]), 1, out)
    assertClose(out, [0.6, 0.8, 0], EXACT)
    Prox.projectLinfBall(Vector.fromArray([3, -4, 0.2]), 1, out)
    assertClose(out, [1, -1, 0.2], EXACT)
  })

  it("singular-value soft-thresholds a matrix", () => {
    const X = Matrix.fromRows([
      [3, 0],
      [0, 1],
      [0, 0]
    ])
    const out = Matrix.zeros(3, 2)
    Prox.singularValueThreshold(X, 2, out)
    assertClose(out.data, [1, 0, 0, 0, 0, 0], EXACT)
  })

  it("lets out alias x", () => {
    fc.assert(
      fc.property(
        dims.chain((n) => vectorOfLength(n)),
        positive,
        (x, step) => {
          for (const g of regularizers(x.length)) {
            const separate = Vector.zeros(x.length)
            g.prox(x, step, separate)
            const inPlace = Vector.clone(x)
            g.prox(inPlace, step, inPlace)
            assertClose(inPlace, separate, { rtol: 0, atol: 0, label: g.name })
          }
        }
      ),
      FC
    )
  })
})

describe("Prox properties", () => {
  it("prox optimality (Moreau): p = prox(x) minimizes g(z) + ‖z − x‖²/(2t)", () => {
    // Checked against the first-order condition (x − p)/t ∈ ∂g(p) through the
    // equivalent variational inequality: for every z, g(z) ≥ g(p) + ⟨(x − p)/t, z − p⟩.
    fc.assert(
      fc.property(pair, positive, ([x, z], step) => {
        for (const g of regularizers(x.length)) {
          const p = Vector.zeros(x.length)
          g.prox(x, step, p)
          const gp = g.value(p)
          expect(gp, g.name).toBeLessThan(Number.POSITIVE_INFINITY)
          const zFeasible = Vector.zeros(x.length)
          // Test points inside the domain (for indicators: projected points).
          g.prox(z, 1e-3, zFeasible)
          for (const w of [z, zFeasible]) {
            const gw = g.value(w)
            if (!Number.isFinite(gw)) continue
            const s = Vector.clone(x)
            Blas1.axpy(-1, p, s)
            const d = Vector.clone(w)
            Blas1.axpy(-1, p, d)
            const lhs = gw
            const rhs = gp + Blas1.dot(s, d) / step
            const scale = 1 + Math.abs(gw) + Math.abs(gp) + (Blas1.nrm2(s) * Blas1.nrm2(d)) / step
            expect(lhs - rhs, g.name).toBeGreaterThanOrEqual(-ROUNDED * scale)
          }
        }
      }),
      FC
    )
  })

  it("the subgradient condition of soft-thresholding holds coordinate-wise", () => {
    fc.assert(
      fc.property(
        dims.chain((n) => vectorOfLength(n)),
        positive,
        (x, t) => {
          const p = Vector.zeros(x.length)
          Prox.softThreshold(x, t, p)
          for (let i = 0; i < x.length; i++) {
            const s = x[i]! - p[i]!
            if (p[i]! !== 0) expect(Math.abs(s - t * Math.sign(p[i]!))).toBeLessThanOrEqual(ROUNDED)
            else expect(Math.abs(s)).toBeLessThanOrEqual(t + ROUNDED)
          }
        }
      ),
      FC
    )
  })

  it("projections are feasible and idempotent", () => {
    fc.assert(
      fc.property(
        dims.chain((n) => vectorOfLength(n)),
        (x) => {
          const n = x.length
          for (const g of regularizers(n)) {
            if (!["box", "nonNegative", "simplex", "l1Ball", "l2Ball", "linfBall"].includes(g.name)) continue
            const p = Vector.zeros(n)
            g.prox(x, 1, p)
            expect(g.value(p), g.name).toBe(0)
            const pp = Vector.zeros(n)
            g.prox(p, 1, pp)
            assertClose(pp, p, { rtol: ROUNDED, atol: ROUNDED, label: g.name })
          }
          const s = Vector.zeros(n)
          Prox.projectSimplex(x, 1.5, s)
          expect(Math.abs(Blas1.asum(s) - 1.5)).toBeLessThanOrEqual(ROUNDED)
        }
      ),
      FC
    )
  })

  it("proximal maps are nonexpansive: ‖P(x) − P(y)‖ ≤ ‖x − y‖", () => {
    fc.assert(
      fc.property(pair, positive, ([x, y], step) => {
        for (const g of regularizers(x.length)) {
          const px = Vector.zeros(x.length)
          const py = Vector.zeros(x.length)
          g.prox(x, step, px)
          g.prox(y, step, py)
          expect(dist(px, py), g.name).toBeLessThanOrEqual(dist(x, y) * (1 + ROUNDED) + ROUNDED)
        }
      }),
      FC
    )
  })

  it("simplex projection is the closest simplex point among random ones", () => {
    fc.assert(
      fc.property(pair, ([x, y]) => {
        const p = Vector.zeros(x.length)
        Prox.projectSimplex(x, 1, p)
        const q = Vector.zeros(x.length)
        Prox.projectSimplex(y, 1, q)
        expect(dist(x, p)).toBeLessThanOrEqual(dist(x, q) + ROUNDED)
      }),
      FC
    )
  })

  it("nuclear-norm prox shrinks every singular value by step·λ", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), positive, (m, n, t) => {
        const X = Matrix.fromData(
          m,
          n,
          Vector.fromArray(Array.from({ length: m * n }, (_, k) => Math.sin(k * 1.7 + t * m) * 3))
        )
        const out = Vector.zeros(m * n)
        Prox.nuclearNorm(m, n, 1).prox(X.data, t, out)
        const expected = Svd.singularValues(X).map((s) => Math.max(s - t, 0))
        assertClose(Svd.singularValues(Matrix.fromData(m, n, out)), expected, {
          rtol: ROUNDED,
          atol: ROUNDED
        })
      }),
      FC
    )
  })
})

describe("Prox bad inputs", () => {
  it("throws typed errors", () => {
    expect(() => Prox.l1(-1)).toThrow(Errors.InvalidOptions)
    expect(() => Prox.simplex(0)).toThrow(Errors.InvalidOptions)
    expect(() => Prox.l2Ball(Number.NaN)).toThrow(Errors.InvalidOptions)
    expect(() => Prox.box(1, 0)).toThrow(Errors.InvalidOptions)
    expect(() => Prox.box([0, 0], [1])).toThrow(Errors.DimensionMismatch)
    expect(() =>
      Prox.groupLasso(
        3,
        [
          [0, 1],
          [1, 2]
        ],
        1
      )
    ).toThrow(Errors.InvalidOptions)
    expect(() => Prox.groupLasso(3, [[0, 3]], 1)).toThrow(Errors.InvalidOptions)
    expect(() => Prox.softThreshold(Vector.zeros(2), 1, Vector.zeros(3))).toThrow(Errors.DimensionMismatch)
    expect(() => Prox.projectSimplex(Vector.zeros(3), 1, Vector.zeros(3), Vector.zeros(2))).toThrow(
      Errors.DimensionMismatch
    )
    expect(() => Prox.nuclearNorm(2, 2, 1).prox(Vector.zeros(3), 1, Vector.zeros(3))).toThrow(
      Errors.DimensionMismatch
    )
  })

  it("handles empty inputs", () => {
    const e = Vector.zeros(0)
    for (const g of regularizers(0)) {
      g.prox(e, 1, e)
      expect(g.name === "simplex" ? true : g.value(e) === 0).toBe(true)
    }
  })
})
