import { Random } from "@descent/core"
import { Golem, Notears, Simulate } from "@descent/graph"
import { assertBitIdentical } from "@descent/testing"
import { Effect, Schema } from "effect"
import { describe, expect, it } from "vitest"
import * as Evaluators from "../src/Evaluators.ts"
import * as Experiment from "../src/Experiment.ts"
import type { AnySolverDefinition, Machine } from "../src/Registry.ts"
import * as Registry from "../src/Registry.ts"
import * as Stopping from "../src/Stopping.ts"
import * as StructureLearning from "../src/StructureLearning.ts"
import { runInMemory, withoutWallTimes } from "./runnerKit.ts"

const key = Random.key(11)
const parameters = { nodes: 5, samples: 200 }
const sem = StructureLearning.linearSem.make(
  Schema.decodeUnknownSync(StructureLearning.linearSem.parameters)(parameters),
  key
)

const machineOf = (definition: AnySolverDefinition, options: Record<string, unknown>): Machine =>
  definition.make(Schema.decodeUnknownSync(definition.options)(options))

/** Runs a machine the way `Solver.run` does (status checked after every step), reading metrics every `every` steps. */
const drive = (machine: Machine, every = 0) => {
  let state = machine.init(sem, { x0: sem.x0, key })
  let iterations = 0
  while (machine.status(state) === undefined) {
    if (every > 0 && iterations % every === 0) void machine.metrics(state).shd
    state = machine.step(state)
    iterations++
  }
  return { state, iterations, status: machine.status(state) }
}

const fast = {
  notears: { lambda1: 0.1, maxIterations: 20 },
  golem: { lambda1: 0.02, lambda2: 5, maxIterations: 600, learningRate: 1e-2 }
} as const

const experiment = Experiment.make({ name: "structure-small", seed: 5 }).pipe(
  Experiment.withProblems(Experiment.problem("linearSem", parameters)),
  Experiment.withSolvers(Experiment.solver("notears", fast.notears), Experiment.solver("golem", fast.golem)),
  Experiment.withRepetitions(2),
  Experiment.withEvaluators(Evaluators.objective),
  Experiment.withStopping(Stopping.maxIterations(100_000))
)

describe("StructureLearning problems", () => {
  it("simulate the same instance from the same key, as Simulate.linear does", () => {
    const again = StructureLearning.linearSem.make(parameters, key)
    const direct = Simulate.linear(key, { ...parameters, graph: "erdosRenyi", edgesPerNode: 2 })
    assertBitIdentical(again.X.data, sem.X.data)
    assertBitIdentical(sem.X.data, direct.X.data)
    assertBitIdentical(sem.B.data, direct.B.data)
    expect(sem.x0.length).toBe(25)
    // The score at W = 0 is ½ tr Σ; the true W scores lower.
    expect(sem.objective.value(sem.W.data)).toBeLessThan(sem.objective.value(sem.x0))
  })

  it("reject invalid parameters, naming the path", () => {
    expect(() =>
      Schema.decodeUnknownSync(StructureLearning.linearSem.parameters)({ nodes: 5, samples: 10, graph: "BP" })
    ).toThrow(/graph/)
  })
})

