/**
 * A run's results out of the store, for other tools: CSV with one row per
 * cell (for pandas, R, spreadsheets) or JSON with the full records (for
 * programs, and to re-import exactly). This is `descent export <run>
 * --format csv|json`.
 *
 * CSV columns, in order: `run_id`, `cell_id`, `problem`, one
 * `problem.<parameter>` column per problem parameter, `solver`,
 * `solver_options` (exact JSON), `repetition`, `status`, `iterations`, one
 * `metric.<name>` column per final metric, `wall_time_ms`, `started_at`,
 * `finished_at`, `message`. Parameter and metric columns are the union over
 * the run's cells, in order of first appearance; a cell without one leaves
 * the field empty. Rows are ordered by problem, parameters, solver, options,
 * repetition, then cellId. Numbers are written in JavaScript's shortest
 * round-trip form (so they parse back to the same double), `-0` as `-0`,
 * non-finite values as `NaN` / `Inf` / `-Inf` (read as such by pandas and R;
 * configurable). Fields are quoted per RFC 4180 when needed.
 *
 * JSON is `{ "run": RunRecord, "cells": [CellRecord, …] }` (cells ordered by
 * cellId, as the store returns them) in `ExactJson`'s form: plain JSON where
 * NaN, ±∞ and −0 are the tagged objects `{"$v":"NaN"}`, … so that nothing is
 * lost.
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import * as ExactJson from "./ExactJson.ts"
import { compareIds } from "./internal/storeRecords.ts"
import type { CellRecord, RunRecord } from "./Records.ts"
import { Store, type StoreError } from "./Store.ts"

/**
 * The export formats.
 *
 * @category models
 * @since 0.1.0
 */
export const Format = Schema.Literals(["csv", "json"])

/**
 * @category models
 * @since 0.1.0
 */
export type Format = typeof Format.Type

/**
 * How CSV is written.
 *
 * @category models
 * @since 0.1.0
 */
export interface CsvOptions {
  /** The field separator (one character; `","` or `";"` or `"\t"`). */
  readonly separator: string
  /** The line ending (RFC 4180 says `"\r\n"`; every CSV reader accepts `"\n"`). */
  readonly lineEnding: "\n" | "\r\n"
  /** How NaN is written. */
  readonly nan: string
  /** How +∞ is written. */
  readonly positiveInfinity: string
  /** How −∞ is written. */
  readonly negativeInfinity: string
}

/**
 * The CSV defaults: comma-separated, `\n` line endings, `NaN` / `Inf` /
 * `-Inf` for non-finite numbers (understood by pandas' `read_csv` and R's
 * `read.csv`).
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultCsvOptions: CsvOptions = {
  separator: ",",
  lineEnding: "\n",
  nan: "NaN",
  positiveInfinity: "Inf",
  negativeInfinity: "-Inf"
}

/**
 * How JSON is written.
 *
 * @category models
 * @since 0.1.0
 */
export interface JsonOptions {
  /** Indentation in spaces; 0 writes the whole document on one line. */
  readonly indent: number
}

/**
 * The JSON defaults: indented by 2 spaces.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultJsonOptions: JsonOptions = { indent: 2 }

/**
 * Options of `exportRun`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ExportOptions {
  /** `"csv"` (one row per cell) or `"json"` (the records). */
  readonly format: Format
  /** How CSV is written (format `"csv"`). */
  readonly csv: CsvOptions
  /** How JSON is written (format `"json"`). */
  readonly json: JsonOptions
}

/**
 * The `exportRun` defaults: CSV, with `defaultCsvOptions` and `defaultJsonOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultExportOptions: ExportOptions = {
  format: "csv",
  csv: defaultCsvOptions,
  json: defaultJsonOptions
}

const formatNumber = (x: number, options: CsvOptions): string => {
  if (Number.isNaN(x)) return options.nan
  if (x === Number.POSITIVE_INFINITY) return options.positiveInfinity
  if (x === Number.NEGATIVE_INFINITY) return options.negativeInfinity
  return Object.is(x, -0) ? "-0" : String(x)
}

/** A parameter value as one field: scalars as themselves, anything else as exact JSON. */
const formatValue = (value: unknown, options: CsvOptions): string => {
  switch (typeof value) {
    case "number":
      return formatNumber(value, options)
    case "string":
      return value
    case "boolean":
      return String(value)
    case "undefined":
      return ""
    default:
      return value === null ? "null" : ExactJson.stringify(value)
  }
}

const quote = (field: string, separator: string): string =>
  field.includes(separator) || field.includes('"') || field.includes("\n") || field.includes("\r")
    ? `"${field.replaceAll('"', '""')}"`
    : field

