import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { CellRecord, RunRecord } from "../src/Records.ts"

const cell = {
  runId: "r",
  cellId: "c",
  problem: { name: "rosenbrock", parameters: { dimension: 2 } },
  solver: { name: "adam", options: { learningRate: 0.01 } },
  repetition: 0,
  key: [1, 2] as const,
  status: "diverged" as const,
  message: "objective became NaN",
  iterations: 7,
  metrics: { objective: Number.NaN, gradientNorm: Number.POSITIVE_INFINITY },
  trace: { iteration: [0, 7], values: { objective: [1, Number.NaN] } },
  startedAt: "2026-11-22T09:00:00.000Z",
  finishedAt: "2026-11-22T09:00:01.000Z",
  wallTimeMs: 1000
}

describe("Records", () => {
  it("decode a cell with non-finite metrics and reject an unknown status naming the field", () => {
    const decoded = Schema.decodeUnknownSync(CellRecord)(cell)
    expect(Number.isNaN(decoded.metrics.objective!)).toBe(true)
    expect(() => Schema.decodeUnknownSync(CellRecord)({ ...cell, status: "exploded" })).toThrow(/status/)
  })

  it("reject a run record without its provenance", () => {
    expect(() =>
      Schema.decodeUnknownSync(RunRecord)({
        runId: "r",
        name: "n",
        specHash: "h",
        spec: "{}",
        cellCount: 1,
        createdAt: "x"
      })
    ).toThrow(/provenance/)
  })
})
