import { execFileSync } from "node:child_process"
import { describe, expect, it } from "vitest"
import { oracleCallsAxis, wallTimeAxis } from "../src/Aggregate.ts"
import { convergenceChart, performanceProfileChart } from "../src/Charts.ts"
import { chartsElementId, inlinedLibraries, type ReportChart, report } from "../src/Report.ts"
import { cell, syntheticRun } from "./reportCells.ts"

const { run, cells } = syntheticRun()

const chartsOf = (html: string): ReadonlyArray<ReportChart> => {
  const match = html.match(
    new RegExp(`<script type="application/json" id="${chartsElementId}">(.*?)</script>`, "s")
  )
  expect(match).not.toBeNull()
  return JSON.parse(match![1]) as ReadonlyArray<ReportChart>
}

/** Debian's chromium, when installed (`apt-get install chromium`); the browser test is skipped otherwise. */
const chromium = (() => {
  try {
    return execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim() || undefined
  } catch {
    return undefined
  }
})()

describe("report", () => {
  const html = report(run, cells)

  it("is one HTML document with the charts' specs, as the chart functions make them", () => {
    expect(html.startsWith("<!doctype html>")).toBe(true)
    const charts = chartsOf(html)
    // 3 metrics × 3 axes of convergence curves, then profiles in iterations and in wall time.
    expect(charts).toHaveLength(11)
    expect(charts[0].spec).toEqual(
      JSON.parse(JSON.stringify(convergenceChart(cells, { metric: "suboptimality" })))
    )
    expect(charts[2].spec).toEqual(
      JSON.parse(JSON.stringify(convergenceChart(cells, { metric: "suboptimality", xAxis: oracleCallsAxis })))
    )
    expect(charts[10].spec).toEqual(
      JSON.parse(JSON.stringify(performanceProfileChart(cells, { cost: wallTimeAxis })))
    )
    for (const chart of charts) expect(html).toContain(`<div class="chart" id="${chart.id}"></div>`)
  })

  it("inlines Vega, Vega-Lite and vega-embed and loads nothing from the network", () => {
    const libraries = inlinedLibraries()
    expect(libraries.map((l) => `${l.name}@${l.version}`)).toEqual([
      "vega@6.4.0",
      "vega-lite@6.5.0",
      "vega-embed@7.3.0"
    ])
    for (const l of libraries) {
      expect(l.code.length).toBeGreaterThan(50_000)
      expect(html).toContain(`<script data-library="${l.name}@${l.version}">${l.code}</script>`)
      expect(l.code).not.toMatch(/sourceMappingURL/)
    }
    expect(html).not.toMatch(/<script[^>]*\bsrc\s*=/i)
    expect(html).not.toMatch(/<link[^>]*\bhref\s*=/i)
    expect(html).not.toMatch(/<(img|iframe)[^>]*\bsrc\s*=\s*["']?https?:/i)
    expect(html).not.toMatch(/@import|url\(\s*["']?https?:/i)
  })

  it("has the final-metrics table, the provenance and the experiment spec, escaped", () => {
    expect(html).toContain("<th>problem</th><th>solver</th>")
    expect(html).toContain("<td>rosenbrock</td><td>lbfgs</td>")
    expect(html).toContain("<dt>git commit</dt><dd>abc123</dd>")
    expect(html).toContain("<dt>cells stored</dt><dd>18 of 18</dd>")
    expect(html).toContain("<td>@descent/core</td><td>0.1.0</td>")
    // The run's name "optimizers <smoke> & co" appears only escaped.
    expect(html).toContain("<h1>optimizers &lt;smoke&gt; &amp; co</h1>")
    expect(html).not.toContain("<smoke>")
    const spec = html.match(/<pre id="experiment-spec">(.*?)<\/pre>/s)![1]
    const unescaped = spec
      .replaceAll("&quot;", '"')
      .replaceAll("&lt;", "<")
      .replaceAll("&gt;", ">")
      .replaceAll("&amp;", "&")
    expect(JSON.parse(unescaped)).toEqual(JSON.parse(run.spec))
  })

  it("skips what the cells do not trace, says so, and marks a partial run", () => {
    const plain = [cell({ iterations: 2, trace: { iteration: [0, 1, 2], values: { objective: [3, 2, 1] } } })]
    const partial = report({ ...run, cellCount: 4 }, plain, { title: "only objective" })
    const charts = chartsOf(partial)
    expect(charts).toHaveLength(1) // objective vs iterations
    expect(partial).toContain("No performance profile: no cell traces suboptimality")
    expect(partial).toContain("Partial run: 1 of 4 cells are stored.")
    expect(partial).toContain("<title>only objective — descent report</title>")
    const empty = report(run, [])
    expect(chartsOf(empty)).toEqual([])
    expect(empty).toContain("No convergence curves")
  })

  it("keeps script data from closing its element", () => {
    const sneaky = syntheticRun().cells.map((c) => ({ ...c, solver: { ...c.solver, name: "</script><b>x" } }))
    const out = report(run, sneaky)
    expect(chartsOf(out).length).toBe(11)
    expect(out).not.toContain("</script><b>")
  })

  it.skipIf(chromium === undefined)(
    "renders in headless Chromium without console errors or network requests",
    async () => {
      const { chromium: launcher } = await import("playwright-core")
      const browser = await launcher.launch({
        executablePath: chromium!,
        args: ["--headless", "--no-sandbox", "--disable-gpu"]
      })
      try {
        const page = await browser.newPage()
        const problems: Array<string> = []
        const requests: Array<string> = []
        page.on("console", (m) => {
          if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`)
        })
        page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`))
        await page.route("**/*", (route) => {
          requests.push(route.request().url())
          return route.abort()
        })
        await page.setContent(html)
        await page.waitForFunction(() => document.body.dataset.rendered !== undefined, undefined, {
          timeout: 20_000
        })
        expect(problems).toEqual([])
        expect(requests).toEqual([])
        expect(await page.evaluate(() => document.body.dataset.failed)).toBe("0")
        expect(await page.evaluate(() => document.body.dataset.rendered)).toBe("11")
        // Every chart element holds a drawn SVG with marks.
        const drawn = await page.$$eval(".chart", (elements) =>
          elements.map((e) => e.querySelectorAll("svg path, svg line").length)
        )
        expect(drawn).toHaveLength(11)
        for (const marks of drawn) expect(marks).toBeGreaterThan(10)
      } finally {
        await browser.close()
      }
    },
    60_000
  )
})
