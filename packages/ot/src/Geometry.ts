/**
 * Geometries: where the ground cost C_ij between source point i and target
 * point j comes from (OTT-JAX's `Geometry`, POT's cost matrices). Every
 * solver reads costs through this interface, so the same solver runs on
 *
 * - an explicit cost matrix (`fromCostMatrix`), and
 * - two point clouds with a squared-Euclidean or Euclidean cost
 *   (`pointCloud`), which solvers may evaluate row by row (`costRow`) without
 *   ever materializing the n × m matrix — the only way to run n = 10⁵.
 *
 * Costs can be normalized (divided by their max, mean or median), as POT's
 * examples and the benchmarks in issue #9 do (`normalize: "max"`); the factor
 * is recorded in `scale` so costs can be reported in the original units.
 *
 * Validation: shapes must agree (`DimensionMismatch`), entries must not be NaN
 * (`NonFiniteInput`; +∞ costs are allowed and mean "forbidden pair", handled
 * by the log-domain solvers), and a geometry must not be empty (`EmptyInput`).
 *
 * @since 0.1.0
 */
import { Errors, Matrix, Vector } from "@descent/core"

/**
 * How costs are scaled: `none`, or divided by their `max`, `mean` or
 * `median` (over the finite entries).
 *
 * @category models
 * @since 0.1.0
 */
export type Normalization = "none" | "max" | "mean" | "median"

/**
 * The ground cost of a point cloud: ‖x − y‖² (`sqeuclidean`, default) or
 * ‖x − y‖ (`euclidean`).
 *
 * @category models
 * @since 0.1.0
 */
export type PointCost = "sqeuclidean" | "euclidean"

/**
 * An explicit n × m cost matrix (already divided by `scale`).
 *
 * @category models
 * @since 0.1.0
 */
export interface DenseGeometry {
  readonly _tag: "DenseGeometry"
  readonly rows: number
  readonly cols: number
  /** Row-major costs, divided by `scale`. */
  readonly cost: Matrix.Matrix
  /** The normalization factor: original cost = `scale` · stored cost. */
  readonly scale: number
}

/**
 * Two point clouds x (n × d) and y (m × d) with a cost computed on demand:
 * C_ij = cost(x_i, y_j) / scale.
 *
 * @category models
 * @since 0.1.0
 */
export interface PointCloudGeometry {
  readonly _tag: "PointCloudGeometry"
  readonly rows: number
  readonly cols: number
  readonly x: Matrix.Matrix
  readonly y: Matrix.Matrix
  readonly costKind: PointCost
  readonly scale: number
  /** ‖x_i‖², precomputed (squared-Euclidean costs by ‖x‖² + ‖y‖² − 2xᵀy). */
  readonly xNorms: Float64Array
  /** ‖y_j‖², precomputed. */
  readonly yNorms: Float64Array
}

/**
 * A geometry.
 *
 * @category models
 * @since 0.1.0
 */
export type Geometry = DenseGeometry | PointCloudGeometry

const checkFinite = (operation: string, what: string, data: Float64Array, allowPosInf: boolean): void => {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!
    if (
      Number.isNaN(v) ||
      v === Number.NEGATIVE_INFINITY ||
      (!allowPosInf && v === Number.POSITIVE_INFINITY)
    ) {
      throw new Errors.NonFiniteInput({ operation, what, index: i, value: v })
    }
  }
}

const checkNotEmpty = (operation: string, what: string, rows: number, cols: number): void => {
  if (rows === 0 || cols === 0) throw new Errors.EmptyInput({ operation, what })
}

/** The normalization factor of `values` (finite entries only); 1 for `none` or when it would be 0. */
const normalizationFactor = (values: Float64Array, how: Normalization): number => {
  if (how === "none") return 1
  const finite: number[] = []
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]!)) finite.push(values[i]!)
  if (finite.length === 0) return 1
  let factor: number
  if (how === "max") {
    // A loop: `Math.max(...finite)` overflows the call stack beyond ~10⁵ arguments.
    factor = finite[0]!
    for (const v of finite) if (v > factor) factor = v
  } else if (how === "mean") factor = finite.reduce((s, v) => s + v, 0) / finite.length
  else {
    finite.sort((p, q) => p - q)
    const k = finite.length >> 1
    factor = finite.length % 2 === 1 ? finite[k]! : 0.5 * (finite[k - 1]! + finite[k]!)
  }
  return factor > 0 ? factor : 1
}

/**
 * Options of the geometry constructors.
 *
 * @category models
 * @since 0.1.0
 */
export interface GeometryOptions {
  /** Divide the costs by their max, mean or median. Default `"none"`. */
  readonly normalize?: Normalization
}

/**
 * A geometry from an explicit cost matrix (copied; +∞ marks forbidden pairs).
 *
 * @throws EmptyInput for a 0 × m or n × 0 matrix.
 * @throws NonFiniteInput for NaN or −∞ costs.
 * @category constructors
 * @since 0.1.0
 */
