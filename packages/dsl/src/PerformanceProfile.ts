/**
 * Dolan–Moré performance profiles (E. D. Dolan and J. J. Moré,
 * "Benchmarking optimization software with performance profiles",
 * Math. Program. 91, 2002): one curve per solver that summarises a whole
 * benchmark — how often a solver is the fastest, and how often it solves a
 * problem at all.
 *
 * For problems p ∈ P and solvers s ∈ S, with t_{p,s} the cost of s on p
 * (here: iterations, wall time or oracle calls until the target is reached;
 * +∞ when it is never reached), the performance ratio is
 *
 *   r_{p,s} = t_{p,s} / min_{s'} t_{p,s'}
 *
 * and the profile of s is the fraction of problems solved within a factor
 * τ ≥ 1 of the best solver:
 *
 *   ρ_s(τ) = |{p ∈ P : r_{p,s} ≤ τ}| / |P|.
 *
 * ρ_s(1) is the fraction of problems on which s is (one of) the fastest;
 * ρ_s(τ) for τ → ∞ is the fraction it solves. Conventions for degenerate
 * rows: when no solver reaches the target on p, every r_{p,s} = +∞; when the
 * best cost is 0 (the start already meets the target), a cost of 0 has
 * r = 1 and a positive cost is divided by the row's smallest positive cost
 * (t / 0 is undefined; this keeps the order among the others, and every
 * solver that reaches the target still has a finite ratio).
 *
 * The target (`TargetOptions`): `metric ≤ threshold`, or with `relative`,
 * `metric ≤ threshold · metric₀` with metric₀ the first traced value (the
 * Moré–Wild test f(x) − f* ≤ τ (f(x₀) − f*) when the metric is the
 * suboptimality). The cost is read from the cell's trace: the x of the first
 * sample that meets the target, or — with `crossing: "interpolate"`, the
 * default — the crossing estimated between that sample and the previous one
 * by linear interpolation in (log(1 + x), log metric), which removes most of
 * the error of log-spaced sampling. A cell counts by its trace alone,
 * whatever its final status; a cell that does not trace the metric never
 * reaches the target.
 *
 * @since 0.1.0
 */
import { Errors } from "@descent/core"
import { Data } from "effect"
import {
  hasTrace,
  iterationAxis,
  MetricNotFound,
  median,
  traceMetricNames,
  traceSeries,
  type XAxis
} from "./Aggregate.ts"
import { compareLabels, groupCells } from "./internal/cellGroups.ts"
import type { CellRecord } from "./Records.ts"

/**
 * A cost that is neither a number ≥ 0 nor +∞ (NaN, negative, −∞).
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidCost extends Data.TaggedError("InvalidCost")<{
  /** Row index (problem). */
  readonly problem: number
  /** Column index (solver). */
  readonly solver: number
  readonly value: number
  readonly message: string
}> {
  constructor(args: { readonly problem: number; readonly solver: number; readonly value: number }) {
    super({
      ...args,
      message: `performanceRatios: cost ${args.value} of problem ${args.problem}, solver ${args.solver} is invalid; it must be a number ≥ 0 or Infinity (not reached)`
    })
  }
}

/**
 * When a cell has solved its problem, and what that cost.
 *
 * @category models
 * @since 0.1.0
 */
export interface TargetOptions {
  /** The trace metric tested against the threshold. Default `"suboptimality"`. */
  readonly metric?: string
  /** Reached when metric ≤ threshold (× metric₀ when `relative`). Default 1e-6. */
  readonly threshold?: number
  /** Scale the threshold by the first traced value of the metric. Default false. */
  readonly relative?: boolean
  /** What the cost counts. Default `iterationAxis`. */
  readonly cost?: XAxis
  /** `"interpolate"` (default) the crossing between samples, or take the first `"sample"` meeting the target. */
  readonly crossing?: "interpolate" | "sample"
}

/**
 * Options of `costTable` / `performanceProfileOf`.
 *
 * @category models
 * @since 0.1.0
 */
export interface PerformanceProfileOptions extends TargetOptions {
  /**
   * How repetitions enter: `"median"` (default) — one problem per instance,
   * the cost being the median over repetitions (+∞ counts as the largest
   * value) —, or `"separate"`: each (instance, repetition) is a problem,
   * solvers compared at the same repetition index.
   */
  readonly repetitions?: "median" | "separate"
}

