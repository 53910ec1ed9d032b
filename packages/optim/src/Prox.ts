/**
 * Proximal operators and Euclidean projections: the nonsmooth half of
 * composite minimization min f(x) + g(x) (proximal gradient, FISTA, ADMM,
 * block-coordinate descent).
 *
 * The proximal operator of a closed convex g with step t > 0 is
 *
 *   prox_{t·g}(x) = argmin_z g(z) + ‖z − x‖² / (2t),
 *
 * characterized by the optimality condition (x − p)/t ∈ ∂g(p) for p = prox(x)
 * (Moreau 1965; Parikh & Boyd, "Proximal Algorithms", *Found. Trends Optim.*
 * 1(3), 2014). For the indicator of a closed convex set C the prox is the
 * Euclidean projection P_C, whatever the step.
 *
 * Two layers: kernels (`softThreshold`, `projectSimplex`, …) write into a
 * caller-given `out`, which may alias `x`; and the `Prox` interface
 * `{ prox(x, step, out), value(x) }`, built by the constructors (`l1`,
 * `groupLasso`, `simplex`, …), which lets a solver take any regularizer.
 *
 * @since 0.1.0
 */
import { Blas1, Blas3, Elementwise, Errors, Matrix, Vector } from "@descent/core"
import { Svd } from "@descent/linalg"
import { invalid, requireNonNegative, requirePositive } from "./internal/validate.ts"

/**
 * A regularizer g: ℝⁿ → ℝ ∪ {+∞} given by its proximal operator and its value.
 *
 * @category models
 * @since 0.1.0
 */
export interface Prox {
  /** A stable identifier (e.g. "l1", "simplex"). */
  readonly name: string
  /**
   * out ← prox_{step·g}(x) = argmin_z g(z) + ‖z − x‖²/(2·step). `out` may
   * alias `x`; `step` ≥ 0 (step 0 is the identity).
   */
  prox(x: Float64Array, step: number, out: Float64Array): void
  /** g(x); +∞ outside the set for an indicator. */
  value(x: Float64Array): number
}

/**
 * Relative slack of the feasibility test in the `value` of indicators: a point
 * produced by a projection may violate a constraint by a few roundings (a
 * simplex projection sums to r·(1 ± n·ε)); 1e-9 accepts those and rejects any
 * genuine violation.
 *
 * @category constants
 * @since 0.1.0
 */
export const FEASIBILITY_TOLERANCE = 1e-9

const sameLength = (operation: string, what: string, x: Float64Array, y: Float64Array): void => {
  if (x.length !== y.length) {
    throw new Errors.DimensionMismatch({ operation, what, expected: [x.length], actual: [y.length] })
  }
}

// ---------------------------------------------------------------------------
// Kernels

/**
 * Soft-thresholding, the prox of t·‖·‖₁:
 * outᵢ = sign(xᵢ)·max(|xᵢ| − t, 0). `out` may alias `x`.
 *
 * Reference: Donoho, "De-noising by soft-thresholding", *IEEE Trans. Inf. Theory* 41 (1995).
 *
 * @throws DimensionMismatch when `out` and `x` differ in length.
 * @category kernels
 * @since 0.1.0
 */
export const softThreshold = (x: Float64Array, threshold: number, out: Float64Array): void => {
  sameLength("Prox.softThreshold", "out", x, out)
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!
    out[i] = v > threshold ? v - threshold : v < -threshold ? v + threshold : 0
  }
}

/**
 * The prox of (t/2)·‖·‖₂² (ridge, Tikhonov): out = x / (1 + t). `out` may alias `x`.
 *
 * @throws DimensionMismatch when `out` and `x` differ in length.
 * @category kernels
 * @since 0.1.0
 */
export const proxSquaredL2 = (x: Float64Array, t: number, out: Float64Array): void => {
  sameLength("Prox.proxSquaredL2", "out", x, out)
  if (out !== x) Blas1.copy(x, out)
  Blas1.scal(1 / (1 + t), out)
}