describe("StructureLearning solvers", () => {
  it("notears, golem: the machine learns the graph of the learner's fit, bit for bit", () => {
    for (const [definition, fit, options] of [
      [StructureLearning.notears, Notears.fit, fast.notears],
      [StructureLearning.golem, Golem.fit, fast.golem]
    ] as const) {
      const machine = machineOf(definition, options)
      // Read the metrics mid-run too: it must not change the run.
      const { state, iterations, status } = drive(machine, 7)
      const direct = (
        fit as (X: unknown, o: unknown) => { W: { data: Float64Array }; status: string; iterations: number }
      )(sem.X, options)
      expect([status, iterations]).toEqual([direct.status, direct.iterations])
      assertBitIdentical(machine.iterate(state), direct.W.data)
    }
  })

  it("every learner runs to its own end on a small instance and reports the graph metrics", () => {
    const cases: ReadonlyArray<readonly [AnySolverDefinition, Record<string, unknown>]> = [
      [StructureLearning.notears, fast.notears],
      [StructureLearning.dagma, { warmIterations: 300, finalIterations: 600, learningRate: 1e-2 }],
      [StructureLearning.golem, fast.golem],
      [StructureLearning.colide, { warmIterations: 300, finalIterations: 600, learningRate: 1e-2 }],
      [StructureLearning.topo, {}],
      [StructureLearning.cosmo, { maxIterations: 300 }]
    ]
    for (const [definition, options] of cases) {
      const machine = machineOf(definition, options)
      const { state, status } = drive(machine)
      expect(status, definition.name).toBeDefined()
      const metrics = machine.metrics(state)
      for (const name of ["shd", "tpr", "fdr", "edges", "h"]) {
        expect(Number.isFinite(metrics[name]), `${definition.name}.${name}`).toBe(true)
      }
      expect(metrics.tpr).toBeGreaterThanOrEqual(0)
      expect(metrics.tpr).toBeLessThanOrEqual(1)
    }
  })

  it("report maxIterations when the learner's budget is spent", () => {
    const { iterations, status } = drive(machineOf(StructureLearning.golem, { maxIterations: 5 }))
    expect([iterations, status]).toEqual([5, "maxIterations"])
  })

  it("invalid options fail decoding with a Schema error naming the path", async () => {
    const bad = Experiment.make({ name: "bad", seed: 1 }).pipe(
      Experiment.withProblems(Experiment.problem("linearSem", parameters)),
      Experiment.withSolvers(Experiment.solver("notears", { lambda1: -0.1 }))
    )
    const error = await Effect.runPromise(Effect.flip(Experiment.validate(bad, Registry.builtins)))
    expect(error._tag).toBe("SchemaError")
    const text = String(error)
    expect(text).toContain("lambda1")
    expect(text).toMatch(/solvers/)
    expect(() => Schema.decodeUnknownSync(StructureLearning.dagma.options)({ lambda1: -1 })).toThrow(
      /lambda1/
    )
  })
})

describe("StructureLearning experiments", () => {
  it("run through Runner.run on the in-memory store, reproducibly, recording SHD, TPR and h", async () => {
    const first = await runInMemory(experiment, { registry: Registry.builtins })
    expect(first.summary.cells).toBe(2 * 2)
    for (const cell of first.cells) {
      const m = cell.metrics
      expect(Number.isInteger(m["solver.shd"])).toBe(true)
      expect(m["solver.shd"]).toBeGreaterThanOrEqual(0)
      expect(m["solver.tpr"]).toBeGreaterThanOrEqual(0)
      expect(m["solver.tpr"]).toBeLessThanOrEqual(1)
      expect(m["solver.h"]).toBeGreaterThanOrEqual(0)
      expect(Number.isFinite(m["solver.fdr"]) && Number.isFinite(m["solver.edges"])).toBe(true)
      expect(Number.isFinite(m.objective)).toBe(true)
    }
    const second = await runInMemory(experiment, { registry: Registry.builtins, concurrency: 1 })
    expect(second.cells.map(withoutWallTimes)).toEqual(first.cells.map(withoutWallTimes))
  })

  it("are part of the built-in registry (CLI, workers) and of the `Registry.structure` fragment", () => {
    for (const name of ["notears", "dagma", "golem", "colide", "topo", "cosmo"]) {
      expect(Registry.builtins.solvers.has(name)).toBe(true)
      expect(Registry.structure.solvers.has(name)).toBe(true)
    }
    expect(Registry.builtins.problems.has("linearSem") && Registry.structure.problems.has("linearSem")).toBe(
      true
    )
  })
})
