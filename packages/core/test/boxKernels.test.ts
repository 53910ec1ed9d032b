/**
 * The kernels of bound-constrained methods (`BoxKernels`), the one-sweep Gram
 * columns of a stored pair (`Blas2.storeColumnsGemvT`) and the SIMD path of
 * `Elementwise.sub`. Each is checked against the scalar loop it replaces in
 * L-BFGS-B (if/else clamps, `Math.min` step bounds, a running NaN-sticky
 * maximum) or against the kernels it fuses (`gemvT` on row blocks), and the
 * SIMD kernel against the TypeScript loop bit for bit (WebAssembly-resident
 * vs plain arrays). No tolerances: every comparison is exact.
 */
import { assertBitIdentical } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Blas2 from "../src/Blas2.ts"
import * as BoxKernels from "../src/BoxKernels.ts"
import * as Elementwise from "../src/Elementwise.ts"
import { DimensionMismatch } from "../src/Errors.ts"
import * as Matrix from "../src/Matrix.ts"
import * as Memory from "../src/Memory.ts"
import * as Vector from "../src/Vector.ts"

const wasmActive = Memory.backend() === "wasm-simd"
const FC = { seed: 20261122, numRuns: 80 } as const
const size = fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 5, 7, 8, 9, 33), fc.integer({ min: 0, max: 200 }))

/** Both array kinds: WebAssembly-resident (SIMD path when active) and plain (TypeScript path). */
const kinds = [true, false] as const
const make = (resident: boolean, v: ArrayLike<number>): Float64Array =>
  resident ? Vector.fromArray(v) : Float64Array.from(v)

const finite = fc.double({ min: -10, max: 10, noNaN: true })
const special = fc.constantFrom(0, -0, 5e-324, -5e-324, 1e300, -1e300)
const entry = fc.oneof({ arbitrary: finite, weight: 6 }, { arbitrary: special, weight: 1 })
/** Entries that may also be NaN or ±∞ (gradients, directions). */
const wild = fc.oneof(
  { arbitrary: finite, weight: 6 },
  { arbitrary: special, weight: 1 },
  { arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY), weight: 1 }
)
const vector = (n: number, e = entry) => fc.array(e, { minLength: n, maxLength: n })

/** A box: lower ≤ upper, sides finite or infinite, some equal (fixed variables). */
const box = (n: number) =>
  fc
    .array(
      fc.tuple(
        fc.oneof(finite, fc.constant(Number.NEGATIVE_INFINITY), fc.constant(0)),
        fc.oneof(finite, fc.constant(Number.POSITIVE_INFINITY), fc.constant(0)),
        fc.constantFrom("ordered", "equal")
      ),
      { minLength: n, maxLength: n }
    )
    .map((sides) => {
      const lower = sides.map(([a, b, kind]) => (kind === "equal" && Number.isFinite(a) ? a : Math.min(a, b)))
      const upper = sides.map(([a, b, kind]) => (kind === "equal" && Number.isFinite(a) ? a : Math.max(a, b)))
      return { lower, upper }
    })

/** The clamp as L-BFGS-B wrote it. */
const clampScalar = (v: number, lo: number, hi: number): number => {
  if (v < lo) return lo
  if (v > hi) return hi
  return v
}