/**
 * The prox of the elastic net a·‖·‖₁ + (b/2)·‖·‖₂² (thresholds a = t·λ₁,
 * b = t·λ₂ already scaled by the step): outᵢ = sign(xᵢ)·max(|xᵢ| − a, 0)/(1 + b).
 * `out` may alias `x`.
 *
 * Reference: Zou & Hastie, "Regularization and variable selection via the elastic net",
 * *J. R. Stat. Soc. B* 67 (2005); Parikh & Boyd (2014) §6.5.
 *
 * @throws DimensionMismatch when `out` and `x` differ in length.
 * @category kernels
 * @since 0.1.0
 */
export const proxElasticNet = (x: Float64Array, l1: number, l2: number, out: Float64Array): void => {
  softThreshold(x, l1, out)
  Blas1.scal(1 / (1 + l2), out)
}

/**
 * Block soft-thresholding, the prox of the group lasso Σ_g t_g·‖x_g‖₂ over
 * disjoint groups of indices: for each group g,
 * out_g = max(1 − t_g/‖x_g‖₂, 0)·x_g; coordinates in no group are copied.
 * `thresholds[g]` is t_g (the step times λ times the group's weight). `out`
 * may alias `x`.
 *
 * Reference: Yuan & Lin, "Model selection and estimation in regression with grouped variables",
 * *J. R. Stat. Soc. B* 68 (2006); Parikh & Boyd (2014) §6.5.4.
 *
 * @throws DimensionMismatch when `out` differs in length from `x` or `thresholds` from `groups`.
 * @category kernels
 * @since 0.1.0
 */
export const blockSoftThreshold = (
  x: Float64Array,
  groups: ReadonlyArray<ReadonlyArray<number>>,
  thresholds: ArrayLike<number>,
  out: Float64Array
): void => {
  sameLength("Prox.blockSoftThreshold", "out", x, out)
  if (thresholds.length !== groups.length) {
    throw new Errors.DimensionMismatch({
      operation: "Prox.blockSoftThreshold",
      what: "thresholds",
      expected: [groups.length],
      actual: [thresholds.length]
    })
  }
  if (out !== x) Blas1.copy(x, out)
  for (let g = 0; g < groups.length; g++) {
    const group = groups[g]!
    let squares = 0
    for (let k = 0; k < group.length; k++) {
      const v = x[group[k]!]!
      squares += v * v
    }
    const norm = Math.sqrt(squares)
    const factor = norm > thresholds[g]! ? 1 - thresholds[g]! / norm : 0
    for (let k = 0; k < group.length; k++) out[group[k]!] = factor * x[group[k]!]!
  }
}

/**
 * Singular-value soft-thresholding, the prox of t·‖·‖_* (the nuclear norm,
 * the sum of the singular values): with X = U·diag(σ)·Vᵀ,
 * out = U·diag(max(σ − t, 0))·Vᵀ. Uses `@descent/linalg`'s `Svd` (allocates
 * the factors). `out` may alias `X`.
 *
 * Reference: Cai, Candès & Shen, "A singular value thresholding algorithm for matrix completion",
 * *SIAM J. Optim.* 20(4) (2010).
 *
 * @throws DimensionMismatch when `out` and `X` differ in shape.
 * @throws NonFiniteInput when `X` has a NaN or infinite entry.
 * @category kernels
 * @since 0.1.0
 */
export const singularValueThreshold = (X: Matrix.Matrix, threshold: number, out: Matrix.Matrix): void => {
  Matrix.assertShape("Prox.singularValueThreshold", "out", out, X.rows, X.cols)
  if (X.rows === 0 || X.cols === 0) return
  const { U, singularValues, Vt } = Svd.svd(X)
  for (let j = 0; j < singularValues.length; j++)
    singularValues[j] = Math.max(singularValues[j]! - threshold, 0)
  Elementwise.scaleCols(U, singularValues)
  Blas3.gemm(false, false, 1, U, Vt, 0, out)
}

