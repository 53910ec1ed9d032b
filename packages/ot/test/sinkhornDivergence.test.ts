import { Errors, Matrix } from "@descent/core"
import { assertClose } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Geometry from "../src/Geometry.ts"
import * as SinkhornDivergence from "../src/SinkhornDivergence.ts"
import { fixture, matrix } from "./otMoreFixture.ts"

const SEED = 20260709

/**
 * POT ran its Sinkhorn to a marginal error of 1e-13 (and the NumPy values of
 * OT_ε used its log-domain Sinkhorn to 1e-13); ours stop at 1e-13 too. Costs
 * are raw squared distances (up to ~20), so values agree to ~20 × 1e-13:
 * 1e-10 absolute leaves a margin of 50.
 */
const VALUE = { atol: 1e-10, rtol: 1e-10 }

describe("SinkhornDivergence against POT (empirical_sinkhorn_divergence)", () => {
  for (const c of fixture.divergence) {
    it(c.name, () => {
      const problem = SinkhornDivergence.pointClouds(matrix(c.x), matrix(c.y), { a: c.a, b: c.b })
      const r = SinkhornDivergence.solve(problem, { epsilon: c.reg, tolerance: 1e-13, maxIterations: 20_000 })
      expect(r.status).toBe("converged")
      // POT debiases the linear costs and clamps at 0.
      assertClose(Math.max(0, r.linearDivergence), c.pot, { ...VALUE, label: "POT's divergence" })
      assertClose(r.linearXY, c.linearXY, { ...VALUE, label: "⟨C, P_xy⟩" })
      assertClose(r.linearXX, c.linearXX, { ...VALUE, label: "⟨C, P_xx⟩" })
      assertClose(r.linearYY, c.linearYY, { ...VALUE, label: "⟨C, P_yy⟩" })
      assertClose(r.regularizedXY, c.regularizedXY, { ...VALUE, label: "OT_ε(α, β)" })
      assertClose(r.regularizedXX, c.regularizedXX, { ...VALUE, label: "OT_ε(α, α)" })
      assertClose(r.regularizedYY, c.regularizedYY, { ...VALUE, label: "OT_ε(β, β)" })
      assertClose(r.divergence, c.regularized, { ...VALUE, label: "S_ε" })
    })
  }
})

/** A cloud of k points in [−1, 1]² from fast-check. */
const cloud = (k: number) =>
  fc
    .array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 2 * k, maxLength: 2 * k })
    .map((v) => Matrix.fromData(k, 2, Float64Array.from(v)))

describe("SinkhornDivergence properties", () => {
  /**
   * "S_ε(α, α) = 0 to solver tolerance": a dual value misses the optimum by
   * at most (marginal error) × (oscillation of the potentials) ≤ error × max C
   * (max C = 8 for points in [−1, 1]²), so |S_ε(α, α)| ≤ 8·(errors of the
   * terms) + rounding. Nearly decoupled clusters make Sinkhorn slow, so the
   * bound uses the reported errors rather than demanding the tolerance.
   */
  const MAX_COST = 8
  const ROUNDING = 1e-12

  it("S_ε(α, α) = 0 and S_ε(α, β) ≥ 0 on random clouds", () => {
    fc.assert(
      fc.property(cloud(6), cloud(5), fc.double({ min: 0.2, max: 2, noNaN: true }), (x, y, epsilon) => {
        const options = { epsilon, tolerance: 1e-11, maxIterations: 5000 }
        const self = SinkhornDivergence.solve(SinkhornDivergence.pointClouds(x, x), options)
        const selfError = self.marginalErrors[self.marginalErrors.length - 1]!
        expect(Math.abs(self.divergence)).toBeLessThanOrEqual(3 * MAX_COST * selfError + ROUNDING)
        const r = SinkhornDivergence.solve(SinkhornDivergence.pointClouds(x, y), options)
        const error = r.marginalErrors[r.marginalErrors.length - 1]!
        expect(r.divergence).toBeGreaterThanOrEqual(-3 * MAX_COST * error - ROUNDING)
      }),
      { seed: SEED, numRuns: 25 }
    )
  })

  it("S_ε(α, α) is 0 to 1e-12 on a generic cloud (converged)", () => {
    const x = Matrix.fromRows([
      [0.1, 0.2],
      [0.7, -0.3],
      [-0.5, 0.4],
      [0.3, 0.9]
    ])
    const r = SinkhornDivergence.solve(
      SinkhornDivergence.pointClouds(x, x, { a: [0.1, 0.2, 0.3, 0.4], b: [0.1, 0.2, 0.3, 0.4] }),
      {
        epsilon: 0.1,
        tolerance: 1e-13,
        maxIterations: 10_000
      }
    )
    expect(r.status).toBe("converged")
    expect(Math.abs(r.divergence)).toBeLessThanOrEqual(1e-12)
  })

  it("matches explicit geometries, and the self term's potential is symmetric (P = Pᵀ)", () => {
    const x = Matrix.fromRows([
      [0, 0],
      [1, 0],
      [0, 1]
    ])
    const y = Matrix.fromRows([
      [0.5, 0.5],
      [2, 0]
    ])
    const lazy = SinkhornDivergence.solve(SinkhornDivergence.pointClouds(x, y, { scale: 2 }), {
      epsilon: 0.1
    })
    const dense = (u: Matrix.Matrix, v: Matrix.Matrix) =>
      Geometry.fromCostMatrix(Geometry.materialize(Geometry.pointCloud(u, v)), {})
    const explicit = SinkhornDivergence.make(dense(x, y), dense(x, x), dense(y, y))
    const r = SinkhornDivergence.solve(explicit, { epsilon: 0.2 })
    // Costs halved ⇔ ε doubled, values halved.
    assertClose(lazy.divergence, r.divergence / 2, { rtol: 1e-9 })
    expect(r.p.length).toBe(3)
    expect(r.q.length).toBe(2)
  })

  it("rejects bad options and unbalanced masses", () => {
    const x = Matrix.fromRows([[0], [1]])
    expect(() => SinkhornDivergence.solve(SinkhornDivergence.pointClouds(x, x), { epsilon: -1 })).toThrow(
      Errors.InvalidOptions
    )
    expect(() => SinkhornDivergence.pointClouds(x, x, { a: [0.5, 0.5], b: [0.5, 0.6] })).toThrow(
      /masses differ/
    )
    expect(() => SinkhornDivergence.pointClouds(x, x, { scale: 0 })).toThrow(Errors.InvalidOptions)
  })
})
