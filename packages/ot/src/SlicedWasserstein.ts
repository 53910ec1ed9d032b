/**
 * The sliced Wasserstein distance (Rabin, Peyré, Delon & Bernot, "Wasserstein
 * barycenter and its application to texture mixing", 2011; Bonneel, Rabin,
 * Peyré & Pfister, "Sliced and Radon Wasserstein barycenters of measures",
 * JMIV 2015): the p-th root of the average over directions θ on the unit
 * sphere of the 1-D optimal transport cost between the projected measures,
 *
 *   SW_p(α, β) = ( (1/L) Σ_{l=1}^{L} W_p^p(θ_l#α, θ_l#β) )^{1/p},
 *
 * a Monte Carlo estimate of (∫_{S^{d−1}} W_p^p(θ#α, θ#β) dθ)^{1/p}. Each 1-D
 * problem is solved exactly by sorting (the monotone coupling, as
 * `OneDimensional.solve`): O(L·(n + m)·(d + log(n + m))) in all, no n × m
 * matrix. The directions are normalized Gaussian vectors drawn from core's
 * seeded `Random` (uniform on the sphere), so a key fixes them; or pass your
 * own (`distanceAlong`). With the same directions, the value is POT's
 * `ot.sliced_wasserstein_distance(X_s, X_t, a, b, p=p, projections=θ)`.
 *
 * @since 0.1.0
 */
import { Blas1, Blas3, Errors, Matrix, Random, Vector } from "@descent/core"
import { checkBalanced, integerAtLeast, readWeights } from "./internal/logScaling.ts"

/**
 * Options of `distance` and `distanceAlong`.
 *
 * @category models
 * @since 0.1.0
 */
export interface SlicedWassersteinOptions {
  /** Weights of the rows of x (≥ 0); default uniform 1/n. */
  readonly a?: ArrayLike<number>
  /** Weights of the rows of y; default uniform 1/m. Masses must agree (relative 1e-9). */
  readonly b?: ArrayLike<number>
  /** The exponent p ≥ 1 of the ground cost |s − t|^p. Default 2. */
  readonly p?: number
  /** Number L of random directions (`distance` only; ≥ 1). Default 50 (as POT). */
  readonly directions?: number
  /** The key the directions are drawn from (`distance` only). Default `Random.key(0)`. */
  readonly key?: Random.Key
}

/**
 * Defaults of `SlicedWassersteinOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultSlicedWassersteinOptions = { p: 2, directions: 50, seed: 0 } as const

/**
 * A sliced Wasserstein result.
 *
 * @category models
 * @since 0.1.0
 */
export interface SlicedWassersteinResult {
  /** SW_p. */
  readonly distance: number
  /** SW_p^p, the average of `projected`. */
  readonly cost: number
  readonly p: number
  /** W_p^p along each direction (length L; POT's `log["projected_emds"]`). */
  readonly projected: Float64Array
  /** The directions, as the columns of a d × L matrix (POT's `projections`). */
  readonly projections: Matrix.Matrix
}

const NAME = "SlicedWasserstein"

/**
 * L directions uniform on the unit sphere of ℝᵈ, as the columns of a d × L
 * matrix: column l is a standard Gaussian vector (`Random.normal` from
 * `Random.foldIn(key, l)`) divided by its norm.
 *
 * @throws InvalidOptions when d or L is not an integer ≥ 1.
 * @category constructors
 * @since 0.1.0
 */
export const randomDirections = (key: Random.Key, dimension: number, count: number): Matrix.Matrix => {
  integerAtLeast(`${NAME}.randomDirections`, "dimension", dimension, 1)
  integerAtLeast(`${NAME}.randomDirections`, "directions", count, 1)
  const theta = Matrix.zeros(dimension, count)
  const z = Vector.zeros(dimension)
  for (let l = 0; l < count; l++) {
    // A Gaussian vector is 0 with probability 0; redraw (bounded) if it underflows.
    let norm = 0
    for (let attempt = 0; attempt < 8 && !(norm > 0); attempt++) {
      Random.normal(Random.foldIn(key, attempt === 0 ? l : count + l * 8 + attempt), z)
      norm = Blas1.nrm2(z)
    }
    for (let k = 0; k < dimension; k++) theta.data[k * count + l] = z[k]! / norm
  }
  return theta
}

const checkPoints = (what: string, x: Matrix.Matrix): void => {
  if (x.rows === 0 || x.cols === 0) throw new Errors.EmptyInput({ operation: NAME, what })
  const k = Vector.findNonFinite(x.data)
  if (k >= 0) throw new Errors.NonFiniteInput({ operation: NAME, what, index: k, value: x.data[k]! })
}

const readP = (p: unknown): number => {
  if (typeof p !== "number" || !(p >= 1) || !Number.isFinite(p))
    throw new Errors.InvalidOptions({
      operation: NAME,
      field: "p",
      value: p,
      requirement: "a finite number ≥ 1"
    })
  return p
}

/**
 * W_p^p between the points u (weights wu, indices `su` sorted by value) and
 * v: the merge of the two cumulative distribution functions. Each segment
 * (t_prev, t] between consecutive cumulative weights of either side pays
 * (t − t_prev)·|u_i − v_j|^p for the quantiles i, j it falls in; a side
 * whose cumulative sum ends first (masses agree only to rounding) keeps its
 * last point, as POT's clipped quantile functions do. At most n + m segments.
 */
