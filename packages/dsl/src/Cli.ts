/**
 * The `descent` command line, built with Effect's CLI module and run on Node
 * (`@effect/platform-node`): run experiments into the embedded SQLite store,
 * list and inspect runs, write reports, export results, and verify that
 * stored numbers reproduce bit for bit.
 *
 * ```sh
 * descent run examples/optimizers.ts --report optimizers.html   # run (or resume), summary, report
 * descent ls                                                      # runs in the store
 * descent show optimizers                                         # provenance and summary of a run
 * descent report optimizers --out report.html                     # the HTML report
 * descent verify optimizers                                       # recompute every stored cell
 * descent export optimizers --format csv --out optimizers.csv     # the records as CSV or JSON
 * ```
 *
 * - **`run <experiment>`** imports a TypeScript (or JavaScript) module whose
 *   export `experiment` (or default export) is an `Experiment` — or reads a
 *   JSON file holding an encoded experiment —, validates it against the
 *   built-in registry before anything runs (an invalid experiment prints each
 *   Schema issue with its path and exits 1), and runs it with
 *   `Runner.run` on the store — on worker threads, one per core (`--workers
 *   n`; `--in-process` or `--workers 0` for fibers on the main thread) —,
 *   showing live progress (a line redrawn in place
 *   on a terminal; plain lines, at most one a second, in a pipe, a log file
 *   or when `CI` is set). It then prints the run's summary table and, with
 *   `--report`, writes the HTML report. Running the same experiment again
 *   resumes its run: stored cells are skipped.
 * - **`<run>`** arguments name a run by its id, a unique prefix of the id, or
 *   its experiment's name (the newest run of that name).
 * - **`verify <run>`** recomputes every stored cell from the experiment
 *   stored with the run (`Runner.runCell`) and compares status, message,
 *   iterations, key, metrics and trace with `Object.is` (wall times
 *   excluded); cells whose status is `timeout` depend on the machine's speed
 *   and are skipped. Each differing cell is printed with its fields.
 * - **`--store <file>`** (every command; or the `DESCENT_STORE` environment
 *   variable) is the SQLite file, by default `.descent/descent.sqlite` under
 *   the working directory. Only `run` creates it.
 *
 * Exit codes: 0 on success; 1 on a failure, reported as one line on stderr
 * (`descent: …`) without a stack trace — an unreadable or invalid
 * experiment, a missing store or run, a failed verification, a file that
 * cannot be written, a wrong command line (printed with the help). A bug
 * (a defect) is logged with its stack trace. Ctrl-C interrupts a run between
 * two solver steps (finished cells stay stored) and exits 130.
 *
 * This module imports Node-only code (`node:sqlite`, the Node platform
 * layer), so it is not part of the package's main entry: import it from
 * `@descent/dsl/cli`.
 *
 * @since 0.1.0
 */
import { fileURLToPath, pathToFileURL } from "node:url"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Config, Console, Data, Effect, FileSystem, Option, Path, Runtime } from "effect"
import { Argument, CliError, Command, Flag } from "effect/cli"
import * as Experiment from "./Experiment.ts"
import * as Export from "./Export.ts"
import { groupCells } from "./internal/cellGroups.ts"
import { withProgress } from "./internal/progress.ts"
import { formatDuration, formatStatusCounts, STATUS_ORDER } from "./internal/reportFormat.ts"
import { type Difference, identityDifferences, outcomeDifferences } from "./internal/verify.ts"
import type { CellRecord, CellStatus, RunRecord } from "./Records.ts"
import * as Report from "./Report.ts"
import * as Runner from "./Runner.ts"
import * as SqliteStore from "./SqliteStore.ts"
import { Store, type StoreError } from "./Store.ts"
import * as Summary from "./Summary.ts"

// ---------------------------------------------------------------------------
// Errors

/**
 * The experiment file cannot be used: missing, not importable, or without an
 * experiment export.
 *
 * @category errors
 * @since 0.1.0
 */
export class ExperimentFileError extends Data.TaggedError("ExperimentFileError")<{
  readonly file: string
  readonly message: string
}> {}

/**
 * The experiment does not decode: `issues` are its Schema issues, each with
 * the path of the offending value (e.g. `["solvers"][0]["name"]`).
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidExperiment extends Data.TaggedError("InvalidExperiment")<{
  readonly file: string
  readonly issues: ReadonlyArray<string>
  readonly message: string
}> {}

/**
 * There is no store file where one was expected (commands other than `run`
 * never create one).
 *
 * @category errors
 * @since 0.1.0
 */
