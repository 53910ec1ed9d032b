/**
 * Chart specifications for a run, as plain JSON values in the Vega-Lite
 * grammar (https://vega.github.io/vega-lite/, v6): the HTML report renders
 * them with Vega-Lite + Vega, and the browser playground can render the same
 * values. Every spec carries its data inline (no URLs), contains only finite
 * numbers, and survives `JSON.parse(JSON.stringify(spec))` unchanged.
 *
 * - `convergenceChart`: a metric (objective, suboptimality, gradient norm, or
 *   any traced name) against iterations, wall time or oracle calls; one line
 *   per solver — the median over repetitions — in a shaded band (min–max or
 *   quartiles), one panel per problem instance (panels have their own
 *   scales). The x axis is log(1 + x) (Vega's `symlog`, constant 1), which
 *   shows iteration 0; the y axis is logarithmic when the metric is
 *   nonnegative. The aggregation is `Aggregate.convergence`.
 * - `performanceProfileChart`: Dolan–Moré profiles ρ_s(τ) as step lines on
 *   a log₂ τ axis (`PerformanceProfile`).
 *
 * Solver colors use one domain — every solver of the cells, in natural
 * order — so a solver has the same color in every chart of a run.
 *
 * @since 0.1.0
 */
import type { TopLevelSpec } from "vega-lite"
import {
  type Convergence,
  type ConvergenceOptions,
  convergence,
  defaultConvergenceOptions
} from "./Aggregate.ts"
import {
  costTable,
  defaultPerformanceProfileOptions,
  type PerformanceProfile,
  type PerformanceProfileOptions,
  performanceProfile
} from "./PerformanceProfile.ts"
import type { CellRecord } from "./Records.ts"

/**
 * A Vega-Lite (v6) top-level specification: a plain JSON value.
 *
 * @category models
 * @since 0.1.0
 */
export type ChartSpec = TopLevelSpec

/**
 * The `$schema` every spec declares (a name for editors and validators;
 * nothing is fetched from it).
 *
 * @category constants
 * @since 0.1.0
 */
export const VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"

/**
 * Size and placement of a chart.
 *
 * @category models
 * @since 0.1.0
 */
export interface ChartLayout {
  /** Width of one panel in pixels. Default 280. */
  readonly width?: number
  /** Height of one panel in pixels. Default 200. */
  readonly height?: number
  /** Panels per row of a faceted chart. Default 3. */
  readonly columns?: number
  /** The chart's title; default a description of what it shows. */
  readonly title?: string | undefined
}

/**
 * Defaults of `ChartLayout`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultChartLayout = { width: 280, height: 200, columns: 3, title: undefined } as const

/**
 * Options of `convergenceChart`: the aggregation's options and the layout.
 *
 * @category models
 * @since 0.1.0
 */
export interface ConvergenceChartOptions extends ConvergenceOptions, ChartLayout {}

/**
 * Defaults of `ConvergenceChartOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultConvergenceChartOptions = { ...defaultConvergenceOptions, ...defaultChartLayout } as const

const formatThreshold = (x: number): string =>
  x === 0 ? "0" : Math.abs(x) < 1e-3 ? x.toExponential() : String(x)

/** 0, 1, 10, …, up to the first power of ten ≥ max: tick values for a log(1 + x) axis. */
const symlogTicks = (max: number): Array<number> => {
  const ticks = [0, 1]
  while (ticks[ticks.length - 1] < max) ticks.push(ticks[ticks.length - 1] * 10)
  return ticks
}

/**
 * Axis labels: plain numbers in [1e-3, 1e4) (`0.01`, `250`), exponent notation
 * otherwise (`1e-8`, `2e+5`) — Vega's default mixes `0.000001` with `1e-7`.
 */
const LOG_LABEL =
  "abs(datum.value) >= 1e-3 && abs(datum.value) < 1e4 || datum.value == 0 ? format(datum.value, '~g') : format(datum.value, '~e')"

const colorEncoding = (solvers: ReadonlyArray<string>) => ({
  field: "solver",
  type: "nominal" as const,
  title: "solver",
  scale: { domain: [...solvers] }
})

/**
 * The Vega-Lite spec of aggregated convergence curves (see the module
 * comment). `solvers` fixes the color domain (default: the solvers of `c`).
 *
 * @category charts
 * @since 0.1.0
 */
