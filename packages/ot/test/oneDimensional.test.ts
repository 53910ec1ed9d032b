import { Errors, Matrix } from "@descent/core"
import { assertClose, loadFixture } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Emd from "../src/Emd.ts"
import { NegativeMass, UnbalancedMarginals } from "../src/Errors.ts"
import * as Geometry from "../src/Geometry.ts"
import * as LinearProblem from "../src/LinearProblem.ts"
import * as OneDimensional from "../src/OneDimensional.ts"
import * as SparsePlan from "../src/SparsePlan.ts"

interface OneDCase {
  readonly name: string
  readonly p: number
  readonly x: number[]
  readonly y: number[]
  readonly a: number[]
  readonly b: number[]
  readonly cost: number
}

const fixture = loadFixture<{ readonly oneDimensional: ReadonlyArray<OneDCase> }>(
  import.meta.url,
  "fixtures/exact.json"
)

const PROPERTY_SEED = 20260915

// Both sides sum ≤ n + m products mass·|x − y|^p in different orders (POT
// integrates the quantile functions); the sums agree to a few ulps of the
// total (observed ≤ 1e-15 relative).
const COST_RTOL = 1e-12
// The closed form and the network simplex sum the same n + m − 1 terms of the
// same plan or of another optimal one: agreement to rounding, |cost| ≤ 10³ here.
const EMD_RTOL = 1e-11
const EMD_ATOL = 1e-13
// Potentials are ≤ n + m-term sums of costs ≤ (max |x − y|)^p ≲ 10³ here.
const dualTolerance = (scale: number): number => 1e-13 * Math.max(1, scale)

describe("OneDimensional against POT's wasserstein_1d (fixtures/exact.json)", () => {
  for (const c of fixture.oneDimensional) {
    it(`${c.name}`, () => {
      const r = OneDimensional.solve(c.x, c.y, { a: c.a, b: c.b, p: c.p })
      assertClose(r.cost, c.cost, { rtol: COST_RTOL, label: "W_p^p" })
      expect(r.distance).toBeCloseTo(c.cost ** (1 / c.p), 12)
      expect(r.transport.mass.length).toBe(c.x.length + c.y.length - 1)
    })
  }
})

const weighted = (n: number) =>
  fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: n, maxLength: n })

describe("OneDimensional properties (fast-check)", () => {
  it("equals the network simplex's cost on the same 1-D problem; marginals, dual feasibility and slackness hold", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 15 }),
        fc.integer({ min: 1, max: 15 }),
        fc.constantFrom(1, 1.5, 2, 3),
        fc.boolean(),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (n, m, p, integerPoints, seed) => {
          // Points from a small integer grid (ties) or spread reals; weights with zeros.
          const gen = (k: number, len: number): number[] =>
            Array.from({ length: len }, (_, i) => {
              const t = Math.sin(seed * 1e-3 + 7.1 * i + 13.3 * k) * 43758.5453
              const u = t - Math.floor(t)
              return integerPoints ? Math.floor(5 * u) : 10 * u - 5
            })
          const x = gen(1, n)
          const y = gen(2, m)
          const w = (k: number, len: number): number[] => {
            const raw = gen(k, len).map((v, i) => (i === 0 || Math.abs(v) % 3 > 0.8 ? Math.abs(v) + 0.1 : 0))
            const s = raw.reduce((q, v) => q + v, 0)
            return raw.map((v) => v / s)
          }
          const a = w(3, n)
          const b = w(4, m)
          const r = OneDimensional.solve(x, y, { a, b, p })
          const C = Matrix.zeros(n, m)
          for (let i = 0; i < n; i++)
            for (let j = 0; j < m; j++) C.data[i * m + j] = Math.abs(x[i]! - y[j]!) ** p
          const emd = Emd.solve(LinearProblem.make(Geometry.fromCostMatrix(C), { a, b }))
          assertClose(r.cost, emd.cost, { rtol: EMD_RTOL, atol: EMD_ATOL, label: "1-D closed form vs EMD" })
          const { rows, cols } = SparsePlan.marginals(r.transport)
          assertClose(rows, a, { rtol: 0, atol: 1e-14, label: "P·1 = a" })
          assertClose(cols, b, { rtol: 0, atol: 1e-14, label: "Pᵀ·1 = b" })
          let scale = 0
          for (const c of C.data) scale = Math.max(scale, c)
          const tol = dualTolerance(scale)
          for (let i = 0; i < n; i++)
            for (let j = 0; j < m; j++)
              expect(r.f[i]! + r.g[j]! - C.data[i * m + j]!).toBeLessThanOrEqual(tol)
          for (let k = 0; k < r.transport.mass.length; k++) {
            const i = r.transport.rows[k]!
            const j = r.transport.cols[k]!
            expect(Math.abs(r.f[i]! + r.g[j]! - C.data[i * m + j]!)).toBeLessThanOrEqual(tol)
          }
        }
      ),
      { seed: PROPERTY_SEED, numRuns: 200 }
    )
  })

  it("uniform weights: W_p^p is the mean of |x_(k) − y_(k)|^p over sorted points", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }).chain((n) => fc.tuple(weighted(n), weighted(n))),
        ([x, y]) => {
          const r = OneDimensional.solve(x, y, { p: 2 })
          const xs = [...x].sort((p, q) => p - q)
          const ys = [...y].sort((p, q) => p - q)
          const expected = xs.reduce((s, v, k) => s + (v - ys[k]!) ** 2, 0) / x.length
          assertClose(r.cost, expected, { rtol: 1e-12, atol: 1e-15 })
        }
      ),
      { seed: PROPERTY_SEED, numRuns: 100 }
    )
  })
})

describe("OneDimensional bad inputs", () => {
  it("are typed errors", () => {
    expect(() => OneDimensional.solve([], [1])).toThrow(Errors.EmptyInput)
    expect(() => OneDimensional.solve([0, Number.NaN], [1])).toThrow(Errors.NonFiniteInput)
    expect(() => OneDimensional.solve([0, 1], [1], { a: [0.5, 0.6, 0] })).toThrow(Errors.DimensionMismatch)
    expect(() => OneDimensional.solve([0, 1], [1], { a: [1.5, -0.5] })).toThrow(NegativeMass)
    expect(() => OneDimensional.solve([0, 1], [1], { a: [0.5, 0.4] })).toThrow(UnbalancedMarginals)
    expect(() => OneDimensional.solve([0, 1], [1], { a: [0, 0], b: [0] })).toThrow(Errors.InvalidOptions)
    for (const p of [0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      try {
        OneDimensional.solve([0], [1], { p })
        expect.unreachable()
      } catch (e) {
        expect(e).toBeInstanceOf(Errors.InvalidOptions)
        expect((e as Errors.InvalidOptions).field).toBe("p")
      }
    }
  })

  it("a single point on each side", () => {
    const r = OneDimensional.solve([1], [4], { p: 3 })
    expect(r.cost).toBe(27)
    expect(r.distance).toBeCloseTo(3, 14)
    expect(r.f[0]! + r.g[0]!).toBe(27)
    expect(Matrix.toRows(r.plan())).toEqual([[1]])
  })
})
