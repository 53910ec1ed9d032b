import { Vector } from "@descent/core"
import { assertBitIdentical, assertClose } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { applyUpdatesInPlace } from "../src/GradientTransform.ts"
import * as Optimizers from "../src/Optimizers.ts"
import { fromGradientL1Norms, fromGradientNorms, medianSmooth } from "../src/RefinedSchedule.ts"
import * as Schedules from "../src/Schedules.ts"
import { fixture, invalidField } from "./paper-fixture.ts"

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */
const FC = { seed: 20_260_512, numRuns: 200 } as const

/**
 * Closed form vs the implemented order, for norms 2 (weights 1/4 and 1/2, so
 * every tail sum and product is exact): the value peak·(η_t/max) takes two
 * roundings, the closed form (peak·(T − 1 − t))/(T − 1) one; 4ε (relative)
 * covers the three half-ulp roundings.
 */
const FEW_ULPS = 4 * Number.EPSILON

/**
 * Step lengths read back from the parameters: p ≈ 1, and p + u and
 * before − after each round by at most ε/2·|p|, so 2ε absolute bounds them.
 */
const STEP_ATOL = 2 * Number.EPSILON

describe("refined schedules reproduce the NumPy/SciPy implementation of the paper (float64)", () => {
  // Bit for bit: the median filter is SciPy's (scipy.ndimage.median_filter
  // on the sequence padded by reflection at the end, 'nearest' at the start)
  // and selects input entries without arithmetic; the weights, tail sums
  // (accumulated from the last step, as numpy.cumsum of the reversed
  // weights) and normalization are the same operations in the same order.
  it.each(fixture.refined.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    assertBitIdentical(medianSmooth(c.gradientNorms, c.smoothing), c.smoothed, `${c.name} smoothed`)
    const refine = c.norm === "l2" ? fromGradientNorms : fromGradientL1Norms
    const s = refine(c.gradientNorms, { smoothing: c.smoothing, peakValue: c.peakValue })
    assertBitIdentical(s.values, c.values, `${c.name} values`)
    const at = c.values.map((_, t) => Schedules.evaluate(s, t))
    assertBitIdentical(at, c.values, `${c.name} evaluate`)
  })

  it("covers the l2 (SGD) and l1 (Adam) refinements, with and without smoothing", () => {
    expect(new Set(fixture.refined.map((c) => c.norm))).toEqual(new Set(["l1", "l2"]))
    expect(new Set(fixture.refined.map((c) => c.smoothing))).toEqual(new Set([0, 0.1, 0.25]))
  })
})

describe("refinement semantics", () => {
  it("constant gradient norms give linear decay 1 − t/(T − 1) (the worst-case optimum)", () => {
    for (const refine of [fromGradientNorms, fromGradientL1Norms]) {
      const T = 50
      const s = refine(new Array(T).fill(2), { peakValue: 3 })
      const linear = Array.from({ length: T }, (_, t) => (3 * (T - 1 - t)) / (T - 1))
      assertClose(s.values, linear, { rtol: FEW_ULPS, atol: 0 })
    }
  })

  it("peaks at exactly peakValue, ends at 0, and ignores a power-of-two scale of the norms", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1e-3, max: 1e3, noNaN: true }), { minLength: 2, maxLength: 60 }),
        fc.double({ min: 1e-6, max: 10, noNaN: true }),
        fc.constantFrom(0, 0.1, 0.5, 1),
        (norms, peak, smoothing) => {
          for (const refine of [fromGradientNorms, fromGradientL1Norms]) {
            const s = refine(norms, { peakValue: peak, smoothing })
            expect(Math.max(...s.values)).toBe(peak)
            expect(s.values[s.values.length - 1]).toBe(0)
            expect(Math.min(...s.values)).toBeGreaterThanOrEqual(0)
            const scaled = refine(
              norms.map((g) => 4 * g),
              { peakValue: peak, smoothing }
            )
            assertBitIdentical(scaled.values, s.values)
          }
        }
      ),
      FC
    )
  })

  it("falling gradient norms produce a warmup, rising ones a faster anneal", () => {
    const T = 100
    const falling = fromGradientNorms(Array.from({ length: T }, (_, t) => 1 + 9 * Math.exp(-t / 5)))
    expect(falling.values[0]!).toBeLessThan(0.2)
    expect(falling.values.indexOf(1)).toBeGreaterThan(10)
    const rising = fromGradientNorms(Array.from({ length: T }, (_, t) => 1 + t / 10))
    const linear = fromGradientNorms(new Array(T).fill(1))
    expect(rising.values[T / 2]!).toBeLessThan(linear.values[T / 2]!)
  })

  it("medianSmooth equals the brute-force windowed median with the paper's edges", () => {
    const bruteForce = (g: ReadonlyArray<number>, tau: number): number[] => {
      const n = g.length
      const w = 2 * Math.floor(Math.floor(tau * n) / 2) + 1
      const r = (w - 1) / 2
      // 'nearest' before the start; after the end, reflection about the last
      // entry, then about the first, … (NumPy's repeated "reflect" padding).
      const at = (j: number): number => {
        if (j < 0) return g[0]!
        let k = j
        while (k > n - 1 || k < 0) k = k > n - 1 ? 2 * (n - 1) - k : -k
        return g[k]!
      }
      return g.map((_, t) => {
        const window: number[] = []
        for (let j = t - r; j <= t + r; j++) window.push(at(j))
        window.sort((a, b) => a - b)
        return window[r]!
      })
    }
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 2, maxLength: 40 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (g, tau) => {
          expect(medianSmooth(g, tau)).toEqual(bruteForce(g, tau))
        }
      ),
      FC
    )
  })

  it("the refined schedule drives an optimizer as a learning rate", () => {
    const s = fromGradientNorms([4, 2, 1, 1, 1], { peakValue: 0.5 })
    const p = Vector.fromArray([1])
    const tx = Optimizers.sgd(s)
    let state = tx.init(p)
    const taken: number[] = []
    for (let t = 0; t < 7; t++) {
      const before = p[0]!
      const r = tx.update(Vector.fromArray([1]), state, p)
      state = r.state
      applyUpdatesInPlace(p, r.updates)
      taken.push(before - p[0]!)
    }
    // Steps 0…4 use the table, later steps its last value (0).
    assertClose(taken, [...s.values, 0, 0], { rtol: 0, atol: STEP_ATOL })
  })

  it("throws InvalidOptions naming the field on bad inputs", () => {
    expect(invalidField(() => fromGradientNorms([1]))).toBe("gradientNorms")
    expect(invalidField(() => fromGradientNorms([]))).toBe("gradientNorms")
    expect(invalidField(() => fromGradientNorms([1, 0, 2]))).toBe("gradientNorms")
    expect(invalidField(() => fromGradientNorms([1, -1]))).toBe("gradientNorms")
    expect(invalidField(() => fromGradientL1Norms([1, Number.NaN]))).toBe("gradientNorms")
    expect(invalidField(() => fromGradientL1Norms([1, Number.POSITIVE_INFINITY]))).toBe("gradientNorms")
    expect(invalidField(() => fromGradientNorms([1e-200, 1e-200]))).toBe("gradientNorms")
    expect(invalidField(() => fromGradientNorms([1, 2], { smoothing: -0.1 }))).toBe("smoothing")
    expect(invalidField(() => fromGradientNorms([1, 2], { smoothing: 1.5 }))).toBe("smoothing")
    expect(invalidField(() => medianSmooth([1, 2], Number.NaN))).toBe("smoothing")
    expect(invalidField(() => fromGradientNorms([1, 2], { peakValue: 0 }))).toBe("peakValue")
    expect(invalidField(() => fromGradientL1Norms([1, 2], { peakValue: Number.NaN }))).toBe("peakValue")
  })
})

