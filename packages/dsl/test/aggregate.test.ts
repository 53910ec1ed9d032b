import { Errors } from "@descent/core"
import { assertClose } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  aggregate,
  convergence,
  grid,
  interpolate,
  MetricNotFound,
  median,
  oracleCallsAxis,
  quantile,
  quantileSorted,
  traceSeries,
  wallTimeAxis
} from "../src/Aggregate.ts"
import { cell, syntheticRun } from "./reportCells.ts"

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */
const FC = { seed: 20_261_122, numRuns: 100 } as const

/** exp(log y) and expm1(log1p x) round trips: a few ulps. */
const ROUND_TRIP = 8 * Number.EPSILON

/**
 * Interpolating log y in u = log(1 + x): u ≈ 3.45 carries ~2 ulps (≈ 9e-16)
 * from x = √1000 − 1, so t = Δu/ln 10 is off by ≈ 4e-16, and the exponent
 * t·ln(100) by ≈ 1.8e-15 ≈ 8 ε relative in y; 32 ε leaves room for exp/log.
 */
const LOG_INTERPOLATION = 32 * Number.EPSILON

describe("quantile (NumPy's default `linear` method)", () => {
  // Each expected value is computed by hand from h = (n − 1)·p, a[⌊h⌋] + (h − ⌊h⌋)(a[⌊h⌋+1] − a[⌊h⌋]),
  // and equals `float(np.quantile(np.array(a, dtype=float), p))` of NumPy 2.4.6 bit for bit.
  const cases: ReadonlyArray<readonly [ReadonlyArray<number>, number, number]> = [
    [[1, 2, 3, 4], 0, 1],
    [[1, 2, 3, 4], 0.25, 1.75], // h = 0.75
    [[1, 2, 3, 4], 0.5, 2.5], // h = 1.5
    [[1, 2, 3, 4], 0.75, 3.25], // h = 2.25
    [[1, 2, 3, 4], 1, 4],
    [[3, 1, 2], 0.1, 1.2], // unsorted input; h = 0.2
    [[3, 1, 2], 0.25, 1.5],
    [[3, 1, 2], 0.5, 2],
    [[3, 1, 2], 0.75, 2.5],
    [[10, 20, 40, 80, 160], 0.3, 24], // h = 1.2: 20 + 0.2·20
    [[10, 20, 40, 80, 160], 0.9, 128], // h = 3.6: 80 + 0.6·80
    [[7], 0.37, 7],
    [[-5, -1, 0, 2, 2, 9], 0.2, -1], // h = 1 exactly
    [[-5, -1, 0, 2, 2, 9], 0.5, 1], // h = 2.5: 0 + 0.5·2
    [[-5, -1, 0, 2, 2, 9], 0.95, 7.25], // h = 4.75: 2 + 0.75·7
    [[0.1, 0.2, 0.7], 0.6, 0.3], // h = 1.2: 0.2 + 0.2·0.5
    // NumPy computes b − (b − a)(1 − t) for t ≥ ½; a + (b − a)t would give 0.16999999999999998 and 0.28.
    [[0.1, 0.2], 0.7, 0.17],
    [[0.1, 0.3], 0.9, 0.27999999999999997]
  ]
  it.each(cases)("quantile(%j, %d) = %d, as NumPy", (values, p, expected) => {
    expect(quantile(values, p)).toBe(expected)
  })

  it("median is the 0.5-quantile (mean of the middle pair for an even count)", () => {
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([5, -1, 3])).toBe(3)
  })

  it("NaN anywhere gives NaN; infinities give the limiting value (NumPy: NaN)", () => {
    expect(quantile([1, Number.NaN, 3], 0.5)).toBeNaN()
    expect(median([1, Infinity])).toBe(Infinity)
    expect(quantile([1, Infinity], 0)).toBe(1)
    expect(median([-Infinity, 1, 2])).toBe(1)
  })

  it("rejects an empty input and p outside [0, 1] with tagged errors", () => {
    expect(() => quantile([], 0.5)).toThrow(Errors.EmptyInput)
    expect(() => quantileSorted([], 0.5)).toThrow(Errors.EmptyInput)
    for (const p of [-0.1, 1.5, Number.NaN]) {
      let error: unknown
      try {
        quantile([1, 2], p)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(Errors.InvalidOptions)
      expect((error as Errors.InvalidOptions).field).toBe("p")
    }
  })

  it("is monotone in p, lies in [min, max], ends at min and max, ignores the order of the values", () => {
    const values = fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 30 })
    const p = fc.double({ min: 0, max: 1, noNaN: true })
    fc.assert(
      fc.property(values, p, p, (xs, p1, p2) => {
        const [lo, hi] = p1 <= p2 ? [p1, p2] : [p2, p1]
        const sorted = [...xs].sort((a, b) => a - b)
        expect(quantile(xs, lo)).toBeLessThanOrEqual(quantile(xs, hi))
        expect(quantile(xs, lo)).toBeGreaterThanOrEqual(sorted[0])
        expect(quantile(xs, hi)).toBeLessThanOrEqual(sorted[sorted.length - 1])
        expect(quantile(xs, 0)).toBe(sorted[0])
        expect(quantile(xs, 1)).toBe(sorted[sorted.length - 1])
        expect(quantile([...xs].reverse(), lo)).toBe(quantile(xs, lo))
      }),
      FC
    )
  })
})

