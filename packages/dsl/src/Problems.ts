/**
 * The built-in problem generators: the standard test problems of optimization
 * benchmarks, each built deterministically from its parameters and a core
 * `Random` key (same parameters and key → same numbers on every machine:
 * data come from core's Threefry generator, and the transcendental functions
 * used while generating are core's engine-independent `exp`/`log`).
 *
 * | name | problem | parameters |
 * | --- | --- | --- |
 * | `logisticRegression` | (1/n) Σᵢ log(1 + e^{zᵢ}) − yᵢzᵢ + (λ/2)‖w‖², z = Xw | `samples` n, `features` d, `regularization` λ (default 1/n), `condition` κ (default 1) |
 * | `leastSquares` | (1/2n)‖Ax − b‖² + (ρ/2)‖x‖² + μ‖x‖₁ | `samples`, `features`, `ridge` ρ (default 0), `l1` μ (default 0), `condition` κ (default 1), `noise` σ (default 0.1) |
 * | `rosenbrock` | Σᵢ 100(xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)² from (−1.2, 1, −1.2, …) | `dimension` (≥ 2), `jitter` (std. dev. of Gaussian noise added to the start, default 0) |
 * | `quadratic` | ½(x − x*)ᵀH(x − x*), eigenvalues of H log-spaced in [1/κ, 1], from 0 | `dimension`, `condition` κ (default 100), `rotate` (random orthogonal eigenvectors, default true), `box` (optional: constraints \|xᵢ\| ≤ box) |
 *
 * Data: design matrices have standard normal entries, column j scaled by
 * κ^(−j/(2(d−1))) so that the data term's Hessian has condition number about
 * κ; logistic labels are drawn from the model with a random w* ~ N(0, I/d);
 * least-squares targets are b = Ax* + σε with x* ~ N(0, I). Every objective
 * provides exact Hessian-vector products. Known optima: Rosenbrock 0, the
 * quadratic 0 (unless the box cuts x* off), least squares without `l1` by a
 * direct solve of the normal equations.
 *
 * @since 0.1.0
 */
import {
  Blas1,
  Blas2,
  Blas3,
  Errors,
  Logistic,
  Matrix,
  type Objective,
  Random,
  Tensor,
  Vector
} from "@descent/core"
import { Cholesky, LeastSquares, Qr } from "@descent/linalg"
import { Prox } from "@descent/optim"
import { Schema } from "effect"
import type { AnyProblemGenerator, ProblemGenerator, ProblemInstance } from "./Registry.ts"

/** Largest number of matrix entries a generator builds (2^24 doubles = 128 MiB). */
const MAX_ENTRIES = 2 ** 24

const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
const NonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))
const AtLeastOne = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(1))

const sizeCheck = Schema.makeFilter<{ readonly samples: number; readonly features: number }>((p) =>
  p.samples * p.features <= MAX_ENTRIES
    ? undefined
    : {
        path: ["samples"],
        issue: `samples × features must be ≤ ${MAX_ENTRIES} (got ${p.samples * p.features})`
      }
)

/** `n` values log-spaced from `from` to `to` (both > 0), with core's deterministic exp/log. */
const logSpaced = (n: number, from: number, to: number): Float64Array => {
  if (n === 1) return Vector.fromArray([from])
  const a = Tensor.log(from).data[0]!
  const b = Tensor.log(to).data[0]!
  return Tensor.exp(Vector.linspace(a, b, n)).data
}

/** An n × d standard normal matrix with column j scaled by κ^(−j/(2(d−1))). */
const scaledDesign = (key: Random.Key, n: number, d: number, condition: number): Matrix.Matrix => {
  const A = Matrix.fromData(n, d, Random.normal(key, n * d))
  if (condition !== 1) {
    const scale = logSpaced(d, 1, 1 / Math.sqrt(condition))
    for (let i = 0; i < n; i++) {
      const o = i * d
      for (let j = 0; j < d; j++) A.data[o + j] = A.data[o + j]! * scale[j]!
    }
  }
  return A
}

const sumSquares = (x: Float64Array): number => Blas1.dot(x, x)

// ---------------------------------------------------------------------------
// Logistic regression

/**
 * Parameters of {@link logisticRegression}.
 *
 * @category models
 * @since 0.1.0
 */
