import { Errors, Objective, Random, Solver, Vector } from "@descent/core"
import { GradientTransform, Lbfgs, LbfgsB, Optimizers, ProximalGradient, Schedules } from "@descent/optim"
import { assertBitIdentical } from "@descent/testing"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import * as Evaluators from "../src/Evaluators.ts"
import * as Problems from "../src/Problems.ts"
import type { AnyProblemGenerator, AnySolverDefinition, Machine, ProblemInstance } from "../src/Registry.ts"
import * as Solvers from "../src/Solvers.ts"

const key = Random.key(11)

const instance = (g: AnyProblemGenerator, p: Record<string, unknown>): ProblemInstance =>
  g.make(Schema.decodeUnknownSync(g.parameters)(p), key)

const machineOf = (definition: AnySolverDefinition, options: Record<string, unknown>): Machine =>
  definition.make(Schema.decodeUnknownSync(definition.options)(options))

const quadratic = instance(Problems.quadratic, { dimension: 10, condition: 100 })
const rosenbrock = instance(Problems.rosenbrock, { dimension: 6 })

describe("gradient-transform adapters", () => {
  it("step the optimizer exactly as a hand-written loop (bit for bit)", () => {
    const learningRate = Schedules.warmupCosine({
      initValue: 0,
      peakValue: 0.05,
      warmupSteps: 5,
      decaySteps: 50
    })
    const machine = machineOf(Solvers.adam, { learningRate, b1: 0.8 })
    let state = machine.init(rosenbrock, { x0: rosenbrock.x0, key })
    for (let t = 0; t < 60; t++) state = machine.step(state)

    const tx = Optimizers.adam(learningRate, { b1: 0.8 })
    const x = Vector.clone(rosenbrock.x0)
    const g = Vector.zeros(x.length)
    let s = tx.init(x)
    for (let t = 0; t < 60; t++) {
      rosenbrock.objective.valueAndGradient(x, g)
      s = GradientTransform.step(tx, x, g, s)
    }
    assertBitIdentical(machine.iterate(state), x)
  })

  it("report the optimizer state's size (Adam 2 per parameter, momentum and Lion 1, SGD 0)", () => {
    const n = quadratic.x0.length
    const size = (definition: AnySolverDefinition, options: Record<string, unknown>): number => {
      const machine = machineOf(definition, options)
      return machine.stateSize(machine.init(quadratic, { x0: quadratic.x0, key })).scalars
    }
    expect(size(Solvers.adam, { learningRate: 0.1 })).toBe(2 * n)
    expect(size(Solvers.momentum, { learningRate: 0.1 })).toBe(n)
    expect(size(Solvers.lion, { learningRate: 0.1 })).toBe(n)
    expect(size(Solvers.sgd, { learningRate: 0.1 })).toBe(0)
  })

  it("pass f(x) to transforms that need it (Polyak step sizes)", () => {
    const machine = machineOf(Solvers.polyakSgd, {})
    let state = machine.init(quadratic, { x0: quadratic.x0, key })
    const start = quadratic.objective.value(quadratic.x0)
    for (let t = 0; t < 100; t++) state = machine.step(state)
    expect(quadratic.objective.value(machine.iterate(state))).toBeLessThan(start / 10)
  })

  it("throw optim's InvalidOptions for options out of range", () => {
    expect(() => Solvers.rmsprop.make({ learningRate: 0.1, decay: 2 })).toThrow(Errors.InvalidOptions)
  })
})