const firstAppearance = (keyLists: Iterable<ReadonlyArray<string>>): ReadonlyArray<string> => {
  const seen = new Set<string>()
  for (const keys of keyLists) for (const key of keys) seen.add(key)
  return Array.from(seen)
}

interface Row {
  readonly cell: CellRecord
  readonly parameters: string
  readonly options: string
}

const compareRows = (a: Row, b: Row): number =>
  compareIds(a.cell.problem.name, b.cell.problem.name) ||
  compareIds(a.parameters, b.parameters) ||
  compareIds(a.cell.solver.name, b.cell.solver.name) ||
  compareIds(a.options, b.options) ||
  (a.cell.repetition < b.cell.repetition ? -1 : a.cell.repetition > b.cell.repetition ? 1 : 0) ||
  compareIds(a.cell.cellId, b.cell.cellId)

/**
 * The cells as CSV text (header line, then one line per cell; see the module
 * docs for the columns and number format). Throws `ExactJsonError` only for
 * a parameter or option value JSON cannot carry (never for records read from
 * a store).
 *
 * @example
 * ```ts
 * import { Export } from "@descent/dsl"
 *
 * Export.toCsv([]).split("\n")[0]
 * // "run_id,cell_id,problem,solver,solver_options,repetition,status,iterations,wall_time_ms,started_at,finished_at,message"
 * ```
 *
 * @category exporters
 * @since 0.1.0
 */
export const toCsv = (cells: ReadonlyArray<CellRecord>, options: Partial<CsvOptions> = {}): string => {
  const o: CsvOptions = { ...defaultCsvOptions, ...options }
  const rows: Array<Row> = cells.map((cell) => ({
    cell,
    parameters: ExactJson.stringify(cell.problem.parameters),
    options: ExactJson.stringify(cell.solver.options)
  }))
  rows.sort(compareRows)
  const parameterNames = firstAppearance(rows.map((row) => Object.keys(row.cell.problem.parameters)))
  const metricNames = firstAppearance(rows.map((row) => Object.keys(row.cell.metrics)))
  const header = [
    "run_id",
    "cell_id",
    "problem",
    ...parameterNames.map((name) => `problem.${name}`),
    "solver",
    "solver_options",
    "repetition",
    "status",
    "iterations",
    ...metricNames.map((name) => `metric.${name}`),
    "wall_time_ms",
    "started_at",
    "finished_at",
    "message"
  ]
  const lines = [header]
  for (const { cell, options: solverOptions } of rows) {
    const parameters = cell.problem.parameters
    lines.push([
      cell.runId,
      cell.cellId,
      cell.problem.name,
      ...parameterNames.map((name) =>
        Object.hasOwn(parameters, name) ? formatValue(parameters[name], o) : ""
      ),
      cell.solver.name,
      solverOptions,
      formatNumber(cell.repetition, o),
      cell.status,
      formatNumber(cell.iterations, o),
      ...metricNames.map((name) =>
        Object.hasOwn(cell.metrics, name) ? formatNumber(cell.metrics[name], o) : ""
      ),
      formatNumber(cell.wallTimeMs, o),
      cell.startedAt,
      cell.finishedAt,
      cell.message
    ])
  }
  return (
    lines
      .map((fields) => fields.map((field) => quote(field, o.separator)).join(o.separator))
      .join(o.lineEnding) + o.lineEnding
  )
}

/**
 * The run and its cells as exact JSON text, `{ "run": …, "cells": […] }`;
 * `ExactJson.parse` of it gives back equal records.
 *
 * @category exporters
 * @since 0.1.0
 */
export const toJson = (
  run: RunRecord,
  cells: ReadonlyArray<CellRecord>,
  options: Partial<JsonOptions> = {}
): string => `${ExactJson.stringify({ run, cells }, { ...defaultJsonOptions, ...options }.indent)}\n`

/**
 * Reads a run and its cells from the `Store` and writes them in the chosen
 * format. Fails with the store's `StoreError` (kind `"missing"` for an
 * unknown run).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Export, SqliteStore } from "@descent/dsl"
 *
 * const csv = Export.exportRun("my-run", { format: "csv" }).pipe(Effect.provide(SqliteStore.layer()))
 * ```
 *
 * @category exporters
 * @since 0.1.0
 */
export const exportRun = (
  runId: string,
  options: Partial<ExportOptions> = {}
): Effect.Effect<string, StoreError, Store> =>
  Effect.gen(function* () {
    const o: ExportOptions = { ...defaultExportOptions, ...options }
    const store = yield* Store
    const run = yield* store.getRun(runId)
    const cells = yield* store.cells(runId)
    return o.format === "json" ? toJson(run, cells, o.json) : toCsv(cells, o.csv)
  })
