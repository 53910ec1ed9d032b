/**
 * The engine-independent exp (TypeScript) and its WebAssembly SIMD twin, and
 * the fused affine log-sum-exp kernels built on them.
 */
import { assertClose } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Elementwise from "../src/Elementwise.ts"
import { DimensionMismatch, InvalidOptions } from "../src/Errors.ts"
import { exp } from "../src/internal/detmath.ts"
import { wasm } from "../src/internal/wasm/runtime.ts"
import * as Matrix from "../src/Matrix.ts"
import * as Random from "../src/Random.ts"
import * as Reductions from "../src/Reductions.ts"
import * as Vector from "../src/Vector.ts"

const SEED = 20261122
const bits = new BigInt64Array(1)
const asFloat = new Float64Array(bits.buffer)
const ulpDistance = (a: number, b: number): number => {
  asFloat[0] = a
  const ia = bits[0]!
  asFloat[0] = b
  return Math.abs(Number(ia - bits[0]!))
}

/** Points spread over the whole finite range of exp, plus the edges. */
const samplePoints = (): Float64Array => {
  const [k1, k2] = Random.split(Random.key(SEED), 2)
  const wide = Random.uniform(k1!, 50_000, { low: -745, high: 709.78 })
  const near = Random.uniform(k2!, 50_000, { low: -2, high: 2 })
  const edges = [
    0, -0, 1e-300, -1e-300, 5e-324, 709.78, 709.782712893384, 709.79, 710, 1e308, -708.39, -708.4, -720,
    -745.13, -745.14, -746, -1e308
  ]
  return Float64Array.from([...wide, ...near, ...edges])
}

