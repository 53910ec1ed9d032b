/**
 * Crash safety of the SQLite store with real processes: a child writing cells
 * in a loop is SIGKILLed mid-run, several times; after each kill the file
 * passes `PRAGMA integrity_check`, every stored cell decodes and equals the
 * cell that was written (none partial), every cell the child reported as
 * stored is there, and the stored cells are a gapless prefix of the writing
 * order. Resuming writes the rest, and the result equals an uninterrupted
 * run's, cell for cell — no loss, no duplicates. A second test kills a child
 * at the worst moment (uncommitted pages already spilled into the WAL) and
 * checks that nothing of that transaction survives.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import * as SqliteStore from "../src/SqliteStore.ts"
import { crashCell, crashRun } from "./store-crash-child.ts"
import { firstDifference, tempDir } from "./storeKit.ts"

const dir = tempDir("crash")
afterAll(dir.remove)

const child = fileURLToPath(new URL("./store-crash-child.ts", import.meta.url))
/** Node ≥ 22.18 runs the .ts child directly; vitest itself runs on the pinned Node 24. */
const node = process.execPath

/** Cells per run and samples per trace: ≈ 80 kB of JSON per cell, a few ms per putCell. */
const CELLS = 90
const TRACE_LENGTH = 1000
/** Kill the writer after it has reported this many (more) cells, three times. */
const KILL_AFTER = [12, 25, 20]

interface Outcome {
  readonly reported: ReadonlyArray<number>
  readonly signal: NodeJS.Signals | null
  readonly code: number | null
}

/** Runs the child; when `killAfter` is given, SIGKILLs it once it has reported that many stored cells. */
const runChild = (args: ReadonlyArray<string>, killAfter?: number): Promise<Outcome> =>
  new Promise((resolvePromise, reject) => {
    const proc: ChildProcess = spawn(node, [child, ...args], {
      env: { ...process.env, CRASH_TRACE_LENGTH: String(TRACE_LENGTH) },
      stdio: ["ignore", "pipe", "pipe"]
    })
    const reported: Array<number> = []
    let buffer = ""
    let stderr = ""
    proc.stdout?.setEncoding("utf8")
    proc.stdout?.on("data", (chunk: string) => {
      buffer += chunk
      let newline = buffer.indexOf("\n")
      while (newline >= 0) {
        const line = buffer.slice(0, newline)
        buffer = buffer.slice(newline + 1)
        const match = /^stored (\d+)$/.exec(line)
        if (match !== null) reported.push(Number(match[1]))
        newline = buffer.indexOf("\n")
      }
      if (killAfter !== undefined && reported.length >= killAfter && proc.exitCode === null)
        proc.kill("SIGKILL")
    })
    proc.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    proc.on("error", reject)
    proc.on("close", (code, signal) => {
      if (signal === null && code !== 0) reject(new Error(`child failed (${code}): ${stderr}`))
      else resolvePromise({ reported, signal, code })
    })
  })

/** `PRAGMA integrity_check` through a raw connection (which also recovers the WAL). */
const integrity = (path: string): unknown => {
  const db = new DatabaseSync(path)
  try {
    return db.prepare("PRAGMA integrity_check").all()
  } finally {
    db.close()
  }
}

/** Reads the store back: every cell must decode (a corrupt one throws); returns their indices. */
const storedIndices = (path: string): Array<number> => {
  const store = SqliteStore.open({ path })
  try {
    const cells = store.cells(crashRun.runId)
    return cells.map((cell) => {
      const index = Number(cell.cellId.slice("cell-".length))
      // Not partial: identical, bit for bit, to the cell that was written.
      expect(firstDifference(cell, crashCell(index, TRACE_LENGTH))).toBeUndefined()
      return index
    })
  } finally {
    store.close()
  }
}

/**
 * Counts the WAL frames of the current generation (salts matching the
 * header) after the last commit frame: pages of a transaction that never
 * committed. Format: https://www.sqlite.org/fileformat.html#the_write_ahead_log
 */
