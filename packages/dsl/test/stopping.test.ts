import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import * as Experiment from "../src/Experiment.ts"
import * as Stopping from "../src/Stopping.ts"
import { runInMemory } from "./runnerKit.ts"

const input = (
  iteration: number,
  metrics: Record<string, number> = {},
  solverTimeMs = 0
): Stopping.CheckInput => ({
  iteration,
  solverTimeMs,
  metric: (name) => metrics[name] ?? Number.NaN
})

describe("compiled rules", () => {
  it("maxIterations, tolerance, target, time budget", () => {
    expect(Stopping.compile(Stopping.maxIterations(10)).check(input(9))).toBeUndefined()
    expect(Stopping.compile(Stopping.maxIterations(10)).check(input(10))).toBe("maxIterations")
    const tol = Stopping.compile(Stopping.tolerance("gradientNorm", 1e-6))
    expect(tol.needsMetrics).toBe(true)
    expect(tol.check(input(1, { gradientNorm: 2e-6 }))).toBeUndefined()
    expect(tol.check(input(1, { gradientNorm: 1e-6 }))).toBe("converged")
    // NaN never satisfies a tolerance.
    expect(tol.check(input(1, {}))).toBeUndefined()
    expect(Stopping.compile(Stopping.targetObjective(0)).check(input(1, { objective: -1 }))).toBe("converged")
    const time = Stopping.compile(Stopping.timeBudget(50))
    expect(time.needsTime).toBe(true)
    expect(time.check(input(1, {}, 49))).toBeUndefined()
    expect(time.check(input(1, {}, 50))).toBe("timeout")
  })

  it("sufficientProgress compares with the value at least `window` iterations back", () => {
    const rule = Stopping.compile(Stopping.sufficientProgress({ window: 10, relativeDecrease: 0.1 }))
    // Objective halves every 5 iterations: always sufficient progress.
    for (let t = 0; t <= 40; t += 5)
      expect(rule.check(input(t, { objective: 100 * 2 ** (-t / 5) }))).toBeUndefined()
    const flat = Stopping.compile(Stopping.sufficientProgress({ window: 10, relativeDecrease: 0.1 }))
    expect(flat.check(input(0, { objective: 5 }))).toBeUndefined()
    expect(flat.check(input(5, { objective: 4.9 }))).toBeUndefined()
    // At 10: 5 → 4.8 is a decrease of 0.2 < 0.1·5.
    expect(flat.check(input(10, { objective: 4.8 }))).toBe("stalled")
  })

  it("anyOf takes the first rule that holds; allOf needs all, with the first one's status", () => {
    const any = Stopping.compile(
      Stopping.anyOf(Stopping.tolerance("gradientNorm", 1), Stopping.maxIterations(5))
    )
    expect(any.check(input(5, { gradientNorm: 10 }))).toBe("maxIterations")
    expect(any.check(input(5, { gradientNorm: 0.5 }))).toBe("converged")
    const all = Stopping.compile(
      Stopping.allOf(Stopping.maxIterations(5), Stopping.tolerance("gradientNorm", 1))
    )
    expect(all.check(input(5, { gradientNorm: 10 }))).toBeUndefined()
    expect(all.check(input(4, { gradientNorm: 0.5 }))).toBeUndefined()
    expect(all.check(input(5, { gradientNorm: 0.5 }))).toBe("maxIterations")
  })

  it("bounds: which rules end a run for sure, and the iteration where they do", () => {
    expect(Stopping.isBounded(Stopping.tolerance("objective", 0))).toBe(false)
    expect(
      Stopping.isBounded(Stopping.anyOf(Stopping.tolerance("objective", 0), Stopping.timeBudget(1)))
    ).toBe(true)
    expect(Stopping.isBounded(Stopping.allOf(Stopping.maxIterations(3), Stopping.targetObjective(0)))).toBe(
      false
    )
    expect(
      Stopping.iterationBound(Stopping.anyOf(Stopping.maxIterations(7), Stopping.maxIterations(3)))
    ).toBe(3)
    expect(
      Stopping.iterationBound(Stopping.allOf(Stopping.maxIterations(7), Stopping.maxIterations(3)))
    ).toBe(7)
    expect(Stopping.iterationBound(Stopping.timeBudget(7))).toBe(Number.POSITIVE_INFINITY)
    expect([
      ...Stopping.metrics(Stopping.anyOf(Stopping.targetObjective(1), Stopping.tolerance("solver.pairs", 2)))
    ]).toEqual(["objective", "solver.pairs"])
  })

  it("encode as themselves", () => {
    const rule = Stopping.anyOf(
      Stopping.maxIterations(10),
      Stopping.allOf(
        Stopping.tolerance("gradientNorm", 1e-6),
        Stopping.sufficientProgress({ window: 5, relativeDecrease: 0 })
      )
    )
    const text = JSON.stringify(Schema.encodeSync(Stopping.StoppingRule)(rule))
    expect(Schema.decodeUnknownSync(Stopping.StoppingRule)(JSON.parse(text))).toEqual(rule)
  })
})

describe("check points", () => {
  const withRule = (rule: Stopping.StoppingRule, sampling: Partial<Experiment.Sampling>) =>
    Experiment.make({ name: "checks", sampling }).pipe(
      Experiment.withProblems(Experiment.problem("quadratic", { dimension: 6, condition: 10 })),
      Experiment.withSolvers(Experiment.solver("sgd", { learningRate: 0.5 })),
      Experiment.withStopping(rule)
    )

  it("a metric rule is checked every `checkEvery` iterations, whatever the trace sampling", async () => {
    const rule = Stopping.anyOf(Stopping.maxIterations(10_000), Stopping.tolerance("gradientNorm", 1e-6))
    const dense = await runInMemory(withRule(rule, { checkEvery: 10, traceRatio: 1.05 }))
    const sparse = await runInMemory(withRule(rule, { checkEvery: 10, traceRatio: 5 }))
    const every = await runInMemory(withRule(rule, { checkEvery: 1 }))
    expect(dense.cells[0]!.status).toBe("converged")
    expect(dense.cells[0]!.iterations % 10).toBe(0)
    expect(sparse.cells[0]!.iterations).toBe(dense.cells[0]!.iterations)
    expect(sparse.cells[0]!.metrics.objective).toBe(dense.cells[0]!.metrics.objective)
    // Checking every iteration stops at most 9 iterations earlier.
    const first = every.cells[0]!.iterations
    expect(dense.cells[0]!.iterations - first).toBeGreaterThanOrEqual(0)
    expect(dense.cells[0]!.iterations - first).toBeLessThan(10)
  })

  it("an iteration budget is exact even between check points", async () => {
    const { cells } = await runInMemory(withRule(Stopping.maxIterations(1005), { checkEvery: 10 }))
    expect(cells[0]!.iterations).toBe(1005)
    expect(cells[0]!.trace.iteration.at(-1)).toBe(1005)
  })
})