describe("grid", () => {
  it("is equally spaced in log(1 + x) on a log scale, with exact ends", () => {
    const g = grid(0, 999, 4, "log")
    expect(g[0]).toBe(0)
    expect(g[3]).toBe(999)
    // log(1 + x) = 0, log(10), 2 log(10), 3 log(10): x = 9, 99 up to rounding.
    assertClose(g, [0, 9, 99, 999], { rtol: ROUND_TRIP })
  })

  it("is equally spaced in x on a linear scale; one point for an empty range", () => {
    expect(grid(2, 10, 5, "linear")).toEqual([2, 4, 6, 8, 10])
    expect(grid(3, 3, 10, "log")).toEqual([3])
  })

  it("rejects fewer than 2 points and a reversed or negative log range", () => {
    expect(() => grid(0, 1, 1, "log")).toThrow(Errors.InvalidOptions)
    expect(() => grid(0, 1, 2.5, "log")).toThrow(Errors.InvalidOptions)
    expect(() => grid(2, 1, 5, "linear")).toThrow(Errors.InvalidOptions)
    expect(() => grid(-0.5, 1, 5, "log")).toThrow(Errors.InvalidOptions)
  })
})

describe("interpolate", () => {
  // Suboptimality 1, 1e-2, 1e-4 at iterations 0, 9, 99: log y is linear in log(1 + x) on [9, 99].
  const series = { x: [0, 9, 99], y: [1, 1e-2, 1e-4] }

  it("returns the samples themselves at their x", () => {
    expect([...interpolate(series, [0, 9, 99])]).toEqual([1, 1e-2, 1e-4])
  })

  it("is linear in (log(1 + x), log y) between samples", () => {
    // log(1 + x) halfway between log 10 and log 100: x = √1000 − 1, y = 1e-3.
    const x = Math.sqrt(1000) - 1
    assertClose(interpolate(series, [x]), [1e-3], { rtol: LOG_INTERPOLATION })
    // Linear y: halfway between 1e-2 and 1e-4.
    assertClose(interpolate(series, [x], { yScale: "linear" }), [(1e-2 + 1e-4) / 2], { rtol: ROUND_TRIP })
    // Linear x and y: x = 54 is halfway between 9 and 99.
    assertClose(interpolate(series, [54], { xScale: "linear", yScale: "linear" }), [(1e-2 + 1e-4) / 2], {
      rtol: ROUND_TRIP
    })
  })

  it("is NaN outside the sampled range, unless holdLast extends the last value", () => {
    const shifted = { x: [4, 9], y: [2, 1] }
    const out = interpolate(shifted, [0, 100])
    expect(out[0]).toBeNaN()
    expect(out[1]).toBeNaN()
    expect([...interpolate(shifted, [0, 100], { holdLast: true })].slice(1)).toEqual([1])
    expect(interpolate({ x: [], y: [] }, [1])[0]).toBeNaN()
  })
})

