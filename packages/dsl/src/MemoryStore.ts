/**
 * The result store in memory, for tests and the browser: the semantics of
 * `SqliteStore` without a file. Records are kept as the same exact-JSON text
 * the SQLite store writes and decoded through the same Schemas on every read,
 * so the two stores agree on everything observable — validation of writes,
 * duplicate refusal, NaN/±∞/−0 round trips, read orders, error kinds and
 * messages — and a record read back never aliases the object that was
 * written. Nothing survives the process (or `close`).
 *
 * @since 0.1.0
 */
import { Effect, Layer } from "effect"
import {
  cellWithoutRun,
  closedStore,
  compareIds,
  compareRunsNewestFirst,
  decodeCell,
  decodeRun,
  duplicateCell,
  encodeCell,
  encodeRun,
  missingRun
} from "./internal/storeRecords.ts"
import { Store } from "./Store.ts"
import * as SyncStore from "./SyncStore.ts"

interface StoredRun {
  readonly seq: number
  readonly createdAt: string
  readonly text: string
  /** cellId → exact-JSON text of the cell. */
  readonly cells: Map<string, string>
}

/**
 * A new, empty in-memory store with the plain synchronous API (operations
 * throw `StoreError`). Each call makes an independent store.
 *
 * @example
 * ```ts
 * import { MemoryStore } from "@descent/dsl"
 *
 * const store = MemoryStore.make()
 * store.listRuns() // []
 * store.close()
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (): SyncStore.SyncStore => {
  const runs = new Map<string, StoredRun>()
  let nextSeq = 1
  let open = true

  const live = (): void => {
    if (!open) throw closedStore("the in-memory store")
  }
  const lookup = (runId: string): StoredRun => {
    const run = runs.get(runId)
    if (run === undefined) throw missingRun(runId)
    return run
  }

  return {
    openRun: (input) => {
      live()
      const { run, text } = encodeRun(input)
      const existing = runs.get(run.runId)
      if (existing !== undefined) return decodeRun(existing.text, run.runId)
      runs.set(run.runId, { seq: nextSeq++, createdAt: run.createdAt, text, cells: new Map() })
      return decodeRun(text, run.runId)
    },
    putCell: (input) => {
      live()
      const { cell, text } = encodeCell(input)
      const run = runs.get(cell.runId)
      if (run === undefined) throw cellWithoutRun(cell.runId, cell.cellId)
      if (run.cells.has(cell.cellId)) throw duplicateCell(cell.runId, cell.cellId)
      run.cells.set(cell.cellId, text)
    },
    finishedCellIds: (runId) => {
      live()
      return new Set(lookup(runId).cells.keys())
    },
    listRuns: () => {
      live()
      return Array.from(runs.entries())
        .sort(([, a], [, b]) => compareRunsNewestFirst(a, b))
        .map(([runId, run]) => decodeRun(run.text, runId))
    },
    getRun: (runId) => {
      live()
      return decodeRun(lookup(runId).text, runId)
    },
    cells: (runId) => {
      live()
      return Array.from(lookup(runId).cells.entries())
        .sort(([a], [b]) => compareIds(a, b))
        .map(([cellId, text]) => decodeCell(text, runId, cellId))
    },
    close: () => {
      open = false
      runs.clear()
    }
  }
}

/**
 * The `Store` service backed by a fresh in-memory store, created when the
 * layer is built and discarded when its scope closes.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MemoryStore, Store } from "@descent/dsl"
 *
 * const runs = Effect.runSync(
 *   Effect.provide(
 *     Store.Store.use((store) => store.listRuns),
 *     MemoryStore.layer
 *   )
 * ) // []
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer: Layer.Layer<Store> = Layer.effect(
  Store,
  Effect.map(
    Effect.acquireRelease(Effect.sync(make), (store) => Effect.sync(() => store.close())),
    SyncStore.toService
  )
)