/**
 * The Euclidean projection onto the box {lower ≤ x ≤ upper}:
 * outᵢ = min(max(xᵢ, lowerᵢ), upperᵢ), bounds given per coordinate or as one
 * number. `out` may alias `x`.
 *
 * @throws DimensionMismatch when `out` or an array bound differs in length from `x`.
 * @category kernels
 * @since 0.1.0
 */
export const projectBox = (
  x: Float64Array,
  lower: number | Float64Array,
  upper: number | Float64Array,
  out: Float64Array
): void => {
  sameLength("Prox.projectBox", "out", x, out)
  if (typeof lower === "number" && typeof upper === "number") {
    Elementwise.clamp(x, lower, upper, out)
    return
  }
  if (typeof lower !== "number") sameLength("Prox.projectBox", "lower", x, lower)
  if (typeof upper !== "number") sameLength("Prox.projectBox", "upper", x, upper)
  for (let i = 0; i < x.length; i++) {
    const lo = typeof lower === "number" ? lower : lower[i]!
    const hi = typeof upper === "number" ? upper : upper[i]!
    const v = x[i]!
    out[i] = v < lo ? lo : Math.min(v, hi)
  }
}

/**
 * The projection onto the non-negative orthant: outᵢ = max(xᵢ, 0). `out` may alias `x`.
 *
 * @throws DimensionMismatch when `out` and `x` differ in length.
 * @category kernels
 * @since 0.1.0
 */
export const projectNonNegative = (x: Float64Array, out: Float64Array): void => {
  sameLength("Prox.projectNonNegative", "out", x, out)
  Elementwise.clamp(x, 0, Number.POSITIVE_INFINITY, out)
}

/**
 * The threshold τ of the projection onto {w ≥ 0, Σw = r} of the values in
 * `sorted`, which the caller has sorted ascending (in place): with u the
 * values in decreasing order and sⱼ = u₁ + … + uⱼ, ρ is the largest j with
 * uⱼ > (sⱼ − r)/j, and τ = (s_ρ − r)/ρ.
 */
const simplexThreshold = (sorted: Float64Array, radius: number): number => {
  const n = sorted.length
  let sum = 0
  let tau = 0
  for (let j = 1; j <= n; j++) {
    const u = sorted[n - j]!
    sum += u
    const t = (sum - radius) / j
    // The condition holds for j ≤ ρ and fails for every j > ρ (Duchi et al., Lemma 2).
    if (u > t) tau = t
    else break
  }
  return tau
}

const workspaceFor = (operation: string, n: number, workspace: Float64Array | undefined): Float64Array => {
  if (workspace === undefined) return Vector.zeros(n)
  if (workspace.length < n) {
    throw new Errors.DimensionMismatch({
      operation,
      what: "workspace",
      expected: [n],
      actual: [workspace.length]
    })
  }
  return workspace.length === n ? workspace : workspace.subarray(0, n)
}

/**
 * The Euclidean projection onto the simplex Δ_r = {w ≥ 0, Σᵢ wᵢ = r}:
 * outᵢ = max(xᵢ − τ, 0), with τ found by sorting x (O(n log n)): for u = x
 * sorted decreasingly, ρ = max{j : uⱼ − (Σ_{i≤j} uᵢ − r)/j > 0} and
 * τ = (Σ_{i≤ρ} uᵢ − r)/ρ. `workspace` (length ≥ n) avoids an allocation;
 * `out` may alias `x`.
 *
 * References: Duchi, Shalev-Shwartz, Singer & Chandra, "Efficient projections onto the ℓ1-ball for
 * learning in high dimensions", ICML 2008 (Fig. 1); Condat, "Fast projection onto the simplex and
 * the ℓ1 ball", *Math. Program.* 158 (2016), Algorithm 1.
 *
 * @throws DimensionMismatch when `out` differs in length from `x` or `workspace` is too short.
 * @throws InvalidOptions when `radius` is not a finite number > 0.
 * @category kernels
 * @since 0.1.0
 */
