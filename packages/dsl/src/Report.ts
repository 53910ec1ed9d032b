/**
 * The HTML report of a run (`descent report <run> --out report.html`): one
 * self-contained file — nothing is fetched when it is viewed, so it can be
 * mailed, archived with a paper or opened offline — with
 *
 * - convergence curves of the chosen metrics against iterations, wall time
 *   and oracle calls (median and spread over repetitions, one panel per
 *   problem instance; `Charts.convergenceChart`),
 * - Dolan–Moré performance profiles (`Charts.performanceProfileChart`),
 * - the final-metrics table (`MetricsTable`),
 * - the run's provenance and the experiment spec it ran.
 *
 * The charts are Vega-Lite specs drawn in the browser by Vega, Vega-Lite and
 * vega-embed — the packages' minified browser bundles, read from
 * `node_modules` when the report is written and inlined in `<script>`
 * elements (about 0.85 MB). The specs sit in a `<script
 * type="application/json">` element, so they can be read back from the file.
 *
 * `report` runs on Node (it reads the bundles from disk); it reaches
 * `node:fs` through `process.getBuiltinModule`, so importing this module in
 * a browser is harmless.
 *
 * @since 0.1.0
 */
import { Data } from "effect"
import {
  type Band,
  hasTrace,
  iterationAxis,
  oracleCallsAxis,
  traceMetricNames,
  wallTimeAxis,
  type XAxis
} from "./Aggregate.ts"
import { type ChartSpec, convergenceChart, performanceProfileChart } from "./Charts.ts"
import {
  escapeHtml,
  formatDuration,
  formatNumber,
  formatStatusCounts,
  STATUS_ORDER
} from "./internal/reportFormat.ts"
import { metricsTable, type Stats } from "./MetricsTable.ts"
import type { PerformanceProfileOptions } from "./PerformanceProfile.ts"
import type { CellRecord, CellStatus, RunRecord } from "./Records.ts"

/**
 * A plotting library's browser bundle could not be read (the package is
 * not installed, or `report` does not run on Node).
 *
 * @category errors
 * @since 0.1.0
 */
export class ReportLibraryMissing extends Data.TaggedError("ReportLibraryMissing")<{
  /** The npm package, e.g. "vega-lite". */
  readonly library: string
  /** Why it could not be read. */
  readonly reason: string
  readonly message: string
}> {
  constructor(args: { readonly library: string; readonly reason: string }) {
    super({ ...args, message: `report: cannot inline ${args.library}: ${args.reason}` })
  }
}

/**
 * A plotting library inlined in the report.
 *
 * @category models
 * @since 0.1.0
 */
export interface InlinedLibrary {
  /** The npm package name. */
  readonly name: string
  /** Its installed version. */
  readonly version: string
  /** The minified browser bundle, as inlined (source-map comment removed). */
  readonly code: string
}

/** Each library: a file its package exports (to locate the `build/` folder) and the bundle beside it. */
const LIBRARIES = [
  { name: "vega", anchor: "vega/vega-schema.json", bundle: "vega.min.js" },
  { name: "vega-lite", anchor: "vega-lite/vega-lite-schema.json", bundle: "vega-lite.min.js" },
  { name: "vega-embed", anchor: "vega-embed", bundle: "vega-embed.min.js" }
] as const

/**
 * Vega, Vega-Lite and vega-embed as inlined in reports: their browser
 * bundles read from the installed packages (the versions pinned in
 * `@descent/dsl`'s dependencies), in load order.
 *
 * @throws `ReportLibraryMissing` when a bundle cannot be read.
 * @category reports
 * @since 0.1.0
 */
