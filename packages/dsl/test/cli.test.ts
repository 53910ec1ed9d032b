/**
 * The `descent` CLI end to end, as child processes on the pinned Node (the
 * one running vitest) in a temporary directory: `run` prints the summary and
 * creates the store, a second `run` resumes every cell and changes nothing;
 * `ls`, `show`, `export` and `report` read the run back; `verify` passes on
 * the untouched run and names the cell and the field after one bit of a
 * stored metric is flipped in the SQLite file; invalid experiments fail
 * before anything runs, with the Schema paths; and the crash-safety
 * acceptance: a `run` SIGKILLed after it reported finished cells, then run
 * again, stores exactly the records of an uninterrupted run in a fresh store
 * (wall times excluded) — no loss, no duplicates.
 */
import { spawn } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { fileURLToPath, pathToFileURL } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import * as ExactJson from "../src/ExactJson.ts"
import type { CellRecord } from "../src/Records.ts"
import * as SqliteStore from "../src/SqliteStore.ts"
import { tempDir } from "./storeKit.ts"

const dir = tempDir("cli")
afterAll(dir.remove)

const bin = fileURLToPath(new URL("../bin/descent.ts", import.meta.url))
const dsl = pathToFileURL(fileURLToPath(new URL("../src/index.ts", import.meta.url))).href

interface Result {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs `descent args` in the temp directory (Node ≥ 22.18 runs the .ts
 * entry directly; vitest runs on the pinned Node 24). With `killWhen`, the
 * child is SIGKILLed as soon as its stdout so far satisfies it.
 */
const descent = (args: ReadonlyArray<string>, killWhen?: (stdout: string) => boolean): Promise<Result> =>
  new Promise((resolve, reject) => {
    const env = { ...process.env }
    delete env.DESCENT_STORE
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: dir.path,
      env,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8")
    child.stderr.setEncoding("utf8")
    child.stdout.on("data", (chunk: string) => {
      stdout += chunk
      if (killWhen !== undefined && child.exitCode === null && killWhen(stdout)) child.kill("SIGKILL")
    })
    child.stderr.on("data", (chunk: string) => {
      stderr += chunk
    })
    child.on("error", reject)
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
  })

const at = (name: string): string => join(dir.path, name)

/** The stored cells of the store's only run. */
const storedCells = (
  store: string
): { readonly runId: string; readonly cells: ReadonlyArray<CellRecord> } => {
  const s = SqliteStore.open({ path: store, create: false })
  try {
    const runs = s.listRuns()
    expect(runs).toHaveLength(1)
    return { runId: runs[0]!.runId, cells: s.cells(runs[0]!.runId) }
  } finally {
    s.close()
  }
}

const WALL_TIME = "wallTimeMs"

/** A cell record without what `verify` excludes: wall-clock times. */
const withoutWallTimes = (cell: CellRecord) => {
  const { startedAt: _s, finishedAt: _f, wallTimeMs: _w, metrics, trace, ...rest } = cell
  const { [WALL_TIME]: _m, ...otherMetrics } = metrics
  const { [WALL_TIME]: _t, ...otherValues } = trace.values
  return { ...rest, metrics: otherMetrics, trace: { iteration: trace.iteration, values: otherValues } }
}

/** `x` with the lowest bit of its binary64 representation flipped (one ulp away). */
const flipLowestBit = (x: number): number => {
  const bits = new BigInt64Array(new Float64Array([x]).buffer)
  bits[0] = bits[0]! ^ 1n
  return new Float64Array(bits.buffer)[0]!
}

const experimentFile = (name: string, body: string): string => {
  const file = at(name)
  writeFileSync(file, `import { Evaluators, Experiment, Stopping } from ${JSON.stringify(dsl)}\n\n${body}\n`)
  return file
}

/** 2 problems × 2 solvers × 2 repetitions = 8 cheap cells. */
const MINI_CELLS = 8
const mini = experimentFile(
  "mini.ts",
  `export const experiment = Experiment.make({ name: "cli-mini", seed: 7 }).pipe(
  Experiment.withProblems(
    Experiment.problem("rosenbrock", { dimension: 4, jitter: 0.1 }),
    Experiment.problem("logisticRegression", { samples: 60, features: 5 })
  ),
  Experiment.withSolvers(Experiment.solver("adam", { learningRate: 1e-2 }), Experiment.solver("lbfgs")),
  Experiment.withRepetitions(2),
  Experiment.withEvaluators(Evaluators.suboptimality()),
  Experiment.withStopping(Stopping.anyOf(Stopping.maxIterations(300), Stopping.tolerance("gradientNorm", 1e-8)))
)`
)

const miniStore = at("mini/descent.sqlite")

describe("descent run, ls, show, export, report, verify", () => {
  let first: ReturnType<typeof storedCells>

  it("runs an experiment: progress, summary table, store file", async () => {
    const r = await descent(["run", mini, "--store", miniStore, "--concurrency", "2"])
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`${MINI_CELLS} cells: ${MINI_CELLS} computed, 0 resumed from the store`)
    expect(r.stdout).toMatch(/^problem\s+solver\s+status\s+iterations\s+objective\s+suboptimality\s+time$/m)
    expect(r.stdout).toMatch(/^rosenbrock\s+lbfgs\s+2 converged/m)
    expect(r.stdout).toContain("(medians over repetitions)")
    expect(existsSync(miniStore)).toBe(true)
    first = storedCells(miniStore)
    expect(first.cells).toHaveLength(MINI_CELLS)
    expect(r.stdout).toContain(`run ${first.runId} (cli-mini)`)
  })

  it("resumes: a second run skips every stored cell and changes no record", async () => {
    const r = await descent(["run", mini, "--store", miniStore])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`${MINI_CELLS} cells: 0 computed, ${MINI_CELLS} resumed from the store`)
    expect(storedCells(miniStore)).toEqual(first)
  })

