/**
 * Invariants of the entropic solvers (fast-check, pinned seed), bad input,
 * and the ε → 0 limit against an LP solved by scipy in the fixture.
 */
import { Errors, Matrix } from "@descent/core"
import { Schedules } from "@descent/optim"
import { assertClose, loadFixture, matrixFromRows } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as EpsilonScaling from "../src/EpsilonScaling.ts"
import * as Geometry from "../src/Geometry.ts"
import * as LinearProblem from "../src/LinearProblem.ts"
import * as Sinkhorn from "../src/Sinkhorn.ts"
import * as SinkhornLog from "../src/SinkhornLog.ts"
import * as SinkhornNewtonSparse from "../src/SinkhornNewtonSparse.ts"
import * as SinkhornStabilized from "../src/SinkhornStabilized.ts"

const SEED = 20260509

/** A random problem: n × m costs in [0, 1], positive weights (some may be 0 when `zeros`). */
const problemArb = (zeros: boolean) =>
  fc
    .record({
      n: fc.integer({ min: 1, max: 8 }),
      m: fc.integer({ min: 1, max: 8 }),
      seed: fc.integer({ min: 1, max: 2 ** 30 })
    })
    .map(({ n, m, seed }) => {
      let state = seed
      const next = () => {
        state = (state * 16807) % 2147483647
        return state / 2147483647
      }
      const C = Matrix.zeros(n, m)
      for (let k = 0; k < n * m; k++) C.data[k] = next()
      const weights = (k: number) => {
        const w = Array.from({ length: k }, () => 0.1 + next())
        if (zeros && k > 1) w[0] = 0
        const s = w.reduce((x, y) => x + y, 0)
        return w.map((x) => x / s)
      }
      return LinearProblem.make(Geometry.fromCostMatrix(C), { a: weights(n), b: weights(m) })
    })

const marginalsOf = (P: Matrix.Matrix) => {
  const r = new Array<number>(P.rows).fill(0)
  const c = new Array<number>(P.cols).fill(0)
  for (let i = 0; i < P.rows; i++)
    for (let j = 0; j < P.cols; j++) {
      r[i]! += P.data[i * P.cols + j]!
      c[j]! += P.data[i * P.cols + j]!
    }
  return { r, c }
}

const l1 = (x: ArrayLike<number>, y: ArrayLike<number>) => {
  let s = 0
  for (let i = 0; i < x.length; i++) s += Math.abs(x[i]! - y[i]!)
  return s
}

// The plan is re-formed from the potentials, so its marginals differ from the
// solver's by rounding of n·m exponentials (≈ 1e-15 each): 1e-12 absolute.
const REFORM_ATOL = 1e-12

describe("properties", () => {
  it("plan marginals match a and b within the reported marginal error (scaling, log, SNS)", () => {
    fc.assert(
      fc.property(problemArb(true), fc.constantFrom(0.5, 0.05, 0.01, 1e-3), (problem, epsilon) => {
        for (const solve of [Sinkhorn.solve, SinkhornLog.solve, SinkhornNewtonSparse.solve]) {
          const r = solve(problem, { epsilon, maxIterations: 300, tolerance: 1e-10 })
          const P = r.plan()
          for (const v of P.data) expect(Number.isFinite(v)).toBe(true)
          const { r: rows, c: cols } = marginalsOf(P)
          expect(l1(rows, problem.a) + l1(cols, problem.b)).toBeLessThanOrEqual(r.marginalError + REFORM_ATOL)
          expect(Number.isNaN(r.cost) || Number.isNaN(r.regularizedCost)).toBe(false)
        }
      }),
      { seed: SEED, numRuns: 40 }
    )
  })

  it("scaling and log domain agree where both are stable", () => {
    fc.assert(
      fc.property(problemArb(false), fc.constantFrom(0.5, 0.1, 0.02), (problem, epsilon) => {
        const s = Sinkhorn.solve(problem, { epsilon, tolerance: 1e-13, maxIterations: 100_000 })
        const l = SinkhornLog.solve(problem, { epsilon, tolerance: 1e-13, maxIterations: 100_000 })
        expect(s.domain).toBe("scaling")
        // Both at marginal error 1e-13: plans agree to that order.
        assertClose(s.plan(), l.plan(), { rtol: 0, atol: 1e-11 })
        assertClose(s.cost, l.cost, { rtol: 0, atol: 1e-11 })
      }),
      { seed: SEED, numRuns: 30 }
    )
  })

  it("small ε never yields NaN: ε = 1e-3 and 1e-4 on normalized costs", () => {
    fc.assert(
      fc.property(problemArb(false), fc.constantFrom(1e-3, 1e-4), (problem, epsilon) => {
        for (const solve of [
          Sinkhorn.solve,
          SinkhornLog.solve,
          SinkhornStabilized.solve,
          EpsilonScaling.solve
        ]) {
          const r = solve(problem, { epsilon, maxIterations: 200, tolerance: 1e-9 })
          expect(r.status === "converged" || r.status === "maxIterations").toBe(true)
          for (const v of r.f) expect(Number.isNaN(v)).toBe(false)
          for (const v of r.g) expect(Number.isNaN(v)).toBe(false)
          for (const v of r.plan().data) expect(Number.isFinite(v)).toBe(true)
          expect(Number.isFinite(r.cost)).toBe(true)
          for (const e of r.marginalErrors) expect(Number.isFinite(e)).toBe(true)
        }
      }),
      { seed: SEED, numRuns: 20 }
    )
  })
})

