/**
 * Finite-sum objectives f(x) = (1/n)·Σᵢ fᵢ(x), i = 0, …, n − 1: empirical
 * risks, where a stochastic method samples one component fᵢ (one data point)
 * per step instead of paying for the whole sum. Variance-reduced methods
 * (`Svrg`, `Sarah`) and the stochastic Polyak step (`Sps`) read a finite sum
 * through this interface:
 *
 * - a per-sample gradient oracle `componentGradient(i, x, out)` writing ∇fᵢ(x)
 *   into a caller-given buffer;
 * - the full value and gradient of the mean (`value`, `valueAndGradient`), so
 *   that a `FiniteSum` is also an `Objective` and any deterministic solver
 *   accepts it;
 * - optionally per-sample values `componentValueAndGradient(i, x, out)`
 *   (returns fᵢ(x) and writes ∇fᵢ(x)), required by Polyak steps;
 * - optionally `smoothness`, an upper bound on the components' smoothness
 *   constants maxᵢ Lᵢ, from which solvers derive default step sizes.
 *
 * Oracle counts (`meter`) are in COMPONENT evaluations: `counts.gradient`
 * counts evaluations of ∇fᵢ, and a full gradient ∇f counts n of them;
 * `counts.value` likewise counts values fᵢ. Divide by n for full-gradient
 * equivalents (effective passes over the data), the unit of the
 * variance-reduction papers' plots.
 *
 * Two standard problems are built on core's kernels: L2-regularized logistic
 * regression (`logisticRegression`, with `Logistic.logisticLoss`, `gemv`,
 * `gemvT`) and ridge least squares (`leastSquares`).
 *
 * @since 0.1.0
 */
import { Blas1, Blas2, Errors, Logistic, Matrix, Objective, Vector } from "@descent/core"
import { invalid, requireNonNegative } from "./internal/validate.ts"
import type { MinimizeResult } from "./Minimize.ts"

/**
 * f(x) = (1/n)·Σᵢ fᵢ(x) with per-sample oracles. `value` and
 * `valueAndGradient` (from `Objective`) evaluate the mean f and its gradient.
 *
 * @category models
 * @since 0.1.0
 */
export interface FiniteSum extends Objective.Objective {
  /** n ≥ 1, the number of components. */
  readonly count: number
  /** Writes ∇fᵢ(x) into `out` (length `dimension`), for 0 ≤ i < n. */
  componentGradient(i: number, x: Float64Array, out: Float64Array): void
  /** Writes ∇fᵢ(x) into `out` and returns fᵢ(x), when per-sample values are available. */
  readonly componentValueAndGradient?: (i: number, x: Float64Array, out: Float64Array) => number
  /** L ≥ maxᵢ Lᵢ, an upper bound on the components' smoothness constants, when known. */
  readonly smoothness?: number
}

/**
 * A finite sum with its oracle counts, in component evaluations (a full
 * gradient counts n in `gradient`, a full value n in `value`).
 *
 * @category models
 * @since 0.1.0
 */
export interface MeteredFiniteSum extends FiniteSum {
  readonly counts: Readonly<Objective.OracleCounts>
  /** Sets every count back to zero. */
  reset(): void
}

/**
 * The result of a finite-sum solver (`Svrg`, `Sarah`, `Sps`): a
 * `MinimizeResult` whose `iterations` are epochs and whose `counts` are in
 * component evaluations (see `meter`), plus the same cost in full-gradient
 * equivalents.
 *
 * @category models
 * @since 0.1.0
 */
export interface FiniteSumResult extends MinimizeResult {
  /** counts.gradient / n: component-gradient evaluations in passes over the n components. */
  readonly passes: number
}

/**
 * The description of a finite sum given by its components (`fromComponents`).
 *
 * @category models
 * @since 0.1.0
 */
