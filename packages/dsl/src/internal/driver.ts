/**
 * The synchronous core of the runner: one cell as a resumable state machine.
 * `advance()` runs one chunk of solver steps (checks, samples, stage
 * switches included) and returns whether the cell is finished; the runner
 * calls it from a fiber and yields between chunks, a worker thread calls it in
 * a loop. No Effect and no allocation per step in here.
 */
import { Objective, Random, type Solver, Vector } from "@descent/core"
import { Lbfgs, LbfgsB, ProximalGradient } from "@descent/optim"
import { Schema } from "effect"
import * as Evaluators from "../Evaluators.ts"
import type { Cell, Experiment } from "../Experiment.ts"
import type { CellStatus, Trace } from "../Records.ts"
import type { Machine, ProblemInstance, Registry } from "../Registry.ts"
import * as Seeds from "../Seeds.ts"
import * as Stopping from "../Stopping.ts"

/** What a finished cell produced (a `CellRecord` without run id and timestamps). */
export interface CellOutcome {
  readonly status: CellStatus
  readonly message: string
  readonly iterations: number
  readonly metrics: Record<string, number>
  readonly trace: Trace
  readonly key: [number, number]
  /** The cell's own compute time (steps and evaluations), in milliseconds. */
  readonly busyMs: number
}

/** A sample of the telemetry: the metrics at one iteration. */
export interface Sample {
  readonly iteration: number
  readonly values: Readonly<Record<string, number>>
}

/** Per-run caches shared by the cells: problem instances and reference optima. */
export interface Caches {
  readonly instance: (cell: Cell, build: () => ProblemInstance) => ProblemInstance
  readonly optimum: (cell: Cell, compute: () => number) => number
  /** Called when a cell no longer needs its instance. */
  readonly release: (cell: Cell) => void
}

/** Caches that keep each instance until the last of `cells` sharing it is released. */
export const makeCaches = (cells: ReadonlyArray<Cell>): Caches => {
  const refs = new Map<string, number>()
  for (const c of cells) refs.set(c.instanceId, (refs.get(c.instanceId) ?? 0) + 1)
  const instances = new Map<string, ProblemInstance>()
  const optima = new Map<string, number>()
  return {
    instance: (cell, build) => {
      let i = instances.get(cell.instanceId)
      if (i === undefined) {
        i = build()
        instances.set(cell.instanceId, i)
      }
      return i
    },
    optimum: (cell, compute) => {
      let f = optima.get(cell.instanceId)
      if (f === undefined) {
        f = compute()
        optima.set(cell.instanceId, f)
      }
      return f
    },
    release: (cell) => {
      const n = (refs.get(cell.instanceId) ?? 1) - 1
      refs.set(cell.instanceId, n)
      if (n <= 0) {
        instances.delete(cell.instanceId)
        optima.delete(cell.instanceId)
      }
    }
  }
}

/** Caches that keep nothing (one cell on its own). */
export const noCaches: Caches = {
  instance: (_cell, build) => build(),
  optimum: (_cell, compute) => compute(),
  release: () => {}
}

/** Tolerance and budget of the reference solve behind `suboptimality({ reference: "bestFound" })`. */
export const REFERENCE = { tolerance: 1e-10, maxIterations: 20_000 } as const

/**
 * The best value a high-accuracy solve reaches on the instance: L-BFGS
 * (smooth), L-BFGS-B (bounds) or FISTA with gradient restarts (regularizer),
 * to a gradient(-mapping) tolerance of 1e-10; the minimum with the start's value
 * (NaN when the reference solve throws).
 */
export const referenceOptimum = (problem: ProblemInstance): number => {
  const start = Evaluators.objectiveValue(problem, problem.x0)
  let best: number
  try {
    best = referenceSolve(problem)
  } catch {
    // A reference that cannot be computed leaves the suboptimality unknown, not the cell failed.
    return Number.NaN
  }
  return Number.isFinite(best) ? Math.min(best, start) : start
}