export const inlinedLibraries = (): ReadonlyArray<InlinedLibrary> => {
  const getBuiltin = globalThis.process?.getBuiltinModule
  if (getBuiltin === undefined) {
    throw new ReportLibraryMissing({
      library: "vega",
      reason: "reports are written on Node (no node:fs here)"
    })
  }
  const fs = getBuiltin("node:fs") as typeof import("node:fs")
  const path = getBuiltin("node:path") as typeof import("node:path")
  const { createRequire } = getBuiltin("node:module") as typeof import("node:module")
  const require = createRequire(import.meta.url)
  return LIBRARIES.map(({ name, anchor, bundle }) => {
    try {
      const build = path.dirname(require.resolve(anchor))
      const manifest = JSON.parse(fs.readFileSync(path.join(build, "..", "package.json"), "utf8")) as {
        readonly version: string
      }
      const code = fs
        .readFileSync(path.join(build, bundle), "utf8")
        .replace(/\n?\/\/# sourceMappingURL=\S*\s*$/, "")
        // Script data must not close the element: `</script` and `<!--` cannot occur in the code
        // of these bundles except inside strings, regular expressions and comments, where the
        // escaped forms mean the same.
        .replace(/<\/(script)/gi, "<\\/$1")
        .replace(/<!--/g, "<\\!--")
      return { name, version: manifest.version, code }
    } catch (cause) {
      throw new ReportLibraryMissing({ library: name, reason: String(cause) })
    }
  })
}

/**
 * Options of `report`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ReportOptions {
  /** The page title. Default: the experiment's name. */
  readonly title?: string | undefined
  /**
   * Metrics drawn as convergence curves, one section each, in this order;
   * names no cell traces are skipped. Default suboptimality, objective,
   * gradient norm, constraint violation.
   */
  readonly metrics?: ReadonlyArray<string>
  /** The x axes of the convergence curves; axes no cell traces are skipped. Default iterations, wall time, oracle calls. */
  readonly xAxes?: ReadonlyArray<XAxis>
  /** The band around the median. Default `"minmax"`. */
  readonly band?: Band
  /** Grid points of the aggregated curves. Default 64. */
  readonly gridPoints?: number
  /** The target of the performance profiles (`metric`, `threshold`, `relative`, `repetitions`). Default suboptimality ≤ 1e-6. */
  readonly profile?: Omit<PerformanceProfileOptions, "cost">
  /** One profile per cost axis (untraced axes skipped; empty: no profiles). Default iterations and wall time. */
  readonly profileCosts?: ReadonlyArray<XAxis>
  /** The columns of the final-metrics table (see `MetricsTable`); default every final metric. */
  readonly tableMetrics?: ReadonlyArray<string> | undefined
}

/**
 * Defaults of `ReportOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultReportOptions = {
  title: undefined,
  metrics: ["suboptimality", "objective", "gradientNorm", "constraintViolation"],
  xAxes: [iterationAxis, wallTimeAxis, oracleCallsAxis],
  band: "minmax",
  gridPoints: 64,
  profile: { metric: "suboptimality", threshold: 1e-6, relative: false, repetitions: "median" },
  profileCosts: [iterationAxis, wallTimeAxis],
  tableMetrics: undefined
} as const satisfies ReportOptions

/**
 * A chart of the report: the id of its element and its spec.
 *
 * @category models
 * @since 0.1.0
 */
export interface ReportChart {
  readonly id: string
  readonly spec: ChartSpec
}

/** The id of the `<script type="application/json">` element holding the charts (`ReportChart[]`). */
const CHARTS_ELEMENT = "descent-charts"

/**
 * The id of the element whose JSON content is the report's charts
 * (`ReadonlyArray<ReportChart>`), for tools that read a report back.
 *
 * @category constants
 * @since 0.1.0
 */
export const chartsElementId = CHARTS_ELEMENT

const STYLE = `
:root { color-scheme: light; --muted: #5f6368; --rule: #dadce0; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1280px; padding: 1.5rem; color: #202124; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; } h2 { border-bottom: 1px solid var(--rule); padding-bottom: .25rem; margin-top: 2.2rem; }
h3 { margin: 1.4rem 0 .4rem; } .muted, .range { color: var(--muted); } .range { display: block; font-size: .8em; white-space: nowrap; }
nav a { margin-right: 1rem; } .chart { margin: .5rem 0 1.5rem; overflow-x: auto; } .chart.error { color: #b3261e; }
table { border-collapse: collapse; margin: .5rem 0; } th, td { padding: .3rem .6rem; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; } dl { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; }
dt { color: var(--muted); } dd { margin: 0; font-family: ui-monospace, monospace; } pre { background: #f6f8fa; padding: 1rem; overflow-x: auto; font-size: 12px; }
.note { background: #fef7e0; padding: .5rem .75rem; border-radius: 4px; }
`