export const projectSimplex = (
  x: Float64Array,
  radius: number,
  out: Float64Array,
  workspace?: Float64Array
): void => {
  sameLength("Prox.projectSimplex", "out", x, out)
  requirePositive("Prox.projectSimplex", "radius", radius)
  const n = x.length
  if (n === 0) return
  const work = workspaceFor("Prox.projectSimplex", n, workspace)
  Blas1.copy(x, work)
  work.sort()
  const tau = simplexThreshold(work, radius)
  for (let i = 0; i < n; i++) out[i] = Math.max(x[i]! - tau, 0)
}

/**
 * The Euclidean projection onto the ℓ1 ball {‖w‖₁ ≤ r}: x itself when
 * ‖x‖₁ ≤ r, else soft-thresholding at the τ of the simplex projection of |x|:
 * outᵢ = sign(xᵢ)·max(|xᵢ| − τ, 0). `workspace` (length ≥ n) avoids an
 * allocation; `out` may alias `x`.
 *
 * Reference: Duchi et al., ICML 2008 (§4); Condat (2016) §4.
 *
 * @throws DimensionMismatch when `out` differs in length from `x` or `workspace` is too short.
 * @throws InvalidOptions when `radius` is not a finite number ≥ 0.
 * @category kernels
 * @since 0.1.0
 */
export const projectL1Ball = (
  x: Float64Array,
  radius: number,
  out: Float64Array,
  workspace?: Float64Array
): void => {
  sameLength("Prox.projectL1Ball", "out", x, out)
  requireNonNegative("Prox.projectL1Ball", "radius", radius)
  const n = x.length
  if (Blas1.asum(x) <= radius) {
    if (out !== x) Blas1.copy(x, out)
    return
  }
  if (radius === 0) {
    out.fill(0)
    return
  }
  const work = workspaceFor("Prox.projectL1Ball", n, workspace)
  for (let i = 0; i < n; i++) work[i] = Math.abs(x[i]!)
  work.sort()
  softThreshold(x, simplexThreshold(work, radius), out)
}

/**
 * The Euclidean projection onto the ℓ2 ball {‖w‖₂ ≤ r}:
 * out = x·min(1, r/‖x‖₂). `out` may alias `x`.
 *
 * @throws DimensionMismatch when `out` and `x` differ in length.
 * @throws InvalidOptions when `radius` is not a finite number ≥ 0.
 * @category kernels
 * @since 0.1.0
 */
export const projectL2Ball = (x: Float64Array, radius: number, out: Float64Array): void => {
  sameLength("Prox.projectL2Ball", "out", x, out)
  requireNonNegative("Prox.projectL2Ball", "radius", radius)
  const norm = Blas1.nrm2(x)
  if (out !== x) Blas1.copy(x, out)
  if (norm > radius) Blas1.scal(radius / norm, out)
}

/**
 * The Euclidean projection onto the ℓ∞ ball {‖w‖∞ ≤ r}:
 * outᵢ = min(max(xᵢ, −r), r). `out` may alias `x`.
 *
 * @throws DimensionMismatch when `out` and `x` differ in length.
 * @throws InvalidOptions when `radius` is not a finite number ≥ 0.
 * @category kernels
 * @since 0.1.0
 */
export const projectLinfBall = (x: Float64Array, radius: number, out: Float64Array): void => {
  sameLength("Prox.projectLinfBall", "out", x, out)
  requireNonNegative("Prox.projectLinfBall", "radius", radius)
  Elementwise.clamp(x, -radius, radius, out)
}

// ---------------------------------------------------------------------------
// Regularizers

const requireLength = (operation: string, x: Float64Array, n: number): void => {
  if (x.length !== n)
    throw new Errors.DimensionMismatch({ operation, what: "x", expected: [n], actual: [x.length] })
}

/**
 * g = 0: the prox is the identity (composite solvers reduce to their smooth
 * counterparts).
 *
 * @category constructors
 * @since 0.1.0
 */
