/**
 * What every deterministic solver of this package shares: the result record
 * (`MinimizeResult`, SciPy's `OptimizeResult` in typed form), the common
 * options, the checks of a starting point and of box bounds, and `runSolver`,
 * which drives any solver of core's protocol (`Solver.IterativeSolver`) with
 * core's generic loop and turns its state into a result.
 *
 * A solver never throws for not converging: `status` says how the run ended
 * (`converged`, `maxIterations`, `diverged` when the objective became NaN or
 * infinite — the result then holds the last finite iterate —, `stalled` when
 * a line search can make no progress, `interrupted`). Precondition failures
 * throw typed errors: `DimensionMismatch` for a wrong-length start or bound,
 * `NonFiniteInput` for a start (or its objective value or gradient) with NaN
 * or ±∞, `InvalidOptions` for an out-of-range option or a lower bound above
 * the upper one.
 *
 * @since 0.1.0
 */
import { Errors, type Objective, Solver, Vector } from "@descent/core"

/**
 * Options every solver accepts (each solver adds its own).
 *
 * @category models
 * @since 0.1.0
 */
export interface MinimizeOptions {
  /** Iteration budget (an integer ≥ 0). Default 1000. */
  readonly maxIterations?: number
  /** Record the solver's metrics every this many iterations; 0 (default) records nothing. */
  readonly traceEvery?: number
  /** Aborting the signal ends the run as `interrupted` at the next iteration. */
  readonly signal?: AbortSignal
}

/**
 * Defaults of `MinimizeOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultMinimizeOptions = { maxIterations: 1000, traceEvery: 0 } as const

/**
 * The result of a minimization (SciPy's `OptimizeResult`, typed).
 *
 * @category models
 * @since 0.1.0
 */
export interface MinimizeResult {
  /** How the run ended. */
  readonly status: Solver.Status
  /** Why, in words (e.g. "projected gradient norm 3.1e-9 ≤ tolerance 1e-8"). */
  readonly message: string
  /** Iterations performed (outer iterations; line-search trials are counted in `counts`). */
  readonly iterations: number
  /** The solution (the last finite iterate when the run diverged). */
  readonly x: Float64Array
  /** f(x). */
  readonly fun: number
  /** The gradient at x (for bound-constrained solvers, the full gradient, not the projected one). */
  readonly gradient: Float64Array
  /** The stationarity measure the solver stops on: ‖∇f(x)‖∞, or the projected gradient's for bounds. */
  readonly gradientNorm: number
  /** Oracle calls: objective values, gradients, Hessian-vector products, matrix-vector products. */
  readonly counts: Objective.OracleCounts
  /** Per-iteration metrics when `traceEvery` > 0 (else empty). */
  readonly trace: Solver.Trace
}

/**
 * The part of a solver's output that `runSolver` completes into a
 * `MinimizeResult`.
 *
 * @category models
 * @since 0.1.0
 */
export type SolverOutput = Omit<MinimizeResult, "status" | "iterations" | "trace" | "message"> & {
  /** The solver's explanation of its status, if it has one. */
  readonly message?: string
}

const checkInteger = (operation: string, field: string, value: number, min: number): number => {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new Errors.InvalidOptions({ operation, field, value, requirement: `an integer ≥ ${min}` })
  }
  return value
}

/**
 * Runs `solver` on `problem` with core's generic loop (iteration budget,
 * divergence on a non-finite residual, abort signal, trace) and returns the
 * `MinimizeResult`.
 *
 * @category combinators
 * @since 0.1.0
 */
export const runSolver = <Problem, Options extends MinimizeOptions, State>(
  solver: Solver.IterativeSolver<Problem, Options, State, SolverOutput>,
  problem: Problem,
  options: Options
): MinimizeResult => {
  const maxIterations = checkInteger(
    solver.name,
    "maxIterations",
    options.maxIterations ?? defaultMinimizeOptions.maxIterations,
    0
  )
  const traceEvery = checkInteger(
    solver.name,
    "traceEvery",
    options.traceEvery ?? defaultMinimizeOptions.traceEvery,
    0
  )
  const run = Solver.run(solver, problem, options, {
    maxIterations,
    traceEvery,
    ...(options.signal === undefined ? {} : { signal: options.signal })
  })
  const { message, ...output } = run.output
  return {
    ...output,
    status: run.status,
    iterations: run.iterations,
    trace: run.trace,
    message: message ?? defaultMessage(run.status, run.iterations, output.gradientNorm)
  }
}

