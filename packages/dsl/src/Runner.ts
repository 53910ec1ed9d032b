/**
 * Runs an experiment: an Effect program that expands it into cells, runs each
 * cell as a fiber driving its solver's step machine, and writes each finished
 * cell to the `Store` service.
 *
 * ```ts
 * const summary = await Effect.runPromise(
 *   Runner.run(experiment, { onEvent: (e) => e._tag === "CellFinished" && console.log(e.record.status) })
 *     .pipe(Effect.provide(MemoryStore.layer))
 * )
 * ```
 *
 * - **Cells are pure functions of (experiment, cellId)**: the problem instance
 *   comes from the instance key, the solver's randomness from the cell key
 *   (`Seeds`), so a cell's record does not depend on which other cells exist,
 *   on the order or concurrency of the run, or on the process. Running an
 *   experiment twice gives identical records except for the wall times
 *   (`startedAt`, `finishedAt`, `wallTimeMs`, the `wallTimeMs` metric).
 * - **Fibers** (in the browser, with `workers: 0` or `concurrency` given,
 *   and wherever threads cannot help): `concurrency` cells run at
 *   once (default: the number of cores) as in-process fibers on one thread. A
 *   cell runs its solver in chunks of steps (`yieldEvery` steps, or by
 *   default as many as take about `chunkMs` = 5 ms) and yields between
 *   chunks, so cells interleave and a run can be interrupted between two
 *   steps (interrupted cells are not stored; resuming recomputes them).
 * - **Worker threads** (Node; the default, `workers: "cores"`, or `workers: n`):
 *   real parallelism. Each worker receives the experiment once and
 *   recomputes the cells it is sent from their ids, with the same driver, so
 *   the records are the same as with fibers. Starting a worker loads the
 *   library (about a second), so the main thread computes cells too, as one
 *   more lane: from the start, while the workers load, which join when
 *   ready (`"cores"`: one lane per core, i.e. one thread fewer than cores).
 *   Interrupting a run terminates its workers; they are threads of
 *   the run's process, so killing the process kills them too, and only the
 *   main thread writes to the store. `"cores"` falls back to fibers where
 *   threads cannot help or cannot work: one core or one pending cell, no
 *   `node:worker_threads` (a browser), or a registry other than the built-ins
 *   without `workerRegistry`.
 * - **Statuses**: the solver's own verdict (`converged`, `stalled`), a
 *   non-finite objective or residual (`diverged`), a stopping rule
 *   (`maxIterations`, `converged`, `timeout`, `stalled`), the per-cell
 *   `cellTimeout` on the cell's own compute time (`timeout`), and `failed`
 *   with the error's message when the solver (or the problem generator)
 *   throws. A failing cell never stops the run.
 * - **Telemetry**: at every check point (every `sampling.checkEvery`
 *   iterations) the stopping rules see the metrics they name; at log-spaced
 *   iterations (0, 1, 2, …, ×`sampling.traceRatio`, plus stage ends and the
 *   last iteration) every evaluator is recorded in the cell's trace and
 *   emitted as a `Sample` event (`onEvent`, or the {@link stream} of events).
 * - **Resume**: the run id is derived from the experiment's hash; cells
 *   already in the store (`finishedCellIds`) are skipped.
 * - **Provenance**: package versions, runtime, platform, core's kernel
 *   backend (`Memory.backend()`) and the git commit (read from `.git`).
 *
 * @since 0.1.0
 */
import { type Cause, Clock, Data, Effect, Queue, type Schema, Stream } from "effect"
import * as Experiment from "./Experiment.ts"
import { type CellOutcome, makeCaches, makeDriver, noCaches, type Sample } from "./internal/driver.ts"
import { collect } from "./internal/provenance.ts"
import { makePool } from "./internal/workers.ts"
import type { CellRecord, CellStatus, Provenance, RunRecord } from "./Records.ts"
import * as Registry from "./Registry.ts"
import { Store, type StoreError } from "./Store.ts"

export type { CellOutcome, Sample }

/**
 * Options of {@link run}.
 *
 * @category models
 * @since 0.1.0
 */
