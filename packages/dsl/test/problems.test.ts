import { Blas1, Matrix, Random, Vector } from "@descent/core"
import { SymmetricEigen } from "@descent/linalg"
import { Lbfgs } from "@descent/optim"
import { assertBitIdentical, assertClose } from "@descent/testing"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import * as Problems from "../src/Problems.ts"
import type { AnyProblemGenerator, ProblemInstance } from "../src/Registry.ts"

const key = Random.key(2026)

const cases: ReadonlyArray<readonly [string, AnyProblemGenerator, Record<string, unknown>]> = [
  ["logisticRegression", Problems.logisticRegression, { samples: 60, features: 7, condition: 50 }],
  ["leastSquares", Problems.leastSquares, { samples: 40, features: 6, ridge: 0.1, condition: 10 }],
  ["leastSquares (lasso)", Problems.leastSquares, { samples: 40, features: 6, l1: 0.05 }],
  ["rosenbrock", Problems.rosenbrock, { dimension: 7, jitter: 0.1 }],
  ["quadratic", Problems.quadratic, { dimension: 9, condition: 1e3 }],
  ["quadratic (diagonal, boxed)", Problems.quadratic, { dimension: 9, rotate: false, box: 0.3 }]
]

const build = (g: AnyProblemGenerator, p: Record<string, unknown>, k = key): ProblemInstance =>
  g.make(Schema.decodeUnknownSync(g.parameters)(p), k)

/** A point near x0 (deterministic). */
const pointNear = (problem: ProblemInstance, seed: number): Float64Array => {
  const x = Vector.clone(problem.x0)
  Blas1.axpy(0.5, Random.normal(Random.key(seed), x.length), x)
  return x
}

/**
 * Central differences along a unit direction v with step h = 1e-5: the
 * truncation error is h²/6·|f'''| and the rounding error about ε·|f|/h ≈
 * 2e-11·|f|. On these problems third derivatives along v are O(10³) at most
 * (Rosenbrock: 2400·|x|), so the total stays below 1e-6·max(1, |f|, |f′|).
 */
const FD_RTOL = 1e-6
const H = 1e-5

describe.each(cases)("%s", (_name, generator, parameters) => {
  const problem = build(generator, parameters)
  const n = problem.x0.length

  it("is a pure function of (parameters, key)", () => {
    const again = build(generator, parameters)
    const x = pointNear(problem, 1)
    assertBitIdentical(again.x0, problem.x0)
    expect(again.objective.value(x)).toBe(problem.objective.value(x))
    const other = build(generator, parameters, Random.key(7))
    if (generator !== Problems.rosenbrock || (parameters.jitter ?? 0) !== 0) {
      expect(
        other.objective.value(x) !== problem.objective.value(x) ||
          other.x0.some((v, i) => v !== problem.x0[i])
      ).toBe(true)
    }
  })

  it("has the traits its parameters say", () => {
    const traits = generator.traits(Schema.decodeUnknownSync(generator.parameters)(parameters))
    expect(traits.regularizer).toBe(problem.regularizer !== undefined)
    expect(traits.bounds).toBe(problem.bounds !== undefined)
  })

  it("gradients agree with central differences", () => {
    const x = pointNear(problem, 2)
    const g = Vector.zeros(n)
    const f = problem.objective.valueAndGradient(x, g)
    expect(f).toBe(problem.objective.value(x))
    const v = Random.normal(Random.key(3), n)
    Blas1.scal(1 / Blas1.nrm2(v), v)
    const xp = Vector.clone(x)
    const xm = Vector.clone(x)
    Blas1.axpy(H, v, xp)
    Blas1.axpy(-H, v, xm)
    const fd = (problem.objective.value(xp) - problem.objective.value(xm)) / (2 * H)
    const exact = Blas1.dot(g, v)
    expect(Math.abs(fd - exact)).toBeLessThanOrEqual(FD_RTOL * Math.max(1, Math.abs(f), Math.abs(exact)))
  })

  it("Hessian-vector products agree with differences of gradients", () => {
    const x = pointNear(problem, 4)
    const v = Random.normal(Random.key(5), n)
    Blas1.scal(1 / Blas1.nrm2(v), v)
    const hv = Vector.zeros(n)
    problem.objective.hessianVectorProduct!(x, v, hv)
    const gp = Vector.zeros(n)
    const gm = Vector.zeros(n)
    const xp = Vector.clone(x)
    const xm = Vector.clone(x)
    Blas1.axpy(H, v, xp)
    Blas1.axpy(-H, v, xm)
    problem.objective.valueAndGradient(xp, gp)
    problem.objective.valueAndGradient(xm, gm)
    const fd = Vector.zeros(n)
    for (let i = 0; i < n; i++) fd[i] = (gp[i]! - gm[i]!) / (2 * H)
    // Same error analysis as for gradients, one derivative higher.
    assertClose(hv, fd, { rtol: FD_RTOL, atol: FD_RTOL * Math.max(1, Blas1.nrm2(hv)) })
  })
})

