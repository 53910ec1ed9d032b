import { execFileSync } from "node:child_process"
import { join } from "node:path"
import { Vector } from "@descent/core"
import { GradientTransform, Lbfgs, Optimizers } from "@descent/optim"
import { Effect, Fiber, Schema, Stream } from "effect"
import { describe, expect, it } from "vitest"
import * as Evaluators from "../src/Evaluators.ts"
import * as Experiment from "../src/Experiment.ts"
import { nextSampleAfter } from "../src/internal/driver.ts"
import * as MemoryStore from "../src/MemoryStore.ts"
import * as Problems from "../src/Problems.ts"
import * as Registry from "../src/Registry.ts"
import * as Runner from "../src/Runner.ts"
import * as Seeds from "../src/Seeds.ts"
import * as Stopping from "../src/Stopping.ts"
import { Store } from "../src/Store.ts"
import { outcomes } from "./cellChild.ts"
import { runInMemory, testRegistry, withoutWallTimes } from "./runnerKit.ts"

const rosenbrock = Experiment.problem("rosenbrock", { dimension: 4 })
const logistic = Experiment.problem("logisticRegression", { samples: 200, features: 8 })

const status = (
  cells: ReadonlyArray<{ readonly solver: { readonly name: string }; readonly status: string }>
) => Object.fromEntries(cells.map((c) => [c.solver.name, c.status]))

const byId = <A extends { readonly cellId: string }>(cells: ReadonlyArray<A>): Map<string, A> =>
  new Map(cells.map((c) => [c.cellId, c]))

describe("statuses", () => {
  it("converged, maxIterations, diverged, failed (with the message) — and the run goes on", async () => {
    const e = Experiment.make({ name: "statuses" }).pipe(
      Experiment.withProblems(rosenbrock),
      Experiment.withSolvers(
        Experiment.solver("lbfgs"),
        Experiment.solver("adam", { learningRate: 1e-3 }),
        Experiment.solver("sgd", { learningRate: 10 }),
        Experiment.solver("explodes", { at: 5 })
      ),
      Experiment.withStopping(Stopping.maxIterations(300))
    )
    const { summary, cells } = await runInMemory(e)
    expect(status(cells)).toEqual({
      lbfgs: "converged",
      adam: "maxIterations",
      sgd: "diverged",
      explodes: "failed"
    })
    const failed = cells.find((c) => c.status === "failed")!
    expect(failed.message).toBe("boom at step 5")
    expect(failed.iterations).toBe(4)
    expect(summary.computed).toBe(4)
    expect(summary.statuses).toEqual({ converged: 1, maxIterations: 1, diverged: 1, failed: 1 })
    expect(cells.find((c) => c.solver.name === "lbfgs")!.message).toContain("≤")
  })

  it("stopping rules: tolerance and target → converged, sufficientProgress → stalled, timeBudget → timeout", async () => {
    const rules = {
      tolerance: Stopping.tolerance("gradientNorm", 1e-3),
      target: Stopping.targetObjective(0.68),
      progress: Stopping.sufficientProgress({ window: 10, relativeDecrease: 0.5 }),
      time: Stopping.timeBudget(30)
    }
    const results: Record<string, string> = {}
    for (const [name, rule] of Object.entries(rules)) {
      const e = Experiment.make({ name }).pipe(
        Experiment.withProblems(logistic),
        Experiment.withSolvers(
          Experiment.solver(
            name === "time" ? "slow" : "adam",
            name === "time" ? { milliseconds: 1 } : { learningRate: 0.05 }
          )
        ),
        Experiment.withStopping(Stopping.anyOf(Stopping.maxIterations(100_000), rule))
      )
      const { cells } = await runInMemory(e)
      results[name] = cells[0]!.status
      if (name === "tolerance") expect(cells[0]!.metrics.gradientNorm).toBeLessThanOrEqual(1e-3)
      if (name === "target") expect(cells[0]!.metrics.objective).toBeLessThanOrEqual(0.68)
    }
    expect(results).toEqual({
      tolerance: "converged",
      target: "converged",
      progress: "stalled",
      time: "timeout"
    })
  })

  it("allOf needs every rule at the same check", async () => {
    const e = Experiment.make({ name: "allOf" }).pipe(
      Experiment.withProblems(rosenbrock),
      Experiment.withSolvers(Experiment.solver("lbfgs")),
      Experiment.withStopping(
        Stopping.anyOf(
          Stopping.maxIterations(1000),
          Stopping.allOf(Stopping.maxIterations(5), Stopping.targetObjective(1))
        )
      )
    )
    const { cells } = await runInMemory(e)
    const trace = cells[0]!.trace
    // Stops at the first check with iteration ≥ 5 and objective ≤ 1.
    const k = trace.iteration.length - 1
    expect(cells[0]!.status).toBe("maxIterations")
    expect(trace.iteration[k]).toBeGreaterThanOrEqual(5)
    expect(trace.values.objective![k]).toBeLessThanOrEqual(1)
  })

  it("a per-cell timeout ends a cell as `timeout`; the other cells finish", async () => {
    const e = Experiment.make({ name: "timeout" }).pipe(
      Experiment.withProblems(rosenbrock),
      Experiment.withSolvers(Experiment.solver("slow", { milliseconds: 2 }), Experiment.solver("lbfgs")),
      Experiment.withStopping(Stopping.maxIterations(1_000_000))
    )
    const { cells } = await runInMemory(e, { cellTimeout: 50 })
    expect(status(cells)).toEqual({ slow: "timeout", lbfgs: "converged" })
    const slow = cells.find((c) => c.solver.name === "slow")!
    expect(slow.iterations).toBeGreaterThan(5)
    expect(slow.iterations).toBeLessThan(100)
    expect(slow.message).toContain("50 ms")
  })
})