export class StoreNotFound extends Data.TaggedError("StoreNotFound")<{
  readonly path: string
  readonly message: string
}> {}

/**
 * No run (or more than one) matches a `<run>` argument.
 *
 * @category errors
 * @since 0.1.0
 */
export class RunNotFound extends Data.TaggedError("RunNotFound")<{
  readonly query: string
  /** The run ids that match ambiguously (empty when none matches). */
  readonly candidates: ReadonlyArray<string>
  readonly message: string
}> {}

/**
 * `verify` found stored cells that differ from their recomputation.
 *
 * @category errors
 * @since 0.1.0
 */
export class VerificationFailed extends Data.TaggedError("VerificationFailed")<{
  readonly runId: string
  /** The cell ids that differ. */
  readonly cellIds: ReadonlyArray<string>
  /** Cells compared. */
  readonly checked: number
  readonly message: string
}> {}

/**
 * An output file (report, export) cannot be produced or written.
 *
 * @category errors
 * @since 0.1.0
 */
export class OutputError extends Data.TaggedError("OutputError")<{
  readonly path: string
  readonly message: string
}> {}

/**
 * The failure `main` ends with once the error has been reported on stderr:
 * the process exits with code 1 and nothing more is logged.
 *
 * @category errors
 * @since 0.1.0
 */
export class CliFailed extends Data.TaggedError("CliFailed")<{ readonly reason: unknown }> {
  override readonly [Runtime.errorReported] = false
}

// ---------------------------------------------------------------------------
// Helpers

/** The store used when `--store` (and `DESCENT_STORE`) is not given. */
const DEFAULT_STORE = SqliteStore.defaultOptions.path

const errorText = (e: unknown): string => {
  if (e instanceof Error && e.message !== "") return e.message
  if (typeof e === "object" && e !== null && "message" in e && typeof e.message === "string") return e.message
  return String(e)
}

const firstLine = (text: string): string => text.split("\n", 1)[0]!.trim()

/**
 * The issues of a Schema error's message, one line each: "path: message".
 * The message lists each issue's text followed by an indented `at <path>` line.
 */
const schemaIssues = (message: string): ReadonlyArray<string> => {
  const issues: Array<string> = []
  let text: Array<string> = []
  const flush = (path: string | undefined): void => {
    if (text.length === 0) return
    const body = text.join(" ")
    issues.push(path === undefined ? body : `${path}: ${body}`)
    text = []
  }
  for (const raw of message.split("\n")) {
    const line = raw.trim()
    if (line === "") continue
    if (line.startsWith("at ")) flush(line.slice(3))
    else text.push(line)
  }
  flush(undefined)
  return issues
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`

const statusCounts = (counts: ReadonlyMap<CellStatus, number>): string =>
  formatStatusCounts(
    STATUS_ORDER.filter((s) => counts.has(s)).map((status) => ({ status, count: counts.get(status)! }))
  )

/** Text in aligned columns (`right[j]`: right-align column j), two spaces apart, no trailing spaces. */
const columns = (rows: ReadonlyArray<ReadonlyArray<string>>, right: ReadonlyArray<boolean> = []): string => {
  const widths: Array<number> = []
  for (const row of rows) {
    row.forEach((cell, j) => {
      widths[j] = Math.max(widths[j] ?? 0, cell.length)
    })
  }
  return rows
    .map((row) =>
      row
        .map((cell, j) => (right[j] ? cell.padStart(widths[j]!) : cell.padEnd(widths[j]!)))
        .join("  ")
        .trimEnd()
    )
    .join("\n")
}

const cellLabel = (cell: {
  readonly problem: { readonly name: string }
  readonly solver: { readonly name: string }
  readonly repetition: number
}): string => `${cell.problem.name}/${cell.solver.name}#${cell.repetition}`

/** Writes `text` to `file` (creating its directory); an `OutputError` on failure. */
const writeText = (
  file: string,
  text: string
): Effect.Effect<void, OutputError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    yield* fs.makeDirectory(path.dirname(file), { recursive: true })
    yield* fs.writeFileString(file, text)
  }).pipe(
    Effect.mapError((e) => new OutputError({ path: file, message: `cannot write ${file}: ${errorText(e)}` }))
  )