/** Renders every chart; sets `data-rendered` (charts drawn) and `data-failed` on `<body>` when done. */
const RENDER_SCRIPT = `
(function () {
  var charts = JSON.parse(document.getElementById(${JSON.stringify(CHARTS_ELEMENT)}).textContent);
  var failed = 0;
  var options = { renderer: "svg", actions: { export: true, source: false, compiled: false, editor: false } };
  Promise.all(charts.map(function (chart) {
    return vegaEmbed("#" + chart.id, chart.spec, options).catch(function (error) {
      failed++;
      var element = document.getElementById(chart.id);
      element.classList.add("error");
      element.textContent = "This chart could not be drawn: " + error;
      console.error(error);
    });
  })).then(function () {
    document.body.dataset.rendered = String(charts.length - failed);
    document.body.dataset.failed = String(failed);
  });
})();
`

const statsCell = (s: Stats, format: (x: number) => string = formatNumber): string => {
  const [low, high] = [format(s.min), format(s.max)]
  const range =
    s.count > 1 && low !== high ? `<span class="range">${escapeHtml(`${low} – ${high}`)}</span>` : ""
  return `<td class="num" title="median over ${s.count} repetition${s.count === 1 ? "" : "s"}">${escapeHtml(
    format(s.median)
  )}${range}</td>`
}

const tableHtml = (cells: ReadonlyArray<CellRecord>, metrics: ReadonlyArray<string> | undefined): string => {
  const table = metricsTable(cells, { metrics })
  const head = [
    "<th>problem</th>",
    "<th>solver</th>",
    '<th class="num">cells</th>',
    "<th>status</th>",
    '<th class="num">iterations</th>',
    '<th class="num">wall time</th>',
    ...table.metrics.map((m) => `<th class="num">${escapeHtml(m)}</th>`)
  ].join("")
  const rows = table.rows.map((r) =>
    [
      "<tr>",
      `<td>${escapeHtml(r.problem)}</td>`,
      `<td>${escapeHtml(r.solver)}</td>`,
      `<td class="num">${r.cells}</td>`,
      `<td>${escapeHtml(formatStatusCounts(r.statuses))}</td>`,
      statsCell(r.iterations),
      statsCell(r.wallTimeMs, formatDuration),
      ...table.metrics.map((m) => statsCell(r.metrics[m])),
      "</tr>"
    ].join("")
  )
  return [
    '<p class="muted">Median over repetitions, range below when the repetitions differ.</p>',
    `<table><thead><tr>${head}</tr></thead><tbody>`,
    ...rows,
    "</tbody></table>"
  ].join("\n")
}