export const zero = (): Prox => ({
  name: "zero",
  prox: (x, _step, out) => {
    if (out !== x) Blas1.copy(x, out)
  },
  value: () => 0
})

/**
 * g(x) = λ·‖x‖₁ (lasso); prox = soft-thresholding at step·λ.
 *
 * @throws InvalidOptions when `lambda` is not a finite number ≥ 0.
 * @category constructors
 * @since 0.1.0
 */
export const l1 = (lambda: number): Prox => {
  requireNonNegative("Prox.l1", "lambda", lambda)
  return {
    name: "l1",
    prox: (x, step, out) => softThreshold(x, step * lambda, out),
    value: (x) => lambda * Blas1.asum(x)
  }
}

/**
 * g(x) = (λ/2)·‖x‖₂² (ridge); prox(x) = x/(1 + step·λ).
 *
 * @throws InvalidOptions when `lambda` is not a finite number ≥ 0.
 * @category constructors
 * @since 0.1.0
 */
export const squaredL2 = (lambda: number): Prox => {
  requireNonNegative("Prox.squaredL2", "lambda", lambda)
  return {
    name: "squaredL2",
    prox: (x, step, out) => proxSquaredL2(x, step * lambda, out),
    value: (x) => {
      const norm = Blas1.nrm2(x)
      return 0.5 * lambda * norm * norm
    }
  }
}

/**
 * The elastic net g(x) = λ₁·‖x‖₁ + (λ₂/2)·‖x‖₂²;
 * prox(x)ᵢ = sign(xᵢ)·max(|xᵢ| − step·λ₁, 0)/(1 + step·λ₂).
 *
 * Reference: Zou & Hastie (2005).
 *
 * @throws InvalidOptions when `l1Weight` or `l2Weight` is not a finite number ≥ 0.
 * @category constructors
 * @since 0.1.0
 */
export const elasticNet = (l1Weight: number, l2Weight: number): Prox => {
  requireNonNegative("Prox.elasticNet", "l1Weight", l1Weight)
  requireNonNegative("Prox.elasticNet", "l2Weight", l2Weight)
  return {
    name: "elasticNet",
    prox: (x, step, out) => proxElasticNet(x, step * l1Weight, step * l2Weight, out),
    value: (x) => {
      const norm = Blas1.nrm2(x)
      return l1Weight * Blas1.asum(x) + 0.5 * l2Weight * norm * norm
    }
  }
}

/**
 * The group lasso g(x) = λ·Σ_g w_g·‖x_g‖₂ over disjoint groups of indices
 * (coordinates in no group are not penalized); prox = block soft-thresholding
 * with thresholds step·λ·w_g. Weights default to √|g| (Yuan & Lin 2006).
 *
 * @throws InvalidOptions when `lambda` or a weight is not a finite number ≥ 0, a
 *   group index is not an integer in [0, dimension), or the groups overlap.
 * @throws DimensionMismatch when `weights` and `groups` differ in length.
 * @category constructors
 * @since 0.1.0
 */
