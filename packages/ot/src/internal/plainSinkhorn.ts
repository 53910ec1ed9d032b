/**
 * The Sinkhorn solver behind `Sinkhorn` (scaling form with the log-domain
 * fallback) and `SinkhornLog` (log domain throughout): the same state
 * machine over an `Engine`, differing only in the starting domain.
 */
import { type Solver, Vector } from "@descent/core"
import type { LinearProblem } from "../LinearProblem.ts"
import type { TransportResult } from "../TransportResult.ts"
import {
  type Common,
  type CommonOptions,
  type Engine,
  type EntropicFields,
  engineCost,
  engineInput,
  entropicOutput,
  iterate,
  makeEngine,
  marginalsInto,
  potentialsInto,
  readCommon,
  readPotential,
  runToResult
} from "./entropic.ts"

/** Options of the plain Sinkhorn solvers. */
export interface PlainOptions extends CommonOptions {
  /** Warm start: the source potential f (cost units, length n) that the first column update reads. */
  readonly initialF?: ArrayLike<number>
  /** Scaling form only: continue in the log domain when the scalings underflow or overflow. */
  readonly logFallback?: boolean
}

export interface PlainState {
  readonly problem: LinearProblem
  readonly engine: Engine
  readonly common: Common
  readonly fallback: boolean
  readonly marginalErrors: number[]
  iteration: number
  error: number
  end: "diverged" | undefined
  message: string | undefined
}

/** The fields Sinkhorn results add. */
export interface PlainFields extends EntropicFields {
  /** The domain the run ended in. */
  readonly domain: "scaling" | "log"
  /** The iteration at which underflow moved the run from the scaling to the log domain, if it did. */
  readonly switchedToLogAt: number | undefined
}

export type PlainOutput = Omit<TransportResult, "status" | "iterations"> & PlainFields

export const plainSolver = (
  name: string,
  preferScaling: boolean,
  defaults: {
    readonly epsilon: number
    readonly tolerance: number
    readonly maxIterations: number
    readonly checkEvery: number
    readonly logFallback: boolean
  }
): Solver.IterativeSolver<LinearProblem, PlainOptions, PlainState, PlainOutput> => ({
  name,
  init: (problem, options) => {
    const common = readCommon(name, options, defaults)
    const fallback = options.logFallback ?? defaults.logFallback
    const d = engineInput(name, problem)
    const f0 = readPotential(name, "initialF", options.initialF, d.n)
    const engine = makeEngine(d, common.epsilon, preferScaling, f0)
    return {
      problem,
      engine,
      common,
      fallback,
      marginalErrors: [],
      iteration: 0,
      error: problem.massA + problem.massB,
      end: undefined,
      message: undefined
    }
  },
  step: (state) => {
    if (state.end !== undefined) return state
    const ok = iterate(state.engine, state.fallback)
    state.iteration++
    const e = state.engine
    state.error = e.rowError + e.colError
    if (state.iteration % state.common.checkEvery === 0) state.marginalErrors.push(state.error)
    if (!ok) {
      state.end = "diverged"
      state.message = `the scalings left the floating-point range at iteration ${state.iteration} (ε = ${state.common.epsilon}) and logFallback is off; the potentials are the last valid ones`
    }
    return state
  },
  status: (state) => (state.error <= state.common.tolerance ? "converged" : undefined),
  residual: (state) => (state.end === "diverged" ? Number.NaN : state.error),
  metrics: (state) => ({
    marginalError: state.error,
    rowError: state.engine.rowError,
    columnError: state.engine.colError
  }),
  output: (state) => {
    const e = state.engine
    const { n, m } = e.d
    const f = Vector.zeros(n)
    const g = Vector.zeros(m)
    const r = Vector.zeros(n)
    const c = Vector.zeros(m)
    potentialsInto(e, f, g)
    marginalsInto(e, r, c)
    return {
      ...entropicOutput(
        state.problem,
        engineCost(e, f, g),
        f,
        g,
        r,
        c,
        e.epsilon,
        state.marginalErrors,
        state.error,
        state.message
      ),
      domain: e.domain,
      switchedToLogAt: e.switchedAt
    }
  }
})

export const solvePlain = (
  solver: Solver.IterativeSolver<LinearProblem, PlainOptions, PlainState, PlainOutput>,
  problem: LinearProblem,
  options: PlainOptions,
  defaults: { readonly maxIterations: number; readonly checkEvery: number }
) =>
  runToResult(solver, problem, options, {
    maxIterations: options.maxIterations ?? defaults.maxIterations,
    checkEvery: options.checkEvery ?? defaults.checkEvery
  })
