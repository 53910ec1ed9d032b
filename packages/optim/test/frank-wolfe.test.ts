import { Blas1, Errors, Matrix, type Objective, Solver, Vector } from "@descent/core"
import { Svd } from "@descent/linalg"
import { assertClose } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as FrankWolfe from "../src/FrankWolfe.ts"
import * as Prox from "../src/Prox.ts"
import { fixture, matrix, quadratic } from "./compositeProblems.ts"

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */
const FC = { seed: 20_260_511, numRuns: 30 } as const

/**
 * For a μ-strongly convex f, ‖x − x*‖² ≤ 2(f(x) − f*)/μ ≤ 2·gap/μ: the
 * duality gap bounds the distance to the solution. Comparisons below use this
 * rigorous bound (plus a rounding allowance) instead of a tuned tolerance.
 */
const distanceBound = (gap: number, mu: number): number => Math.sqrt((2 * Math.max(gap, 0)) / mu) + 1e-12

const dist = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2
  return Math.sqrt(s)
}

/** ½‖x − b‖² (μ = 1). */
const squaredDistance = (b: Float64Array): Objective.Objective => {
  const n = b.length
  const valueAndGradient = (x: Float64Array, g: Float64Array): number => {
    Blas1.copy(x, g)
    Blas1.axpy(-1, b, g)
    return 0.5 * Blas1.dot(g, g)
  }
  return {
    dimension: n,
    value: (x) => valueAndGradient(x, Vector.zeros(n)),
    valueAndGradient,
    hessianVectorProduct: (_x, v, out) => Blas1.copy(v, out)
  }
}

const simplexQuadratic = () => {
  const q = fixture.simplexQuadratic
  const n = q.c.length
  return { f: quadratic(matrix(q.Q), Vector.fromArray(q.c)), n, oracle: FrankWolfe.simplex(n), q }
}

/** λ_min(Q) of the fixture's Q = AᵀA/30 + 0.1·I is at least 0.1. */
const MU_SIMPLEX_QUADRATIC = 0.1

/**
 * SLSQP's own error (ftol 1e-16): its solution has ‖∇L‖ ~ 1e-10 on this
 * problem, so it is within ~1e-9 of x*; added to the gap bound.
 */
const SLSQP_ERROR = 1e-8