export interface RunOptions {
  /** Where problem and solver names are looked up. Default `Registry.default`. */
  readonly registry?: Registry.Registry
  /** Fibers: cells run at once (given alone, it selects fibers). Default: the number of cores (`navigator.hardwareConcurrency`), at least 1. */
  readonly concurrency?: number
  /** Solver steps between two yields of a cell's fiber. Default: adaptive, about `chunkMs` per chunk. */
  readonly yieldEvery?: number
  /** Target duration of a chunk of steps when `yieldEvery` is not set, in milliseconds. Default 5. */
  readonly chunkMs?: number
  /** A cell's compute-time budget (its own steps and evaluations) in milliseconds; then status `timeout`. Default: none. */
  readonly cellTimeout?: number
  /** Called with every event of the run (cells starting and finishing, telemetry samples). */
  readonly onEvent?: (event: RunEvent) => void
  /**
   * Whether `onEvent` receives the `Sample` events (telemetry at the trace's
   * iterations). Default true; false spares building them (and, on worker
   * threads, posting them) when the consumer only follows cells, as the
   * CLI's progress line does. The stored traces are the same either way.
   */
  readonly sampleEvents?: boolean
  /**
   * Run the cells on Node worker threads (`node:worker_threads`) instead of
   * in-process fibers: real parallelism. A number of threads (0: fibers), or
   * `"cores"`: one lane per core (`os.availableParallelism()` − 1 threads,
   * the main thread computing cells too, as it does beside any workers), falling back to
   * fibers when threads cannot help or cannot work (one core or one pending
   * cell, no `node:worker_threads`, a registry other than the built-ins
   * without `workerRegistry`). Default `"cores"`, or 0 (fibers) when
   * `concurrency` is given. The workers recompute each cell from (experiment, cellId),
   * with the built-in registry or the one exported as `registry` by
   * `workerRegistry`; the records are the same as with fibers.
   */
  readonly workers?: number | "cores"
  /**
   * With `workers`: whether the main thread computes cells too, as one more
   * lane (from the start, while the workers load). Default true; false
   * leaves every cell to the worker threads.
   */
  readonly mainThread?: boolean
  /** With `workers` and a registry other than the built-ins: a module (URL or absolute path) exporting it as `registry`. */
  readonly workerRegistry?: string
}

/**
 * What happens during a run.
 *
 * @category models
 * @since 0.1.0
 */
export type RunEvent =
  | {
      readonly _tag: "RunStarted"
      readonly run: RunRecord
      /** Cells to compute now. */
      readonly pending: number
      /** Cells already in the store (skipped). */
      readonly resumed: number
    }
  | { readonly _tag: "CellStarted"; readonly runId: string; readonly cell: Experiment.Cell }
  | {
      readonly _tag: "Sample"
      readonly runId: string
      readonly cellId: string
      readonly iteration: number
      readonly values: Readonly<Record<string, number>>
    }
  | { readonly _tag: "CellFinished"; readonly record: CellRecord }
  | { readonly _tag: "RunFinished"; readonly summary: RunSummary }

/**
 * The result of a run.
 *
 * @category models
 * @since 0.1.0
 */
export interface RunSummary {
  readonly runId: string
  /** Cells of the experiment. */
  readonly cells: number
  /** Cells computed by this run. */
  readonly computed: number
  /** Cells found in the store and skipped. */
  readonly resumed: number
  /** Computed cells by status. */
  readonly statuses: Readonly<Partial<Record<CellStatus, number>>>
}

/**
 * A cell id that is not among an experiment's cells.
 *
 * @category errors
 * @since 0.1.0
 */
export class CellNotFound extends Data.TaggedError("CellNotFound")<{
  readonly cellId: string
  readonly message: string
}> {}

/**
 * The run id of an experiment: the first 16 hex digits of its hash.
 *
 * @category accessors
 * @since 0.1.0
 */
export const runIdOf = (experiment: Experiment.Experiment): string =>
  Experiment.hashOf(experiment).slice(0, 16)

/**
 * The provenance of a run in this process.
 *
 * @category constructors
 * @since 0.1.0
 */
export const provenance: Effect.Effect<Provenance> = Effect.promise(collect)

