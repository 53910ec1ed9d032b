/**
 * An experiment as an immutable value: which problems, which solvers (and
 * solver pipelines), how many repetitions, when to stop and what to measure —
 * everything a run needs, in a form that encodes to JSON and decodes back
 * unchanged, so it can be stored with its results, diffed, hashed and rerun.
 *
 * ```ts
 * const experiment = Experiment.make({ name: "optimizers", seed: 7 }).pipe(
 *   Experiment.withProblems(Experiment.problem("rosenbrock", { dimension: 10 })),
 *   Experiment.withSolvers(
 *     Experiment.solver("adam", { learningRate: 1e-2 }),
 *     Experiment.solver("sgd", {}).pipe(Experiment.withGrid({ learningRate: [1e-4, 1e-3] }))
 *   ),
 *   Experiment.withRepetitions(3),
 *   Experiment.withStopping(Stopping.anyOf(Stopping.maxIterations(5000), Stopping.tolerance("gradientNorm", 1e-8)))
 * )
 * ```
 *
 * - **Problems**: a registered generator's name and parameters; `withGrid`
 *   adds parameter grids (every combination is a separate problem).
 * - **Solvers**: a registered solver's name and options (numbers, booleans,
 *   strings, and `@descent/optim` schedules, which are plain JSON), with
 *   option grids; or a **pipeline** of stages, each warm-started from the
 *   previous stage's iterate and ended by its own stopping rule (`until`),
 *   recorded as one cell (e.g. Adam for 200 iterations, then L-BFGS).
 * - **Stopping** rules (`Stopping`), **evaluators** (`Evaluators`), and the
 *   **sampling** of telemetry: stopping rules are checked every `checkEvery`
 *   iterations; traces keep iterations 0, 1, 2, … spaced by the factor
 *   `traceRatio` (log-spaced), plus the last.
 *
 * Validation has two levels. `Experiment.Schema` checks the structure (types,
 * ranges, bounded stopping rules, known metric names); {@link schema} with a
 * `Registry` also checks every problem and solver name, every parameter and
 * option (with grids expanded) against the registered Schemas and the
 * solver's own option checks, reporting each error with its path (e.g.
 * `["solvers"][1]["options"]["learningRate"]`).
 *
 * {@link expand} turns an experiment into its cells: (problem instance,
 * solver, repetition), each with its identity and `cellId`, the SHA-256 of the
 * identity's canonical JSON — a content address, independent of the cell's
 * position in the experiment.
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import { type Pipeable, pipeArguments } from "effect/Pipeable"
import * as Evaluators from "./Evaluators.ts"
import { canonicalJson, hash, type Json } from "./Hash.ts"
import * as Registry from "./Registry.ts"
import * as Stopping from "./Stopping.ts"

// ---------------------------------------------------------------------------
// Models

/**
 * A JSON object (parameters, options).
 *
 * @category models
 * @since 0.1.0
 */
export type JsonRecord = { readonly [key: string]: Json }

/**
 * A grid: for each parameter (or option) name, the values to try.
 *
 * @category models
 * @since 0.1.0
 */
export type Grid = { readonly [key: string]: ReadonlyArray<Json> }

/**
 * What the constructors accept as parameters or options: an object whose
 * values are JSON, written with any TypeScript types (e.g. optim's schedule
 * interfaces). Values that are not JSON are rejected when the experiment is
 * encoded (`Hash.NonCanonicalValue`).
 *
 * @category models
 * @since 0.1.0
 */
export type Values = { readonly [key: string]: unknown }

/**
 * What `withGrid` accepts: for each name, the values to try.
 *
 * @category models
 * @since 0.1.0
 */
export type GridInput = { readonly [key: string]: ReadonlyArray<unknown> }

/**
 * A problem: a registered generator's name, its fixed parameters, and a grid
 * over the others.
 *
 * @category models
 * @since 0.1.0
 */
export interface ProblemSpec extends Pipeable {
  readonly _tag: "Problem"
  readonly name: string
  readonly parameters: JsonRecord
  readonly grid: Grid
}

/**
 * A solver: a registered solver's name, its fixed options, and a grid over others.
 *
 * @category models
 * @since 0.1.0
 */
export interface SolverSpec extends Pipeable {
  readonly _tag: "Solver"
  readonly name: string
  readonly options: JsonRecord
  readonly grid: Grid
}