const defaultMessage = (status: Solver.Status, iterations: number, gradientNorm: number): string => {
  switch (status) {
    case "converged":
      return `converged after ${iterations} iterations (gradient norm ${gradientNorm.toExponential(2)})`
    case "maxIterations":
      return `iteration budget of ${iterations} reached (gradient norm ${gradientNorm.toExponential(2)})`
    case "diverged":
      return "the objective or its gradient became NaN or infinite; x is the last finite iterate"
    case "stalled":
      return "no further progress possible (line search failed)"
    case "interrupted":
      return "interrupted"
  }
}

/**
 * Checks a starting point against the objective's dimension and for NaN/±∞,
 * and returns a fresh copy (`Vector.clone`) the solver may overwrite.
 *
 * @throws DimensionMismatch when `x0.length` differs from `objective.dimension`.
 * @throws NonFiniteInput when `x0` has a NaN or ±∞ entry.
 * @category constructors
 * @since 0.1.0
 */
export const checkStart = (
  operation: string,
  objective: Objective.Objective,
  x0: Float64Array
): Float64Array => {
  if (x0.length !== objective.dimension) {
    throw new Errors.DimensionMismatch({
      operation,
      what: "x0",
      expected: [objective.dimension],
      actual: [x0.length]
    })
  }
  for (let i = 0; i < x0.length; i++) {
    if (!Number.isFinite(x0[i]!)) {
      throw new Errors.NonFiniteInput({ operation, what: "x0", index: i, value: x0[i]! })
    }
  }
  return Vector.clone(x0)
}

/**
 * Evaluates f and ∇f at the start and throws `NonFiniteInput` when either is
 * NaN or ±∞ (a solver cannot start there). Returns f(x).
 *
 * @throws NonFiniteInput naming "objective at x0" or "gradient at x0".
 * @category constructors
 * @since 0.1.0
 */
export const evaluateStart = (
  operation: string,
  objective: Objective.Objective,
  x: Float64Array,
  gradient: Float64Array
): number => {
  const f = objective.valueAndGradient(x, gradient)
  if (!Number.isFinite(f))
    throw new Errors.NonFiniteInput({ operation, what: "objective at x0", index: 0, value: f })
  for (let i = 0; i < gradient.length; i++) {
    if (!Number.isFinite(gradient[i]!)) {
      throw new Errors.NonFiniteInput({ operation, what: "gradient at x0", index: i, value: gradient[i]! })
    }
  }
  return f
}

/**
 * Box bounds lower ≤ x ≤ upper, per coordinate; ±∞ for an unbounded side.
 *
 * @category models
 * @since 0.1.0
 */
export interface Bounds {
  readonly lower: Float64Array
  readonly upper: Float64Array
}

/**
 * Bounds from numbers (the same for every coordinate) or arrays, checked:
 * NaN, a lower bound of +∞, an upper bound of −∞, or lower > upper throw
 * `InvalidOptions` naming the coordinate; a wrong length throws
 * `DimensionMismatch`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeBounds = (
  operation: string,
  dimension: number,
  lower: number | ArrayLike<number> = Number.NEGATIVE_INFINITY,
  upper: number | ArrayLike<number> = Number.POSITIVE_INFINITY
): Bounds => {
  const expand = (what: string, v: number | ArrayLike<number>): Float64Array => {
    if (typeof v === "number") return Vector.zeros(dimension).fill(v)
    if (v.length !== dimension) {
      throw new Errors.DimensionMismatch({ operation, what, expected: [dimension], actual: [v.length] })
    }
    return Vector.fromArray(v)
  }
  const lo = expand("lower", lower)
  const hi = expand("upper", upper)
  for (let i = 0; i < dimension; i++) {
    const l = lo[i]!
    const u = hi[i]!
    if (Number.isNaN(l) || l === Number.POSITIVE_INFINITY) {
      throw new Errors.InvalidOptions({
        operation,
        field: `lower[${i}]`,
        value: l,
        requirement: "a number < +∞"
      })
    }
    if (Number.isNaN(u) || u === Number.NEGATIVE_INFINITY) {
      throw new Errors.InvalidOptions({
        operation,
        field: `upper[${i}]`,
        value: u,
        requirement: "a number > −∞"
      })
    }
    if (l > u) {
      throw new Errors.InvalidOptions({
        operation,
        field: `lower[${i}]`,
        value: l,
        requirement: `at most upper[${i}] = ${u}`
      })
    }
  }
  return { lower: lo, upper: hi }
}

/**
 * Projects `x` onto the box in place and returns whether any coordinate moved
 * (solvers report a projected start in their result).
 *
 * @category combinators
 * @since 0.1.0
 */
export const projectOntoBounds = (x: Float64Array, bounds: Bounds): boolean => {
  let moved = false
  const { lower, upper } = bounds
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!
    if (v < lower[i]!) {
      x[i] = lower[i]!
      moved = true
    } else if (v > upper[i]!) {
      x[i] = upper[i]!
      moved = true
    }
  }
  return moved
}