const defaultConcurrency = (): number => {
  const n = (globalThis as { readonly navigator?: { readonly hardwareConcurrency?: number } }).navigator
    ?.hardwareConcurrency
  return typeof n === "number" && n >= 1 ? Math.floor(n) : 1
}

const now = (): number => performance.now()

/** The number of cores for `workers: "cores"` (Node's `os.availableParallelism()`), or undefined without `node:os`. */
const availableCores = (): Effect.Effect<number | undefined> =>
  Effect.promise(() =>
    import("node:os").then(
      (os) => (typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length),
      () => undefined
    )
  )

/** The module compile cache directory of this process (Node's `module.getCompileCacheDir()`), for its workers. */
const compileCacheDir: Effect.Effect<string | undefined> = Effect.promise(() =>
  import("node:module").then(
    (m) => (typeof m.getCompileCacheDir === "function" ? m.getCompileCacheDir() : undefined),
    () => undefined
  )
)

/** Whether `node:worker_threads` can be loaded here. */
const hasWorkerThreads = (): Effect.Effect<boolean> =>
  Effect.promise(() =>
    import("node:worker_threads").then(
      (w) => typeof w.Worker === "function",
      () => false
    )
  )

/** The worker threads of a run: `options.workers` resolved (0: in-process fibers). */
const workerCount = (
  options: RunOptions,
  registry: Registry.Registry,
  pending: number
): Effect.Effect<number> =>
  Effect.gen(function* () {
    // `concurrency` without `workers` asks for fibers.
    const requested = options.workers ?? (options.concurrency === undefined ? "cores" : 0)
    const loadable = registry === Registry.builtins || options.workerRegistry !== undefined
    if (requested === "cores") {
      if (pending <= 1 || !loadable || !(yield* hasWorkerThreads())) return 0
      // One lane per core in all: the main thread computes cells too (unless told not to).
      const cores = yield* availableCores()
      if (cores === undefined || cores <= 1) return 0
      return options.mainThread === false ? Math.min(cores, pending) : Math.min(cores - 1, pending - 1)
    }
    const n = Math.floor(requested)
    if (n > 0 && !loadable) {
      return yield* Effect.die(
        new Error("Runner.run: with `workers`, a registry other than the built-ins needs `workerRegistry`")
      )
    }
    return Math.max(0, n)
  })

const recordSolver = (solver: Experiment.CellSolver): CellRecord["solver"] =>
  solver._tag === "Solver"
    ? { name: solver.name, options: solver.options }
    : { name: solver.name, options: { stages: solver.stages } }

const iso = (millis: number): string => new Date(millis).toISOString()

/**
 * Runs one cell to its outcome as an Effect: a fiber stepping the solver in
 * chunks, yielding between them (so it is interruptible between steps). A
 * loop of `suspend`s, not `Effect.gen`: with the chunks advanced from inside
 * a generator, the bench's in-process cell ran 5–6 % slower than the same
 * driver advanced from a plain function (`bench/overhead.ts`, D against W).
 */
const driveCell = (
  experiment: Experiment.Experiment,
  cell: Experiment.Cell,
  options: RunOptions,
  caches: ReturnType<typeof makeCaches>,
  onSample: ((sample: Sample) => void) | undefined
): Effect.Effect<CellOutcome> =>
  Effect.suspend(() => {
    const driver = makeDriver(experiment, cell, {
      registry: options.registry ?? Registry.builtins,
      caches,
      yieldEvery: options.yieldEvery,
      chunkMs: options.chunkMs ?? 5,
      cellTimeout: options.cellTimeout ?? Number.POSITIVE_INFINITY,
      onSample,
      now
    })
    const loop: Effect.Effect<CellOutcome> = Effect.suspend(() =>
      driver.advance() ? Effect.succeed(driver.outcome()) : Effect.andThen(Effect.yieldNow, loop)
    )
    return loop
  })

/** An experiment validated against a registry, with its cells by id. */
interface Prepared {
  readonly valid: Experiment.Experiment
  readonly cells: ReadonlyMap<string, Experiment.Cell>
}