/** The SQLite store at `file` for a command that reads it: a `StoreNotFound` when there is no file. */
const existingStore = (file: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const exists = yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false))
    if (!exists) {
      return yield* new StoreNotFound({
        path: file,
        message: `no store at ${file} (run an experiment with \`descent run\` first, or pass --store)`
      })
    }
    return SqliteStore.layer({ path: file, create: false })
  })

/** Runs `program` on the existing store `--store` names. */
const withExistingStore = <A, E, R>(storeFlag: string, program: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const layer = yield* existingStore(path.resolve(storeFlag))
    return yield* Effect.provide(program, layer)
  })

/**
 * The run a `<run>` argument names: its id, a unique id prefix, or its
 * experiment's name (the newest run of that name).
 */
const findRun = (query: string): Effect.Effect<RunRecord, RunNotFound | StoreError, Store> =>
  Effect.gen(function* () {
    const store = yield* Store
    const runs = yield* store.listRuns
    const exact = runs.find((r) => r.runId === query)
    if (exact !== undefined) return exact
    const byPrefix = query === "" ? [] : runs.filter((r) => r.runId.startsWith(query))
    if (byPrefix.length === 1) return byPrefix[0]!
    if (byPrefix.length > 1) {
      return yield* new RunNotFound({
        query,
        candidates: byPrefix.map((r) => r.runId),
        message: `"${query}" matches ${byPrefix.length} runs (${byPrefix.map((r) => r.runId).join(", ")}); give more of the id`
      })
    }
    const byName = runs.find((r) => r.name === query)
    if (byName !== undefined) return byName
    return yield* new RunNotFound({
      query,
      candidates: [],
      message:
        runs.length === 0
          ? `no run "${query}": the store has no runs`
          : `no run "${query}" (give a run id, an id prefix or an experiment name; \`descent ls\` lists the runs)`
    })
  })

// ---------------------------------------------------------------------------
// Loading an experiment

/**
 * Loads the experiment in `file` (a module exporting `experiment` or a
 * default export, or a JSON file) and validates it against the built-in
 * registry.
 *
 * @category loading
 * @since 0.1.0
 */
export const loadExperiment = (
  file: string
): Effect.Effect<Experiment.Experiment, ExperimentFileError | InvalidExperiment, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const fail = (message: string) => new ExperimentFileError({ file, message })
    const exists = yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false))
    if (!exists) return yield* fail(`no experiment file ${file}`)
    let candidate: unknown
    if (file.endsWith(".json")) {
      const text = yield* fs
        .readFileString(file)
        .pipe(Effect.mapError((e) => fail(`cannot read ${file}: ${errorText(e)}`)))
      candidate = yield* Effect.try({
        try: () => JSON.parse(text) as unknown,
        catch: (e) => fail(`${file} is not valid JSON: ${firstLine(errorText(e))}`)
      })
    } else {
      const module = yield* Effect.tryPromise({
        try: () => import(pathToFileURL(file).href) as Promise<Record<string, unknown>>,
        catch: (e) => fail(`cannot load ${file}: ${firstLine(errorText(e))}`)
      })
      candidate = module.experiment ?? module.default
      if (candidate === undefined) {
        const names = Object.keys(module)
        return yield* fail(
          `${file} exports no experiment: export it as \`experiment\` (or as the default export)${
            names.length > 0 ? `; found ${names.join(", ")}` : ""
          }`
        )
      }
    }
    if (typeof candidate !== "object" || candidate === null) {
      return yield* fail(
        `the experiment exported by ${file} is a ${candidate === null ? "null" : typeof candidate}, not an experiment`
      )
    }
    const encoded = yield* Effect.try({
      try: () => Experiment.encode(candidate as Experiment.Experiment),
      catch: (e) => fail(`the experiment exported by ${file} is not JSON data: ${firstLine(errorText(e))}`)
    })
    return yield* Experiment.decode(encoded).pipe(
      Effect.mapError((e) => {
        const issues = schemaIssues(e.message)
        return new InvalidExperiment({
          file,
          issues,
          message: `invalid experiment in ${file} (${plural(issues.length, "issue")}):\n${issues.map((i) => `  ${i}`).join("\n")}`
        })
      })
    )
  })

