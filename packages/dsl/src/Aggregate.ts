/**
 * Aggregation of sampled traces over repetitions: the numbers behind the
 * convergence curves of a report (median line and spread band per solver).
 *
 * A cell's trace samples its metrics at log-spaced iterations, and the
 * repetitions of one (problem, solver) pair stop at different iterations (or
 * times, or oracle counts), so their samples do not line up. Each repetition
 * is therefore interpolated onto one common grid, and the quantiles are taken
 * across repetitions at each grid point:
 *
 * - The x coordinate is u = log(1 + x) on a log axis (`xScale: "log"`; the
 *   `+ 1` admits iteration 0, time 0, zero oracle calls, and equals Vega's
 *   `symlog` scale with constant 1, on which the charts draw it), or u = x on
 *   a linear axis. The grid has `gridPoints` points equally spaced in u from
 *   the smallest first sample to the largest last sample of the repetitions;
 *   its end points are those samples exactly.
 * - Between two samples (uᵢ, yᵢ), (uᵢ₊₁, yᵢ₊₁) a repetition's value is linear
 *   in u — in log y when the y axis is logarithmic (geometric decay is then
 *   interpolated exactly), in y otherwise. At a sample the value is the
 *   sample itself. Left of its first sample a repetition has no value; right
 *   of its last sample it keeps its last value when `holdLast` (a solver
 *   that stopped keeps its answer — without this, the median would jump
 *   whenever the fastest repetition stops and the rest are left), and has
 *   none otherwise. `convergence` holds the last value of every cell except
 *   those that diverged or failed: their curves end where their finite
 *   samples end.
 * - At each grid point, over the repetitions that have a value there: the
 *   median, and the band — min–max or the quartiles — with NumPy's default
 *   (`linear`, Hyndman–Fan type 7) quantile. `count` says how many
 *   repetitions contributed.
 *
 * Samples whose x or y is not finite (NaN marks a metric unavailable at a
 * sample; a diverged solver's objective may be ±∞) are dropped before
 * interpolation.
 *
 * @since 0.1.0
 */
import { Errors } from "@descent/core"
import { Data } from "effect"
import { type CellGroup, groupCells } from "./internal/cellGroups.ts"
import type { CellRecord } from "./Records.ts"

/**
 * A metric that no cell's trace (or no cell's final metrics) contains.
 *
 * @category errors
 * @since 0.1.0
 */
export class MetricNotFound extends Data.TaggedError("MetricNotFound")<{
  /** The function that looked for it. */
  readonly operation: string
  /** The metric's name (for a summed axis, the names joined by `+`). */
  readonly metric: string
  /** The metric names the cells do have. */
  readonly available: ReadonlyArray<string>
  readonly message: string
}> {
  constructor(args: {
    readonly operation: string
    readonly metric: string
    readonly available: ReadonlyArray<string>
  }) {
    super({
      ...args,
      message: `${args.operation}: no cell has the metric "${args.metric}" (available: ${
        args.available.length === 0 ? "none" : args.available.join(", ")
      })`
    })
  }
}

const checkProbability = (operation: string, p: number): void => {
  if (!(p >= 0 && p <= 1)) {
    throw new Errors.InvalidOptions({ operation, field: "p", value: p, requirement: "a number in [0, 1]" })
  }
}

/**
 * NumPy's interpolation `_lerp`: a + (b − a)·t, computed from b for t ≥ ½
 * so that t = 1 gives b exactly. Infinite ends give the limiting value
 * (NumPy gives NaN for, e.g., the median of [1, ∞]).
 */
const lerp = (a: number, b: number, t: number): number => {
  if (t === 0 || a === b) return a
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a + (b - a) * t
  const diff = b - a
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t
}

/**
 * The p-quantile of values already sorted in increasing order, by NumPy's
 * default method (`np.quantile(a, p)`, method `linear`, Hyndman & Fan type
 * 7): with h = (n − 1)·p, the value a[⌊h⌋] + (h − ⌊h⌋)·(a[⌊h⌋+1] − a[⌊h⌋]).
 * Bit-identical to NumPy on finite values.
 *
 * @throws `Errors.EmptyInput` when `sorted` is empty; `Errors.InvalidOptions` when p ∉ [0, 1].
 * @category aggregation
 * @since 0.1.0
 */