/**
 * Validated experiments and their cells, by experiment (an immutable value)
 * and registry: {@link runCell} called for each cell of an experiment (as
 * `descent verify` does) validates and expands it once, not once per cell.
 */
const preparedRuns = new WeakMap<Experiment.Experiment, WeakMap<Registry.Registry, Prepared>>()

const prepare = (
  experiment: Experiment.Experiment,
  registry: Registry.Registry
): Effect.Effect<Prepared, Schema.SchemaError> =>
  Effect.suspend(() => {
    const hit = preparedRuns.get(experiment)?.get(registry)
    if (hit !== undefined) return Effect.succeed(hit)
    return Effect.map(Experiment.validate(experiment, registry), (valid) => {
      const prepared: Prepared = {
        valid,
        cells: new Map(Experiment.expand(valid, registry).map((c) => [c.cellId, c]))
      }
      let byRegistry = preparedRuns.get(experiment)
      if (byRegistry === undefined) {
        byRegistry = new WeakMap()
        preparedRuns.set(experiment, byRegistry)
      }
      byRegistry.set(registry, prepared)
      return prepared
    })
  })

/**
 * Computes one cell of `experiment` on its own (no store), e.g. in a worker or
 * to inspect it: the same outcome the run records for that cell.
 *
 * @category running
 * @since 0.1.0
 */
export const runCell = (
  experiment: Experiment.Experiment,
  cellId: string,
  options: Omit<RunOptions, "concurrency" | "onEvent"> & { readonly onSample?: (sample: Sample) => void } = {}
): Effect.Effect<CellOutcome, CellNotFound | Schema.SchemaError> => {
  const registry = options.registry ?? Registry.builtins
  return Effect.flatMap(prepare(experiment, registry), ({ valid, cells }) => {
    const cell = cells.get(cellId)
    return cell === undefined
      ? Effect.fail(new CellNotFound({ cellId, message: `no cell ${cellId} in the experiment` }))
      : driveCell(valid, cell, options, noCaches, options.onSample)
  })
}

/**
 * The telemetry of one cell as a stream of samples (log-spaced iterations,
 * the last one included).
 *
 * @category running
 * @since 0.1.0
 */
export const cellTelemetry = (
  experiment: Experiment.Experiment,
  cellId: string,
  options: Omit<RunOptions, "concurrency" | "onEvent"> = {}
): Stream.Stream<Sample, CellNotFound | Schema.SchemaError> =>
  Stream.callback<Sample, CellNotFound | Schema.SchemaError>((queue) =>
    runCell(experiment, cellId, { ...options, onSample: (s) => Queue.offerUnsafe(queue, s) }).pipe(
      Effect.matchCauseEffect({
        onSuccess: () => Queue.end(queue),
        onFailure: (cause) => Queue.failCause(queue, cause)
      })
    )
  )

/**
 * Runs `experiment`: validates it against the registry, opens (or resumes)
 * its run in the `Store`, computes the cells not stored yet — each a fiber,
 * `concurrency` at a time — and stores each finished cell.
 *
 * @category running
 * @since 0.1.0
 */
