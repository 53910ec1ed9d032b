import { Errors, Matrix, Random } from "@descent/core"
import { assertClose } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as OneDimensional from "../src/OneDimensional.ts"
import * as SlicedWasserstein from "../src/SlicedWasserstein.ts"
import { fixture, matrix } from "./otMoreFixture.ts"

const SEED = 20260709

/**
 * Same projections, same sorting and the same merge of cumulative weights
 * (both accumulate the weights in sorted order): the values differ only by
 * the order of a few floating-point sums (≤ 1e-15 relative); the issue asks
 * for 1e-12.
 */
const SAME_PROJECTIONS = { rtol: 1e-12, atol: 1e-15 }

describe("SlicedWasserstein against POT (sliced_wasserstein_distance with the same projections)", () => {
  for (const c of fixture.sliced) {
    for (const [p, expected] of Object.entries(c.values)) {
      it(`${c.name}, p = ${p}`, () => {
        const r = SlicedWasserstein.distanceAlong(matrix(c.x), matrix(c.y), matrix(c.projections), {
          a: c.a,
          b: c.b,
          p: Number(p)
        })
        assertClose(r.projected, expected.projected, { ...SAME_PROJECTIONS, label: "per direction" })
        assertClose(r.distance, expected.distance, { ...SAME_PROJECTIONS, label: "distance" })
      })
    }
  }
})

describe("SlicedWasserstein properties", () => {
  it("random directions are unit vectors, reproducible from the key, different for another key", () => {
    const t1 = SlicedWasserstein.randomDirections(Random.key(7), 4, 30)
    const t2 = SlicedWasserstein.randomDirections(Random.key(7), 4, 30)
    const t3 = SlicedWasserstein.randomDirections(Random.key(8), 4, 30)
    expect(Array.from(t1.data)).toEqual(Array.from(t2.data))
    expect(Array.from(t1.data)).not.toEqual(Array.from(t3.data))
    for (let l = 0; l < 30; l++) {
      let s = 0
      for (let k = 0; k < 4; k++) s += t1.data[k * 30 + l]! ** 2
      assertClose(s, 1, { rtol: 1e-15 })
    }
  })

  it("for a translation y = x + τ, W_2² along θ is (θ·τ)² exactly, and SW_2² → ‖τ‖²/d", () => {
    const x = Random.normal(Random.key(1), 40 * 3)
    const tau = [0.5, -1, 2]
    const y = Matrix.zeros(40, 3)
    for (let i = 0; i < 40; i++) for (let k = 0; k < 3; k++) y.data[i * 3 + k] = x[i * 3 + k]! + tau[k]!
    const X = Matrix.fromData(40, 3, x)
    const r = SlicedWasserstein.distance(X, y, { directions: 4000, key: Random.key(3) })
    for (let l = 0; l < 4000; l += 97) {
      let dot = 0
      for (let k = 0; k < 3; k++) dot += r.projections.data[k * 4000 + l]! * tau[k]!
      assertClose(r.projected[l]!, dot * dot, { rtol: 1e-12, atol: 1e-13 })
    }
    // E(θ·τ)² = ‖τ‖²/d = 5.25/3; Monte Carlo with L = 4000: standard error ≈ 0.04 (4 s.e. bound).
    expect(Math.abs(r.cost - 5.25 / 3)).toBeLessThan(0.16)
  })

  it("each direction's value is OneDimensional's W_p^p of the projected points", () => {
    const point = fc.double({ min: -3, max: 3, noNaN: true })
    fc.assert(
      fc.property(
        fc.array(point, { minLength: 2, maxLength: 16 }),
        fc.array(point, { minLength: 2, maxLength: 16 }),
        fc.constantFrom(1, 1.5, 2, 3),
        (xs, ys, p) => {
          const n = xs.length >> 1
          const m = ys.length >> 1
          const X = Matrix.fromData(n, 2, Float64Array.from(xs.slice(0, 2 * n)))
          const Y = Matrix.fromData(m, 2, Float64Array.from(ys.slice(0, 2 * m)))
          const r = SlicedWasserstein.distance(X, Y, { directions: 3, p, key: Random.key(5) })
          for (let l = 0; l < 3; l++) {
            const proj = (A: Matrix.Matrix) =>
              Array.from(
                { length: A.rows },
                (_, i) =>
                  A.data[2 * i]! * r.projections.data[l]! + A.data[2 * i + 1]! * r.projections.data[3 + l]!
              )
            const exact = OneDimensional.solve(proj(X), proj(Y), { p })
            assertClose(r.projected[l]!, exact.cost, { rtol: 1e-10, atol: 1e-12 })
          }
        }
      ),
      { seed: SEED, numRuns: 60 }
    )
  })

  it("SW of a measure with itself is 0; bad inputs are typed errors", () => {
    const x = Matrix.fromRows([
      [0, 1],
      [2, 3]
    ])
    expect(SlicedWasserstein.distance(x, x).distance).toBe(0)
    expect(() => SlicedWasserstein.distance(x, x, { p: 0.5 })).toThrow(Errors.InvalidOptions)
    expect(() => SlicedWasserstein.distance(x, x, { directions: 0 })).toThrow(Errors.InvalidOptions)
    expect(() => SlicedWasserstein.distance(x, Matrix.zeros(2, 3))).toThrow(Errors.DimensionMismatch)
    expect(() => SlicedWasserstein.distance(x, x, { a: [0.5, 0.6] })).toThrow(/masses differ/)
    expect(() => SlicedWasserstein.distance(x, Matrix.fromRows([[Number.NaN, 0]]))).toThrow(
      Errors.NonFiniteInput
    )
    expect(() => SlicedWasserstein.distanceAlong(x, x, Matrix.zeros(3, 2))).toThrow(Errors.DimensionMismatch)
  })
})