export const convergenceSpec = (
  c: Convergence,
  layout: ChartLayout = {},
  solvers: ReadonlyArray<string> = c.solvers
): ChartSpec => {
  const l = { ...defaultChartLayout, ...layout }
  const values = c.series.flatMap((s) =>
    s.points.map((p) => ({
      problem: s.problem,
      solver: s.solver,
      x: p.x,
      median: p.median,
      lower: p.lower,
      upper: p.upper,
      count: p.count
    }))
  )
  const maxX = values.reduce((m, v) => Math.max(m, v.x), 0)
  const x = {
    field: "x",
    type: "quantitative" as const,
    title: c.xAxis.title,
    scale: c.xScale === "log" ? { type: "symlog" as const, constant: 1 } : { type: "linear" as const },
    axis: c.xScale === "log" ? { values: symlogTicks(maxX), format: "~s" } : { format: "~s" }
  }
  const yScale = c.yScale === "log" ? { type: "log" as const } : { type: "linear" as const, zero: false }
  const yAxis = { labelExpr: LOG_LABEL }
  const color = colorEncoding(solvers)
  const band = c.band === "minmax" ? "band: min–max" : "band: interquartile range"
  const subtitle = [`median over repetitions; ${band}`]
  if (c.floor !== undefined) subtitle.push(`values ≤ 0 drawn at ${formatThreshold(c.floor)}`)
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: l.title ?? `${c.metric} vs ${c.xAxis.title}`, subtitle },
    data: { values },
    facet: { field: "problem", type: "nominal", title: null, sort: [...c.problems] },
    columns: l.columns,
    spec: {
      width: l.width,
      height: l.height,
      layer: [
        {
          mark: { type: "area", opacity: 0.2, clip: true },
          encoding: {
            x,
            y: { field: "lower", type: "quantitative", title: c.metric, scale: yScale, axis: yAxis },
            y2: { field: "upper" },
            color
          }
        },
        {
          mark: { type: "line", clip: true, strokeWidth: 1.75 },
          encoding: {
            x,
            y: { field: "median", type: "quantitative", title: c.metric, scale: yScale, axis: yAxis },
            color
          }
        },
        {
          mark: { type: "point", opacity: 0, size: 40, clip: true },
          encoding: {
            x,
            y: { field: "median", type: "quantitative", title: c.metric, scale: yScale, axis: yAxis },
            color,
            tooltip: [
              { field: "solver", type: "nominal" },
              { field: "x", type: "quantitative", title: c.xAxis.title, format: ".4~g" },
              { field: "median", type: "quantitative", title: `median ${c.metric}`, format: ".4~g" },
              { field: "lower", type: "quantitative", format: ".4~g" },
              { field: "upper", type: "quantitative", format: ".4~g" },
              { field: "count", type: "quantitative", title: "repetitions" }
            ]
          }
        }
      ]
    },
    resolve: { scale: { x: "independent", y: "independent" } }
  }
}

/**
 * Convergence curves of `cells`: `convergenceSpec(Aggregate.convergence(cells, options), options)`.
 *
 * @throws `Aggregate.MetricNotFound` when no cell traces the metric or the axis.
 * @category charts
 * @since 0.1.0
 */
export const convergenceChart = (
  cells: ReadonlyArray<CellRecord>,
  options: ConvergenceChartOptions = {}
): ChartSpec => convergenceSpec(convergence(cells, options), options)

/**
 * Options of `performanceProfileChart`.
 *
 * @category models
 * @since 0.1.0
 */
export interface PerformanceProfileChartOptions extends PerformanceProfileOptions, ChartLayout {}

/**
 * Defaults of `PerformanceProfileChartOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultPerformanceProfileChartOptions = {
  ...defaultPerformanceProfileOptions,
  ...defaultChartLayout,
  width: 420,
  height: 260
} as const

/**
 * The Vega-Lite spec of a performance profile: ρ_s(τ) as step lines,
 * τ on a log₂ axis from 1 to `tauMax`, ρ from 0 to 1. `description` becomes
 * the subtitle (what the cost is).
 *
 * @category charts
 * @since 0.1.0
 */
export const profileSpec = (
  profile: PerformanceProfile,
  layout: ChartLayout = {},
  description: ReadonlyArray<string> = []
): ChartSpec => {
  const l = { ...defaultPerformanceProfileChartOptions, ...layout }
  const values = profile.curves.flatMap((c) =>
    c.points.map((p) => ({ solver: c.solver, tau: p.tau, rho: p.rho }))
  )
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: {
      text: l.title ?? "Performance profile",
      subtitle: [
        ...description,
        `ρ(τ): fraction of the ${profile.problems.length} problems solved within τ × the best cost`
      ]
    },
    width: l.width,
    height: l.height,
    data: { values },
    mark: { type: "line", interpolate: "step-after", strokeWidth: 1.75, clip: true },
    encoding: {
      x: {
        field: "tau",
        type: "quantitative",
        title: "τ",
        scale: { type: "log", base: 2, domain: [1, profile.tauMax] },
        axis: { format: "~g" }
      },
      y: { field: "rho", type: "quantitative", title: "ρ(τ)", scale: { domain: [0, 1] } },
      color: colorEncoding(profile.solvers),
      tooltip: [
        { field: "solver", type: "nominal" },
        { field: "tau", type: "quantitative", title: "τ", format: ".4~g" },
        { field: "rho", type: "quantitative", title: "ρ(τ)", format: ".3~f" }
      ]
    }
  }
}

/**
 * The performance profile of `cells` as a chart (cost and target from
 * `options`, see `PerformanceProfile`).
 *
 * @throws `Aggregate.MetricNotFound` when no cell traces the target metric on the cost axis.
 * @category charts
 * @since 0.1.0
 */
export const performanceProfileChart = (
  cells: ReadonlyArray<CellRecord>,
  options: PerformanceProfileChartOptions = {}
): ChartSpec => {
  const o = { ...defaultPerformanceProfileChartOptions, ...options }
  const profile = performanceProfile(costTable(cells, o))
  const target = `${o.metric} ≤ ${formatThreshold(o.threshold)}${o.relative ? ` × its initial value` : ""}`
  const reps = o.repetitions === "median" ? "median over repetitions" : "each repetition a problem"
  return profileSpec(profile, o, [`cost: ${o.cost.title} to reach ${target} (${reps})`])
}
