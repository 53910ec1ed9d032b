/**
 * The built-in solvers: adapters from `@descent/optim` to the registry's
 * uniform step machine (`Registry.Machine`, core's `Solver.IterativeSolver`
 * over problem instances).
 *
 * **Gradient transforms** (`sgd`, `momentum`, `nesterov`, `adam`, `adamw`,
 * `nadam`, `amsgrad`, `adamax`, `adagrad`, `rmsprop`, `lion`, `grams`,
 * `polyakSgd`) are driven on the smooth objective: one step evaluates f and
 * ∇f at the current x (one value and one gradient oracle call; the evaluation
 * at x₀ happens in `init`) and applies one `GradientTransform.step`. Their
 * learning rates (and weight decays) are a number or one of optim's
 * serializable `Schedules`, so an option set is plain JSON. They never stop
 * by themselves: the experiment's stopping rules end them.
 *
 * **Deterministic solvers** (`gradientDescent`, `lbfgs`, `lbfgsB`,
 * `nonlinearCg`, `newtonCg`, `trustRegionNcg`, `ista`, `fista`) are optim's
 * `IterativeSolver` objects, stepped as they are; their own convergence
 * tests (gradient tolerance, relative decrease) end a cell as `converged`, a
 * failed line search as `stalled`.
 *
 * Which problems a solver accepts: every solver needs a smooth objective;
 * only `lbfgsB` (bounds), and `ista`/`fista` (a regularizer, or bounds as the
 * box's projection) accept the others.
 *
 * @since 0.1.0
 */
import { Errors, Objective, Random, type Solver, Vector } from "@descent/core"
import {
  GradientDescent,
  GradientTransform,
  Grams,
  Lbfgs,
  LbfgsB,
  NewtonCg,
  NonlinearCg,
  Optimizers,
  Polyak,
  Prox,
  ProximalGradient,
  Schedules,
  TrustRegionNcg
} from "@descent/optim"
import { Schema } from "effect"
import type {
  AnySolverDefinition,
  Machine,
  ProblemInstance,
  ProblemTraits,
  SolverDefinition,
  StartOptions
} from "./Registry.ts"

// ---------------------------------------------------------------------------
// Option schemas

/**
 * A schedule of `@descent/optim` (`Schedules.Schedule`) in its JSON form,
 * validated by `Schedules.fromJSON`.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Schedule: Schema.Codec<Schedules.Schedule> = Schema.Record(Schema.String, Schema.Unknown).check(
  Schema.makeFilter((value) => {
    try {
      Schedules.fromJSON(value)
      return undefined
    } catch (e) {
      if (e instanceof Errors.InvalidOptions) {
        return Object.hasOwn(value, e.field) ? { path: [e.field], issue: e.message } : e.message
      }
      return String(e)
    }
  })
) as unknown as Schema.Codec<Schedules.Schedule>

/**
 * A step size: a number ≥ 0 or a schedule.
 *
 * @category schemas
 * @since 0.1.0
 */
export const StepSize: Schema.Codec<number | Schedules.Schedule> = Schema.Union([
  Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0)),
  Schedule
]).annotate({ expected: "a number ≥ 0 or a schedule (Schedules.*)" })

const Decay = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0), Schema.isLessThan(1))
const NonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))
const Positive = Schema.Finite.check(Schema.isGreaterThan(0))
const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
const optional = Schema.optionalKey

// ---------------------------------------------------------------------------
// Acceptance

/**
 * Accepts smooth, unconstrained problems only.
 *
 * @category guards
 * @since 0.1.0
 */
/** Generic optimizers cannot keep a transport plan on its polytope (its marginal constraints). */
const noTransport = (traits: ProblemTraits): string | undefined =>
  traits.domain === "transport"
    ? "cannot keep a transport plan on the transport polytope (use an ot solver)"
    : undefined

export const smoothUnconstrained = (traits: ProblemTraits): string | undefined =>
  noTransport(traits) ??
  (traits.regularizer
    ? "needs a smooth objective (the problem has a nonsmooth regularizer)"
    : traits.bounds
      ? "handles no constraints (the problem has bounds)"
      : undefined)

