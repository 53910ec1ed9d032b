/**
 * The plain-text summary table that `descent run` prints when a run ends:
 * one row per (problem instance, solver) pair with its status counts and the
 * medians over repetitions of the iterations, of the final metrics
 * (objective and suboptimality by default) and of the wall time, in
 * fixed-width columns — text left-aligned, numbers right-aligned — for a
 * terminal or a log file. The numbers are those of `MetricsTable`.
 *
 * @example
 * problem     solver  status       iterations  objective  suboptimality     time
 * ----------  ------  -----------  ----------  ---------  -------------  -------
 * rosenbrock  adam    3 converged         412  1.234e-9       1.234e-9  12.5 ms
 * (medians over repetitions)
 *
 * @since 0.1.0
 */
import { Errors } from "@descent/core"
import { formatDuration, formatNumber, formatStatusCounts } from "./internal/reportFormat.ts"
import { metricsTable } from "./MetricsTable.ts"
import type { CellRecord } from "./Records.ts"

/**
 * Options of `summaryTable`.
 *
 * @category models
 * @since 0.1.0
 */
export interface SummaryOptions {
  /** Final metrics shown (median), in this order; names no cell has are left out. Default objective, suboptimality. */
  readonly metrics?: ReadonlyArray<string>
  /** Longer problem and solver labels are cut to this many characters, ending in `…` (an integer ≥ 4). Default 40. */
  readonly maxLabelWidth?: number
  /** Spaces between columns (an integer ≥ 1). Default 2. */
  readonly gap?: number
}

/**
 * Defaults of `SummaryOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultSummaryOptions = {
  metrics: ["objective", "suboptimality"],
  maxLabelWidth: 40,
  gap: 2
} as const satisfies SummaryOptions

const requireInteger = (field: string, value: number, min: number): void => {
  if (!Number.isInteger(value) || value < min) {
    throw new Errors.InvalidOptions({
      operation: "summaryTable",
      field,
      value,
      requirement: `an integer ≥ ${min}`
    })
  }
}

const cut = (label: string, width: number): string =>
  label.length <= width ? label : `${label.slice(0, width - 1)}…`

/**
 * The summary table of `cells` as text: a header, a rule, one line per
 * (problem instance, solver) pair, and a last line saying the numbers are
 * medians; lines end without trailing spaces and are joined by `\n` (no
 * final newline). `"no cells"` when there are none.
 *
 * @throws `Errors.InvalidOptions` for a bad `maxLabelWidth` or `gap`.
 * @category reports
 * @since 0.1.0
 */
export const summaryTable = (cells: ReadonlyArray<CellRecord>, options: SummaryOptions = {}): string => {
  const o = { ...defaultSummaryOptions, ...options }
  requireInteger("maxLabelWidth", o.maxLabelWidth, 4)
  requireInteger("gap", o.gap, 1)
  if (cells.length === 0) return "no cells"
  const table = metricsTable(cells, { metrics: o.metrics })
  const header = ["problem", "solver", "status", "iterations", ...table.metrics, "time"]
  const right = header.map((_, j) => j >= 3)
  const rows = table.rows.map((r) => [
    cut(r.problem, o.maxLabelWidth),
    cut(r.solver, o.maxLabelWidth),
    formatStatusCounts(r.statuses),
    formatNumber(r.iterations.median),
    ...table.metrics.map((m) => formatNumber(r.metrics[m].median)),
    formatDuration(r.wallTimeMs.median)
  ])
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((row) => row[j].length)))
  const separator = " ".repeat(o.gap)
  const line = (row: ReadonlyArray<string>): string =>
    row
      .map((text, j) => (right[j] ? text.padStart(widths[j]) : text.padEnd(widths[j])))
      .join(separator)
      .trimEnd()
  return [
    line(header),
    widths.map((w) => "-".repeat(w)).join(separator),
    ...rows.map(line),
    "(medians over repetitions)"
  ].join("\n")
}