const referenceSolve = (problem: ProblemInstance): number => {
  let best: number
  if (problem.regularizer !== undefined) {
    best = ProximalGradient.fista(problem.objective, problem.regularizer, problem.x0, {
      tolerance: REFERENCE.tolerance,
      maxIterations: REFERENCE.maxIterations,
      restart: "gradient"
    }).fun
  } else if (problem.bounds !== undefined) {
    best = LbfgsB.minimize(problem.objective, problem.x0, {
      lower: problem.bounds.lower,
      upper: problem.bounds.upper,
      tolerance: REFERENCE.tolerance,
      functionTolerance: 0,
      maxIterations: REFERENCE.maxIterations
    }).fun
  } else {
    best = Lbfgs.minimize(problem.objective, problem.x0, {
      tolerance: REFERENCE.tolerance,
      functionTolerance: 0,
      maxIterations: REFERENCE.maxIterations
    }).fun
  }
  return best
}

/** Options of a cell driver. */
export interface DriverOptions {
  readonly registry: Registry
  readonly caches: Caches
  /** Solver steps per chunk; `undefined`: adapt so a chunk takes about `chunkMs`. */
  readonly yieldEvery: number | undefined
  readonly chunkMs: number
  /** The cell's compute-time budget in milliseconds (status `timeout`). */
  readonly cellTimeout: number
  readonly onSample: ((sample: Sample) => void) | undefined
  readonly now: () => number
}

/** The cell driver. */
export interface Driver {
  /** Runs one chunk; true when the cell is finished. */
  readonly advance: () => boolean
  /** The outcome (after `advance` returned true). */
  readonly outcome: () => CellOutcome
}

interface StagePlan {
  readonly machine: Machine
  readonly until: Stopping.StoppingRule | undefined
}

const errorMessage = (e: unknown): string => {
  if (e instanceof Error) {
    const tag = (e as { readonly _tag?: unknown })._tag
    return typeof tag === "string" && !e.message.startsWith(tag) ? `${tag}: ${e.message}` : e.message
  }
  return String(e)
}

const defaultMessage = (status: CellStatus, iterations: number): string => {
  switch (status) {
    case "converged":
      return `converged after ${iterations} iterations`
    case "maxIterations":
      return `iteration budget reached after ${iterations} iterations`
    case "diverged":
      return `the objective or the iterate became NaN or infinite after ${iterations} iterations`
    case "stalled":
      return `no further progress after ${iterations} iterations`
    case "interrupted":
      return `interrupted after ${iterations} iterations`
    case "timeout":
      return `time budget exhausted after ${iterations} iterations`
    case "failed":
      return "failed"
  }
}

/** The next trace sample after iteration t: max(t + 1, ⌊t·ratio⌋). */
export const nextSampleAfter = (t: number, ratio: number): number => Math.max(t + 1, Math.floor(t * ratio))

const MIN_CHUNK = 1
const MAX_CHUNK = 1 << 20

// The built-in metrics as small integers (slots of a driver's metric cache).
const K_OBJECTIVE = 0
const K_SUBOPTIMALITY = 1
const K_GRADIENT_NORM = 2
const K_CONSTRAINT_VIOLATION = 3
const K_WALL_TIME = 4
const K_VALUE_CALLS = 5
const K_GRADIENT_CALLS = 6
const K_HESSIAN_VECTOR_CALLS = 7
const K_STATE_SCALARS = 8
const K_STATE_BYTES = 9
const K_STAGE = 10
const METRIC_KINDS = 11
/** A `solver.<name>` metric (read from the machine's own metrics, not cached in a slot). */
const K_SOLVER = 11
/** Any other name: NaN. */
const K_UNKNOWN = 12

const metricKind = (name: string): number => {
  switch (name) {
    case "objective":
      return K_OBJECTIVE
    case "suboptimality":
      return K_SUBOPTIMALITY
    case "gradientNorm":
      return K_GRADIENT_NORM
    case "constraintViolation":
      return K_CONSTRAINT_VIOLATION
    case "wallTimeMs":
      return K_WALL_TIME
    case "valueCalls":
      return K_VALUE_CALLS
    case "gradientCalls":
      return K_GRADIENT_CALLS
    case "hessianVectorCalls":
      return K_HESSIAN_VECTOR_CALLS
    case "stateScalars":
      return K_STATE_SCALARS
    case "stateBytes":
      return K_STATE_BYTES
    case "stage":
      return K_STAGE
    default:
      return name.startsWith("solver.") ? K_SOLVER : K_UNKNOWN
  }
}

