/**
 * The embedded result store: one SQLite file (by default
 * `.descent/descent.sqlite` under the working directory) written through
 * `node:sqlite`'s `DatabaseSync` — part of Node ≥ 22.13, no native addon.
 *
 * **Durability.** The file is in WAL journal mode and every write is one
 * transaction, so a process killed at any instant (SIGKILL included) leaves
 * the file consistent: a cell is either fully stored or absent, and only the
 * cells whose transaction had not committed are lost. `synchronous=FULL`
 * (the default) also fsyncs the WAL at each commit, so a stored cell survives
 * a power loss or OS crash too; it costs one fsync per cell, small against a
 * cell's solve. `"NORMAL"` skips that fsync: still never corrupt and still
 * safe against a killed process (committed pages are already in the OS), but
 * the last cells may roll back after a power loss.
 *
 * **Layout.** Table `runs` (one row per run: `run_id`, `name`, `spec_hash`,
 * `created_at`, insertion order `seq`) and table `cells` (primary key
 * `(run_id, cell_id)`, with `status`, `problem_name`, `solver_name`,
 * `repetition` as columns for queries). Each row also holds the whole record
 * as exact JSON (`record`, see `ExactJson`: NaN, ±∞ and −0 survive), which is
 * what reads decode — through the Schemas of `Records.ts`, so a row that does
 * not decode is reported as a `"corrupt"` StoreError naming its run and cell.
 *
 * **Versions.** `PRAGMA user_version` is the schema version and
 * `PRAGMA application_id` marks the file as a descent store. Opening a file
 * applies the pending steps of `migrations`, each in its own transaction; a
 * file from a newer descent, or a SQLite file that is not a descent store, is
 * refused before anything is written to it.
 *
 * @since 0.1.0
 */