// ---------------------------------------------------------------------------
// Flags shared by the commands

const storeFlag = Flag.String("store").pipe(
  Flag.withDescription(`The SQLite store file (default ${DEFAULT_STORE}; env DESCENT_STORE)`),
  Flag.withFallbackConfig(Config.String("DESCENT_STORE")),
  Flag.withDefault(DEFAULT_STORE)
)

/** An optional integer flag `--name` that must be at least `min`. */
const optionalIntAtLeast = (name: string, min: number, description: string) =>
  Flag.Int(name).pipe(
    Flag.withDescription(description),
    Flag.filter(
      (n) => n >= min,
      (n) => `--${name} must be at least ${min} (got ${n})`
    ),
    Flag.optional
  )

const runArgument = Argument.String("run").pipe(
  Argument.withDescription("A run id, a unique prefix of one, or an experiment name (its newest run)")
)

// ---------------------------------------------------------------------------
// descent run

interface RunProgress {
  readonly onEvent: (event: Runner.RunEvent) => void
  readonly view: () => { readonly text: string; readonly key: string }
  readonly final: () => string | undefined
}

const runProgress = (startedAt: number): RunProgress => {
  let total = 0
  let resumed = 0
  let started = false
  let computed = 0
  const running = new Map<string, string>()
  const statuses = new Map<CellStatus, number>()
  const elapsed = (): string => formatDuration(performance.now() - startedAt)
  const doneText = (): string => {
    const done = resumed + computed
    const pct = total === 0 ? 100 : Math.floor((100 * done) / total)
    return `cells ${done}/${total} (${pct}%)${resumed > 0 ? `, ${resumed} resumed` : ""}`
  }
  return {
    onEvent: (event) => {
      switch (event._tag) {
        case "RunStarted":
          started = true
          total = event.pending + event.resumed
          resumed = event.resumed
          return
        case "CellStarted":
          running.set(event.cell.cellId, cellLabel(event.cell))
          return
        case "CellFinished":
          running.delete(event.record.cellId)
          computed++
          statuses.set(event.record.status, (statuses.get(event.record.status) ?? 0) + 1)
          return
        default:
          return
      }
    },
    view: () => {
      if (!started) return { text: `opening the run · ${elapsed()}`, key: "opening" }
      const names = [...running.values()]
      const parts = [
        doneText(),
        names.length > 0 ? `running ${names.length}: ${names.join(", ")}` : undefined,
        statuses.size > 0 ? statusCounts(statuses) : undefined,
        elapsed()
      ].filter((p) => p !== undefined)
      return { text: parts.join(" · "), key: `${computed}` }
    },
    final: () =>
      started
        ? `${doneText()}${statuses.size > 0 ? ` · computed: ${statusCounts(statuses)}` : ""} · ${elapsed()}`
        : undefined
  }
}

const runCommand = Command.make(
  "run",
  {
    experiment: Argument.String("experiment").pipe(
      Argument.withDescription(
        "The experiment: a .ts/.js module exporting `experiment` (or a default export), or a .json file"
      )
    ),
    store: storeFlag,
    workers: optionalIntAtLeast(
      "workers",
      0,
      "Worker threads computing cells beside the main thread (default: cores − 1, one lane per core; 0: as --in-process)"
    ),
    inProcess: Flag.Boolean("in-process").pipe(
      Flag.withDescription("Run the cells as fibers on the main thread instead of worker threads"),
      Flag.withDefault(false)
    ),
    concurrency: optionalIntAtLeast(
      "concurrency",
      1,
      "In-process cells run at once (default: the number of cores)"
    ),
    report: Flag.String("report").pipe(
      Flag.withDescription("Also write the run's HTML report to this file"),
      Flag.optional
    ),
    cellTimeout: Flag.Finite("cell-timeout").pipe(
      Flag.withDescription("A cell's compute-time budget in milliseconds; then its status is `timeout`"),
      Flag.filter(
        (ms) => ms > 0,
        (ms) => `--cell-timeout must be positive (got ${ms})`
      ),
      Flag.optional
    )
  },
  (input) =>
    Effect.gen(function* () {
      const path = yield* Path.Path
      const file = path.resolve(input.experiment)
      const storePath = path.resolve(input.store)
      const experiment = yield* loadExperiment(file)
      const progress = runProgress(performance.now())
      yield* Console.log(`run ${Runner.runIdOf(experiment)} (${experiment.name}) · store ${storePath}`)
      const body = Effect.gen(function* () {
        const summary = yield* withProgress(
          progress.view,
          progress.final,
          Runner.run(experiment, {
            ...(Option.isSome(input.concurrency) ? { concurrency: input.concurrency.value } : {}),
            ...(Option.isSome(input.cellTimeout) ? { cellTimeout: input.cellTimeout.value } : {}),
            workers: input.inProcess ? 0 : Option.getOrElse(input.workers, () => "cores" as const),
            onEvent: progress.onEvent,
            // The progress line follows cells only.
            sampleEvents: false
          })
        )
        const store = yield* Store
        const run = yield* store.getRun(summary.runId)
        const cells = yield* store.cells(summary.runId)
        yield* Console.log(
          `${plural(summary.cells, "cell")}: ${summary.computed} computed, ${summary.resumed} resumed from the store`
        )
        yield* Console.log("")
        yield* Console.log(Summary.summaryTable(cells))
        if (Option.isSome(input.report)) {
          const out = path.resolve(input.report.value)
          yield* writeReport(run, cells, out)
        }
      })
      yield* Effect.provide(body, SqliteStore.layer({ path: storePath }))
    })
).pipe(
  Command.withDescription(
    "Run an experiment (or resume its run) into the store, with live progress; print the summary table"
  )
)

