import { Errors, Matrix } from "@descent/core"
import { describe, expect, it } from "vitest"
import { NegativeMass, UnbalancedMarginals } from "../src/Errors.ts"
import * as Geometry from "../src/Geometry.ts"
import * as LinearProblem from "../src/LinearProblem.ts"

const x = Matrix.fromRows([
  [0, 0],
  [1, 0],
  [0, 2]
])
const y = Matrix.fromRows([
  [1, 1],
  [3, 0]
])

describe("Geometry", () => {
  it("point clouds give the same costs row by row, entry by entry and materialized, normalized by the max", () => {
    const g = Geometry.pointCloud(x, y, { normalize: "max" })
    const C = Geometry.materialize(g)
    // Squared distances: rows (2, 9), (1, 4), (2, 13); max 13.
    expect(Matrix.toRows(C)).toEqual([
      [2 / 13, 9 / 13],
      [1 / 13, 4 / 13],
      [2 / 13, 13 / 13]
    ])
    expect(g.scale).toBe(13)
    expect(Geometry.costAt(g, 2, 0)).toBe(2 / 13)
    const dense = Geometry.fromCostMatrix(
      Matrix.fromRows([
        [2, 9],
        [1, 4],
        [2, 13]
      ]),
      { normalize: "max" }
    )
    expect(Matrix.toRows(Geometry.materialize(dense))).toEqual(Matrix.toRows(C))
    const e = Geometry.pointCloud(x, y, { cost: "euclidean" })
    expect(Geometry.costAt(e, 0, 1)).toBe(3)
  })

  it("rejects NaN costs and coordinates, empty inputs and dimension mismatches; +∞ costs are allowed", () => {
    expect(() => Geometry.fromCostMatrix(Matrix.fromRows([[0, Number.NaN]]))).toThrow(Errors.NonFiniteInput)
    expect(Geometry.fromCostMatrix(Matrix.fromRows([[0, Number.POSITIVE_INFINITY]])).cols).toBe(2)
    expect(() => Geometry.fromCostMatrix(Matrix.zeros(0, 3))).toThrow(Errors.EmptyInput)
    expect(() => Geometry.pointCloud(x, Matrix.zeros(2, 3))).toThrow(Errors.DimensionMismatch)
    expect(() => Geometry.pointCloud(Matrix.fromRows([[Number.POSITIVE_INFINITY, 0]]), y)).toThrow(
      Errors.NonFiniteInput
    )
  })
})

describe("LinearProblem", () => {
  const g = Geometry.pointCloud(x, y)
  it("defaults to uniform marginals and checks masses", () => {
    const p = LinearProblem.make(g)
    expect(Array.from(p.a)).toEqual([1 / 3, 1 / 3, 1 / 3])
    expect(Array.from(p.b)).toEqual([0.5, 0.5])
    expect(LinearProblem.isBalanced(p)).toBe(true)
  })

  it("names negative, NaN, empty and unbalanced marginals; unbalanced problems relax the mass check", () => {
    expect(() => LinearProblem.make(g, { a: [0.5, 0.6, -0.1] })).toThrow(NegativeMass)
    expect(() => LinearProblem.make(g, { a: [0.5, Number.NaN, 0.5] })).toThrow(Errors.NonFiniteInput)
    expect(() => LinearProblem.make(g, { b: [1] })).toThrow(Errors.DimensionMismatch)
    try {
      LinearProblem.make(g, { a: [0.5, 0.3, 0.2], b: [0.5, 0.48] })
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(UnbalancedMarginals)
      expect((e as UnbalancedMarginals).message).toContain("a sums to 1 and b to 0.98")
    }
    expect(LinearProblem.make(g, { a: [0.5, 0.3, 0.2], b: [0.5, 0.48], rhoA: 1, rhoB: 1 }).massB).toBeCloseTo(
      0.98,
      15
    )
    expect(() => LinearProblem.make(g, { rhoA: 0 })).toThrow(Errors.InvalidOptions)
    expect(() => LinearProblem.make(g, { a: [0, 0, 0] })).toThrow(Errors.InvalidOptions)
  })
})