export interface ComponentsSpec {
  /** d, the length of x. */
  readonly dimension: number
  /** n ≥ 1, the number of components. */
  readonly count: number
  /** Writes ∇fᵢ(x) into `out` and returns fᵢ(x). */
  readonly componentValueAndGradient: (i: number, x: Float64Array, out: Float64Array) => number
  /** Writes ∇fᵢ(x) into `out`; defaults to `componentValueAndGradient` ignoring the value. */
  readonly componentGradient?: (i: number, x: Float64Array, out: Float64Array) => void
  /** maxᵢ Lᵢ, if known. */
  readonly smoothness?: number
}

const checkCount = (operation: string, what: string, n: number): void => {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
    throw invalid(operation, what, n, "an integer ≥ 1")
  }
  if (n === 0) throw new Errors.EmptyInput({ operation, what })
}

/**
 * The finite sum with the given components: the full value and gradient are
 * the means (1/n)·Σᵢ fᵢ(x) and (1/n)·Σᵢ ∇fᵢ(x), accumulated with `axpy` in
 * index order from one scratch buffer allocated here.
 *
 * @throws EmptyInput when `count` is 0.
 * @throws InvalidOptions when `dimension` or `count` is not a non-negative integer, or `smoothness` is not > 0.
 * @category constructors
 * @since 0.1.0
 */
export const fromComponents = (spec: ComponentsSpec): FiniteSum => {
  const op = "FiniteSum.fromComponents"
  const { dimension: d, count: n } = spec
  if (typeof d !== "number" || !Number.isInteger(d) || d < 0) {
    throw invalid(op, "dimension", d, "an integer ≥ 0")
  }
  checkCount(op, "count", n)
  if (spec.smoothness !== undefined) checkSmoothness(op, spec.smoothness)
  const componentValueAndGradient = spec.componentValueAndGradient
  const componentGradient =
    spec.componentGradient ??
    ((i: number, x: Float64Array, out: Float64Array): void => {
      componentValueAndGradient(i, x, out)
    })
  const scratch = Vector.zeros(d)
  const valueAndGradient = (x: Float64Array, gradient: Float64Array): number => {
    gradient.fill(0)
    let f = 0
    for (let i = 0; i < n; i++) {
      f += componentValueAndGradient(i, x, scratch)
      Blas1.axpy(1, scratch, gradient)
    }
    Blas1.scal(1 / n, gradient)
    return f / n
  }
  return {
    dimension: d,
    count: n,
    componentGradient,
    componentValueAndGradient,
    value: (x) => {
      let f = 0
      for (let i = 0; i < n; i++) f += componentValueAndGradient(i, x, scratch)
      return f / n
    },
    valueAndGradient,
    ...(spec.smoothness === undefined ? {} : { smoothness: spec.smoothness })
  }
}

const checkSmoothness = (operation: string, value: number): void => {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw invalid(operation, "smoothness", value, "a finite number > 0")
  }
}

/** Row views of a matrix, made once (views allocate; the oracles must not). */
const rowViews = (A: Matrix.Matrix): Float64Array[] => {
  const rows: Float64Array[] = []
  for (let i = 0; i < A.rows; i++) rows.push(Matrix.row(A, i))
  return rows
}

/** maxᵢ ‖aᵢ‖², the largest squared row norm. */
const maxRowSquaredNorm = (rows: ReadonlyArray<Float64Array>): number => {
  let m = 0
  for (const r of rows) m = Math.max(m, Blas1.dot(r, r))
  return m
}

const checkData = (operation: string, A: Matrix.Matrix, b: Float64Array, what: string): void => {
  if (A.rows === 0) throw new Errors.EmptyInput({ operation, what: "X (no rows)" })
  Vector.assertLength(operation, what, b, A.rows)
  Vector.assertFinite(operation, "X", A.data)
  Vector.assertFinite(operation, what, b)
}