/**
 * One stage of a pipeline: a solver (without grid) and the rule that ends the
 * stage (required for every stage but the last, which the experiment's rule ends).
 *
 * @category models
 * @since 0.1.0
 */
export interface Stage {
  readonly solver: SolverSpec
  readonly until?: Stopping.StoppingRule
}

/**
 * A pipeline: stages run one after the other, each starting from the
 * previous one's iterate; one cell.
 *
 * @category models
 * @since 0.1.0
 */
export interface PipelineSpec extends Pipeable {
  readonly _tag: "Pipeline"
  readonly name: string
  readonly stages: ReadonlyArray<Stage>
}

/**
 * What an experiment lists as solvers.
 *
 * @category models
 * @since 0.1.0
 */
export type SolverEntry = SolverSpec | PipelineSpec

/**
 * Telemetry sampling: stopping rules are checked every `checkEvery`
 * iterations; the trace keeps iteration 0 and then the iterations
 * t_{k+1} = max(t_k + 1, ⌊t_k·traceRatio⌋), plus the last.
 *
 * @category models
 * @since 0.1.0
 */
export interface Sampling {
  readonly checkEvery: number
  readonly traceRatio: number
}

/**
 * An experiment.
 *
 * @category models
 * @since 0.1.0
 */
export interface Experiment extends Pipeable {
  readonly name: string
  /** The root seed (an integer in [0, 2^53 − 1]); every cell's key derives from it and the cell's identity. */
  readonly seed: number
  readonly repetitions: number
  readonly problems: ReadonlyArray<ProblemSpec>
  readonly solvers: ReadonlyArray<SolverEntry>
  readonly stopping: Stopping.StoppingRule
  readonly evaluators: ReadonlyArray<Evaluators.Evaluator>
  readonly sampling: Sampling
}

/**
 * The encoded (JSON) form of an experiment.
 *
 * @category models
 * @since 0.1.0
 */
export type Encoded = typeof ExperimentStruct.Encoded

// ---------------------------------------------------------------------------
// Values: plain frozen records with a `pipe` method

const Proto = {
  pipe() {
    // biome-ignore lint/complexity/noArguments: Effect's pipe protocol
    return pipeArguments(this, arguments)
  }
}

/** A deep copy of a JSON-like value with −0 → 0 and undefined properties dropped. */
const normalize = (value: unknown): unknown => {
  if (typeof value === "number") return value === 0 ? 0 : value
  if (Array.isArray(value)) return Object.freeze(value.map(normalize))
  if (typeof value === "object" && value !== null) {
    const out: { [key: string]: unknown } = {}
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = normalize(v)
    return Object.freeze(out)
  }
  return value
}

const withProto = <A extends object>(fields: A): A =>
  Object.freeze(Object.assign(Object.create(Proto), normalize(fields) as A))

const problemValue = (name: string, parameters: Values, grid: GridInput): ProblemSpec =>
  withProto({ _tag: "Problem" as const, name, parameters, grid }) as ProblemSpec

const solverValue = (name: string, options: Values, grid: GridInput): SolverSpec =>
  withProto({ _tag: "Solver" as const, name, options, grid }) as SolverSpec

const stageValue = (solver: SolverSpec, until: Stopping.StoppingRule | undefined): Stage =>
  Object.freeze(
    until === undefined
      ? { solver: solverValue(solver.name, solver.options, solver.grid) }
      : {
          solver: solverValue(solver.name, solver.options, solver.grid),
          until: normalize(until) as typeof until
        }
  )

const pipelineValue = (name: string, stages: ReadonlyArray<Stage>): PipelineSpec =>
  Object.freeze(
    Object.assign(Object.create(Proto), {
      _tag: "Pipeline" as const,
      name,
      stages: Object.freeze(stages.map((s) => stageValue(s.solver, s.until)))
    })
  ) as PipelineSpec

const entryValue = (entry: SolverEntry): SolverEntry =>
  entry._tag === "Solver"
    ? solverValue(entry.name, entry.options, entry.grid)
    : pipelineValue(entry.name, entry.stages)