/**
 * Decoded parameters and options by schema and raw value. The cells of a run
 * share their problem and solver specifications (objects), so each is decoded
 * once per run instead of once per cell; an experiment is an immutable value.
 */
const decoded = new WeakMap<object, WeakMap<object, unknown>>()

const decodeCached = <A>(schema: Schema.Codec<A, unknown>, raw: unknown): A => {
  if (typeof raw !== "object" || raw === null) return Schema.decodeUnknownSync(schema)(raw)
  let bySchema = decoded.get(schema)
  if (bySchema === undefined) {
    bySchema = new WeakMap()
    decoded.set(schema, bySchema)
  }
  if (bySchema.has(raw)) return bySchema.get(raw) as A
  const value = Schema.decodeUnknownSync(schema)(raw)
  bySchema.set(raw, value)
  return value
}

/**
 * Scratch vectors for the evaluators, by length, shared by the drivers of a
 * thread: they are used only inside one synchronous metric computation, never
 * across a yield, so cells need not allocate their own.
 */
const scratchByLength = new Map<number, Float64Array>()
const SCRATCH_LENGTHS = 8

const sharedScratch = (n: number): Float64Array => {
  let v = scratchByLength.get(n)
  if (v === undefined) {
    if (scratchByLength.size >= SCRATCH_LENGTHS) scratchByLength.delete(scratchByLength.keys().next().value!)
    v = Vector.zeros(n)
    scratchByLength.set(n, v)
  } else v.fill(0) // as a fresh vector: the same numbers whatever ran before
  return v
}

/** The registers of {@link runSteps}, reused by a driver from chunk to chunk. */
interface Segment {
  state: unknown
  iteration: number
  nextCheck: number
  /** Whether the segment ended at a check point whose light check failed. */
  stopped: boolean
}

/**
 * The hot loop: steps from `segment.iteration` up to iteration `end`, with
 * the light check at each check point before it (every `checkEvery`
 * iterations: the residual is finite and, for a machine that stops by
 * itself, its status is undefined); ends early, with `stopped`, after a check
 * that fails. A function of its own, small enough that V8 inlines the
 * machine's step into it, with two comparisons per step before the light
 * check (the chunk loop made up to seven).
 */
const runSteps = (
  m: Machine,
  segment: Segment,
  end: number,
  checkEvery: number,
  selfStopping: boolean
): void => {
  const step = m.step
  const residual = m.residual
  const status = m.status
  let s = segment.state
  let it = segment.iteration
  let next = segment.nextCheck
  let stopped = false
  for (;;) {
    s = step(s)
    it++
    if (it >= end) break
    if (it < next) continue
    next += checkEvery
    const r = residual(s)
    if (r - r !== 0 || (selfStopping && status(s) !== undefined)) {
      stopped = true
      break
    }
  }
  segment.state = s
  segment.iteration = it
  segment.nextCheck = next
  segment.stopped = stopped
}

