import { Errors, Matrix, Random } from "@descent/core"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Dag from "../src/Dag.ts"
import * as Golem from "../src/Golem.ts"
import * as Metrics from "../src/Metrics.ts"
import * as Topo from "../src/Topo.ts"
import { er2, expectBadInputsRejected, PROPERTY_SEED } from "./learnerCases.ts"

/** A random permutation of 0…d−1 as a plain array. */
const randomOrder = (seed: number, d: number): number[] => Array.from(Random.permutation(Random.key(seed), d))

describe("Topo", () => {
  it("recovers ER2 graphs exactly from the order 0…d−1 (least squares)", () => {
    for (const [seed, d] of [
      [1, 5],
      [2, 10],
      [3, 20]
    ] as const) {
      const { X, W } = er2(seed, d)
      const result = Topo.fit(X)
      expect(result.status).toBe("converged")
      expect(Dag.isDag(result.W)).toBe(true)
      // Equal noise variances: the least-squares order is the true one.
      expect(Metrics.shd(W, result.W)).toBe(0)
      expect(result.score).toBeLessThan(result.initialScore)
      // Every kept edge goes forward in the returned order.
      const position = new Int32Array(d)
      result.order.forEach((node, k) => {
        position[node] = k
      })
      for (const edge of Dag.edges(result.W)) expect(position[edge.from]!).toBeLessThan(position[edge.to]!)
    }
  })

  it("with an l1 penalty still returns a DAG close to the truth", () => {
    const { X, W } = er2(1, 10)
    const result = Topo.fit(X, { lambda1: 0.02 })
    expect(Dag.isDag(result.W)).toBe(true)
    expect(Metrics.shd(W, result.W)).toBeLessThanOrEqual(1)
  })

  it("post-processes another learner's output without increasing the score", () => {
    const { X, W } = er2(7, 8)
    // A deliberately poor start: GOLEM stopped after 100 steps.
    const rough = Golem.fit(X, { learningRate: 1e-2, maxIterations: 100 })
    const refined = Topo.refine(X, rough.W)
    expect(refined.score).toBeLessThanOrEqual(refined.initialScore)
    expect(Dag.isDag(refined.W)).toBe(true)
    expect(Metrics.shd(W, refined.W)).toBeLessThanOrEqual(Metrics.shd(W, rough.W))
    // A cyclic graph is pruned to a DAG first.
    const cyclic = Matrix.fromRows([
      [0, 1, 0, 0, 0, 0, 0, 0],
      [0, 0, 1, 0, 0, 0, 0, 0],
      [0.5, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0, 0]
    ])
    const fromCycle = Topo.refine(X, cyclic)
    expect(Dag.isDag(fromCycle.W)).toBe(true)
  })

  it("never increases the score and returns a DAG from any start (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 9 }), fc.nat(1000), fc.boolean(), (d, seed, l1) => {
        const { X } = er2(seed, d, 60)
        const result = Topo.fit(X, {
          initialOrder: randomOrder(seed + 1, d),
          lambda1: l1 ? 0.05 : 0,
          maxPasses: 50
        })
        return result.score <= result.initialScore && Dag.isDag(result.W) && Dag.isDag(result.weights)
      }),
      { seed: PROPERTY_SEED, numRuns: 60 }
    )
  })

  it("rejects bad input with typed errors", () => {
    expectBadInputsRejected(Topo.fit, { lambda1: -1 })
    const { X } = er2(1, 3, 20)
    expect(() => Topo.fit(X, { initialOrder: [0, 0, 1] })).toThrow(Errors.InvalidOptions)
    expect(() => Topo.fit(X, { initialOrder: [0, 1] })).toThrow(/initialOrder/)
    expect(() => Topo.fit(X, { smallSearchSize: 0 })).toThrow(/smallSearchSize/)
    expect(() => Topo.refine(X, Matrix.zeros(2, 2))).toThrow(Errors.DimensionMismatch)
  })
})
