/**
 * Geometries: where the ground cost C_ij between source point i and target
 * point j comes from (OTT-JAX's `Geometry`, POT's cost matrices). Every
 * solver reads costs through this interface, so the same solver runs on
 *
 * - an explicit cost matrix (`fromCostMatrix`), and
 * - two point clouds with a squared-Euclidean or Euclidean cost
 *   (`pointCloud`), which solvers may evaluate block by block (`costRows`)
 *   without ever materializing the n × m matrix — the only way to run
 *   n = 10⁵. Such a geometry is `online` (by default when n·m exceeds
 *   `ONLINE_ENTRIES`): Sinkhorn and log-domain Sinkhorn then recompute the
 *   costs in row blocks at every iteration (OTT-JAX's online point clouds);
 *   solvers that need the whole matrix (EMD, Greenkhorn, SNS, …) still
 *   materialize it.
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
 * A user ground cost c(x, y) between a source point and a target point
 * (views of their coordinates, length d; do not keep them). It must return a
 * finite number; it is called n·m times per materialization, and at every
 * pass of an online solver, so it should be cheap.
 *
 * @example
 * const manhattan: Geometry.UserCost = (x, y) => Math.abs(x[0]! - y[0]!) + Math.abs(x[1]! - y[1]!)
 * @category models
 * @since 0.1.0
 */
export type UserCost = (x: Float64Array, y: Float64Array) => number

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
  /** `"user"` for a `UserCost` (then in `userCost`). */
  readonly costKind: PointCost | "user"
  readonly userCost: UserCost | undefined
  readonly scale: number
  /** ‖x_i‖², precomputed (squared-Euclidean costs by ‖x‖² + ‖y‖² − 2xᵀy). */
  readonly xNorms: Float64Array
  /** ‖y_j‖², precomputed. */
  readonly yNorms: Float64Array
  /** Whether solvers that can should compute costs block by block instead of materializing them. */
  readonly online: boolean
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
  /** A named cost or a `UserCost` function. Default `"sqeuclidean"`. */
  readonly cost?: PointCost | UserCost
  /**
   * Compute costs block by block in the solvers that can (Sinkhorn,
   * log-domain Sinkhorn) instead of materializing n·m of them. Default: when
   * n·m > `ONLINE_ENTRIES`.
   */
  readonly online?: boolean
}

/**
 * Above this many entries (2²⁴: 128 MiB of doubles) a point cloud is online
 * by default.
 *
 * @category constants
 * @since 0.1.0
 */
export const ONLINE_ENTRIES = 2 ** 24

type RawPointCloud = Pick<PointCloudGeometry, "x" | "y" | "costKind" | "userCost" | "cols">

/**
 * out[(i − start)·m + j] ← cost(x_i, y_j)·factor for rows [start, end):
 * Σ_k (x_ik − y_jk)² (its square root for `euclidean`), by differences so
 * that a cost is never negative and C_ii = 0 for equal points. Planar and
 * 3-D clouds get unrolled loops (the online solvers recompute every cost at
 * every pass; a loop over k of length 2 costs twice the arithmetic).
 */
const rawPointCosts = (
  g: RawPointCloud,
  start: number,
  end: number,
  factor: number,
  out: Float64Array
): void => {
  const d = g.x.cols
  if (g.userCost !== undefined) {
    userCosts(g.x, g.y, g.userCost, start, end, factor, out)
    return
  }
  const root = g.costKind === "euclidean"
  // Euclidean: the root of the raw squared distance, then the factor.
  const f = root ? 1 : factor
  if (d === 2) planarCosts(g.x.data, g.y.data, g.cols, start, end, f, out)
  else if (d === 3) spatialCosts(g.x.data, g.y.data, g.cols, start, end, f, out)
  else generalCosts(g.x.data, g.y.data, d, g.cols, start, end, f, out)
  if (root) {
    const len = (end - start) * g.cols
    for (let k = 0; k < len; k++) out[k] = Math.sqrt(out[k]!) * factor
  }
}

/** The user cost on row views of x and y, checked finite (NonFiniteInput names the pair). */
const userCosts = (
  x: Matrix.Matrix,
  y: Matrix.Matrix,
  cost: UserCost,
  start: number,
  end: number,
  factor: number,
  out: Float64Array
): void => {
  const d = x.cols
  const m = y.rows
  for (let i = start; i < end; i++) {
    const xi = x.data.subarray(i * d, (i + 1) * d)
    const o = (i - start) * m
    for (let j = 0; j < m; j++) {
      const c = cost(xi, y.data.subarray(j * d, (j + 1) * d))
      if (!Number.isFinite(c)) {
        throw new Errors.NonFiniteInput({
          operation: "Geometry user cost",
          what: `cost(x[${i}], y[${j}])`,
          index: i * m + j,
          value: c
        })
      }
      out[o + j] = c * factor
    }
  }
}

