import { Random } from "@descent/core"
import { Emd, Sinkhorn, SinkhornLog, SinkhornNewtonSparse, SinkhornStabilized } from "@descent/ot"
import { assertBitIdentical } from "@descent/testing"
import { Effect, Schema } from "effect"
import { describe, expect, it } from "vitest"
import * as Evaluators from "../src/Evaluators.ts"
import * as Experiment from "../src/Experiment.ts"
import type { AnySolverDefinition, Machine } from "../src/Registry.ts"
import * as Registry from "../src/Registry.ts"
import * as Stopping from "../src/Stopping.ts"
import * as Transport from "../src/Transport.ts"
import { runInMemory, withoutWallTimes } from "./runnerKit.ts"

const key = Random.key(7)
const cloud = Transport.pointCloud.make(
  Schema.decodeUnknownSync(Transport.pointCloud.parameters)({ n: 30, m: 25, weights: "random" }),
  key
)

const machineOf = (definition: AnySolverDefinition, options: Record<string, unknown>): Machine =>
  definition.make(Schema.decodeUnknownSync(definition.options)(options))

/** Runs a machine the way `Solver.run` does (status checked after every step) and returns it with its state. */
const drive = (machine: Machine) => {
  let state = machine.init(cloud, { x0: cloud.x0, key })
  let iterations = 0
  while (machine.status(state) === undefined) {
    state = machine.step(state)
    iterations++
  }
  return { state, iterations, status: machine.status(state) }
}

const experiment = Experiment.make({ name: "ot-small", seed: 3 }).pipe(
  Experiment.withProblems(
    Experiment.problem("pointCloud", { m: 30 }).pipe(Experiment.withGrid({ n: [20, 50] })),
    Experiment.problem("gaussianMixture", { n: 40, components: 2 })
  ),
  Experiment.withSolvers(
    Experiment.solver("sinkhorn", { epsilon: 0.05 }),
    Experiment.solver("sinkhornLog", { epsilon: 0.05 }),
    Experiment.solver("sinkhornStabilized", { epsilon: 0.01 }),
    Experiment.solver("epsilonScaling", { epsilon: 0.01 }),
    Experiment.solver("sinkhornNewtonSparse", { epsilon: 0.01 }),
    Experiment.solver("emd")
  ),
  Experiment.withRepetitions(2),
  Experiment.withEvaluators(Evaluators.objective, Evaluators.suboptimality(), Evaluators.stateSize),
  Experiment.withStopping(Stopping.maxIterations(20_000))
)

describe("Transport problems", () => {
  it("build the same instance from the same key, and a valid balanced problem", () => {
    const again = Transport.pointCloud.make({ n: 30, m: 25, weights: "random" }, key)
    assertBitIdentical(again.transport.a, cloud.transport.a)
    assertBitIdentical(again.x0, cloud.x0)
    expect(cloud.transport.massA).toBeCloseTo(1, 12)
    expect(cloud.x0.length).toBe(30 * 25)
    // The optimum is the exact cost, and the product coupling costs at least as much.
    expect(cloud.optimum).toBe(Emd.solve(cloud.transport).cost)
    expect(cloud.objective.value(cloud.x0)).toBeGreaterThan(cloud.optimum)
  })

  it("reject sizes beyond the cap, naming the path", () => {
    expect(() => Schema.decodeUnknownSync(Transport.pointCloud.parameters)({ n: 5000, m: 5000 })).toThrow(
      /n × m must be/
    )
  })
})

