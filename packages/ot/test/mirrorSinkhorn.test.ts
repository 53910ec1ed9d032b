import { Errors, Matrix, Random } from "@descent/core"
import { Schedules } from "@descent/optim"
import { assertClose } from "@descent/testing"
import { describe, expect, it } from "vitest"
import * as MirrorSinkhorn from "../src/MirrorSinkhorn.ts"
import { fixture, matrix } from "./otMoreFixture.ts"

const { C, a, b, emdCost, quadratic } = fixture.mirror
const n = 5
const m = 6

/**
 * The rate of Ballu & Berthet (2023) for ‖∇F‖∞ ≤ L: F(P̂_T) − F* ≤
 * const·L·√(log(nm)/T). With the constant taken as √2 (the mirror-descent
 * bound D/(ηT) + ηL²/2 at the default step) this is the tolerance; the
 * rounding adds at most L·2·(marginal error of the average), included by
 * the theorem's constant in the paper and measured here (≤ 0.03 at T = 10⁴).
 */
const rateBound = (L: number, T: number): number => L * Math.sqrt((2 * Math.log(n * m)) / T)

/** ½‖P − Q‖²_F and its gradient P − Q. */
const quadraticObjective = (Q: Matrix.Matrix): MirrorSinkhorn.Objective => ({
  value: (P) => {
    let s = 0
    for (let k = 0; k < P.data.length; k++) s += 0.5 * (P.data[k]! - Q.data[k]!) ** 2
    return s
  },
  gradient: (P, out) => {
    for (let k = 0; k < P.data.length; k++) out.data[k] = P.data[k]! - Q.data[k]!
  }
})

const rowsAndCols = (P: Matrix.Matrix) => {
  const r = new Float64Array(P.rows)
  const c = new Float64Array(P.cols)
  for (let i = 0; i < P.rows; i++)
    for (let j = 0; j < P.cols; j++) {
      r[i] = r[i]! + P.data[i * P.cols + j]!
      c[j] = c[j]! + P.data[i * P.cols + j]!
    }
  return { r, c }
}

