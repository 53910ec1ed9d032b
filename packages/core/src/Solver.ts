/**
 * The iterative-solver protocol every descent solver implements, and the one
 * generic loop that runs any of them.
 *
 * A solver is a pure state machine — `init`, `step`, `status`, `output` — in
 * the spirit of OTT-JAX's solver loop and Optax's `init`/`update`. Keeping the
 * loop outside the solver means every solver gets the same guarantees for free:
 * a bounded number of iterations, divergence detection on a non-finite
 * residual, interruption, an observer hook and a per-iteration trace, and the
 * experiment runner can drive, stop and record any solver the same way.
 *
 * Not converging is reported data (`status`), never an exception and never an
 * endless loop.
 *
 * @since 0.1.0
 */
import { InvalidOptions } from "./Errors.ts"

/**
 * How a run ended.
 * - `converged`: the solver's own stopping test holds.
 * - `maxIterations`: the iteration budget ran out first.
 * - `diverged`: the residual (or the iterate) became NaN or infinite.
 * - `stalled`: the solver can make no further progress (e.g. a failed line search).
 * - `interrupted`: stopped from outside (observer, abort signal, time budget).
 *
 * @category models
 * @since 0.1.0
 */
export type Status = "converged" | "maxIterations" | "diverged" | "stalled" | "interrupted"

/**
 * All statuses, in a fixed order (for schemas and tables).
 *
 * @category models
 * @since 0.1.0
 */
export const statuses: ReadonlyArray<Status> = [
  "converged",
  "maxIterations",
  "diverged",
  "stalled",
  "interrupted"
]

/**
 * Named scalars describing a solver state, e.g. `{ objective, gradientNorm }`.
 *
 * @category models
 * @since 0.1.0
 */
export type Metrics = Readonly<Record<string, number>>

/**
 * A solver as a state machine.
 *
 * `step` may mutate buffers inside the state for speed and return the same
 * object; callers must treat a state passed to `step` as consumed.
 *
 * @category models
 * @since 0.1.0
 */
export interface IterativeSolver<Problem, Options, State, Output> {
  /** A stable identifier, recorded with results. */
  readonly name: string
  /** Builds the initial state; validates the problem and options (typed errors). */
  init(problem: Problem, options: Options): State
  /** Performs one iteration. */
  step(state: State): State
  /** The solver's verdict on the current state, or `undefined` to keep going. */
  status(state: State): Status | undefined
  /** A scalar progress measure (gradient norm, marginal error, …); non-finite means diverged. */
  residual(state: State): number
  /** Named scalars for traces and evaluators; called only when they are recorded. */
  metrics(state: State): Metrics
  /** The result record of the current state. */
  output(state: State): Output
}

/**
 * Options of the generic loop.
 *
 * @category models
 * @since 0.1.0
 */
export interface LoopOptions<State = unknown> {
  /** Iteration budget (a non-negative integer). Default 1000. */
  readonly maxIterations?: number
  /** Check `status` and `residual` every this many iterations (≥ 1). Default 1. */
  readonly checkEvery?: number
  /** Record `metrics` every this many iterations (≥ 1); 0 records nothing. Default 0. */
  readonly traceEvery?: number
  /** Called after each check; returning `"stop"` ends the run as `interrupted`. */
  // biome-ignore lint/suspicious/noConfusingVoidType: observers that return nothing are the common case
  readonly observer?: (iteration: number, state: State) => "stop" | undefined | void
  /** Aborting the signal ends the run as `interrupted` at the next check. */
  readonly signal?: AbortSignal
}

/**
 * Default loop options.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultLoopOptions = { maxIterations: 1000, checkEvery: 1, traceEvery: 0 } as const

/**
 * Recorded metrics: `iteration[k]` is the iteration at which `values[name][k]` was taken.
 *
 * @category models
 * @since 0.1.0
 */
export interface Trace {
  readonly iteration: number[]
  readonly values: Record<string, number[]>
}

/**
 * What a run returns: how it ended, after how many iterations, the solver's
 * output, the last residual and the trace (empty unless requested).
 *
 * @category models
 * @since 0.1.0
 */
