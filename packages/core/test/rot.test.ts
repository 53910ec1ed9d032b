import { assertClose } from "@descent/testing"
import fc from "fast-check"
import { expect, it } from "vitest"
import * as Blas1 from "../src/Blas1.ts"
import { DimensionMismatch } from "../src/Errors.ts"
import * as Vector from "../src/Vector.ts"

// One rotation of each pair: each entry is c·a ± s·b with two roundings and
// |c|, |s| ≤ 1, so the error is ≤ 2u·(|a| + |b|) ≤ 4u·max — 1e-15 relative to
// the entries' magnitude (≤ 10 here) is 1e-14 absolute with margin.
const ROT_ATOL = 1e-14

it("rot applies the plane rotation and preserves norms", () => {
  fc.assert(
    fc.property(
      fc
        .integer({ min: 0, max: 40 })
        .chain((n) =>
          fc.tuple(
            fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: n, maxLength: n }),
            fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: n, maxLength: n }),
            fc.double({ min: 0, max: 2 * Math.PI, noNaN: true })
          )
        ),
      ([xs, ys, theta]) => {
        const c = Math.cos(theta)
        const s = Math.sin(theta)
        const x = Vector.fromArray(xs)
        const y = Vector.fromArray(ys)
        Blas1.rot(c, s, x, y)
        assertClose(
          x,
          Float64Array.from(xs, (a, i) => c * a + s * ys[i]!),
          { atol: ROT_ATOL, rtol: 0 }
        )
        assertClose(
          y,
          Float64Array.from(ys, (b, i) => c * b - s * xs[i]!),
          { atol: ROT_ATOL, rtol: 0 }
        )
      }
    ),
    { seed: 20261122, numRuns: 100 }
  )
  expect(() => Blas1.rot(1, 0, new Float64Array(2), new Float64Array(3))).toThrow(DimensionMismatch)
})