describe("deterministic-solver adapters", () => {
  it("L-BFGS through the machine equals Lbfgs.minimize (iterations, value, counts)", () => {
    const machine = machineOf(Solvers.lbfgs, { memory: 5 })
    const run = Solver.runFrom(machine, machine.init(rosenbrock, { x0: rosenbrock.x0, key }), {
      maxIterations: 10_000
    })
    const direct = Lbfgs.minimize(rosenbrock.objective, rosenbrock.x0, { memory: 5 })
    expect(run.status).toBe(direct.status)
    expect(run.iterations).toBe(direct.iterations)
    assertBitIdentical(run.output, direct.x)
  })

  it("L-BFGS-B uses the problem's bounds", () => {
    const boxed = instance(Problems.quadratic, { dimension: 10, box: 0.2 })
    const machine = machineOf(Solvers.lbfgsB, {})
    const run = Solver.runFrom(machine, machine.init(boxed, { x0: boxed.x0, key }), { maxIterations: 1000 })
    const direct = LbfgsB.minimize(boxed.objective, boxed.x0, {
      lower: boxed.bounds!.lower,
      upper: boxed.bounds!.upper
    })
    assertBitIdentical(run.output, direct.x)
    expect(Evaluators.constraintViolationOf(boxed, run.output)).toBe(0)
  })

  it("FISTA uses the problem's regularizer", () => {
    const lasso = instance(Problems.leastSquares, { samples: 30, features: 8, l1: 0.2 })
    const machine = machineOf(Solvers.fista, { restart: "gradient" })
    const run = Solver.runFrom(machine, machine.init(lasso, { x0: lasso.x0, key }), { maxIterations: 500 })
    const direct = ProximalGradient.fista(lasso.objective, lasso.regularizer!, lasso.x0, {
      restart: "gradient",
      maxIterations: 500
    })
    assertBitIdentical(run.output, direct.x)
  })

  it("report their state besides the iterate (L-BFGS with m pairs: 2·m·n and more)", () => {
    const n = quadratic.x0.length
    const machine = machineOf(Solvers.lbfgs, { memory: 3 })
    const size = machine.stateSize(machine.init(quadratic, { x0: quadratic.x0, key }))
    expect(size.scalars).toBeGreaterThanOrEqual(2 * 3 * n)
    expect(size.bytes).toBe(8 * size.scalars)
  })

  it("validate options when made (optim's checks run on a probe problem)", () => {
    expect(() => Solvers.gradientDescent.make({ stepGrowth: 0.5 })).toThrow(Errors.InvalidOptions)
    expect(() => Solvers.newtonCg.make({ sufficientDecrease: 2 })).toThrow(Errors.InvalidOptions)
    expect(() => Solvers.trustRegionNcg.make({ acceptance: 0.5 })).toThrow(Errors.InvalidOptions)
  })
})

describe("sweep: every solver on a problem it accepts", () => {
  const problems = {
    smooth: quadratic,
    boxed: instance(Problems.quadratic, { dimension: 10, box: 0.2 }),
    lasso: instance(Problems.leastSquares, { samples: 30, features: 8, l1: 0.2 })
  }
  const options: Record<string, Record<string, unknown>> = {
    polyakSgd: {},
    adagrad: { learningRate: 0.5 },
    lion: { learningRate: 0.01 }
  }
  for (const definition of Solvers.all) {
    it(`${definition.name} decreases the objective`, () => {
      const traits = { regularizer: false, bounds: false }
      const problem =
        definition.accepts(traits) === undefined
          ? problems.smooth
          : definition.accepts({ regularizer: false, bounds: true }) === undefined
            ? problems.boxed
            : problems.lasso
      const machine = machineOf(definition, options[definition.name] ?? { learningRate: 0.1 })
      const run = Solver.runFrom(machine, machine.init(problem, { x0: problem.x0, key }), {
        maxIterations: 200
      })
      expect(["converged", "maxIterations"]).toContain(run.status)
      expect(Evaluators.objectiveValue(problem, run.output)).toBeLessThan(
        Evaluators.objectiveValue(problem, problem.x0)
      )
    })
  }

  for (const definition of Solvers.all) {
    it(`${definition.name} counts its oracle calls as an outer meter does`, () => {
      const traits = { regularizer: false, bounds: false }
      const problem =
        definition.accepts(traits) === undefined
          ? problems.smooth
          : definition.accepts({ regularizer: false, bounds: true }) === undefined
            ? problems.boxed
            : problems.lasso
      const metered = Objective.meter(problem.objective)
      const machine = machineOf(definition, options[definition.name] ?? { learningRate: 0.1 })
      let state = machine.init({ ...problem, objective: metered }, { x0: problem.x0, key })
      for (let t = 0; t < 25 && machine.status(state) === undefined; t++) state = machine.step(state)
      expect(machine.counts!(state)).toEqual(metered.counts)
    })
  }

  it("accepts: smooth solvers refuse regularizers and bounds; L-BFGS-B takes bounds; ISTA/FISTA take either", () => {
    const regularized = { regularizer: true, bounds: false }
    const bounded = { regularizer: false, bounds: true }
    expect(Solvers.adam.accepts(regularized)).toBeDefined()
    expect(Solvers.lbfgs.accepts(bounded)).toBeDefined()
    expect(Solvers.lbfgsB.accepts(bounded)).toBeUndefined()
    expect(Solvers.lbfgsB.accepts(regularized)).toBeDefined()
    expect(Solvers.fista.accepts(regularized)).toBeUndefined()
    expect(Solvers.ista.accepts(bounded)).toBeUndefined()
  })
})