/**
 * Default sampling: check every iteration, about ten trace samples per decade.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultSampling: Sampling = Object.freeze({ checkEvery: 1, traceRatio: 1.25 })

/**
 * The default stopping rule: 1000 iterations.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultStopping: Stopping.StoppingRule = Stopping.maxIterations(1000)

/**
 * An experiment; omitted fields take their defaults (seed 0, one repetition,
 * no problems or solvers, 1000 iterations, `Evaluators.defaults`,
 * {@link defaultSampling}). Validation happens when decoding or running
 * (against a registry), not here.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (input: {
  readonly name: string
  readonly seed?: number
  readonly repetitions?: number
  readonly problems?: ReadonlyArray<ProblemSpec>
  readonly solvers?: ReadonlyArray<SolverEntry>
  readonly stopping?: Stopping.StoppingRule
  readonly evaluators?: ReadonlyArray<Evaluators.Evaluator>
  readonly sampling?: Partial<Sampling>
}): Experiment =>
  Object.freeze(
    Object.assign(Object.create(Proto), {
      name: input.name,
      seed: input.seed ?? 0,
      repetitions: input.repetitions ?? 1,
      problems: Object.freeze((input.problems ?? []).map((p) => problemValue(p.name, p.parameters, p.grid))),
      solvers: Object.freeze((input.solvers ?? []).map(entryValue)),
      stopping: normalize(input.stopping ?? defaultStopping) as Stopping.StoppingRule,
      evaluators: normalize(input.evaluators ?? Evaluators.defaults) as ReadonlyArray<Evaluators.Evaluator>,
      sampling: normalize({ ...defaultSampling, ...input.sampling }) as Sampling
    })
  ) as Experiment

/**
 * A problem spec: a registered generator's name and its parameters.
 *
 * @example
 * Experiment.problem("logisticRegression", { samples: 1000, features: 20 })
 * @category constructors
 * @since 0.1.0
 */
export const problem = (name: string, parameters: Values = {}): ProblemSpec =>
  problemValue(name, parameters, {})

/**
 * A solver spec: a registered solver's name and its options.
 *
 * @example
 * Experiment.solver("adam", { learningRate: Schedules.cosine({ initValue: 1e-2, decaySteps: 1000 }) })
 * @category constructors
 * @since 0.1.0
 */
export const solver = (name: string, options: Values = {}): SolverSpec => solverValue(name, options, {})

/**
 * A pipeline stage: `solver`, run until `until` holds (or the solver stops by itself).
 *
 * @category constructors
 * @since 0.1.0
 */
export const stage = (solver: SolverSpec, until?: Stopping.StoppingRule): Stage => stageValue(solver, until)

/**
 * A pipeline of stages, each warm-started from the previous one's iterate.
 * The name defaults to the stage solvers' names joined by "→".
 *
 * @example
 * Experiment.pipeline([
 *   Experiment.stage(Experiment.solver("adam", { learningRate: 1e-2 }), Stopping.maxIterations(200)),
 *   Experiment.stage(Experiment.solver("lbfgs"))
 * ])
 * @category constructors
 * @since 0.1.0
 */
export const pipeline = (
  stages: ReadonlyArray<Stage>,
  options: { readonly name?: string } = {}
): PipelineSpec => pipelineValue(options.name ?? stages.map((s) => s.solver.name).join("→"), stages)

// ---------------------------------------------------------------------------
// Combinators

/**
 * Appends problems.
 *
 * @category combinators
 * @since 0.1.0
 */
export const withProblems =
  (...problems: ReadonlyArray<ProblemSpec>) =>
  (self: Experiment): Experiment =>
    make({ ...self, problems: [...self.problems, ...problems] })

/**
 * Appends solvers and pipelines.
 *
 * @category combinators
 * @since 0.1.0
 */
export const withSolvers =
  (...solvers: ReadonlyArray<SolverEntry>) =>
  (self: Experiment): Experiment =>
    make({ ...self, solvers: [...self.solvers, ...solvers] })

/**
 * Sets the number of repetitions (each with its own problem instance and keys).
 *
 * @category combinators
 * @since 0.1.0
 */
export const withRepetitions =
  (repetitions: number) =>
  (self: Experiment): Experiment =>
    make({ ...self, repetitions })

/**
 * Sets the root seed.
 *
 * @category combinators
 * @since 0.1.0
 */
export const withSeed =
  (seed: number) =>
  (self: Experiment): Experiment =>
    make({ ...self, seed })

/**
 * Sets the stopping rule.
 *
 * @category combinators
 * @since 0.1.0
 */
