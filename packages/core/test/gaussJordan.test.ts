/**
 * `GaussJordan.invertPositivePivots`: the inverse (A·X = I), the pivots
 * (their product is det A), the report of the first non-positive pivot, the
 * blocked kernel equal bit for bit to one-pivot-at-a-time elimination, and
 * the SIMD kernel equal to the TypeScript loop.
 */
import { assertBitIdentical, assertClose } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { DimensionMismatch } from "../src/Errors.ts"
import * as GaussJordan from "../src/GaussJordan.ts"
import * as Matrix from "../src/Matrix.ts"
import * as Memory from "../src/Memory.ts"
import * as Vector from "../src/Vector.ts"

const wasmActive = Memory.backend() === "wasm-simd"
const FC = { seed: 20261122, numRuns: 60 } as const

/**
 * A·X − I for the test matrices below (diagonally dominant, condition number
 * below ~10): elimination without pivoting is backward stable on them, so
 * the residual is a small multiple of n·ε.
 */
const RESIDUAL_ATOL = 1e-12
/** log det from the pivots vs from a 2 × 2 closed form: a few ulps. */
const LOGDET_TOL = 1e-14

/**
 * Strictly diagonally dominant Z-matrices sI − W∘W (DAGMA's M-matrices) or
 * dense matrices with a dominant positive diagonal: all pivots positive.
 */
const positivePivotMatrix = (n: number) =>
  fc
    .tuple(
      fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: n * n, maxLength: n * n }),
      fc.boolean()
    )
    .map(([entries, zMatrix]) => {
      const a = entries.map((w) => (zMatrix ? -(w * w) : w) / Math.max(1, n))
      for (let i = 0; i < n; i++) a[i * n + i] = 1.5 + Math.abs(entries[i * n + i]!)
      return a
    })

const size = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 33, 50),
  fc.integer({ min: 0, max: 40 })
)

/** One pivot at a time, the textbook loop: the order the blocked kernel must reproduce. */
const unblocked = (n: number, a: Float64Array, pivots: Float64Array): number => {
  for (let k = 0; k < n; k++) {
    const pivot = a[k * n + k]!
    if (!(pivot > 0)) return k
    pivots[k] = pivot
    a[k * n + k] = 1
    const inv = 1 / pivot
    for (let j = 0; j < n; j++) a[k * n + j] = a[k * n + j]! * inv
    for (let i = 0; i < n; i++) {
      if (i === k) continue
      const f = a[i * n + k]!
      a[i * n + k] = 0
      for (let j = 0; j < n; j++) a[i * n + j] = a[i * n + j]! - f * a[k * n + j]!
    }
  }
  return n
}

describe("GaussJordan.invertPositivePivots", () => {
  it("inverts: A·X = I, and the pivots multiply to det A", () => {
    fc.assert(
      fc.property(size.chain(positivePivotMatrix), (entries) => {
        const n = Math.round(Math.sqrt(entries.length))
        const A = Matrix.fromData(n, n, Vector.fromArray(entries))
        const X = Matrix.clone(A)
        const pivots = Vector.zeros(n)
        expect(GaussJordan.invertPositivePivots(X, pivots)).toBe(n)
        const product = new Float64Array(n * n)
        const identity = new Float64Array(n * n)
        for (let i = 0; i < n; i++) {
          identity[i * n + i] = 1
          for (let j = 0; j < n; j++) {
            let s = 0
            for (let k = 0; k < n; k++) s += A.data[i * n + k]! * X.data[k * n + j]!
            product[i * n + j] = s
          }
        }
        assertClose(product, identity, { atol: RESIDUAL_ATOL, rtol: 0, label: "A·X" })
      }),
      FC
    )
    const A = Matrix.fromRows([
      [2, -0.5],
      [-0.25, 3]
    ])
    const pivots = Vector.zeros(2)
    GaussJordan.invertPositivePivots(A, pivots)
    const logDet = Math.log(pivots[0]!) + Math.log(pivots[1]!)
    expect(Math.abs(logDet - Math.log(2 * 3 - 0.125))).toBeLessThanOrEqual(LOGDET_TOL)
  })

  it("equals one-pivot-at-a-time elimination bit for bit, on both backends", () => {
    fc.assert(
      fc.property(size.chain(positivePivotMatrix), (entries) => {
        const n = Math.round(Math.sqrt(entries.length))
        const expected = Float64Array.from(entries)
        const expectedPivots = new Float64Array(n)
        expect(unblocked(n, expected, expectedPivots)).toBe(n)
        for (const resident of [true, false]) {
          const data = resident ? Vector.fromArray(entries) : Float64Array.from(entries)
          const pivots = resident ? Vector.zeros(n) : new Float64Array(n)
          expect(Memory.isWasmResident(data)).toBe(resident && wasmActive)
          expect(GaussJordan.invertPositivePivots(Matrix.fromData(n, n, data), pivots)).toBe(n)
          assertBitIdentical(data, expected, `inverse (resident ${resident})`)
          assertBitIdentical(pivots, expectedPivots, `pivots (resident ${resident})`)
        }
      }),
      FC
    )
  })

  it("reports the first pivot that is not positive (a cycle: I − W∘W singular or indefinite)", () => {
    for (const resident of [true, false]) {
      const make = (rows: number[][]) => {
        const M = Matrix.fromRows(rows)
        return resident ? M : Matrix.fromData(M.rows, M.cols, Float64Array.from(M.data))
      }
      const pivots = (n: number) => (resident ? Vector.zeros(n) : new Float64Array(n))
      // Leading minors 1, 1 − 1.44 < 0: the second pivot.
      expect(
        GaussJordan.invertPositivePivots(
          make([
            [1, -1.2],
            [-1.2, 1]
          ]),
          pivots(2)
        )
      ).toBe(1)
      expect(GaussJordan.invertPositivePivots(make([[0]]), pivots(1))).toBe(0)
      expect(GaussJordan.invertPositivePivots(make([[Number.NaN]]), pivots(1))).toBe(0)
      // A 6-cycle with weights 1: the 6th pivot is 0 (det = 1 − 1 = 0), inside a block of four and after it.
      const n = 6
      const rows = Array.from({ length: n }, (_, i) =>
        Array.from({ length: n }, (_, j) => (i === j ? 1 : j === (i + 1) % n ? -1 : 0))
      )
      const k = GaussJordan.invertPositivePivots(make(rows), pivots(n))
      expect(k).toBe(n - 1)
    }
  })

  it("rejects a non-square matrix and a pivot buffer of the wrong length", () => {
    expect(() => GaussJordan.invertPositivePivots(Matrix.zeros(2, 3), Vector.zeros(2))).toThrow(
      DimensionMismatch
    )
    expect(() => GaussJordan.invertPositivePivots(Matrix.zeros(2, 2), Vector.zeros(3))).toThrow(
      DimensionMismatch
    )
  })
})