  it("computes the same records in-process (--in-process) as on worker threads (the default)", async () => {
    const store = at("mini-in-process/descent.sqlite")
    const r = await descent(["run", mini, "--store", store, "--in-process"])
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    const inProcess = storedCells(store)
    expect(inProcess.runId).toBe(first.runId)
    expect(inProcess.cells.map(withoutWallTimes)).toEqual(first.cells.map(withoutWallTimes))
  })

  it("ls, show, export and report read the run back", async () => {
    const [ls, show, spec, csv, json, report] = await Promise.all([
      descent(["ls", "--store", miniStore]),
      descent(["show", "cli-mini", "--store", miniStore]),
      descent(["show", first.runId, "--store", miniStore, "--spec"]),
      descent(["export", first.runId.slice(0, 6), "--format", "csv", "--store", miniStore]),
      descent(["export", first.runId, "--format", "json", "--out", "out/mini.json", "--store", miniStore]),
      descent(["report", "cli-mini", "--out", "out/mini.html", "--store", miniStore])
    ])
    for (const r of [ls, show, spec, csv, json, report]) expect(r.code, r.stderr).toBe(0)

    expect(ls.stdout).toMatch(/^run\s+name\s+cells\s+created$/m)
    expect(ls.stdout).toMatch(
      new RegExp(`^${first.runId}\\s+cli-mini\\s+${MINI_CELLS}/${MINI_CELLS}\\s+\\d{4}-`, "m")
    )

    expect(show.stdout).toMatch(new RegExp(`^run\\s+${first.runId}$`, "m"))
    expect(show.stdout).toMatch(new RegExp(`^runtime\\s+.*${process.version.replaceAll(".", "\\.")}$`, "m"))
    expect(show.stdout).toMatch(/^git commit\s+\S+/m)
    expect(show.stdout).toContain(`${MINI_CELLS} of ${MINI_CELLS} stored`)
    expect(show.stdout).toContain("(medians over repetitions)")
    expect(JSON.parse(spec.stdout)).toMatchObject({ name: "cli-mini", seed: 7, repetitions: 2 })

    const lines = csv.stdout.trim().split("\n")
    expect(lines[0]).toMatch(/^run_id,cell_id,problem,/)
    expect(lines).toHaveLength(MINI_CELLS + 1)

    const exported = ExactJson.parse(readFileSync(at("out/mini.json"), "utf8")) as {
      readonly run: { readonly runId: string }
      readonly cells: ReadonlyArray<CellRecord>
    }
    expect(exported.run.runId).toBe(first.runId)
    expect(exported.cells).toEqual(first.cells)

    const html = readFileSync(at("out/mini.html"), "utf8")
    expect(html.startsWith("<!doctype html>")).toBe(true)
    expect(html).toContain(first.runId)
    expect(report.stdout).toContain(`report written to ${at("out/mini.html")}`)
  })