export const withStopping =
  (stopping: Stopping.StoppingRule) =>
  (self: Experiment): Experiment =>
    make({ ...self, stopping })

/**
 * Adds evaluators (each at most once).
 *
 * @category combinators
 * @since 0.1.0
 */
export const withEvaluators =
  (...evaluators: ReadonlyArray<Evaluators.Evaluator>) =>
  (self: Experiment): Experiment => {
    const list = [...self.evaluators]
    for (const e of evaluators) if (!list.some((x) => hash(x) === hash(e))) list.push(e)
    return make({ ...self, evaluators: list })
  }

/**
 * Changes the telemetry sampling.
 *
 * @category combinators
 * @since 0.1.0
 */
export const withSampling =
  (sampling: Partial<Sampling>) =>
  (self: Experiment): Experiment =>
    make({ ...self, sampling: { ...self.sampling, ...sampling } })

/**
 * Adds a grid (values to try for some parameters or options). On a problem
 * or solver spec, the grid is the spec's; on an experiment, it goes to every
 * problem, or only to the problems named `options.problem`, or to the
 * solvers named `options.solver`. Every combination of grid values is a
 * separate problem (or solver) in the expansion.
 *
 * @example
 * Experiment.problem("quadratic", { dimension: 50 }).pipe(Experiment.withGrid({ condition: [10, 1e3, 1e5] }))
 * @category combinators
 * @since 0.1.0
 */
export const withGrid =
  (grid: GridInput, options: { readonly problem?: string; readonly solver?: string } = {}) =>
  <A extends ProblemSpec | SolverSpec | Experiment>(self: A): A => {
    const tagged = self as ProblemSpec | SolverSpec | Experiment
    if ("_tag" in tagged) {
      return (
        tagged._tag === "Problem"
          ? problemValue(tagged.name, tagged.parameters, { ...tagged.grid, ...grid })
          : solverValue(tagged.name, tagged.options, { ...tagged.grid, ...grid })
      ) as A
    }
    const experiment = tagged
    if (options.solver !== undefined) {
      const target = options.solver
      return make({
        ...experiment,
        solvers: experiment.solvers.map((s) =>
          s._tag === "Solver" && s.name === target
            ? solverValue(s.name, s.options, { ...s.grid, ...grid })
            : s
        )
      }) as A
    }
    return make({
      ...experiment,
      problems: experiment.problems.map((p) =>
        options.problem === undefined || p.name === options.problem
          ? problemValue(p.name, p.parameters, { ...p.grid, ...grid })
          : p
      )
    }) as A
  }

// ---------------------------------------------------------------------------
// Schemas

const JsonSchema: Schema.Codec<Json> = Schema.Union([
  Schema.Null,
  Schema.Boolean,
  Schema.Finite,
  Schema.String,
  Schema.Array(Schema.suspend((): Schema.Codec<Json> => JsonSchema)),
  Schema.Record(
    Schema.String,
    Schema.suspend((): Schema.Codec<Json> => JsonSchema)
  )
])

const JsonRecordSchema = Schema.Record(Schema.String, JsonSchema)

const GridSchema = Schema.Record(Schema.String, Schema.Array(JsonSchema).check(Schema.isMinLength(1)))

const ProblemSpecSchema = Schema.TaggedStruct("Problem", {
  name: Schema.NonEmptyString,
  parameters: JsonRecordSchema,
  grid: GridSchema
})

const SolverSpecSchema = Schema.TaggedStruct("Solver", {
  name: Schema.NonEmptyString,
  options: JsonRecordSchema,
  grid: GridSchema
})

const StageSchema = Schema.Struct({
  solver: SolverSpecSchema,
  until: Schema.optionalKey(Stopping.StoppingRule)
})

const PipelineSpecSchema = Schema.TaggedStruct("Pipeline", {
  name: Schema.NonEmptyString,
  stages: Schema.Array(StageSchema).check(Schema.isMinLength(1))
})

const ExperimentStruct = Schema.Struct({
  name: Schema.NonEmptyString,
  seed: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  repetitions: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  problems: Schema.Array(ProblemSpecSchema),
  solvers: Schema.Array(Schema.Union([SolverSpecSchema, PipelineSpecSchema])),
  stopping: Stopping.StoppingRule,
  evaluators: Schema.Array(Evaluators.Evaluator),
  sampling: Schema.Struct({
    checkEvery: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
    traceRatio: Schema.Finite.check(Schema.isGreaterThan(1), Schema.isLessThanOrEqualTo(1000))
  })
})