/**
 * L2-regularized logistic regression with labels yᵢ ∈ [0, 1] (usually 0/1):
 *
 *   fᵢ(w) = softplus(xᵢᵀw) − yᵢ·xᵢᵀw + (λ/2)·‖w‖²,   ∇fᵢ(w) = (σ(xᵢᵀw) − yᵢ)·xᵢ + λw,
 *
 * xᵢ the rows of X (n × d). The full gradient is Xᵀr/n + λw with the
 * residuals r = σ(Xw) − y from `Logistic.logisticLoss` (one `gemv`, one
 * `gemvT`); a component uses the same kernel on one logit, so both are
 * overflow-free for any finite w. `smoothness` = maxᵢ ‖xᵢ‖²/4 + λ, and f is
 * λ-strongly convex. X and y are referenced, not copied.
 *
 * @throws EmptyInput when X has no rows.
 * @throws DimensionMismatch when y does not have one entry per row of X.
 * @throws NonFiniteInput when X or y has a NaN or ±∞ entry.
 * @throws InvalidOptions when a label is outside [0, 1] or λ is negative or not finite.
 * @category constructors
 * @since 0.1.0
 */
export const logisticRegression = (X: Matrix.Matrix, y: Float64Array, l2 = 0): FiniteSum => {
  const op = "FiniteSum.logisticRegression"
  checkData(op, X, y, "y")
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!
    if (!(v >= 0 && v <= 1)) throw invalid(op, `y[${i}]`, v, "a label in [0, 1]")
  }
  const lambda = requireNonNegative(op, "l2", l2)
  const n = X.rows
  const rows = rowViews(X)
  const z = Vector.zeros(n)
  const r = Vector.zeros(n)
  const z1 = Vector.zeros(1)
  const y1 = Vector.zeros(1)
  const r1 = Vector.zeros(1)
  const componentValueAndGradient = (i: number, w: Float64Array, out: Float64Array): number => {
    const row = rows[i]!
    z1[0] = Blas1.dot(row, w)
    y1[0] = y[i]!
    const loss = Logistic.logisticLoss(z1, y1, r1)
    Blas1.copy(w, out)
    Blas1.axpby(r1[0]!, row, lambda, out)
    return loss + 0.5 * lambda * Blas1.dot(w, w)
  }
  return {
    dimension: X.cols,
    count: n,
    smoothness: maxRowSquaredNorm(rows) / 4 + lambda,
    componentValueAndGradient,
    componentGradient: (i, w, out) => {
      componentValueAndGradient(i, w, out)
    },
    value: (w) => {
      Blas2.gemv(1, X, w, 0, z)
      return Logistic.logisticLoss(z, y, r, 1 / n) / n + 0.5 * lambda * Blas1.dot(w, w)
    },
    valueAndGradient: (w, gradient) => {
      Blas2.gemv(1, X, w, 0, z)
      const loss = Logistic.logisticLoss(z, y, r, 1 / n)
      Blas2.gemvT(1, X, r, 0, gradient)
      Blas1.axpy(lambda, w, gradient)
      return loss / n + 0.5 * lambda * Blas1.dot(w, w)
    }
  }
}

/**
 * Ridge least squares:
 *
 *   fᵢ(x) = ½·(aᵢᵀx − bᵢ)² + (λ/2)·‖x‖²,   ∇fᵢ(x) = (aᵢᵀx − bᵢ)·aᵢ + λx,
 *
 * aᵢ the rows of A (n × d); f(x) = ‖Ax − b‖²/(2n) + (λ/2)‖x‖². The full
 * gradient is Aᵀ(Ax − b)/n + λx (`gemv`, `gemvT`). `smoothness` =
 * maxᵢ ‖aᵢ‖² + λ. With a consistent system (b = Ax* exactly) and λ = 0 every
 * component vanishes at x*: the interpolation regime of Polyak steps.
 *
 * @throws EmptyInput when A has no rows.
 * @throws DimensionMismatch when b does not have one entry per row of A.
 * @throws NonFiniteInput when A or b has a NaN or ±∞ entry.
 * @throws InvalidOptions when λ is negative or not finite.
 * @category constructors
 * @since 0.1.0
 */
