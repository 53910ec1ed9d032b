/**
 * The open set of things an experiment can name: problem generators and
 * solvers, by name.
 *
 * A `Registry` is an immutable value passed to experiment decoding, expansion
 * and the runner; `Registry.default` holds the built-ins of this package
 * (`Problems.all`, `Solvers.all`), and other packages (optimal transport,
 * graphs, …) add theirs with {@link withProblems} / {@link withSolvers}
 * without changing this one:
 *
 * ```ts
 * const registry = Registry.default.pipe(Registry.withSolvers(mySinkhornSolver))
 * ```
 *
 * A **problem generator** has a name, a parameter Schema, the traits a set of
 * parameters implies (regularizer, bounds — what decides which solvers accept
 * it, known without building the data) and `make(parameters, key)`, which
 * builds the instance deterministically from a core `Random` key: the same
 * parameters and key give the same numbers on every machine.
 *
 * A **solver definition** has a name, an option Schema, an `accepts` test on
 * problem traits, and `make(options)`, which returns a {@link Machine}: core's
 * `Solver.IterativeSolver` protocol over problem instances (`init`, `step`,
 * `status`, `residual`, `metrics`), plus the iterate, the state size and the
 * solver's message. The runner drives every solver through this one protocol.
 *
 * @since 0.1.0
 */
import type { Objective, Random, Solver } from "@descent/core"
import type { Prox } from "@descent/optim"
import type { Schema } from "effect"
import { type Pipeable, pipeArguments } from "effect/Pipeable"
import * as Problems from "./Problems.ts"
import * as Solvers from "./Solvers.ts"
import * as StructureLearning from "./StructureLearning.ts"
import * as Transport from "./Transport.ts"

/**
 * A problem instance: min over x of F(x) = f(x) + g(x), optionally subject to
 * lower ≤ x ≤ upper, from the start x0.
 *
 * @category models
 * @since 0.1.0
 */
export interface ProblemInstance {
  /** The smooth part f (value, gradient, and Hessian-vector products when cheap). */
  readonly objective: Objective.Objective
  /** The starting point (solvers copy it). */
  readonly x0: Float64Array
  /** The nonsmooth part g, by its proximal operator (absent: g = 0). */
  readonly regularizer?: Prox.Prox
  /** Box constraints (absent: unconstrained). */
  readonly bounds?: { readonly lower: Float64Array; readonly upper: Float64Array }
  /** The optimal value F*, when known in closed form or by a direct solve. */
  readonly optimum?: number
}

/**
 * What a set of problem parameters implies, known before building the data.
 *
 * @category models
 * @since 0.1.0
 */
export interface ProblemTraits {
  /** The problem has a nonsmooth regularizer g. */
  readonly regularizer: boolean
  /** The problem has box constraints. */
  readonly bounds: boolean
  /**
   * What the instance is beyond its objective: `"transport"` (an optimal
   * transport problem: the plan must stay on the transport polytope, which no
   * generic optimizer can keep), `"structure"` (structure learning from data:
   * the objective is the learner's score). Default `"objective"`: a plain
   * objective f(x).
   */
  readonly domain?: ProblemDomain
}

/**
 * What kind of problem an instance is (see `ProblemTraits.domain`).
 *
 * @category models
 * @since 0.1.0
 */
export type ProblemDomain = "objective" | "transport" | "structure"

/**
 * The domain of a problem's traits (`"objective"` when unset).
 *
 * @category models
 * @since 0.1.0
 */
export const domainOf = (traits: ProblemTraits): ProblemDomain => traits.domain ?? "objective"

/**
 * A problem generator. `P` is the decoded parameter type; its Schema's encoded
 * form must be JSON.
 *
 * @category models
 * @since 0.1.0
 */