export const quantileSorted = (sorted: ArrayLike<number>, p: number): number => {
  checkProbability("quantileSorted", p)
  const n = sorted.length
  if (n === 0) throw new Errors.EmptyInput({ operation: "quantileSorted", what: "values" })
  const h = (n - 1) * p
  const lo = Math.floor(h)
  if (lo >= n - 1) return sorted[n - 1]
  return lerp(sorted[lo], sorted[lo + 1], h - lo)
}

/**
 * The p-quantile of `values` (in any order) by NumPy's default method, see
 * `quantileSorted`. Like NumPy, any NaN makes the result NaN.
 *
 * @example
 * quantile([1, 2, 3, 4], 0.25) // 1.75, as np.quantile([1, 2, 3, 4], 0.25)
 * @throws `Errors.EmptyInput` when `values` is empty; `Errors.InvalidOptions` when p ∉ [0, 1].
 * @category aggregation
 * @since 0.1.0
 */
export const quantile = (values: ArrayLike<number>, p: number): number => {
  checkProbability("quantile", p)
  if (values.length === 0) throw new Errors.EmptyInput({ operation: "quantile", what: "values" })
  const sorted = Float64Array.from(values)
  for (let i = 0; i < sorted.length; i++) if (Number.isNaN(sorted[i])) return Number.NaN
  sorted.sort()
  return quantileSorted(sorted, p)
}

/**
 * The median by NumPy's rule (`np.median`: the mean of the two middle
 * values for an even count); NaN if any value is NaN.
 *
 * @throws `Errors.EmptyInput` when `values` is empty.
 * @category aggregation
 * @since 0.1.0
 */
export const median = (values: ArrayLike<number>): number => quantile(values, 0.5)

/**
 * What the x axis of a convergence curve (or the cost of a performance
 * profile) measures: the iteration counter, or the sum of some trace
 * metrics (wall time; value + gradient calls).
 *
 * @category models
 * @since 0.1.0
 */
export interface XAxis {
  /** The axis title, e.g. "iterations". */
  readonly title: string
  /**
   * Trace metrics whose sum is x. Empty: the iteration counter
   * (`Trace.iteration`). A metric a cell does not trace counts as absent
   * for that cell; a cell with none of them has no x.
   */
  readonly metrics: ReadonlyArray<string>
}

/**
 * x = the iteration counter.
 *
 * @category constants
 * @since 0.1.0
 */
export const iterationAxis: XAxis = { title: "iterations", metrics: [] }

/**
 * x = the trace metric `wallTimeMs` (elapsed wall time in milliseconds).
 *
 * @category constants
 * @since 0.1.0
 */
export const wallTimeAxis: XAxis = { title: "wall time (ms)", metrics: ["wallTimeMs"] }

/**
 * x = `valueCalls` + `gradientCalls` + `hessianVectorCalls` (the oracle
 * calls so far, as the runner's `oracleCounts` evaluator records them; a
 * count a cell does not trace is left out of its sum).
 *
 * @category constants
 * @since 0.1.0
 */
export const oracleCallsAxis: XAxis = {
  title: "oracle calls",
  metrics: ["valueCalls", "gradientCalls", "hessianVectorCalls"]
}

/**
 * A scale: `"log"` is u = log(1 + x) for x axes (Vega `symlog`, constant 1)
 * and u = log(y) for y axes; `"linear"` is the identity.
 *
 * @category models
 * @since 0.1.0
 */
export type Scale = "log" | "linear"

/**
 * Pairs (x, y) of one cell's trace, increasing in x.
 *
 * @category models
 * @since 0.1.0
 */
export interface Series {
  readonly x: ReadonlyArray<number>
  readonly y: ReadonlyArray<number>
  /** For this series, overrides the `holdLast` option of `interpolate` / `aggregate`. */
  readonly holdLast?: boolean
}

