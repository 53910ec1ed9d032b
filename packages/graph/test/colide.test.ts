import { Matrix, Random, Vector } from "@descent/core"
import { assertClose } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Colide from "../src/Colide.ts"
import * as Dag from "../src/Dag.ts"
import * as Metrics from "../src/Metrics.ts"
import { er2, expectBadInputsRejected, PROPERTY_SEED } from "./learnerCases.ts"

/**
 * The paper's schedule (2·10⁴ warm + 7·10⁴ final steps at 3·10⁻⁴) takes about
 * 3·10⁴ steps on these graphs; a shorter one (4000 + 8000 steps at 10⁻³,
 * checks every 500) reaches the same graphs and keeps the suite fast.
 */
const SHORT = { warmIterations: 4000, finalIterations: 8000, learningRate: 1e-3, checkEvery: 500 } as const

/** Central differences on a score of size O(1): see golem.test.ts. */
const FINITE_DIFFERENCE = { rtol: 1e-6, atol: 1e-7 }

describe("Colide", () => {
  it("recovers small ER2 graphs (EV and NV) as DAGs and estimates the noise scale", () => {
    for (const [seed, d] of [
      [3, 5],
      [3, 8],
      [1, 10]
    ] as const) {
      const { X, W } = er2(seed, d)
      for (const equalVariances of [true, false]) {
        const result = Colide.fit(X, { ...SHORT, equalVariances })
        expect(Dag.isDag(result.W)).toBe(true)
        expect(result.status).toBe("converged")
        expect(result.stagesCompleted).toBe(4)
        // SHD 0 on 5 of these 6 runs (one missed edge for NV at d = 8, as
        // with the paper's schedule).
        expect(Metrics.shd(W, result.W)).toBeLessThanOrEqual(1)
        // Unit-variance noise: the concomitant scale estimates it (n = 1000).
        expect(result.noiseScale.length).toBe(equalVariances ? 1 : d)
        for (const sigma of result.noiseScale) expect(Math.abs(sigma - 1)).toBeLessThan(0.1)
        expect(result.acyclicity).toBeLessThan(1e-3)
      }
    }
  })

  it("uses the closed-form scale: the score's gradient in W matches finite differences", () => {
    const { X } = er2(5, 4)
    const d = 4
    const W0 = Random.uniform(Random.key(3), d * d, { low: -0.3, high: 0.3 })
    for (const equalVariances of [true, false]) {
      const state = Colide.solver.init(X, { equalVariances })
      const score = state.path.score
      const gradient = Vector.zeros(d * d)
      score.valueAndGradient(W0, gradient)
      const numeric = Vector.zeros(d * d)
      const scratch = Vector.zeros(d * d)
      const h = 1e-6
      for (let k = 0; k < d * d; k++) {
        const plus = Vector.clone(W0)
        plus[k]! += h
        const minus = Vector.clone(W0)
        minus[k]! -= h
        numeric[k] =
          (score.valueAndGradient(plus, scratch) - score.valueAndGradient(minus, scratch)) / (2 * h)
      }
      assertClose(gradient, numeric, FINITE_DIFFERENCE)
    }
  })

  it("rejects bad input with typed errors", () => {
    expectBadInputsRejected(Colide.fit, { lambda1: -0.1 })
    const { X } = er2(1, 3, 20)
    expect(() => Colide.fit(X, { s: [] })).toThrow(/option s/)
    expect(() => Colide.fit(X, { muFactor: 2 })).toThrow(/muFactor/)
    expect(() => Colide.fit(X, { initialWeights: Matrix.zeros(2, 2) })).toThrow(/initialWeights/)
  })

  it("always returns a DAG (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 6 }), fc.nat(1000), fc.boolean(), (d, seed, equalVariances) => {
        const { X } = er2(seed, d, 50)
        const result = Colide.fit(X, {
          equalVariances,
          warmIterations: 100,
          finalIterations: 200,
          learningRate: 1e-2,
          threshold: 0.05
        })
        return Dag.isDag(result.W)
      }),
      { seed: PROPERTY_SEED, numRuns: 20 }
    )
  })
})
