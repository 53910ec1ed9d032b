import { Blas1, Blas2, Errors, type Objective, Vector } from "@descent/core"
import { assertClose } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as MirrorDescent from "../src/MirrorDescent.ts"
import * as Schedules from "../src/Schedules.ts"
import { fixture, matrix, quadratic } from "./compositeProblems.ts"

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */
const FC = { seed: 20_260_512, numRuns: 40 } as const

/**
 * One exponentiated-gradient step against its closed form: an exp, a sum
 * and a division per entry (plus the log-domain recentring), a few ulps.
 */
const FEW_ULPS = { rtol: 1e-14, atol: 1e-16 } as const

/** Simplex feasibility after many multiplicative steps: Σx = r up to n roundings per step. */
const MASS = 1e-12

/**
 * For a μ-strongly convex f, ‖x − x*‖ ≤ √(2·gap/μ); λ_min(Q) ≥ 0.1 for the
 * fixture's Q. SLSQP's own error (~1e-9) is added.
 */
const distanceBound = (gap: number): number => Math.sqrt((2 * Math.max(gap, 0)) / 0.1) + 1e-8

describe("entropic mirror descent", () => {
  it("one step is the exponentiated-gradient update", () => {
    const Q = matrix([
      [2, 0, 0],
      [0, 1, 0],
      [0, 0, 3]
    ])
    const c = Vector.fromArray([0.5, -1, 0.25])
    const x0 = [0.2, 0.3, 0.5]
    const result = MirrorDescent.minimize(quadratic(Q, c), Vector.fromArray(x0), {
      stepSize: 0.7,
      maxIterations: 1
    })
    const g = [2 * 0.2 + 0.5, 0.3 - 1, 3 * 0.5 + 0.25]
    const w = x0.map((v, i) => v * Math.exp(-0.7 * g[i]!))
    const z = w.reduce((a, b) => a + b, 0)
    assertClose(
      result.x,
      w.map((v) => v / z),
      FEW_ULPS
    )
    assertClose(result.average, x0, FEW_ULPS)
  })

  it("solves the simplex-constrained quadratic (SLSQP reference) with a constant step", () => {
    const q = fixture.simplexQuadratic
    const n = q.c.length
    const f = quadratic(matrix(q.Q), Vector.fromArray(q.c))
    // η = 1/L₁, L₁ = max |Qᵢⱼ| (smoothness relative to the entropy in the ℓ1 norm).
    const l1Smoothness = Math.max(...q.Q.flat().map(Math.abs))
    const result = MirrorDescent.minimize(f, Vector.full(n, 1 / n), {
      stepSize: 1 / l1Smoothness,
      tolerance: 1e-10,
      maxIterations: 5000
    })
    expect(result.status).toBe("converged")
    expect(Math.hypot(...Array.from(result.x, (v, i) => v - q.x[i]!))).toBeLessThanOrEqual(
      distanceBound(result.dualityGap)
    )
    expect(result.fun - q.fun).toBeLessThanOrEqual(1e-10 + 1e-15)
  })

  it("takes a schedule or a function as step size (identical runs)", () => {
    const q = fixture.simplexQuadratic
    const n = q.c.length
    const f = quadratic(matrix(q.Q), Vector.fromArray(q.c))
    const schedule = Schedules.exponential({ initValue: 1, transitionSteps: 10, decayRate: 0.9 })
    const a = MirrorDescent.minimize(f, Vector.full(n, 1), { stepSize: schedule, maxIterations: 50 })
    const b = MirrorDescent.minimize(f, Vector.full(n, 1), {
      stepSize: (k) => Schedules.evaluate(schedule, k),
      maxIterations: 50
    })
    assertClose(a.x, b.x, { rtol: 0, atol: 0 })
    expect(a.iterations).toBe(50)
  })

  it("iterates stay on the simplex of mass r (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.double({ min: 0.1, max: 5, noNaN: true }),
        fc.double({ min: 0.01, max: 20, noNaN: true }),
        (n, s, radius, eta) => {
          const b = Vector.fromArray(Array.from({ length: n }, (_, i) => 5 * Math.sin(i * 1.3 + s)))
          // f(x) = ½‖x − b‖²: large steps push mass to a vertex, never off the simplex.
          const f: Objective.Objective = {
            dimension: n,
            value: () => 0,
            valueAndGradient: (x, g) => {
              Blas1.copy(x, g)
              Blas1.axpy(-1, b, g)
              return 0.5 * Blas1.dot(g, g)
            }
          }
          const x0 = Vector.fromArray(Array.from({ length: n }, (_, i) => 1 + i))
          const result = MirrorDescent.minimize(f, x0, {
            stepSize: eta,
            radius,
            maxIterations: 30,
            tolerance: 0
          })
          // With tolerance 0 a run may still converge (a gap of exactly 0, e.g. n = 1).
          expect(["maxIterations", "converged"]).toContain(result.status)
          for (const v of result.x) expect(v).toBeGreaterThanOrEqual(0)
          expect(Math.abs(Blas1.asum(result.x) - radius)).toBeLessThanOrEqual(MASS * radius)
          expect(Math.abs(Blas1.asum(result.average) - radius)).toBeLessThanOrEqual(MASS * radius)
          // The gap certifies suboptimality: it is never negative beyond rounding.
          expect(result.dualityGap).toBeGreaterThanOrEqual(-MASS)
        }
      ),
      FC
    )
  })

  it("nonsmooth f(x) = maxᵢ (Ax)ᵢ: the averaged iterate approaches the game value", () => {
    // Rock–paper–scissors: value 0 at the uniform strategy.
    const A = matrix([
      [0, 1, -1],
      [-1, 0, 1],
      [1, -1, 0]
    ])
    const z = Vector.zeros(3)
    const f: Objective.Objective = {
      dimension: 3,
      value: (x) => {
        Blas2.gemvT(1, A, x, 0, z)
        return Math.max(...z)
      },
      valueAndGradient: (x, g) => {
        Blas2.gemvT(1, A, x, 0, z)
        let j = 0
        for (let i = 1; i < 3; i++) if (z[i]! > z[j]!) j = i
        for (let i = 0; i < 3; i++) g[i] = A.data[i * 3 + j]!
        return z[j]!
      }
    }
    const K = 2000
    const result = MirrorDescent.minimize(f, Vector.fromArray([0.7, 0.2, 0.1]), {
      stepSize: Math.sqrt((2 * Math.log(3)) / K),
      maxIterations: K,
      tolerance: 0
    })
    // Beck–Teboulle: f(x̄) − f* ≤ L∞·√(2 log n / K) ≈ 0.033 with L∞ = 1.
    expect(f.value(result.average)).toBeLessThanOrEqual(Math.sqrt((2 * Math.log(3)) / K))
  })
})

