import fc from "fast-check"
import * as vega from "vega"
import * as vegaLite from "vega-lite"
import { describe, expect, it } from "vitest"
import {
  convergence,
  iterationAxis,
  MetricNotFound,
  oracleCallsAxis,
  wallTimeAxis
} from "../src/Aggregate.ts"
import { type ChartSpec, convergenceChart, performanceProfileChart, profileSpec } from "../src/Charts.ts"
import { performanceProfile } from "../src/PerformanceProfile.ts"
import { cell, syntheticRun } from "./reportCells.ts"

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */
const FC = { seed: 20_261_122, numRuns: 10 } as const

/** Compiles a spec with Vega-Lite, collecting its warnings, and draws it as SVG with Vega (no browser). */
const render = async (
  spec: ChartSpec
): Promise<{ readonly svg: string; readonly warnings: ReadonlyArray<string> }> => {
  const warnings: Array<string> = []
  const logger = {
    level: () => logger,
    error: (...args: ReadonlyArray<unknown>) => {
      warnings.push(args.join(" "))
      return logger
    },
    warn: (...args: ReadonlyArray<unknown>) => {
      warnings.push(args.join(" "))
      return logger
    },
    info: () => logger,
    debug: () => logger
  }
  // biome-ignore lint/suspicious/noExplicitAny: Vega-Lite's LoggerInterface has overloads a literal cannot express.
  const compiled = vegaLite.compile(spec, { logger: logger as any }).spec
  const view = new vega.View(vega.parse(compiled), { renderer: "none" })
  const svg = await view.toSVG()
  view.finalize()
  return { svg, warnings }
}

// biome-ignore lint/suspicious/noExplicitAny: the tests read nested fields of Vega-Lite's spec union.
type Loose = any

const dataOf = (spec: ChartSpec): ReadonlyArray<Record<string, unknown>> =>
  (spec as { data: { values: ReadonlyArray<Record<string, unknown>> } }).data.values

describe("convergenceChart", () => {
  const { cells } = syntheticRun()

  it("is a plain JSON value with the aggregated data inline", () => {
    const spec = convergenceChart(cells, { metric: "suboptimality" })
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec)
    const c = convergence(cells, { metric: "suboptimality" })
    const rows = dataOf(spec)
    expect(rows.length).toBe(c.series.reduce((n, s) => n + s.points.length, 0))
    expect(rows[0]).toEqual({
      problem: c.series[0].problem,
      solver: c.series[0].solver,
      ...c.series[0].points[0]
    })
    for (const row of rows)
      for (const v of Object.values(row)) if (typeof v === "number") expect(v).toSatisfy(Number.isFinite)
  })

  it("facets by problem, colors by solver with the run's solver domain, log scales for a positive metric", () => {
    const spec = convergenceChart(cells, { metric: "gradientNorm", xAxis: oracleCallsAxis }) as Loose
    expect(spec.facet).toMatchObject({ field: "problem", sort: ["logistic", "rosenbrock"] })
    const [band, line] = spec.spec.layer
    expect(band.mark.type).toBe("area")
    expect(band.encoding.y.field).toBe("lower")
    expect(band.encoding.y2.field).toBe("upper")
    expect(line.encoding.y.field).toBe("median")
    expect(line.encoding.color.scale.domain).toEqual(["adam", "gd", "lbfgs"])
    expect(line.encoding.x.scale).toEqual({ type: "symlog", constant: 1 })
    expect(line.encoding.x.title).toBe(oracleCallsAxis.title)
    expect(line.encoding.y.scale).toEqual({ type: "log" })
    expect(spec.title.text).toBe("gradientNorm vs oracle calls")
  })

  it("compiles with Vega-Lite without warnings and draws one line and one band per solver and problem", async () => {
    for (const [metric, xAxis] of [
      ["suboptimality", iterationAxis],
      ["objective", wallTimeAxis]
    ] as const) {
      const { svg, warnings } = await render(convergenceChart(cells, { metric, xAxis, band: "quartiles" }))
      expect(warnings).toEqual([])
      // 2 problems × 3 solvers.
      expect(svg.match(/aria-roledescription="line mark"/g)?.length).toBe(6)
      expect(svg.match(/aria-roledescription="area mark"/g)?.length).toBe(6)
      expect(svg).toContain("rosenbrock")
      expect(svg).toContain("lbfgs")
    }
  })

  it("uses a linear y axis for a metric with negative values", () => {
    const signed = [cell({ trace: { iteration: [0, 1, 2], values: { objective: [1, -1, -2] } } })]
    const spec = convergenceChart(signed) as Loose
    expect(spec.spec.layer[1].encoding.y.scale.type).toBe("linear")
  })

  it("does not depend on the order of the cells", () => {
    const reference = JSON.stringify(convergenceChart(cells, { metric: "objective" }))
    fc.assert(
      fc.property(
        fc.shuffledSubarray([...cells], { minLength: cells.length, maxLength: cells.length }),
        (shuffled) => {
          expect(JSON.stringify(convergenceChart(shuffled, { metric: "objective" }))).toBe(reference)
        }
      ),
      FC
    )
  })

  it("fails with MetricNotFound for a metric no cell traces", () => {
    expect(() => convergenceChart(cells, { metric: "stateSize" })).toThrow(MetricNotFound)
  })
})

describe("performanceProfileChart", () => {
  const { cells } = syntheticRun()

  it("draws step lines on a log2 τ axis from 1 to τmax", async () => {
    const spec = performanceProfileChart(cells, { threshold: 1e-6, cost: wallTimeAxis }) as Loose
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec)
    expect(spec.mark).toMatchObject({ type: "line", interpolate: "step-after" })
    expect(spec.encoding.x.scale.type).toBe("log")
    expect(spec.encoding.x.scale.base).toBe(2)
    expect(spec.encoding.x.scale.domain[0]).toBe(1)
    expect(spec.encoding.y.scale.domain).toEqual([0, 1])
    expect(spec.title.subtitle[0]).toBe(
      "cost: wall time (ms) to reach suboptimality ≤ 1e-6 (median over repetitions)"
    )
    const { svg, warnings } = await render(spec as ChartSpec)
    expect(warnings).toEqual([])
    expect(svg.match(/aria-roledescription="line mark"/g)?.length).toBe(3)
  })

  it("carries the profile's points as data", () => {
    const profile = performanceProfile({
      problems: ["A", "B"],
      solvers: ["x", "y"],
      costs: [
        [1, 2],
        [4, Infinity]
      ]
    })
    const spec = profileSpec(profile, { title: "custom" }) as Loose
    expect(spec.title.text).toBe("custom")
    expect(spec.data.values).toEqual([
      { solver: "x", tau: 1, rho: 1 },
      { solver: "x", tau: 4, rho: 1 },
      { solver: "y", tau: 1, rho: 0 },
      { solver: "y", tau: 2, rho: 0.5 },
      { solver: "y", tau: 4, rho: 0.5 }
    ])
  })
})