describe("telemetry", () => {
  it("traces log-spaced iterations, the last one, and every evaluator", async () => {
    const e = Experiment.make({ name: "trace" }).pipe(
      Experiment.withProblems(rosenbrock),
      Experiment.withSolvers(Experiment.solver("adam", { learningRate: 1e-3 })),
      Experiment.withStopping(Stopping.maxIterations(1000)),
      Experiment.withEvaluators(Evaluators.suboptimality({ reference: "known" }), Evaluators.stateSize)
    )
    const { cells, events } = await runInMemory(e)
    const trace = cells[0]!.trace
    const expected = [0]
    while (expected.at(-1)! < 1000) expected.push(Math.min(1000, nextSampleAfter(expected.at(-1)!, 1.25)))
    expect(trace.iteration).toEqual(expected)
    expect(trace.iteration.slice(0, 12)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15])
    expect(Object.keys(trace.values).sort()).toEqual(
      [
        "objective",
        "gradientNorm",
        "wallTimeMs",
        "valueCalls",
        "gradientCalls",
        "hessianVectorCalls",
        "suboptimality",
        "stateScalars",
        "stateBytes"
      ].sort()
    )
    // Rosenbrock's optimum is 0: suboptimality = objective.
    expect(trace.values.suboptimality).toEqual(trace.values.objective)
    // One value and one gradient evaluation per step (the first at x₀ in init).
    expect(trace.values.gradientCalls).toEqual(trace.iteration.map((t) => Math.max(t, 1)))
    expect(cells[0]!.metrics.stateScalars).toBe(8)
    const samples = events.filter((x) => x._tag === "Sample")
    expect(samples.map((s) => (s as { iteration: number }).iteration)).toEqual(trace.iteration)
  })

  it("suboptimality against the best found value when no optimum is known", async () => {
    const e = Experiment.make({ name: "best" }).pipe(
      Experiment.withProblems(logistic),
      Experiment.withSolvers(Experiment.solver("lbfgs", { tolerance: 1e-9, functionTolerance: 0 })),
      Experiment.withEvaluators(Evaluators.suboptimality())
    )
    const { cells } = await runInMemory(e)
    const sub = cells[0]!.trace.values.suboptimality!
    expect(sub[0]).toBeGreaterThan(0.01)
    expect(Math.abs(sub.at(-1)!)).toBeLessThan(1e-12)
  })

  it("the event stream runs the experiment and ends after RunFinished", async () => {
    const e = Experiment.make({ name: "stream" }).pipe(
      Experiment.withProblems(rosenbrock),
      Experiment.withSolvers(Experiment.solver("lbfgs"), Experiment.solver("nonlinearCg"))
    )
    const events = await Effect.runPromise(
      Runner.stream(e).pipe(Stream.runCollect, Effect.provide(MemoryStore.layer))
    )
    expect(events[0]!._tag).toBe("RunStarted")
    expect(events.at(-1)!._tag).toBe("RunFinished")
    expect(events.filter((x) => x._tag === "CellFinished")).toHaveLength(2)
  })

  it("one cell's telemetry as a stream equals its stored trace", async () => {
    const e = Experiment.make({ name: "cell stream" }).pipe(
      Experiment.withProblems(rosenbrock),
      Experiment.withSolvers(Experiment.solver("lbfgs"))
    )
    const cellId = Experiment.expand(e)[0]!.cellId
    const samples = await Effect.runPromise(Runner.cellTelemetry(e, cellId).pipe(Stream.runCollect))
    const { cells } = await runInMemory(e)
    expect(samples.map((s) => s.iteration)).toEqual(cells[0]!.trace.iteration)
    expect(samples.map((s) => s.values.objective)).toEqual(cells[0]!.trace.values.objective)
  })
})

