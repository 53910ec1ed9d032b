import { Errors, Matrix, Random } from "@descent/core"
import { assertClose, loadFixture } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Assignment from "../src/Assignment.ts"
import * as Emd from "../src/Emd.ts"
import { InfeasibleTransport } from "../src/Errors.ts"
import * as Geometry from "../src/Geometry.ts"
import * as LinearProblem from "../src/LinearProblem.ts"

interface AssignmentCase {
  readonly name: string
  readonly cost: number[][]
  readonly rows: number[]
  readonly cols: number[]
  readonly total: number
  readonly unique: boolean
}

const fixture = loadFixture<{ readonly assignment: ReadonlyArray<AssignmentCase> }>(
  import.meta.url,
  "fixtures/exact.json"
)

const PROPERTY_SEED = 20260916

// A total of ≤ 64 standard-normal costs summed in a different order than
// SciPy: a few ulps of Σ|C| ≈ 50.
const TOTAL_ATOL = 1e-12
// Potentials: sums of ≤ 2n reduced-cost updates of O(1) costs.
const DUAL_ATOL = 1e-12

/** u_i + v_j ≤ C_ij everywhere and = on the assignment. */
const checkDuals = (C: Matrix.Matrix, r: Assignment.LinearSumAssignment): void => {
  for (let i = 0; i < C.rows; i++)
    for (let j = 0; j < C.cols; j++) {
      const c = C.data[i * C.cols + j]!
      if (Number.isFinite(c)) expect(r.u[i]! + r.v[j]! - c).toBeLessThanOrEqual(DUAL_ATOL)
    }
  for (let k = 0; k < r.rows.length; k++) {
    const i = r.rows[k]!
    const j = r.cols[k]!
    expect(Math.abs(r.u[i]! + r.v[j]! - C.data[i * C.cols + j]!)).toBeLessThanOrEqual(DUAL_ATOL)
  }
}

describe("Assignment against SciPy's linear_sum_assignment (fixtures/exact.json, SciPy 1.17)", () => {
  for (const c of fixture.assignment) {
    it(`${c.name}`, () => {
      const C = Matrix.fromRows(c.cost)
      const r = Assignment.linearSumAssignment(C)
      assertClose(r.totalCost, c.total, { rtol: 0, atol: TOTAL_ATOL, label: "total cost" })
      expect(Array.from(r.rows)).toEqual(c.rows)
      if (c.unique) expect(Array.from(r.cols)).toEqual(c.cols)
      expect(new Set(r.cols).size).toBe(r.cols.length)
      checkDuals(C, r)
    })
  }
})

describe("Assignment properties (fast-check)", () => {
  it("the permutation plan has the network simplex's cost on uniform square problems", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 25 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (n, integer, seed) => {
          const C = Matrix.fromData(n, n, Random.uniform(Random.key(seed), n * n))
          if (integer) for (let k = 0; k < n * n; k++) C.data[k] = Math.floor(3 * C.data[k]!)
          const problem = LinearProblem.make(Geometry.fromCostMatrix(C))
          const r = Assignment.solve(problem)
          const emd = Emd.solve(problem)
          assertClose(r.cost, emd.cost, { rtol: 1e-12, atol: 1e-15, label: "assignment vs EMD" })
          expect(new Set(r.assignment).size).toBe(n)
          // Transport duals: f_i + g_j ≤ C_ij, aᵀf + bᵀg = cost, aᵀf = bᵀg.
          let dual = 0
          let af = 0
          for (let i = 0; i < n; i++) {
            dual += (r.f[i]! + r.g[i]!) / n
            af += r.f[i]! / n
            for (let j = 0; j < n; j++)
              expect(r.f[i]! + r.g[j]! - C.data[i * n + j]!).toBeLessThanOrEqual(DUAL_ATOL)
          }
          assertClose(dual, r.cost, { rtol: 0, atol: 1e-12 })
          expect(Math.abs(2 * af - r.cost)).toBeLessThanOrEqual(1e-12)
          const P = r.plan()
          for (let i = 0; i < n; i++) expect(P.data[i * n + r.assignment[i]!]).toBe(1 / n)
        }
      ),
      { seed: PROPERTY_SEED, numRuns: 100 }
    )
  })
})

describe("Assignment special inputs", () => {
  const inf = Number.POSITIVE_INFINITY

  it("forbidden pairs are avoided; no complete matching is InfeasibleTransport", () => {
    const C = Matrix.fromRows([
      [inf, 1, 4],
      [2, inf, 1],
      [1, 3, inf]
    ])
    const r = Assignment.linearSumAssignment(C)
    expect(Array.from(r.cols)).toEqual([1, 2, 0])
    expect(r.totalCost).toBe(3)
    checkDuals(C, r)
    const blocked = Matrix.fromRows([
      [0, inf, inf],
      [1, inf, inf],
      [1, 1, 1]
    ])
    expect(() => Assignment.linearSumAssignment(blocked)).toThrow(InfeasibleTransport)
    expect(() => Assignment.solve(LinearProblem.make(Geometry.fromCostMatrix(blocked)))).toThrow(
      InfeasibleTransport
    )
  })

  it("NaN, −∞ and empty matrices; non-square or non-uniform problems", () => {
    expect(() => Assignment.linearSumAssignment(Matrix.fromRows([[0, Number.NaN]]))).toThrow(
      Errors.NonFiniteInput
    )
    expect(() => Assignment.linearSumAssignment(Matrix.fromRows([[Number.NEGATIVE_INFINITY]]))).toThrow(
      Errors.NonFiniteInput
    )
    expect(() => Assignment.linearSumAssignment(Matrix.zeros(0, 3))).toThrow(Errors.EmptyInput)
    const rect = LinearProblem.make(Geometry.fromCostMatrix(Matrix.zeros(2, 3)))
    expect(() => Assignment.solve(rect)).toThrow(Errors.DimensionMismatch)
    const skewed = LinearProblem.make(Geometry.fromCostMatrix(Matrix.zeros(2, 2)), { a: [0.3, 0.7] })
    try {
      Assignment.solve(skewed)
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(Errors.InvalidOptions)
      expect((e as Errors.InvalidOptions).field).toBe("a")
    }
  })

  it("negative costs and a tall matrix (solved transposed, rows listed in increasing order)", () => {
    const C = Matrix.fromRows([
      [-1, 5],
      [3, -2],
      [0, 0]
    ])
    const r = Assignment.linearSumAssignment(C)
    expect(Array.from(r.rows)).toEqual([0, 1])
    expect(Array.from(r.cols)).toEqual([0, 1])
    expect(r.totalCost).toBe(-3)
    checkDuals(C, r)
  })
})