describe("Transport solvers", () => {
  const cases = [
    ["sinkhorn", Transport.sinkhorn, Sinkhorn.solve, { epsilon: 0.05 }],
    ["sinkhornLog", Transport.sinkhornLog, SinkhornLog.solve, { epsilon: 0.05, maxIterations: 40 }],
    ["sinkhornStabilized", Transport.sinkhornStabilized, SinkhornStabilized.solve, { epsilon: 0.005 }],
    ["sinkhornNewtonSparse", Transport.sinkhornNewtonSparse, SinkhornNewtonSparse.solve, { epsilon: 0.01 }]
  ] as const

  for (const [name, definition, solve, options] of cases) {
    it(`${name}: the machine gives the ot solver's numbers bit for bit`, () => {
      const machine = machineOf(definition, options)
      // Sample the plan and costs mid-run too: it must not change the run.
      let state = machine.init(cloud, { x0: cloud.x0, key })
      let iterations = 0
      while (machine.status(state) === undefined) {
        if (iterations % 3 === 0) {
          machine.iterate(state)
          void machine.metrics(state).regularizedCost
        }
        state = machine.step(state)
        iterations++
      }
      const direct = (solve as (p: unknown, o: unknown) => Sinkhorn.SinkhornResult)(cloud.transport, options)
      expect(machine.status(state)).toBe(direct.status)
      expect(iterations).toBe(direct.iterations)
      assertBitIdentical(machine.iterate(state), direct.plan().data)
      const metrics = machine.metrics(state)
      expect(metrics.marginalError).toBe(direct.marginalError)
      expect(metrics.transportCost).toBe(direct.cost)
      expect(metrics.regularizedCost).toBe(direct.regularizedCost)
    })
  }

  it("emd: one step per pivot, the network simplex's plan and cost bit for bit", () => {
    for (const pivotsPerStep of [1, 7]) {
      const { state, iterations, status } = drive(machineOf(Transport.emd, { pivotsPerStep }))
      const direct = Emd.solve(cloud.transport)
      const machine = machineOf(Transport.emd, { pivotsPerStep })
      expect(status).toBe("converged")
      expect(machine.metrics(state).pivots).toBe(direct.iterations)
      expect(iterations).toBe(Math.ceil(direct.iterations / pivotsPerStep))
      assertBitIdentical(machine.iterate(state), direct.plan().data)
      expect(machine.metrics(state).transportCost).toBe(direct.cost)
      expect(machine.metrics(state).marginalError).toBeLessThan(1e-12)
    }
  })

  it("report maxIterations when the solver's own budget is spent", () => {
    const { iterations, status } = drive(
      machineOf(Transport.sinkhornLog, { epsilon: 0.01, maxIterations: 5 })
    )
    expect([iterations, status]).toEqual([5, "maxIterations"])
    const emd = drive(machineOf(Transport.emd, { maxIterations: 10, pivotsPerStep: 4 }))
    expect([emd.iterations, emd.status]).toEqual([3, "maxIterations"])
  })

  it("invalid options fail decoding with a Schema error naming the path", async () => {
    const bad = Experiment.make({ name: "bad", seed: 1 }).pipe(
      Experiment.withProblems(Experiment.problem("pointCloud", { n: 10 })),
      Experiment.withSolvers(Experiment.solver("sinkhorn", { epsilon: 0 }))
    )
    const error = await Effect.runPromise(Effect.flip(Experiment.validate(bad, Registry.builtins)))
    expect(error._tag).toBe("SchemaError")
    const text = String(error)
    expect(text).toContain("epsilon")
    expect(text).toMatch(/solvers/)
    expect(() => Schema.decodeUnknownSync(Transport.sinkhornLog.options)({ epsilon: -1 })).toThrow(/epsilon/)
    expect(() => Schema.decodeUnknownSync(Transport.emd.options)({ pivotsPerStep: 0 })).toThrow(
      /pivotsPerStep/
    )
  })
})

describe("Transport experiments", () => {
  it("run through Runner.run on the in-memory store, reproducibly", async () => {
    const first = await runInMemory(experiment, { registry: Registry.builtins })
    expect(first.summary.cells).toBe(3 * 6 * 2)
    expect(first.summary.statuses).toEqual({ converged: 36 })
    for (const cell of first.cells) {
      // Exact solver: at the optimum; entropic ones: above it by the entropic bias.
      const gap = cell.metrics.suboptimality!
      if (cell.solver.name === "emd") expect(Math.abs(gap)).toBeLessThan(1e-15)
      else expect(gap).toBeGreaterThan(0)
      expect(cell.metrics["solver.marginalError"]).toBeLessThanOrEqual(1e-9)
      expect(Number.isFinite(cell.metrics["solver.regularizedCost"])).toBe(true)
    }
    const second = await runInMemory(experiment, { registry: Registry.builtins, concurrency: 1 })
    expect(second.cells.map(withoutWallTimes)).toEqual(first.cells.map(withoutWallTimes))
  })

  it("pair only with transport problems: generic optimizers and structure learners are skipped with a reason", () => {
    const mixed = Experiment.make({ name: "mixed", seed: 1 }).pipe(
      Experiment.withProblems(
        Experiment.problem("pointCloud", { n: 6 }),
        Experiment.problem("quadratic", { dimension: 3 }),
        Experiment.problem("linearSem", { nodes: 3, samples: 20 })
      ),
      Experiment.withSolvers(
        Experiment.solver("sinkhorn", { epsilon: 0.05 }),
        Experiment.solver("adam", { learningRate: 0.01 }),
        Experiment.solver("lbfgsB", {}),
        Experiment.solver("notears", { lambda1: 0.1 })
      )
    )
    const { cells, skipped } = Experiment.expandWithSkipped(mixed, Registry.builtins)
    expect(cells.map((c) => `${c.problem.name}/${c.solver.name}`)).toEqual([
      "pointCloud/sinkhorn",
      "quadratic/adam",
      "quadratic/lbfgsB",
      "linearSem/adam",
      "linearSem/lbfgsB",
      "linearSem/notears"
    ])
    const reasons = Object.fromEntries(skipped.map((s) => [`${s.problem.name}/${s.solver}`, s.reason]))
    expect(Object.keys(reasons)).toEqual([
      "pointCloud/adam",
      "pointCloud/lbfgsB",
      "pointCloud/notears",
      "quadratic/sinkhorn",
      "quadratic/notears",
      "linearSem/sinkhorn"
    ])
    expect(reasons["pointCloud/adam"]).toContain("transport polytope")
    expect(reasons["quadratic/sinkhorn"]).toContain("optimal transport problems only")
    expect(reasons["quadratic/notears"]).toContain("structure")
  })

  it("are part of the built-in registry (CLI, workers) and of the `Registry.transport` fragment", () => {
    for (const name of [
      "sinkhorn",
      "sinkhornLog",
      "sinkhornStabilized",
      "epsilonScaling",
      "sinkhornNewtonSparse",
      "emd"
    ]) {
      expect(Registry.builtins.solvers.has(name)).toBe(true)
      expect(Registry.transport.solvers.has(name)).toBe(true)
    }
    expect(
      Registry.builtins.problems.has("pointCloud") && Registry.builtins.problems.has("gaussianMixture")
    ).toBe(true)
  })
})