export const fromCostMatrix = (C: Matrix.Matrix, options: GeometryOptions = {}): DenseGeometry => {
  const operation = "Geometry.fromCostMatrix"
  checkNotEmpty(operation, "cost matrix", C.rows, C.cols)
  checkFinite(operation, "cost matrix", C.data, true)
  const scale = normalizationFactor(C.data, options.normalize ?? "none")
  const cost = Matrix.clone(C)
  if (scale !== 1) for (let i = 0; i < cost.data.length; i++) cost.data[i] = cost.data[i]! / scale
  return { _tag: "DenseGeometry", rows: C.rows, cols: C.cols, cost, scale }
}

/**
 * Options of `pointCloud`.
 *
 * @category models
 * @since 0.1.0
 */
export interface PointCloudOptions extends GeometryOptions {
  /** Default `"sqeuclidean"`. */
  readonly cost?: PointCost
}

/** The unnormalized cost between row i of x and row j of y. */
const rawPointCost = (g: Omit<PointCloudGeometry, "scale">, i: number, j: number): number => {
  const d = g.x.cols
  let s = 0
  const xo = i * d
  const yo = j * d
  for (let k = 0; k < d; k++) {
    const t = g.x.data[xo + k]! - g.y.data[yo + k]!
    s += t * t
  }
  return g.costKind === "sqeuclidean" ? s : Math.sqrt(s)
}

/**
 * A lazy geometry on two point clouds (rows of `x` and `y`, copied). Costs
 * are computed on demand by `costRow`/`costAt`; `materialize` builds the full
 * matrix when a solver wants it. Normalization by `max`/`mean`/`median`
 * computes all n·m costs once (without storing them).
 *
 * @throws DimensionMismatch when x and y have different dimensions.
 * @throws EmptyInput when either cloud has no point.
 * @throws NonFiniteInput for NaN or ±∞ coordinates.
 * @category constructors
 * @since 0.1.0
 */
export const pointCloud = (
  x: Matrix.Matrix,
  y: Matrix.Matrix,
  options: PointCloudOptions = {}
): PointCloudGeometry => {
  const operation = "Geometry.pointCloud"
  if (x.cols !== y.cols) {
    throw new Errors.DimensionMismatch({
      operation,
      what: "y columns (dimension)",
      expected: [x.cols],
      actual: [y.cols]
    })
  }
  checkNotEmpty(operation, "point cloud", x.rows, y.rows)
  checkFinite(operation, "x", x.data, false)
  checkFinite(operation, "y", y.data, false)
  const xNorms = Vector.zeros(x.rows)
  const yNorms = Vector.zeros(y.rows)
  for (let i = 0; i < x.rows; i++) {
    let s = 0
    for (let k = 0; k < x.cols; k++) s += x.data[i * x.cols + k]! ** 2
    xNorms[i] = s
  }
  for (let j = 0; j < y.rows; j++) {
    let s = 0
    for (let k = 0; k < y.cols; k++) s += y.data[j * y.cols + k]! ** 2
    yNorms[j] = s
  }
  const base = {
    _tag: "PointCloudGeometry" as const,
    rows: x.rows,
    cols: y.rows,
    x: Matrix.clone(x),
    y: Matrix.clone(y),
    costKind: options.cost ?? "sqeuclidean",
    xNorms,
    yNorms
  }
  const how = options.normalize ?? "none"
  let scale = 1
  if (how !== "none") {
    const all = Vector.zeros(base.rows * base.cols)
    for (let i = 0; i < base.rows; i++)
      for (let j = 0; j < base.cols; j++) all[i * base.cols + j] = rawPointCost(base, i, j)
    scale = normalizationFactor(all, how)
  }
  return { ...base, scale }
}

/**
 * The cost C_ij of a geometry (normalized).
 *
 * @category accessors
 * @since 0.1.0
 */
export const costAt = (geometry: Geometry, i: number, j: number): number =>
  geometry._tag === "DenseGeometry"
    ? geometry.cost.data[i * geometry.cols + j]!
    : rawPointCost(geometry, i, j) / geometry.scale

/**
 * Writes row i of the (normalized) cost matrix into `out` (length `cols`).
 *
 * @category accessors
 * @since 0.1.0
 */
export const costRow = (geometry: Geometry, i: number, out: Float64Array): Float64Array => {
  if (geometry._tag === "DenseGeometry") {
    out.set(geometry.cost.data.subarray(i * geometry.cols, (i + 1) * geometry.cols))
    return out
  }
  const inv = 1 / geometry.scale
  for (let j = 0; j < geometry.cols; j++) out[j] = rawPointCost(geometry, i, j) * inv
  return out
}

/**
 * The full (normalized) n × m cost matrix: the stored one for a dense
 * geometry (not a copy), a fresh matrix for point clouds.
 *
 * @category accessors
 * @since 0.1.0
 */
export const materialize = (geometry: Geometry): Matrix.Matrix => {
  if (geometry._tag === "DenseGeometry") return geometry.cost
  const C = Matrix.zeros(geometry.rows, geometry.cols)
  for (let i = 0; i < geometry.rows; i++)
    costRow(geometry, i, C.data.subarray(i * geometry.cols, (i + 1) * geometry.cols))
  return C
}
