import { Schedules } from "@descent/optim"
import { Effect, Exit, Schema } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Evaluators from "../src/Evaluators.ts"
import * as Experiment from "../src/Experiment.ts"
import type { Json } from "../src/Hash.ts"
import * as Stopping from "../src/Stopping.ts"

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */
const FC = { seed: 20_261_122, numRuns: 60 } as const

const base = (): Experiment.Experiment =>
  Experiment.make({ name: "base", seed: 3 }).pipe(
    Experiment.withProblems(Experiment.problem("rosenbrock", { dimension: 4 })),
    Experiment.withSolvers(Experiment.solver("adam", { learningRate: 0.01 }), Experiment.solver("lbfgs"))
  )

/** The message of the Schema error of decoding `input`, or "" when it decodes. */
const decodeError = (input: unknown): string => {
  const exit = Effect.runSyncExit(Experiment.decode(input))
  if (Exit.isSuccess(exit)) return ""
  return String(exit.cause)
}

/** `experiment` encoded, with `patch` applied to a mutable copy. */
// biome-ignore lint/suspicious/noExplicitAny: the tests patch arbitrary fields of the JSON form
const patched = (experiment: Experiment.Experiment, patch: (e: any) => void): unknown => {
  const e = JSON.parse(JSON.stringify(Experiment.encode(experiment)))
  patch(e)
  return e
}

describe("constructing", () => {
  it("fills defaults and freezes the value", () => {
    const e = Experiment.make({ name: "x" })
    expect(e.seed).toBe(0)
    expect(e.repetitions).toBe(1)
    expect(e.stopping).toEqual(Stopping.maxIterations(1000))
    expect(e.evaluators).toEqual(Evaluators.defaults)
    expect(e.sampling).toEqual(Experiment.defaultSampling)
    expect(Object.isFrozen(e)).toBe(true)
    expect(Object.isFrozen(e.problems)).toBe(true)
    const withProblem = e.pipe(Experiment.withProblems(Experiment.problem("rosenbrock", { dimension: 2 })))
    expect(Object.isFrozen(withProblem.problems[0]!.parameters)).toBe(true)
  })

  it("combinators return new values and leave the original unchanged", () => {
    const e = base()
    const before = Experiment.toJson(e)
    const more = e.pipe(
      Experiment.withSolvers(Experiment.solver("sgd", { learningRate: 0.1 })),
      Experiment.withRepetitions(3),
      Experiment.withSeed(9),
      Experiment.withStopping(Stopping.maxIterations(10)),
      Experiment.withEvaluators(Evaluators.stateSize, Evaluators.objective),
      Experiment.withSampling({ checkEvery: 5 })
    )
    expect(Experiment.toJson(e)).toBe(before)
    expect(more.solvers.map((s) => s.name)).toEqual(["adam", "lbfgs", "sgd"])
    expect(more.repetitions).toBe(3)
    expect(more.seed).toBe(9)
    expect(more.evaluators).toEqual([...Evaluators.defaults, Evaluators.stateSize])
    expect(more.sampling).toEqual({ checkEvery: 5, traceRatio: 1.25 })
  })

  it("withGrid works on specs and on experiments (all problems, named problems, named solvers)", () => {
    const spec = Experiment.problem("quadratic", { dimension: 5 }).pipe(
      Experiment.withGrid({ condition: [10, 100] })
    )
    expect(spec.grid).toEqual({ condition: [10, 100] })
    const e = Experiment.make({ name: "g" }).pipe(
      Experiment.withProblems(
        Experiment.problem("quadratic", { dimension: 5 }),
        Experiment.problem("rosenbrock", { dimension: 3 })
      ),
      Experiment.withSolvers(Experiment.solver("sgd", {}), Experiment.solver("adam", { learningRate: 0.1 })),
      Experiment.withGrid({ condition: [1, 10] }, { problem: "quadratic" }),
      Experiment.withGrid({ learningRate: [0.1, 0.01] }, { solver: "sgd" })
    )
    expect(e.problems[0]!.grid).toEqual({ condition: [1, 10] })
    expect(e.problems[1]!.grid).toEqual({})
    expect((e.solvers[0] as Experiment.SolverSpec).grid).toEqual({ learningRate: [0.1, 0.01] })
    expect(Experiment.expand(e)).toHaveLength((2 + 1) * (2 + 1))
  })

  it("normalizes −0 so that the value survives JSON", () => {
    const e = Experiment.make({ name: "z" }).pipe(
      Experiment.withProblems(Experiment.problem("rosenbrock", { dimension: 2, jitter: -0 }))
    )
    expect(Object.is(e.problems[0]!.parameters.jitter, 0)).toBe(true)
  })
})

