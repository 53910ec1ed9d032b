import { Autodiff, Errors, type Objective, Tensor as T, Vector } from "@descent/core"
import { assertClose } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as NewtonCg from "../src/NewtonCg.ts"
import { fixture, logisticRegression, matrix, quadratic, rosenbrock } from "./compositeProblems.ts"

/**
 * Agreement with SciPy's solution: both runs stop with ‖∇f‖∞ ≤ 1e-10 (SciPy's
 * Newton-CG with xtol 1e-14), and the Hessians at the minimizers have
 * smallest eigenvalues ≈ 0.4 (Rosenbrock) and ≈ 5.7 (logistic), so each
 * iterate is within ~1e-9 of the exact minimizer; the brief's 1e-8 holds.
 */
const SOLUTION = { rtol: 0, atol: 1e-8 } as const

/** Stopping tolerance of the comparison runs (‖∇f‖∞). */
const TIGHT = 1e-10

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */
const FC = { seed: 20_260_508, numRuns: 25 } as const

describe("NewtonCg vs scipy.optimize.minimize(method='Newton-CG')", () => {
  it("solves the 10-d Rosenbrock function", () => {
    const r = fixture.rosenbrock
    const result = NewtonCg.minimize(rosenbrock(10), Vector.fromArray(r.x0), { tolerance: TIGHT })
    expect(result.status).toBe("converged")
    expect(result.exactHessian).toBe(true)
    assertClose(result.x, r.newtonCg.x, SOLUTION)
    assertClose(result.x, r.trustNcg.x, SOLUTION)
    expect(result.gradientNorm).toBeLessThanOrEqual(TIGHT)
    expect(result.counts.hessianVector).toBe(result.innerIterations)
    // SciPy needs 130 iterations from this start; a line-search Newton method
    // should be in the same range (not a hard requirement, a sanity bound).
    expect(result.iterations).toBeLessThan(3 * r.newtonCg.nit)
  })

  it("solves L2-regularized logistic regression", () => {
    const l = fixture.logistic
    const f = logisticRegression(matrix(l.X), Vector.fromArray(l.y), l.lambda)
    const result = NewtonCg.minimize(f, Vector.fromArray(l.x0), { tolerance: TIGHT })
    expect(result.status).toBe("converged")
    assertClose(result.x, l.newtonCg.x, SOLUTION)
    assertClose(result.x, l.trustNcg.x, SOLUTION)
    assertClose(result.fun, l.newtonCg.fun, { rtol: 1e-12 })
  })

  it("uses finite differences of gradients without a Hessian-vector product", () => {
    const l = fixture.logistic
    const { hessianVectorProduct: _, ...f } = logisticRegression(matrix(l.X), Vector.fromArray(l.y), l.lambda)
    const result = NewtonCg.minimize(f, Vector.fromArray(l.x0), { tolerance: 1e-9 })
    expect(result.status).toBe("converged")
    expect(result.exactHessian).toBe(false)
    expect(result.counts.hessianVector).toBe(0)
    assertClose(result.x, l.trustNcg.x, SOLUTION)
  })

  it("takes the Hessian-vector product of core's Autodiff.hvp", () => {
    const f = (x: T.Tensor): T.Tensor => {
      const a = T.slice(x, 0, 1)
      const b = T.slice(x, 1, 2)
      return T.sum(T.add(T.pow(T.sub(1, a), 2), T.mul(100, T.pow(T.sub(b, T.mul(a, a)), 2))))
    }
    const objective: Objective.Objective = {
      dimension: 2,
      value: (x) => Autodiff.valueAndGrad(f)(x).value as number,
      valueAndGradient: (x, g) => {
        const { value, gradient } = Autodiff.valueAndGrad(f)(x) as { value: number; gradient: Float64Array }
        g.set(gradient)
        return value
      },
      hessianVectorProduct: (x, v, out) => out.set(Autodiff.hvp(f, x, v) as Float64Array)
    }
    const result = NewtonCg.minimize(objective, Vector.fromArray([-1.2, 1]), { tolerance: TIGHT })
    expect(result.status).toBe("converged")
    assertClose(result.x, [1, 1], SOLUTION)
  })

  it("detects negative curvature and still descends", () => {
    // f = x₀² − x₁² + x₁⁴ has Hessian diag(2, 12x₁² − 2), indefinite at the
    // start; there −∇f = (−0.02, 0.196) is a direction of negative curvature,
    // so the first CG iteration falls back to steepest descent.
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
    const result = NewtonCg.minimize(f, Vector.fromArray([0.01, 0.1]), { tolerance: TIGHT })
    expect(result.negativeCurvatureSteps).toBeGreaterThan(0)
    expect(result.status).toBe("converged")
    assertClose(result.x, [0, Math.SQRT1_2], SOLUTION)
  })

  it("converges on random SPD quadratics to ‖∇f‖∞ ≤ 1e-12", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 1000 }), (n, s) => {
        const rows = Array.from({ length: n }, (_, i) =>
          Array.from({ length: n }, (_, j) => (i === j ? n + 1 : Math.sin(i * 7 + j * 7 + s)))
        )
        const sym = rows.map((r, i) => r.map((v, j) => (v + rows[j]![i]!) / 2))
        const c = Vector.fromArray(Array.from({ length: n }, (_, i) => Math.cos(i + s)))
        const result = NewtonCg.minimize(quadratic(matrix(sym), c), Vector.zeros(n), { tolerance: 1e-12 })
        expect(result.status).toBe("converged")
        expect(result.gradientNorm).toBeLessThanOrEqual(1e-12)
      }),
      FC
    )
  })
})

