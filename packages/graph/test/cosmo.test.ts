import { Matrix, Random } from "@descent/core"
import { assertClose } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Cosmo from "../src/Cosmo.ts"
import * as Dag from "../src/Dag.ts"
import * as Metrics from "../src/Metrics.ts"
import { er2, expectBadInputsRejected, PROPERTY_SEED } from "./learnerCases.ts"

/** Central differences on an objective of size O(1): see golem.test.ts. */
const FINITE_DIFFERENCE = { rtol: 1e-6, atol: 1e-7 }

describe("Cosmo", () => {
  it("recovers small ER2 graphs as DAGs ordered by priority", () => {
    // COSMO is a local method: its SHD depends on the data and the
    // initialization. Bounds: SHD ≤ 1 at d = 5, ≤ 3 at d = 10 (observed 0, 0,
    // 0 and 2).
    for (const [seed, d, bound] of [
      [1, 5, 1],
      [3, 5, 1],
      [1, 10, 3],
      [3, 10, 3]
    ] as const) {
      const { X, W } = er2(seed, d)
      const result = Cosmo.fit(X)
      expect(result.status).toBe("maxIterations")
      expect(result.iterations).toBe(Cosmo.defaultCosmoOptions.maxIterations)
      expect(Dag.isDag(result.W)).toBe(true)
      expect(Metrics.shd(W, result.W)).toBeLessThanOrEqual(bound)
      expect(result.temperature).toBeCloseTo(Cosmo.defaultCosmoOptions.finalTemperature, 6)
      // Acyclic by construction: every arc goes up the priority order.
      const position = new Int32Array(d)
      result.order.forEach((node, k) => {
        position[node] = k
      })
      for (const edge of Dag.edges(result.weights))
        expect(position[edge.from]!).toBeLessThan(position[edge.to]!)
    }
  })

  it("computes the gradients of A and p exactly (finite differences)", () => {
    const { X } = er2(4, 4)
    const d = 4
    const A0 = Matrix.fromData(d, d, Random.uniform(Random.key(5), d * d, { low: 0.2, high: 0.9 }))
    for (let i = 0; i < d; i++) A0.data[i * d + i] = 0
    const p0 = [0.03, -0.02, 0.11, 0.07]
    for (const hardOrientation of [false, true]) {
      // The objective at the initial temperature is evaluated by `init`.
      const options = { initialTemperature: 0.5, shift: 0.05, hardOrientation }
      const at = (A: Matrix.Matrix, p: ReadonlyArray<number>) =>
        Cosmo.solver.init(X, { ...options, initialWeights: A, initialPriorities: p })
      const state = at(A0, p0)
      const h = 1e-6
      const numericA = new Float64Array(d * d)
      for (let k = 0; k < d * d; k++) {
        if (Math.floor(k / d) === k % d) continue
        const plus = Matrix.clone(A0)
        plus.data[k]! += h
        const minus = Matrix.clone(A0)
        minus.data[k]! -= h
        numericA[k] = (at(plus, p0).score - at(minus, p0).score) / (2 * h)
      }
      const numericP = new Float64Array(d)
      for (let i = 0; i < d; i++) {
        const plus = p0.map((v, k) => (k === i ? v + h : v))
        const minus = p0.map((v, k) => (k === i ? v - h : v))
        numericP[i] = (at(A0, plus).score - at(A0, minus).score) / (2 * h)
      }
      if (!hardOrientation) {
        assertClose(state.grads.adjacency, numericA, FINITE_DIFFERENCE)
        assertClose(state.grads.priorities, numericP, FINITE_DIFFERENCE)
      } else {
        // Straight-through: A's gradient is exact (the 0/1 orientation is
        // locally constant); p's is the smooth orientation's by design.
        assertClose(state.grads.adjacency, numericA, FINITE_DIFFERENCE)
      }
    }
  })

  it("rejects bad input with typed errors", () => {
    expectBadInputsRejected(Cosmo.fit, { lambda1: -1 })
    const { X } = er2(1, 3, 20)
    expect(() => Cosmo.fit(X, { shift: 0 })).toThrow(/shift/)
    expect(() => Cosmo.fit(X, { initialTemperature: 0.1, finalTemperature: 1 })).toThrow(/finalTemperature/)
    expect(() => Cosmo.fit(X, { initialPriorities: [0, 1] })).toThrow(/initialPriorities/)
  })

  it("always returns a DAG (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 8 }),
        fc.nat(1000),
        fc.boolean(),
        fc.integer({ min: 1, max: 300 }),
        (d, seed, hardOrientation, maxIterations) => {
          const { X } = er2(seed, d, 50)
          const result = Cosmo.fit(X, { seed, hardOrientation, maxIterations, threshold: 0 })
          return Dag.isDag(result.W)
        }
      ),
      { seed: PROPERTY_SEED, numRuns: 40 }
    )
  })
})