const smoothWithBounds = (traits: ProblemTraits): string | undefined =>
  noTransport(traits) ??
  (traits.regularizer ? "needs a smooth objective (the problem has a nonsmooth regularizer)" : undefined)

const composite = (traits: ProblemTraits): string | undefined =>
  noTransport(traits) ??
  (traits.regularizer && traits.bounds ? "takes a regularizer or bounds, not both" : undefined)

// ---------------------------------------------------------------------------
// Gradient transforms

/**
 * State of a gradient-transform machine. `value`/`gradient` describe `x` when
 * `evaluated`; the transform consumes the gradient, so it is re-evaluated
 * after each step.
 *
 * @category models
 * @since 0.1.0
 */
export interface TransformState {
  readonly objective: Objective.Objective
  readonly x: Float64Array
  readonly gradient: Float64Array
  optimizerState: unknown
  value: number
  evaluated: boolean
  /** Evaluations of f and ∇f (one `valueAndGradient` each). */
  evaluations: number
}

/**
 * The step machine of a gradient transform on a smooth objective: one step is
 * one evaluation of f and ∇f and one `GradientTransform.step`. With
 * `passValue`, f(x) goes to the transform in `extras.value` (Polyak steps).
 *
 * @category constructors
 * @since 0.1.0
 */
export const transformMachine = (
  name: string,
  transform: GradientTransform.GradientTransform<unknown>,
  options: { readonly passValue?: boolean } = {}
): Machine<TransformState> => {
  const passValue = options.passValue === true
  return {
    name,
    init: (problem: ProblemInstance, start: StartOptions) => {
      const objective = problem.objective
      Objective.assertDimension(name, objective, start.x0)
      const x = Vector.clone(start.x0)
      const gradient = Vector.zeros(x.length)
      const value = objective.valueAndGradient(x, gradient)
      return {
        objective,
        x,
        gradient,
        optimizerState: transform.init(x),
        value,
        evaluated: true,
        evaluations: 1
      }
    },
    step: (s) => {
      if (!s.evaluated) {
        s.value = s.objective.valueAndGradient(s.x, s.gradient)
        s.evaluations++
      }
      s.optimizerState = passValue
        ? GradientTransform.step(transform, s.x, s.gradient, s.optimizerState, { value: s.value })
        : GradientTransform.step(transform, s.x, s.gradient, s.optimizerState)
      s.evaluated = false
      return s
    },
    status: () => undefined,
    stops: false,
    residual: (s) => s.value,
    metrics: () => ({}),
    output: (s) => Vector.clone(s.x),
    iterate: (s) => s.x,
    stateSize: (s) => GradientTransform.stateSize(s.optimizerState),
    message: () => undefined,
    counts: (s) => ({ value: s.evaluations, gradient: s.evaluations, hessianVector: 0, matvec: 0 })
  }
}

const transformSolver = <Fields extends Schema.Struct.Fields>(spec: {
  readonly name: string
  readonly description: string
  readonly fields: Fields
  readonly build: (options: Schema.Struct.Type<Fields>) => GradientTransform.GradientTransform<unknown>
  readonly passValue?: boolean
}): SolverDefinition<Schema.Struct.Type<Fields>> => ({
  name: spec.name,
  description: spec.description,
  options: Schema.Struct(spec.fields) as unknown as Schema.Codec<Schema.Struct.Type<Fields>, unknown>,
  accepts: smoothUnconstrained,
  make: (options) => transformMachine(spec.name, spec.build(options), { passValue: spec.passValue ?? false })
})

// The transforms' state types differ; the machine treats the state as opaque.
const erase = <S>(t: GradientTransform.GradientTransform<S>): GradientTransform.GradientTransform<unknown> =>
  t as unknown as GradientTransform.GradientTransform<unknown>

/** Copies the defined keys of `o` listed in `keys` (optim's options are exact optional properties). */
const pick = <O extends object, K extends keyof O>(o: O, keys: ReadonlyArray<K>): Pick<O, K> => {
  const out = {} as Pick<O, K>
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k]
  return out
}