describe("exp", () => {
  it("is within 2 ulp of Math.exp on the normal range (the required accuracy)", () => {
    let worst = 0
    for (const x of samplePoints()) {
      const e = Math.exp(x)
      if (e < 2.2250738585072014e-308 || e === Number.POSITIVE_INFINITY) continue
      worst = Math.max(worst, ulpDistance(exp(x), e))
    }
    expect(worst).toBeLessThanOrEqual(2)
  })

  it("rounds to the same 0 / subnormal / ∞ regions as Math.exp, and handles the special values", () => {
    for (const x of samplePoints()) {
      const e = Math.exp(x)
      if (e === 0 || e === Number.POSITIVE_INFINITY) expect(exp(x)).toBe(e)
      else if (e < 2.2250738585072014e-308) expect(Math.abs(exp(x) - e)).toBeLessThanOrEqual(2 * 5e-324)
    }
    expect(exp(Number.NaN)).toBeNaN()
    expect(exp(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY)
    expect(exp(Number.NEGATIVE_INFINITY)).toBe(0)
    expect(exp(0)).toBe(1)
  })

  it.runIf(wasm !== undefined)("the SIMD exp gives the same bits as the TypeScript exp", () => {
    const xs = Float64Array.from([
      ...samplePoints(),
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY
    ])
    const x = Vector.fromArray(xs)
    const out = Vector.zeros(xs.length)
    wasm!.kernels.expVector(xs.length, x.byteOffset, out.byteOffset)
    for (let i = 0; i < xs.length; i++) {
      if (!Object.is(out[i], exp(xs[i]!)))
        throw new Error(`exp(${xs[i]}): SIMD ${out[i]} vs TypeScript ${exp(xs[i]!)}`)
    }
  })

  it("Elementwise.exp gives the bits of exp on module-resident and plain arrays, in place too", () => {
    const xs = [...samplePoints(), Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0]
    const resident = Vector.fromArray(xs)
    const plain = Float64Array.from(xs)
    const out = Vector.zeros(xs.length)
    Elementwise.exp(resident, out)
    Elementwise.exp(plain, plain)
    Elementwise.exp(resident, resident)
    for (let i = 0; i < xs.length; i++) {
      const want = exp(xs[i]!)
      expect(Object.is(out[i], want) && Object.is(plain[i], want) && Object.is(resident[i], want)).toBe(true)
    }
    expect(() => Elementwise.exp(Vector.zeros(3), Vector.zeros(2))).toThrow(DimensionMismatch)
  })
})

/** log Σⱼ exp((fᵢ + gⱼ − Cᵢⱼ)/ε) in the obvious way, with Math.exp, shifted by the row max. */
const naiveRows = (C: Matrix.Matrix, f: Float64Array, g: Float64Array, eps: number): Float64Array => {
  const out = new Float64Array(C.rows)
  for (let i = 0; i < C.rows; i++) {
    let m = Number.NEGATIVE_INFINITY
    for (let j = 0; j < C.cols; j++) m = Math.max(m, (f[i]! + g[j]! - C.data[i * C.cols + j]!) / eps)
    let s = 0
    for (let j = 0; j < C.cols; j++) s += Math.exp((f[i]! + g[j]! - C.data[i * C.cols + j]!) / eps - m)
    out[i] = m + Math.log(s)
  }
  return out
}
const transposeProblem = (C: Matrix.Matrix) => Matrix.transpose(C)

// The kernels compute (fᵢ + M)/ε + log S with w − M ≤ 0, while the reference
// divides each z = (f + g − C)/ε; the two differ by a few roundings of numbers of
// size max|z| ≈ 2/ε = 200 here, i.e. ~10 ulp of 200 ≈ 3e-13 absolute.
const LSE_ATOL = 1e-12

describe("fused affine log-sum-exp", () => {
  const problem = (m: number, n: number, seed: number) => {
    const [a, b, c] = Random.split(Random.key(seed), 3)
    return {
      C: Matrix.fromData(m, n, Random.uniform(a!, m * n)),
      f: Random.uniform(b!, m, { low: -0.5, high: 0.5 }),
      g: Random.uniform(c!, n, { low: -0.5, high: 0.5 })
    }
  }

  it("rows and columns match the straightforward computation", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 40 }),
        fc.nat(),
        (m, n, seed) => {
          const { C, f, g } = problem(m, n, seed)
          const rows = Vector.zeros(m)
          const cols = Vector.zeros(n)
          Reductions.logSumExpAffineRows(C, f, g, 0.01, rows)
          Reductions.logSumExpAffineCols(C, f, g, 0.01, cols)
          assertClose(rows, naiveRows(C, f, g, 0.01), { atol: LSE_ATOL, rtol: 0 })
          assertClose(cols, naiveRows(transposeProblem(C), g, f, 0.01), { atol: LSE_ATOL, rtol: 0 })
        }
      ),
      { seed: SEED, numRuns: 60 }
    )
  })

  it("give the same bits on WebAssembly-resident and plain arrays (the two backends)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 70 }),
        fc.integer({ min: 0, max: 70 }),
        fc.nat(),
        (m, n, seed) => {
          const { C, f, g } = problem(m, n, seed)
          const plain = { rows: m, cols: n, data: Float64Array.from(C.data) }
          const a = Vector.zeros(m)
          const b = new Float64Array(m)
          Reductions.logSumExpAffineRows(C, f, g, 0.003, a)
          Reductions.logSumExpAffineRows(plain, Float64Array.from(f), Float64Array.from(g), 0.003, b)
          expect(a.every((v, i) => Object.is(v, b[i]))).toBe(true)
          const c = Vector.zeros(n)
          const d = new Float64Array(n)
          Reductions.logSumExpAffineCols(C, f, g, 0.003, c)
          Reductions.logSumExpAffineCols(plain, Float64Array.from(f), Float64Array.from(g), 0.003, d)
          expect(c.every((v, i) => Object.is(v, d[i]))).toBe(true)
        }
      ),
      { seed: SEED, numRuns: 60 }
    )
  })

  it("never overflows at small ε and treats +∞ costs as forbidden pairs", () => {
    const C = Matrix.fromRows([
      [0, 1, Number.POSITIVE_INFINITY],
      [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY],
      [5, 6, 7]
    ])
    const f = Vector.zeros(3)
    const g = Vector.zeros(3)
    const rows = Vector.zeros(3)
    Reductions.logSumExpAffineRows(C, f, g, 1e-4, rows)
    // Row 0 is dominated by its 0 entry: log(1 + e^−10⁴) = 0 to double precision.
    expect(rows[0]).toBe(0)
    expect(rows[1]).toBe(Number.NEGATIVE_INFINITY)
    expect(rows[2]).toBeCloseTo(-5 / 1e-4, 6)
    const cols = Vector.zeros(3)
    Reductions.logSumExpAffineCols(C, f, g, 1e-4, cols)
    expect(cols[0]).toBe(0)
    expect(cols[2]).toBeCloseTo(-7 / 1e-4, 6)
    const withNaN = Matrix.fromRows([[0, Number.NaN]])
    const out = Vector.zeros(1)
    Reductions.logSumExpAffineRows(withNaN, Vector.zeros(1), Vector.zeros(2), 1, out)
    expect(out[0]).toBeNaN()
  })

  it("follow IEEE semantics with NaN and ±∞ terms, on both backends alike", () => {
    // Oracle per row: NaN if a term gⱼ − Cᵢⱼ is NaN, else its maximum when
    // that is ±∞, else the finite log-sum-exp (the kernels skip NaN in the
    // running maximum and must still return NaN).
    const oracle = (C: Matrix.Matrix, f: Float64Array, g: Float64Array, eps: number): Float64Array => {
      const out = new Float64Array(C.rows)
      for (let i = 0; i < C.rows; i++) {
        let M = Number.NEGATIVE_INFINITY
        let nan = false
        for (let j = 0; j < C.cols; j++) {
          const t = g[j]! - C.data[i * C.cols + j]!
          if (Number.isNaN(t)) nan = true
          else if (t > M) M = t
        }
        if (nan) out[i] = Number.NaN
        else if (!Number.isFinite(M)) out[i] = M
        else {
          let s = 0
          for (let j = 0; j < C.cols; j++) s += Math.exp((g[j]! - C.data[i * C.cols + j]! - M) / eps)
          out[i] = (f[i]! + M) / eps + Math.log(s)
        }
      }
      return out
    }
    const special = fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0)
    const entry = fc.oneof({ arbitrary: fc.double({ min: -1, max: 1, noNaN: true }), weight: 3 }, special)
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        fc.array(entry, { minLength: 81, maxLength: 81 }),
        fc.array(entry, { minLength: 9, maxLength: 9 }),
        fc.array(entry, { minLength: 9, maxLength: 9 }),
        (m, n, cs, fs, gs) => {
          const C = Matrix.zeros(m, n)
          C.data.set(cs.slice(0, m * n))
          const f = Vector.zeros(m)
          f.set(fs.slice(0, m))
          const g = Vector.zeros(n)
          g.set(gs.slice(0, n))
          const rows = Vector.zeros(m)
          Reductions.logSumExpAffineRows(C, f, g, 0.5, rows)
          const cols = Vector.zeros(n)
          Reductions.logSumExpAffineCols(C, f, g, 0.5, cols)
          const expectedRows = oracle(C, f, g, 0.5)
          const expectedCols = oracle(Matrix.transpose(C), g, f, 0.5)
          for (const [got, want] of [
            [rows, expectedRows],
            [cols, expectedCols]
          ] as const) {
            for (let k = 0; k < got.length; k++) {
              if (Number.isFinite(want[k]!))
                expect(Math.abs(got[k]! - want[k]!)).toBeLessThanOrEqual(LSE_ATOL * 10)
              else expect(got[k]).toBe(want[k])
            }
          }
          // The plain-array path (TypeScript backend) gives the same bits.
          const plainRows = new Float64Array(m)
          const plain = { rows: m, cols: n, data: Float64Array.from(C.data) }
          Reductions.logSumExpAffineRows(plain, Float64Array.from(f), Float64Array.from(g), 0.5, plainRows)
          expect(rows.every((v, i) => Object.is(v, plainRows[i]))).toBe(true)
          const plainCols = new Float64Array(n)
          Reductions.logSumExpAffineCols(plain, Float64Array.from(f), Float64Array.from(g), 0.5, plainCols)
          expect(cols.every((v, i) => Object.is(v, plainCols[i]))).toBe(true)
        }
      ),
      { seed: SEED, numRuns: 300 }
    )
  })

  it("reject ε ≤ 0 and shape mismatches with typed errors", () => {
    const C = Matrix.zeros(2, 3)
    expect(() =>
      Reductions.logSumExpAffineRows(C, Vector.zeros(2), Vector.zeros(3), 0, Vector.zeros(2))
    ).toThrow(InvalidOptions)
    expect(() =>
      Reductions.logSumExpAffineCols(C, Vector.zeros(2), Vector.zeros(3), -1, Vector.zeros(3))
    ).toThrow(/epsilon/)
    expect(() =>
      Reductions.logSumExpAffineRows(C, Vector.zeros(3), Vector.zeros(3), 1, Vector.zeros(2))
    ).toThrow(DimensionMismatch)
    expect(() =>
      Reductions.logSumExpAffineCols(C, Vector.zeros(2), Vector.zeros(3), 1, Vector.zeros(2))
    ).toThrow(DimensionMismatch)
  })
})
