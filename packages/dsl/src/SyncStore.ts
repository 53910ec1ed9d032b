/**
 * The result store without Effect: the same six operations as the `Store`
 * service, as plain synchronous functions that throw `StoreError`, plus
 * `close`. Both stores are synchronous underneath (`node:sqlite`'s
 * `DatabaseSync`, a `Map`), so this is their natural shape; scripts and tools
 * that do not use Effect call it directly, and `toService` / `layer` lift it
 * into the `Store` service the runner, CLI and reports use.
 *
 * @since 0.1.0
 */
import { Effect, Layer } from "effect"
import { toStoreError } from "./internal/storeRecords.ts"
import type { CellRecord, RunRecord } from "./Records.ts"
import { Store, type StoreError, type StoreShape } from "./Store.ts"

/**
 * A store's operations as synchronous functions; each throws `StoreError`
 * (same kinds and guarantees as `Store`). `close` releases the backing
 * resource; any operation after it throws a `StoreError` of kind `"io"`.
 *
 * @category models
 * @since 0.1.0
 */
export interface SyncStore {
  /** Stores the run if it is new; returns the stored record (the existing one when resuming). */
  readonly openRun: (run: RunRecord) => RunRecord
  /** Atomically stores one finished cell; its run must be stored. */
  readonly putCell: (cell: CellRecord) => void
  /** The ids of the cells of `runId` already stored. */
  readonly finishedCellIds: (runId: string) => ReadonlySet<string>
  /** All runs, newest first. */
  readonly listRuns: () => ReadonlyArray<RunRecord>
  /** One run; throws kind `"missing"` when there is none. */
  readonly getRun: (runId: string) => RunRecord
  /** The stored cells of a run, ordered by cellId. */
  readonly cells: (runId: string) => ReadonlyArray<CellRecord>
  /** Releases the store (idempotent). */
  readonly close: () => void
}

const attempt = <A>(f: () => A): Effect.Effect<A, StoreError> => Effect.try({ try: f, catch: toStoreError })

/**
 * The `Store` service over a synchronous store. Each operation runs when its
 * effect runs (not when it is built); anything thrown becomes a `StoreError`
 * on the error channel (kind `"io"` unless it already is one).
 *
 * @category constructors
 * @since 0.1.0
 */
export const toService = (store: SyncStore): StoreShape =>
  Store.of({
    openRun: (run) => attempt(() => store.openRun(run)),
    putCell: (cell) => attempt(() => store.putCell(cell)),
    finishedCellIds: (runId) => attempt(() => store.finishedCellIds(runId)),
    listRuns: attempt(() => store.listRuns()),
    getRun: (runId) => attempt(() => store.getRun(runId)),
    cells: (runId) => attempt(() => store.cells(runId))
  })

/**
 * A `Store` layer that opens a synchronous store when the layer is built and
 * closes it when the layer's scope closes (`Effect.acquireRelease`), also on
 * failure or interruption. `open` may throw; the error fails the layer.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (open: () => SyncStore): Layer.Layer<Store, StoreError> =>
  Layer.effect(
    Store,
    Effect.map(
      Effect.acquireRelease(attempt(open), (store) => Effect.sync(() => store.close())),
      toService
    )
  )