export const leastSquares = (A: Matrix.Matrix, b: Float64Array, l2 = 0): FiniteSum => {
  const op = "FiniteSum.leastSquares"
  checkData(op, A, b, "b")
  const lambda = requireNonNegative(op, "l2", l2)
  const n = A.rows
  const rows = rowViews(A)
  const r = Vector.zeros(n)
  const componentValueAndGradient = (i: number, x: Float64Array, out: Float64Array): number => {
    const row = rows[i]!
    const ri = Blas1.dot(row, x) - b[i]!
    Blas1.copy(x, out)
    Blas1.axpby(ri, row, lambda, out)
    return 0.5 * ri * ri + 0.5 * lambda * Blas1.dot(x, x)
  }
  const residual = (x: Float64Array): void => {
    Blas2.gemv(1, A, x, 0, r)
    Blas1.axpy(-1, b, r)
  }
  return {
    dimension: A.cols,
    count: n,
    smoothness: maxRowSquaredNorm(rows) + lambda,
    componentValueAndGradient,
    componentGradient: (i, x, out) => {
      componentValueAndGradient(i, x, out)
    },
    value: (x) => {
      residual(x)
      return (0.5 * Blas1.dot(r, r)) / n + 0.5 * lambda * Blas1.dot(x, x)
    },
    valueAndGradient: (x, gradient) => {
      residual(x)
      Blas2.gemvT(1 / n, A, r, 0, gradient)
      Blas1.axpy(lambda, x, gradient)
      return (0.5 * Blas1.dot(r, r)) / n + 0.5 * lambda * Blas1.dot(x, x)
    }
  }
}

/**
 * Wraps `problem` so that every oracle call is counted in component
 * evaluations: `componentGradient` adds 1 to `gradient`,
 * `componentValueAndGradient` 1 to `value` and 1 to `gradient`, `value` adds n
 * to `value`, and `valueAndGradient` n to both.
 *
 * @category constructors
 * @since 0.1.0
 */
export const meter = (problem: FiniteSum): MeteredFiniteSum => {
  const counts = Objective.zeroCounts()
  const n = problem.count
  const cvg = problem.componentValueAndGradient
  return {
    dimension: problem.dimension,
    count: n,
    counts,
    ...(problem.smoothness === undefined ? {} : { smoothness: problem.smoothness }),
    componentGradient: (i, x, out) => {
      counts.gradient++
      problem.componentGradient(i, x, out)
    },
    ...(cvg === undefined
      ? {}
      : {
          componentValueAndGradient: (i: number, x: Float64Array, out: Float64Array) => {
            counts.value++
            counts.gradient++
            return cvg(i, x, out)
          }
        }),
    value: (x) => {
      counts.value += n
      return problem.value(x)
    },
    valueAndGradient: (x, g) => {
      counts.value += n
      counts.gradient += n
      return problem.valueAndGradient(x, g)
    },
    reset: () => {
      counts.value = 0
      counts.gradient = 0
      counts.hessianVector = 0
      counts.matvec = 0
    }
  }
}

/**
 * Throws `InvalidOptions` naming `problem` unless `problem` looks like a
 * finite sum (a positive integer `count`, a non-negative integer `dimension`
 * and the required oracles).
 *
 * @category guards
 * @since 0.1.0
 */
export const assertFiniteSum = (operation: string, problem: FiniteSum): void => {
  const ok =
    problem !== null &&
    typeof problem === "object" &&
    Number.isInteger(problem.count) &&
    problem.count >= 1 &&
    Number.isInteger(problem.dimension) &&
    problem.dimension >= 0 &&
    typeof problem.componentGradient === "function" &&
    typeof problem.valueAndGradient === "function" &&
    typeof problem.value === "function"
  if (!ok) {
    throw invalid(
      operation,
      "problem",
      problem,
      "a FiniteSum: count ≥ 1, dimension, componentGradient, value, valueAndGradient"
    )
  }
}