/** Builds the driver of `cell`; never throws (a failure is the outcome `failed`). */
export const makeDriver = (experiment: Experiment, cell: Cell, options: DriverOptions): Driver => {
  const { registry, caches, now } = options
  const key = Seeds.cellKey(experiment.seed, cell.cellId)
  const checkEvery = experiment.sampling.checkEvery
  const ratio = experiment.sampling.traceRatio
  const evaluators = experiment.evaluators
  const pipeline = cell.solver._tag === "Pipeline"

  const trace: { iteration: Array<number>; values: Record<string, Array<number>> } = {
    iteration: [],
    values: {}
  }
  let status: CellStatus | undefined
  let message: string | undefined
  let iteration = 0
  let stageIndex = 0
  let solverMs = 0
  let busyMs = 0
  let evaluationMs = 0
  let nextSample = 0
  let lastSampled = -1
  let chunk = options.yieldEvery ?? MIN_CHUNK

  let problem: ProblemInstance | undefined
  /** The instance the solvers see: the problem, with a metered objective unless every stage counts its own calls. */
  let seen: ProblemInstance | undefined
  let meter: Objective.MeteredObjective | undefined
  /** Oracle calls of the finished stages (machines that count their own calls). */
  const base = Objective.zeroCounts()
  /** The cell's oracle counts so far, written into one reused record (read at once by the caller). */
  const total = Objective.zeroCounts()
  const counts = (): Objective.OracleCounts => {
    if (meter !== undefined) return meter.counts
    const c = machine!.counts!(state)
    total.value = base.value + c.value
    total.gradient = base.gradient + c.gradient
    total.hessianVector = base.hessianVector + c.hessianVector
    total.matvec = base.matvec + c.matvec
    return total
  }
  let optimum = Number.NaN
  let stages: Array<StagePlan> = []
  let machine: Machine | undefined
  let state: unknown
  let cellChecker: Stopping.Checker | undefined
  let stageChecker: Stopping.Checker | undefined
  let scratch: Float64Array | undefined
  let released = false

  const finish = (s: CellStatus, m?: string): void => {
    status = s
    message = m
  }

  // ---- metrics ------------------------------------------------------------

  // The metrics of the current iteration, each computed at most once: a slot
  // per built-in metric, valid while its stamp equals `generation` (bumping
  // the generation forgets them all without clearing anything).
  const slotValues = new Float64Array(METRIC_KINDS)
  const slotStamps = new Uint32Array(METRIC_KINDS)
  let generation = 1
  const remember = (kind: number, v: number): void => {
    slotValues[kind] = v
    slotStamps[kind] = generation
  }
  let solverMetrics: Solver.Metrics | undefined
  /** Whether samples need both the objective and the gradient norm (one `valueAndGradient` gives both). */
  let paired = false
  /** Metric `name` of kind `kind` (`metricKind(name)`) at the current iteration. */
  const metricOf = (kind: number, name: string): number => {
    if (kind < METRIC_KINDS && slotStamps[kind] === generation) return slotValues[kind]!
    const x = machine!.iterate(state)
    const p = problem!
    let v: number
    switch (kind) {
      case K_OBJECTIVE:
        if (paired) {
          const f = p.objective.valueAndGradient(x, scratch!)
          v = p.regularizer === undefined ? f : f + p.regularizer.value(x)
          remember(K_GRADIENT_NORM, Evaluators.gradientMappingNormFrom(p, x, scratch!))
        } else v = Evaluators.objectiveValue(p, x)
        break
      case K_SUBOPTIMALITY:
        v = metricOf(K_OBJECTIVE, "objective") - optimum
        break
      case K_GRADIENT_NORM:
        v = Evaluators.gradientMappingNorm(p, x, scratch!)
        break
      case K_CONSTRAINT_VIOLATION:
        v = Evaluators.constraintViolationOf(p, x)
        break
      case K_WALL_TIME:
        v = solverMs
        break
      case K_VALUE_CALLS:
      case K_GRADIENT_CALLS:
      case K_HESSIAN_VECTOR_CALLS: {
        const c = counts()
        remember(K_VALUE_CALLS, c.value)
        remember(K_GRADIENT_CALLS, c.gradient)
        remember(K_HESSIAN_VECTOR_CALLS, c.hessianVector)
        v = kind === K_VALUE_CALLS ? c.value : kind === K_GRADIENT_CALLS ? c.gradient : c.hessianVector
        break
      }
      case K_STATE_SCALARS:
      case K_STATE_BYTES: {
        const size = machine!.stateSize(state)
        remember(K_STATE_SCALARS, size.scalars)
        remember(K_STATE_BYTES, size.bytes)
        v = kind === K_STATE_SCALARS ? size.scalars : size.bytes
        break
      }
      case K_STAGE:
        v = stageIndex
        break
      case K_SOLVER:
        solverMetrics ??= machine!.metrics(state)
        return solverMetrics[name.slice("solver.".length)] ?? Number.NaN
      default:
        return Number.NaN
    }
    remember(kind, v)
    return v
  }
  const metric = (name: string): number => metricOf(metricKind(name), name)
  const freshMetrics = (): void => {
    generation++
    solverMetrics = undefined
  }

  const columns = (): Array<string> => {
    const names: Array<string> = []
    for (const e of evaluators) {
      for (const name of Evaluators.outputs(e)) {
        if (name === "constraintViolation" && problem!.bounds === undefined) continue
        if (!names.includes(name)) names.push(name)
      }
    }
    if (pipeline) names.push("stage")
    return names
  }
  let columnNames: Array<string> = []
  /** `metricKind` of each of `columnNames`. */
  let columnKinds: Array<number> = []
  let pairedColumns = false

  /** The columns of `columnNames`, in order (also in `trace.values`). */
  let columnArrays: Array<Array<number>> = []
  /** The solver's own metrics by name, each also in `trace.values` as `solver.<name>`. */
  const solverColumns = new Map<string, Array<number>>()

  /** Records a trace sample at the current iteration (once per iteration). */
  const sample = (): void => {
    if (lastSampled === iteration) return
    const t0 = now()
    freshMetrics()
    paired = pairedColumns
    const k = trace.iteration.length
    trace.iteration.push(iteration)
    for (let c = 0; c < columnNames.length; c++)
      columnArrays[c]!.push(metricOf(columnKinds[c]!, columnNames[c]!))
    paired = false
    solverMetrics ??= machine!.metrics(state)
    for (const name in solverMetrics) {
      let column = solverColumns.get(name)
      if (column === undefined) {
        column = new Array<number>(k).fill(Number.NaN)
        solverColumns.set(name, column)
        trace.values[`solver.${name}`] = column
      }
      column.push(solverMetrics[name]!)
    }
    if (solverColumns.size > 0) {
      for (const column of solverColumns.values()) if (column.length < k + 1) column.push(Number.NaN)
    }
    lastSampled = iteration
    while (nextSample <= iteration) nextSample = nextSampleAfter(nextSample, ratio)
    evaluationMs += now() - t0
    if (options.onSample !== undefined) options.onSample({ iteration, values: sampleAt(k) })
  }

  /** The values of trace sample `k`. */
  const sampleAt = (k: number): Record<string, number> => {
    const values: Record<string, number> = {}
    for (const name of Object.keys(trace.values)) values[name] = trace.values[name]![k]!
    return values
  }

  // ---- stages -------------------------------------------------------------

  /** The iteration at which the current stage started. */
  let stageStart = 0
  /** Whether the rules must be evaluated at every check (they read metrics). */
  let rulesNeedMetrics = false
  /** Whether some rule reads the solver time (evaluated at chunk ends, where the time is measured). */
  let rulesNeedTime = false
  /**
   * When no rule reads metrics, the rules can only start to hold at an
   * iteration bound (their time parts are evaluated at chunk ends): the
   * smallest cell iteration at which a rule must be evaluated.
   */
  let ruleBound = Number.POSITIVE_INFINITY

  const startStage = (index: number, x0: Float64Array): void => {
    stageIndex = index
    stageStart = iteration
    const plan = stages[index]!
    machine = plan.machine
    state = machine.init(seen!, { x0, key: Seeds.stageKey(key, index) })
    stageChecker = plan.until === undefined ? undefined : Stopping.compile(plan.until)
    rulesNeedMetrics = cellChecker!.needsMetrics || stageChecker?.needsMetrics === true
    rulesNeedTime = cellChecker!.needsTime || stageChecker?.needsTime === true
    ruleBound = Math.min(
      Stopping.iterationBound(experiment.stopping),
      plan.until === undefined ? Number.POSITIVE_INFINITY : stageStart + Stopping.iterationBound(plan.until)
    )
  }

  const checkInput = {
    iteration: 0,
    solverTimeMs: 0,
    metric: (name: string): number => metric(name)
  }

  /**
   * A check point: the solver's verdict, then the stage's and the cell's
   * rules. Ends the cell (sets `status`) or switches the stage. Returns true
   * when the cell is finished.
   */
  const check = (): boolean => {
    const m = machine!
    const r = m.residual(state)
    let verdict: CellStatus | undefined
    let stageDone = false
    if (r - r !== 0) verdict = "diverged"
    else {
      const s = m.status(state)
      if (s === "diverged" || s === "interrupted") verdict = s
      else if (s !== undefined) {
        if (stageIndex === stages.length - 1) verdict = s
        else stageDone = true
      }
    }
    if (verdict === undefined && !stageDone) {
      let t0 = 0
      if (rulesNeedMetrics) {
        t0 = now()
        freshMetrics()
      }
      checkInput.solverTimeMs = solverMs
      if (stageChecker !== undefined) {
        checkInput.iteration = iteration - stageStart
        const s = stageChecker.check(checkInput)
        if (s !== undefined) {
          if (stageIndex === stages.length - 1) verdict = s
          else stageDone = true
        }
      }
      checkInput.iteration = iteration
      const c = cellChecker!.check(checkInput)
      if (c !== undefined) verdict = c
      if (rulesNeedMetrics) evaluationMs += now() - t0
    }
    if (verdict !== undefined) {
      sample()
      finish(verdict, m.message(state))
      return true
    }
    if (stageDone) {
      sample()
      if (meter === undefined) {
        const c = m.counts!(state)
        base.value += c.value
        base.gradient += c.gradient
        base.hessianVector += c.hessianVector
        base.matvec += c.matvec
      }
      const x = m.iterate(state)
      startStage(stageIndex + 1, x)
      return check()
    }
    return false
  }

  // ---- setup --------------------------------------------------------------

  const setup = (): boolean => {
    const generator = registry.problems.get(cell.problem.name)
    if (generator === undefined) throw new Error(`unknown problem "${cell.problem.name}"`)
    const parameters = decodeCached(generator.parameters, cell.problem.parameters)
    problem = caches.instance(cell, () =>
      generator.make(parameters, Seeds.instanceKey(experiment.seed, cell.instanceId))
    )
    scratch = sharedScratch(problem.x0.length)
    const wantsReference = evaluators.some((e) => e._tag === "Suboptimality" && e.reference === "bestFound")
    const p = problem
    optimum = p.optimum ?? (wantsReference ? caches.optimum(cell, () => referenceOptimum(p)) : Number.NaN)
    const specs =
      cell.solver._tag === "Solver" ? [{ solver: cell.solver, until: undefined }] : cell.solver.stages
    stages = specs.map((s) => {
      const definition = registry.solvers.get(s.solver.name)
      if (definition === undefined) throw new Error(`unknown solver "${s.solver.name}"`)
      const decoded = decodeCached(definition.options, s.solver.options)
      return { machine: definition.make(decoded), until: s.until }
    })
    if (stages.some((st) => st.machine.counts === undefined)) {
      meter = Objective.meter(problem.objective)
      seen = { ...problem, objective: meter }
    } else seen = problem
    cellChecker = Stopping.compile(experiment.stopping)
    columnNames = columns()
    columnKinds = columnNames.map(metricKind)
    columnArrays = columnNames.map((name) => {
      const column: Array<number> = []
      trace.values[name] = column
      return column
    })
    pairedColumns = columnNames.includes("objective") && columnNames.includes("gradientNorm")
    startStage(0, problem.x0)
    nextSample = 0
    if (check()) return true
    sample()
    return false
  }

  let started = false
  const segment: Segment = { state: undefined, iteration: 0, nextCheck: 0, stopped: false }

  /**
   * One chunk of steps. The per-step path is kept lean: step, and at a check
   * point (every `checkEvery` iterations) the solver's residual and status;
   * the full `check` (rules, samples, stage switches) runs only when one of
   * those says stop, when the rules read metrics, at a trace sample, or at
   * the rules' iteration bound.
   */
  const runChunk = (): boolean => {
    const m = machine!
    const residual = m.residual
    const status = m.status
    const first = iteration
    const limit = iteration + chunk
    const t0 = now()
    const evaluationBefore = evaluationMs
    let done = false
    let it = iteration
    let s = state
    let nextCheck = (Math.floor(it / checkEvery) + 1) * checkEvery
    // Locals for the loop (`check` and `sample` may change the originals).
    let sampleAt = nextSample
    const bound = ruleBound
    const fullChecks = rulesNeedMetrics
    const selfStopping = m.stops !== false
    while (it < limit) {
      // Steps up to the next iteration that needs more than the light check
      // (a sample, the rules' bound, a check point when the rules read metrics).
      let end = limit
      if (sampleAt < end) end = sampleAt
      if (bound < end) end = bound
      if (fullChecks && nextCheck < end) end = nextCheck
      segment.state = s
      segment.iteration = it
      segment.nextCheck = nextCheck
      runSteps(m, segment, end, checkEvery, selfStopping)
      s = segment.state
      it = segment.iteration
      nextCheck = segment.nextCheck
      let isCheck = true
      if (!segment.stopped) {
        // At `end`: is it a check point (every `checkEvery` iterations, and the rules' bound)?
        isCheck = it >= nextCheck || it >= bound
        if (it >= nextCheck) nextCheck += checkEvery
        if (isCheck && !fullChecks && it < sampleAt && it < bound) {
          const r = residual(s)
          if (r - r === 0 && (!selfStopping || status(s) === undefined)) continue
        }
        if (!isCheck && it < sampleAt) continue
      }
      iteration = it
      state = s
      const sampling = it >= sampleAt
      if (isCheck && check()) {
        done = true
        break
      }
      if (sampling) sample()
      if (machine !== m) break // a new stage started: re-read its functions
      sampleAt = nextSample
    }
    if (!done && machine === m) {
      iteration = it
      state = s
    }
    const elapsed = now() - t0
    solverMs += elapsed - (evaluationMs - evaluationBefore)
    const steps = iteration - first
    if (options.yieldEvery === undefined && steps > 0) {
      // Aim at chunks of about `chunkMs`/10, growing at most 64-fold per chunk.
      const ideal = elapsed > 0 ? (options.chunkMs * steps) / (10 * elapsed) : MAX_CHUNK
      chunk = Math.max(MIN_CHUNK, Math.min(MAX_CHUNK, chunk * 64, Math.floor(ideal)))
    }
    if (!done && rulesNeedTime) done = check()
    return done
  }

  const advance = (): boolean => {
    if (status !== undefined) return true
    const t0 = now()
    try {
      if (!started) {
        started = true
        if (setup()) return wrapUp(t0)
      }
      // Without `yieldEvery`, chunks (sized to take about a tenth of
      // `chunkMs`) repeat until `chunkMs` has passed: the caller yields about
      // every `chunkMs`, and a short cell runs without yielding at all.
      do {
        if (runChunk()) return wrapUp(t0)
      } while (
        options.yieldEvery === undefined &&
        now() - t0 < options.chunkMs &&
        busyMs + now() - t0 < options.cellTimeout
      )
    } catch (e) {
      finish("failed", errorMessage(e))
      try {
        if (machine !== undefined && problem !== undefined) sample()
      } catch {
        // the state may be unusable after the failure; keep the trace as it is
      }
      return wrapUp(t0)
    }
    busyMs += now() - t0
    if (busyMs >= options.cellTimeout) {
      try {
        sample()
      } catch {
        // as above
      }
      finish(
        "timeout",
        `cell time budget of ${options.cellTimeout} ms exhausted after ${iteration} iterations`
      )
      return wrapUp(undefined)
    }
    return false
  }

  const wrapUp = (t0: number | undefined): boolean => {
    if (t0 !== undefined) busyMs += now() - t0
    if (!released) {
      released = true
      caches.release(cell)
    }
    return true
  }

  const outcome = (): CellOutcome => ({
    status: status ?? "interrupted",
    message: message ?? defaultMessage(status ?? "interrupted", iteration),
    iterations: iteration,
    metrics: trace.iteration.length === 0 ? {} : sampleAt(trace.iteration.length - 1),
    trace,
    key: Random.keyData(key),
    busyMs
  })

  return { advance, outcome }
}