export interface ProblemGenerator<P = unknown> {
  readonly name: string
  readonly description: string
  /** The parameter Schema (a `Schema.Struct`), applied with excess properties rejected. */
  readonly parameters: Schema.Codec<P, unknown>
  readonly traits: (parameters: P) => ProblemTraits
  /** Builds the instance; a pure function of (parameters, key). */
  readonly make: (parameters: P, key: Random.Key) => ProblemInstance
}

/**
 * What a solver starts from: the point (the problem's x0, or the previous
 * pipeline stage's iterate) and the cell's random key (for stochastic solvers).
 *
 * @category models
 * @since 0.1.0
 */
export interface StartOptions {
  readonly x0: Float64Array
  readonly key: Random.Key
}

/**
 * The uniform step machine the runner drives: core's iterative-solver
 * protocol over problem instances, with output the final iterate (a copy),
 * plus accessors for the evaluators.
 *
 * @category models
 * @since 0.1.0
 */
export interface Machine<State = unknown>
  extends Solver.IterativeSolver<ProblemInstance, StartOptions, State, Float64Array> {
  /** The current iterate (not a copy: read it, do not keep it across steps). */
  readonly iterate: (state: State) => Float64Array
  /** Memory held besides the iterate. */
  readonly stateSize: (state: State) => { readonly scalars: number; readonly bytes: number }
  /** The solver's explanation of its status, when it has one. */
  readonly message: (state: State) => string | undefined
  /**
   * `false` when `status` is always `undefined` (the machine never stops by
   * itself, as gradient transforms): the runner then skips calling it on
   * every step. Default: true.
   */
  readonly stops?: boolean
  /**
   * The oracle calls made so far, when the machine counts them itself (every
   * optim solver meters its objective): the runner then hands it the
   * problem's objective as it is instead of wrapping it in `Objective.meter`.
   */
  readonly counts?: (state: State) => Objective.OracleCounts
}

/**
 * A solver definition. `O` is the decoded option type; its Schema's encoded
 * form must be JSON.
 *
 * @category models
 * @since 0.1.0
 */
export interface SolverDefinition<O = unknown> {
  readonly name: string
  readonly description: string
  /** The option Schema (a `Schema.Struct`), applied with excess properties rejected. */
  readonly options: Schema.Codec<O, unknown>
  /** `undefined` when the solver accepts problems with these traits, else the reason it does not. */
  readonly accepts: (traits: ProblemTraits) => string | undefined
  /**
   * The machine for these options. Throws core's `Errors.InvalidOptions`
   * (naming the field) for options out of range: decoding calls it to
   * validate, so an experiment that decodes does not fail on its options.
   */
  // biome-ignore lint/suspicious/noExplicitAny: each solver has its own state type; the runner only passes states back to the machine that made them.
  readonly make: (options: O) => Machine<any>
}

/**
 * A problem generator of any parameter type (what lists of generators hold).
 *
 * @category models
 * @since 0.1.0
 */
// biome-ignore lint/suspicious/noExplicitAny: generators of any parameter type; the runner only passes a generator's own decoded parameters back to it
export type AnyProblemGenerator = ProblemGenerator<any>

/**
 * A solver definition of any option type (what lists of solvers hold).
 *
 * @category models
 * @since 0.1.0
 */
// biome-ignore lint/suspicious/noExplicitAny: solvers of any option type; the runner only passes a solver's own decoded options back to it
export type AnySolverDefinition = SolverDefinition<any>

/**
 * A registry of problem generators and solvers.
 *
 * @category models
 * @since 0.1.0
 */
export interface Registry extends Pipeable {
  readonly problems: ReadonlyMap<string, ProblemGenerator>
  readonly solvers: ReadonlyMap<string, SolverDefinition>
}

const RegistryProto = {
  pipe() {
    // biome-ignore lint/complexity/noArguments: Effect's pipe protocol
    return pipeArguments(this, arguments)
  }
}

