/**
 * What a run leaves behind: one `RunRecord` per experiment run (the encoded
 * experiment, its hash, provenance) and one `CellRecord` per cell — one
 * (problem instance, solver, repetition) combination — with its status, final
 * metrics and sampled trace. These records are the contract between the
 * runner (which produces them), the stores (SQLite, in-memory), the CLI and
 * the reports (which read them), so each is also an Effect Schema: stores
 * decode what they read back and reject a malformed row with a Schema error.
 *
 * Numbers in metrics and traces may be NaN or ±∞ (a diverged solver's last
 * objective): stores must round-trip them exactly (JSON has no NaN; encode
 * them, do not drop them).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * How a cell ended: core's solver statuses, plus `timeout` (the cell's time
 * budget ran out) and `failed` (the solver threw; the message is recorded).
 *
 * @category models
 * @since 0.1.0
 */
export const CellStatus = Schema.Literals([
  "converged",
  "maxIterations",
  "diverged",
  "stalled",
  "interrupted",
  "timeout",
  "failed"
])

/**
 * @category models
 * @since 0.1.0
 */
export type CellStatus = typeof CellStatus.Type

/**
 * Metrics sampled during a run: `iteration[k]` is the iteration of the k-th
 * sample and `values[name][k]` the metric's value there (NaN when a metric
 * was not available at that sample). Samples are taken at log-spaced
 * iterations, plus the first and the last.
 *
 * @category models
 * @since 0.1.0
 */
export const Trace = Schema.Struct({
  iteration: Schema.Array(Schema.Number),
  values: Schema.Record(Schema.String, Schema.Array(Schema.Number))
})

/**
 * @category models
 * @since 0.1.0
 */
export type Trace = typeof Trace.Type

/**
 * Where and with what a result was computed (benchopt issue #689: attach the
 * environment to every result).
 *
 * @category models
 * @since 0.1.0
 */
export const Provenance = Schema.Struct({
  /** Versions of the descent packages used, e.g. `{ "@descent/core": "0.1.0" }`. */
  packages: Schema.Record(Schema.String, Schema.String),
  /** `process.version`, or the browser's user agent. */
  runtime: Schema.String,
  /** `process.platform`-`process.arch`, or "browser". */
  platform: Schema.String,
  /** core's kernel backend ("wasm-simd" | "typescript"). */
  backend: Schema.String,
  /** The git commit of the working tree, when known. */
  gitCommit: Schema.NullOr(Schema.String)
})

/**
 * @category models
 * @since 0.1.0
 */
export type Provenance = typeof Provenance.Type

/**
 * One cell's result.
 *
 * @category models
 * @since 0.1.0
 */
export const CellRecord = Schema.Struct({
  /** The run this cell belongs to (`RunRecord.runId`). */
  runId: Schema.String,
  /** A hash of the cell's identity (problem + parameters, solver + options, repetition); stable across processes. */
  cellId: Schema.String,
  /** The problem generator's name and its parameters. */
  problem: Schema.Struct({ name: Schema.String, parameters: Schema.Record(Schema.String, Schema.Unknown) }),
  /** The solver's (or pipeline's) name and its encoded options. */
  solver: Schema.Struct({ name: Schema.String, options: Schema.Unknown }),
  /** 0-based repetition index. */
  repetition: Schema.Number,
  /** The cell's random key as core's `Random.keyData` (two uint32 words), derived from the root seed and the cell identity. */
  key: Schema.Tuple([Schema.Number, Schema.Number]),
  status: CellStatus,
  /** Why it ended, in words (the solver's message, the error for `failed`). */
  message: Schema.String,
  /** Iterations performed (summed over the stages of a pipeline). */
  iterations: Schema.Number,
  /** The evaluators' values at the end (objective, suboptimality, gradient norm, oracle counts, state size, …). */
  metrics: Schema.Record(Schema.String, Schema.Number),
  trace: Trace,
  /** Wall-clock start and end (ISO 8601) and duration in milliseconds; excluded from `verify`. */
  startedAt: Schema.String,
  finishedAt: Schema.String,
  wallTimeMs: Schema.Number
})

/**
 * @category models
 * @since 0.1.0
 */
export type CellRecord = typeof CellRecord.Type

/**
 * One run of an experiment. Running the same experiment again continues the
 * same run (the `runId` is derived from the experiment's hash), skipping the
 * cells already stored.
 *
 * @category models
 * @since 0.1.0
 */
export const RunRecord = Schema.Struct({
  runId: Schema.String,
  /** The experiment's name. */
  name: Schema.String,
  /** Hash of the encoded experiment (canonical JSON). */
  specHash: Schema.String,
  /** The encoded experiment, as JSON text. */
  spec: Schema.String,
  /** Number of cells the experiment expands to. */
  cellCount: Schema.Number,
  provenance: Provenance,
  createdAt: Schema.String
})

/**
 * @category models
 * @since 0.1.0
 */
export type RunRecord = typeof RunRecord.Type
