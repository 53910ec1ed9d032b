/**
 * The final-metrics table of a run: one row per (problem instance, solver)
 * pair with its status counts and, over its repetitions, the median (and
 * range) of the iterations, the wall time and each final metric
 * (`CellRecord.metrics`). It is a model — plain data — that the HTML report
 * renders as a table and the CLI's summary prints as text.
 *
 * Medians follow NumPy (`np.median`, see `Aggregate.quantile`) over the
 * repetitions whose value is not NaN; ±∞ (a diverged solver's objective)
 * takes part as the largest/smallest value.
 *
 * @since 0.1.0
 */
import { finalMetricNames, quantileSorted } from "./Aggregate.ts"
import { groupCells } from "./internal/cellGroups.ts"
import { STATUS_ORDER } from "./internal/reportFormat.ts"
import type { CellRecord, CellStatus } from "./Records.ts"

/**
 * Median and range of one quantity over repetitions.
 *
 * @category models
 * @since 0.1.0
 */
export interface Stats {
  /** NaN when `count` is 0. */
  readonly median: number
  readonly min: number
  readonly max: number
  /** Repetitions with a value (not NaN, present). */
  readonly count: number
}

/**
 * Median, min and max of the values that are not NaN.
 *
 * @category aggregation
 * @since 0.1.0
 */
export const stats = (values: ReadonlyArray<number | undefined>): Stats => {
  const present = Float64Array.from(
    values.filter((v): v is number => v !== undefined && !Number.isNaN(v))
  ).sort()
  const n = present.length
  if (n === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, count: 0 }
  return { median: quantileSorted(present, 0.5), min: present[0], max: present[n - 1], count: n }
}

/**
 * One row: a (problem instance, solver) pair.
 *
 * @category models
 * @since 0.1.0
 */
export interface MetricsRow {
  /** The problem instance's label. */
  readonly problem: string
  /** The solver's label. */
  readonly solver: string
  /** Cells (repetitions) of the pair. */
  readonly cells: number
  /** How many cells ended with each status, in `CellStatus` order; statuses with no cell are left out. */
  readonly statuses: ReadonlyArray<{ readonly status: CellStatus; readonly count: number }>
  readonly iterations: Stats
  /** `CellRecord.wallTimeMs`. */
  readonly wallTimeMs: Stats
  /** Per metric of `MetricsTable.metrics`. */
  readonly metrics: Readonly<Record<string, Stats>>
}

/**
 * The table: the metric columns and the rows, ordered by problem, then solver.
 *
 * @category models
 * @since 0.1.0
 */
export interface MetricsTable {
  readonly metrics: ReadonlyArray<string>
  readonly rows: ReadonlyArray<MetricsRow>
}

/**
 * Options of `metricsTable`.
 *
 * @category models
 * @since 0.1.0
 */
export interface MetricsTableOptions {
  /**
   * The final metrics to tabulate, in this order; names no cell has are
   * left out. Default `undefined`: every final metric of the cells —
   * `objective`, `suboptimality`, `gradientNorm` first, the others
   * alphabetically.
   */
  readonly metrics?: ReadonlyArray<string> | undefined
}

/**
 * Defaults of `MetricsTableOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultMetricsTableOptions: MetricsTableOptions = { metrics: undefined }

/** The metrics listed first, in this order, when all are shown. */
const LEADING_METRICS = ["objective", "suboptimality", "gradientNorm"]

/**
 * The final-metrics table of `cells`. The result does not depend on the
 * order of `cells`.
 *
 * @category aggregation
 * @since 0.1.0
 */
export const metricsTable = (
  cells: ReadonlyArray<CellRecord>,
  options: MetricsTableOptions = {}
): MetricsTable => {
  const available = finalMetricNames(cells)
  const requested = options.metrics ?? [
    ...LEADING_METRICS,
    ...available.filter((name) => !LEADING_METRICS.includes(name))
  ]
  const metrics = [...new Set(requested)].filter((name) => available.includes(name))
  const rows = groupCells(cells).groups.map((g): MetricsRow => {
    const counts = new Map<CellStatus, number>()
    for (const c of g.cells) counts.set(c.status, (counts.get(c.status) ?? 0) + 1)
    return {
      problem: g.problem,
      solver: g.solver,
      cells: g.cells.length,
      statuses: STATUS_ORDER.filter((s) => counts.has(s)).map((status) => ({
        status,
        count: counts.get(status)!
      })),
      iterations: stats(g.cells.map((c) => c.iterations)),
      wallTimeMs: stats(g.cells.map((c) => c.wallTimeMs)),
      metrics: Object.fromEntries(metrics.map((m) => [m, stats(g.cells.map((c) => c.metrics[m]))]))
    }
  })
  return { metrics, rows }
}