/**
 * Defaults of `PerformanceProfileOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultPerformanceProfileOptions = {
  metric: "suboptimality",
  threshold: 1e-6,
  relative: false,
  cost: iterationAxis,
  crossing: "interpolate",
  repetitions: "median"
} as const

const resolve = (options: PerformanceProfileOptions) => {
  const o = { ...defaultPerformanceProfileOptions, ...options }
  if (!Number.isFinite(o.threshold)) {
    throw new Errors.InvalidOptions({
      operation: "performanceProfile",
      field: "threshold",
      value: o.threshold,
      requirement: "a finite number"
    })
  }
  return o
}

/**
 * The cost of one cell to reach the target (see the module comment): +∞
 * when its trace never meets it.
 *
 * @throws `Errors.InvalidOptions` when the threshold is not finite.
 * @category profiles
 * @since 0.1.0
 */
export const costToTarget = (cell: CellRecord, options: TargetOptions = {}): number => {
  const o = resolve(options)
  const { x, y } = traceSeries(cell, o.metric, o.cost, "log")
  if (x.length === 0) return Infinity
  const target = o.relative ? o.threshold * y[0] : o.threshold
  const k = y.findIndex((v) => v <= target)
  if (k < 0) return Infinity
  if (k === 0 || o.crossing === "sample") return x[k]
  const [y0, y1] = [y[k - 1], y[k]]
  const logs = y0 > 0 && y1 > 0 && target > 0
  const v = (z: number): number => (logs ? Math.log(z) : z)
  const t = (v(target) - v(y0)) / (v(y1) - v(y0))
  const u0 = Math.log1p(x[k - 1])
  const u1 = Math.log1p(x[k])
  const crossing = Math.expm1(u0 + Math.min(1, Math.max(0, t)) * (u1 - u0))
  return Math.min(x[k], Math.max(x[k - 1], crossing))
}

/**
 * Costs of every solver on every problem: `costs[p][s]`.
 *
 * @category models
 * @since 0.1.0
 */
export interface CostTable {
  /** Row labels. */
  readonly problems: ReadonlyArray<string>
  /** Column labels. */
  readonly solvers: ReadonlyArray<string>
  /** problems × solvers; +∞ where the target was not reached (or the cell is missing). */
  readonly costs: ReadonlyArray<ReadonlyArray<number>>
}

/**
 * The cost table of a run's cells: rows are problem instances (or
 * instance × repetition with `repetitions: "separate"`), columns solvers.
 * A (problem, solver) pair without cells costs +∞.
 *
 * @throws `MetricNotFound` when no cell traces the target metric on the cost axis.
 * @category profiles
 * @since 0.1.0
 */
export const costTable = (
  cells: ReadonlyArray<CellRecord>,
  options: PerformanceProfileOptions = {}
): CostTable => {
  const o = resolve(options)
  if (!hasTrace(cells, o.metric, o.cost)) {
    const missingMetric = !cells.some((c) => c.trace.values[o.metric] !== undefined)
    throw new MetricNotFound({
      operation: "costTable",
      metric: missingMetric ? o.metric : o.cost.metrics.join("+"),
      available: traceMetricNames(cells)
    })
  }
  const { problems, solvers, groups } = groupCells(cells)
  const column = new Map(solvers.map((s, j) => [s, j]))
  const rows = new Map<string, Array<number>>()
  const row = (label: string): Array<number> => {
    let r = rows.get(label)
    if (r === undefined) {
      r = solvers.map(() => Infinity)
      rows.set(label, r)
    }
    return r
  }
  if (o.repetitions === "median") for (const p of problems) row(p)
  for (const g of groups) {
    const j = column.get(g.solver)!
    if (o.repetitions === "median") {
      row(g.problem)[j] = median(g.cells.map((c) => costToTarget(c, o)))
    } else {
      for (const c of g.cells) row(`${g.problem} #${c.repetition}`)[j] = costToTarget(c, o)
    }
  }
  const labels = [...rows.keys()].sort(compareLabels)
  return { problems: labels, solvers, costs: labels.map((l) => rows.get(l)!) }
}

/**
 * The performance ratios r_{p,s} = t_{p,s} / min_{s'} t_{p,s'} of a cost
 * matrix (problems × solvers), with the conventions of the module comment.
 *
 * @throws `InvalidCost` for a NaN, negative or −∞ cost; `Errors.DimensionMismatch` for ragged rows.
 * @category profiles
 * @since 0.1.0
 */