describe("mirror descent statuses and bad inputs", () => {
  it("ends as diverged with the last finite iterate", () => {
    const f: Objective.Objective = {
      dimension: 2,
      value: (x) => (x[0]! > 0.9 ? Number.NaN : -x[0]!),
      valueAndGradient: (x, g) => {
        g[0] = -1
        g[1] = 0
        return x[0]! > 0.9 ? Number.NaN : -x[0]!
      }
    }
    const result = MirrorDescent.minimize(f, Vector.fromArray([0.5, 0.5]), { stepSize: 1 })
    expect(result.status).toBe("diverged")
    expect(result.x[0]!).toBeLessThanOrEqual(0.9)
    expect(result.fun).toBe(-result.x[0]!)
  })

  it("throws typed errors for bad inputs", () => {
    const f = quadratic(matrix([[1]]), Vector.fromArray([0]))
    expect(() => MirrorDescent.minimize(f, Vector.fromArray([-1]))).toThrow(Errors.InvalidOptions)
    expect(() => MirrorDescent.minimize(f, Vector.fromArray([0]))).toThrow(Errors.InvalidOptions)
    expect(() => MirrorDescent.minimize(f, Vector.fromArray([1, 1]))).toThrow(Errors.DimensionMismatch)
    expect(() => MirrorDescent.minimize(f, Vector.fromArray([Number.NaN]))).toThrow(Errors.NonFiniteInput)
    expect(() => MirrorDescent.minimize(f, Vector.fromArray([1]), { stepSize: -1 })).toThrow(
      Errors.InvalidOptions
    )
    expect(() => MirrorDescent.minimize(f, Vector.fromArray([1]), { radius: 0 })).toThrow(
      Errors.InvalidOptions
    )
  })
})