/**
 * The names of the metrics in the cells' traces, sorted.
 *
 * @category aggregation
 * @since 0.1.0
 */
export const traceMetricNames = (cells: ReadonlyArray<CellRecord>): ReadonlyArray<string> => {
  const names = new Set<string>()
  for (const cell of cells) for (const name of Object.keys(cell.trace.values)) names.add(name)
  return [...names].sort()
}

/**
 * The names of the cells' final metrics (`CellRecord.metrics`), sorted.
 *
 * @category aggregation
 * @since 0.1.0
 */
export const finalMetricNames = (cells: ReadonlyArray<CellRecord>): ReadonlyArray<string> => {
  const names = new Set<string>()
  for (const cell of cells) for (const name of Object.keys(cell.metrics)) names.add(name)
  return [...names].sort()
}

/**
 * Whether some cell's trace has the metric `metric` (and, for `axis`, at
 * least one of the axis's metrics).
 *
 * @category aggregation
 * @since 0.1.0
 */
export const hasTrace = (
  cells: ReadonlyArray<CellRecord>,
  metric: string,
  axis: XAxis = iterationAxis
): boolean =>
  cells.some(
    (cell) =>
      cell.trace.values[metric] !== undefined &&
      (axis.metrics.length === 0 || axis.metrics.some((m) => cell.trace.values[m] !== undefined))
  )

/**
 * x values of a cell's trace on `axis`: the iteration counter, or the sum of
 * the axis's metrics the cell traces (NaN where one is NaN); `undefined`
 * when the cell traces none of them.
 */
const axisValues = (cell: CellRecord, axis: XAxis): ReadonlyArray<number> | undefined => {
  if (axis.metrics.length === 0) return cell.trace.iteration
  const columns = axis.metrics.map((m) => cell.trace.values[m]).filter((c) => c !== undefined)
  if (columns.length === 0) return undefined
  if (columns.length === 1) return columns[0]
  return cell.trace.iteration.map((_, k) => columns.reduce((sum, c) => sum + (c[k] ?? Number.NaN), 0))
}

/**
 * One cell's trace of `metric` against `axis`: the samples whose x and y
 * are both finite (and x ≥ 0 when `xScale` is `"log"`), sorted by x (stable);
 * of several samples at the same x the last is kept. Empty when the cell does
 * not trace the metric or the axis.
 *
 * @category aggregation
 * @since 0.1.0
 */
export const traceSeries = (cell: CellRecord, metric: string, axis: XAxis, xScale: Scale = "log"): Series => {
  const ys = cell.trace.values[metric]
  const xs = axisValues(cell, axis)
  if (ys === undefined || xs === undefined) return { x: [], y: [] }
  const pairs: Array<[number, number]> = []
  const n = Math.min(xs.length, ys.length)
  for (let k = 0; k < n; k++) {
    const x = xs[k]
    const y = ys[k]
    if (Number.isFinite(x) && Number.isFinite(y) && (xScale === "linear" || x >= 0)) pairs.push([x, y])
  }
  pairs.sort((a, b) => a[0] - b[0])
  const x: Array<number> = []
  const y: Array<number> = []
  for (const [px, py] of pairs) {
    if (x.length > 0 && x[x.length - 1] === px) y[y.length - 1] = py
    else {
      x.push(px)
      y.push(py)
    }
  }
  return { x, y }
}

const toU = (x: number, scale: Scale): number => (scale === "log" ? Math.log1p(x) : x)
const fromU = (u: number, scale: Scale): number => (scale === "log" ? Math.expm1(u) : u)

/**
 * `points` x values equally spaced in u (u = log(1 + x) for `"log"`, u = x
 * for `"linear"`) from `min` to `max`; the ends are `min` and `max` exactly.
 * One point when `min === max`.
 *
 * @throws `Errors.InvalidOptions` when `points` is not an integer ≥ 2 or the range is not finite and ordered.
 * @category aggregation
 * @since 0.1.0
 */