export const groupLasso = (
  dimension: number,
  groups: ReadonlyArray<ReadonlyArray<number>>,
  lambda: number,
  weights?: ArrayLike<number>
): Prox => {
  const operation = "Prox.groupLasso"
  requireNonNegative(operation, "lambda", lambda)
  const seen = Vector.zeros(dimension)
  for (let g = 0; g < groups.length; g++) {
    for (const i of groups[g]!) {
      if (!Number.isInteger(i) || i < 0 || i >= dimension)
        throw invalid(operation, `groups[${g}]`, i, `indices that are integers in [0, ${dimension})`)
      if (seen[i] !== 0) throw invalid(operation, `groups[${g}]`, i, "disjoint groups")
      seen[i] = 1
    }
  }
  if (weights !== undefined && weights.length !== groups.length) {
    throw new Errors.DimensionMismatch({
      operation,
      what: "weights",
      expected: [groups.length],
      actual: [weights.length]
    })
  }
  const w = Vector.zeros(groups.length)
  for (let g = 0; g < groups.length; g++) {
    w[g] =
      weights === undefined
        ? Math.sqrt(groups[g]!.length)
        : requireNonNegative(operation, `weights[${g}]`, weights[g]!)
  }
  const thresholds = Vector.zeros(groups.length)
  return {
    name: "groupLasso",
    prox: (x, step, out) => {
      requireLength(operation, x, dimension)
      for (let g = 0; g < w.length; g++) thresholds[g] = step * lambda * w[g]!
      blockSoftThreshold(x, groups, thresholds, out)
    },
    value: (x) => {
      let total = 0
      for (let g = 0; g < groups.length; g++) {
        const group = groups[g]!
        let squares = 0
        for (let k = 0; k < group.length; k++) squares += x[group[k]!]! ** 2
        total += w[g]! * Math.sqrt(squares)
      }
      return lambda * total
    }
  }
}

/**
 * The nuclear norm g(X) = λ·‖X‖_* = λ·Σⱼ σⱼ(X) of a rows × cols matrix stored
 * row-major in a vector of length rows·cols; prox = singular-value
 * soft-thresholding at step·λ.
 *
 * Reference: Cai, Candès & Shen (2010).
 *
 * @throws InvalidOptions when `lambda` is not a finite number ≥ 0 or the shape is not two integers ≥ 0.
 * @category constructors
 * @since 0.1.0
 */
export const nuclearNorm = (rows: number, cols: number, lambda: number): Prox => {
  const operation = "Prox.nuclearNorm"
  if (!Number.isInteger(rows) || rows < 0) throw invalid(operation, "rows", rows, "an integer ≥ 0")
  if (!Number.isInteger(cols) || cols < 0) throw invalid(operation, "cols", cols, "an integer ≥ 0")
  requireNonNegative(operation, "lambda", lambda)
  return {
    name: "nuclearNorm",
    prox: (x, step, out) => {
      requireLength(operation, x, rows * cols)
      singularValueThreshold(Matrix.fromData(rows, cols, x), step * lambda, Matrix.fromData(rows, cols, out))
    },
    value: (x) => {
      requireLength(operation, x, rows * cols)
      if (rows === 0 || cols === 0) return 0
      return lambda * Blas1.asum(Svd.singularValues(Matrix.fromData(rows, cols, x)))
    }
  }
}

const indicator = (feasible: boolean): number => (feasible ? 0 : Number.POSITIVE_INFINITY)

/**
 * The indicator of the box {lower ≤ x ≤ upper}; prox = projection (clamping).
 *
 * @throws InvalidOptions when a bound is NaN or lower > upper somewhere.
 * @throws DimensionMismatch when array bounds differ in length.
 * @category constructors
 * @since 0.1.0
 */
export const box = (lower: number | ArrayLike<number>, upper: number | ArrayLike<number>): Prox => {
  const operation = "Prox.box"
  const lo = typeof lower === "number" ? lower : Vector.fromArray(lower)
  const hi = typeof upper === "number" ? upper : Vector.fromArray(upper)
  if (typeof lo !== "number" && typeof hi !== "number" && lo.length !== hi.length) {
    throw new Errors.DimensionMismatch({
      operation,
      what: "upper",
      expected: [lo.length],
      actual: [hi.length]
    })
  }
  const n = typeof lo !== "number" ? lo.length : typeof hi !== "number" ? hi.length : 0
  const checks = typeof lo === "number" && typeof hi === "number" ? 1 : n
  for (let i = 0; i < checks; i++) {
    const l = typeof lo === "number" ? lo : lo[i]!
    const u = typeof hi === "number" ? hi : hi[i]!
    if (Number.isNaN(l) || Number.isNaN(u) || l > u)
      throw invalid(operation, `lower[${i}]`, l, `a number at most upper[${i}] = ${u}`)
  }
  return {
    name: "box",
    prox: (x, _step, out) => projectBox(x, lo, hi, out),
    value: (x) => {
      for (let i = 0; i < x.length; i++) {
        const l = typeof lo === "number" ? lo : lo[i]!
        const u = typeof hi === "number" ? hi : hi[i]!
        const slack = FEASIBILITY_TOLERANCE * Math.max(1, Math.abs(x[i]!))
        if (x[i]! < l - slack || x[i]! > u + slack) return Number.POSITIVE_INFINITY
      }
      return 0
    }
  }
}

