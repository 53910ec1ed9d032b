import { Errors } from "@descent/core"
import { describe, expect, it } from "vitest"
import { metricsTable, stats } from "../src/MetricsTable.ts"
import { summaryTable } from "../src/Summary.ts"
import { cell, syntheticRun } from "./reportCells.ts"

/**
 * quadratic × gd: 3 repetitions (2 converged, 1 at the iteration budget);
 * quadratic × newton: 1 converged; rosenbrock × gd: 1 diverged (objective ∞, no suboptimality).
 */
const cells = [
  cell({
    solver: "gd",
    repetition: 0,
    iterations: 10,
    metrics: { objective: 1e-9, suboptimality: 1e-9 },
    wallTimeMs: 3
  }),
  cell({
    solver: "gd",
    repetition: 1,
    iterations: 12,
    metrics: { objective: 2e-9, suboptimality: 2e-9 },
    wallTimeMs: 5
  }),
  cell({
    solver: "gd",
    repetition: 2,
    status: "maxIterations",
    iterations: 100,
    metrics: { objective: 0.5, suboptimality: 0.5 },
    wallTimeMs: 40
  }),
  cell({ solver: "newton", iterations: 3, metrics: { objective: 0, suboptimality: 0 }, wallTimeMs: 1500 }),
  cell({
    problem: "rosenbrock",
    parameters: { dimension: 2 },
    solver: "gd",
    status: "diverged",
    iterations: 7,
    metrics: { objective: Infinity, gradientNorm: Number.NaN },
    wallTimeMs: 0.25
  })
]

describe("metricsTable", () => {
  it("has one row per (problem, solver) with status counts and medians over repetitions", () => {
    const table = metricsTable(cells)
    // Every final metric, the leading ones first.
    expect(table.metrics).toEqual(["objective", "suboptimality", "gradientNorm"])
    expect(table.rows.map((r) => `${r.problem}/${r.solver}`)).toEqual([
      "quadratic/gd",
      "quadratic/newton",
      "rosenbrock/gd"
    ])
    const [gd] = table.rows
    expect(gd.cells).toBe(3)
    expect(gd.statuses).toEqual([
      { status: "converged", count: 2 },
      { status: "maxIterations", count: 1 }
    ])
    expect(gd.iterations).toEqual({ median: 12, min: 10, max: 100, count: 3 })
    expect(gd.metrics.objective).toEqual({ median: 2e-9, min: 1e-9, max: 0.5, count: 3 })
    expect(gd.metrics.gradientNorm.count).toBe(0)
    expect(table.rows[2].metrics.objective.median).toBe(Infinity)
  })

  it("keeps the requested metrics that some cell has, in the requested order", () => {
    expect(metricsTable(cells, { metrics: ["suboptimality", "unknown", "objective"] }).metrics).toEqual([
      "suboptimality",
      "objective"
    ])
  })

  it("stats ignore NaN and missing values", () => {
    expect(stats([3, Number.NaN, undefined, 1])).toEqual({ median: 2, min: 1, max: 3, count: 2 })
    expect(stats([])).toMatchObject({ count: 0 })
    expect(stats([]).median).toBeNaN()
  })
})

describe("summaryTable", () => {
  it("prints fixed-width columns: text left-aligned, numbers right-aligned", () => {
    expect(summaryTable(cells).split("\n")).toEqual([
      "problem     solver  status                        iterations  objective  suboptimality     time",
      "----------  ------  ----------------------------  ----------  ---------  -------------  -------",
      "quadratic   gd      2 converged, 1 maxIterations          12       2e-9           2e-9     5 ms",
      "quadratic   newton  1 converged                            3          0              0    1.5 s",
      "rosenbrock  gd      1 diverged                             7        inf              —  0.25 ms",
      "(medians over repetitions)"
    ])
  })

  it("aligns every row of a larger run to the header's columns", () => {
    const lines = summaryTable(syntheticRun().cells, { metrics: ["suboptimality"], gap: 3 }).split("\n")
    expect(lines).toHaveLength(2 + 6 + 1)
    const rule = lines[1]
    // Column boundaries of the rule: every row has a space (or ends) where the rule has its gaps.
    const gaps = [...rule].flatMap((ch, i) => (ch === " " ? [i] : []))
    for (const line of lines.slice(2, -1)) {
      expect(line.length).toBe(rule.length) // the last column is right-aligned: no trailing space to trim
      for (const i of gaps) expect(line[i]).toBe(" ")
    }
    expect(lines[0].split(/\s{3,}/)).toEqual([
      "problem",
      "solver",
      "status",
      "iterations",
      "suboptimality",
      "time"
    ])
  })

  it("cuts long labels and validates its options", () => {
    const long = [cell({ problem: "a-problem-with-a-very-long-name", metrics: { objective: 1 } })]
    expect(summaryTable(long, { maxLabelWidth: 10 }).split("\n")[2].startsWith("a-problem…  gd")).toBe(true)
    expect(() => summaryTable(long, { maxLabelWidth: 2 })).toThrow(Errors.InvalidOptions)
    expect(() => summaryTable(long, { gap: 0 })).toThrow(Errors.InvalidOptions)
    expect(summaryTable([])).toBe("no cells")
  })
})
