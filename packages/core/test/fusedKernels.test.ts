/**
 * The fused kernels for optimization loops: the logistic loss with its
 * gradient (`Logistic.logisticLoss`), the one-pass Adam step
 * (`OptimizerKernels.adam`), the l1 subgradient and the barrier gradient with
 * it (`OptimizerKernels.hadamardL1Gradient`), and DAGMA's M-matrix
 * (`Elementwise.shiftedNegativeSquare`). Each is checked against a
 * straightforward computation, and the SIMD kernel against the TypeScript loop
 * bit for bit (WebAssembly-resident vs plain arrays).
 */
import { assertBitIdentical, assertClose } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Elementwise from "../src/Elementwise.ts"
import { DimensionMismatch } from "../src/Errors.ts"
import * as Logistic from "../src/Logistic.ts"
import * as Matrix from "../src/Matrix.ts"
import * as Memory from "../src/Memory.ts"
import * as OptimizerKernels from "../src/OptimizerKernels.ts"
import * as Vector from "../src/Vector.ts"

const wasmActive = Memory.backend() === "wasm-simd"
const FC = { seed: 20261122, numRuns: 80 } as const

/** core's exp/log1p are within 1 ulp of Math's and the sums run in a different order: a few ulps of the sum. */
const LOSS_RTOL = 1e-14
/** σ(z) − y from exp within 1 ulp: the residual agrees to a few ulps (absolute near σ = y). */
const RESIDUAL = { rtol: 1e-14, atol: 1e-16 }

const referenceLoss = (z: ArrayLike<number>, y: ArrayLike<number>, scale: number) => {
  let s = 0
  const r: number[] = []
  for (let i = 0; i < z.length; i++) {
    const zi = z[i]!
    const yi = y[i]!
    s += Math.max(zi, 0) + Math.log1p(Math.exp(-Math.abs(zi))) - yi * zi
    r.push((1 / (1 + Math.exp(-zi)) - yi) * scale)
  }
  return { s, r }
}

const size = fc.oneof(fc.constantFrom(0, 1, 2, 3, 7, 8, 9, 33), fc.integer({ min: 0, max: 200 }))
const logits = (n: number) =>
  fc.array(
    fc.oneof(
      fc.double({ min: -40, max: 40, noNaN: true }),
      fc.constantFrom(0, -0, 1e-20, -1e-20, 0.881373587019543, -0.881373587019543, 745, -745, 800, -800)
    ),
    { minLength: n, maxLength: n }
  )
const labels = (n: number) => fc.array(fc.constantFrom(0, 1, 0.25), { minLength: n, maxLength: n })

describe("Logistic.logisticLoss", () => {
  it("matches softplus(z) − y·z and σ(z) − y computed with Math functions", () => {
    fc.assert(
      fc.property(
        size.chain((n) => fc.tuple(logits(n), labels(n))),
        ([zs, ys]) => {
          const z = Vector.fromArray(zs)
          const y = Vector.fromArray(ys)
          const r = Vector.zeros(zs.length)
          const s = Logistic.logisticLoss(z, y, r, 0.5)
          const ref = referenceLoss(zs, ys, 0.5)
          expect(Math.abs(s - ref.s)).toBeLessThanOrEqual(LOSS_RTOL * Math.max(1, Math.abs(ref.s)))
          assertClose(r, ref.r, { ...RESIDUAL, label: "residual" })
        }
      ),
      FC
    )
  })

  it.runIf(wasmActive)("gives the same bits on the SIMD and TypeScript paths", () => {
    fc.assert(
      fc.property(
        size.chain((n) => fc.tuple(logits(n), labels(n))),
        ([zs, ys]) => {
          const rw = Vector.zeros(zs.length)
          const rh = new Float64Array(zs.length)
          const sw = Logistic.logisticLoss(Vector.fromArray(zs), Vector.fromArray(ys), rw, 1 / 3)
          const sh = Logistic.logisticLoss(Float64Array.from(zs), Float64Array.from(ys), rh, 1 / 3)
          expect(Memory.isWasmResident(rh)).toBe(false)
          expect(Object.is(sw, sh)).toBe(true)
          assertBitIdentical(rw, rh, "residual")
        }
      ),
      FC
    )
  })

  it("allows the residual to overwrite the logits, and rejects mismatched lengths", () => {
    const z = Vector.fromArray([-2, 0.5, 3])
    const y = Vector.fromArray([0, 1, 1])
    const r = Vector.zeros(3)
    const s = Logistic.logisticLoss(z, y, r)
    const s2 = Logistic.logisticLoss(z, y, z)
    expect(s2).toBe(s)
    assertBitIdentical(z, r, "aliased residual")
    expect(() => Logistic.logisticLoss(z, Vector.zeros(2), r)).toThrow(DimensionMismatch)
    expect(() => Logistic.logisticLoss(z, y, Vector.zeros(4))).toThrow(DimensionMismatch)
  })
})