  it("verify passes on the untouched run and names the cell whose stored number was altered", async () => {
    const ok = await descent(["verify", first.runId, "--store", miniStore])
    expect(ok.stderr).toBe("")
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain(`ok: ${MINI_CELLS} cells recomputed bit-identical`)

    // Flip the lowest bit of one stored objective, straight in the SQLite file.
    const target = first.cells.find((c) => Number.isFinite(c.metrics.objective) && c.metrics.objective !== 0)!
    const db = new DatabaseSync(miniStore)
    try {
      const row = db
        .prepare("SELECT record FROM cells WHERE run_id = ? AND cell_id = ?")
        .get(first.runId, target.cellId) as { record: string }
      const record = ExactJson.parse(row.record) as CellRecord
      const altered = {
        ...record,
        metrics: { ...record.metrics, objective: flipLowestBit(record.metrics.objective!) }
      }
      db.prepare("UPDATE cells SET record = ? WHERE run_id = ? AND cell_id = ?").run(
        ExactJson.stringify(altered),
        first.runId,
        target.cellId
      )
    } finally {
      db.close()
    }

    const bad = await descent(["verify", "cli-mini", "--store", miniStore])
    expect(bad.code).toBe(1)
    expect(bad.stdout).toContain(`cell ${target.cellId} (`)
    expect(bad.stdout).toContain(
      `metrics.objective: stored ${flipLowestBit(target.metrics.objective!)}, recomputed ${target.metrics.objective}`
    )
    expect(bad.stdout.match(/ differs:$/gm)).toHaveLength(1)
    expect(bad.stderr.trim().split("\n")).toEqual([
      `descent: verify failed: 1 of ${MINI_CELLS} cells of run ${first.runId} differ from their recomputation (${target.cellId})`
    ])
  })

  it("fails with one line for a missing store or run, without a stack trace", async () => {
    const [noStore, noRun] = await Promise.all([
      descent(["ls", "--store", "missing/descent.sqlite"]),
      descent(["show", "no-such-run", "--store", miniStore])
    ])
    expect(noStore.code).toBe(1)
    expect(noStore.stderr.trim()).toBe(
      `descent: no store at ${at("missing/descent.sqlite")} (run an experiment with \`descent run\` first, or pass --store)`
    )
    expect(existsSync(at("missing"))).toBe(false)
    expect(noRun.code).toBe(1)
    expect(noRun.stderr.trim().split("\n")).toHaveLength(1)
    expect(noRun.stderr).toContain('no run "no-such-run"')
  })
})

describe("invalid experiments", () => {
  it("fail before running, with each Schema issue at its path", async () => {
    const options = experimentFile(
      "bad-options.ts",
      `export const experiment = Experiment.make({ name: "bad" }).pipe(
  Experiment.withProblems(Experiment.problem("rosenbrock", { dimension: 4 })),
  Experiment.withSolvers(Experiment.solver("adamm", { learningRate: 1e-2 }), Experiment.solver("sgd", { learningRate: "fast" }))
)`
    )
    const budget = experimentFile(
      "bad-budget.ts",
      `export const experiment = Experiment.make({ name: "bad" }).pipe(
  Experiment.withProblems(Experiment.problem("rosenbrock", { dimension: 4 })),
  Experiment.withSolvers(Experiment.solver("adam", { learningRate: 1e-2 })),
  Experiment.withStopping(Stopping.maxIterations(-5))
)`
    )
    const noExport = experimentFile("no-export.ts", "export const other = Experiment.make({ name: 'x' })")
    const [a, b, c] = await Promise.all(
      [options, budget, noExport].map((file) => descent(["run", file, "--store", "bad/descent.sqlite"]))
    )
    for (const r of [a, b, c]) {
      expect(r.code).toBe(1)
      expect(r.stdout).toBe("")
      expect(r.stderr).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m) // no stack trace
    }
    expect(a.stderr).toContain(`descent: invalid experiment in ${options} (2 issues):`)
    expect(a.stderr).toMatch(/^ {2}\["solvers"\]\[0\]\["name"\]: unknown solver "adamm"/m)
    expect(a.stderr).toMatch(/^ {2}\["solvers"\]\[1\]\["options"\]\["learningRate"\]: \S/m)
    expect(b.stderr).toContain(`descent: invalid experiment in ${budget} (1 issue):`)
    expect(b.stderr).toMatch(/^ {2}\["stopping"\]\["iterations"\]: \S/m)
    expect(c.stderr.trim()).toBe(
      `descent: ${noExport} exports no experiment: export it as \`experiment\` (or as the default export); found other`
    )
    expect(existsSync(at("bad"))).toBe(false)
  })
})