const adamFields = {
  learningRate: StepSize,
  b1: optional(Decay),
  b2: optional(Decay),
  eps: optional(NonNegative),
  epsRoot: optional(NonNegative)
}

/**
 * SGD, optionally with heavy-ball or Nesterov momentum (`Optimizers.sgd`).
 *
 * @category solvers
 * @since 0.1.0
 */
export const sgd = transformSolver({
  name: "sgd",
  description: "stochastic gradient descent x ← x − η∇f(x), optionally with momentum (Optax's sgd)",
  fields: { learningRate: StepSize, momentum: optional(Decay), nesterov: optional(Schema.Boolean) },
  build: (o) => erase(Optimizers.sgd(o.learningRate, pick(o, ["momentum", "nesterov"])))
})

/**
 * Heavy-ball momentum (`Optimizers.momentum`).
 *
 * @category solvers
 * @since 0.1.0
 */
export const momentum = transformSolver({
  name: "momentum",
  description: "heavy-ball momentum (Polyak 1964), β default 0.9",
  fields: { learningRate: StepSize, momentum: optional(Decay) },
  build: (o) => erase(Optimizers.momentum(o.learningRate, pick(o, ["momentum"])))
})

/**
 * Nesterov momentum (`Optimizers.nesterov`).
 *
 * @category solvers
 * @since 0.1.0
 */
export const nesterov = transformSolver({
  name: "nesterov",
  description: "Nesterov momentum (Sutskever et al. 2013), β default 0.9",
  fields: { learningRate: StepSize, momentum: optional(Decay) },
  build: (o) => erase(Optimizers.nesterov(o.learningRate, pick(o, ["momentum"])))
})

/**
 * Adam (`Optimizers.adam`).
 *
 * @category solvers
 * @since 0.1.0
 */
export const adam = transformSolver({
  name: "adam",
  description: "Adam (Kingma & Ba 2015); β₁ 0.9, β₂ 0.999, ε 1e-8 by default",
  fields: { ...adamFields, nesterov: optional(Schema.Boolean) },
  build: (o) => erase(Optimizers.adam(o.learningRate, pick(o, ["b1", "b2", "eps", "epsRoot", "nesterov"])))
})

/**
 * AdamW (`Optimizers.adamw`).
 *
 * @category solvers
 * @since 0.1.0
 */
export const adamw = transformSolver({
  name: "adamw",
  description: "AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay (default 1e-4)",
  fields: { ...adamFields, nesterov: optional(Schema.Boolean), weightDecay: optional(StepSize) },
  build: (o) =>
    erase(
      Optimizers.adamw(o.learningRate, pick(o, ["b1", "b2", "eps", "epsRoot", "nesterov", "weightDecay"]))
    )
})

/**
 * NAdam (`Optimizers.nadam`).
 *
 * @category solvers
 * @since 0.1.0
 */
export const nadam = transformSolver({
  name: "nadam",
  description: "NAdam (Dozat 2016): Adam with Nesterov momentum",
  fields: adamFields,
  build: (o) => erase(Optimizers.nadam(o.learningRate, pick(o, ["b1", "b2", "eps", "epsRoot"])))
})

/**
 * AMSGrad (`Optimizers.amsgrad`).
 *
 * @category solvers
 * @since 0.1.0
 */
export const amsgrad = transformSolver({
  name: "amsgrad",
  description: "AMSGrad (Reddi et al. 2018): Adam with a non-decreasing second moment",
  fields: adamFields,
  build: (o) => erase(Optimizers.amsgrad(o.learningRate, pick(o, ["b1", "b2", "eps", "epsRoot"])))
})

/**
 * Adamax (`Optimizers.adamax`).
 *
 * @category solvers
 * @since 0.1.0
 */
export const adamax = transformSolver({
  name: "adamax",
  description: "Adamax (Kingma & Ba 2015): Adam with an infinity-norm second moment",
  fields: { learningRate: StepSize, b1: optional(Decay), b2: optional(Decay), eps: optional(NonNegative) },
  build: (o) => erase(Optimizers.adamax(o.learningRate, pick(o, ["b1", "b2", "eps"])))
})