describe("encoding and decoding", () => {
  it("round-trips through JSON text unchanged, with the same hash", async () => {
    const e = base().pipe(
      Experiment.withSolvers(
        Experiment.solver("adam", {
          learningRate: Schedules.warmupCosine({
            initValue: 0,
            peakValue: 0.1,
            warmupSteps: 10,
            decaySteps: 100
          })
        }),
        Experiment.pipeline([
          Experiment.stage(Experiment.solver("adam", { learningRate: 0.01 }), Stopping.maxIterations(10)),
          Experiment.stage(Experiment.solver("lbfgs"))
        ])
      )
    )
    const back = await Effect.runPromise(Experiment.fromJson(JSON.stringify(Experiment.encode(e))))
    expect(back).toEqual(e)
    expect(Experiment.hashOf(back)).toBe(Experiment.hashOf(e))
    expect(Experiment.toJson(back)).toBe(Experiment.toJson(e))
    expect(typeof back.pipe).toBe("function")
  })

  it("reports an unknown solver at its path, listing the registered ones", () => {
    const message = decodeError(patched(base(), (e) => (e.solvers[1].name = "fancy")))
    expect(message).toContain('unknown solver "fancy"')
    expect(message).toContain("adam")
    expect(message).toContain('["solvers"][1]["name"]')
  })

  it("reports an unknown problem at its path", () => {
    const message = decodeError(patched(base(), (e) => (e.problems[0].name = "nope")))
    expect(message).toContain('unknown problem "nope"')
    expect(message).toContain('["problems"][0]["name"]')
  })

  it("reports a wrong option type at its path", () => {
    const message = decodeError(patched(base(), (e) => (e.solvers[0].options.learningRate = "fast")))
    expect(message).toContain('["solvers"][0]["options"]["learningRate"]')
    expect(message).toContain("Expected")
  })

  it("reports a negative iteration budget at its path", () => {
    const e = base().pipe(Experiment.withStopping(Stopping.anyOf(Stopping.maxIterations(-5))))
    const message = decodeError(Experiment.encode(e))
    expect(message).toContain("greater than or equal to 0")
    expect(message).toContain('["stopping"]["rules"][0]["iterations"]')
  })

  it("reports an unknown option and a misspelled parameter as excess properties", () => {
    const message = decodeError(
      patched(base(), (e) => {
        e.solvers[0].options.learningrate = 0.1
        e.problems[0].parameters.dim = 3
      })
    )
    expect(message).toContain('["solvers"][0]["options"]["learningrate"]')
    expect(message).toContain('["problems"][0]["parameters"]["dim"]')
  })

  it("reports a missing required parameter", () => {
    const e = Experiment.make({ name: "m" }).pipe(
      Experiment.withProblems(Experiment.problem("logisticRegression", { samples: 10 }))
    )
    expect(decodeError(Experiment.encode(e))).toContain('["problems"][0]["parameters"]["features"]')
  })

  it("reports a bad grid value at its position in the grid", () => {
    const e = base().pipe(
      Experiment.withSolvers(
        Experiment.solver("sgd").pipe(Experiment.withGrid({ learningRate: [0.1, -1, 0.2] }))
      ),
      Experiment.withGrid({ dimension: [3, 1] })
    )
    const encoded = patched(e, (x) => {
      delete x.problems[0].parameters.dimension
    })
    const message = decodeError(encoded)
    expect(message).toContain('["solvers"][2]["grid"]["learningRate"][1]')
    expect(message).toContain('["problems"][0]["grid"]["dimension"][1]')
    expect(message).not.toContain('["grid"]["learningRate"][0]')
  })

  it("reports range errors found by the solver's own option checks (optim's InvalidOptions)", () => {
    const e = base().pipe(Experiment.withSolvers(Experiment.solver("gradientDescent", { stepGrowth: 0.5 })))
    const message = decodeError(Experiment.encode(e))
    expect(message).toContain('["solvers"][2]["options"]["stepGrowth"]')
    expect(message).toContain("≥ 1")
  })

  it("reports a malformed schedule at the schedule's field", () => {
    const message = decodeError(
      patched(
        base(),
        (e) => (e.solvers[0].options.learningRate = { kind: "cosine", initValue: 1, decaySteps: -3 })
      )
    )
    expect(message).toContain('["solvers"][0]["options"]["learningRate"]["decaySteps"]')
  })

  it("rejects an unbounded stopping rule and an unknown metric", () => {
    const unbounded = decodeError(
      Experiment.encode(base().pipe(Experiment.withStopping(Stopping.tolerance("gradientNorm", 1e-6))))
    )
    expect(unbounded).toContain("must bound the run")
    const unknownMetric = decodeError(
      Experiment.encode(
        base().pipe(
          Experiment.withStopping(
            Stopping.anyOf(Stopping.maxIterations(5), Stopping.tolerance("gradNorm", 1))
          )
        )
      )
    )
    expect(unknownMetric).toContain('unknown metric "gradNorm"')
    expect(unknownMetric).toContain('["stopping"]["rules"][1]["metric"]')
  })

  it("requires a bounded `until` on every pipeline stage but the last", () => {
    const e = base().pipe(
      Experiment.withSolvers(
        Experiment.pipeline([
          Experiment.stage(Experiment.solver("adam", { learningRate: 0.1 })),
          Experiment.stage(Experiment.solver("lbfgs"))
        ])
      )
    )
    expect(decodeError(Experiment.encode(e))).toContain('["solvers"][2]["stages"][0]["until"]')
  })

  it("rejects a value set both as a parameter and in the grid", () => {
    const e = base().pipe(Experiment.withGrid({ dimension: [2, 3] }))
    expect(decodeError(Experiment.encode(e))).toContain('["problems"][0]["grid"]["dimension"]')
  })

  it("reports every error at once", () => {
    const message = decodeError(
      patched(base(), (e) => {
        e.solvers[0].name = "fancy"
        e.problems[0].parameters.dimension = 1
      })
    )
    expect(message).toContain('["solvers"][0]["name"]')
    expect(message).toContain('["problems"][0]["parameters"]["dimension"]')
  })

  it("treats invalid JSON text as a Schema error", () => {
    const exit = Effect.runSyncExit(Experiment.fromJson("{not json"))
    expect(Exit.isFailure(exit)).toBe(true)
  })

  it("the structural schema needs no registry", () => {
    const encoded = patched(base(), (e) => (e.solvers[0].name = "registered-elsewhere"))
    expect(() => Schema.decodeUnknownSync(Experiment.StructuralSchema)(encoded)).not.toThrow()
  })
})