const monotoneCost = (
  u: Float64Array,
  wu: Float64Array,
  su: Int32Array,
  v: Float64Array,
  wv: Float64Array,
  sv: Int32Array,
  p: number
): number => {
  const n = su.length
  const m = sv.length
  let i = 0
  let j = 0
  let cu = wu[su[0]!]!
  let cv = wv[sv[0]!]!
  let previous = 0
  let total = 0
  for (let guard = 0; guard <= n + m; guard++) {
    const t = Math.min(cu, cv)
    const delta = t - previous
    if (delta > 0) {
      const d = Math.abs(u[su[i]!]! - v[sv[j]!]!)
      total += delta * (p === 1 ? d : p === 2 ? d * d : d ** p)
    }
    previous = t
    let moved = false
    if (cu <= t) {
      if (i < n - 1) {
        cu += wu[su[++i]!]!
        moved = true
      } else cu = Number.POSITIVE_INFINITY
    }
    if (cv <= t) {
      if (j < m - 1) {
        cv += wv[sv[++j]!]!
        moved = true
      } else cv = Number.POSITIVE_INFINITY
    }
    if (!moved) break
  }
  return total
}

/**
 * SW_p along the given directions (the columns of `projections`, d × L; they
 * are used as given, not normalized).
 *
 * @throws EmptyInput, NonFiniteInput for empty or non-finite points;
 *   DimensionMismatch when x, y and the directions disagree in d;
 *   NegativeMass, InvalidOptions for bad weights; UnbalancedMarginals when
 *   Σa ≠ Σb; InvalidOptions for p < 1.
 * @category evaluators
 * @since 0.1.0
 */
export const distanceAlong = (
  x: Matrix.Matrix,
  y: Matrix.Matrix,
  projections: Matrix.Matrix,
  options: SlicedWassersteinOptions = {}
): SlicedWassersteinResult => {
  checkPoints("x", x)
  checkPoints("y", y)
  const d = x.cols
  if (y.cols !== d)
    throw new Errors.DimensionMismatch({
      operation: NAME,
      what: "y",
      expected: [y.rows, d],
      actual: [y.rows, y.cols]
    })
  if (projections.rows !== d || projections.cols === 0)
    throw new Errors.DimensionMismatch({
      operation: NAME,
      what: "projections",
      expected: [d, Math.max(1, projections.cols)],
      actual: [projections.rows, projections.cols]
    })
  checkPoints("projections", projections)
  const p = readP(options.p ?? defaultSlicedWassersteinOptions.p)
  const n = x.rows
  const m = y.rows
  const { w: a, mass: massA } = readWeights(NAME, "a", options.a, n)
  const { w: b, mass: massB } = readWeights(NAME, "b", options.b, m)
  checkBalanced(NAME, massA, massB, 1e-9)
  const L = projections.cols
  // All projections at once: X·Θ (n × L) and Y·Θ (m × L), then one column per direction.
  const XT = Matrix.zeros(n, L)
  const YT = Matrix.zeros(m, L)
  Blas3.gemm(false, false, 1, x, projections, 0, XT)
  Blas3.gemm(false, false, 1, y, projections, 0, YT)
  const u = Vector.zeros(n)
  const v = Vector.zeros(m)
  const su = new Int32Array(n)
  const sv = new Int32Array(m)
  const byU = (i: number, k: number): number => u[i]! - u[k]! || i - k
  const byV = (i: number, k: number): number => v[i]! - v[k]! || i - k
  const projected = Vector.zeros(L)
  for (let l = 0; l < L; l++) {
    Matrix.getColumn(XT, l, u)
    Matrix.getColumn(YT, l, v)
    for (let i = 0; i < n; i++) su[i] = i
    for (let j = 0; j < m; j++) sv[j] = j
    su.sort(byU)
    sv.sort(byV)
    projected[l] = monotoneCost(u, a, su, v, b, sv, p)
  }
  let cost = 0
  for (let l = 0; l < L; l++) cost += projected[l]!
  cost /= L
  return { distance: cost ** (1 / p), cost, p, projected, projections }
}

/**
 * SW_p along L random directions drawn from `key` (see `randomDirections`).
 *
 * @example
 * const { distance } = SlicedWasserstein.distance(x, y, { directions: 200, key: Random.key(1) })
 * @throws the errors of `distanceAlong`; InvalidOptions for a bad `directions`.
 * @category evaluators
 * @since 0.1.0
 */
export const distance = (
  x: Matrix.Matrix,
  y: Matrix.Matrix,
  options: SlicedWassersteinOptions = {}
): SlicedWassersteinResult => {
  const count = integerAtLeast(
    NAME,
    "directions",
    options.directions ?? defaultSlicedWassersteinOptions.directions,
    1
  )
  const key = options.key ?? Random.key(defaultSlicedWassersteinOptions.seed)
  if (x.cols === 0) throw new Errors.EmptyInput({ operation: NAME, what: "x" })
  return distanceAlong(x, y, randomDirections(key, x.cols, count), options)
}