/**
 * Adagrad (`Optimizers.adagrad`).
 *
 * @category solvers
 * @since 0.1.0
 */
export const adagrad = transformSolver({
  name: "adagrad",
  description: "Adagrad (Duchi et al. 2011)",
  fields: {
    learningRate: StepSize,
    initialAccumulatorValue: optional(NonNegative),
    eps: optional(NonNegative)
  },
  build: (o) => erase(Optimizers.adagrad(o.learningRate, pick(o, ["initialAccumulatorValue", "eps"])))
})

/**
 * RMSProp (`Optimizers.rmsprop`).
 *
 * @category solvers
 * @since 0.1.0
 */
export const rmsprop = transformSolver({
  name: "rmsprop",
  description: "RMSProp (Tieleman & Hinton 2012), optionally centered and with momentum",
  fields: {
    learningRate: StepSize,
    decay: optional(Decay),
    eps: optional(NonNegative),
    initialScale: optional(NonNegative),
    epsInSqrt: optional(Schema.Boolean),
    biasCorrection: optional(Schema.Boolean),
    centered: optional(Schema.Boolean),
    momentum: optional(Decay),
    nesterov: optional(Schema.Boolean)
  },
  build: (o) =>
    erase(
      Optimizers.rmsprop(
        o.learningRate,
        pick(o, [
          "decay",
          "eps",
          "initialScale",
          "epsInSqrt",
          "biasCorrection",
          "centered",
          "momentum",
          "nesterov"
        ])
      )
    )
})

/**
 * Lion (`Optimizers.lion`).
 *
 * @category solvers
 * @since 0.1.0
 */
export const lion = transformSolver({
  name: "lion",
  description:
    "Lion (Chen et al. 2023): sign of an interpolated momentum, decoupled weight decay (default 1e-3)",
  fields: {
    learningRate: StepSize,
    b1: optional(Decay),
    b2: optional(Decay),
    weightDecay: optional(StepSize)
  },
  build: (o) => erase(Optimizers.lion(o.learningRate, pick(o, ["b1", "b2", "weightDecay"])))
})

/**
 * Grams (`Grams.grams`).
 *
 * @category solvers
 * @since 0.1.0
 */
export const grams = transformSolver({
  name: "grams",
  description: "Grams (Cao, Li & Song 2024): Adam's magnitude with the gradient's sign",
  fields: { ...adamFields, weightDecay: optional(StepSize) },
  build: (o) => erase(Grams.grams(o.learningRate, pick(o, ["b1", "b2", "eps", "epsRoot", "weightDecay"])))
})

/**
 * SGD with Polyak's step size (`Polyak.polyakSgd`; f(x) is passed in `extras.value`).
 *
 * @category solvers
 * @since 0.1.0
 */
export const polyakSgd = transformSolver({
  name: "polyakSgd",
  description: "SGD with the Polyak step size SPS_max (Loizou et al. 2021): min((f − f*)/‖g‖², γ_max)",
  fields: {
    scaling: optional(StepSize),
    fMin: optional(Schema.Finite),
    maxLearningRate: optional(NonNegative),
    eps: optional(NonNegative),
    variant: optional(Schema.Literals(["sps", "sps+"]))
  },
  build: (o) => erase(Polyak.polyakSgd(pick(o, ["scaling", "fMin", "maxLearningRate", "eps", "variant"]))),
  passValue: true
})

// ---------------------------------------------------------------------------
// Deterministic solvers

interface IterateState {
  readonly x: Float64Array
  /** optim's solvers meter their objective in `init`. */
  readonly objective: Objective.MeteredObjective
}

/**
 * The step machine of a deterministic solver of optim: its own `init`,
 * `step`, `status`, `residual` and `metrics`, on the problem `toProblem`
 * builds from the instance and the start point.
 *
 * @category constructors
 * @since 0.1.0
 */
