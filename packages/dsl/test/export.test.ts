/**
 * Export: CSV with one row per cell (identity, status, iterations, one column
 * per final metric, wall time), numbers that parse back to the same double,
 * RFC 4180 quoting; JSON that reads back to identical records; `exportRun`
 * through the Store service.
 */
import { Effect, Layer } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as ExactJson from "../src/ExactJson.ts"
import * as Export from "../src/Export.ts"
import * as MemoryStore from "../src/MemoryStore.ts"
import { Store } from "../src/Store.ts"
import * as SyncStore from "../src/SyncStore.ts"
import { firstDifference, PROPERTY_SEED, sampleCell, sampleRun } from "./storeKit.ts"

/** A minimal RFC 4180 reader, to check what the writer quoted. */
const readCsv = (text: string, separator = ","): Array<Array<string>> => {
  const rows: Array<Array<string>> = []
  let row: Array<string> = []
  let field = ""
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === separator) {
      row.push(field)
      field = ""
    } else if (c === "\n") {
      row.push(field)
      rows.push(row)
      row = []
      field = ""
    } else field += c
  }
  return rows
}

const cells = [
  sampleCell("r", "c-lbfgs", {
    solver: { name: "lbfgs", options: { memory: 10 } },
    status: "converged",
    message: 'done, "cleanly"\nsecond line',
    iterations: 42,
    metrics: { objective: 0.125, gradientNorm: 1e-9, oracleCalls: 50 },
    wallTimeMs: 12.5
  }),
  sampleCell("r", "c-adam-1", { repetition: 1 }),
  sampleCell("r", "c-adam-0", {
    problem: { name: "rosenbrock", parameters: { dimension: 10, condition: Number.POSITIVE_INFINITY } },
    repetition: 0
  })
]

describe("Export.toCsv", () => {
  it("writes one row per cell: identity, parameters, status, iterations, each metric, wall time", () => {
    const csv = Export.toCsv(cells)
    expect(csv.endsWith("\n")).toBe(true)
    const rows = readCsv(csv)
    expect(rows[0]).toEqual([
      "run_id",
      "cell_id",
      "problem",
      "problem.dimension",
      "problem.condition",
      "solver",
      "solver_options",
      "repetition",
      "status",
      "iterations",
      "metric.objective",
      "metric.gradientNorm",
      "metric.best",
      "metric.lower",
      "metric.oracleCalls",
      "wall_time_ms",
      "started_at",
      "finished_at",
      "message"
    ])
    // Ordered by problem, parameters, solver, options, repetition.
    expect(rows.slice(1).map((r) => r[1])).toEqual(["c-adam-0", "c-adam-1", "c-lbfgs"])
    expect(rows[1]).toEqual([
      "r",
      "c-adam-0",
      "rosenbrock",
      "10",
      "Inf",
      "adam",
      '{"learningRate":0.001,"schedule":{"name":"cosine","floor":{"$v":"-0"}}}',
      "0",
      "diverged",
      "17",
      "NaN",
      "Inf",
      "-0",
      "-Inf",
      "",
      "1500.25",
      "2026-11-22T10:00:00.000Z",
      "2026-11-22T10:00:01.500Z",
      "objective is NaN"
    ])
    expect(rows[3].slice(9, 16)).toEqual(["42", "0.125", "1e-9", "", "", "50", "12.5"])
    expect(rows[3][18]).toBe('done, "cleanly"\nsecond line')
    expect(csv).toContain('"done, ""cleanly""\nsecond line"')
  })

  it("writes only the header for no cells", () => {
    expect(Export.toCsv([])).toBe(
      "run_id,cell_id,problem,solver,solver_options,repetition,status,iterations,wall_time_ms,started_at,finished_at,message\n"
    )
  })

  it("honours the separator, line ending and non-finite spellings", () => {
    const csv = Export.toCsv([cells[1]], {
      separator: ";",
      lineEnding: "\r\n",
      nan: "",
      positiveInfinity: "inf",
      negativeInfinity: "-inf"
    })
    const lines = csv.split("\r\n")
    expect(lines).toHaveLength(3)
    expect(lines[2]).toBe("")
    const row = readCsv(lines[1].concat("\n"), ";")[0]
    expect(row.slice(10, 14)).toEqual(["", "inf", "-0", "-inf"])
  })

  it("writes numbers that parse back to the same double, 1000 runs", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const csv = Export.toCsv([sampleCell("r", "c", { metrics: { x } })])
        const field = readCsv(csv)[1][10]
        expect(Object.is(Number(field), x)).toBe(true)
      }),
      { seed: PROPERTY_SEED, numRuns: 1000 }
    )
  })
})

describe("Export.toJson", () => {
  it("writes the run and its cells as exact JSON that reads back identical", () => {
    const text = Export.toJson(sampleRun("r"), cells)
    expect(text).toMatch(/"objective": \{\s*"\$v": "NaN"\s*\}/)
    expect(firstDifference(ExactJson.parse(text), { run: sampleRun("r"), cells })).toBeUndefined()
    expect(Export.toJson(sampleRun("r"), [], { indent: 0 })).not.toContain("\n  ")
  })
})

describe("Export.exportRun", () => {
  const withStore = () => {
    const store = MemoryStore.make()
    store.openRun(sampleRun("r"))
    for (const cell of cells) store.putCell(cell)
    return { store, layer: Layer.succeed(Store, SyncStore.toService(store)) }
  }

  it("exports a stored run as CSV (the default) or JSON", async () => {
    const { store, layer } = withStore()
    const csv = await Effect.runPromise(Effect.provide(Export.exportRun("r"), layer))
    expect(csv).toBe(Export.toCsv(store.cells("r")))
    const json = await Effect.runPromise(Effect.provide(Export.exportRun("r", { format: "json" }), layer))
    expect(
      firstDifference(ExactJson.parse(json), { run: sampleRun("r"), cells: store.cells("r") })
    ).toBeUndefined()
  })

  it("fails with kind 'missing' for an unknown run", async () => {
    const { layer } = withStore()
    const error = await Effect.runPromise(Effect.flip(Effect.provide(Export.exportRun("nope"), layer)))
    expect(error.kind).toBe("missing")
  })

  it("accepts only the two formats", () => {
    expect(Export.Format.literals).toEqual(["csv", "json"])
  })
})