describe("pipelines", () => {
  it("warm-start each stage from the previous iterate and record one cell", async () => {
    const e = Experiment.make({ name: "pipeline" }).pipe(
      Experiment.withProblems(rosenbrock),
      Experiment.withSolvers(
        Experiment.pipeline([
          Experiment.stage(Experiment.solver("adam", { learningRate: 0.01 }), Stopping.maxIterations(50)),
          Experiment.stage(Experiment.solver("lbfgs"))
        ])
      ),
      Experiment.withStopping(Stopping.maxIterations(10_000))
    )
    const { cells } = await runInMemory(e)
    const cell = cells[0]!
    expect(cell.solver.name).toBe("adam→lbfgs")
    expect(cell.status).toBe("converged")
    const stageColumn = cell.trace.values.stage!
    const boundary = cell.trace.iteration.indexOf(50)
    expect(stageColumn[boundary]).toBe(0)
    expect(stageColumn.at(-1)).toBe(1)

    // The same computation by hand: 50 Adam steps, then L-BFGS from there.
    const problem = Problems.rosenbrock.make(
      { dimension: 4 },
      Seeds.instanceKey(0, Experiment.expand(e)[0]!.instanceId)
    )
    const x = Vector.clone(problem.x0)
    const g = Vector.zeros(x.length)
    const tx = Optimizers.adam(0.01)
    let s = tx.init(x)
    for (let t = 0; t < 50; t++) {
      problem.objective.valueAndGradient(x, g)
      s = GradientTransform.step(tx, x, g, s)
    }
    const direct = Lbfgs.minimize(problem.objective, x)
    expect(cell.iterations).toBe(50 + direct.iterations)
    expect(cell.metrics.objective).toBe(direct.fun)
  })
})

describe("determinism and resume", () => {
  const experiment = Experiment.make({ name: "determinism", seed: 42, repetitions: 2 }).pipe(
    Experiment.withProblems(logistic, rosenbrock),
    Experiment.withSolvers(
      Experiment.solver("adam", { learningRate: 0.01 }),
      Experiment.solver("lbfgs"),
      Experiment.solver("sgd", { learningRate: 1e-3, momentum: 0.9 })
    ),
    Experiment.withEvaluators(Evaluators.suboptimality(), Evaluators.stateSize),
    Experiment.withStopping(
      Stopping.anyOf(Stopping.maxIterations(400), Stopping.tolerance("gradientNorm", 1e-7))
    )
  )

  it("two runs give identical records except wall times, whatever the concurrency", async () => {
    const a = await runInMemory(experiment, { concurrency: 1 })
    const b = await runInMemory(experiment, { concurrency: 4, yieldEvery: 7 })
    expect(a.cells).toHaveLength(12)
    expect(b.cells.map(withoutWallTimes)).toEqual(a.cells.map(withoutWallTimes))
    expect(a.summary.runId).toBe(Runner.runIdOf(experiment))
  })

  it("adding a solver and a problem leaves every other cell's key and numbers identical", async () => {
    const bigger = experiment.pipe(
      Experiment.withSolvers(Experiment.solver("lion", { learningRate: 1e-3 })),
      Experiment.withProblems(Experiment.problem("quadratic", { dimension: 5 }))
    )
    const small = await runInMemory(experiment)
    const large = await runInMemory(bigger)
    expect(large.cells.length).toBe(small.cells.length + 2 * 2 + 2 * 4)
    const larger = byId(large.cells)
    for (const cell of small.cells) {
      const other = larger.get(cell.cellId)!
      expect(other.key).toEqual(cell.key)
      expect(withoutWallTimes(other)).toEqual(withoutWallTimes(cell))
    }
  })

  it("a resumed run skips stored cells and ends with the same records", async () => {
    const full = await runInMemory(experiment)
    const resumed = await Effect.runPromise(
      Effect.gen(function* () {
        // First attempt: interrupted right after the third cell was stored.
        // The interruption is requested from inside the event callback, so it
        // lands at the runner's next yield however fast the cells are (a
        // polling parent fiber could be scheduled only after every cell).
        let finished = 0
        let self: Fiber.Fiber<unknown, unknown> | undefined
        const fiber = yield* Effect.forkChild(
          Runner.run(experiment, {
            concurrency: 1,
            onEvent: (e) => {
              if (e._tag === "CellFinished" && ++finished === 3) self?.interruptUnsafe()
            }
          })
        )
        self = fiber
        if (finished >= 3) fiber.interruptUnsafe()
        yield* Fiber.await(fiber)
        const store = yield* Store
        const partial = yield* store.finishedCellIds(Runner.runIdOf(experiment))
        // Second attempt: computes only the rest.
        const summary = yield* Runner.run(experiment)
        const cells = yield* store.cells(Runner.runIdOf(experiment))
        return { partial: partial.size, summary, cells }
      }).pipe(Effect.provide(MemoryStore.layer))
    )
    expect(resumed.partial).toBeGreaterThanOrEqual(3)
    expect(resumed.partial).toBeLessThan(12)
    expect(resumed.summary.resumed).toBe(resumed.partial)
    expect(resumed.summary.computed).toBe(12 - resumed.partial)
    expect(resumed.cells.map(withoutWallTimes)).toEqual(full.cells.map(withoutWallTimes))
  })

  it("cells are identical in another process, with the other kernel backend (wasm ↔ TypeScript)", async () => {
    const child = join(import.meta.dirname, "cellChild.ts")
    const run = (backend: string) =>
      JSON.parse(
        execFileSync(process.execPath, [child], {
          encoding: "utf8",
          env: { ...process.env, DESCENT_BACKEND: backend }
        })
      )
    const here = JSON.parse(JSON.stringify(await outcomes()))
    expect(run("wasm")).toEqual(here)
    expect(run("typescript")).toEqual(here)
  })

  it("runCell recomputes one cell on its own, equal to the stored record", async () => {
    const full = await runInMemory(experiment)
    const cell = full.cells[5]!
    const outcome = await Effect.runPromise(
      Runner.runCell(experiment, cell.cellId, { registry: testRegistry })
    )
    expect(outcome.trace.values.objective).toEqual(cell.trace.values.objective)
    expect(outcome.key).toEqual(cell.key)
    expect(outcome.key).toEqual([...Seeds.cellKey(42, cell.cellId)])
  })
})