import { existsSync, mkdirSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { DatabaseSync } from "node:sqlite"
import type { Layer } from "effect"
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
import { type Store, StoreError } from "./Store.ts"
import * as SyncStore from "./SyncStore.ts"

/**
 * Options of `open` and `layer`.
 *
 * @category models
 * @since 0.1.0
 */
export interface SqliteStoreOptions {
  /** The database file; relative paths resolve against the working directory; `":memory:"` for a private in-memory database. Missing directories are created. */
  readonly path: string
  /** SQLite's `synchronous` setting: `"FULL"` fsyncs at every commit (survives power loss); `"NORMAL"` does not (survives a killed process, may lose the last cells on power loss). Never corrupt either way. */
  readonly synchronous: "FULL" | "NORMAL"
  /** How long an operation waits for another process's lock before failing with kind `"io"`, in milliseconds. */
  readonly busyTimeoutMs: number
  /** Create the file (and its directories) when it does not exist; when `false`, a missing file is a StoreError of kind `"io"`. */
  readonly create: boolean
}

/**
 * The defaults: `.descent/descent.sqlite`, `synchronous: "FULL"`, a 5 s busy
 * timeout, files created on demand.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultOptions: SqliteStoreOptions = {
  path: ".descent/descent.sqlite",
  synchronous: "FULL",
  busyTimeoutMs: 5000,
  create: true
}

/**
 * The `PRAGMA application_id` of a descent store: the bytes "dsnt".
 *
 * @category constants
 * @since 0.1.0
 */
export const applicationId = 0x64736e74

/**
 * One step of the schema's history: `up` turns a version `version - 1`
 * database into a version `version` one. It runs inside a transaction that
 * also sets `user_version`, so a step is applied entirely or not at all.
 *
 * @category migrations
 * @since 0.1.0
 */
export interface Migration {
  readonly version: number
  readonly description: string
  readonly up: (db: DatabaseSync) => void
}

/**
 * The schema's history, oldest first; the store's current version is the
 * last step's. Version 0 is an empty file. New versions are appended, never
 * edited: files in the wild were made by the old steps.
 *
 * @category migrations
 * @since 0.1.0
 */
export const migrations: ReadonlyArray<Migration> = [
  {
    version: 1,
    description: "runs and cells tables",
    up: (db) => {
      db.exec(`
        CREATE TABLE runs (
          seq INTEGER PRIMARY KEY,
          run_id TEXT NOT NULL UNIQUE,
          name TEXT NOT NULL,
          spec_hash TEXT NOT NULL,
          created_at TEXT NOT NULL,
          record TEXT NOT NULL
        );
        CREATE TABLE cells (
          run_id TEXT NOT NULL REFERENCES runs (run_id),
          cell_id TEXT NOT NULL,
          status TEXT NOT NULL,
          problem_name TEXT NOT NULL,
          solver_name TEXT NOT NULL,
          repetition INTEGER,
          record TEXT NOT NULL,
          PRIMARY KEY (run_id, cell_id)
        );
        CREATE INDEX cells_by_status ON cells (run_id, status);
        PRAGMA application_id = ${applicationId};
      `)
    }
  }
]

/**
 * The schema version this code reads and writes (the last migration's).
 *
 * @category migrations
 * @since 0.1.0
 */
export const schemaVersion: number = migrations.length

// SQLite primary result codes (extended code & 0xff) that mean a damaged or foreign file.
const SQLITE_CORRUPT = 11
const SQLITE_NOTADB = 26

/** A StoreError for anything `node:sqlite` threw, with what was being done. */
const sqliteError = (doing: string, cause: unknown): StoreError => {
  if (cause instanceof StoreError) return cause
  const code = (cause as { errcode?: unknown } | null)?.errcode
  const primary = typeof code === "number" ? code & 0xff : undefined
  const detail = cause instanceof Error ? cause.message : String(cause)
  return new StoreError({
    kind: primary === SQLITE_CORRUPT || primary === SQLITE_NOTADB ? "corrupt" : "io",
    message: `${doing}: ${detail}`,
    cause
  })
}

const pragma = (db: DatabaseSync, name: string): unknown => {
  const row = db.prepare(`PRAGMA ${name}`).get() as Record<string, unknown> | undefined
  return row === undefined ? undefined : Object.values(row)[0]
}

const userVersion = (db: DatabaseSync): number => Number(pragma(db, "user_version"))

const newerFile = (where: string, version: number, supported: number): StoreError =>
  new StoreError({
    kind: "io",
    message: `${where} has schema version ${version}, newer than the ${supported} this @descent/dsl supports; open it with a newer descent`
  })

/**
 * Brings an open database to the last version of `steps` (default: the
 * store's `migrations`): applies each pending step in its own `BEGIN
 * IMMEDIATE` transaction with its `user_version` bump, re-reading the version
 * inside the transaction so two processes opening an old file at once
 * migrate it once. Returns the version reached. Throws `StoreError` when the
 * file is newer than `steps` know (nothing is changed) or a step fails (that
 * step is rolled back; earlier steps stay applied).
 *
 * @category migrations
 * @since 0.1.0
 */
export const migrate = (
  db: DatabaseSync,
  steps: ReadonlyArray<Migration> = migrations,
  where = "the store"
): number => {
  steps.forEach((step, i) => {
    if (step.version !== i + 1) {
      throw new StoreError({
        kind: "io",
        message: `migration ${i} has version ${step.version}; versions must be 1, 2, … in order`
      })
    }
  })
  const latest = steps.length
  let version = userVersion(db)
  while (version < latest) {
    const step = steps[version]
    db.exec("BEGIN IMMEDIATE")
    try {
      const current = userVersion(db)
      if (current === version) {
        step.up(db)
        db.exec(`PRAGMA user_version = ${step.version}`)
      }
      db.exec("COMMIT")
    } catch (cause) {
      if (db.isTransaction) db.exec("ROLLBACK")
      throw sqliteError(`migrating ${where} to version ${step.version} (${step.description}) failed`, cause)
    }
    version = userVersion(db)
  }
  if (version > latest) throw newerFile(where, version, latest)
  return version
}

/** Refuses, before writing anything, a file that is not a descent store or is newer than this code. */
const checkFormat = (db: DatabaseSync, where: string): void => {
  const id = Number(pragma(db, "application_id"))
  const version = userVersion(db)
  const tables = Number(
    (db.prepare("SELECT count(*) AS n FROM sqlite_schema").get() as { n: number | bigint } | undefined)?.n ??
      0
  )
  const fresh = id === 0 && version === 0 && tables === 0
  if (id !== applicationId && !fresh) {
    throw new StoreError({
      kind: "io",
      message: `${where} is a SQLite database but not a descent store (application_id ${id}, user_version ${version}, ${tables} schema objects); refusing to change it`
    })
  }
  if (version > schemaVersion) throw newerFile(where, version, schemaVersion)
}

const configure = (db: DatabaseSync, options: SqliteStoreOptions, where: string): void => {
  db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs))}`)
  const mode = String(pragma(db, "journal_mode = WAL")).toLowerCase()
  if (mode !== "wal" && mode !== "memory") {
    throw new StoreError({
      kind: "io",
      message: `cannot put ${where} in WAL journal mode (SQLite answered "${mode}")`
    })
  }
  db.exec(`PRAGMA synchronous = ${options.synchronous === "NORMAL" ? "NORMAL" : "FULL"}`)
  db.exec("PRAGMA foreign_keys = ON")
}

interface RunRow {
  readonly seq: number
  readonly run_id: string
  readonly created_at: string
  readonly record: string
}

const storeOver = (db: DatabaseSync, where: string): SyncStore.SyncStore => {
  const statements = {
    run: db.prepare("SELECT record FROM runs WHERE run_id = ?"),
    runExists: db.prepare("SELECT 1 AS found FROM runs WHERE run_id = ?"),
    insertRun: db.prepare(
      "INSERT INTO runs (run_id, name, spec_hash, created_at, record) VALUES (?, ?, ?, ?, ?)"
    ),
    runs: db.prepare("SELECT seq, run_id, created_at, record FROM runs"),
    insertCell: db.prepare(
      `INSERT INTO cells (run_id, cell_id, status, problem_name, solver_name, repetition, record)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, cell_id) DO NOTHING`
    ),
    cellIds: db.prepare("SELECT cell_id FROM cells WHERE run_id = ?"),
    cells: db.prepare("SELECT cell_id, record FROM cells WHERE run_id = ?")
  }
  let open = true

  /** Runs `f` on the open database; SQLite errors become StoreErrors saying what was being done. */
  const using = <A>(doing: string, f: () => A): A => {
    if (!open) throw closedStore(where)
    try {
      return f()
    } catch (cause) {
      throw sqliteError(`${doing} in ${where}`, cause)
    }
  }
  /** Runs `f` in a write transaction: committed whole or rolled back whole. */
  const transaction = <A>(f: () => A): A => {
    db.exec("BEGIN IMMEDIATE")
    try {
      const result = f()
      db.exec("COMMIT")
      return result
    } catch (cause) {
      if (db.isTransaction) db.exec("ROLLBACK")
      throw cause
    }
  }
  const runExists = (runId: string): boolean => statements.runExists.get(runId) !== undefined
  const requireRun = (runId: string): void => {
    if (!runExists(runId)) throw missingRun(runId)
  }

  return {
    openRun: (input) => {
      if (!open) throw closedStore(where)
      const { run, text } = encodeRun(input)
      return using(`opening run ${JSON.stringify(run.runId)}`, () =>
        transaction(() => {
          const existing = statements.run.get(run.runId) as { record: unknown } | undefined
          if (existing !== undefined) return decodeRun(existing.record, run.runId)
          statements.insertRun.run(run.runId, run.name, run.specHash, run.createdAt, text)
          return run
        })
      )
    },
    putCell: (input) => {
      if (!open) throw closedStore(where)
      const { cell, text } = encodeCell(input)
      using(`storing cell ${JSON.stringify(cell.cellId)} of run ${JSON.stringify(cell.runId)}`, () =>
        transaction(() => {
          if (!runExists(cell.runId)) throw cellWithoutRun(cell.runId, cell.cellId)
          const { changes } = statements.insertCell.run(
            cell.runId,
            cell.cellId,
            cell.status,
            cell.problem.name,
            cell.solver.name,
            cell.repetition,
            text
          )
          if (Number(changes) === 0) throw duplicateCell(cell.runId, cell.cellId)
        })
      )
    },
    finishedCellIds: (runId) =>
      using(`reading the cell ids of run ${JSON.stringify(runId)}`, () => {
        requireRun(runId)
        return new Set(
          (statements.cellIds.all(runId) as Array<{ cell_id: string }>).map((row) => row.cell_id)
        )
      }),
    listRuns: () =>
      using("listing runs", () =>
        (statements.runs.all() as unknown as Array<RunRow>)
          .map((row) => ({ ...row, createdAt: row.created_at }))
          .sort(compareRunsNewestFirst)
          .map((row) => decodeRun(row.record, row.run_id))
      ),
    getRun: (runId) =>
      using(`reading run ${JSON.stringify(runId)}`, () => {
        const row = statements.run.get(runId) as { record: unknown } | undefined
        if (row === undefined) throw missingRun(runId)
        return decodeRun(row.record, runId)
      }),
    cells: (runId) =>
      using(`reading the cells of run ${JSON.stringify(runId)}`, () => {
        requireRun(runId)
        return (statements.cells.all(runId) as Array<{ cell_id: string; record: unknown }>)
          .sort((a, b) => compareIds(a.cell_id, b.cell_id))
          .map((row) => decodeCell(row.record, runId, row.cell_id))
      }),
    close: () => {
      if (!open) return
      open = false
      db.close()
    }
  }
}

/**
 * Opens (creating and migrating as needed) a SQLite store with the plain
 * synchronous API; every operation throws `StoreError`. Call `close` when
 * done (a killed process needs no close: the file stays consistent).
 *
 * @example
 * ```ts
 * import { SqliteStore } from "@descent/dsl"
 *
 * const store = SqliteStore.open({ path: ".descent/descent.sqlite" })
 * try {
 *   for (const run of store.listRuns()) console.log(run.runId, run.name)
 * } finally {
 *   store.close()
 * }
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const open = (options: Partial<SqliteStoreOptions> = {}): SyncStore.SyncStore => {
  const settings: SqliteStoreOptions = { ...defaultOptions, ...options }
  const path = settings.path === ":memory:" ? settings.path : resolve(settings.path)
  const where = `the store ${path}`
  if (path !== ":memory:" && !existsSync(path)) {
    if (!settings.create) {
      throw new StoreError({ kind: "io", message: `there is no store at ${path} (and create is false)` })
    }
    try {
      mkdirSync(dirname(path), { recursive: true })
    } catch (cause) {
      throw sqliteError(`creating the directory of ${where}`, cause)
    }
  }
  let db: DatabaseSync
  try {
    db = new DatabaseSync(path, { enableForeignKeyConstraints: true, timeout: settings.busyTimeoutMs })
  } catch (cause) {
    throw sqliteError(`opening ${where}`, cause)
  }
  try {
    checkFormat(db, where)
    configure(db, settings, where)
    migrate(db, migrations, where)
    return storeOver(db, where)
  } catch (cause) {
    db.close()
    throw sqliteError(`opening ${where}`, cause)
  }
}

/**
 * The `Store` service on a SQLite file: opened when the layer is built,
 * closed when its scope closes (`Effect.acquireRelease`). Fails to build with
 * a `StoreError` when the file cannot be opened or migrated.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { SqliteStore, Store } from "@descent/dsl"
 *
 * const program = Store.Store.use((store) => store.listRuns)
 * Effect.runPromise(Effect.provide(program, SqliteStore.layer({ path: ".descent/descent.sqlite" })))
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: Partial<SqliteStoreOptions> = {}): Layer.Layer<Store, StoreError> =>
  SyncStore.layer(() => open(options))