const uncommittedWalFrames = (walPath: string): number => {
  const wal = readFileSync(walPath)
  if (wal.length < 32) return 0
  const pageSize = wal.readUInt32BE(8)
  const salt1 = wal.readUInt32BE(16)
  const salt2 = wal.readUInt32BE(20)
  let sinceCommit = 0
  for (let offset = 32; offset + 24 + pageSize <= wal.length; offset += 24 + pageSize) {
    if (wal.readUInt32BE(offset + 8) !== salt1 || wal.readUInt32BE(offset + 12) !== salt2) break
    sinceCommit = wal.readUInt32BE(offset + 4) !== 0 ? 0 : sinceCommit + 1
  }
  return sinceCommit
}

describe("SqliteStore under SIGKILL", () => {
  it("loses only cells in flight, never corrupts, and resumes to exactly an uninterrupted run", async () => {
    const reference = join(dir.path, "uninterrupted.sqlite")
    const crashed = join(dir.path, "crashed.sqlite")

    const whole = await runChild(["write", reference, String(CELLS)])
    expect(whole.signal).toBeNull()
    expect(whole.reported).toHaveLength(CELLS)

    let reportedSoFar = new Set<number>()
    const killed: Array<{ reported: number; stored: number }> = []
    for (const after of KILL_AFTER) {
      const outcome = await runChild(["write", crashed, String(CELLS)], after)
      expect(outcome.signal).toBe("SIGKILL")
      expect(integrity(crashed)).toEqual([{ integrity_check: "ok" }])
      const stored = storedIndices(crashed)
      // No loss: every cell reported as stored (committed) is there …
      reportedSoFar = new Set([...reportedSoFar, ...outcome.reported])
      for (const i of reportedSoFar) expect(stored).toContain(i)
      // … and the cells are a gapless prefix of the writing order: nothing half-written, nothing skipped.
      expect(stored).toEqual(Array.from({ length: stored.length }, (_, i) => i))
      expect(stored.length).toBeLessThan(CELLS)
      killed.push({ reported: reportedSoFar.size, stored: stored.length })
    }
    if (process.env.CRASH_VERBOSE) console.log(killed)

    const resumed = await runChild(["write", crashed, String(CELLS)])
    expect(resumed.signal).toBeNull()
    // The resumed child wrote only what was missing.
    expect(resumed.reported[0]).toBe(killed[killed.length - 1].stored)

    const a = SqliteStore.open({ path: reference })
    const b = SqliteStore.open({ path: crashed })
    try {
      const expected = a.cells(crashRun.runId)
      const actual = b.cells(crashRun.runId)
      expect(actual).toHaveLength(CELLS)
      expect(b.finishedCellIds(crashRun.runId).size).toBe(CELLS)
      expect(firstDifference(actual, expected)).toBeUndefined()
      expect(firstDifference(b.listRuns(), a.listRuns())).toBeUndefined()
    } finally {
      a.close()
      b.close()
    }
    expect(integrity(crashed)).toEqual([{ integrity_check: "ok" }])
  })

  it("drops a transaction killed after its pages reached the WAL", async () => {
    const path = join(dir.path, "torn.sqlite")
    const outcome = await runChild(["torn", path])
    expect(outcome.signal).toBe("SIGKILL")
    // The precondition that makes this the worst case: uncommitted frames sit in the WAL.
    expect(existsSync(`${path}-wal`)).toBe(true)
    expect(uncommittedWalFrames(`${path}-wal`)).toBeGreaterThan(100)
    expect(integrity(path)).toEqual([{ integrity_check: "ok" }])
    expect(storedIndices(path)).toEqual([0])
    // The cell that was being written can be written now, once.
    const store = SqliteStore.open({ path })
    try {
      store.putCell(crashCell(1, TRACE_LENGTH))
      expect([...store.finishedCellIds(crashRun.runId)].sort()).toEqual(["cell-0000", "cell-0001"])
    } finally {
      store.close()
    }
  })
})