describe("crash safety", () => {
  /** One logistic regression, 5 first-order solvers × 4 repetitions: 20 cells of ≈ 0.1 s each. */
  const CRASH_CELLS = 20
  const crash = experimentFile(
    "crash.ts",
    `export const experiment = Experiment.make({ name: "cli-crash", seed: 11 }).pipe(
  Experiment.withProblems(Experiment.problem("logisticRegression", { samples: 1000, features: 40 })),
  Experiment.withSolvers(
    Experiment.solver("sgd").pipe(Experiment.withGrid({ learningRate: [1e-3, 3e-3, 1e-2] })),
    Experiment.solver("momentum", { learningRate: 1e-3 }),
    Experiment.solver("adam", { learningRate: 1e-3 })
  ),
  Experiment.withRepetitions(4),
  Experiment.withStopping(Stopping.maxIterations(2000))
)`
  )
  const progress = /^cells (\d+)\/(\d+)/gm

  /** The largest "cells done/total" count printed so far with 0 < done < total. */
  const reportedDone = (stdout: string): number => {
    let best = 0
    for (const m of stdout.matchAll(progress)) {
      const done = Number(m[1])
      if (done < Number(m[2])) best = Math.max(best, done)
    }
    return best
  }

  it("a run SIGKILLed mid-run and run again stores exactly an uninterrupted run's records", async () => {
    const killedStore = at("crash/killed.sqlite")
    const freshStore = at("crash/fresh.sqlite")
    const [reference, [killed, resumed]] = await Promise.all([
      descent(["run", crash, "--store", freshStore]),
      (async () => {
        const k = await descent(["run", crash, "--store", killedStore], (out) => reportedDone(out) > 0)
        const r = await descent(["run", crash, "--store", killedStore])
        return [k, r] as const
      })()
    ])
    expect(killed.signal).toBe("SIGKILL")
    const done = reportedDone(killed.stdout)
    expect(done).toBeGreaterThan(0)
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(reference.code, reference.stderr).toBe(0)

    // The resumed run skipped what the killed one stored (at least every cell it reported) and computed the rest.
    const match = /^(\d+) cells: (\d+) computed, (\d+) resumed from the store$/m.exec(resumed.stdout)
    expect(match).not.toBeNull()
    const [, total, computed, skipped] = match!.map(Number)
    expect(total).toBe(CRASH_CELLS)
    expect(skipped).toBeGreaterThanOrEqual(done)
    expect(skipped).toBeLessThan(CRASH_CELLS)
    expect(computed).toBe(CRASH_CELLS - skipped!)

    const a = storedCells(killedStore)
    const b = storedCells(freshStore)
    expect(a.runId).toBe(b.runId)
    expect(a.cells).toHaveLength(CRASH_CELLS)
    expect(new Set(a.cells.map((c) => c.cellId)).size).toBe(CRASH_CELLS)
    expect(a.cells.map(withoutWallTimes)).toEqual(b.cells.map(withoutWallTimes))
    const db = new DatabaseSync(killedStore)
    try {
      expect(db.prepare("SELECT count(*) AS n FROM cells").get()).toEqual({ n: CRASH_CELLS })
      expect(db.prepare("PRAGMA integrity_check").all()).toEqual([{ integrity_check: "ok" }])
    } finally {
      db.close()
    }
  })
})