const writeReport = (run: RunRecord, cells: ReadonlyArray<CellRecord>, out: string) =>
  Effect.gen(function* () {
    const html = yield* Effect.try({
      try: () => Report.report(run, cells),
      catch: (e) =>
        new OutputError({ path: out, message: `cannot build the report: ${firstLine(errorText(e))}` })
    })
    yield* writeText(out, html)
    yield* Console.log(
      `report written to ${out} (${plural(cells.length, "cell")}, ${Math.ceil(html.length / 1024)} kB)`
    )
  })

// ---------------------------------------------------------------------------
// descent ls

const lsCommand = Command.make("ls", { store: storeFlag }, (input) =>
  withExistingStore(
    input.store,
    Effect.gen(function* () {
      const store = yield* Store
      const runs = yield* store.listRuns
      if (runs.length === 0) {
        yield* Console.log("no runs")
        return
      }
      const rows: Array<ReadonlyArray<string>> = [["run", "name", "cells", "created"]]
      for (const run of runs) {
        const stored = (yield* store.finishedCellIds(run.runId)).size
        rows.push([run.runId, run.name, `${stored}/${run.cellCount}`, run.createdAt])
      }
      yield* Console.log(columns(rows, [false, false, true, false]))
    })
  )
).pipe(
  Command.withDescription(
    "List the runs in the store, newest first: id, name, cells stored/total, creation time"
  )
)

// ---------------------------------------------------------------------------
// descent show

const provenanceText = (run: RunRecord, stored: number): string => {
  const p = run.provenance
  const packages = Object.entries(p.packages)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, version]) => `${name} ${version}`)
    .join(", ")
  return columns([
    ["run", run.runId],
    ["name", run.name],
    ["spec hash", run.specHash],
    ["created", run.createdAt],
    ["cells", `${stored} of ${run.cellCount} stored`],
    ["packages", packages === "" ? "—" : packages],
    ["runtime", p.runtime],
    ["platform", p.platform],
    ["backend", p.backend],
    ["git commit", p.gitCommit ?? "unknown"]
  ])
}

const showCommand = Command.make(
  "show",
  {
    run: runArgument,
    store: storeFlag,
    spec: Flag.Boolean("spec").pipe(
      Flag.withDescription(
        "Print only the run's experiment, as JSON (`descent run` takes it back as a .json file)"
      ),
      Flag.withDefault(false)
    )
  },
  (input) =>
    withExistingStore(
      input.store,
      Effect.gen(function* () {
        const store = yield* Store
        const run = yield* findRun(input.run)
        if (input.spec) {
          yield* Console.log(JSON.stringify(JSON.parse(run.spec), null, 2))
          return
        }
        const cells = yield* store.cells(run.runId)
        yield* Console.log(provenanceText(run, cells.length))
        yield* Console.log("")
        yield* Console.log(Summary.summaryTable(cells))
      })
    )
).pipe(
  Command.withDescription(
    "Show a run's provenance and its summary table (or, with --spec, its experiment as JSON)"
  )
)

