/**
 * The objectives of test/fixtures/quasi_newton.json (generate_quasi_newton.py),
 * with hand-written gradients: chained Rosenbrock (n = 10), a convex
 * quadratic ½xᵀAx − bᵀx (n = 20) and L2-regularized logistic regression
 * (600 × 25) on core's kernels (gemv, Logistic.logisticLoss, gemvT).
 */
import { Blas1, Blas2, Logistic, Matrix, type Objective, Vector } from "@descent/core"

export interface QuasiNewtonRun {
  readonly x: ReadonlyArray<number>
  readonly fun: number
  readonly jac: ReadonlyArray<number>
  readonly nit: number
  readonly nfev: number
  readonly njev: number
  readonly status: number
  readonly message: string
}

export interface QuasiNewtonProblemFixture {
  readonly n: number
  readonly x0: ReadonlyArray<number>
  readonly lower?: ReadonlyArray<number>
  readonly upper?: ReadonlyArray<number>
  readonly A?: ReadonlyArray<number>
  readonly b?: ReadonlyArray<number>
  readonly d?: number
  readonly lambda?: number
  readonly X?: ReadonlyArray<number>
  readonly y?: ReadonlyArray<number>
  readonly exact?: { readonly x: ReadonlyArray<number>; readonly fun: number; readonly active: number }
  readonly newton?: { readonly x: ReadonlyArray<number>; readonly fun: number }
  readonly unconstrainedMinimizer?: ReadonlyArray<number>
  readonly runs: Record<string, QuasiNewtonRun>
}

export interface QuasiNewtonFixture {
  readonly versions: Record<string, string>
  readonly problems: {
    readonly rosenbrock: QuasiNewtonProblemFixture
    readonly quadratic: QuasiNewtonProblemFixture
    readonly logistic: QuasiNewtonProblemFixture
  }
}

export interface TestProblem {
  readonly objective: Objective.Objective
  readonly x0: Float64Array
  readonly lower?: Float64Array
  readonly upper?: Float64Array
  /** The gtol of the fixture's tight runs. */
  readonly tightGtol: number
}

/** scipy.optimize.rosen and rosen_der. */
export const rosenbrock = (n: number): Objective.Objective => ({
  dimension: n,
  value: (x) => {
    let f = 0
    for (let i = 0; i < n - 1; i++) f += 100 * (x[i + 1]! - x[i]! * x[i]!) ** 2 + (1 - x[i]!) ** 2
    return f
  },
  valueAndGradient: (x, g) => {
    let f = 0
    g.fill(0)
    for (let i = 0; i < n - 1; i++) {
      const a = x[i + 1]! - x[i]! * x[i]!
      const b = 1 - x[i]!
      f += 100 * a * a + b * b
      g[i] = g[i]! - 400 * x[i]! * a - 2 * b
      g[i + 1] = g[i + 1]! + 200 * a
    }
    return f
  }
})

/** f(x) = ½xᵀAx − bᵀx with A symmetric (row-major n × n). */
export const quadratic = (A: Matrix.Matrix, b: Float64Array): Objective.Objective => {
  const ax = Vector.zeros(b.length)
  return {
    dimension: b.length,
    value: (x) => {
      Blas2.gemv(1, A, x, 0, ax)
      return 0.5 * Blas1.dot(x, ax) - Blas1.dot(b, x)
    },
    valueAndGradient: (x, g) => {
      Blas2.gemv(1, A, x, 0, ax)
      const f = 0.5 * Blas1.dot(x, ax) - Blas1.dot(b, x)
      for (let i = 0; i < g.length; i++) g[i] = ax[i]! - b[i]!
      return f
    }
  }
}

/** f(w) = mean(softplus(Xw) − y·Xw) + λ/2‖w‖². */
export const logistic = (X: Matrix.Matrix, y: Float64Array, lambda: number): Objective.Objective => {
  const n = X.rows
  const z = Vector.zeros(n)
  const r = Vector.zeros(n)
  const g0 = Vector.zeros(X.cols)
  const valueAndGradient = (w: Float64Array, g: Float64Array): number => {
    Blas2.gemv(1, X, w, 0, z)
    const s = Logistic.logisticLoss(z, y, r, 1 / n)
    Blas2.gemvT(1, X, r, 0, g)
    Blas1.axpy(lambda, w, g)
    return s / n + 0.5 * lambda * Blas1.dot(w, w)
  }
  return { dimension: X.cols, value: (w) => valueAndGradient(w, g0), valueAndGradient }
}

export const problems = (
  fixture: QuasiNewtonFixture
): Record<"rosenbrock" | "quadratic" | "logistic", TestProblem> => {
  const { rosenbrock: r, quadratic: q, logistic: l } = fixture.problems
  return {
    rosenbrock: {
      objective: rosenbrock(r.n),
      x0: Vector.fromArray(r.x0),
      lower: Vector.fromArray(r.lower!),
      upper: Vector.fromArray(r.upper!),
      tightGtol: 1e-10
    },
    quadratic: {
      objective: quadratic(Matrix.fromData(q.n, q.n, Vector.fromArray(q.A!)), Vector.fromArray(q.b!)),
      x0: Vector.fromArray(q.x0),
      lower: Vector.fromArray(q.lower!),
      upper: Vector.fromArray(q.upper!),
      tightGtol: 1e-11
    },
    logistic: {
      objective: logistic(
        Matrix.fromData(l.n, l.d!, Vector.fromArray(l.X!)),
        Vector.fromArray(l.y!),
        l.lambda!
      ),
      x0: Vector.fromArray(l.x0),
      tightGtol: 1e-11
    }
  }
}