describe("traceSeries", () => {
  it("drops non-finite samples, sums axis metrics, sorts by x and keeps the last of equal x", () => {
    const c = cell({
      trace: {
        iteration: [0, 1, 2, 4, 8],
        values: {
          objective: [5, Number.NaN, 3, Infinity, 1],
          valueCalls: [0, 1, 2, 2, 9],
          gradientCalls: [0, 1, 2, 2, 9]
        }
      }
    })
    expect(traceSeries(c, "objective", { title: "iterations", metrics: [] })).toEqual({
      x: [0, 2, 8],
      y: [5, 3, 1]
    })
    expect(traceSeries(c, "objective", oracleCallsAxis)).toEqual({ x: [0, 4, 18], y: [5, 3, 1] })
    // Equal x (no calls between samples): the later sample wins.
    const flat = cell({
      trace: { iteration: [0, 1, 2], values: { objective: [3, 2, 1], wallTimeMs: [0, 5, 5] } }
    })
    expect(traceSeries(flat, "objective", wallTimeAxis)).toEqual({ x: [0, 5], y: [3, 1] })
  })

  it("is empty when the cell lacks the metric or the axis", () => {
    const c = cell({ trace: { iteration: [0, 1], values: { objective: [2, 1] } } })
    expect(traceSeries(c, "gradientNorm", { title: "iterations", metrics: [] })).toEqual({ x: [], y: [] })
    expect(traceSeries(c, "objective", wallTimeAxis)).toEqual({ x: [], y: [] })
  })
})

describe("aggregate", () => {
  // Three repetitions sampled at the same iterations 0, 1, 3 with known values.
  const reps = [
    { x: [0, 1, 3], y: [8, 4, 1] },
    { x: [0, 1, 3], y: [8, 2, 0.5] },
    { x: [0, 1, 3], y: [8, 1, 0.25] }
  ]

  it("takes the median and the min–max band at the common grid points", () => {
    // Grid of 3 points in log(1 + x) on [0, 3]: x = 0, 1, 3 — the sample points.
    const points = aggregate(reps, { gridPoints: 3 })
    expect(points.map((p) => p.x)).toEqual([0, 1, 3])
    expect(points.map((p) => p.median)).toEqual([8, 2, 0.5])
    expect(points.map((p) => p.lower)).toEqual([8, 1, 0.25])
    expect(points.map((p) => p.upper)).toEqual([8, 4, 1])
    expect(points.map((p) => p.count)).toEqual([3, 3, 3])
  })

  it("takes the quartiles with NumPy's rule", () => {
    const points = aggregate(reps, { gridPoints: 3, band: "quartiles" })
    // Quartiles of (1, 2, 4): h = 0.5 → 1.5; h = 1.5 → 3.
    expect(points[1].lower).toBe(1.5)
    expect(points[1].upper).toBe(3)
  })

  it("counts only the repetitions that ran that far (no extrapolation by default)", () => {
    const short = [...reps.slice(0, 2), { x: [0, 1], y: [8, 1] }]
    const points = aggregate(short, { gridPoints: 3 })
    expect(points.map((p) => p.count)).toEqual([3, 3, 2])
    expect(points[2].median).toBe(0.75) // median of (1, 0.5)
    const held = aggregate(short, { gridPoints: 3, holdLast: true })
    expect(held[2].count).toBe(3)
    expect(held[2].median).toBe(1) // median of (1, 0.5, 1)
  })

  it("identical repetitions collapse the band onto the median", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1e-12, max: 1e6, noNaN: true }), { minLength: 2, maxLength: 12 }),
        fc.integer({ min: 1, max: 5 }),
        (ys, copies) => {
          const s = { x: ys.map((_, k) => 2 ** k - 1), y: ys }
          const points = aggregate(
            Array.from({ length: copies }, () => s),
            { gridPoints: 17 }
          )
          for (const p of points) {
            expect(p.lower).toBe(p.median)
            expect(p.upper).toBe(p.median)
            expect(p.count).toBe(copies)
          }
          expect(points[0].median).toBe(ys[0])
          expect(points[points.length - 1].median).toBe(ys[ys.length - 1])
        }
      ),
      FC
    )
  })

  it("rejects a grid of fewer than 2 points", () => {
    expect(() => aggregate(reps, { gridPoints: 1 })).toThrow(Errors.InvalidOptions)
  })
})

