/**
 * The result store as an Effect service: where runs and their cells are
 * written and read back. Two implementations exist (`SqliteStore`, the
 * embedded default — a file under `.descent/` —, and `MemoryStore`, for tests
 * and the browser); the runner, the CLI and the reports only see this
 * interface.
 *
 * Guarantees every implementation gives:
 * - `putCell` is atomic: a cell is either fully stored or absent, never
 *   partial, also when the process is killed (SIGKILL) during the write.
 * - Writing a cell that is already stored (same `runId`, `cellId`) replaces
 *   nothing and fails with `StoreError` of kind `"duplicate"` — resuming a
 *   run skips finished cells instead of writing them twice.
 * - Records read back equal the records written (NaN and ±∞ included).
 * - A cell can only be written to a run opened with `openRun`; `putCell`,
 *   `cells` and `finishedCellIds` on an unknown run fail with kind
 *   `"missing"`.
 *
 * @since 0.1.0
 */
import { Context, Data, type Effect } from "effect"
import type { CellRecord, RunRecord } from "./Records.ts"

/**
 * A store operation failed: `kind` says why (`"duplicate"` cell, a `"corrupt"`
 * row that does not decode, an `"io"` error of the backing database, or a
 * `"missing"` run).
 *
 * @category errors
 * @since 0.1.0
 */
export class StoreError extends Data.TaggedError("StoreError")<{
  readonly kind: "duplicate" | "corrupt" | "io" | "missing"
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * The operations of a result store.
 *
 * @category models
 * @since 0.1.0
 */
export interface StoreShape {
  /** Stores the run if it is new; returns the stored record (the existing one when resuming). */
  readonly openRun: (run: RunRecord) => Effect.Effect<RunRecord, StoreError>
  /** Atomically stores one finished cell. */
  readonly putCell: (cell: CellRecord) => Effect.Effect<void, StoreError>
  /** The ids of the cells of `runId` already stored (what a resumed run skips). */
  readonly finishedCellIds: (runId: string) => Effect.Effect<ReadonlySet<string>, StoreError>
  /** All runs, newest first. */
  readonly listRuns: Effect.Effect<ReadonlyArray<RunRecord>, StoreError>
  /** One run; fails with kind `"missing"` when there is none. */
  readonly getRun: (runId: string) => Effect.Effect<RunRecord, StoreError>
  /** The stored cells of a run, in a stable order (by cellId). */
  readonly cells: (runId: string) => Effect.Effect<ReadonlyArray<CellRecord>, StoreError>
}

/**
 * The store service key.
 *
 * @category services
 * @since 0.1.0
 */
export class Store extends Context.Service<Store, StoreShape>()("@descent/dsl/Store") {}