export const solverMachine = <P, O, S extends IterateState>(
  solver: Solver.IterativeSolver<P, O, S, unknown>,
  toProblem: (problem: ProblemInstance, x0: Float64Array) => P,
  options: O
): Machine<S> => ({
  name: solver.name,
  init: (problem, start) => solver.init(toProblem(problem, start.x0), options),
  step: (s) => solver.step(s),
  status: (s) => solver.status(s),
  residual: (s) => solver.residual(s),
  metrics: (s) => solver.metrics(s),
  output: (s) => Vector.clone(s.x),
  iterate: (s) => s.x,
  stateSize: (s) => {
    const size = GradientTransform.stateSize(s)
    return { scalars: size.scalars - s.x.length, bytes: size.bytes - s.x.byteLength }
  },
  message: (s) => (s as { readonly message?: string | undefined }).message,
  counts: (s) => s.objective.counts
})

/** ½x² in one dimension: the problem `make` initializes a solver on to validate its options. */
const probe: ProblemInstance = {
  objective: {
    dimension: 1,
    value: (x) => 0.5 * x[0]! * x[0]!,
    valueAndGradient: (x, g) => {
      g[0] = x[0]!
      return 0.5 * x[0]! * x[0]!
    },
    hessianVectorProduct: (_x, v, out) => {
      out[0] = v[0]!
    }
  },
  x0: Vector.fromArray([1])
}

const probeKey = Random.key(0)

const deterministicSolver = <Fields extends Schema.Struct.Fields, P, S extends IterateState>(spec: {
  readonly name: string
  readonly description: string
  readonly fields: Fields
  readonly solver: Solver.IterativeSolver<P, Schema.Struct.Type<Fields>, S, unknown>
  readonly toProblem: (problem: ProblemInstance, x0: Float64Array) => P
  readonly accepts?: (traits: ProblemTraits) => string | undefined
}): SolverDefinition<Schema.Struct.Type<Fields>> => ({
  name: spec.name,
  description: spec.description,
  options: Schema.Struct(spec.fields) as unknown as Schema.Codec<Schema.Struct.Type<Fields>, unknown>,
  accepts: spec.accepts ?? smoothUnconstrained,
  make: (options) => {
    const machine = solverMachine(spec.solver, spec.toProblem, options)
    // optim validates options in `init`: initialize once on a tiny problem so
    // that bad options fail here (and experiment decoding reports them).
    machine.init(probe, { x0: probe.x0, key: probeKey })
    return machine
  }
})

const smoothProblem = (problem: ProblemInstance, x0: Float64Array) => ({ objective: problem.objective, x0 })

const toleranceFields = { tolerance: optional(NonNegative), functionTolerance: optional(NonNegative) }

/**
 * Gradient descent with backtracking (or a fixed step) (`GradientDescent.solver`).
 *
 * @category solvers
 * @since 0.1.0
 */
export const gradientDescent = deterministicSolver({
  name: "gradientDescent",
  description: "gradient descent with an Armijo backtracking search, or a fixed step",
  fields: { stepSize: optional(Positive), stepGrowth: optional(Schema.Finite), ...toleranceFields },
  solver: GradientDescent.solver,
  toProblem: smoothProblem
})

/**
 * L-BFGS (`Lbfgs.solver`).
 *
 * @category solvers
 * @since 0.1.0
 */
export const lbfgs = deterministicSolver({
  name: "lbfgs",
  description: "L-BFGS with a strong Wolfe line search (Nocedal 1980; Liu & Nocedal 1989)",
  fields: { memory: optional(PositiveInt), ...toleranceFields },
  solver: Lbfgs.solver,
  toProblem: smoothProblem
})

/**
 * L-BFGS-B (`LbfgsB.solver`), with the problem's bounds.
 *
 * @category solvers
 * @since 0.1.0
 */
export const lbfgsB = deterministicSolver({
  name: "lbfgsB",
  description: "L-BFGS-B for box constraints (Byrd, Lu, Nocedal & Zhu 1995)",
  fields: { memory: optional(PositiveInt), maxLineSearchTrials: optional(PositiveInt), ...toleranceFields },
  solver: LbfgsB.solver,
  toProblem: (problem, x0) =>
    problem.bounds === undefined
      ? { objective: problem.objective, x0 }
      : { objective: problem.objective, x0, lower: problem.bounds.lower, upper: problem.bounds.upper },
  accepts: smoothWithBounds
})