describe("Frank–Wolfe on a simplex-constrained quadratic (solution on a face)", () => {
  it("away-step and pairwise close the duality gap and match SciPy's SLSQP", () => {
    const { f, n, oracle, q } = simplexQuadratic()
    for (const solve of [FrankWolfe.minimizeAwayStep, FrankWolfe.minimizePairwise]) {
      for (const stepRule of ["exact", "backtracking"] as const) {
        const result = solve(f, oracle, Vector.full(n, 1 / n), { tolerance: 1e-13, stepRule })
        expect(result.status).toBe("converged")
        expect(result.dualityGap).toBeLessThanOrEqual(1e-13)
        expect(result.gradientNorm).toBe(result.dualityGap)
        expect(dist(result.x, q.x)).toBeLessThanOrEqual(
          distanceBound(result.dualityGap, MU_SIMPLEX_QUADRATIC) + SLSQP_ERROR
        )
        expect(result.fun - q.fun).toBeLessThanOrEqual(1e-13 + 1e-15)
        // The solution has 4 positive coordinates: the active set ends on them.
        expect(result.activeSetSize).toBe(4)
      }
    }
  })

  it("away/pairwise converge linearly where vanilla FW does not (iteration counts)", () => {
    const { f, n, oracle } = simplexQuadratic()
    const start = Vector.full(n, 1 / n)
    const options = { tolerance: 1e-10, maxIterations: 3000 } as const
    const counts: Record<string, number | string> = {}
    for (const stepRule of ["openLoop", "exact", "backtracking"] as const) {
      const r = FrankWolfe.minimize(f, oracle, start, { ...options, stepRule })
      counts[`vanilla/${stepRule}`] = r.status
      // O(1/k): after 3000 iterations the gap is still ~1e-4.
      expect(r.status).toBe("maxIterations")
      expect(r.dualityGap).toBeGreaterThan(1e-6)
    }
    for (const stepRule of ["exact", "backtracking"] as const) {
      counts[`away/${stepRule}`] = FrankWolfe.minimizeAwayStep(f, oracle, start, {
        ...options,
        stepRule
      }).iterations
      counts[`pairwise/${stepRule}`] = FrankWolfe.minimizePairwise(f, oracle, start, {
        ...options,
        stepRule
      }).iterations
    }
    // Recorded iteration counts to a gap of 1e-10 (deterministic: core's kernels are bit-reproducible).
    expect(counts).toEqual({
      "vanilla/openLoop": "maxIterations",
      "vanilla/exact": "maxIterations",
      "vanilla/backtracking": "maxIterations",
      "away/exact": 19,
      "pairwise/exact": 23,
      "away/backtracking": 38,
      "pairwise/backtracking": 35
    })
  })

  it("linear rate: the away-step gap falls geometrically, vanilla's like 1/k", () => {
    const { f, n, oracle } = simplexQuadratic()
    const start = Vector.full(n, 1 / n)
    const away = FrankWolfe.minimizeAwayStep(f, oracle, start, {
      tolerance: 0,
      maxIterations: 19,
      traceEvery: 1,
      stepRule: "exact"
    })
    const vanilla = FrankWolfe.minimize(f, oracle, start, {
      tolerance: 0,
      maxIterations: 1000,
      traceEvery: 1,
      stepRule: "exact"
    })
    const ga = away.trace.values.dualityGap!
    const gv = vanilla.trace.values.dualityGap!
    // Away-step: 19 iterations gain more than 8 orders of magnitude; vanilla
    // gains fewer than 3 in 1000.
    expect(ga[19]! / ga[0]!).toBeLessThan(1e-8)
    expect(Math.min(...gv.slice(900)) / gv[0]!).toBeGreaterThan(1e-3)
  })

  it("keeps x = Σ αᵥ·v with weights on the simplex (away-step and pairwise invariant)", () => {
    const { f, n, oracle } = simplexQuadratic()
    for (const solver of [FrankWolfe.awayStepSolver, FrankWolfe.pairwiseSolver]) {
      const recombined = Vector.zeros(n)
      Solver.run(
        solver,
        { objective: f, oracle, x0: Vector.full(n, 1 / n) },
        { tolerance: 1e-10 },
        {
          maxIterations: 200,
          observer: (_k, state) => {
            recombined.fill(0)
            let total = 0
            for (let i = 0; i < state.vertices.length; i++) {
              expect(state.weights[i]!).toBeGreaterThan(0)
              total += state.weights[i]!
              Blas1.axpy(state.weights[i]!, state.vertices[i]!, recombined)
            }
            expect(Math.abs(total - 1)).toBeLessThanOrEqual(1e-12)
            assertClose(recombined, state.x, { rtol: 0, atol: 1e-12 })
          }
        }
      )
    }
  })
})