export interface LogisticRegressionParameters {
  readonly samples: number
  readonly features: number
  readonly regularization?: number
  readonly condition?: number
}

/**
 * L2-regularized logistic regression on synthetic data (benchopt's logreg-l2).
 *
 * @category problems
 * @since 0.1.0
 */
export const logisticRegression: ProblemGenerator<LogisticRegressionParameters> = {
  name: "logisticRegression",
  description:
    "L2-regularized logistic regression on Gaussian features with labels drawn from a logistic model",
  parameters: Schema.Struct({
    samples: Count,
    features: Count,
    regularization: Schema.optionalKey(NonNegative),
    condition: Schema.optionalKey(AtLeastOne)
  }).check(sizeCheck),
  traits: () => ({ regularizer: false, bounds: false }),
  make: (p, key) => {
    const n = p.samples
    const d = p.features
    const lambda = p.regularization ?? 1 / n
    const [kx, kw, ky] = Random.split(key, 3) as [Random.Key, Random.Key, Random.Key]
    const X = scaledDesign(kx, n, d, p.condition ?? 1)
    const wStar = Random.normal(kw, d)
    Blas1.scal(1 / Math.sqrt(d), wStar)
    const z = Vector.zeros(n)
    Blas2.gemv(1, X, wStar, 0, z)
    const probability = Tensor.sigmoid(z).data
    const u = Random.uniform(ky, n)
    const y = Vector.zeros(n)
    for (let i = 0; i < n; i++) y[i] = u[i]! < probability[i]! ? 1 : 0
    const zeros = Vector.zeros(n)
    const r = Vector.zeros(n)
    const loss = (w: Float64Array): number => {
      Blas2.gemv(1, X, w, 0, z)
      // logisticLoss returns the sum and writes (σ(z) − y)/n into r.
      return Logistic.logisticLoss(z, y, r, 1 / n) / n + 0.5 * lambda * sumSquares(w)
    }
    const objective: Objective.Objective = {
      dimension: d,
      value: loss,
      valueAndGradient: (w, g) => {
        const f = loss(w)
        Blas2.gemvT(1, X, r, 0, g)
        Blas1.axpy(lambda, w, g)
        return f
      },
      hessianVectorProduct: (w, v, out) => {
        Blas2.gemv(1, X, w, 0, z)
        Logistic.logisticLoss(z, zeros, r, 1) // r = σ(Xw)
        Blas2.gemv(1, X, v, 0, z)
        for (let i = 0; i < n; i++) z[i] = (z[i]! * r[i]! * (1 - r[i]!)) / n
        Blas2.gemvT(1, X, z, 0, out)
        Blas1.axpy(lambda, v, out)
      }
    }
    return { objective, x0: Vector.zeros(d) }
  }
}

// ---------------------------------------------------------------------------
// Least squares / ridge / lasso

/**
 * Parameters of {@link leastSquares}.
 *
 * @category models
 * @since 0.1.0
 */
export interface LeastSquaresParameters {
  readonly samples: number
  readonly features: number
  readonly ridge?: number
  readonly l1?: number
  readonly condition?: number
  readonly noise?: number
}

/** f(x*) for the minimizer of the smooth least-squares/ridge problem. */
const leastSquaresOptimum = (
  A: Matrix.Matrix,
  b: Float64Array,
  ridge: number,
  value: (x: Float64Array) => number
): number => {
  const n = A.rows
  const d = A.cols
  const M = Matrix.zeros(d, d)
  Blas3.gemm(true, false, 1 / n, A, A, 0, M)
  for (let j = 0; j < d; j++) M.data[j * d + j] = M.data[j * d + j]! + ridge
  const rhs = Vector.zeros(d)
  Blas2.gemvT(1 / n, A, b, 0, rhs)
  let x: Float64Array
  try {
    x = Cholesky.solve(Cholesky.factor(M), rhs)
  } catch (e) {
    if (!(e instanceof Errors.NotPositiveDefinite)) throw e
    // Rank-deficient without ridge: the minimum-norm least-squares solution.
    x = n >= d ? Qr.solveLeastSquares(A, b) : LeastSquares.lstsq(A, b).x
  }
  return value(x)
}

/**
 * Linear least squares with optional ridge (smooth) and l1 (nonsmooth, lasso) penalties.
 *
 * @category problems
 * @since 0.1.0
 */