describe("NewtonCg statuses and bad inputs", () => {
  it("reports maxIterations, and trace rows per iteration", () => {
    const r = fixture.rosenbrock
    const result = NewtonCg.minimize(rosenbrock(10), Vector.fromArray(r.x0), {
      maxIterations: 3,
      traceEvery: 1
    })
    expect(result.status).toBe("maxIterations")
    expect(result.iterations).toBe(3)
    expect(result.trace.iteration).toEqual([0, 1, 2, 3])
    expect(result.trace.values.objective!.length).toBe(4)
  })

  it("ends as diverged with the last finite iterate when the objective turns NaN", () => {
    // f(x) = −x² for x < 2 (unbounded direction), NaN beyond: the Newton
    // direction has negative curvature, so steps grow until a trial hits NaN.
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
    const result = NewtonCg.minimize(f, Vector.fromArray([0.5]))
    expect(result.status).toBe("diverged")
    expect(Number.isFinite(result.x[0]!)).toBe(true)
    expect(result.x[0]!).toBeLessThan(2)
    expect(result.fun).toBe(-result.x[0]! * result.x[0]!)
  })

  it("ends as stalled when no step decreases f", () => {
    // A gradient that points the wrong way: no descent along −∇f.
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
    const result = NewtonCg.minimize(f, Vector.fromArray([1]), { maxLineSearchTrials: 5 })
    expect(result.status).toBe("stalled")
    assertClose(result.x, [1], { rtol: 0, atol: 0 })
  })

  it("throws typed errors for bad inputs", () => {
    const f = rosenbrock(2)
    expect(() => NewtonCg.minimize(f, Vector.zeros(3))).toThrow(Errors.DimensionMismatch)
    expect(() => NewtonCg.minimize(f, Vector.fromArray([Number.NaN, 0]))).toThrow(Errors.NonFiniteInput)
    expect(() => NewtonCg.minimize(f, Vector.zeros(2), { tolerance: -1 })).toThrow(Errors.InvalidOptions)
    expect(() => NewtonCg.minimize(f, Vector.zeros(2), { sufficientDecrease: 1 })).toThrow(
      Errors.InvalidOptions
    )
    expect(() => NewtonCg.minimize(f, Vector.zeros(2), { innerIterationsPerDimension: 0 })).toThrow(
      Errors.InvalidOptions
    )
    const bad: Objective.Objective = {
      dimension: 1,
      value: () => Number.NaN,
      valueAndGradient: () => Number.NaN
    }
    expect(() => NewtonCg.minimize(bad, Vector.zeros(1))).toThrow(Errors.NonFiniteInput)
  })

  it("returns at once from a stationary start", () => {
    const result = NewtonCg.minimize(rosenbrock(4), Vector.fromArray([1, 1, 1, 1]))
    expect(result.status).toBe("converged")
    expect(result.iterations).toBe(0)
  })
})