export const run = (
  experiment: Experiment.Experiment,
  options: RunOptions = {}
): Effect.Effect<RunSummary, StoreError | Schema.SchemaError, Store> =>
  Effect.scoped(
    Effect.gen(function* () {
      const registry = options.registry ?? Registry.builtins
      const emit = options.onEvent ?? (() => {})
      const sampleEvents = options.onEvent !== undefined && options.sampleEvents !== false
      const valid = yield* Experiment.validate(experiment, registry)
      const store = yield* Store
      const cells = Experiment.expand(valid, registry)
      const specHash = Experiment.hashOf(valid)
      const runId = specHash.slice(0, 16)
      const createdAt = iso(yield* Clock.currentTimeMillis)
      const runRecord = yield* store.openRun({
        runId,
        name: valid.name,
        specHash,
        spec: Experiment.toJson(valid),
        cellCount: cells.length,
        provenance: yield* provenance,
        createdAt
      })
      const finished = yield* store.finishedCellIds(runId)
      const pending = cells.filter((c) => !finished.has(c.cellId))
      emit({
        _tag: "RunStarted",
        run: runRecord,
        pending: pending.length,
        resumed: cells.length - pending.length
      })
      const caches = makeCaches(pending)
      const workers = yield* workerCount(options, registry, pending.length)
      const cellsById = new Map(pending.map((c) => [c.cellId, c]))
      const mainThread = options.mainThread !== false
      const pool =
        workers > 0 && pending.length > 0
          ? yield* makePool(
              Math.min(workers, pending.length),
              {
                experiment: Experiment.toJson(valid),
                registryModule: options.workerRegistry,
                cellTimeout: options.cellTimeout ?? Number.POSITIVE_INFINITY,
                chunkMs: options.chunkMs ?? 5,
                forwardSamples: sampleEvents,
                compileCache: yield* compileCacheDir
              },
              mainThread
                ? (cellId, onSample) =>
                    driveCell(valid, cellsById.get(cellId)!, { ...options, registry }, caches, onSample)
                : undefined
            )
          : undefined
      const statuses: Partial<Record<CellStatus, number>> = {}
      let computed = 0
      let duplicates = 0
      yield* Effect.forEach(
        pending,
        (cell) =>
          Effect.gen(function* () {
            emit({ _tag: "CellStarted", runId, cell })
            const startedAt = yield* Clock.currentTimeMillis
            const onSample = sampleEvents
              ? (s: Sample): void =>
                  emit({
                    _tag: "Sample",
                    runId,
                    cellId: cell.cellId,
                    iteration: s.iteration,
                    values: s.values
                  })
              : undefined
            const outcome = yield* pool === undefined
              ? driveCell(valid, cell, { ...options, registry }, caches, onSample)
              : pool.run(cell.cellId, onSample, (local) => {
                  // A cell sent to a worker does not need this thread's instance.
                  if (!local) caches.release(cell)
                })
            const finishedAt = yield* Clock.currentTimeMillis
            const record: CellRecord = {
              runId,
              cellId: cell.cellId,
              problem: cell.problem,
              solver: recordSolver(cell.solver),
              repetition: cell.repetition,
              key: outcome.key,
              status: outcome.status,
              message: outcome.message,
              iterations: outcome.iterations,
              metrics: outcome.metrics,
              trace: outcome.trace,
              startedAt: iso(startedAt),
              finishedAt: iso(finishedAt),
              wallTimeMs: outcome.busyMs
            }
            const stored = yield* store.putCell(record).pipe(
              Effect.as(true),
              Effect.catchIf(
                (e) => e.kind === "duplicate",
                () => Effect.succeed(false)
              )
            )
            if (!stored) {
              duplicates++
              return
            }
            computed++
            statuses[record.status] = (statuses[record.status] ?? 0) + 1
            emit({ _tag: "CellFinished", record })
          }),
        {
          // With workers, the main thread is one more lane (see `makePool`).
          concurrency:
            workers > 0
              ? workers + (mainThread ? 1 : 0)
              : Math.max(1, Math.floor(options.concurrency ?? defaultConcurrency())),
          discard: true
        }
      )
      const summary: RunSummary = {
        runId,
        cells: cells.length,
        computed,
        resumed: cells.length - pending.length + duplicates,
        statuses
      }
      emit({ _tag: "RunFinished", summary })
      return summary
    })
  )

/**
 * {@link run} as a stream of its events (ending after `RunFinished`).
 *
 * @category running
 * @since 0.1.0
 */
export const stream = (
  experiment: Experiment.Experiment,
  options: Omit<RunOptions, "onEvent"> = {}
): Stream.Stream<RunEvent, StoreError | Schema.SchemaError, Store> =>
  Stream.callback<RunEvent, StoreError | Schema.SchemaError, Store>((queue) =>
    run(experiment, {
      ...options,
      onEvent: (e) => {
        Queue.offerUnsafe(queue, e)
      }
    }).pipe(
      Effect.matchCauseEffect({
        onSuccess: () => Queue.end(queue),
        onFailure: (cause: Cause.Cause<StoreError | Schema.SchemaError>) => Queue.failCause(queue, cause)
      })
    )
  )