export const grid = (min: number, max: number, points: number, scale: Scale): ReadonlyArray<number> => {
  if (!Number.isInteger(points) || points < 2) {
    throw new Errors.InvalidOptions({
      operation: "grid",
      field: "points",
      value: points,
      requirement: "an integer ≥ 2"
    })
  }
  if (!(Number.isFinite(min) && Number.isFinite(max) && min <= max && (scale === "linear" || min >= 0))) {
    throw new Errors.InvalidOptions({
      operation: "grid",
      field: "min, max",
      value: `${min}, ${max}`,
      requirement: "finite with min ≤ max (and min ≥ 0 on a log scale)"
    })
  }
  if (min === max) return [min]
  const u0 = toU(min, scale)
  const u1 = toU(max, scale)
  const out: Array<number> = [min]
  for (let j = 1; j < points - 1; j++) out.push(fromU(u0 + ((u1 - u0) * j) / (points - 1), scale))
  out.push(max)
  return out
}

/**
 * Options of `interpolate`.
 *
 * @category models
 * @since 0.1.0
 */
export interface InterpolateOptions {
  /** Coordinate of x: u = log(1 + x) (`"log"`) or x. Default `"log"`. */
  readonly xScale?: Scale
  /** Interpolate log y (`"log"`; y must be > 0) or y. Default `"log"`. */
  readonly yScale?: Scale
  /** Beyond the last sample, keep its value instead of NaN. Default false. */
  readonly holdLast?: boolean
}

/**
 * Defaults of `InterpolateOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultInterpolateOptions = { xScale: "log", yScale: "log", holdLast: false } as const

/**
 * The series' values at the points `at`: piecewise linear in the chosen
 * coordinates (see the module comment), the sample itself at a sample's x,
 * NaN left of the first sample and right of the last (unless `holdLast`).
 *
 * @category aggregation
 * @since 0.1.0
 */
export const interpolate = (
  series: Series,
  at: ReadonlyArray<number>,
  options: InterpolateOptions = {}
): Float64Array => {
  const { xScale, yScale, holdLast: holdOption } = { ...defaultInterpolateOptions, ...options }
  const holdLast = series.holdLast ?? holdOption
  const n = series.x.length
  const out = new Float64Array(at.length).fill(Number.NaN)
  if (n === 0) return out
  const first = series.x[0]
  const last = series.x[n - 1]
  for (let i = 0; i < at.length; i++) {
    const x = at[i]
    if (!(x >= first)) continue
    if (x >= last) {
      if (x === last || holdLast) out[i] = series.y[n - 1]
      continue
    }
    // Largest j with x_j ≤ x (j < n − 1 here).
    let lo = 0
    let hi = n - 1
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1
      if (series.x[mid] <= x) lo = mid
      else hi = mid
    }
    if (series.x[lo] === x) {
      out[i] = series.y[lo]
      continue
    }
    const u0 = toU(series.x[lo], xScale)
    const t = (toU(x, xScale) - u0) / (toU(series.x[lo + 1], xScale) - u0)
    const y0 = series.y[lo]
    const y1 = series.y[lo + 1]
    out[i] = yScale === "log" ? Math.exp(lerp(Math.log(y0), Math.log(y1), t)) : lerp(y0, y1, t)
  }
  return out
}

/**
 * The spread shown around the median: the range (`"minmax"`) or the
 * interquartile range (`"quartiles"`) over repetitions.
 *
 * @category models
 * @since 0.1.0
 */
export type Band = "minmax" | "quartiles"

/**
 * Options of `aggregate`.
 *
 * @category models
 * @since 0.1.0
 */
export interface AggregateOptions extends InterpolateOptions {
  /** The band around the median. Default `"minmax"` (runs have few repetitions, often 3). */
  readonly band?: Band
  /** Points of the common grid (an integer ≥ 2). Default 64. */
  readonly gridPoints?: number
}

/**
 * Defaults of `AggregateOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultAggregateOptions = {
  ...defaultInterpolateOptions,
  band: "minmax",
  gridPoints: 64
} as const

/**
 * The aggregate over repetitions at one grid point.
 *
 * @category models
 * @since 0.1.0
 */