describe("expansion", () => {
  it("crosses problems, grids, solvers and repetitions, with distinct content-addressed ids", () => {
    const e = Experiment.make({ name: "x", repetitions: 2 }).pipe(
      Experiment.withProblems(
        Experiment.problem("quadratic", { dimension: 3 }).pipe(
          Experiment.withGrid({ condition: [1, 10, 100], rotate: [true, false] })
        )
      ),
      Experiment.withSolvers(
        Experiment.solver("sgd").pipe(Experiment.withGrid({ learningRate: [0.1, 0.2] })),
        Experiment.solver("lbfgs")
      )
    )
    const cells = Experiment.expand(e)
    expect(cells).toHaveLength(6 * 3 * 2)
    expect(new Set(cells.map((c) => c.cellId)).size).toBe(cells.length)
    // Every solver of a repetition shares the problem instance.
    const instances = new Set(cells.map((c) => c.instanceId))
    expect(instances.size).toBe(6 * 2)
    expect(cells[0]!.problem.parameters).toEqual({ condition: 1, dimension: 3, rotate: true })
  })

  it("gives a cell the same id wherever it sits in the experiment", () => {
    const a = base()
    const b = Experiment.make({ name: "other name", seed: 99 }).pipe(
      Experiment.withSolvers(Experiment.solver("lbfgs"), Experiment.solver("sgd", { learningRate: 1 })),
      Experiment.withProblems(Experiment.problem("quadratic", { dimension: 2 }), ...a.problems),
      Experiment.withSolvers(Experiment.solver("adam", { learningRate: 0.01 }))
    )
    const idsB = new Set(Experiment.expand(b).map((c) => c.cellId))
    for (const c of Experiment.expand(a)) expect(idsB.has(c.cellId)).toBe(true)
  })

  it("lists the combinations a solver does not accept, and drops duplicates", () => {
    const e = Experiment.make({ name: "x" }).pipe(
      Experiment.withProblems(
        Experiment.problem("leastSquares", { samples: 20, features: 5, l1: 0.1 }),
        Experiment.problem("quadratic", { dimension: 4, box: 1 })
      ),
      Experiment.withSolvers(
        Experiment.solver("adam", { learningRate: 0.1 }),
        Experiment.solver("fista"),
        Experiment.solver("lbfgsB"),
        Experiment.solver("fista")
      )
    )
    const { cells, skipped } = Experiment.expandWithSkipped(e)
    expect(cells.map((c) => `${c.problem.name}/${c.solver.name}`)).toEqual([
      "leastSquares/fista",
      "quadratic/fista",
      "quadratic/lbfgsB"
    ])
    expect(skipped.map((s) => `${s.problem.name}/${s.solver}`)).toEqual([
      "leastSquares/adam",
      "leastSquares/lbfgsB",
      "quadratic/adam"
    ])
    expect(skipped[0]!.reason).toContain("regularizer")
  })
})

