/**
 * The `Store` contract, written once and run against both implementations
 * (in memory and SQLite) through the Effect service they provide: exact
 * round trips (NaN, ±∞, −0, undefined, unicode, tag-like keys), duplicate
 * refusal, finishedCellIds, listRuns order, missing runs, validation of
 * writes, and isolation of what is read from what was written.
 */
import { join } from "node:path"
import { Effect, type Layer } from "effect"
import fc from "fast-check"
import { afterAll, describe, expect, it } from "vitest"
import * as MemoryStore from "../src/MemoryStore.ts"
import type { CellRecord, RunRecord } from "../src/Records.ts"
import * as SqliteStore from "../src/SqliteStore.ts"
import { Store, StoreError } from "../src/Store.ts"
import type * as SyncStore from "../src/SyncStore.ts"
import {
  cellsOfRun,
  firstDifference,
  PROPERTY_SEED,
  runRecord,
  sampleCell,
  sampleRun,
  tempDir
} from "./storeKit.ts"

const dir = tempDir("conformance")
afterAll(dir.remove)

let files = 0
interface Subject {
  readonly name: string
  /** A layer over a fresh, empty store. */
  readonly fresh: () => Layer.Layer<Store, StoreError>
  /** A fresh, empty store with the plain synchronous API. */
  readonly plain: () => SyncStore.SyncStore
}

const subjects: ReadonlyArray<Subject> = [
  { name: "MemoryStore", fresh: () => MemoryStore.layer, plain: MemoryStore.make },
  {
    name: "SqliteStore",
    fresh: () => SqliteStore.layer({ path: join(dir.path, `store-${files++}.sqlite`) }),
    plain: () => SqliteStore.open({ path: join(dir.path, `store-${files++}.sqlite`) })
  }
]

const run = <A, E>(layer: Layer.Layer<Store, StoreError>, program: Effect.Effect<A, E, Store>): Promise<A> =>
  Effect.runPromise(Effect.provide(program, layer))

/** The StoreError a program fails with (the test fails if it succeeds). */
const failure = <A>(layer: Layer.Layer<Store, StoreError>, program: Effect.Effect<A, StoreError, Store>) =>
  run(layer, Effect.flip(program))

const expectIdentical = (actual: unknown, expected: unknown): void => {
  expect(firstDifference(actual, expected)).toBeUndefined()
}

const byCellId = (cells: ReadonlyArray<CellRecord>): Array<CellRecord> =>
  [...cells].sort((a, b) => (a.cellId < b.cellId ? -1 : a.cellId > b.cellId ? 1 : 0))