describe("MirrorSinkhorn", () => {
  it("linear objective ⟨C, P⟩: the rounded average is a transport plan whose cost approaches the EMD cost (POT ot.emd2)", () => {
    const problem = MirrorSinkhorn.linear(matrix(C), { a, b })
    const gaps = [1000, 10_000].map((T) => {
      const r = MirrorSinkhorn.solve(problem, { iterations: T })
      expect(r.status).toBe("converged")
      expect(r.iterations).toBe(T)
      const { r: rows, c: cols } = rowsAndCols(r.plan())
      // Rounding lands on U(a, b) up to rounding errors.
      assertClose(rows, a, { atol: 1e-15 })
      assertClose(cols, b, { atol: 1e-15 })
      const gap = r.cost - emdCost
      expect(gap).toBeGreaterThanOrEqual(-1e-15)
      // max C = 1 (normalized): L = 1.
      expect(gap).toBeLessThanOrEqual(rateBound(1, T))
      return gap
    })
    expect(gaps[1]!).toBeLessThan(gaps[0]!)
  })

  it("quadratic objective ½‖P − Q‖²: converges to the closed-form projection (SciPy SLSQP agrees)", () => {
    const q = quadratic[0]!
    expect(q.closedFormPositive).toBe(true)
    const Q = matrix(q.Q)
    // The fixture's SLSQP optimum equals the closed form (affine projection, interior).
    assertClose(matrix(q.solution), matrix(q.closedForm!), { atol: 1e-12 })
    const T = 10_000
    const r = MirrorSinkhorn.solve(MirrorSinkhorn.make(n, m, quadraticObjective(Q), { a, b }), {
      iterations: T
    })
    const gap = r.objective - q.value
    expect(gap).toBeGreaterThanOrEqual(-1e-15)
    // L = ‖P − Q‖∞ ≤ 0.1 along the run (entries of P and Q are ≤ 0.1).
    expect(gap).toBeLessThanOrEqual(rateBound(0.1, T))
    // Strong convexity (modulus 1): ‖P̂ − P*‖_F ≤ √(2·gap).
    let distance = 0
    const P = r.plan()
    const S = matrix(q.closedForm!)
    for (let k = 0; k < P.data.length; k++) distance += (P.data[k]! - S.data[k]!) ** 2
    expect(Math.sqrt(distance)).toBeLessThanOrEqual(Math.sqrt(2 * gap) + 1e-12)
  })

  it("quadratic objective with active constraints P ≥ 0 (SciPy SLSQP reference)", () => {
    const q = quadratic[1]!
    const T = 10_000
    const r = MirrorSinkhorn.solve(MirrorSinkhorn.make(n, m, quadraticObjective(matrix(q.Q)), { a, b }), {
      iterations: T
    })
    const gap = r.objective - q.value
    expect(gap).toBeGreaterThanOrEqual(-1e-12)
    expect(gap).toBeLessThanOrEqual(rateBound(0.2, T))
  })

  it("online: unbiased noisy gradients C + σZ still approach the EMD cost; runs are reproducible from the key", () => {
    const cost = matrix(C)
    const sigma = 0.5
    const noise = Matrix.zeros(n, m)
    const problem = MirrorSinkhorn.make(
      n,
      m,
      {
        value: (P) => {
          let s = 0
          for (let k = 0; k < P.data.length; k++) s += cost.data[k]! * P.data[k]!
          return s
        },
        gradient: (_P, out, { key }) => {
          Random.normal(key, noise.data, { scale: sigma })
          for (let k = 0; k < out.data.length; k++) out.data[k] = cost.data[k]! + noise.data[k]!
        }
      },
      { a, b }
    )
    const T = 10_000
    const r1 = MirrorSinkhorn.solve(problem, { iterations: T, key: Random.key(11) })
    const r2 = MirrorSinkhorn.solve(problem, { iterations: T, key: Random.key(11) })
    const r3 = MirrorSinkhorn.solve(problem, { iterations: 200, key: Random.key(12) })
    expect(Array.from(r1.plan().data)).toEqual(Array.from(r2.plan().data))
    expect(r1.cost).not.toBe(r3.cost)
    // The stochastic rate of the paper has L replaced by a bound on the noisy
    // gradients; L + 3σ covers all but 0.3% of the entries of each draw.
    expect(r1.cost - emdCost).toBeLessThanOrEqual(rateBound(1 + 3 * sigma, T))
  })

  it("accepts a schedule as step size; rejects bad options", () => {
    const problem = MirrorSinkhorn.linear(matrix(C), { a, b })
    const r = MirrorSinkhorn.solve(problem, { iterations: 2000, stepSize: Schedules.constant(0.5) })
    expect(r.stepSizeSum).toBeCloseTo(1000, 9)
    expect(r.cost - emdCost).toBeLessThan(0.05)
    expect(() => MirrorSinkhorn.solve(problem, { iterations: 0 })).toThrow(Errors.InvalidOptions)
    expect(() => MirrorSinkhorn.solve(problem, { stepSize: -1 })).toThrow(Errors.InvalidOptions)
    expect(() => MirrorSinkhorn.solve(problem, { stepSize: Schedules.constant(0), iterations: 3 })).toThrow(
      Errors.InvalidOptions
    )
    expect(() => MirrorSinkhorn.linear(matrix(C), { a, b: [1, 1, 1, 1, 1, 1] })).toThrow(/masses differ/)
    const zero = MirrorSinkhorn.make(2, 2, { value: () => 0, gradient: (_P, out) => out.data.fill(0) })
    expect(() => MirrorSinkhorn.solve(zero)).toThrow(Errors.InvalidOptions)
    expect(MirrorSinkhorn.solve(zero, { stepSize: 1, iterations: 3 }).cost).toBe(0)
  })
})