describe("convergence", () => {
  const { cells } = syntheticRun()

  it("gives one series per (problem instance, solver), labelled and ordered naturally", () => {
    const c = convergence(cells, { metric: "suboptimality" })
    expect(c.problems).toEqual(["logistic", "rosenbrock"])
    expect(c.solvers).toEqual(["adam", "gd", "lbfgs"])
    expect(c.series.map((s) => `${s.problem}/${s.solver}`)).toEqual([
      "logistic/adam",
      "logistic/gd",
      "logistic/lbfgs",
      "rosenbrock/adam",
      "rosenbrock/gd",
      "rosenbrock/lbfgs"
    ])
    expect(c.yScale).toBe("log")
    expect(c.floor).toBeUndefined()
    for (const s of c.series) {
      expect(s.cells).toBe(3)
      expect(s.traced).toBe(3)
      expect(s.points[0].x).toBe(0)
      for (const p of s.points) {
        expect(p.lower).toBeLessThanOrEqual(p.median)
        expect(p.median).toBeLessThanOrEqual(p.upper)
      }
    }
  })

  it("labels variants of one name by the options in which they differ", () => {
    const mk = (learningRate: number, repetition: number) =>
      cell({
        solver: "adam",
        options: { learningRate, beta1: 0.9 },
        repetition,
        trace: { iteration: [0, 1], values: { objective: [2, 1] } }
      })
    const c = convergence([mk(0.1, 0), mk(0.01, 0), mk(0.1, 1)])
    expect(c.solvers).toEqual(["adam(learningRate=0.01)", "adam(learningRate=0.1)"])
    expect(c.series.map((s) => s.cells)).toEqual([1, 2])
  })

  it("holds the last value of finished cells, not of diverged or failed ones", () => {
    const mk = (repetition: number, status: "converged" | "maxIterations" | "diverged", its: Array<number>) =>
      cell({
        repetition,
        status,
        trace: { iteration: its, values: { objective: its.map((k) => 2 ** -k) } }
      })
    const cells = [mk(0, "converged", [0, 1]), mk(1, "maxIterations", [0, 1, 3]), mk(2, "diverged", [0, 1])]
    const held = convergence(cells, { gridPoints: 3 }).series[0].points
    expect(held.map((p) => p.x)).toEqual([0, 1, 3])
    expect(held.map((p) => p.count)).toEqual([3, 3, 2])
    expect(held[2].median).toBe((0.5 + 0.125) / 2)
    const ended = convergence(cells, { gridPoints: 3, holdLast: false }).series[0].points
    expect(ended.map((p) => p.count)).toEqual([3, 3, 1])
  })

  it("does not depend on the order of the cells", () => {
    const reference = JSON.stringify(convergence(cells, { metric: "objective", xAxis: wallTimeAxis }))
    fc.assert(
      fc.property(
        fc.shuffledSubarray([...cells], { minLength: cells.length, maxLength: cells.length }),
        (shuffled) => {
          expect(JSON.stringify(convergence(shuffled, { metric: "objective", xAxis: wallTimeAxis }))).toBe(
            reference
          )
        }
      ),
      { ...FC, numRuns: 20 }
    )
  })

  it("chooses a linear scale for a metric with negative values and floors zeros on a log scale", () => {
    const signed = [cell({ trace: { iteration: [0, 1, 2], values: { objective: [1, -1, -2] } } })]
    expect(convergence(signed).yScale).toBe("linear")
    const zero = [cell({ trace: { iteration: [0, 1, 2], values: { suboptimality: [1, 1e-3, 0] } } })]
    const c = convergence(zero, { metric: "suboptimality" })
    expect(c.yScale).toBe("log")
    expect(c.floor).toBe(1e-16)
    expect(c.series[0].points.at(-1)?.median).toBe(1e-16)
  })

  it("fails with MetricNotFound naming the metric and what is available", () => {
    let error: unknown
    try {
      convergence(cells, { metric: "constraintViolation" })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(MetricNotFound)
    expect((error as MetricNotFound).metric).toBe("constraintViolation")
    expect((error as MetricNotFound).available).toContain("suboptimality")
    expect(() =>
      convergence(cells, { metric: "objective", xAxis: { title: "epochs", metrics: ["epochs"] } })
    ).toThrow(/"epochs"/)
  })
})