describe.each(subjects)("$name conforms to the Store contract", (subject) => {
  it("reads back exactly what was written (NaN, ±∞, −0, undefined, unicode, tag-like keys), 50 generated runs", async () => {
    await fc.assert(
      fc.asyncProperty(runRecord("run-a"), cellsOfRun("run-a"), async (runIn, cellsIn) => {
        const { opened, got, ids, cells } = await run(
          subject.fresh(),
          Effect.gen(function* () {
            const store = yield* Store
            const opened = yield* store.openRun(runIn)
            for (const cell of cellsIn) yield* store.putCell(cell)
            return {
              opened,
              got: yield* store.getRun("run-a"),
              ids: yield* store.finishedCellIds("run-a"),
              cells: yield* store.cells("run-a")
            }
          })
        )
        expectIdentical(opened, runIn)
        expectIdentical(got, runIn)
        expect([...ids].sort()).toEqual(cellsIn.map((c) => c.cellId).sort())
        expectIdentical(cells, byCellId(cellsIn))
      }),
      { seed: PROPERTY_SEED, numRuns: 50 }
    )
  })

  it("refuses a duplicate cell and replaces nothing", async () => {
    const layer = subject.fresh()
    const first = sampleCell("r", "c1")
    const second = sampleCell("r", "c1", { status: "converged", metrics: { objective: 1 } })
    const { error, cells } = await run(
      layer,
      Effect.gen(function* () {
        const store = yield* Store
        yield* store.openRun(sampleRun("r"))
        yield* store.putCell(first)
        const error = yield* Effect.flip(store.putCell(second))
        // The exact same record again is a duplicate too (a resumed run must skip it, not rewrite it).
        const again = yield* Effect.flip(store.putCell(first))
        expect(again.kind).toBe("duplicate")
        return { error, cells: yield* store.cells("r") }
      })
    )
    expect(error._tag).toBe("StoreError")
    expect(error.kind).toBe("duplicate")
    expect(error.message).toContain('"c1"')
    expect(error.message).toContain('"r"')
    expect(cells).toHaveLength(1)
    expectIdentical(cells[0], first)
  })

  it("finishedCellIds lists exactly the stored cells of that run", async () => {
    const ids = await run(
      subject.fresh(),
      Effect.gen(function* () {
        const store = yield* Store
        yield* store.openRun(sampleRun("r1"))
        yield* store.openRun(sampleRun("r2"))
        const empty = yield* store.finishedCellIds("r1")
        for (const id of ["b", "a", "c"]) yield* store.putCell(sampleCell("r1", id))
        // Same cellId in another run is another cell.
        yield* store.putCell(sampleCell("r2", "a"))
        yield* store.putCell(sampleCell("r2", "z"))
        return {
          empty,
          r1: yield* store.finishedCellIds("r1"),
          r2: yield* store.finishedCellIds("r2"),
          cells: (yield* store.cells("r1")).map((c) => c.cellId)
        }
      })
    )
    expect(ids.empty.size).toBe(0)
    expect([...ids.r1].sort()).toEqual(["a", "b", "c"])
    expect([...ids.r2].sort()).toEqual(["a", "z"])
    expect(ids.cells).toEqual(["a", "b", "c"])
  })

  it("lists runs newest first (ties: the later stored first) and keeps the first record of a run", async () => {
    const runs = await run(
      subject.fresh(),
      Effect.gen(function* () {
        const store = yield* Store
        const empty = yield* store.listRuns
        expect(empty).toEqual([])
        yield* store.openRun(sampleRun("old", "2026-01-01T00:00:00.000Z"))
        yield* store.openRun(sampleRun("new", "2026-12-31T23:59:59.999Z"))
        yield* store.openRun(sampleRun("tie-1", "2026-06-01T12:00:00.000Z"))
        yield* store.openRun(sampleRun("tie-2", "2026-06-01T12:00:00.000Z"))
        // Re-opening (resuming) returns the stored record, not the argument, and does not reorder.
        const resumed = yield* store.openRun({
          ...sampleRun("old", "2027-01-01T00:00:00.000Z"),
          name: "renamed"
        })
        expect(resumed.name).toBe("experiment old")
        expect(resumed.createdAt).toBe("2026-01-01T00:00:00.000Z")
        return yield* store.listRuns
      })
    )
    expect(runs.map((r) => r.runId)).toEqual(["new", "tie-2", "tie-1", "old"])
    expectIdentical(runs[3], sampleRun("old", "2026-01-01T00:00:00.000Z"))
  })

  it("fails with kind 'missing', naming the run, for a run that is not stored", async () => {
    const layer = subject.fresh()
    const programs: ReadonlyArray<Effect.Effect<unknown, StoreError, Store>> = [
      Store.use((s) => s.getRun("nope")),
      Store.use((s) => s.cells("nope")),
      Store.use((s) => s.finishedCellIds("nope"))
    ]
    for (const program of programs) {
      const error = await failure(layer, program)
      expect(error.kind).toBe("missing")
      expect(error.message).toContain('"nope"')
    }
    const orphan = await failure(
      layer,
      Store.use((s) => s.putCell(sampleCell("nope", "c")))
    )
    expect(orphan.kind).toBe("missing")
    expect(orphan.message).toContain("openRun first")
  })

  it("refuses records that would not read back, and writes nothing", async () => {
    const { bad, cyclic, nonJson, badRun, cells } = await run(
      subject.fresh(),
      Effect.gen(function* () {
        const store = yield* Store
        yield* store.openRun(sampleRun("r"))
        const bad = yield* Effect.flip(
          store.putCell({ ...sampleCell("r", "c"), status: "exploded" } as unknown as CellRecord)
        )
        const options: Record<string, unknown> = {}
        options.self = options
        const cyclic = yield* Effect.flip(
          store.putCell(sampleCell("r", "d", { solver: { name: "s", options } }))
        )
        const nonJson = yield* Effect.flip(
          store.putCell(sampleCell("r", "e", { solver: { name: "s", options: { big: 10n } } }))
        )
        const badRun = yield* Effect.flip(
          store.openRun({ ...sampleRun("q"), cellCount: "3" } as unknown as RunRecord)
        )
        return { bad, cyclic, nonJson, badRun, cells: yield* store.cells("r") }
      })
    )
    for (const error of [bad, cyclic, nonJson, badRun]) expect(error.kind).toBe("corrupt")
    expect(bad.message).toContain("status")
    expect(cyclic.message).toContain("cyclic")
    expect(nonJson.message).toContain("bigint")
    expect(badRun.message).toContain("cellCount")
    expect(cells).toEqual([])
  })

  it("returns fresh records: mutating what was written or read changes nothing stored", async () => {
    const cell = sampleCell("r", "c")
    const read = await run(
      subject.fresh(),
      Effect.gen(function* () {
        const store = yield* Store
        yield* store.openRun(sampleRun("r"))
        yield* store.putCell(cell)
        ;(cell.metrics as Record<string, number>).objective = 42
        const [first] = yield* store.cells("r")
        ;(first.trace.iteration as Array<number>).push(99)
        const [second] = yield* store.cells("r")
        return second
      })
    )
    expectIdentical(read, sampleCell("r", "c"))
  })
})