describe("Schedules.tabulated (the serializable form of a refined schedule)", () => {
  const tables = fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 30 })
  const step = fc.oneof(fc.integer({ min: -5, max: 40 }), fc.double({ min: -5, max: 40, noNaN: true }))

  it("JSON round-trip is lossless and evaluates identically", () => {
    fc.assert(
      fc.property(tables, fc.array(step, { maxLength: 8 }), (values, ts) => {
        const s = Schedules.tabulated(values)
        const back = JSON.parse(JSON.stringify(s)) as unknown
        expect(back).toStrictEqual(s)
        expect(Schedules.isSchedule(back)).toBe(true)
        const parsed = Schedules.fromJSON(back)
        for (const t of ts)
          expect(Object.is(Schedules.evaluate(parsed, t), Schedules.evaluate(s, t))).toBe(true)
      }),
      FC
    )
    const refined = fromGradientNorms([3, 1, 2, 2, 1], { smoothing: 0.5 })
    expect(Schedules.fromJSON(JSON.parse(JSON.stringify(refined)))).toStrictEqual(refined)
  })

  it("evaluates values[⌊t⌋], clamped to the first and last entries", () => {
    const s = Schedules.tabulated([5, 6, 7])
    expect([-3, 0, 0.9, 1, 1.5, 2, 2.5, 3, 1e9].map((t) => Schedules.evaluate(s, t))).toEqual([
      5, 5, 5, 6, 6, 7, 7, 7, 7
    ])
    expect(Schedules.toFunction(s)(1)).toBe(6)
    expect(Schedules.kinds).toContain("tabulated")
  })

  it("copies its input and replaces −0 by +0 (JSON has no −0)", () => {
    const values = [1, -0]
    const s = Schedules.tabulated(values)
    values[0] = 9
    expect(s.values).toEqual([1, 0])
    expect(Object.is(s.values[1], 0)).toBe(true)
  })

  it("rejects empty, non-finite and malformed tables, naming the field", () => {
    expect(invalidField(() => Schedules.tabulated([]))).toBe("values")
    expect(invalidField(() => Schedules.tabulated([1, Number.NaN]))).toBe("values")
    expect(invalidField(() => Schedules.fromJSON({ kind: "tabulated" }))).toBe("values")
    expect(invalidField(() => Schedules.fromJSON({ kind: "tabulated", values: [1, "2"] }))).toBe("values")
    expect(invalidField(() => Schedules.fromJSON({ kind: "tabulated", values: [1], step: 2 }))).toBe("step")
    expect(Schedules.isSchedule({ kind: "tabulated", values: [Number.POSITIVE_INFINITY] })).toBe(false)
  })
})