// ---------------------------------------------------------------------------
// Property: any generated experiment round-trips with the same hash.

const finite = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true })
const optionalKeys = <T extends Record<string, fc.Arbitrary<unknown>>>(arbs: T) =>
  fc.record(arbs, { requiredKeys: [] }) as fc.Arbitrary<Record<string, Json>>

const scheduleArb: fc.Arbitrary<Schedules.Schedule> = fc.oneof(
  finite(0, 1).map((v) => Schedules.constant(v)),
  fc
    .record({ initValue: finite(0, 1), decaySteps: fc.integer({ min: 1, max: 10_000 }), alpha: finite(0, 1) })
    .map((o) => Schedules.cosine(o)),
  fc
    .record({
      initValue: finite(0, 0.1),
      peakValue: finite(0, 1),
      warmupSteps: fc.integer({ min: 0, max: 100 }),
      decaySteps: fc.integer({ min: 101, max: 10_000 })
    })
    .map((o) => Schedules.warmupCosine(o)),
  fc
    .record({
      initValue: finite(0, 1),
      boundaries: fc
        .array(fc.integer({ min: 1, max: 1000 }), { maxLength: 3 })
        .map((b) => b.sort((x, y) => x - y))
    })
    .chain(({ initValue, boundaries }) =>
      fc
        .array(finite(0.1, 1), { minLength: boundaries.length, maxLength: boundaries.length })
        .map((scales) => Schedules.piecewiseConstant({ initValue, boundaries, scales }))
    )
)
const stepSizeArb = fc.oneof(finite(0, 1), scheduleArb) as fc.Arbitrary<Json>

const problemArb: fc.Arbitrary<Experiment.ProblemSpec> = fc.oneof(
  optionalKeys({ jitter: finite(0, 1) }).chain((p) =>
    fc.integer({ min: 2, max: 50 }).map((dimension) => Experiment.problem("rosenbrock", { ...p, dimension }))
  ),
  optionalKeys({ condition: finite(1, 1e8), rotate: fc.boolean(), box: finite(0.01, 10) }).chain((p) =>
    fc
      .array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 3 })
      .map((dims) =>
        Experiment.problem("quadratic", p).pipe(
          Experiment.withGrid({ dimension: dims.length > 1 ? dims : [dims[0]!] })
        )
      )
  ),
  optionalKeys({ regularization: finite(0, 1), condition: finite(1, 100) }).chain((p) =>
    fc
      .record({ samples: fc.integer({ min: 1, max: 500 }), features: fc.integer({ min: 1, max: 40 }) })
      .map((size) => Experiment.problem("logisticRegression", { ...p, ...size }))
  ),
  optionalKeys({ ridge: finite(0, 1), l1: finite(0, 1), noise: finite(0, 1) }).chain((p) =>
    fc
      .record({ samples: fc.integer({ min: 1, max: 500 }), features: fc.integer({ min: 1, max: 40 }) })
      .map((size) => Experiment.problem("leastSquares", { ...p, ...size }))
  )
)

