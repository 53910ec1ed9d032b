/**
 * Helpers of the runner tests: a registry with misbehaving solvers, running
 * an experiment against a fresh in-memory store, and record comparison
 * without the wall-clock fields.
 */
import { Vector } from "@descent/core"
import { Effect, Schema } from "effect"
import type * as Experiment from "../src/Experiment.ts"
import * as MemoryStore from "../src/MemoryStore.ts"
import type { CellRecord } from "../src/Records.ts"
import * as Registry from "../src/Registry.ts"
import * as Runner from "../src/Runner.ts"
import * as Solvers from "../src/Solvers.ts"
import { Store } from "../src/Store.ts"

interface CountingState {
  readonly x: Float64Array
  iteration: number
}

/** A solver that throws in its `at`-th step. */
export const explodes: Registry.SolverDefinition<{ readonly at: number }> = {
  name: "explodes",
  description: "throws in step `at` (tests)",
  options: Schema.Struct({ at: Schema.Int }) as unknown as Schema.Codec<{ readonly at: number }, unknown>,
  accepts: Solvers.smoothUnconstrained,
  make: (options) => ({
    name: "explodes",
    init: (_problem, start) => ({ x: Vector.clone(start.x0), iteration: 0 }),
    step: (s: CountingState) => {
      s.iteration++
      if (s.iteration === options.at) throw new Error(`boom at step ${s.iteration}`)
      return s
    },
    status: () => undefined,
    residual: () => 0,
    metrics: (s: CountingState) => ({ iteration: s.iteration }),
    output: (s: CountingState) => Vector.clone(s.x),
    iterate: (s: CountingState) => s.x,
    stateSize: () => ({ scalars: 0, bytes: 0 }),
    message: () => undefined
  })
}

/** A solver whose steps take `milliseconds` each (busy waiting) and do nothing. */
export const slow: Registry.SolverDefinition<{ readonly milliseconds: number }> = {
  name: "slow",
  description: "each step busy-waits (tests)",
  options: Schema.Struct({ milliseconds: Schema.Finite }) as unknown as Schema.Codec<
    { readonly milliseconds: number },
    unknown
  >,
  accepts: Solvers.smoothUnconstrained,
  make: (options) => ({
    name: "slow",
    init: (_problem, start) => ({ x: Vector.clone(start.x0), iteration: 0 }),
    step: (s: CountingState) => {
      const until = performance.now() + options.milliseconds
      while (performance.now() < until) {
        // busy
      }
      s.iteration++
      return s
    },
    status: () => undefined,
    residual: () => 0,
    metrics: () => ({}),
    output: (s: CountingState) => Vector.clone(s.x),
    iterate: (s: CountingState) => s.x,
    stateSize: () => ({ scalars: 0, bytes: 0 }),
    message: () => undefined
  })
}

/** The built-ins plus the misbehaving solvers. */
export const testRegistry: Registry.Registry = Registry.builtins.pipe(Registry.withSolvers(explodes, slow))

/** Runs `experiment` against a fresh in-memory store; the summary, the stored cells (by cellId) and the events. */
export const runInMemory = (
  experiment: Experiment.Experiment,
  options: Runner.RunOptions = {}
): Promise<{
  readonly summary: Runner.RunSummary
  readonly cells: ReadonlyArray<CellRecord>
  readonly events: ReadonlyArray<Runner.RunEvent>
}> => {
  const events: Array<Runner.RunEvent> = []
  return Effect.runPromise(
    Effect.gen(function* () {
      const summary = yield* Runner.run(experiment, {
        registry: testRegistry,
        ...options,
        onEvent: (e) => {
          events.push(e)
          options.onEvent?.(e)
        }
      })
      const store = yield* Store
      const cells = yield* store.cells(summary.runId)
      return { summary, cells, events }
    }).pipe(Effect.provide(MemoryStore.layer))
  )
}

/** A record without its wall-clock fields (what must be identical between two runs). */
export const withoutWallTimes = (record: CellRecord): unknown => {
  const { startedAt: _s, finishedAt: _f, wallTimeMs: _w, metrics, trace, runId: _r, ...rest } = record
  const { wallTimeMs: _m, ...deterministicMetrics } = metrics
  const { wallTimeMs: _t, ...values } = trace.values
  return { ...rest, metrics: deterministicMetrics, trace: { iteration: trace.iteration, values } }
}