export interface BandPoint {
  readonly x: number
  readonly median: number
  /** Lower edge of the band (min or first quartile). */
  readonly lower: number
  /** Upper edge of the band (max or third quartile). */
  readonly upper: number
  /** Repetitions with a value at x. */
  readonly count: number
}

/**
 * Median and band of several repetitions' series on their common grid (see
 * the module comment); grid points where no repetition has a value are left
 * out. On a log y scale, samples with y ≤ 0 are dropped first.
 *
 * @throws `Errors.InvalidOptions` when `gridPoints` is not an integer ≥ 2.
 * @category aggregation
 * @since 0.1.0
 */
export const aggregate = (
  series: ReadonlyArray<Series>,
  options: AggregateOptions = {}
): ReadonlyArray<BandPoint> => {
  const o = { ...defaultAggregateOptions, ...options }
  grid(0, 1, o.gridPoints, "linear")
  const usable = series
    .map((s) => {
      if (o.yScale === "linear") return s
      const keep = s.y.map((y) => y > 0)
      return { ...s, x: s.x.filter((_, k) => keep[k]), y: s.y.filter((_, k) => keep[k]) }
    })
    .filter((s) => s.x.length > 0)
  if (usable.length === 0) return []
  const min = Math.min(...usable.map((s) => s.x[0]))
  const max = Math.max(...usable.map((s) => s.x[s.x.length - 1]))
  const xs = grid(min, max, o.gridPoints, o.xScale)
  const columns = usable.map((s) => interpolate(s, xs, o))
  const [pLow, pHigh] = o.band === "minmax" ? [0, 1] : [0.25, 0.75]
  const points: Array<BandPoint> = []
  const values = new Float64Array(usable.length)
  for (let i = 0; i < xs.length; i++) {
    let count = 0
    for (const c of columns) if (!Number.isNaN(c[i])) values[count++] = c[i]
    if (count === 0) continue
    const sorted = values.slice(0, count).sort()
    points.push({
      x: xs[i],
      median: quantileSorted(sorted, 0.5),
      lower: quantileSorted(sorted, pLow),
      upper: quantileSorted(sorted, pHigh),
      count
    })
  }
  return points
}

/**
 * Options of `convergence`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ConvergenceOptions {
  /** The trace metric on the y axis (any name the runner records). Default `"objective"`. */
  readonly metric?: string
  /** What x measures. Default `iterationAxis`. */
  readonly xAxis?: XAxis
  /** Default `"log"`: u = log(1 + x). */
  readonly xScale?: Scale
  /**
   * `"auto"` (default): log when every finite traced value of the metric is
   * ≥ 0 and one is > 0 (suboptimality, gradient norm, a positive objective),
   * else linear.
   */
  readonly yScale?: Scale | "auto"
  /**
   * On a log y scale, values ≤ 0 (an optimum reached exactly) are drawn at
   * min(`logFloor`, the smallest positive value). Default 1e-16, below the
   * relative resolution of a double.
   */
  readonly logFloor?: number
  /** Default `"minmax"`. */
  readonly band?: Band
  /** Default 64. */
  readonly gridPoints?: number
  /**
   * Keep a repetition's last value right of its last sample. Default true;
   * never for cells that diverged or failed.
   */
  readonly holdLast?: boolean
}

/**
 * Defaults of `ConvergenceOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultConvergenceOptions = {
  metric: "objective",
  xAxis: iterationAxis,
  xScale: "log",
  yScale: "auto",
  logFloor: 1e-16,
  band: "minmax",
  gridPoints: 64,
  holdLast: true
} as const

/**
 * The aggregated curve of one (problem instance, solver) pair.
 *
 * @category models
 * @since 0.1.0
 */
export interface ConvergenceSeries {
  /** The problem instance's label (its name, and the parameters that tell instances apart). */
  readonly problem: string
  /** The solver's label (its name, and the options that tell variants apart). */
  readonly solver: string
  /** Cells (repetitions) of the pair. */
  readonly cells: number
  /** Cells that traced the metric on the axis. */
  readonly traced: number
  readonly points: ReadonlyArray<BandPoint>
}