describe("OptimizerKernels.adam", () => {
  const coefficients = (t: number, nesterov: boolean, scale: number): OptimizerKernels.AdamCoefficients => ({
    b1: 0.9,
    b2: 0.999,
    r1: 1 / (1 - 0.9 ** t),
    r1Next: 1 / (1 - 0.9 ** (t + 1)),
    r2: 1 / (1 - 0.999 ** t),
    epsRoot: 1e-12,
    eps: 1e-8,
    scale,
    nesterov
  })
  const vectors = (n: number) =>
    fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: n, maxLength: n })

  it("equals the separate passes (moments, then scale, then add) bit for bit", () => {
    fc.assert(
      fc.property(
        size.chain((n) => fc.tuple(vectors(n), vectors(n), fc.boolean(), fc.integer({ min: 1, max: 50 }))),
        ([gs, ps, nesterov, t]) => {
          const n = gs.length
          const k = coefficients(t, nesterov, -0.01)
          // Separate passes in Optax's order, plain arrays.
          const m = new Float64Array(n).fill(0.1)
          const v = new Float64Array(n).fill(0.2)
          const p = Float64Array.from(ps)
          for (let i = 0; i < n; i++) {
            const g = gs[i]!
            m[i] = (1 - k.b1) * g + k.b1 * m[i]!
            v[i] = (1 - k.b2) * (g * g) + k.b2 * v[i]!
            const num = nesterov ? k.b1 * (m[i]! * k.r1Next) + (1 - k.b1) * (g * k.r1) : m[i]! * k.r1
            const u = num / (Math.sqrt(v[i]! * k.r2 + k.epsRoot) + k.eps)
            p[i] = p[i]! + k.scale * u
          }
          for (const resident of [true, false]) {
            const make = (xs: ArrayLike<number>) => (resident ? Vector.fromArray(xs) : Float64Array.from(xs))
            const mf = make(new Array(n).fill(0.1))
            const vf = make(new Array(n).fill(0.2))
            const pf = make(ps)
            OptimizerKernels.adam(make(gs), mf, vf, pf, k, true)
            assertBitIdentical(pf, p, `fused parameters (resident ${resident})`)
            assertBitIdentical(mf, m, "first moment")
            assertBitIdentical(vf, v, "second moment")
            // Non-accumulating: the update itself, written over the gradient.
            const g2 = make(gs)
            OptimizerKernels.adam(
              g2,
              make(new Array(n).fill(0.1)),
              make(new Array(n).fill(0.2)),
              g2,
              k,
              false
            )
            for (let i = 0; i < n; i++) expect(Object.is(ps[i]! + g2[i]!, p[i]!)).toBe(true)
          }
        }
      ),
      FC
    )
  })

  it("rejects buffers of different lengths", () => {
    const k = coefficients(1, false, 1)
    expect(() =>
      OptimizerKernels.adam(Vector.zeros(3), Vector.zeros(2), Vector.zeros(3), Vector.zeros(3), k, false)
    ).toThrow(DimensionMismatch)
  })
})

describe("OptimizerKernels.addL1Subgradient", () => {
  const entries = (n: number) =>
    fc.array(
      fc.oneof(
        fc.double({ min: -10, max: 10, noNaN: true }),
        fc.constantFrom(
          0,
          -0,
          Number.NaN,
          5e-324,
          -5e-324,
          Number.POSITIVE_INFINITY,
          Number.NEGATIVE_INFINITY
        )
      ),
      { minLength: n, maxLength: n }
    )

  it("adds λ·sign(x), sign 0 at ±0 and NaN, the same bits on both backends", () => {
    fc.assert(
      fc.property(
        size.chain((n) => fc.tuple(entries(n), entries(n), fc.constantFrom(0.02, 0, -0, 3))),
        ([xs, gs, lambda]) => {
          const expected = gs.map((g, i) => {
            const x = xs[i]!
            return g + (x > 0 ? lambda : x < 0 ? -lambda : 0)
          })
          for (const resident of [true, false]) {
            const make = (v: ArrayLike<number>) => (resident ? Vector.fromArray(v) : Float64Array.from(v))
            const g = make(gs)
            OptimizerKernels.addL1Subgradient(lambda, make(xs), g)
            assertBitIdentical(g, Float64Array.from(expected), `g (resident ${resident})`)
          }
        }
      ),
      FC
    )
  })

  it("rejects buffers of different lengths", () => {
    expect(() => OptimizerKernels.addL1Subgradient(1, Vector.zeros(3), Vector.zeros(2))).toThrow(
      DimensionMismatch
    )
  })
})