// ---------------------------------------------------------------------------
// descent report

const reportCommand = Command.make(
  "report",
  {
    run: runArgument,
    store: storeFlag,
    out: Flag.String("out").pipe(
      Flag.withAlias("o"),
      Flag.withDescription("The HTML file to write"),
      Flag.withDefault("report.html")
    )
  },
  (input) =>
    Effect.gen(function* () {
      const path = yield* Path.Path
      const out = path.resolve(input.out)
      yield* withExistingStore(
        input.store,
        Effect.gen(function* () {
          const store = yield* Store
          const run = yield* findRun(input.run)
          const cells = yield* store.cells(run.runId)
          yield* writeReport(run, cells, out)
        })
      )
    })
).pipe(
  Command.withDescription(
    "Write a run's self-contained HTML report: convergence curves, performance profiles, final metrics, provenance"
  )
)

// ---------------------------------------------------------------------------
// descent export

const exportCommand = Command.make(
  "export",
  {
    run: runArgument,
    store: storeFlag,
    format: Flag.Literals("format", ["csv", "json"]).pipe(
      Flag.withDescription("csv: one row per cell; json: the run and cell records, exactly"),
      Flag.withDefault("csv" as const)
    ),
    out: Flag.String("out").pipe(
      Flag.withAlias("o"),
      Flag.withDescription("The file to write (default: standard output)"),
      Flag.optional
    )
  },
  (input) =>
    Effect.gen(function* () {
      const path = yield* Path.Path
      yield* withExistingStore(
        input.store,
        Effect.gen(function* () {
          const run = yield* findRun(input.run)
          const text = yield* Export.exportRun(run.runId, { format: input.format })
          if (Option.isSome(input.out)) {
            const out = path.resolve(input.out.value)
            yield* writeText(out, text)
            yield* Console.error(`exported run ${run.runId} (${run.name}) to ${out}`)
          } else {
            yield* Console.log(text.endsWith("\n") ? text.slice(0, -1) : text)
          }
        })
      )
    })
).pipe(Command.withDescription("Export a run's records as CSV or JSON"))

// ---------------------------------------------------------------------------
// descent verify

/** Statuses whose cells are not recomputed: they depend on the machine's speed. */
const UNVERIFIABLE: ReadonlySet<CellStatus> = new Set(["timeout", "interrupted"])

/** How many differing fields are printed per cell. */
const MAX_FIELDS_SHOWN = 8