const provenanceHtml = (run: RunRecord, cells: ReadonlyArray<CellRecord>): string => {
  const p = run.provenance
  const entries: ReadonlyArray<[string, string]> = [
    ["run", run.runId],
    ["experiment", run.name],
    ["spec hash", run.specHash],
    ["created", run.createdAt],
    ["cells stored", `${cells.length} of ${run.cellCount}`],
    ["runtime", p.runtime],
    ["platform", p.platform],
    ["kernel backend", p.backend],
    ["git commit", p.gitCommit ?? "unknown"]
  ]
  const packages = Object.entries(p.packages).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return [
    "<dl>",
    ...entries.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`),
    "</dl>",
    "<h3>Packages</h3>",
    "<table><thead><tr><th>package</th><th>version</th></tr></thead><tbody>",
    ...packages.map(
      ([name, version]) => `<tr><td>${escapeHtml(name)}</td><td>${escapeHtml(version)}</td></tr>`
    ),
    "</tbody></table>"
  ].join("\n")
}

const specText = (spec: string): string => {
  try {
    return JSON.stringify(JSON.parse(spec), null, 2)
  } catch {
    return spec
  }
}

/** JSON for a `<script type="application/json">` element: `<` escaped so no `</script>` can occur. */
const scriptJson = (value: unknown): string => JSON.stringify(value).replace(/</g, "\\u003c")

/** A section of the page: its anchor, heading and HTML content. */
interface Section {
  readonly id: string
  readonly title: string
  readonly body: ReadonlyArray<string>
}

const statusLine = (cells: ReadonlyArray<CellRecord>): string => {
  const counts = new Map<CellStatus, number>()
  for (const c of cells) counts.set(c.status, (counts.get(c.status) ?? 0) + 1)
  const list = STATUS_ORDER.filter((s) => counts.has(s)).map((status) => ({
    status,
    count: counts.get(status)!
  }))
  return list.length === 0 ? "no cells" : formatStatusCounts(list)
}

/**
 * The report of a run as one self-contained HTML document (see the module
 * comment). `cells` are the run's stored cells (`Store.cells(run.runId)`);
 * a run still in progress gives a partial report, which says so.
 *
 * @throws `ReportLibraryMissing` when a plotting library's bundle cannot be read; `Errors.InvalidOptions` for a bad option.
 * @category reports
 * @since 0.1.0
 */
export const report = (
  run: RunRecord,
  cells: ReadonlyArray<CellRecord>,
  options: ReportOptions = {}
): string => {
  const o = { ...defaultReportOptions, ...options }
  const libraries = inlinedLibraries()
  const charts: Array<ReportChart> = []
  const addChart = (spec: ChartSpec): string => {
    const id = `chart-${charts.length}`
    charts.push({ id, spec })
    return `<div class="chart" id="${id}"></div>`
  }
  const traced = traceMetricNames(cells)
  const convergenceBody: Array<string> = []
  for (const metric of o.metrics) {
    const axes = o.xAxes.filter((axis) => hasTrace(cells, metric, axis))
    if (axes.length === 0) continue
    convergenceBody.push(`<h3>${escapeHtml(metric)}</h3>`)
    for (const xAxis of axes) {
      convergenceBody.push(
        addChart(convergenceChart(cells, { metric, xAxis, band: o.band, gridPoints: o.gridPoints }))
      )
    }
  }
  if (convergenceBody.length === 0) {
    convergenceBody.push(
      `<p class="note">No convergence curves: no cell traces ${escapeHtml(o.metrics.join(", ") || "any metric")} (traced: ${escapeHtml(
        traced.join(", ") || "nothing"
      )}).</p>`
    )
  }
  const profileBody: Array<string> = []
  const target = { ...defaultReportOptions.profile, ...o.profile }
  const costs = o.profileCosts.filter((cost) => hasTrace(cells, target.metric, cost))
  for (const cost of costs) profileBody.push(addChart(performanceProfileChart(cells, { ...target, cost })))
  if (profileBody.length === 0) {
    profileBody.push(
      `<p class="note">No performance profile: no cell traces ${escapeHtml(target.metric)}${
        o.profileCosts.length === 0
          ? ""
          : ` against ${escapeHtml(o.profileCosts.map((c) => c.title).join(" or "))}`
      }.</p>`
    )
  }
  const sections: ReadonlyArray<Section> = [
    { id: "convergence", title: "Convergence", body: convergenceBody },
    { id: "profiles", title: "Performance profiles", body: profileBody },
    { id: "metrics", title: "Final metrics", body: [tableHtml(cells, o.tableMetrics)] },
    { id: "provenance", title: "Provenance", body: [provenanceHtml(run, cells)] },
    {
      id: "experiment",
      title: "Experiment",
      body: [`<pre id="experiment-spec">${escapeHtml(specText(run.spec))}</pre>`]
    }
  ]
  const title = o.title ?? run.name
  const partial =
    cells.length < run.cellCount
      ? `<p class="note">Partial run: ${cells.length} of ${run.cellCount} cells are stored.</p>`
      : ""
  const drawnWith = libraries.map((l) => `${l.name} ${l.version}`).join(", ")
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="generator" content="@descent/dsl report">',
    `<title>${escapeHtml(title)} — descent report</title>`,
    `<style>${STYLE}</style>`,
    "</head>",
    "<body>",
    `<header><h1>${escapeHtml(title)}</h1>`,
    `<p class="muted">run ${escapeHtml(run.runId)} · created ${escapeHtml(run.createdAt)} · ${cells.length} cells: ${escapeHtml(
      statusLine(cells)
    )}</p>${partial}</header>`,
    `<nav>${sections.map((s) => `<a href="#${s.id}">${escapeHtml(s.title)}</a>`).join("")}</nav>`,
    ...sections.map(
      (s) => `<section id="${s.id}">\n<h2>${escapeHtml(s.title)}</h2>\n${s.body.join("\n")}\n</section>`
    ),
    `<footer class="muted"><p>Charts drawn with ${escapeHtml(drawnWith)}, inlined in this file.</p></footer>`,
    `<script type="application/json" id="${CHARTS_ELEMENT}">${scriptJson(charts)}</script>`,
    ...libraries.map(
      (l) => `<script data-library="${escapeHtml(l.name)}@${escapeHtml(l.version)}">${l.code}</script>`
    ),
    `<script>${RENDER_SCRIPT}</script>`,
    "</body>",
    "</html>",
    ""
  ].join("\n")
}