describe("OptimizerKernels.hadamardL1Gradient", () => {
  const entries = (n: number) =>
    fc.array(
      fc.oneof(
        fc.double({ min: -10, max: 10, noNaN: true }),
        fc.constantFrom(0, -0, Number.NaN, 5e-324, -5e-324, Number.POSITIVE_INFINITY)
      ),
      { minLength: n, maxLength: n }
    )

  it("g = (base + (α·x)·y) + λ·sign(x) and the sign test of y, the same bits on both backends", () => {
    fc.assert(
      fc.property(
        size.chain((n) =>
          fc.tuple(entries(n), entries(n), entries(n), fc.constantFrom(0.02, 0, 3), fc.boolean())
        ),
        ([bs, xs, ys, lambda, inPlace]) => {
          const expected = bs.map((b, i) => {
            const x = xs[i]!
            return b + 2 * x * ys[i]! + (x > 0 ? lambda : x < 0 ? -lambda : 0)
          })
          const nonnegative = ys.every((y) => y >= 0)
          for (const resident of [true, false]) {
            const make = (v: ArrayLike<number>) => (resident ? Vector.fromArray(v) : Float64Array.from(v))
            const base = make(bs)
            const g = inPlace ? base : make(bs.map(() => Number.NaN))
            expect(OptimizerKernels.hadamardL1Gradient(base, 2, make(xs), make(ys), lambda, g)).toBe(
              nonnegative
            )
            assertBitIdentical(
              g,
              Float64Array.from(expected),
              `g (resident ${resident}, in place ${inPlace})`
            )
          }
        }
      ),
      FC
    )
  })

  it("rejects buffers of different lengths", () => {
    const z = (n: number) => Vector.zeros(n)
    expect(() => OptimizerKernels.hadamardL1Gradient(z(3), 2, z(3), z(2), 1, z(3))).toThrow(DimensionMismatch)
    expect(() => OptimizerKernels.hadamardL1Gradient(z(2), 2, z(3), z(3), 1, z(3))).toThrow(DimensionMismatch)
    expect(() => OptimizerKernels.hadamardL1Gradient(z(3), 2, z(3), z(3), 1, z(4))).toThrow(DimensionMismatch)
  })
})

describe("Elementwise.shiftedNegativeSquare", () => {
  const order = fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 5, 50), fc.integer({ min: 0, max: 23 }))

  it("writes sI − A∘A or its transpose, the same bits on both backends", () => {
    fc.assert(
      fc.property(
        order.chain((n) =>
          fc.tuple(
            fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: n * n, maxLength: n * n }),
            fc.double({ min: 0.5, max: 2, noNaN: true }),
            fc.boolean()
          )
        ),
        ([as, s, transposed]) => {
          const n = Math.round(Math.sqrt(as.length))
          const expected = new Float64Array(n * n)
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < n; j++) {
              const a = transposed ? as[j * n + i]! : as[i * n + j]!
              expected[i * n + j] = i === j ? s - a * a : -(a * a)
            }
          }
          for (const resident of [true, false]) {
            const make = (v: ArrayLike<number>) => (resident ? Vector.fromArray(v) : Float64Array.from(v))
            const out = Matrix.fromData(n, n, make(as.map(() => Number.NaN)))
            Elementwise.shiftedNegativeSquare(Matrix.fromData(n, n, make(as)), s, transposed, out)
            assertBitIdentical(out.data, expected, `out (resident ${resident}, transposed ${transposed})`)
          }
        }
      ),
      FC
    )
  })

  it("rejects a non-square A and an output of another shape", () => {
    expect(() => Elementwise.shiftedNegativeSquare(Matrix.zeros(2, 3), 1, false, Matrix.zeros(2, 2))).toThrow(
      DimensionMismatch
    )
    expect(() => Elementwise.shiftedNegativeSquare(Matrix.zeros(2, 2), 1, true, Matrix.zeros(3, 3))).toThrow(
      DimensionMismatch
    )
  })
})
