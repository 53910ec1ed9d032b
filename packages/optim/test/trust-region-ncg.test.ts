import { Errors, type Objective, Vector } from "@descent/core"
import { assertClose } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as TrustRegionNcg from "../src/TrustRegionNcg.ts"
import { fixture, logisticRegression, matrix, quadratic, rosenbrock } from "./compositeProblems.ts"

/**
 * Agreement with SciPy's solution: both runs stop with ‖∇f‖ ≤ 1e-10 (SciPy's
 * trust-ncg with gtol 1e-12/1e-13), and the Hessians at the minimizers have
 * smallest eigenvalues ≈ 0.4 (Rosenbrock) and ≈ 5.7 (logistic), so each
 * iterate is within ~1e-9 of the exact minimizer; the brief's 1e-8 holds.
 */
const SOLUTION = { rtol: 0, atol: 1e-8 } as const

/** Stopping tolerance of the comparison runs (‖∇f‖∞). */
const TIGHT = 1e-10

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */
const FC = { seed: 20_260_509, numRuns: 25 } as const

describe("TrustRegionNcg vs scipy.optimize.minimize(method='trust-ncg')", () => {
  it("solves the 10-d Rosenbrock function", () => {
    const r = fixture.rosenbrock
    const result = TrustRegionNcg.minimize(rosenbrock(10), Vector.fromArray(r.x0), { tolerance: TIGHT })
    expect(result.status).toBe("converged")
    assertClose(result.x, r.trustNcg.x, SOLUTION)
    assertClose(result.x, r.newtonCg.x, SOLUTION)
    expect(result.counts.hessianVector).toBe(result.innerIterations)
    // Same algorithm and parameters as SciPy (Δ₀ = 1, Δ_max = 1000, η = 0.15):
    // the iteration counts should be close (SciPy: 86).
    expect(Math.abs(result.iterations - r.trustNcg.nit)).toBeLessThanOrEqual(r.trustNcg.nit / 2)
  })

  it("solves L2-regularized logistic regression", () => {
    const l = fixture.logistic
    const f = logisticRegression(matrix(l.X), Vector.fromArray(l.y), l.lambda)
    const result = TrustRegionNcg.minimize(f, Vector.fromArray(l.x0), { tolerance: TIGHT })
    expect(result.status).toBe("converged")
    assertClose(result.x, l.trustNcg.x, SOLUTION)
    assertClose(result.x, l.newtonCg.x, SOLUTION)
    assertClose(result.fun, l.trustNcg.fun, { rtol: 1e-12 })
  })

  it("uses finite differences of gradients without a Hessian-vector product", () => {
    const { hessianVectorProduct: _, ...f } = rosenbrock(10)
    const result = TrustRegionNcg.minimize(f, Vector.fromArray(fixture.rosenbrock.x0), { tolerance: 1e-8 })
    expect(result.status).toBe("converged")
    expect(result.exactHessian).toBe(false)
    assertClose(result.x, fixture.rosenbrock.trustNcg.x, { rtol: 0, atol: 1e-7 })
  })

  it("follows negative curvature to the boundary of the region", () => {
    // f = x₀² − x₁² + x₁⁴: indefinite Hessian at the start.
    const f: Objective.Objective = {
      dimension: 2,
      value: (x) => x[0]! ** 2 - x[1]! ** 2 + x[1]! ** 4,
      valueAndGradient: (x, g) => {
        g[0] = 2 * x[0]!
        g[1] = -2 * x[1]! + 4 * x[1]! ** 3
        return x[0]! ** 2 - x[1]! ** 2 + x[1]! ** 4
      },
      hessianVectorProduct: (x, v, out) => {
        out[0] = 2 * v[0]!
        out[1] = (12 * x[1]! ** 2 - 2) * v[1]!
      }
    }
    const result = TrustRegionNcg.minimize(f, Vector.fromArray([0.01, 0.1]), { tolerance: TIGHT })
    expect(result.status).toBe("converged")
    assertClose(result.x, [0, Math.SQRT1_2], SOLUTION)
  })

  it("never steps outside the trust region and the model decrease is positive (random SPD quadratics)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.double({ min: 1e-3, max: 10, noNaN: true }),
        (n, s, radius) => {
          const rows = Array.from({ length: n }, (_, i) =>
            Array.from({ length: n }, (_, j) => (i === j ? n + 1 : Math.sin(i * 7 + j * 7 + s)))
          )
          const sym = rows.map((r, i) => r.map((v, j) => (v + rows[j]![i]!) / 2))
          const c = Vector.fromArray(Array.from({ length: n }, (_, i) => 3 * Math.cos(i + s)))
          const f = quadratic(matrix(sym), c)
          const one = TrustRegionNcg.minimize(f, Vector.zeros(n), {
            initialRadius: radius,
            maxRadius: radius,
            maxIterations: 1
          })
          expect(Math.hypot(...one.x)).toBeLessThanOrEqual(radius * (1 + 1e-12))
          expect(one.fun).toBeLessThan(0)
          const full = TrustRegionNcg.minimize(f, Vector.zeros(n), { tolerance: 1e-12 })
          expect(full.status).toBe("converged")
        }
      ),
      FC
    )
  })
})

describe("TrustRegionNcg statuses and bad inputs", () => {
  it("ends as diverged with the last finite iterate when f turns NaN", () => {
    const f: Objective.Objective = {
      dimension: 1,
      value: (x) => (x[0]! < 2 ? -x[0]! * x[0]! : Number.NaN),
      valueAndGradient: (x, g) => {
        g[0] = x[0]! < 2 ? -2 * x[0]! : Number.NaN
        return x[0]! < 2 ? -x[0]! * x[0]! : Number.NaN
      },
      hessianVectorProduct: (_x, v, out) => {
        out[0] = -2 * v[0]!
      }
    }
    const result = TrustRegionNcg.minimize(f, Vector.fromArray([0.5]))
    expect(result.status).toBe("diverged")
    expect(result.x[0]!).toBeLessThan(2)
    expect(result.fun).toBe(-result.x[0]! * result.x[0]!)
  })

  it("ends as stalled when the radius collapses", () => {
    const f: Objective.Objective = {
      dimension: 1,
      value: (x) => x[0]! * x[0]!,
      valueAndGradient: (x, g) => {
        g[0] = -2 * x[0]!
        return x[0]! * x[0]!
      },
      hessianVectorProduct: (_x, v, out) => {
        out[0] = 2 * v[0]!
      }
    }
    const result = TrustRegionNcg.minimize(f, Vector.fromArray([1]))
    expect(result.status).toBe("stalled")
    expect(result.rejectedSteps).toBe(result.iterations)
    assertClose(result.x, [1], { rtol: 0, atol: 0 })
  })

  it("throws typed errors for bad inputs", () => {
    const f = rosenbrock(2)
    expect(() => TrustRegionNcg.minimize(f, Vector.zeros(3))).toThrow(Errors.DimensionMismatch)
    expect(() => TrustRegionNcg.minimize(f, Vector.fromArray([0, Number.POSITIVE_INFINITY]))).toThrow(
      Errors.NonFiniteInput
    )
    expect(() => TrustRegionNcg.minimize(f, Vector.zeros(2), { initialRadius: 0 })).toThrow(
      Errors.InvalidOptions
    )
    expect(() => TrustRegionNcg.minimize(f, Vector.zeros(2), { initialRadius: 2, maxRadius: 1 })).toThrow(
      Errors.InvalidOptions
    )
    expect(() => TrustRegionNcg.minimize(f, Vector.zeros(2), { acceptance: 0.3 })).toThrow(
      Errors.InvalidOptions
    )
  })
})