describe("worker threads", () => {
  const experiment = Experiment.make({ name: "workers", seed: 5, repetitions: 2 }).pipe(
    Experiment.withProblems(logistic, rosenbrock),
    Experiment.withSolvers(
      Experiment.solver("adam", { learningRate: 0.01 }),
      Experiment.solver("lbfgs"),
      Experiment.solver("explodes", { at: 3 })
    ),
    Experiment.withEvaluators(Evaluators.suboptimality()),
    Experiment.withStopping(Stopping.maxIterations(300))
  )
  const workerRegistry = new URL("./workerRegistry.ts", import.meta.url).href

  it("compute the same records as in-process fibers", async () => {
    const fibers = await runInMemory(experiment)
    const events: Array<Runner.RunEvent> = []
    // Without the main thread's lane, so that every cell is computed on a worker.
    const threads = await runInMemory(experiment, {
      workers: 2,
      mainThread: false,
      workerRegistry,
      onEvent: (e) => events.push(e)
    })
    expect(threads.summary.computed).toBe(12)
    expect(threads.cells.map(withoutWallTimes)).toEqual(fibers.cells.map(withoutWallTimes))
    expect(threads.cells.filter((c) => c.status === "failed").map((c) => c.message)).toEqual(
      Array(4).fill("boom at step 3")
    )
    const samples = events.filter((e) => e._tag === "Sample").length
    expect(samples).toBe(threads.cells.reduce((n, c) => n + c.trace.iteration.length, 0))
  })

  it("need the registry's module when the registry is not the built-in one", async () => {
    await expect(runInMemory(experiment, { workers: 1 })).rejects.toThrow(/workerRegistry/)
  })

  it('"cores" runs the built-ins on threads and falls back to fibers for a registry it cannot load', async () => {
    const builtin = Experiment.make({ name: "cores", seed: 9, repetitions: 2 }).pipe(
      Experiment.withProblems(logistic, rosenbrock),
      Experiment.withSolvers(Experiment.solver("adam", { learningRate: 0.01 }), Experiment.solver("lbfgs")),
      Experiment.withStopping(Stopping.maxIterations(200))
    )
    const fibers = await runInMemory(builtin, { registry: Registry.builtins })
    const threads = await runInMemory(builtin, { registry: Registry.builtins, workers: "cores" })
    const threadsOnly = await runInMemory(builtin, {
      registry: Registry.builtins,
      workers: "cores",
      mainThread: false
    })
    expect(threads.summary.computed).toBe(8)
    expect(threads.cells.map(withoutWallTimes)).toEqual(fibers.cells.map(withoutWallTimes))
    expect(threadsOnly.cells.map(withoutWallTimes)).toEqual(fibers.cells.map(withoutWallTimes))
    // testRegistry has solvers a worker cannot import without `workerRegistry`: in-process, no error.
    const fallback = await runInMemory(experiment, { workers: "cores" })
    const inProcess = await runInMemory(experiment)
    expect(fallback.cells.map(withoutWallTimes)).toEqual(inProcess.cells.map(withoutWallTimes))
  })

  it("post no samples when `sampleEvents` is false; the traces are the same", async () => {
    const events: Array<Runner.RunEvent> = []
    const quiet = await runInMemory(experiment, {
      workers: 2,
      mainThread: false,
      workerRegistry,
      sampleEvents: false,
      onEvent: (e) => events.push(e)
    })
    expect(events.filter((e) => e._tag === "Sample")).toHaveLength(0)
    expect(events.filter((e) => e._tag === "CellFinished")).toHaveLength(12)
    const inProcess = await runInMemory(experiment, { sampleEvents: false })
    expect(inProcess.events.filter((e) => e._tag === "Sample")).toHaveLength(0)
    expect(quiet.cells.map(withoutWallTimes)).toEqual(inProcess.cells.map(withoutWallTimes))
  })

  it("are terminated when the run is interrupted; nothing is stored", async () => {
    const e = Experiment.make({ name: "long on workers" }).pipe(
      Experiment.withProblems(rosenbrock),
      Experiment.withSolvers(Experiment.solver("sgd", { learningRate: 1e-6 })),
      Experiment.withStopping(Stopping.maxIterations(1e12))
    )
    const started = performance.now()
    const stored = await Effect.runPromise(
      Effect.gen(function* () {
        const fiber = yield* Effect.forkChild(Runner.run(e, { workers: 1, mainThread: false }))
        yield* Effect.sleep("300 millis")
        yield* Fiber.interrupt(fiber)
        const store = yield* Store
        return yield* store.finishedCellIds(Runner.runIdOf(e))
      }).pipe(Effect.provide(MemoryStore.layer))
    )
    expect(stored.size).toBe(0)
    expect(performance.now() - started).toBeLessThan(5000)
  })
})