const planarCosts = (
  xs: Float64Array,
  ys: Float64Array,
  m: number,
  start: number,
  end: number,
  factor: number,
  out: Float64Array
): void => {
  for (let i = start; i < end; i++) {
    const x0 = xs[2 * i]!
    const x1 = xs[2 * i + 1]!
    const o = (i - start) * m
    for (let j = 0; j < m; j++) {
      const t0 = x0 - ys[2 * j]!
      const t1 = x1 - ys[2 * j + 1]!
      out[o + j] = (t0 * t0 + t1 * t1) * factor
    }
  }
}

const spatialCosts = (
  xs: Float64Array,
  ys: Float64Array,
  m: number,
  start: number,
  end: number,
  factor: number,
  out: Float64Array
): void => {
  for (let i = start; i < end; i++) {
    const x0 = xs[3 * i]!
    const x1 = xs[3 * i + 1]!
    const x2 = xs[3 * i + 2]!
    const o = (i - start) * m
    for (let j = 0; j < m; j++) {
      const t0 = x0 - ys[3 * j]!
      const t1 = x1 - ys[3 * j + 1]!
      const t2 = x2 - ys[3 * j + 2]!
      out[o + j] = (t0 * t0 + t1 * t1 + t2 * t2) * factor
    }
  }
}

const generalCosts = (
  xs: Float64Array,
  ys: Float64Array,
  d: number,
  m: number,
  start: number,
  end: number,
  factor: number,
  out: Float64Array
): void => {
  for (let i = start; i < end; i++) {
    const xo = i * d
    const o = (i - start) * m
    for (let j = 0; j < m; j++) {
      const yo = j * d
      let s = 0
      for (let k = 0; k < d; k++) {
        const t = xs[xo + k]! - ys[yo + k]!
        s += t * t
      }
      out[o + j] = s * factor
    }
  }
}

/** The unnormalized cost between row i of x and row j of y. */
const rawPointCost = (g: RawPointCloud, i: number, j: number): number => {
  const d = g.x.cols
  if (g.userCost !== undefined) {
    const c = g.userCost(g.x.data.subarray(i * d, (i + 1) * d), g.y.data.subarray(j * d, (j + 1) * d))
    if (!Number.isFinite(c)) {
      throw new Errors.NonFiniteInput({
        operation: "Geometry user cost",
        what: `cost(x[${i}], y[${j}])`,
        index: i * g.cols + j,
        value: c
      })
    }
    return c
  }
  let s = 0
  const xo = i * d
  const yo = j * d
  for (let k = 0; k < d; k++) {
    const t = g.x.data[xo + k]! - g.y.data[yo + k]!
    s += t * t
  }
  return g.costKind === "euclidean" ? Math.sqrt(s) : s
}

/**
 * The normalization factor of a point cloud's costs: max and mean stream
 * over row blocks (no n·m storage); the median needs all n·m costs at once.
 */
const pointCloudFactor = (g: RawPointCloud & { readonly rows: number }, how: Normalization): number => {
  if (how === "median") {
    const all = Vector.zeros(g.rows * g.cols)
    rawPointCosts(g, 0, g.rows, 1, all)
    return normalizationFactor(all, how)
  }
  const blockRows = Math.max(1, Math.floor(65536 / g.cols))
  const block = Vector.zeros(Math.min(g.rows, blockRows) * g.cols)
  let max = Number.NEGATIVE_INFINITY
  let sum = 0
  for (let s = 0; s < g.rows; s += blockRows) {
    const e = Math.min(g.rows, s + blockRows)
    rawPointCosts(g, s, e, 1, block)
    const len = (e - s) * g.cols
    for (let k = 0; k < len; k++) {
      const v = block[k]!
      if (v > max) max = v
      sum += v
    }
  }
  const factor = how === "max" ? max : sum / (g.rows * g.cols)
  return factor > 0 ? factor : 1
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
    costKind: typeof options.cost === "function" ? ("user" as const) : (options.cost ?? "sqeuclidean"),
    userCost: typeof options.cost === "function" ? options.cost : undefined,
    xNorms,
    yNorms,
    online: options.online ?? x.rows * y.rows > ONLINE_ENTRIES
  }
  const how = options.normalize ?? "none"
  const scale = how === "none" ? 1 : pointCloudFactor(base, how)
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
export const costRow = (geometry: Geometry, i: number, out: Float64Array): Float64Array =>
  costRows(geometry, i, i + 1, out)

/**
 * Writes rows [start, end) of the (normalized) cost matrix into `out`
 * (row-major, (end − start)·cols entries): the unit of work of the online
 * solvers.
 *
 * @category accessors
 * @since 0.1.0
 */
export const costRows = (geometry: Geometry, start: number, end: number, out: Float64Array): Float64Array => {
  const m = geometry.cols
  if (geometry._tag === "DenseGeometry") {
    out.set(geometry.cost.data.subarray(start * m, end * m))
    return out
  }
  rawPointCosts(geometry, start, end, 1 / geometry.scale, out)
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
  costRows(geometry, 0, geometry.rows, C.data)
  return C
}