type Issue = { readonly path: ReadonlyArray<PropertyKey>; readonly issue: string }

/** Largest number of grid combinations of one spec. */
const MAX_COMBINATIONS = 100_000

const gridSize = (grid: Grid): number => Object.values(grid).reduce((n, values) => n * values.length, 1)

/** Every combination of grid values (keys in sorted order, the first varying slowest), with the value indices. */
const combinations = (
  grid: Grid
): Array<{ readonly values: JsonRecord; readonly indices: Record<string, number> }> => {
  const keys = Object.keys(grid).sort()
  let out: Array<{ values: Record<string, Json>; indices: Record<string, number> }> = [
    { values: {}, indices: {} }
  ]
  for (const key of keys) {
    const next: typeof out = []
    for (const partial of out) {
      grid[key]!.forEach((value, index) => {
        next.push({
          values: { ...partial.values, [key]: value },
          indices: { ...partial.indices, [key]: index }
        })
      })
    }
    out = next
  }
  return out
}

const ruleIssues = (rule: Stopping.StoppingRule, path: ReadonlyArray<PropertyKey>): Array<Issue> => {
  switch (rule._tag) {
    case "Tolerance":
    case "SufficientProgress":
      return Evaluators.isMetricName(rule.metric)
        ? []
        : [
            {
              path: [...path, "metric"],
              issue: `unknown metric "${rule.metric}" (known: ${Evaluators.metricNames.join(", ")}, or solver.<name>)`
            }
          ]
    case "AnyOf":
    case "AllOf":
      return rule.rules.flatMap((r, i) => ruleIssues(r, [...path, "rules", i]))
    default:
      return []
  }
}

const structuralIssues = (e: Encoded): Array<Issue> => {
  const issues: Array<Issue> = []
  if (!Stopping.isBounded(e.stopping)) {
    issues.push({
      path: ["stopping"],
      issue:
        "the stopping rule must bound the run: include maxIterations or timeBudget (in anyOf, or in every allOf member)"
    })
  }
  issues.push(...ruleIssues(e.stopping, ["stopping"]))
  e.problems.forEach((p, i) => {
    if (gridSize(p.grid) > MAX_COMBINATIONS) {
      issues.push({ path: ["problems", i, "grid"], issue: `more than ${MAX_COMBINATIONS} combinations` })
    }
  })
  e.solvers.forEach((s, i) => {
    if (s._tag === "Solver") {
      if (gridSize(s.grid) > MAX_COMBINATIONS) {
        issues.push({ path: ["solvers", i, "grid"], issue: `more than ${MAX_COMBINATIONS} combinations` })
      }
      return
    }
    s.stages.forEach((stage, j) => {
      const path = ["solvers", i, "stages", j]
      if (Object.keys(stage.solver.grid).length > 0) {
        issues.push({ path: [...path, "solver", "grid"], issue: "pipeline stages take no grid" })
      }
      if (stage.until !== undefined) issues.push(...ruleIssues(stage.until, [...path, "until"]))
      if (j < s.stages.length - 1 && (stage.until === undefined || !Stopping.isBounded(stage.until))) {
        issues.push({
          path: [...path, "until"],
          issue: "every stage but the last needs a bounded `until` rule (maxIterations or timeBudget)"
        })
      }
    })
  })
  return issues
}

/** Flat issues of decoding `input` with `schema` (excess properties rejected). */
const flatIssues = (schema: Schema.Codec<unknown, unknown>, input: unknown): ReadonlyArray<Issue> => {
  const standard = Schema.toStandardSchemaV1(schema as Schema.Codec<unknown, unknown> & Schema.Top, {
    parseOptions: { onExcessProperty: "error", errors: "all" }
  })
  const result = standard["~standard"].validate(input)
  if (result instanceof Promise) return [{ path: [], issue: "asynchronous Schema" }]
  return (result.issues ?? []).map((i) => ({
    path: (i.path ?? []).map((p) => (typeof p === "object" ? p.key : p)),
    issue: i.message
  }))
}

/** The message of a thrown option error (optim's InvalidOptions names its field). */
const thrownIssue = (e: unknown): { readonly field: string | undefined; readonly message: string } => {
  if (typeof e === "object" && e !== null && "_tag" in e && e._tag === "InvalidOptions") {
    const error = e as unknown as { readonly field: string; readonly message: string }
    return { field: error.field, message: error.message }
  }
  return { field: undefined, message: e instanceof Error ? e.message : String(e) }
}

