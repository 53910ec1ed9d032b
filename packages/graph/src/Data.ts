/**
 * The data matrix of structure learning, X ∈ ℝ^{n×d} (n samples of d
 * variables, one sample per row): validation shared by every learner, column
 * centering and standardization, and the covariance XᵀX/n from which the
 * linear learners evaluate their scores.
 *
 * Why the covariance: the least-squares score of NOTEARS, DAGMA and CoLiDE is
 * (1/2n)‖X − XW‖²_F = ½ tr((I − W)ᵀ Σ (I − W)) with Σ = XᵀX/n, and its gradient
 * is −Σ(I − W); GOLEM's likelihood and TOPO's per-node least squares also need
 * only Σ. Computing Σ once (one `Blas3.gemm`, O(n·d²)) makes every later score
 * evaluation O(d³) or less, independent of n.
 *
 * @since 0.1.0
 */
import { Blas3, Errors, Matrix, Vector } from "@descent/core"
import { ConstantColumn, TooFewSamples } from "./Errors.ts"

/**
 * Options of {@link checkData}.
 *
 * @category models
 * @since 0.1.0
 */
export interface CheckOptions {
  /** Fewest samples (rows) accepted; default 2 (one sample has no variance). */
  readonly minSamples?: number
}

/**
 * Options of {@link covariance}.
 *
 * @category models
 * @since 0.1.0
 */
export interface CovarianceOptions {
  /**
   * Subtract the column means first, giving the (biased, 1/n) sample
   * covariance; default false, giving the second-moment matrix XᵀX/n.
   * NOTEARS and DAGMA center X for their least-squares loss; pass true to
   * reproduce them.
   */
  readonly center?: boolean
}

/**
 * Defaults of the options in this module.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaults = {
  check: { minSamples: 2 },
  covariance: { center: false }
} as const

/**
 * Validates a data matrix X (n × d) for `operation`, throwing the first
 * problem found, in this order:
 *
 * 1. `EmptyInput` when X has no rows or no columns;
 * 2. `NonFiniteInput` at the first NaN or ±Infinity (its sample and variable
 *    are named in `what`, the flat row-major index in `index`);
 * 3. `TooFewSamples` when n < `minSamples` (default 2);
 * 4. `ConstantColumn` when a variable has the same value in every sample (zero
 *    variance: scale estimates and standardization break down).
 *
 * @example
 * Data.checkData("Notears.fit", X) // throws or returns nothing
 * @throws InvalidOptions when `minSamples` is not a positive integer.
 * @category guards
 * @since 0.1.0
 */
export const checkData = (operation: string, X: Matrix.Matrix, options: CheckOptions = {}): void => {
  const minSamples = options.minSamples ?? defaults.check.minSamples
  if (!Number.isSafeInteger(minSamples) || minSamples < 1) {
    throw new Errors.InvalidOptions({
      operation,
      field: "minSamples",
      value: minSamples,
      requirement: "a positive integer"
    })
  }
  const { rows: n, cols: d, data: x } = X
  if (n === 0 || d === 0) throw new Errors.EmptyInput({ operation, what: `X (${n} × ${d})` })
  const bad = Vector.findNonFinite(x)
  if (bad >= 0) {
    const sample = Math.floor(bad / d)
    throw new Errors.NonFiniteInput({
      operation,
      what: `X (sample ${sample}, variable ${bad - sample * d})`,
      index: bad,
      value: x[bad]!
    })
  }
  if (n < minSamples) throw new TooFewSamples({ operation, samples: n, required: minSamples })
  for (let j = 0; j < d; j++) {
    const first = x[j]!
    let constant = true
    for (let i = 1; i < n; i++) {
      if (x[i * d + j] !== first) {
        constant = false
        break
      }
    }
    if (constant) throw new ConstantColumn({ operation, column: j, value: first })
  }
}

/**
 * The column means of X (a vector of length d).
 *
 * @category evaluators
 * @since 0.1.0
 */
export const columnMeans = (X: Matrix.Matrix): Vector.Vector => {
  const { rows: n, cols: d, data: x } = X
  const mean = Vector.zeros(d)
  for (let i = 0; i < n; i++) {
    const row = i * d
    for (let j = 0; j < d; j++) mean[j]! += x[row + j]!
  }
  if (n > 0) for (let j = 0; j < d; j++) mean[j]! /= n
  return mean
}

/**
 * X with each column's mean subtracted (a new matrix).
 *
 * @category transforms
 * @since 0.1.0
 */
export const center = (X: Matrix.Matrix): Matrix.Matrix => {
  const mean = columnMeans(X)
  const out = Matrix.clone(X)
  const { rows: n, cols: d, data: o } = out
  for (let i = 0; i < n; i++) {
    const row = i * d
    for (let j = 0; j < d; j++) o[row + j]! -= mean[j]!
  }
  return out
}

/**
 * X with each column centered and scaled to unit (population, 1/n) variance,
 * as `sklearn.preprocessing.StandardScaler` and the `standardize` option of
 * the simulators (used to remove the "varsortability" of simulated data;
 * Reisach, Seiler & Weichwald 2021, "Beware of the Simulated DAG!").
 *
 * @throws ConstantColumn when a column has zero variance.
 * @category transforms
 * @since 0.1.0
 */
export const standardize = (X: Matrix.Matrix): Matrix.Matrix => {
  const out = center(X)
  const { rows: n, cols: d, data: o } = out
  const scale = Vector.zeros(d)
  for (let i = 0; i < n; i++) {
    const row = i * d
    for (let j = 0; j < d; j++) scale[j]! += o[row + j]! * o[row + j]!
  }
  for (let j = 0; j < d; j++) {
    const sd = Math.sqrt(scale[j]! / n)
    if (!(sd > 0)) throw new ConstantColumn({ operation: "Data.standardize", column: j, value: X.data[j]! })
    scale[j] = 1 / sd
  }
  for (let i = 0; i < n; i++) {
    const row = i * d
    for (let j = 0; j < d; j++) o[row + j]! *= scale[j]!
  }
  return out
}

/**
 * Σ = XᵀX/n (d × d), or the sample covariance (X − 1x̄ᵀ)ᵀ(X − 1x̄ᵀ)/n with
 * `center: true`: one `Blas3.gemm` (Xᵀ·X), then the upper triangle is copied
 * to the lower so Σ is exactly symmetric. The scale is 1/n (not 1/(n − 1)),
 * the normalization of the least-squares scores
 * (1/2n)‖X − XW‖²_F = ½ tr((I − W)ᵀ Σ (I − W)).
 *
 * @example
 * const S = Data.covariance(X, { center: true })
 * @throws EmptyInput when X has no rows.
 * @throws NonFiniteInput when X holds NaN or ±Infinity.
 * @category evaluators
 * @since 0.1.0
 */
export const covariance = (X: Matrix.Matrix, options: CovarianceOptions = {}): Matrix.Matrix => {
  const operation = "Data.covariance"
  const { rows: n, cols: d } = X
  if (n === 0) throw new Errors.EmptyInput({ operation, what: `X (${n} × ${d})` })
  Vector.assertFinite(operation, "X", X.data)
  const Y = (options.center ?? defaults.covariance.center) ? center(X) : X
  const S = Matrix.zeros(d, d)
  Blas3.gemm(true, false, 1 / n, Y, Y, 0, S)
  const s = S.data
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) s[j * d + i] = s[i * d + j]!
  }
  return S
}