// The erased forms (`ProblemGenerator<unknown>`) accept any generator: the
// runner only passes a generator's own decoded parameters back to it.
const eraseProblem = <P>(g: ProblemGenerator<P>): ProblemGenerator => g as unknown as ProblemGenerator
const eraseSolver = <O>(s: SolverDefinition<O>): SolverDefinition => s as unknown as SolverDefinition

const build = (
  problems: ReadonlyMap<string, ProblemGenerator>,
  solvers: ReadonlyMap<string, SolverDefinition>
): Registry => {
  const r = Object.create(RegistryProto) as {
    problems: ReadonlyMap<string, ProblemGenerator>
    solvers: typeof solvers
  }
  r.problems = problems
  r.solvers = solvers
  return Object.freeze(r) as Registry
}

/**
 * A registry of the given generators and solvers (a later entry replaces an
 * earlier one of the same name).
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (entries: {
  readonly problems?: ReadonlyArray<AnyProblemGenerator>
  readonly solvers?: ReadonlyArray<AnySolverDefinition>
}): Registry =>
  build(
    new Map((entries.problems ?? []).map((g) => [g.name, eraseProblem(g)])),
    new Map((entries.solvers ?? []).map((s) => [s.name, eraseSolver(s)]))
  )

/**
 * The registry with nothing in it.
 *
 * @category constructors
 * @since 0.1.0
 */
export const empty: Registry = make({})

/**
 * Adds problem generators (replacing any of the same name).
 *
 * @category combinators
 * @since 0.1.0
 */
export const withProblems =
  // biome-ignore lint/suspicious/noExplicitAny: generators of any parameter type
    (...generators: ReadonlyArray<ProblemGenerator<any>>) =>
    (self: Registry): Registry => {
      const problems = new Map(self.problems)
      for (const g of generators) problems.set(g.name, eraseProblem(g))
      return build(problems, self.solvers)
    }

/**
 * Adds solvers (replacing any of the same name).
 *
 * @category combinators
 * @since 0.1.0
 */
export const withSolvers =
  // biome-ignore lint/suspicious/noExplicitAny: solvers of any option type
    (...definitions: ReadonlyArray<SolverDefinition<any>>) =>
    (self: Registry): Registry => {
      const solvers = new Map(self.solvers)
      for (const s of definitions) solvers.set(s.name, eraseSolver(s))
      return build(self.problems, solvers)
    }

/**
 * The union of two registries (`that` wins on a name clash).
 *
 * @category combinators
 * @since 0.1.0
 */
export const merge =
  (that: Registry) =>
  (self: Registry): Registry =>
    build(new Map([...self.problems, ...that.problems]), new Map([...self.solvers, ...that.solvers]))

/**
 * The optimal transport fragment (`Transport.problems`, `Transport.solvers`:
 * `@descent/ot` registered), part of {@link builtins}.
 *
 * @category constants
 * @since 0.1.0
 */
export const transport: Registry = make({ problems: Transport.problems, solvers: Transport.solvers })

/**
 * The structure-learning fragment (`StructureLearning.problems`,
 * `StructureLearning.solvers`: `@descent/graph` registered), part of
 * {@link builtins}.
 *
 * @category constants
 * @since 0.1.0
 */
export const structure: Registry = make({
  problems: StructureLearning.problems,
  solvers: StructureLearning.solvers
})

/**
 * The registry of this package's built-in problems and solvers
 * (`Problems.all`, `Solvers.all`, optimal transport's
 * `Transport.problems`, `Transport.solvers`, and structure learning's
 * `StructureLearning.problems`, `StructureLearning.solvers`). Also exported
 * as `Registry.default`.
 *
 * @category constants
 * @since 0.1.0
 */
export const builtins: Registry = make({
  problems: [...Problems.all, ...Transport.problems, ...StructureLearning.problems],
  solvers: [...Solvers.all, ...Transport.solvers, ...StructureLearning.solvers]
})

export {
  /**
   * The registry of the built-in problems and solvers (= {@link builtins}).
   *
   * @category constants
   * @since 0.1.0
   */
  builtins as default
}
