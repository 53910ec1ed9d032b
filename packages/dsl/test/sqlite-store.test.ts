/**
 * What only the SQLite store has: a file (created with its directories, WAL
 * journal, persistent across opens, shared between connections), a versioned
 * schema (migrations from a hand-made version-0 file, ordered and
 * transactional steps, refusal of newer or foreign files before touching
 * them), corrupt rows and files reported as kind "corrupt" naming the run and
 * cell, and scoped acquisition/release through the Layer.
 */
import { existsSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { Effect, Exit } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import * as ExactJson from "../src/ExactJson.ts"
import * as SqliteStore from "../src/SqliteStore.ts"
import { Store, StoreError } from "../src/Store.ts"
import { firstDifference, sampleCell, sampleRun, tempDir } from "./storeKit.ts"

const dir = tempDir("sqlite")
afterAll(dir.remove)
let files = 0
const freshPath = (): string => join(dir.path, `case-${files++}`, "store.sqlite")

/** Runs `f` on a raw connection to the file (no store code involved). */
const raw = <A>(path: string, f: (db: DatabaseSync) => A): A => {
  const db = new DatabaseSync(path)
  try {
    return f(db)
  } finally {
    db.close()
  }
}
const pragma = (db: DatabaseSync, name: string): unknown =>
  Object.values(db.prepare(`PRAGMA ${name}`).get() ?? {})[0]
const tableNames = (db: DatabaseSync): Array<string> =>
  (
    db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all() as Array<{
      name: string
    }>
  ).map((row) => row.name)

/** The StoreError `f` throws (fails the test if it throws nothing or something else). */
const thrown = (f: () => unknown): StoreError => {
  try {
    f()
  } catch (error) {
    expect(error).toBeInstanceOf(StoreError)
    return error as StoreError
  }
  throw new Error("expected a StoreError, nothing was thrown")
}

describe("SqliteStore file", () => {
  it("creates the file and missing directories, in WAL mode, and keeps records across opens", () => {
    const path = freshPath()
    expect(existsSync(path)).toBe(false)
    const store = SqliteStore.open({ path })
    store.openRun(sampleRun("r"))
    store.putCell(sampleCell("r", "c"))
    store.close()
    expect(existsSync(path)).toBe(true)
    expect(raw(path, (db) => pragma(db, "journal_mode"))).toBe("wal")
    const again = SqliteStore.open({ path })
    expect(firstDifference(again.cells("r"), [sampleCell("r", "c")])).toBeUndefined()
    expect(firstDifference(again.getRun("r"), sampleRun("r"))).toBeUndefined()
    again.close()
  })

  it("defaults to .descent/descent.sqlite, synchronous FULL", () => {
    expect(SqliteStore.defaultOptions.path).toBe(".descent/descent.sqlite")
    expect(SqliteStore.defaultOptions.synchronous).toBe("FULL")
  })

  it("with create: false, refuses a missing file instead of making one", () => {
    const path = freshPath()
    const error = thrown(() => SqliteStore.open({ path, create: false }))
    expect(error.kind).toBe("io")
    expect(error.message).toContain(path)
    expect(existsSync(path)).toBe(false)
  })

  it("lets two connections share a file: each sees the other's cells; a duplicate across them is refused", () => {
    const path = freshPath()
    const a = SqliteStore.open({ path })
    const b = SqliteStore.open({ path, synchronous: "NORMAL" })
    a.openRun(sampleRun("r"))
    expect(b.openRun(sampleRun("r", "2030-01-01T00:00:00.000Z")).createdAt).toBe(sampleRun("r").createdAt)
    a.putCell(sampleCell("r", "c1"))
    expect([...b.finishedCellIds("r")]).toEqual(["c1"])
    expect(thrown(() => b.putCell(sampleCell("r", "c1"))).kind).toBe("duplicate")
    b.putCell(sampleCell("r", "c2"))
    expect(a.cells("r").map((c) => c.cellId)).toEqual(["c1", "c2"])
    a.close()
    b.close()
  })

  it("as a Layer, opens the file when built and closes it when the scope closes", async () => {
    const path = freshPath()
    const ids = await Effect.runPromise(
      Effect.provide(
        Effect.gen(function* () {
          const store = yield* Store
          yield* store.openRun(sampleRun("r"))
          yield* store.putCell(sampleCell("r", "c"))
          // While the layer is alive the connection is open and the WAL holds the write.
          expect(existsSync(`${path}-wal`)).toBe(true)
          return yield* store.finishedCellIds("r")
        }),
        SqliteStore.layer({ path })
      )
    )
    expect([...ids]).toEqual(["c"])
    // Closing the last connection checkpoints the WAL into the file and deletes it.
    expect(existsSync(`${path}-wal`)).toBe(false)
    expect(raw(path, (db) => pragma(db, "integrity_check"))).toBe("ok")
  })

  it("fails to build the Layer with the StoreError when the file cannot be opened", async () => {
    const path = freshPath()
    const exit = await Effect.runPromiseExit(
      Effect.provide(
        Store.use((s) => s.listRuns),
        SqliteStore.layer({ path, create: false })
      )
    )
    expect(Exit.isFailure(exit)).toBe(true)
    const error = await Effect.runPromise(
      Effect.flip(
        Effect.provide(
          Store.use((s) => s.listRuns),
          SqliteStore.layer({ path, create: false })
        )
      )
    )
    expect(error.kind).toBe("io")
  })
})

describe("SqliteStore schema versions", () => {
  it("migrates a hand-made version-0 file (empty, rollback journal) to the current version", () => {
    const v0 = join(dir.path, `case-${files++}.sqlite`)
    raw(v0, (db) => {
      db.exec("PRAGMA journal_mode = DELETE")
      db.exec("PRAGMA user_version = 0")
      expect(pragma(db, "user_version")).toBe(0)
    })
    const store = SqliteStore.open({ path: v0 })
    store.openRun(sampleRun("r"))
    store.putCell(sampleCell("r", "c"))
    store.close()
    raw(v0, (db) => {
      expect(pragma(db, "user_version")).toBe(SqliteStore.schemaVersion)
      expect(pragma(db, "application_id")).toBe(SqliteStore.applicationId)
      expect(pragma(db, "journal_mode")).toBe("wal")
      expect(tableNames(db)).toEqual(["cells", "runs"])
      expect(
        db.prepare("SELECT run_id, cell_id, status, problem_name, solver_name, repetition FROM cells").all()
      ).toEqual([
        {
          run_id: "r",
          cell_id: "c",
          status: "diverged",
          problem_name: "rosenbrock",
          solver_name: "adam",
          repetition: 0
        }
      ])
    })
  })

  it("applies pending steps in order, once each, keeping the data", () => {
    const path = freshPath()
    const store = SqliteStore.open({ path })
    store.openRun(sampleRun("r"))
    store.putCell(sampleCell("r", "c"))
    store.close()
    let applied = 0
    const v2: SqliteStore.Migration = {
      version: SqliteStore.schemaVersion + 1,
      description: "cells.iterations column",
      up: (db) => {
        applied++
        db.exec("ALTER TABLE cells ADD COLUMN iterations INTEGER")
        db.exec("UPDATE cells SET iterations = json_extract(record, '$.iterations')")
      }
    }
    const steps = [...SqliteStore.migrations, v2]
    raw(path, (db) => {
      expect(SqliteStore.migrate(db, steps)).toBe(v2.version)
      expect(SqliteStore.migrate(db, steps)).toBe(v2.version)
      expect(applied).toBe(1)
      expect(pragma(db, "user_version")).toBe(v2.version)
      expect(db.prepare("SELECT iterations FROM cells").all()).toEqual([{ iterations: 17 }])
    })
    // The shipped code now meets a newer file and refuses it, unchanged.
    const error = thrown(() => SqliteStore.open({ path }))
    expect(error.message).toContain(
      `schema version ${v2.version}, newer than the ${SqliteStore.schemaVersion}`
    )
  })

  it("rolls back a failing step whole, leaving the previous version", () => {
    const path = freshPath()
    SqliteStore.open({ path }).close()
    const broken: SqliteStore.Migration = {
      version: SqliteStore.schemaVersion + 1,
      description: "half-done step",
      up: (db) => {
        db.exec("CREATE TABLE half (x)")
        throw new Error("disk on fire")
      }
    }
    raw(path, (db) => {
      const error = thrown(() => SqliteStore.migrate(db, [...SqliteStore.migrations, broken]))
      expect(error.kind).toBe("io")
      expect(error.message).toContain(`version ${broken.version} (half-done step) failed`)
      expect(error.message).toContain("disk on fire")
      expect(pragma(db, "user_version")).toBe(SqliteStore.schemaVersion)
      expect(tableNames(db)).toEqual(["cells", "runs"])
    })
  })

  it("rejects a migration list whose versions are not 1, 2, …", () => {
    raw(":memory:", (db) => {
      const error = thrown(() => SqliteStore.migrate(db, [{ version: 2, description: "gap", up: () => {} }]))
      expect(error.message).toContain("versions must be 1, 2")
    })
  })

  it("refuses a file from a newer descent before changing anything", () => {
    const path = join(dir.path, `case-${files++}.sqlite`)
    raw(path, (db) => {
      db.exec("PRAGMA journal_mode = DELETE")
      db.exec(`PRAGMA application_id = ${SqliteStore.applicationId}`)
      db.exec(`PRAGMA user_version = ${SqliteStore.schemaVersion + 7}`)
      db.exec("CREATE TABLE future (x)")
    })
    const error = thrown(() => SqliteStore.open({ path }))
    expect(error.kind).toBe("io")
    expect(error.message).toContain(
      `schema version ${SqliteStore.schemaVersion + 7}, newer than the ${SqliteStore.schemaVersion} this @descent/dsl supports`
    )
    raw(path, (db) => {
      expect(pragma(db, "journal_mode")).toBe("delete")
      expect(pragma(db, "user_version")).toBe(SqliteStore.schemaVersion + 7)
      expect(tableNames(db)).toEqual(["future"])
    })
  })

  it("refuses a SQLite file that is not a descent store, unchanged", () => {
    const path = join(dir.path, `case-${files++}.sqlite`)
    raw(path, (db) => {
      db.exec("CREATE TABLE runs (something_else TEXT)")
    })
    const error = thrown(() => SqliteStore.open({ path }))
    expect(error.message).toContain("not a descent store")
    raw(path, (db) => {
      expect(tableNames(db)).toEqual(["runs"])
      expect(pragma(db, "user_version")).toBe(0)
    })
  })

  it("reports a file that is not SQLite at all as kind 'corrupt'", () => {
    const path = join(dir.path, `case-${files++}.sqlite`)
    writeFileSync(path, "this is not a database\n".repeat(200))
    const error = thrown(() => SqliteStore.open({ path }))
    expect(error.kind).toBe("corrupt")
    expect(error.message).toContain(path)
  })
})

describe("SqliteStore corrupt rows", () => {
  const damaged = (record: string, column = "record"): StoreError => {
    const path = freshPath()
    const store = SqliteStore.open({ path })
    store.openRun(sampleRun("run-x"))
    store.putCell(sampleCell("run-x", "good"))
    store.putCell(sampleCell("run-x", "cell-y"))
    raw(path, (db) => {
      db.prepare(`UPDATE cells SET ${column} = ? WHERE cell_id = 'cell-y'`).run(record)
    })
    const error = thrown(() => store.cells("run-x"))
    // The other reads are unaffected.
    expect([...store.finishedCellIds("run-x")].sort()).toEqual(["cell-y", "good"])
    store.close()
    return error
  }

  it.each([
    ["truncated JSON", '{"runId":"run-x","cellId":"cell-y"', "not JSON"],
    [
      "a record failing the CellRecord Schema",
      ExactJson.stringify({ ...sampleCell("run-x", "cell-y"), status: "bogus" }),
      "status"
    ],
    [
      "a malformed value tag",
      ExactJson.stringify(sampleCell("run-x", "cell-y")).replace(
        '"iterations":17',
        '"iterations":{"$v":"NAN"}'
      ),
      'unknown value tag "NAN"'
    ],
    ["another cell's record", ExactJson.stringify(sampleCell("run-x", "good")), "its record says"]
  ])("%s → kind 'corrupt' naming the run and cell", (_, record, detail) => {
    const error = damaged(record)
    expect(error.kind).toBe("corrupt")
    expect(error.message).toContain('cell "cell-y" of run "run-x"')
    expect(error.message).toContain(detail)
  })

  it("a corrupt run row fails getRun and listRuns with kind 'corrupt' naming the run", () => {
    const path = freshPath()
    const store = SqliteStore.open({ path })
    store.openRun(sampleRun("run-x"))
    raw(path, (db) => db.prepare("UPDATE runs SET record = '[]'").run())
    for (const error of [thrown(() => store.getRun("run-x")), thrown(() => store.listRuns())]) {
      expect(error.kind).toBe("corrupt")
      expect(error.message).toContain('run "run-x"')
    }
    store.close()
  })
})
