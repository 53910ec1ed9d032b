/**
 * The child process of the crash-safety tests (`store-crash.test.ts`), and
 * the deterministic cells both sides agree on.
 *
 * `node store-crash-child.ts write <file> <count>` opens the SQLite store,
 * opens the run, skips the cells already stored (a resumed run) and writes
 * the others in order, printing `stored <index>` after each `putCell`
 * returns — so every printed cell is committed. The parent SIGKILLs it at
 * some point.
 *
 * `node store-crash-child.ts torn <file>` stores cell 0, then starts writing
 * a large cell through a raw connection with a one-page cache (so SQLite
 * spills uncommitted pages into the WAL before the commit) and SIGKILLs
 * itself before committing: the worst moment to die.
 */
import { writeSync } from "node:fs"
import { DatabaseSync } from "node:sqlite"
import * as ExactJson from "../src/ExactJson.ts"
import type { CellRecord, RunRecord } from "../src/Records.ts"
import * as SqliteStore from "../src/SqliteStore.ts"

/** The run every crash test writes. */
export const crashRun: RunRecord = {
  runId: "crash-run",
  name: "crash safety",
  specHash: "0123456789abcdef",
  spec: '{"name":"crash safety"}',
  cellCount: 1000,
  provenance: {
    packages: { "@descent/dsl": "0.1.0" },
    runtime: "v24",
    platform: "linux-x64",
    backend: "typescript",
    gitCommit: null
  },
  createdAt: "2026-11-22T00:00:00.000Z"
}

/** A deterministic pseudo-random value in [0, 1) from an index (no Math.random: both processes must agree). */
const hash01 = (i: number, j: number): number => {
  let h = Math.imul(i + 0x9e3779b9, 0x85ebca6b) ^ Math.imul(j + 0xc2b2ae35, 0x27d4eb2f)
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d)
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39)
  return ((h ^ (h >>> 15)) >>> 0) / 4294967296
}

/**
 * Cell `index` of the crash run: a trace of `traceLength` samples of four
 * metrics (≈ 80 bytes of JSON per sample), with NaN, ±∞ and −0 sprinkled in.
 */
export const crashCell = (index: number, traceLength: number): CellRecord => {
  const iteration = Array.from({ length: traceLength }, (_, k) => k * 3)
  const metric = (j: number) =>
    Array.from({ length: traceLength }, (_, k) => {
      const u = hash01(index * 7919 + k, j)
      return u < 0.01
        ? Number.NaN
        : u < 0.02
          ? -0
          : u < 0.025
            ? Number.POSITIVE_INFINITY
            : (u - 0.5) * 10 ** (j * 3)
    })
  return {
    runId: crashRun.runId,
    cellId: `cell-${String(index).padStart(4, "0")}`,
    problem: {
      name: "logistic",
      parameters: { n: 100 + index, condition: index % 2 === 0 ? 10 : Number.POSITIVE_INFINITY }
    },
    solver: { name: index % 3 === 0 ? "adam" : "lbfgs", options: { learningRate: hash01(index, 99) } },
    repetition: index % 3,
    key: [(index * 2654435761) >>> 0, (index * 40503) >>> 0],
    status: index % 5 === 0 ? "diverged" : "converged",
    message: `cell ${index}`,
    iterations: traceLength * 3,
    metrics: {
      objective: index % 5 === 0 ? Number.NaN : hash01(index, 1),
      gradientNorm: index % 7 === 0 ? Number.NEGATIVE_INFINITY : hash01(index, 2),
      best: -0
    },
    trace: {
      iteration,
      values: { objective: metric(0), gradientNorm: metric(1), step: metric(2), time: metric(3) }
    },
    startedAt: "2026-11-22T00:00:00.000Z",
    finishedAt: "2026-11-22T00:00:01.000Z",
    wallTimeMs: 1000 + index
  }
}

const say = (line: string): void => {
  // Synchronous, so a line is on the pipe before the next cell starts.
  writeSync(1, `${line}\n`)
}

const write = (path: string, count: number, traceLength: number): void => {
  const store = SqliteStore.open({ path })
  store.openRun(crashRun)
  const done = store.finishedCellIds(crashRun.runId)
  for (let i = 0; i < count; i++) {
    const cell = crashCell(i, traceLength)
    if (done.has(cell.cellId)) continue
    store.putCell(cell)
    say(`stored ${i}`)
  }
  store.close()
  say("done")
}

const torn = (path: string, traceLength: number): void => {
  const store = SqliteStore.open({ path })
  store.openRun(crashRun)
  store.putCell(crashCell(0, traceLength))
  const db = new DatabaseSync(path)
  db.exec("PRAGMA cache_size = 1")
  const big = crashCell(1, traceLength * 20)
  db.exec("BEGIN IMMEDIATE")
  db.prepare(
    "INSERT INTO cells (run_id, cell_id, status, problem_name, solver_name, repetition, record) VALUES (?, ?, ?, ?, ?, ?, ?)"
  ).run(
    big.runId,
    big.cellId,
    big.status,
    big.problem.name,
    big.solver.name,
    big.repetition,
    ExactJson.stringify(big)
  )
  say("inserted, not committed")
  process.kill(process.pid, "SIGKILL")
}

if (import.meta.main) {
  const [mode, path, count] = process.argv.slice(2)
  const traceLength = Number(process.env.CRASH_TRACE_LENGTH ?? "1000")
  if (mode === "write") write(path, Number(count), traceLength)
  else if (mode === "torn") torn(path, traceLength)
  else throw new Error(`unknown mode ${mode}`)
}
