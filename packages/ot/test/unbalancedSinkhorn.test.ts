import { Errors, Matrix } from "@descent/core"
import { assertClose } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Geometry from "../src/Geometry.ts"
import * as LinearProblem from "../src/LinearProblem.ts"
import * as UnbalancedSinkhorn from "../src/UnbalancedSinkhorn.ts"
import { fixture, matrix } from "./otMoreFixture.ts"

/**
 * POT's plans were iterated until the relative change of its scalings fell
 * below 1e-15; ours stop at an L1 optimality error of 1e-13. Near a fixed
 * point of a contraction, plan entries (≤ 0.1) then agree to about the
 * error, so 1e-11 absolute (and 1e-9 relative) leaves two orders of margin.
 */
const PLAN = { atol: 1e-11, rtol: 1e-9 }
/** Scalar objectives are sums of ~100 such entries times costs ≤ 1. */
const VALUE = { atol: 1e-11, rtol: 1e-10 }

const SEED = 20260709

describe("UnbalancedSinkhorn against POT (sinkhorn_unbalanced, reg_type='kl')", () => {
  for (const c of fixture.unbalanced) {
    it(c.name, () => {
      const problem = LinearProblem.make(Geometry.fromCostMatrix(matrix(c.C)), {
        a: c.a,
        b: c.b,
        rhoA: c.rhoA,
        rhoB: c.rhoB
      })
      const result = UnbalancedSinkhorn.solve(problem, {
        epsilon: c.reg,
        tolerance: 1e-13,
        maxIterations: 50_000
      })
      expect(result.status).toBe("converged")
      assertClose(result.plan(), matrix(c.plan), { ...PLAN, label: "plan" })
      assertClose(result.cost, c.linearCost, { ...VALUE, label: "linear cost" })
      assertClose(result.objective, c.objective, { ...VALUE, label: "objective" })
      // Strong duality at the fixed point.
      assertClose(result.dualObjective, result.objective, { ...VALUE, label: "dual objective" })
      expect(result.marginalErrors.length).toBe(result.iterations + 1)
    })
  }
})

describe("UnbalancedSinkhorn properties", () => {
  const C = Matrix.fromRows([
    [0, 0.4, 1],
    [0.3, 0.1, 0.6]
  ])
  const geometry = Geometry.fromCostMatrix(C)

  it("with ρ = ∞ on both sides it is balanced Sinkhorn: marginals a and b", () => {
    const problem = LinearProblem.make(geometry, { a: [0.4, 0.6], b: [0.2, 0.3, 0.5] })
    const r = UnbalancedSinkhorn.solve(problem, { epsilon: 0.05, tolerance: 1e-14, maxIterations: 10_000 })
    expect(r.status).toBe("converged")
    assertClose(r.rowMarginal, [0.4, 0.6], { atol: 1e-14 })
    assertClose(r.colMarginal, [0.2, 0.3, 0.5], { atol: 1e-14 })
  })

  it("the plan's marginals meet the optimality conditions P1 = a·e^{−f/ρ_a}, Pᵀ1 = b·e^{−g/ρ_b}", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.05, max: 20, noNaN: true }),
        fc.double({ min: 0.05, max: 20, noNaN: true }),
        fc.double({ min: 0.02, max: 1, noNaN: true }),
        (rhoA, rhoB, epsilon) => {
          const problem = LinearProblem.make(geometry, { a: [0.5, 0.7], b: [0.1, 0.2, 0.4], rhoA, rhoB })
          const r = UnbalancedSinkhorn.solve(problem, { epsilon, tolerance: 1e-12, maxIterations: 20_000 })
          expect(r.status).toBe("converged")
          const P = r.plan()
          for (let i = 0; i < 2; i++) {
            const target = problem.a[i]! * Math.exp(-r.f[i]! / rhoA)
            // The reported error bounds each marginal's deviation.
            expect(
              Math.abs(P.data[3 * i]! + P.data[3 * i + 1]! + P.data[3 * i + 2]! - target)
            ).toBeLessThanOrEqual(r.marginalError + 1e-15)
          }
          assertClose(r.dualObjective, r.objective, { atol: 1e-10, rtol: 1e-9 })
        }
      ),
      { seed: SEED, numRuns: 30 }
    )
  })

  it("forbidden pairs (C = +∞) get no mass; small ε gives no NaN", () => {
    const Cinf = Matrix.fromRows([
      [0, Number.POSITIVE_INFINITY],
      [1, 0]
    ])
    const problem = LinearProblem.make(Geometry.fromCostMatrix(Cinf), {
      a: [1, 1],
      b: [0.5, 2],
      rhoA: 0.05,
      rhoB: 0.05
    })
    const r = UnbalancedSinkhorn.solve(problem, { epsilon: 1e-3, tolerance: 1e-12, maxIterations: 10_000 })
    expect(r.status).toBe("converged")
    expect(r.plan().data[1]).toBe(0)
    expect(Number.isFinite(r.objective)).toBe(true)
  })

  it("rejects ε ≤ 0, a negative tolerance and bad warm starts, naming the field", () => {
    const problem = LinearProblem.make(geometry, { rhoA: 1, rhoB: 1 })
    for (const [options, field] of [
      [{ epsilon: 0 }, "epsilon"],
      [{ epsilon: Number.NaN }, "epsilon"],
      [{ tolerance: -1 }, "tolerance"],
      [{ maxIterations: 1.5 }, "maxIterations"],
      [{ checkEvery: 0 }, "checkEvery"]
    ] as const) {
      try {
        UnbalancedSinkhorn.solve(problem, options)
        expect.unreachable()
      } catch (e) {
        expect(e).toBeInstanceOf(Errors.InvalidOptions)
        expect((e as Errors.InvalidOptions).field).toBe(field)
      }
    }
    expect(() => UnbalancedSinkhorn.solve(problem, { initialF: [0] })).toThrow(Errors.DimensionMismatch)
    expect(() => UnbalancedSinkhorn.solve(problem, { initialF: [0, Number.NaN] })).toThrow(
      Errors.NonFiniteInput
    )
  })

  it("a budget too small reports maxIterations, and a warm start from the result converges at once", () => {
    const problem = LinearProblem.make(geometry, { rhoA: 0.5, rhoB: 2 })
    const short = UnbalancedSinkhorn.solve(problem, { epsilon: 0.01, maxIterations: 3 })
    expect(short.status).toBe("maxIterations")
    const full = UnbalancedSinkhorn.solve(problem, { epsilon: 0.01, tolerance: 1e-12, maxIterations: 10_000 })
    const warm = UnbalancedSinkhorn.solve(problem, { epsilon: 0.01, tolerance: 1e-10, initialF: full.f })
    expect(warm.status).toBe("converged")
    expect(warm.iterations).toBeLessThanOrEqual(1)
  })
})