describe.each(subjects)("$name, plain synchronous API", (subject) => {
  it("throws the same StoreErrors the service fails with", () => {
    const store = subject.plain()
    store.openRun(sampleRun("r"))
    store.putCell(sampleCell("r", "c"))
    expect(() => store.putCell(sampleCell("r", "c"))).toThrow(StoreError)
    expect(() => store.getRun("nope")).toThrow(/no run "nope"/)
    expect(store.listRuns().map((r) => r.runId)).toEqual(["r"])
    expectIdentical(store.cells("r"), [sampleCell("r", "c")])
    store.close()
  })

  it("fails every operation after close with kind 'io'; close is idempotent", () => {
    const store = subject.plain()
    store.openRun(sampleRun("r"))
    store.close()
    store.close()
    const operations: ReadonlyArray<() => unknown> = [
      () => store.openRun(sampleRun("q")),
      () => store.putCell(sampleCell("r", "c")),
      () => store.finishedCellIds("r"),
      () => store.listRuns(),
      () => store.getRun("r"),
      () => store.cells("r")
    ]
    for (const operation of operations) {
      try {
        operation()
        expect.unreachable("an operation on a closed store succeeded")
      } catch (error) {
        expect(error).toBeInstanceOf(StoreError)
        expect((error as StoreError).kind).toBe("io")
        expect((error as StoreError).message).toContain("closed")
      }
    }
  })
})

describe("both stores agree", () => {
  it("on the same generated records, including read order and error messages", async () => {
    const program = (runIn: RunRecord, cellsIn: ReadonlyArray<CellRecord>) =>
      Effect.gen(function* () {
        const store = yield* Store
        yield* store.openRun(runIn)
        for (const cell of cellsIn) yield* store.putCell(cell)
        const duplicate = cellsIn.length > 0 ? (yield* Effect.flip(store.putCell(cellsIn[0]))).message : ""
        const missing = (yield* Effect.flip(store.cells("other"))).message
        return { runs: yield* store.listRuns, cells: yield* store.cells(runIn.runId), duplicate, missing }
      })
    await fc.assert(
      fc.asyncProperty(runRecord("run-b"), cellsOfRun("run-b"), async (runIn, cellsIn) => {
        const [memory, sqlite] = await Promise.all(
          subjects.map((s) => run(s.fresh(), program(runIn, cellsIn)))
        )
        expect(firstDifference(memory.runs, sqlite.runs)).toBeUndefined()
        expect(firstDifference(memory.cells, sqlite.cells)).toBeUndefined()
        expect(sqlite.duplicate).toBe(memory.duplicate)
        expect(sqlite.missing).toBe(memory.missing)
      }),
      { seed: PROPERTY_SEED + 1, numRuns: 20 }
    )
  })
})