describe("ε → 0: Sinkhorn cost → the exact (LP) cost", () => {
  const { lp } = loadFixture<{
    lp: {
      a: number[]
      b: number[]
      C: number[][]
      lpCost: number
      epsilons: number[]
      entropicCosts: number[]
    }
  }>(import.meta.url, "./fixtures/sinkhorn.json")
  const C = matrixFromRows(lp.C)
  const problem = LinearProblem.make(Geometry.fromCostMatrix(Matrix.fromData(C.rows, C.cols, C.data)), {
    a: lp.a,
    b: lp.b
  })
  it("costs decrease to the LP value, each equal to POT's at that ε", () => {
    let previous = Number.POSITIVE_INFINITY
    lp.epsilons.forEach((epsilon, k) => {
      const r = EpsilonScaling.solve(problem, { epsilon, tolerance: 1e-12, maxIterations: 200_000 })
      expect(r.status).toBe("converged")
      // POT ran to 1e-14; 1e-9 covers the cost's sensitivity to a 1e-12 marginal error at ε = 1e-3.
      assertClose(r.cost, lp.entropicCosts[k]!, { rtol: 0, atol: 1e-9, label: `ε = ${epsilon}` })
      expect(r.cost).toBeGreaterThanOrEqual(lp.lpCost - 1e-12)
      expect(r.cost).toBeLessThanOrEqual(previous + 1e-12)
      previous = r.cost
    })
    // At ε = 1e-3 the entropic bias (≈ ε·log(n·m) bounds it) is below 1e-4 here.
    expect(previous - lp.lpCost).toBeLessThan(1e-4)
  })
})

describe("options and bad input", () => {
  const problem = LinearProblem.make(
    Geometry.fromCostMatrix(
      Matrix.fromRows([
        [0, 1],
        [1, 0]
      ])
    )
  )
  it("ε ≤ 0, NaN and other bad options throw InvalidOptions naming the field", () => {
    for (const epsilon of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      for (const solve of [
        Sinkhorn.solve,
        SinkhornLog.solve,
        SinkhornStabilized.solve,
        EpsilonScaling.solve,
        SinkhornNewtonSparse.solve
      ]) {
        try {
          solve(problem, { epsilon })
          expect.unreachable()
        } catch (e) {
          expect(e).toBeInstanceOf(Errors.InvalidOptions)
          expect((e as Errors.InvalidOptions).field).toBe("epsilon")
        }
      }
    }
    expect(() => Sinkhorn.solve(problem, { tolerance: -1 })).toThrow(Errors.InvalidOptions)
    expect(() => Sinkhorn.solve(problem, { maxIterations: 1.5 })).toThrow(Errors.InvalidOptions)
    expect(() => SinkhornNewtonSparse.solve(problem, { sparsityThreshold: 1 })).toThrow(Errors.InvalidOptions)
    expect(() => SinkhornStabilized.solve(problem, { absorptionThreshold: 1 })).toThrow(Errors.InvalidOptions)
    expect(() => Sinkhorn.solve(problem, { initialF: [0] })).toThrow(Errors.DimensionMismatch)
  })
  it("a point of positive mass with only forbidden pairs is rejected", () => {
    const inf = Number.POSITIVE_INFINITY
    const p = LinearProblem.make(
      Geometry.fromCostMatrix(
        Matrix.fromRows([
          [inf, inf],
          [1, 0]
        ])
      )
    )
    expect(() => SinkhornLog.solve(p)).toThrow(Errors.InvalidOptions)
  })
  it("the scaling form switches to the log domain instead of producing NaN", () => {
    const C = Matrix.fromRows([
      [0, 0.4, 0.9],
      [0.3, 0, 0.5],
      [0.8, 0.2, 0]
    ])
    const p = LinearProblem.make(Geometry.fromCostMatrix(C), { a: [0.5, 0.3, 0.2], b: [0.2, 0.3, 0.5] })
    // ε = 0.0016: the kernel is representable (0.9/ε < 700) but the scalings overflow.
    const r = Sinkhorn.solve(p, { epsilon: 0.0016, maxIterations: 5000, tolerance: 1e-10 })
    expect(r.status).toBe("converged")
    const l = SinkhornLog.solve(p, { epsilon: 0.0016, maxIterations: 5000, tolerance: 1e-10 })
    assertClose(r.plan(), l.plan(), { rtol: 0, atol: 1e-9 })
    const off = Sinkhorn.solve(p, { epsilon: 1e-3, logFallback: false })
    expect(off.domain).toBe("log")
  })
  it("ε-scaling accepts any schedule from @descent/optim", () => {
    const C = Matrix.fromRows([
      [0, 1],
      [1, 0]
    ])
    const p = LinearProblem.make(Geometry.fromCostMatrix(C))
    const r = EpsilonScaling.solve(p, {
      epsilon: 1e-3,
      schedule: Schedules.piecewiseConstant({ initValue: 1, boundaries: [1, 2], scales: [0.1, 0.1] })
    })
    expect(r.status).toBe("converged")
    assertClose(r.epsilons, [1, 0.1, 0.01, 1e-3], { rtol: 1e-12 })
    expect(() => EpsilonScaling.solve(p, { schedule: Schedules.constant(-1) })).toThrow(Errors.InvalidOptions)
  })
})