describe("BoxKernels.projectedAxpy", () => {
  it("is clamp(x + α·d) as the scalar if/else, NaN kept, the same bits on both backends", () => {
    fc.assert(
      fc.property(
        size.chain((n) => fc.tuple(vector(n), vector(n, wild), box(n), fc.oneof(finite, special))),
        ([xs, ds, { lower, upper }, alpha]) => {
          const expected = xs.map((x, i) => clampScalar(x + alpha * ds[i]!, lower[i]!, upper[i]!))
          for (const resident of kinds) {
            const out = make(resident, new Array(xs.length).fill(7))
            BoxKernels.projectedAxpy(
              make(resident, xs),
              alpha,
              make(resident, ds),
              make(resident, lower),
              make(resident, upper),
              out
            )
            assertBitIdentical(out, expected, `projectedAxpy (resident ${resident})`)
          }
        }
      ),
      FC
    )
  })

  it("allows out = x, and rejects mismatched lengths", () => {
    const x = Vector.fromArray([0.5, 2, -3])
    BoxKernels.projectedAxpy(x, 2, Vector.fromArray([1, 1, 1]), Vector.zeros(3), Vector.full(3, 3), x)
    assertBitIdentical(x, [2.5, 3, 0], "in place")
    expect(() =>
      BoxKernels.projectedAxpy(x, 1, Vector.zeros(2), Vector.zeros(3), Vector.zeros(3), Vector.zeros(3))
    ).toThrow(DimensionMismatch)
  })
})

describe("BoxKernels.projectedGradientNorm", () => {
  it("is the running maximum of |clamp(x − g) − x| (NaN sticky), the same on both backends", () => {
    fc.assert(
      fc.property(
        size.chain((n) => fc.tuple(vector(n), vector(n, wild), box(n))),
        ([xs, gs, { lower, upper }]) => {
          let expected = 0
          for (let i = 0; i < xs.length; i++) {
            const a = Math.abs(clampScalar(xs[i]! - gs[i]!, lower[i]!, upper[i]!) - xs[i]!)
            if (a > expected || a !== a) expected = a
          }
          for (const resident of kinds) {
            const norm = BoxKernels.projectedGradientNorm(
              make(resident, xs),
              make(resident, gs),
              make(resident, lower),
              make(resident, upper)
            )
            expect(Object.is(norm, expected), `resident ${resident}: ${norm} vs ${expected}`).toBe(true)
          }
        }
      ),
      FC
    )
  })

  it("rejects mismatched lengths", () => {
    expect(() =>
      BoxKernels.projectedGradientNorm(Vector.zeros(3), Vector.zeros(3), Vector.zeros(2), Vector.zeros(3))
    ).toThrow(DimensionMismatch)
  })
})

describe("BoxKernels.cauchyBreakpoints", () => {
  it("gives d, the keys, the slope summed in index order and the first breakpoint, on both backends", () => {
    fc.assert(
      fc.property(
        size.chain((n) => fc.tuple(vector(n), vector(n, wild), box(n))),
        ([xs, gs, { lower, upper }]) => {
          const n = xs.length
          // The first pass of the Cauchy step as L-BFGS-B wrote it.
          const d = new Float64Array(n)
          const key = new Float64Array(n).fill(Number.POSITIVE_INFINITY)
          let slope = 0
          let first = Number.POSITIVE_INFINITY
          for (let i = 0; i < n; i++) {
            const gi = gs[i]!
            const ti = (xs[i]! - (gi < 0 ? upper[i]! : lower[i]!)) / gi
            if (ti > 0) {
              d[i] = -gi
              slope -= gi * gi
              key[i] = ti
              first = Math.min(first, ti)
            } else d[i] = 0
          }
          for (const resident of kinds) {
            const dOut = make(resident, new Array(n).fill(9))
            const keyOut = make(resident, new Array(n).fill(9))
            const summary = make(resident, [9, 9])
            BoxKernels.cauchyBreakpoints(
              make(resident, xs),
              make(resident, gs),
              make(resident, lower),
              make(resident, upper),
              dOut,
              keyOut,
              summary
            )
            assertBitIdentical(dOut, d, `d (resident ${resident})`)
            assertBitIdentical(keyOut, key, `keys (resident ${resident})`)
            assertBitIdentical(summary, [slope, first], `slope and first breakpoint (resident ${resident})`)
          }
        }
      ),
      FC
    )
  })

  it("rejects mismatched lengths and a short summary", () => {
    const z = () => Vector.zeros(3)
    expect(() =>
      BoxKernels.cauchyBreakpoints(z(), z(), z(), z(), z(), Vector.zeros(2), Vector.zeros(2))
    ).toThrow(DimensionMismatch)
    expect(() => BoxKernels.cauchyBreakpoints(z(), z(), z(), z(), z(), z(), Vector.zeros(1))).toThrow(
      DimensionMismatch
    )
  })
})

