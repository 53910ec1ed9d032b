import { Errors } from "@descent/core"
import { assertClose } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { MetricNotFound, wallTimeAxis } from "../src/Aggregate.ts"
import {
  costTable,
  costToTarget,
  InvalidCost,
  performanceProfile,
  performanceProfileOf,
  performanceRatios,
  rho
} from "../src/PerformanceProfile.ts"
import { cell, syntheticRun } from "./reportCells.ts"

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */
const FC = { seed: 20_261_122, numRuns: 200 } as const

/** log/expm1 round trips in the crossing estimate: a few ulps. */
const ROUND_TRIP = 16 * Number.EPSILON

describe("performance profile of a hand-made cost table", () => {
  // Costs (iterations) of solvers S1, S2, S3 on problems A–D; ∞ = target not reached.
  //        S1   S2   S3      ratios r = t / min     S1  S2  S3
  //   A    10   20   ∞                               1   2   ∞
  //   B    30   15   15                              2   1   1
  //   C    ∞    ∞    ∞       (nobody solves C)       ∞   ∞   ∞
  //   D     8   16    4                              2   4   1
  const table = {
    problems: ["A", "B", "C", "D"],
    solvers: ["S1", "S2", "S3"],
    costs: [
      [10, 20, Infinity],
      [30, 15, 15],
      [Infinity, Infinity, Infinity],
      [8, 16, 4]
    ]
  }

  it("has the ratios r = t / min over solvers", () => {
    const ratios = performanceRatios(table.costs).map((r) => [...r])
    expect(ratios).toEqual([
      [1, 2, Infinity],
      [2, 1, 1],
      [Infinity, Infinity, Infinity],
      [2, 4, 1]
    ])
  })

  it("has the known ρ values", () => {
    const profile = performanceProfile(table)
    const column = (s: number) => profile.ratios.map((r) => r[s])
    // ρ_S1: best on A only (1/4); within 2× on A, B, D (3/4); never solves C.
    expect([1, 1.5, 2, 100].map((tau) => rho(column(0), tau))).toEqual([0.25, 0.25, 0.75, 0.75])
    // ρ_S2: best on B (1/4); within 2× on A, B (2/4); within 4× also D (3/4).
    expect([1, 2, 3.9, 4].map((tau) => rho(column(1), tau))).toEqual([0.25, 0.5, 0.5, 0.75])
    // ρ_S3: best on B and D (2/4) and nothing else.
    expect([1, 1000].map((tau) => rho(column(2), tau))).toEqual([0.5, 0.5])
    expect(profile.tauMax).toBe(8) // twice the largest finite ratio, 4
    expect(profile.curves.map((c) => c.solved)).toEqual([0.75, 0.75, 0.5])
    expect(profile.curves[0].points).toEqual([
      { tau: 1, rho: 0.25 },
      { tau: 2, rho: 0.75 },
      { tau: 8, rho: 0.75 }
    ])
    expect(profile.curves[1].points).toEqual([
      { tau: 1, rho: 0.25 },
      { tau: 2, rho: 0.5 },
      { tau: 4, rho: 0.75 },
      { tau: 8, rho: 0.75 }
    ])
    expect(profile.curves[2].points).toEqual([
      { tau: 1, rho: 0.5 },
      { tau: 8, rho: 0.5 }
    ])
  })

  it("a best cost of 0: ratio 1 at cost 0, positive costs relative to the smallest positive one", () => {
    expect([...performanceRatios([[0, 3, 0]])[0]]).toEqual([1, 1, 1])
    expect([...performanceRatios([[0, 3, 6, Infinity]])[0]]).toEqual([1, 1, 2, Infinity])
  })

  it("rejects NaN, negative and −∞ costs, ragged rows and empty tables with tagged errors", () => {
    for (const bad of [Number.NaN, -1, -Infinity]) {
      let error: unknown
      try {
        performanceRatios([
          [1, 2],
          [3, bad]
        ])
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(InvalidCost)
      expect(error).toMatchObject({ problem: 1, solver: 1 })
    }
    expect(() => performanceRatios([[1, 2], [3]])).toThrow(Errors.DimensionMismatch)
    expect(() => performanceProfile({ problems: [], solvers: ["a"], costs: [] })).toThrow(Errors.EmptyInput)
    expect(() => performanceProfile({ problems: ["p"], solvers: [], costs: [[]] })).toThrow(Errors.EmptyInput)
  })
})

describe("performance profile invariants", () => {
  const cost = fc.oneof(
    // Costs ≥ 1e-6 (or 0), so that scaling by 2^±20 stays exact (no subnormals).
    { weight: 4, arbitrary: fc.double({ min: 1e-6, max: 1e6, noNaN: true }) },
    { weight: 1, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.constant(Infinity) }
  )
  const tables = fc
    .integer({ min: 1, max: 5 })
    .chain((solvers) =>
      fc.array(fc.array(cost, { minLength: solvers, maxLength: solvers }), { minLength: 1, maxLength: 12 })
    )

  it("ρ is non-decreasing in τ, in [0, 1], and reaches the fraction of problems solved", () => {
    fc.assert(
      fc.property(
        tables,
        fc.array(fc.double({ min: 1, max: 1e4, noNaN: true }), { maxLength: 20 }),
        (costs, taus) => {
          const solvers = costs[0].map((_, s) => `s${s}`)
          const profile = performanceProfile({ problems: costs.map((_, p) => `p${p}`), solvers, costs })
          const sorted = [1, ...taus].sort((a, b) => a - b)
          profile.curves.forEach((curve, s) => {
            const column = profile.ratios.map((r) => r[s])
            const values = sorted.map((tau) => rho(column, tau))
            for (let k = 1; k < values.length; k++) expect(values[k]).toBeGreaterThanOrEqual(values[k - 1])
            for (const v of values) expect(v >= 0 && v <= 1).toBe(true)
            const solved = costs.filter((row) => Number.isFinite(row[s])).length / costs.length
            expect(curve.solved).toBe(solved)
            expect(rho(column, profile.tauMax)).toBe(solved)
            expect(curve.points.at(-1)).toEqual({ tau: profile.tauMax, rho: solved })
            for (let k = 1; k < curve.points.length; k++) {
              expect(curve.points[k].tau).toBeGreaterThan(curve.points[k - 1].tau)
              expect(curve.points[k].rho).toBeGreaterThanOrEqual(curve.points[k - 1].rho)
            }
          })
          // Every problem some solver solves has a best solver (ratio 1).
          const solvedByAny = costs.filter((row) => row.some(Number.isFinite)).length / costs.length
          const atOne = profile.curves.reduce((sum, c) => sum + c.points[0].rho, 0)
          expect(atOne).toBeGreaterThanOrEqual(solvedByAny - 1e-12)
        }
      ),
      FC
    )
  })

  it("is invariant to scaling a problem's costs (power-of-two factors are exact)", () => {
    fc.assert(
      fc.property(tables, fc.integer({ min: -20, max: 20 }), (costs, e) => {
        const scaled = costs.map((row, p) => (p === 0 ? row.map((t) => t * 2 ** e) : row))
        expect(performanceRatios(scaled)).toEqual(performanceRatios(costs))
      }),
      FC
    )
  })
})

describe("cost of a cell to reach the target", () => {
  // Suboptimality 1, 1e-2, 1e-4 at iterations 0, 9, 99.
  const c = cell({ trace: { iteration: [0, 9, 99], values: { suboptimality: [1, 1e-2, 1e-4] } } })

  it("takes the first sample meeting the target, or interpolates the crossing in (log(1 + x), log y)", () => {
    expect(costToTarget(c, { threshold: 1e-3, crossing: "sample" })).toBe(99)
    // log y = −3 halfway between −2 and −4: log(1 + x) halfway between log 10 and log 100.
    assertClose([costToTarget(c, { threshold: 1e-3 })], [Math.sqrt(1000) - 1], { rtol: ROUND_TRIP })
    expect(costToTarget(c, { threshold: 1e-2 })).toBe(9)
    expect(costToTarget(c, { threshold: 2 })).toBe(0)
    expect(costToTarget(c, { threshold: 1e-5 })).toBe(Infinity)
  })

  it("scales the threshold by the first value when relative", () => {
    const scaled = cell({ trace: { iteration: [0, 9, 99], values: { suboptimality: [10, 1e-1, 1e-3] } } })
    expect(costToTarget(scaled, { threshold: 1e-2, relative: true })).toBe(9)
    expect(costToTarget(scaled, { threshold: 1e-2 })).toBeCloseTo(Math.sqrt(1000) - 1, 10)
  })

  it("is ∞ for a cell that does not trace the metric, and rejects a non-finite threshold", () => {
    expect(costToTarget(cell({ trace: { iteration: [0], values: { objective: [1] } } }))).toBe(Infinity)
    expect(() => costToTarget(c, { threshold: Number.NaN })).toThrow(Errors.InvalidOptions)
  })
})

describe("cost table of a run", () => {
  const { cells } = syntheticRun()

  it("has one row per problem instance (median over repetitions) or per repetition", () => {
    const median = costTable(cells, { threshold: 1e-6 })
    expect(median.problems).toEqual(["logistic", "rosenbrock"])
    expect(median.solvers).toEqual(["adam", "gd", "lbfgs"])
    // L-BFGS (rate 0.5) is the fastest in iterations on both problems.
    for (const row of median.costs) expect(Math.min(...row)).toBe(row[2])
    const separate = costTable(cells, { threshold: 1e-6, repetitions: "separate" })
    expect(separate.problems).toEqual([
      "logistic #0",
      "logistic #1",
      "logistic #2",
      "rosenbrock #0",
      "rosenbrock #1",
      "rosenbrock #2"
    ])
    // In wall time Adam is the fastest: to 1e-6 on rosenbrock (start 100), ln(1e-8)/ln(rate)
    // iterations × ms per iteration: adam 82.5 × 0.08 = 6.6 ms, gd 175 × 0.05 = 8.7 ms, lbfgs 26.6 × 0.3 = 8 ms
    // (logistic, start 5: 5.5, 7.3, 6.7 ms).
    const profile = performanceProfileOf(cells, { threshold: 1e-6, cost: wallTimeAxis })
    expect(profile.curves.map((c) => c.solver)).toEqual(["adam", "gd", "lbfgs"])
    expect(profile.curves.map((c) => c.points[0].rho)).toEqual([1, 0, 0])
    expect(profile.curves.map((c) => c.solved)).toEqual([1, 1, 1])
  })

  it("counts a missing (problem, solver) pair as not solved", () => {
    const only = [
      cell({ problem: "p", solver: "a", trace: { iteration: [0, 1], values: { suboptimality: [1, 0] } } }),
      cell({ problem: "q", solver: "b", trace: { iteration: [0, 2], values: { suboptimality: [1, 0] } } })
    ]
    const table = costTable(only, { crossing: "sample" })
    expect(table.costs).toEqual([
      [1, Infinity],
      [Infinity, 2]
    ])
  })

  it("fails with MetricNotFound when no cell traces the target metric", () => {
    expect(() => costTable(cells, { metric: "constraintViolation" })).toThrow(MetricNotFound)
  })
})