describe("interruption and validation", () => {
  it("a run is interruptible between steps; interrupted cells are not stored", async () => {
    const e = Experiment.make({ name: "long" }).pipe(
      Experiment.withProblems(rosenbrock),
      Experiment.withSolvers(Experiment.solver("sgd", { learningRate: 1e-6 })),
      Experiment.withStopping(Stopping.maxIterations(1e12))
    )
    const started = performance.now()
    const stored = await Effect.runPromise(
      Effect.gen(function* () {
        const fiber = yield* Effect.forkChild(Runner.run(e))
        yield* Effect.sleep("100 millis")
        yield* Fiber.interrupt(fiber)
        const store = yield* Store
        return yield* store.finishedCellIds(Runner.runIdOf(e))
      }).pipe(Effect.provide(MemoryStore.layer))
    )
    expect(stored.size).toBe(0)
    expect(performance.now() - started).toBeLessThan(2000)
  })

  it("an experiment that does not validate fails with a Schema error before running", async () => {
    const e = Experiment.make({ name: "bad" }).pipe(
      Experiment.withProblems(rosenbrock),
      Experiment.withSolvers(Experiment.solver("nonexistent"))
    )
    const result = await Effect.runPromise(Runner.run(e).pipe(Effect.flip, Effect.provide(MemoryStore.layer)))
    expect(Schema.isSchemaError(result)).toBe(true)
    expect(String(result)).toContain('unknown solver "nonexistent"')
  })

  it("records provenance with the kernel backend and package versions", async () => {
    const p = await Effect.runPromise(Runner.provenance)
    expect(p.packages["@descent/core"]).toMatch(/^\d+\.\d+\.\d+/)
    expect(p.packages["@descent/dsl"]).toBeDefined()
    expect(["wasm-simd", "typescript"]).toContain(p.backend)
    expect(p.runtime).toContain(process.version)
    expect(p.gitCommit === null || /^[0-9a-f]{40}$/.test(p.gitCommit)).toBe(true)
  })
})