/**
 * Validates one spec's fixed values and grid: every combination is decoded
 * with `schema` (then passed to `extra`, which may throw optim's
 * `InvalidOptions`); an issue at a grid key is reported at that grid value.
 */
const specIssues = (
  schema: Schema.Codec<unknown, unknown>,
  fixed: JsonRecord,
  grid: Grid,
  field: "parameters" | "options",
  path: ReadonlyArray<PropertyKey>,
  extra: ((decoded: unknown) => void) | undefined
): Array<Issue> => {
  const issues: Array<Issue> = []
  const seen = new Set<string>()
  const add = (issue: Issue): void => {
    const id = JSON.stringify([issue.path.map(String), issue.issue])
    if (seen.has(id)) return
    seen.add(id)
    issues.push(issue)
  }
  for (const key of Object.keys(grid)) {
    if (Object.hasOwn(fixed, key)) {
      add({
        path: [...path, "grid", key],
        issue: `"${key}" is set in ${field} and in the grid; set it in one`
      })
    }
  }
  if (issues.length > 0) return issues
  const at = (key: PropertyKey | undefined, indices: Record<string, number>): ReadonlyArray<PropertyKey> =>
    typeof key === "string" && Object.hasOwn(grid, key)
      ? [...path, "grid", key, indices[key]!]
      : [...path, field]
  for (const { values, indices } of combinations(grid)) {
    const input = { ...fixed, ...values }
    const decoded = flatIssues(schema, input)
    for (const i of decoded) {
      const head = i.path[0]
      const base = at(head, indices)
      add({
        path: base.at(-1) === field ? [...base, ...i.path] : [...base, ...i.path.slice(1)],
        issue: i.issue
      })
    }
    if (decoded.length > 0 || extra === undefined) continue
    try {
      extra(Schema.decodeUnknownSync(schema)(input))
    } catch (e) {
      const { field: name, message } = thrownIssue(e)
      const base = at(name, indices)
      add({
        path:
          base.at(-1) === field && name !== undefined && Object.hasOwn(input, name) ? [...base, name] : base,
        issue: message
      })
    }
  }
  return issues
}

const unknownName = (kind: string, name: string, known: Iterable<string>): string =>
  `unknown ${kind} "${name}" (registered: ${[...known].sort().join(", ") || "none"})`

const solverIssues = (
  registry: Registry.Registry,
  spec: { readonly name: string; readonly options: JsonRecord; readonly grid: Grid },
  path: ReadonlyArray<PropertyKey>
): Array<Issue> => {
  const definition = registry.solvers.get(spec.name)
  if (definition === undefined) {
    return [{ path: [...path, "name"], issue: unknownName("solver", spec.name, registry.solvers.keys()) }]
  }
  return specIssues(definition.options, spec.options, spec.grid, "options", path, (options) => {
    definition.make(options)
  })
}

const registryIssues = (registry: Registry.Registry, e: Encoded): Array<Issue> => {
  const issues: Array<Issue> = []
  e.problems.forEach((p, i) => {
    const generator = registry.problems.get(p.name)
    if (generator === undefined) {
      issues.push({
        path: ["problems", i, "name"],
        issue: unknownName("problem", p.name, registry.problems.keys())
      })
      return
    }
    issues.push(
      ...specIssues(generator.parameters, p.parameters, p.grid, "parameters", ["problems", i], undefined)
    )
  })
  e.solvers.forEach((s, i) => {
    if (s._tag === "Solver") {
      issues.push(...solverIssues(registry, s, ["solvers", i]))
      return
    }
    s.stages.forEach((stage, j) => {
      issues.push(...solverIssues(registry, stage.solver, ["solvers", i, "stages", j, "solver"]))
    })
  })
  return issues
}

/**
 * The structural Schema of an experiment's JSON form: types and ranges,
 * bounded stopping rules, known metric names, grid sizes; no registry lookups.
 *
 * @category schemas
 * @since 0.1.0
 */
export const StructuralSchema: Schema.Codec<Encoded> = ExperimentStruct.check(
  Schema.makeFilter((e: Encoded) => structuralIssues(e))
)