describe("BoxKernels.cauchyPointComplete", () => {
  it("moves the coordinates with d ≠ 0 to clamp(x + t·d), flags F and lists its changes, on both backends", () => {
    fc.assert(
      fc.property(
        size.chain((n) =>
          fc.tuple(
            vector(n),
            vector(n, fc.oneof(finite, fc.constant(0))),
            vector(n),
            fc.array(fc.constantFrom(0, 1), { minLength: n, maxLength: n }),
            box(n),
            fc.double({ min: 0, max: 5, noNaN: true })
          )
        ),
        ([xs, ds, xcs, before, { lower, upper }, t]) => {
          const n = xs.length
          const xc = Float64Array.from(xcs)
          const direction = new Float64Array(n)
          const free = new Float64Array(n)
          const changed: number[] = []
          for (let i = 0; i < n; i++) {
            if (ds[i]! !== 0) xc[i] = clampScalar(xs[i]! + t * ds[i]!, lower[i]!, upper[i]!)
            direction[i] = xc[i]! - xs[i]!
            free[i] = lower[i]! < xc[i]! && xc[i]! < upper[i]! ? 1 : 0
            if (free[i] !== before[i]) changed.push(i)
          }
          for (const resident of kinds) {
            const xcOut = make(resident, xcs)
            const directionOut = make(resident, new Array(n).fill(9))
            const freeOut = make(resident, before)
            const changedOut = make(resident, new Array(n).fill(-1))
            const count = BoxKernels.cauchyPointComplete(
              make(resident, xs),
              make(resident, ds),
              t,
              make(resident, lower),
              make(resident, upper),
              xcOut,
              directionOut,
              freeOut,
              changedOut
            )
            assertBitIdentical(xcOut, xc, `xc (resident ${resident})`)
            assertBitIdentical(directionOut, direction, `direction (resident ${resident})`)
            assertBitIdentical(freeOut, free, `free flags (resident ${resident})`)
            expect(count).toBe(changed.length)
            assertBitIdentical(changedOut.subarray(0, count), changed, `changes (resident ${resident})`)
          }
        }
      ),
      FC
    )
  })
})

describe("BoxKernels.maxFeasibleStep", () => {
  it("is min(cap, the per-coordinate step bounds) by Math.min, the same on both backends", () => {
    fc.assert(
      fc.property(
        size.chain((n) =>
          fc.tuple(vector(n), vector(n, fc.oneof(finite, fc.constant(0), fc.constant(-0))), box(n))
        ),
        fc.constantFrom(1e10, 1, 0),
        ([raw, ds, { lower, upper }], cap) => {
          // x inside the box, some coordinates on a bound.
          const xs = raw.map((v, i) => clampScalar(v, lower[i]!, upper[i]!))
          let expected: number = cap
          for (let i = 0; i < xs.length; i++) {
            const d = ds[i]!
            if (d > 0 && upper[i]! < Number.POSITIVE_INFINITY)
              expected = Math.min(expected, (upper[i]! - xs[i]!) / d)
            else if (d < 0 && lower[i]! > Number.NEGATIVE_INFINITY)
              expected = Math.min(expected, (lower[i]! - xs[i]!) / d)
          }
          for (const resident of kinds) {
            const step = BoxKernels.maxFeasibleStep(
              make(resident, xs),
              make(resident, ds),
              make(resident, lower),
              make(resident, upper),
              cap
            )
            expect(Object.is(step, expected), `resident ${resident}: ${step} vs ${expected}`).toBe(true)
          }
        }
      ),
      FC
    )
  })
})