describe("known optima and conditioning", () => {
  /** L-BFGS to a tight gradient tolerance: its value is within ~1e-12 relative of the optimum. */
  const solve = (problem: ProblemInstance): number =>
    Lbfgs.minimize(problem.objective, problem.x0, { tolerance: 1e-10, functionTolerance: 0 }).fun

  it("least squares: the direct solve's value is the minimum", () => {
    for (const p of [
      { samples: 50, features: 8, ridge: 0.3 },
      { samples: 50, features: 8 },
      { samples: 5, features: 8 } // rank-deficient: the minimum-norm solution
    ]) {
      const problem = build(Problems.leastSquares, p)
      expect(problem.optimum).toBeDefined()
      const f = solve(problem)
      // L-BFGS stops at ‖∇f‖∞ ≤ 1e-10: f − f* ≤ ‖∇f‖²/(2μ) is negligible here.
      expect(Math.abs(f - problem.optimum!)).toBeLessThanOrEqual(1e-10 * Math.max(1, Math.abs(f)))
    }
  })

  it("rosenbrock: minimum 0 at (1, …, 1), classic start", () => {
    const problem = build(Problems.rosenbrock, { dimension: 4 })
    assertBitIdentical(problem.x0, Vector.fromArray([-1.2, 1, -1.2, 1]))
    const ones = Vector.full(4, 1)
    const g = Vector.zeros(4)
    expect(problem.objective.valueAndGradient(ones, g)).toBe(0)
    assertBitIdentical(g, Vector.zeros(4))
    expect(problem.optimum).toBe(0)
  })

  it("quadratic: the Hessian has the requested condition number, and f* = 0", () => {
    const n = 12
    const condition = 1e4
    const problem = build(Problems.quadratic, { dimension: n, condition })
    const H = Matrix.zeros(n, n)
    const e = Vector.zeros(n)
    const column = Vector.zeros(n)
    for (let j = 0; j < n; j++) {
      e.fill(0)
      e[j] = 1
      problem.objective.hessianVectorProduct!(problem.x0, e, column)
      for (let i = 0; i < n; i++) H.data[i * n + j] = column[i]!
    }
    const eigenvalues = SymmetricEigen.eigvalsh(H)
    const max = Math.max(...eigenvalues)
    const min = Math.min(...eigenvalues)
    // Eigenvalues of Q·Λ·Qᵀ computed in floating point: relative error ~ n·ε·κ ≈ 3e-11.
    assertClose(max, 1, { rtol: 1e-12 })
    assertClose(max / min, condition, { rtol: 1e-9 })
    expect(problem.optimum).toBe(0)
    expect(solve(problem)).toBeLessThan(1e-12)
  })

  it("a box that cuts x* off leaves the optimum unknown", () => {
    const problem = build(Problems.quadratic, { dimension: 20, box: 0.01 })
    expect(problem.bounds).toBeDefined()
    expect(problem.optimum).toBeUndefined()
  })

  it("logistic regression: the mean loss at w = 0 is log 2, whatever the labels", () => {
    const n = 2000
    const problem = build(Problems.logisticRegression, { samples: n, features: 3, regularization: 0 })
    // A sum of n terms log 2 (each within 1 ulp), divided by n: relative error ≤ n·ε.
    assertClose(problem.objective.value(Vector.zeros(3)), Math.LN2, { rtol: n * Number.EPSILON })
    expect(problem.optimum).toBeUndefined()
  })
})

describe("parameters", () => {
  it("reject sizes beyond 2^24 matrix entries and out-of-range values", () => {
    const decode = Schema.decodeUnknownSync(Problems.logisticRegression.parameters)
    expect(() => decode({ samples: 1 << 20, features: 1 << 5 })).toThrow(/samples × features/)
    expect(() => decode({ samples: 10, features: 0 })).toThrow()
    expect(() => decode({ samples: 10, features: 2, condition: 0.5 })).toThrow()
    expect(() => Schema.decodeUnknownSync(Problems.rosenbrock.parameters)({ dimension: 1 })).toThrow()
  })
})
