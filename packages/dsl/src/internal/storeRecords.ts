/**
 * What both result stores share below the `Store` interface: validating a
 * record before it is written, its exact-JSON text, decoding a stored text
 * back through the Schemas of `Records.ts` (a row that does not decode is a
 * `"corrupt"` StoreError naming the run and cell), the read orders, and the
 * errors with their messages. Keeping these in one place is what makes the
 * SQLite and the in-memory store behave identically.
 */
import { Result, Schema } from "effect"
import * as ExactJson from "../ExactJson.ts"
import { CellRecord, RunRecord } from "../Records.ts"
import { StoreError } from "../Store.ts"

const describe = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

const decodeCellUnknown = Schema.decodeUnknownResult(CellRecord)
const decodeRunUnknown = Schema.decodeUnknownResult(RunRecord)

const cellName = (runId: string, cellId: string): string =>
  `cell ${JSON.stringify(cellId)} of run ${JSON.stringify(runId)}`

/** The error of a write whose (runId, cellId) is already stored. */
export const duplicateCell = (runId: string, cellId: string): StoreError =>
  new StoreError({
    kind: "duplicate",
    message: `${cellName(runId, cellId)} is already stored; nothing was replaced`
  })

/** The error of an operation on a run that is not stored. */
export const missingRun = (runId: string): StoreError =>
  new StoreError({ kind: "missing", message: `no run ${JSON.stringify(runId)} in the store` })

/** The error of writing a cell before its run. */
export const cellWithoutRun = (runId: string, cellId: string): StoreError =>
  new StoreError({
    kind: "missing",
    message: `${cellName(runId, cellId)} cannot be stored: the run is not stored (openRun first)`
  })

/** The error of any operation on a closed store. */
export const closedStore = (what: string): StoreError =>
  new StoreError({ kind: "io", message: `${what} is closed` })

/** Turns anything thrown below a store operation into a StoreError (kind "io" unless it is one already). */
export const toStoreError = (cause: unknown): StoreError =>
  cause instanceof StoreError ? cause : new StoreError({ kind: "io", message: describe(cause), cause })

/**
 * Validates a cell about to be written and returns it with its exact-JSON
 * text. A value that is not a CellRecord (possible from untyped callers) or
 * that JSON cannot carry exactly is refused up front (kind "corrupt"): it
 * would otherwise be stored and fail to read back.
 */
export const encodeCell = (cell: CellRecord): { readonly cell: CellRecord; readonly text: string } => {
  const runId = typeof cell?.runId === "string" ? cell.runId : "?"
  const cellId = typeof cell?.cellId === "string" ? cell.cellId : "?"
  const result = decodeCellUnknown(cell)
  if (Result.isFailure(result)) {
    throw new StoreError({
      kind: "corrupt",
      message: `${cellName(runId, cellId)} is not a valid CellRecord, nothing was written: ${describe(result.failure)}`,
      cause: result.failure
    })
  }
  try {
    return { cell: result.success, text: ExactJson.stringify(result.success) }
  } catch (cause) {
    throw new StoreError({
      kind: "corrupt",
      message: `${cellName(runId, cellId)} cannot be stored exactly, nothing was written: ${describe(cause)}`,
      cause
    })
  }
}

/** As `encodeCell`, for a run. */
export const encodeRun = (run: RunRecord): { readonly run: RunRecord; readonly text: string } => {
  const runId = typeof run?.runId === "string" ? run.runId : "?"
  const result = decodeRunUnknown(run)
  if (Result.isFailure(result)) {
    throw new StoreError({
      kind: "corrupt",
      message: `run ${JSON.stringify(runId)} is not a valid RunRecord, nothing was written: ${describe(result.failure)}`,
      cause: result.failure
    })
  }
  try {
    return { run: result.success, text: ExactJson.stringify(result.success) }
  } catch (cause) {
    throw new StoreError({
      kind: "corrupt",
      message: `run ${JSON.stringify(runId)} cannot be stored exactly, nothing was written: ${describe(cause)}`,
      cause
    })
  }
}

const corrupt = (what: string, cause: unknown): StoreError =>
  new StoreError({ kind: "corrupt", message: `${what} is corrupt: ${describe(cause)}`, cause })

/**
 * Decodes a stored cell text through the `CellRecord` Schema; checks it is
 * the cell the row's keys say it is.
 */
export const decodeCell = (text: unknown, runId: string, cellId: string): CellRecord => {
  const what = `stored ${cellName(runId, cellId)}`
  if (typeof text !== "string") throw corrupt(what, `expected JSON text, found ${typeof text}`)
  let json: unknown
  try {
    json = ExactJson.parse(text)
  } catch (cause) {
    throw corrupt(what, cause)
  }
  const result = decodeCellUnknown(json)
  if (Result.isFailure(result)) throw corrupt(what, result.failure)
  if (result.success.runId !== runId || result.success.cellId !== cellId) {
    throw corrupt(what, `its record says ${cellName(result.success.runId, result.success.cellId)}`)
  }
  return result.success
}

/** As `decodeCell`, for a run. */
export const decodeRun = (text: unknown, runId: string): RunRecord => {
  const what = `stored run ${JSON.stringify(runId)}`
  if (typeof text !== "string") throw corrupt(what, `expected JSON text, found ${typeof text}`)
  let json: unknown
  try {
    json = ExactJson.parse(text)
  } catch (cause) {
    throw corrupt(what, cause)
  }
  const result = decodeRunUnknown(json)
  if (Result.isFailure(result)) throw corrupt(what, result.failure)
  if (result.success.runId !== runId)
    throw corrupt(what, `its record says run ${JSON.stringify(result.success.runId)}`)
  return result.success
}

/** UTF-16 code-unit order, the order of `cells` (by cellId) in every store. */
export const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * The order of `listRuns`: newest first by `createdAt` (ISO 8601 strings
 * compare chronologically), ties broken by the order the runs were first
 * stored (`seq`, later first).
 */
export const compareRunsNewestFirst = (
  a: { readonly createdAt: string; readonly seq: number },
  b: { readonly createdAt: string; readonly seq: number }
): number => compareIds(b.createdAt, a.createdAt) || b.seq - a.seq