describe("linear minimization oracles", () => {
  it("ℓ1 ball: away-step FW solves the projection of b (cross-checked with Prox.projectL1Ball)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 10 }), fc.integer({ min: 0, max: 1000 }), (n, s) => {
        const b = Vector.fromArray(Array.from({ length: n }, (_, i) => 3 * Math.sin(1.7 * i + s)))
        const expected = Vector.zeros(n)
        Prox.projectL1Ball(b, 1, expected)
        const result = FrankWolfe.minimizeAwayStep(
          squaredDistance(b),
          FrankWolfe.l1Ball(n, 1),
          Vector.zeros(n),
          {
            tolerance: 1e-12,
            maxIterations: 5000
          }
        )
        expect(result.status).toBe("converged")
        expect(dist(result.x, expected)).toBeLessThanOrEqual(distanceBound(result.dualityGap, 1))
      }),
      FC
    )
  })

  it("simplex: pairwise FW solves the projection of b (cross-checked with Prox.projectSimplex)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 10 }), fc.integer({ min: 0, max: 1000 }), (n, s) => {
        const b = Vector.fromArray(Array.from({ length: n }, (_, i) => Math.cos(2.3 * i + s)))
        const expected = Vector.zeros(n)
        Prox.projectSimplex(b, 2, expected)
        const result = FrankWolfe.minimizePairwise(
          squaredDistance(b),
          FrankWolfe.simplex(n, 2),
          Vector.zeros(n),
          {
            tolerance: 1e-12,
            maxIterations: 5000
          }
        )
        expect(result.status).toBe("converged")
        expect(dist(result.x, expected)).toBeLessThanOrEqual(distanceBound(result.dualityGap, 1))
      }),
      FC
    )
  })

  it("box: pairwise FW solves the projection of b (clamping)", () => {
    const lower = [-1, 0, -2, 0.5]
    const upper = [1, 2, -1, 0.75]
    const b = Vector.fromArray([3, 1, 0, 0.6])
    const result = FrankWolfe.minimizePairwise(
      squaredDistance(b),
      FrankWolfe.box(lower, upper),
      Vector.zeros(4),
      {
        tolerance: 1e-12
      }
    )
    expect(result.status).toBe("converged")
    expect(dist(result.x, [1, 1, -1, 0.6])).toBeLessThanOrEqual(distanceBound(result.dualityGap, 1))
  })

  it("nuclear-norm ball: vanilla FW approaches the projection (singular values projected on the ℓ1 ball)", () => {
    const M = Matrix.fromRows([
      [3, 1, 0],
      [1, 2, 1],
      [0, 1, 1],
      [1, 0, 2]
    ])
    const b = Vector.clone(M.data)
    // Exact projection: U·P_{ℓ1 ball}(σ)·Vᵀ.
    const { U, singularValues, Vt } = Svd.svd(M)
    const sigma = Vector.zeros(singularValues.length)
    Prox.projectL1Ball(singularValues, 2, sigma)
    const expected = Vector.zeros(12)
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 3; j++)
        for (let k = 0; k < 3; k++)
          expected[i * 3 + j]! += U.data[i * 3 + k]! * sigma[k]! * Vt.data[k * 3 + j]!
    const result = FrankWolfe.minimize(
      squaredDistance(b),
      FrankWolfe.nuclearNormBall(4, 3, 2),
      Vector.zeros(12),
      {
        tolerance: 1e-6,
        maxIterations: 20_000
      }
    )
    expect(result.status).toBe("converged")
    expect(dist(result.x, expected)).toBeLessThanOrEqual(distanceBound(result.dualityGap, 1))
    expect(
      Svd.singularValues(Matrix.fromData(4, 3, result.x)).reduce((a, v) => a + v, 0)
    ).toBeLessThanOrEqual(2 + 1e-12)
  })
})

describe("Frank–Wolfe statuses and bad inputs", () => {
  it("ends as diverged with the last finite iterate", () => {
    // f = −x₀ on the 2-simplex, NaN where x₀ > 0.75: the first FW step (γ = 1) lands on e₀.
    const f: Objective.Objective = {
      dimension: 2,
      value: (x) => (x[0]! > 0.75 ? Number.NaN : -x[0]!),
      valueAndGradient: (x, g) => {
        g[0] = -1
        g[1] = 0
        return x[0]! > 0.75 ? Number.NaN : -x[0]!
      }
    }
    const result = FrankWolfe.minimize(f, FrankWolfe.simplex(2), Vector.fromArray([0.5, 0.5]), {
      stepRule: "openLoop"
    })
    expect(result.status).toBe("diverged")
    assertClose(result.x, [0.5, 0.5], { rtol: 0, atol: 0 })
    expect(result.fun).toBe(-0.5)
  })

  it("throws typed errors for bad inputs", () => {
    const { f, n, oracle } = simplexQuadratic()
    const x0 = Vector.full(n, 1 / n)
    expect(() => FrankWolfe.minimize(f, FrankWolfe.simplex(n + 1), Vector.zeros(n))).toThrow(
      Errors.DimensionMismatch
    )
    expect(() => FrankWolfe.minimize(f, oracle, Vector.zeros(n + 1))).toThrow(Errors.DimensionMismatch)
    const { hessianVectorProduct: _, ...noHessian } = f
    expect(() => FrankWolfe.minimize(noHessian, oracle, x0, { stepRule: "exact" })).toThrow(
      Errors.InvalidOptions
    )
    expect(() => FrankWolfe.minimize(f, oracle, x0, { stepRule: "wolfe" as FrankWolfe.StepRule })).toThrow(
      Errors.InvalidOptions
    )
    expect(() => FrankWolfe.minimize(f, oracle, x0, { tolerance: -1 })).toThrow(Errors.InvalidOptions)
    expect(() => FrankWolfe.simplex(0)).toThrow(Errors.InvalidOptions)
    expect(() => FrankWolfe.l1Ball(3, 0)).toThrow(Errors.InvalidOptions)
    expect(() => FrankWolfe.box([0, 1], [1, 0])).toThrow(Errors.InvalidOptions)
    expect(() => FrankWolfe.box([0], [1, 2])).toThrow(Errors.DimensionMismatch)
  })
})