export const performanceRatios = (
  costs: ReadonlyArray<ReadonlyArray<number>>
): ReadonlyArray<Float64Array> => {
  const width = costs.length === 0 ? 0 : costs[0].length
  return costs.map((row, p) => {
    if (row.length !== width) {
      throw new Errors.DimensionMismatch({
        operation: "performanceRatios",
        what: `row ${p}`,
        expected: [width],
        actual: [row.length]
      })
    }
    let best = Infinity
    let bestPositive = Infinity
    row.forEach((t, s) => {
      if (!(t >= 0)) throw new InvalidCost({ problem: p, solver: s, value: t })
      if (t < best) best = t
      if (t > 0 && t < bestPositive) bestPositive = t
    })
    return Float64Array.from(row, (t) =>
      t === Infinity ? Infinity : best > 0 ? t / best : t === 0 ? 1 : t / bestPositive
    )
  })
}

/**
 * ρ(τ): the fraction of `ratios` (one solver's ratios over all problems)
 * that are finite and ≤ τ — so ρ(∞) is the fraction of problems solved.
 *
 * @throws `Errors.EmptyInput` when there are no ratios.
 * @category profiles
 * @since 0.1.0
 */
export const rho = (ratios: ArrayLike<number>, tau: number): number => {
  if (ratios.length === 0) throw new Errors.EmptyInput({ operation: "rho", what: "ratios" })
  let n = 0
  for (let i = 0; i < ratios.length; i++) if (ratios[i] <= tau && ratios[i] < Infinity) n++
  return n / ratios.length
}

/**
 * One solver's profile as the corners of its step function.
 *
 * @category models
 * @since 0.1.0
 */
export interface ProfileCurve {
  readonly solver: string
  /** Fraction of problems the solver solves: ρ(τ) for τ → ∞. */
  readonly solved: number
  /**
   * (τ, ρ(τ)) at τ = 1, at every distinct finite ratio > 1 of the solver,
   * and at `tauMax`, increasing in τ; ρ is constant from one point to the
   * next (a `step-after` line).
   */
  readonly points: ReadonlyArray<{ readonly tau: number; readonly rho: number }>
}

/**
 * A performance profile: the ratios and one curve per solver.
 *
 * @category models
 * @since 0.1.0
 */
export interface PerformanceProfile {
  readonly problems: ReadonlyArray<string>
  readonly solvers: ReadonlyArray<string>
  /** ratios[p][s]. */
  readonly ratios: ReadonlyArray<Float64Array>
  /** Right end of the curves: twice the largest finite ratio, at least 2. */
  readonly tauMax: number
  readonly curves: ReadonlyArray<ProfileCurve>
}

/**
 * The performance profile of a cost table.
 *
 * @throws `Errors.EmptyInput` when the table has no problems or no solvers; `InvalidCost`, `Errors.DimensionMismatch` as `performanceRatios`.
 * @category profiles
 * @since 0.1.0
 */
export const performanceProfile = (table: CostTable): PerformanceProfile => {
  if (table.problems.length === 0 || table.costs.length === 0) {
    throw new Errors.EmptyInput({ operation: "performanceProfile", what: "problems" })
  }
  if (table.solvers.length === 0)
    throw new Errors.EmptyInput({ operation: "performanceProfile", what: "solvers" })
  if (table.costs.length !== table.problems.length) {
    throw new Errors.DimensionMismatch({
      operation: "performanceProfile",
      what: "costs",
      expected: [table.problems.length, table.solvers.length],
      actual: [table.costs.length, table.costs[0].length]
    })
  }
  const ratios = performanceRatios(table.costs)
  if (ratios[0].length !== table.solvers.length) {
    throw new Errors.DimensionMismatch({
      operation: "performanceProfile",
      what: "costs",
      expected: [table.problems.length, table.solvers.length],
      actual: [table.costs.length, ratios[0].length]
    })
  }
  let largest = 1
  for (const row of ratios) for (const r of row) if (Number.isFinite(r) && r > largest) largest = r
  const tauMax = 2 * largest
  const curves = table.solvers.map((solver, s) => {
    const column = ratios.map((row) => row[s])
    const steps = [...new Set(column.filter((r) => Number.isFinite(r) && r > 1))].sort((a, b) => a - b)
    const taus = [1, ...steps, tauMax]
    return {
      solver,
      solved: rho(column, Infinity),
      points: taus.map((tau) => ({ tau, rho: rho(column, tau) }))
    }
  })
  return { problems: table.problems, solvers: table.solvers, ratios, tauMax, curves }
}

/**
 * The performance profile of a run's cells: `performanceProfile(costTable(cells, options))`.
 *
 * @throws `MetricNotFound` when no cell traces the target metric on the cost axis.
 * @category profiles
 * @since 0.1.0
 */
export const performanceProfileOf = (
  cells: ReadonlyArray<CellRecord>,
  options: PerformanceProfileOptions = {}
): PerformanceProfile => performanceProfile(costTable(cells, options))