export const leastSquares: ProblemGenerator<LeastSquaresParameters> = {
  name: "leastSquares",
  description: "least squares (1/2n)‖Ax − b‖² with optional ridge (ρ/2)‖x‖² and lasso μ‖x‖₁ penalties",
  parameters: Schema.Struct({
    samples: Count,
    features: Count,
    ridge: Schema.optionalKey(NonNegative),
    l1: Schema.optionalKey(NonNegative),
    condition: Schema.optionalKey(AtLeastOne),
    noise: Schema.optionalKey(NonNegative)
  }).check(sizeCheck),
  traits: (p) => ({ regularizer: (p.l1 ?? 0) > 0, bounds: false }),
  make: (p, key) => {
    const n = p.samples
    const d = p.features
    const ridge = p.ridge ?? 0
    const l1 = p.l1 ?? 0
    const [ka, kx, ke] = Random.split(key, 3) as [Random.Key, Random.Key, Random.Key]
    const A = scaledDesign(ka, n, d, p.condition ?? 1)
    const xStar = Random.normal(kx, d)
    const b = Random.normal(ke, n)
    Blas1.scal(p.noise ?? 0.1, b)
    Blas2.gemv(1, A, xStar, 1, b)
    const r = Vector.zeros(n)
    const residual = (x: Float64Array): number => {
      Blas1.copy(b, r)
      Blas2.gemv(1, A, x, -1, r) // r = Ax − b
      return (0.5 / n) * sumSquares(r) + 0.5 * ridge * sumSquares(x)
    }
    const objective: Objective.Objective = {
      dimension: d,
      value: residual,
      valueAndGradient: (x, g) => {
        const f = residual(x)
        Blas2.gemvT(1 / n, A, r, 0, g)
        Blas1.axpy(ridge, x, g)
        return f
      },
      hessianVectorProduct: (_x, v, out) => {
        Blas2.gemv(1, A, v, 0, r)
        Blas2.gemvT(1 / n, A, r, 0, out)
        Blas1.axpy(ridge, v, out)
      }
    }
    const instance: ProblemInstance = { objective, x0: Vector.zeros(d) }
    if (l1 > 0) return { ...instance, regularizer: Prox.l1(l1) }
    return { ...instance, optimum: leastSquaresOptimum(A, b, ridge, residual) }
  }
}

// ---------------------------------------------------------------------------
// Rosenbrock

/**
 * Parameters of {@link rosenbrock}.
 *
 * @category models
 * @since 0.1.0
 */
export interface RosenbrockParameters {
  readonly dimension: number
  readonly jitter?: number
}

const rosenbrockValue = (x: Float64Array): number => {
  let f = 0
  for (let i = 0; i + 1 < x.length; i++) {
    const a = x[i + 1]! - x[i]! * x[i]!
    const b = 1 - x[i]!
    f += 100 * a * a + b * b
  }
  return f
}

/**
 * The extended Rosenbrock function (the chained form of Nocedal & Wright, §9.6).
 *
 * @category problems
 * @since 0.1.0
 */
export const rosenbrock: ProblemGenerator<RosenbrockParameters> = {
  name: "rosenbrock",
  description:
    "the chained Rosenbrock function, minimum 0 at (1, …, 1), from (−1.2, 1, −1.2, …) plus optional noise",
  parameters: Schema.Struct({
    dimension: Schema.Int.check(Schema.isBetween({ minimum: 2, maximum: MAX_ENTRIES })),
    jitter: Schema.optionalKey(NonNegative)
  }),
  traits: () => ({ regularizer: false, bounds: false }),
  make: (p, key) => {
    const n = p.dimension
    const x0 = Vector.zeros(n)
    for (let i = 0; i < n; i++) x0[i] = i % 2 === 0 ? -1.2 : 1
    const jitter = p.jitter ?? 0
    if (jitter > 0) Blas1.axpy(jitter, Random.normal(key, n), x0)
    const objective: Objective.Objective = {
      dimension: n,
      value: rosenbrockValue,
      valueAndGradient: (x, g) => {
        g.fill(0)
        for (let i = 0; i + 1 < n; i++) {
          const xi = x[i]!
          const a = x[i + 1]! - xi * xi
          g[i] = g[i]! - 400 * xi * a - 2 * (1 - xi)
          g[i + 1] = g[i + 1]! + 200 * a
        }
        return rosenbrockValue(x)
      },
      hessianVectorProduct: (x, v, out) => {
        out.fill(0)
        for (let i = 0; i + 1 < n; i++) {
          const xi = x[i]!
          const dii = 1200 * xi * xi - 400 * x[i + 1]! + 2
          const off = -400 * xi
          out[i] = out[i]! + dii * v[i]! + off * v[i + 1]!
          out[i + 1] = out[i + 1]! + off * v[i]! + 200 * v[i + 1]!
        }
      }
    }
    return { objective, x0, optimum: 0 }
  }
}