/**
 * Nonlinear conjugate gradients (`NonlinearCg.solver`).
 *
 * @category solvers
 * @since 0.1.0
 */
export const nonlinearCg = deterministicSolver({
  name: "nonlinearCg",
  description: "nonlinear conjugate gradients (Fletcher–Reeves, Polak–Ribière+, Hestenes–Stiefel)",
  fields: {
    beta: optional(Schema.Literals(["fletcherReeves", "polakRibierePlus", "hestenesStiefel"])),
    restartEvery: optional(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
    ...toleranceFields
  },
  solver: NonlinearCg.solver,
  toProblem: smoothProblem
})

/**
 * Line-search Newton–CG (`NewtonCg.solver`; exact Hessian-vector products when the problem has them).
 *
 * @category solvers
 * @since 0.1.0
 */
export const newtonCg = deterministicSolver({
  name: "newtonCg",
  description: "truncated Newton with conjugate gradients and an Armijo search (Nocedal & Wright §7.1)",
  fields: {
    tolerance: optional(NonNegative),
    innerIterationsPerDimension: optional(PositiveInt),
    sufficientDecrease: optional(Schema.Finite),
    maxLineSearchTrials: optional(PositiveInt)
  },
  solver: NewtonCg.solver,
  toProblem: smoothProblem
})

/**
 * Trust-region Newton–CG (Steihaug) (`TrustRegionNcg.solver`).
 *
 * @category solvers
 * @since 0.1.0
 */
export const trustRegionNcg = deterministicSolver({
  name: "trustRegionNcg",
  description: "trust-region Newton–CG with Steihaug's truncated CG (Nocedal & Wright §7.1)",
  fields: {
    tolerance: optional(NonNegative),
    initialRadius: optional(Positive),
    maxRadius: optional(Positive),
    acceptance: optional(Schema.Finite),
    innerIterationsPerDimension: optional(PositiveInt),
    minRadius: optional(NonNegative)
  },
  solver: TrustRegionNcg.solver,
  toProblem: smoothProblem
})

const compositeProblem = (problem: ProblemInstance, x0: Float64Array): ProximalGradient.CompositeProblem => ({
  objective: problem.objective,
  x0,
  regularizer:
    problem.regularizer ??
    (problem.bounds === undefined ? Prox.zero() : Prox.box(problem.bounds.lower, problem.bounds.upper))
})

const proximalFields = {
  tolerance: optional(NonNegative),
  lipschitz: optional(Positive),
  initialLipschitz: optional(Positive),
  backtrackingFactor: optional(Schema.Finite),
  maxBacktracks: optional(PositiveInt)
}

/**
 * ISTA, the proximal gradient method (`ProximalGradient.istaSolver`).
 *
 * @category solvers
 * @since 0.1.0
 */
export const ista = deterministicSolver({
  name: "ista",
  description: "proximal gradient (ISTA) with backtracking on the Lipschitz constant",
  fields: proximalFields,
  solver: ProximalGradient.istaSolver,
  toProblem: compositeProblem,
  accepts: composite
})

/**
 * FISTA, accelerated proximal gradient with optional restarts (`ProximalGradient.fistaSolver`).
 *
 * @category solvers
 * @since 0.1.0
 */
export const fista = deterministicSolver({
  name: "fista",
  description: "accelerated proximal gradient (FISTA, Beck & Teboulle 2009) with optional restarts",
  fields: { ...proximalFields, restart: optional(Schema.Literals(["none", "functionValue", "gradient"])) },
  solver: ProximalGradient.fistaSolver,
  toProblem: compositeProblem,
  accepts: composite
})

/**
 * Every built-in solver.
 *
 * @category constants
 * @since 0.1.0
 */
export const all: ReadonlyArray<AnySolverDefinition> = [
  sgd,
  momentum,
  nesterov,
  adam,
  adamw,
  nadam,
  amsgrad,
  adamax,
  adagrad,
  rmsprop,
  lion,
  grams,
  polyakSgd,
  gradientDescent,
  lbfgs,
  lbfgsB,
  nonlinearCg,
  newtonCg,
  trustRegionNcg,
  ista,
  fista
]