export interface RunResult<Output> {
  readonly status: Status
  readonly iterations: number
  readonly residual: number
  readonly output: Output
  readonly trace: Trace
}

const checkCount = (field: string, value: number, min: number): void => {
  if (!Number.isInteger(value) || value < min) {
    throw new InvalidOptions({ operation: "Solver.run", field, value, requirement: `an integer ≥ ${min}` })
  }
}

/**
 * The loop's stopping rule after `iteration` steps, shared by `run` and the
 * experiment runner: a non-finite residual is `diverged`, then the solver's own
 * status, then the iteration budget.
 *
 * @category combinators
 * @since 0.1.0
 */
export const decide = <State>(
  solver: IterativeSolver<unknown, unknown, State, unknown>,
  state: State,
  iteration: number,
  maxIterations: number
): Status | undefined => {
  const r = solver.residual(state)
  if (r - r !== 0) return "diverged"
  const s = solver.status(state)
  if (s !== undefined) return s
  return iteration >= maxIterations ? "maxIterations" : undefined
}

/**
 * Runs `solver` from an existing state (a warm start, or resuming a run).
 *
 * @throws InvalidOptions when a loop option is out of range.
 * @category combinators
 * @since 0.1.0
 */
export const runFrom = <Problem, Options, State, Output>(
  solver: IterativeSolver<Problem, Options, State, Output>,
  initial: State,
  options: LoopOptions<State> = {}
): RunResult<Output> => {
  const maxIterations = options.maxIterations ?? defaultLoopOptions.maxIterations
  const checkEvery = options.checkEvery ?? defaultLoopOptions.checkEvery
  const traceEvery = options.traceEvery ?? defaultLoopOptions.traceEvery
  checkCount("maxIterations", maxIterations, 0)
  checkCount("checkEvery", checkEvery, 1)
  checkCount("traceEvery", traceEvery, 0)
  const trace: Trace = { iteration: [], values: {} }
  const record = (iteration: number, state: State): void => {
    const m = solver.metrics(state)
    const k = trace.iteration.length
    trace.iteration.push(iteration)
    for (const name of Object.keys(m)) {
      let column = trace.values[name]
      if (column === undefined) {
        column = new Array<number>(k).fill(Number.NaN)
        trace.values[name] = column
      }
      column.push(m[name]!)
    }
    for (const name of Object.keys(trace.values)) {
      const column = trace.values[name]!
      if (column.length < k + 1) column.push(Number.NaN)
    }
  }
  const general = solver as unknown as IterativeSolver<unknown, unknown, State, unknown>
  let state = initial
  let iteration = 0
  if (traceEvery > 0) record(0, state)
  let status = decide(general, state, iteration, maxIterations)
  while (status === undefined) {
    state = solver.step(state)
    iteration++
    if (traceEvery > 0 && iteration % traceEvery === 0) record(iteration, state)
    if (iteration % checkEvery !== 0 && iteration < maxIterations) continue
    status = decide(general, state, iteration, maxIterations)
    if (status !== undefined) break
    if (options.signal?.aborted === true || options.observer?.(iteration, state) === "stop")
      status = "interrupted"
  }
  if (traceEvery > 0 && iteration % traceEvery !== 0) record(iteration, state)
  return {
    status,
    iterations: iteration,
    residual: solver.residual(state),
    output: solver.output(state),
    trace
  }
}

/**
 * Initializes `solver` on `problem` and runs it to a status.
 *
 * @example
 * const result = Solver.run(mySolver, problem, { tolerance: 1e-8 }, { maxIterations: 500 })
 * if (result.status !== "converged") console.warn(result.status, result.residual)
 * @category combinators
 * @since 0.1.0
 */
export const run = <Problem, Options, State, Output>(
  solver: IterativeSolver<Problem, Options, State, Output>,
  problem: Problem,
  solverOptions: Options,
  options: LoopOptions<State> = {}
): RunResult<Output> => runFrom(solver, solver.init(problem, solverOptions), options)