const verifyCommand = Command.make("verify", { run: runArgument, store: storeFlag }, (input) =>
  withExistingStore(
    input.store,
    Effect.gen(function* () {
      const store = yield* Store
      const run = yield* findRun(input.run)
      const cells = yield* store.cells(run.runId)
      const experiment = yield* Experiment.fromJson(run.spec).pipe(
        Effect.mapError(
          (e) =>
            new InvalidExperiment({
              file: `run ${run.runId}`,
              issues: schemaIssues(e.message),
              message: `the experiment stored with run ${run.runId} does not decode: ${schemaIssues(e.message).join("; ")}`
            })
        )
      )
      const expected = new Map(Experiment.expand(experiment).map((c) => [c.cellId, c]))
      const labels = new Map<string, string>()
      for (const group of groupCells(cells).groups) {
        for (const c of group.cells)
          labels.set(c.cellId, `${group.problem} · ${group.solver} · repetition ${c.repetition}`)
      }
      yield* Console.log(
        `verifying run ${run.runId} (${run.name}): ${cells.length} of ${run.cellCount} cells stored, recomputing each`
      )
      const differing: Array<string> = []
      const skipped = new Map<CellStatus, number>()
      let checked = 0
      const startedAt = performance.now()
      const report = (cell: CellRecord, differences: ReadonlyArray<Difference>) =>
        Effect.gen(function* () {
          differing.push(cell.cellId)
          const shown = differences.slice(0, MAX_FIELDS_SHOWN)
          const more = differences.length - shown.length
          yield* Console.log(
            [
              `cell ${cell.cellId} (${labels.get(cell.cellId) ?? cellLabel(cell)}) differs:`,
              ...shown.map((d) => `  ${d.field}: stored ${d.stored}, recomputed ${d.recomputed}`),
              ...(more > 0 ? [`  … and ${plural(more, "more field")}`] : [])
            ].join("\n")
          )
        })
      const verifyCell = (cell: CellRecord) =>
        Effect.gen(function* () {
          if (UNVERIFIABLE.has(cell.status)) {
            skipped.set(cell.status, (skipped.get(cell.status) ?? 0) + 1)
            return
          }
          checked++
          const expectedCell = expected.get(cell.cellId)
          if (expectedCell === undefined) {
            yield* report(cell, [
              { field: "cellId", stored: cell.cellId, recomputed: "not a cell of the run's experiment" }
            ])
            return
          }
          const identity = identityDifferences(cell, expectedCell)
          const outcome = yield* Runner.runCell(experiment, cell.cellId).pipe(Effect.result)
          if (outcome._tag === "Failure") {
            yield* report(cell, [
              ...identity,
              {
                field: "cell",
                stored: "stored",
                recomputed: `cannot be recomputed: ${firstLine(errorText(outcome.failure))}`
              }
            ])
            return
          }
          const differences = [...identity, ...outcomeDifferences(cell, outcome.success)]
          if (differences.length > 0) yield* report(cell, differences)
        })
      const view = () => ({
        text: `verified ${checked}/${cells.length}${differing.length > 0 ? ` · ${differing.length} differ` : ""} · ${formatDuration(performance.now() - startedAt)}`,
        key: `${checked}`
      })
      yield* withProgress(view, () => undefined, Effect.forEach(cells, verifyCell, { discard: true }))
      const skippedText =
        skipped.size > 0
          ? `; skipped ${statusCounts(skipped)} (${skipped.size === 1 ? "that status depends" : "those statuses depend"} on the machine's speed)`
          : ""
      if (differing.length > 0) {
        return yield* new VerificationFailed({
          runId: run.runId,
          cellIds: differing,
          checked,
          message: `verify failed: ${differing.length} of ${plural(checked, "cell")} of run ${run.runId} differ from their recomputation (${differing.join(", ")})${skippedText}`
        })
      }
      yield* Console.log(
        `ok: ${plural(checked, "cell")} recomputed bit-identical (status, message, iterations, key, metrics, trace; wall times excluded)${skippedText}`
      )
    })
  )
).pipe(
  Command.withDescription(
    "Recompute every stored cell of a run from its stored experiment and check the numbers are bit-identical (wall times excluded)"
  )
)

// ---------------------------------------------------------------------------
// The command tree and the program

/**
 * The `descent` command and its subcommands `run`, `ls`, `show`, `report`,
 * `verify` and `export`.
 *
 * @category commands
 * @since 0.1.0
 */
export const descent = Command.make("descent").pipe(
  Command.withDescription("Reproducible optimization experiments: run, inspect, report, verify, export"),
  Command.withSubcommands([runCommand, lsCommand, showCommand, reportCommand, verifyCommand, exportCommand])
)

/** The version of @descent/dsl, from its package.json. */
const packageVersion = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const text = yield* fs.readFileString(fileURLToPath(new URL("../package.json", import.meta.url)))
  const version = (JSON.parse(text) as { readonly version?: unknown }).version
  return typeof version === "string" ? version : "0.0.0"
}).pipe(Effect.orElseSucceed(() => "0.0.0"))

/**
 * Runs the command line in `process.argv` on Node's platform services.
 * Expected failures are printed as one line on stderr (`descent: …`) and end
 * the program with {@link CliFailed} (exit code 1 under `NodeRuntime.runMain`,
 * nothing more logged); command-line mistakes are printed with the help.
 *
 * @example
 * ```ts
 * import { NodeRuntime } from "@effect/platform-node"
 * import { main } from "@descent/dsl/cli"
 *
 * NodeRuntime.runMain(main)
 * ```
 * @category running
 * @since 0.1.0
 */
export const main: Effect.Effect<void, CliFailed> = Effect.gen(function* () {
  const version = yield* packageVersion
  yield* Command.run(descent, { version })
}).pipe(
  Effect.catch((error) =>
    CliError.isCliError(error)
      ? Effect.fail(new CliFailed({ reason: error }))
      : Console.error(`descent: ${errorText(error)}`).pipe(
          Effect.andThen(Effect.fail(new CliFailed({ reason: error })))
        )
  ),
  Effect.provide(NodeServices.layer)
)