/**
 * The Schema of an experiment's JSON form validated against `registry`:
 * the structural checks, then every problem and solver name, parameter and
 * option (every grid combination), each error at its path.
 *
 * @category schemas
 * @since 0.1.0
 */
export const schema = (registry: Registry.Registry = Registry.builtins): Schema.Codec<Encoded> =>
  ExperimentStruct.check(
    Schema.makeFilter((e: Encoded) => {
      const structural = structuralIssues(e)
      return structural.length > 0 ? structural : registryIssues(registry, e)
    })
  )

// ---------------------------------------------------------------------------
// Encoding and decoding

/**
 * The JSON form of an experiment (a plain object; `JSON.stringify` it, or
 * use {@link toJson} for canonical text).
 *
 * @throws NonCanonicalValue when a parameter or option is not JSON (NaN, a function, …).
 * @category encoding
 * @since 0.1.0
 */
export const encode = (experiment: Experiment): Encoded => JSON.parse(canonicalJson(experiment)) as Encoded

const fromEncoded = (e: Encoded): Experiment =>
  make({
    ...e,
    problems: e.problems.map((p) => problemValue(p.name, p.parameters, p.grid)),
    solvers: e.solvers.map((s) =>
      s._tag === "Solver"
        ? solverValue(s.name, s.options, s.grid)
        : pipelineValue(
            s.name,
            s.stages.map((st) =>
              stageValue(solverValue(st.solver.name, st.solver.options, st.solver.grid), st.until)
            )
          )
    )
  })

/**
 * Decodes (and validates against `registry`) an experiment's JSON form.
 * Fails with a `Schema.SchemaError` whose message names every offending path.
 *
 * @category decoding
 * @since 0.1.0
 */
export const decode = (
  input: unknown,
  registry: Registry.Registry = Registry.builtins
): Effect.Effect<Experiment, Schema.SchemaError> =>
  Effect.map(
    Schema.decodeUnknownEffect(schema(registry))(input, { onExcessProperty: "error", errors: "all" }),
    fromEncoded
  )

/**
 * {@link decode}, synchronously; throws the `Schema.SchemaError`.
 *
 * @category decoding
 * @since 0.1.0
 */
export const decodeSync = (input: unknown, registry: Registry.Registry = Registry.builtins): Experiment =>
  fromEncoded(Schema.decodeUnknownSync(schema(registry))(input, { onExcessProperty: "error", errors: "all" }))

/**
 * Canonical JSON text of the experiment (sorted keys; see `Hash.canonicalJson`).
 *
 * @category encoding
 * @since 0.1.0
 */
export const toJson = (experiment: Experiment): string => canonicalJson(encode(experiment))

/**
 * Parses and decodes JSON text (invalid JSON is a `Schema.SchemaError` too).
 *
 * @category decoding
 * @since 0.1.0
 */
export const fromJson = (
  text: string,
  registry: Registry.Registry = Registry.builtins
): Effect.Effect<Experiment, Schema.SchemaError> =>
  Effect.flatMap(Schema.decodeUnknownEffect(Schema.fromJsonString(Schema.Unknown))(text), (input) =>
    decode(input, registry)
  )

/**
 * The experiment's content hash: SHA-256 of its canonical JSON.
 *
 * @category accessors
 * @since 0.1.0
 */
export const hashOf = (experiment: Experiment): string => hash(encode(experiment))

/**
 * Checks `experiment` against `registry` (what `decode` checks).
 *
 * @category decoding
 * @since 0.1.0
 */
export const validate = (
  experiment: Experiment,
  registry: Registry.Registry = Registry.builtins
): Effect.Effect<Experiment, Schema.SchemaError> => Effect.suspend(() => decode(encode(experiment), registry))

// ---------------------------------------------------------------------------
// Expansion into cells

/**
 * A solver as it appears in a cell: a solver with its options (grid values
 * filled in), or a pipeline.
 *
 * @category models
 * @since 0.1.0
 */
export type CellSolver =
  | { readonly _tag: "Solver"; readonly name: string; readonly options: JsonRecord }
  | {
      readonly _tag: "Pipeline"
      readonly name: string
      readonly stages: ReadonlyArray<{
        readonly solver: { readonly _tag: "Solver"; readonly name: string; readonly options: JsonRecord }
        readonly until?: Stopping.StoppingRule
      }>
    }