describe("Blas2.storeColumnsGemvT", () => {
  it("stores the columns and equals gemvT on the two row blocks bit for bit, on both backends", () => {
    fc.assert(
      fc.property(
        fc
          .tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 2, max: 23 }))
          .chain(([m, n]) =>
            fc.tuple(
              vector(m * n),
              vector(m),
              vector(m),
              fc.integer({ min: 0, max: m }),
              fc.integer({ min: 0, max: n - 1 }),
              fc.integer({ min: 0, max: n - 1 }),
              fc.constant([m, n] as const)
            )
          ),
        ([as, us, vs, f, cu, cvRaw, [m, n]]) => {
          const cv = cvRaw === cu ? (cu + 1) % n : cvRaw
          // Reference: store the columns, then gemvT on plain arrays (the TypeScript loops).
          const data = Float64Array.from(as)
          for (let p = 0; p < m; p++) {
            data[p * n + cu] = us[p]!
            data[p * n + cv] = vs[p]!
          }
          const rows = (from: number, to: number) =>
            Matrix.fromData(to - from, n, data.slice(from * n, to * n))
          const a = new Float64Array(n)
          const b = new Float64Array(n)
          const c = new Float64Array(n)
          Blas2.gemvT(1, rows(0, f), Float64Array.from(us.slice(0, f)), 0, a)
          Blas2.gemvT(1, rows(0, f), Float64Array.from(vs.slice(0, f)), 0, b)
          Blas2.gemvT(1, rows(f, m), Float64Array.from(vs.slice(f)), 0, c)
          for (const resident of kinds) {
            const A = Matrix.fromData(m, n, make(resident, as))
            const outs = [0, 1, 2].map(() => make(resident, new Array(n).fill(9)))
            Blas2.storeColumnsGemvT(
              A,
              cu,
              cv,
              make(resident, us),
              make(resident, vs),
              f,
              outs[0]!,
              outs[1]!,
              outs[2]!
            )
            assertBitIdentical(A.data, data, `A (resident ${resident})`)
            assertBitIdentical(outs[0]!, a, `A[0:f]ᵀu (resident ${resident})`)
            assertBitIdentical(outs[1]!, b, `A[0:f]ᵀv (resident ${resident})`)
            assertBitIdentical(outs[2]!, c, `A[f:m]ᵀv (resident ${resident})`)
          }
        }
      ),
      FC
    )
  })

  it("rejects vectors that do not fit and columns or a split out of range", () => {
    const A = Matrix.zeros(3, 4)
    const z = (k: number) => Vector.zeros(k)
    expect(() => Blas2.storeColumnsGemvT(A, 0, 1, z(2), z(3), 1, z(4), z(4), z(4))).toThrow(DimensionMismatch)
    expect(() => Blas2.storeColumnsGemvT(A, 0, 1, z(3), z(3), 1, z(4), z(3), z(4))).toThrow(DimensionMismatch)
    expect(() => Blas2.storeColumnsGemvT(A, 4, 1, z(3), z(3), 1, z(4), z(4), z(4))).toThrow(DimensionMismatch)
    expect(() => Blas2.storeColumnsGemvT(A, 0, 1, z(3), z(3), 4, z(4), z(4), z(4))).toThrow(DimensionMismatch)
  })
})

describe("Elementwise.sub", () => {
  it.runIf(wasmActive)("gives the same bits on the SIMD and TypeScript paths, aliased or not", () => {
    fc.assert(
      fc.property(
        size.chain((n) => fc.tuple(vector(n, wild), vector(n, wild))),
        ([xs, ys]) => {
          const expected = xs.map((x, i) => x - ys[i]!)
          for (const resident of kinds) {
            const out = make(resident, new Array(xs.length).fill(9))
            Elementwise.sub(make(resident, xs), make(resident, ys), out)
            assertBitIdentical(out, expected, `x − y (resident ${resident})`)
            const x = make(resident, xs)
            Elementwise.sub(x, make(resident, ys), x)
            assertBitIdentical(x, expected, `x ← x − y (resident ${resident})`)
          }
        }
      ),
      FC
    )
  })
})