/**
 * Convergence curves of one metric against one axis, for every (problem
 * instance, solver) pair, with the scales they were computed on.
 *
 * @category models
 * @since 0.1.0
 */
export interface Convergence {
  readonly metric: string
  readonly xAxis: XAxis
  readonly xScale: Scale
  /** The y scale (`"auto"` resolved). */
  readonly yScale: Scale
  /** The value that replaced y ≤ 0 on a log scale, or undefined when none did. */
  readonly floor: number | undefined
  readonly band: Band
  /** Problem labels, in natural order. */
  readonly problems: ReadonlyArray<string>
  /** Solver labels, in natural order. */
  readonly solvers: ReadonlyArray<string>
  /** Ordered by problem, then solver. */
  readonly series: ReadonlyArray<ConvergenceSeries>
}

const clipSeries = (s: Series, floor: number): Series =>
  s.y.every((y) => y > 0) ? s : { ...s, y: s.y.map((y) => (y > 0 ? y : floor)) }

/**
 * Median and spread over repetitions of `metric` against `xAxis` for every
 * (problem instance, solver) pair of the cells. The result does not depend
 * on the order of `cells`.
 *
 * @throws `MetricNotFound` when no cell traces the metric or the axis; `Errors.InvalidOptions` for a bad option.
 * @category aggregation
 * @since 0.1.0
 */
export const convergence = (
  cells: ReadonlyArray<CellRecord>,
  options: ConvergenceOptions = {}
): Convergence => {
  const o = { ...defaultConvergenceOptions, ...options }
  if (!(o.logFloor > 0 && Number.isFinite(o.logFloor))) {
    throw new Errors.InvalidOptions({
      operation: "convergence",
      field: "logFloor",
      value: o.logFloor,
      requirement: "a finite number > 0"
    })
  }
  if (!cells.some((c) => c.trace.values[o.metric] !== undefined)) {
    throw new MetricNotFound({
      operation: "convergence",
      metric: o.metric,
      available: traceMetricNames(cells)
    })
  }
  if (!hasTrace(cells, o.metric, o.xAxis)) {
    throw new MetricNotFound({
      operation: "convergence",
      metric: o.xAxis.metrics.join("+"),
      available: traceMetricNames(cells)
    })
  }
  const { problems, solvers, groups } = groupCells(cells)
  const raw = groups.map((g: CellGroup) =>
    g.cells.map(
      (c): Series => ({
        ...traceSeries(c, o.metric, o.xAxis, o.xScale),
        holdLast: o.holdLast && c.status !== "diverged" && c.status !== "failed"
      })
    )
  )
  let minValue = Infinity
  let minPositive = Infinity
  let maxValue = -Infinity
  for (const list of raw)
    for (const s of list)
      for (const y of s.y) {
        if (y < minValue) minValue = y
        if (y > maxValue) maxValue = y
        if (y > 0 && y < minPositive) minPositive = y
      }
  const yScale: Scale = o.yScale === "auto" ? (minValue >= 0 && maxValue > 0 ? "log" : "linear") : o.yScale
  const floor = yScale === "log" && minValue <= 0 ? Math.min(o.logFloor, minPositive) : undefined
  const series = groups.map((g, k) => {
    const list = floor === undefined ? raw[k] : raw[k].map((s) => clipSeries(s, floor))
    return {
      problem: g.problem,
      solver: g.solver,
      cells: g.cells.length,
      traced: list.filter((s) => s.x.length > 0).length,
      points: aggregate(list, {
        xScale: o.xScale,
        yScale,
        band: o.band,
        gridPoints: o.gridPoints,
        holdLast: o.holdLast
      })
    }
  })
  return {
    metric: o.metric,
    xAxis: o.xAxis,
    xScale: o.xScale,
    yScale,
    floor,
    band: o.band,
    problems,
    solvers,
    series
  }
}