/**
 * What identifies a cell: the problem (generator and parameters), the solver
 * and the repetition. Its canonical-JSON SHA-256 is the `cellId`.
 *
 * @category models
 * @since 0.1.0
 */
export interface CellIdentity {
  readonly problem: { readonly name: string; readonly parameters: JsonRecord }
  readonly solver: CellSolver
  readonly repetition: number
}

/**
 * One cell of an experiment.
 *
 * @category models
 * @since 0.1.0
 */
export interface Cell extends CellIdentity {
  /** SHA-256 (hex) of the identity's canonical JSON. */
  readonly cellId: string
  /** SHA-256 of `{ problem, repetition }`: the cells sharing it share the problem instance. */
  readonly instanceId: string
}

/**
 * A (problem, solver) combination the expansion left out, and why.
 *
 * @category models
 * @since 0.1.0
 */
export interface Skipped {
  readonly problem: { readonly name: string; readonly parameters: JsonRecord }
  readonly solver: string
  readonly reason: string
}

const sortKeys = (record: JsonRecord): JsonRecord => {
  const out: Record<string, Json> = {}
  for (const key of Object.keys(record).sort()) out[key] = record[key]!
  return out
}

const cellSolvers = (entry: SolverEntry): Array<CellSolver> => {
  if (entry._tag === "Pipeline") {
    return [
      {
        _tag: "Pipeline",
        name: entry.name,
        stages: entry.stages.map((s) => {
          const solver = { _tag: "Solver" as const, name: s.solver.name, options: sortKeys(s.solver.options) }
          return s.until === undefined ? { solver } : { solver, until: s.until }
        })
      }
    ]
  }
  return combinations(entry.grid).map(({ values }) => ({
    _tag: "Solver" as const,
    name: entry.name,
    options: sortKeys({ ...entry.options, ...values })
  }))
}

const stageNames = (solver: CellSolver): ReadonlyArray<string> =>
  solver._tag === "Solver" ? [solver.name] : solver.stages.map((s) => s.solver.name)

/**
 * The cells of `experiment` and the combinations left out because a solver
 * does not accept a problem (`SolverDefinition.accepts`). Cells come in
 * order problem × grid × solver × grid × repetition; duplicates (equal
 * identities) appear once. Assumes `experiment` is valid for `registry`
 * (decode or `validate` first).
 *
 * @throws Error when a problem or solver is not in the registry.
 * @category expansion
 * @since 0.1.0
 */
export const expandWithSkipped = (
  experiment: Experiment,
  registry: Registry.Registry = Registry.builtins
): { readonly cells: ReadonlyArray<Cell>; readonly skipped: ReadonlyArray<Skipped> } => {
  const cells: Array<Cell> = []
  const skipped: Array<Skipped> = []
  const seen = new Set<string>()
  const solvers = experiment.solvers.flatMap(cellSolvers)
  for (const spec of experiment.problems) {
    const generator = registry.problems.get(spec.name)
    if (generator === undefined) throw new Error(unknownName("problem", spec.name, registry.problems.keys()))
    for (const { values } of combinations(spec.grid)) {
      const parameters = sortKeys({ ...spec.parameters, ...values })
      const problem = { name: spec.name, parameters }
      const traits = generator.traits(Schema.decodeUnknownSync(generator.parameters)(parameters))
      for (const solver of solvers) {
        let reason: string | undefined
        for (const name of stageNames(solver)) {
          const definition = registry.solvers.get(name)
          if (definition === undefined) throw new Error(unknownName("solver", name, registry.solvers.keys()))
          reason ??= definition.accepts(traits)
        }
        if (reason !== undefined) {
          skipped.push({ problem, solver: solver.name, reason })
          continue
        }
        for (let repetition = 0; repetition < experiment.repetitions; repetition++) {
          const identity: CellIdentity = { problem, solver, repetition }
          const cellId = hash(identity)
          if (seen.has(cellId)) continue
          seen.add(cellId)
          cells.push({ ...identity, cellId, instanceId: hash({ problem, repetition }) })
        }
      }
    }
  }
  return { cells, skipped }
}

/**
 * The cells of `experiment` (see {@link expandWithSkipped}).
 *
 * @category expansion
 * @since 0.1.0
 */
export const expand = (
  experiment: Experiment,
  registry: Registry.Registry = Registry.builtins
): ReadonlyArray<Cell> => expandWithSkipped(experiment, registry).cells