// ---------------------------------------------------------------------------
// Ill-conditioned quadratic

/**
 * Parameters of {@link quadratic}.
 *
 * @category models
 * @since 0.1.0
 */
export interface QuadraticParameters {
  readonly dimension: number
  readonly condition?: number
  readonly rotate?: boolean
  readonly box?: number
}

/**
 * A convex quadratic with a prescribed condition number, optionally with box constraints.
 *
 * @category problems
 * @since 0.1.0
 */
export const quadratic: ProblemGenerator<QuadraticParameters> = {
  name: "quadratic",
  description:
    "½(x − x*)ᵀH(x − x*) with eigenvalues of H log-spaced in [1/κ, 1], optionally rotated and boxed",
  parameters: Schema.Struct({
    dimension: Count.check(Schema.isLessThanOrEqualTo(4096)),
    condition: Schema.optionalKey(AtLeastOne),
    rotate: Schema.optionalKey(Schema.Boolean),
    box: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThan(0)))
  }),
  traits: (p) => ({ regularizer: false, bounds: p.box !== undefined }),
  make: (p, key) => {
    const n = p.dimension
    const [kq, kx] = Random.split(key, 2) as [Random.Key, Random.Key]
    const eigenvalues = logSpaced(n, 1, 1 / (p.condition ?? 100))
    const xStar = Random.normal(kx, n)
    const r = Vector.zeros(n)
    let apply: (v: Float64Array, out: Float64Array) => void
    if (p.rotate ?? true) {
      const Q = Qr.q(Qr.qr(Matrix.fromData(n, n, Random.normal(kq, n * n))))
      const QL = Matrix.clone(Q)
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) QL.data[i * n + j] = Q.data[i * n + j]! * eigenvalues[j]!
      const H = Matrix.zeros(n, n)
      Blas3.gemm(false, true, 1, QL, Q, 0, H)
      // Exactly symmetric: average H with its transpose.
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) {
          const s = 0.5 * (H.data[i * n + j]! + H.data[j * n + i]!)
          H.data[i * n + j] = s
          H.data[j * n + i] = s
        }
      }
      apply = (v, out) => Blas2.gemv(1, H, v, 0, out)
    } else {
      apply = (v, out) => {
        for (let i = 0; i < n; i++) out[i] = eigenvalues[i]! * v[i]!
      }
    }
    const g = Vector.zeros(n)
    const value = (x: Float64Array): number => {
      for (let i = 0; i < n; i++) r[i] = x[i]! - xStar[i]!
      apply(r, g)
      return 0.5 * Blas1.dot(r, g)
    }
    const objective: Objective.Objective = {
      dimension: n,
      value,
      valueAndGradient: (x, gradient) => {
        for (let i = 0; i < n; i++) r[i] = x[i]! - xStar[i]!
        apply(r, gradient)
        return 0.5 * Blas1.dot(r, gradient)
      },
      hessianVectorProduct: (_x, v, out) => apply(v, out)
    }
    const x0 = Vector.zeros(n)
    if (p.box === undefined) return { objective, x0, optimum: 0 }
    const box = p.box
    const inside = xStar.every((v) => Math.abs(v) <= box)
    const bounds = { lower: Vector.full(n, -box), upper: Vector.full(n, box) }
    return inside ? { objective, x0, bounds, optimum: 0 } : { objective, x0, bounds }
  }
}

/**
 * Every built-in problem generator.
 *
 * @category constants
 * @since 0.1.0
 */
export const all: ReadonlyArray<AnyProblemGenerator> = [
  logisticRegression,
  leastSquares,
  rosenbrock,
  quadratic
]