/**
 * The indicator of the non-negative orthant {x ≥ 0}; prox = max(x, 0).
 *
 * @category constructors
 * @since 0.1.0
 */
export const nonNegative = (): Prox => ({
  name: "nonNegative",
  prox: (x, _step, out) => projectNonNegative(x, out),
  value: (x) => {
    for (let i = 0; i < x.length; i++) if (!(x[i]! >= 0)) return Number.POSITIVE_INFINITY
    return 0
  }
})

/**
 * The indicator of the simplex Δ_r = {w ≥ 0, Σw = r}; prox = `projectSimplex`.
 * Keeps one workspace (allocated on the first call of a given length).
 *
 * @throws InvalidOptions when `radius` is not a finite number > 0.
 * @category constructors
 * @since 0.1.0
 */
export const simplex = (radius = 1): Prox => {
  requirePositive("Prox.simplex", "radius", radius)
  let work = Vector.zeros(0)
  return {
    name: "simplex",
    prox: (x, _step, out) => {
      if (work.length !== x.length) work = Vector.zeros(x.length)
      projectSimplex(x, radius, out, work)
    },
    value: (x) => {
      for (let i = 0; i < x.length; i++) if (!(x[i]! >= 0)) return Number.POSITIVE_INFINITY
      return indicator(Math.abs(Blas1.asum(x) - radius) <= FEASIBILITY_TOLERANCE * radius)
    }
  }
}

/**
 * The indicator of the ℓ1 ball {‖w‖₁ ≤ r}; prox = `projectL1Ball`.
 *
 * @throws InvalidOptions when `radius` is not a finite number ≥ 0.
 * @category constructors
 * @since 0.1.0
 */
export const l1Ball = (radius: number): Prox => {
  requireNonNegative("Prox.l1Ball", "radius", radius)
  let work = Vector.zeros(0)
  return {
    name: "l1Ball",
    prox: (x, _step, out) => {
      if (work.length !== x.length) work = Vector.zeros(x.length)
      projectL1Ball(x, radius, out, work)
    },
    value: (x) => indicator(Blas1.asum(x) <= radius * (1 + FEASIBILITY_TOLERANCE))
  }
}

/**
 * The indicator of the ℓ2 ball {‖w‖₂ ≤ r}; prox = `projectL2Ball`.
 *
 * @throws InvalidOptions when `radius` is not a finite number ≥ 0.
 * @category constructors
 * @since 0.1.0
 */
export const l2Ball = (radius: number): Prox => {
  requireNonNegative("Prox.l2Ball", "radius", radius)
  return {
    name: "l2Ball",
    prox: (x, _step, out) => projectL2Ball(x, radius, out),
    value: (x) => indicator(Blas1.nrm2(x) <= radius * (1 + FEASIBILITY_TOLERANCE))
  }
}

/**
 * The indicator of the ℓ∞ ball {‖w‖∞ ≤ r}; prox = `projectLinfBall`.
 *
 * @throws InvalidOptions when `radius` is not a finite number ≥ 0.
 * @category constructors
 * @since 0.1.0
 */
export const linfBall = (radius: number): Prox => {
  requireNonNegative("Prox.linfBall", "radius", radius)
  return {
    name: "linfBall",
    prox: (x, _step, out) => projectLinfBall(x, radius, out),
    value: (x) => {
      for (let i = 0; i < x.length; i++) if (!(Math.abs(x[i]!) <= radius)) return Number.POSITIVE_INFINITY
      return 0
    }
  }
}