const solverArb: fc.Arbitrary<Experiment.SolverSpec> = fc.oneof(
  fc
    .record(
      { learningRate: stepSizeArb, momentum: finite(0, 0.99), nesterov: fc.boolean() },
      {
        requiredKeys: ["learningRate"]
      }
    )
    .map((o) => Experiment.solver("sgd", o as Record<string, Json>)),
  fc
    .record(
      { learningRate: stepSizeArb, b1: finite(0, 0.99), b2: finite(0, 0.999), eps: finite(0, 1e-3) },
      {
        requiredKeys: ["learningRate"]
      }
    )
    .map((o) => Experiment.solver("adam", o as Record<string, Json>)),
  fc
    .array(finite(1e-4, 1), { minLength: 1, maxLength: 3 })
    .map((rates) => Experiment.solver("lion").pipe(Experiment.withGrid({ learningRate: rates }))),
  optionalKeys({ memory: fc.integer({ min: 1, max: 20 }), tolerance: finite(0, 1) }).map((o) =>
    Experiment.solver("lbfgs", o)
  ),
  optionalKeys({ restart: fc.constantFrom("none", "functionValue", "gradient") }).map((o) =>
    Experiment.solver("fista", o)
  )
)

const leafRule: fc.Arbitrary<Stopping.StoppingRule> = fc.oneof(
  fc.integer({ min: 0, max: 100_000 }).map(Stopping.maxIterations),
  fc
    .record({ metric: fc.constantFrom(...Evaluators.metricNames), tolerance: finite(-1, 1) })
    .map((r) => Stopping.tolerance(r.metric, r.tolerance)),
  finite(1, 1e5).map(Stopping.timeBudget),
  finite(-1e3, 1e3).map(Stopping.targetObjective),
  fc
    .record({ window: fc.integer({ min: 1, max: 1000 }), relativeDecrease: finite(0, 1) })
    .map((r) => Stopping.sufficientProgress(r))
)
const ruleArb: fc.Arbitrary<Stopping.StoppingRule> = fc.letrec<{ rule: Stopping.StoppingRule }>((tie) => ({
  rule: fc.oneof(
    { maxDepth: 3 },
    leafRule,
    fc.array(tie("rule"), { minLength: 1, maxLength: 3 }).map((rules) => Stopping.anyOf(...rules)),
    fc.array(tie("rule"), { minLength: 1, maxLength: 3 }).map((rules) => Stopping.allOf(...rules))
  )
})).rule
const boundedRuleArb = fc
  .tuple(fc.integer({ min: 0, max: 10_000 }), ruleArb)
  .map(([n, r]) => Stopping.anyOf(Stopping.maxIterations(n), r))

const evaluatorArb = fc.subarray([
  Evaluators.objective,
  Evaluators.suboptimality({ reference: "known" }),
  Evaluators.suboptimality(),
  Evaluators.gradientNorm,
  Evaluators.constraintViolation,
  Evaluators.wallTime,
  Evaluators.oracleCounts,
  Evaluators.stateSize
])

const experimentArb: fc.Arbitrary<Experiment.Experiment> = fc
  .record({
    name: fc.string({ minLength: 1, maxLength: 20 }),
    seed: fc.maxSafeNat(),
    repetitions: fc.integer({ min: 1, max: 4 }),
    problems: fc.array(problemArb, { maxLength: 3 }),
    solvers: fc.array(
      fc.oneof(
        { weight: 4, arbitrary: solverArb as fc.Arbitrary<Experiment.SolverEntry> },
        {
          weight: 1,
          arbitrary: fc
            .tuple(solverArb, fc.integer({ min: 0, max: 100 }), solverArb)
            .filter(([a, , b]) => Object.keys(a.grid).length === 0 && Object.keys(b.grid).length === 0)
            .map(([a, n, b]) =>
              Experiment.pipeline([Experiment.stage(a, Stopping.maxIterations(n)), Experiment.stage(b)])
            )
        }
      ),
      { maxLength: 4 }
    ),
    stopping: boundedRuleArb,
    evaluators: evaluatorArb,
    sampling: fc.record({ checkEvery: fc.integer({ min: 1, max: 100 }), traceRatio: finite(1.01, 10) })
  })
  .map((input) => Experiment.make(input))

describe("property: encoding round trip", () => {
  it("every generated experiment decodes back unchanged, with the same hash and the same cells", () => {
    fc.assert(
      fc.property(experimentArb, (e) => {
        const text = JSON.stringify(Experiment.encode(e))
        const back = Experiment.decodeSync(JSON.parse(text))
        expect(back).toEqual(e)
        expect(Experiment.hashOf(back)).toBe(Experiment.hashOf(e))
        expect(Experiment.expand(back).map((c) => c.cellId)).toEqual(
          Experiment.expand(e).map((c) => c.cellId)
        )
      }),
      FC
    )
  })
})
