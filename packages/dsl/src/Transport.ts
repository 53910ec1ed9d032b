/**
 * Optimal transport in experiments: problem generators, solvers and
 * evaluators of `@descent/ot`, adapted to the registry's step machine
 * (issue #9, "DSL").
 *
 * **Problems.** A generator draws two weighted point clouds from the cell's
 * instance key (core's Threefry generator, so the same parameters and key
 * give the same numbers on every machine) and builds the balanced linear
 * problem min_{P ≥ 0, P·1 = a, Pᵀ·1 = b} ⟨C, P⟩ with the squared-Euclidean
 * (or Euclidean) cost, divided by its max by default (as issue #9's
 * benchmarks). The cost is materialized once per instance
 * (`Geometry.fromCostMatrix`), so every solver of the instance reads the same
 * matrix instead of recomputing it.
 *
 * | name | points | parameters |
 * | --- | --- | --- |
 * | `pointCloud` | x ~ U([0,1]^d) (n points), y ~ U([0,1]^d) (m points) | `n`, `m` (default n), `d` (default 2), `weights` `"uniform"` \| `"random"` (default uniform), `normalize` `"max"` \| `"none"` (default max), `cost` `"sqeuclidean"` \| `"euclidean"` (default sqeuclidean) |
 * | `gaussianMixture` | each cloud from its own mixture of `components` Gaussians, means ~ U([0,1]^d), standard deviation `spread`, equal mixture weights | as `pointCloud`, plus `components` (default 3), `spread` (default 0.1) |
 *
 * `"random"` weights are U(0.5, 1.5) draws normalized to mass 1.
 *
 * **The iterate is the plan.** Every OT machine exposes the current
 * transport plan P (n × m, row-major) as its iterate, and the instance's
 * objective is the transport cost F(P) = ⟨C, P⟩ (gradient C). So the
 * runner's evaluators measure every solver the same way, exact and
 * entropic alike:
 *
 * - `Evaluators.objective` is the **transport cost** ⟨C, P⟩;
 * - `Evaluators.suboptimality()` is the **distance to the EMD cost**
 *   ⟨C, P⟩ − OT(a, b): the instance's `optimum` is the exact optimal cost,
 *   computed by the network simplex (`Emd.solve`) on the same instance — the
 *   problem's known optimum "by a direct solve", as for least squares, so
 *   the runner's smooth reference solve is never used here. It is computed
 *   once per instance, the first time `optimum` is read.
 *
 * The start x₀ is the independent coupling a·bᵀ/Σb (feasible, cost-blind).
 *
 * **Solvers** (one step = one iteration of the ot solver's `IterativeSolver`;
 * EMD: one step = `pivotsPerStep` pivots of the network simplex, default 1):
 * `sinkhorn`, `sinkhornLog`, `sinkhornStabilized`, `epsilonScaling`,
 * `sinkhornNewtonSparse`, `emd`. Options are the ot solvers' own (ε,
 * tolerance on the marginal error, iteration budget, …) as Schemas; a budget
 * reached is the status `maxIterations`, the tolerance reached `converged`.
 * The solvers' metrics are recorded under `solver.`: each solver's own
 * (`marginalError` ‖P·1 − a‖₁ + ‖Pᵀ·1 − b‖₁ for all of them; `pivots` for
 * EMD; `newtonSteps` for SNS; …) plus **`regularizedCost`** ⟨C, P⟩ − ε·H(P)
 * (= ⟨C, P⟩ for EMD) and `transportCost` as the solver computes it. The plan
 * and these costs are computed only at trace samples (O(n·m) each), never on
 * the per-step path, and computing them never changes the run: a cell's
 * numbers are those of the ot solver's plain `solve`, bit for bit.
 *
 * OT solvers ignore the start point (they start from zero potentials, or
 * EMD's artificial basis), so in a pipeline each OT stage starts afresh.
 *
 * @since 0.1.0
 */
import { Matrix, Memory, Objective, Random, type Solver, Tensor, Vector } from "@descent/core"
import { GradientTransform } from "@descent/optim"
import {
  Emd,
  EpsilonScaling,
  Geometry,
  LinearProblem,
  Sinkhorn,
  SinkhornLog,
  SinkhornNewtonSparse,
  SinkhornStabilized
} from "@descent/ot"
import { Schema } from "effect"
import type {
  AnyProblemGenerator,
  AnySolverDefinition,
  Machine,
  ProblemGenerator,
  ProblemInstance,
  SolverDefinition
} from "./Registry.ts"
import { Schedule } from "./Solvers.ts"

// ---------------------------------------------------------------------------
// Instances

/**
 * An optimal transport instance: a `ProblemInstance` whose variable is the
 * plan P (n·m entries, row-major), with the ot problem it comes from.
 *
 * @category models
 * @since 0.1.0
 */
export interface TransportInstance extends ProblemInstance {
  /** The balanced linear OT problem (dense geometry, normalized costs). */
  readonly transport: LinearProblem.LinearProblem
  /** The factor the costs were divided by (original cost = `costScale` × normalized cost). */
  readonly costScale: number
  /** The exact optimal cost OT(a, b) (`Emd.solve`; NaN if the network simplex did not converge). */
  readonly optimum: number
}

/**
 * Whether a problem instance is an optimal transport instance.
 *
 * @category guards
 * @since 0.1.0
 */
export const isTransportInstance = (problem: ProblemInstance): problem is TransportInstance =>
  (problem as { readonly transport?: unknown }).transport !== undefined

/** Largest plan a generator builds (2^24 entries = 128 MiB per plan buffer). */
const MAX_ENTRIES = 2 ** 24

/**
 * The transport instance of a linear problem: objective ⟨C, P⟩ over plans,
 * start a·bᵀ/Σb, optimum the EMD cost (computed on first read).
 *
 * @category constructors
 * @since 0.1.0
 */
export const instance = (problem: LinearProblem.LinearProblem, costScale = 1): TransportInstance => {
  const C = Geometry.materialize(problem.geometry).data
  const n = problem.geometry.rows
  const m = problem.geometry.cols
  const value = (P: Float64Array): number => transportCost(C, P)
  const objective: Objective.Objective = {
    dimension: n * m,
    value,
    valueAndGradient: (P, g) => {
      g.set(C)
      return value(P)
    },
    hessianVectorProduct: (_P, _v, out) => {
      out.fill(0)
    }
  }
  const x0 = Vector.zeros(n * m)
  const { a, b, massB } = problem
  for (let i = 0; i < n; i++) {
    const s = a[i]! / massB
    for (let j = 0; j < m; j++) x0[i * m + j] = s * b[j]!
  }
  let optimum: number | undefined
  return {
    objective,
    x0,
    transport: problem,
    costScale,
    get optimum(): number {
      if (optimum === undefined) {
        const result = Emd.solve(problem)
        optimum = result.status === "converged" ? result.cost : Number.NaN
      }
      return optimum
    }
  }
}

// ---------------------------------------------------------------------------
// Evaluators

/**
 * ⟨C, P⟩ (entries with P_ij = 0 skipped, so forbidden +∞ costs add nothing).
 *
 * @category evaluators
 * @since 0.1.0
 */
export const transportCost = (C: Float64Array, P: Float64Array): number => {
  let total = 0
  for (let k = 0; k < P.length; k++) {
    const p = P[k]!
    if (p !== 0) total += p * C[k]!
  }
  return total
}

/**
 * ‖P·1 − a‖₁ + ‖Pᵀ·1 − b‖₁ of a plan (n × m, row-major).
 *
 * @category evaluators
 * @since 0.1.0
 */
export const marginalError = (P: Float64Array, a: Float64Array, b: Float64Array): number => {
  const n = a.length
  const m = b.length
  const columns = Vector.zeros(m)
  let error = 0
  for (let i = 0; i < n; i++) {
    let row = 0
    const o = i * m
    for (let j = 0; j < m; j++) {
      const p = P[o + j]!
      row += p
      columns[j] = columns[j]! + p
    }
    error += Math.abs(row - a[i]!)
  }
  for (let j = 0; j < m; j++) error += Math.abs(columns[j]! - b[j]!)
  return error
}

/**
 * ⟨C, P⟩ − OT(a, b): the distance of a plan's cost to the exact optimal cost
 * (what `Evaluators.suboptimality()` computes on a transport instance).
 *
 * @category evaluators
 * @since 0.1.0
 */
export const distanceToEmd = (problem: TransportInstance, P: Float64Array): number =>
  problem.objective.value(P) - problem.optimum

// ---------------------------------------------------------------------------
// Problem generators

/**
 * A problem generator whose instances are transport instances.
 *
 * @category models
 * @since 0.1.0
 */
export interface TransportGenerator<P> extends ProblemGenerator<P> {
  readonly make: (parameters: P, key: Random.Key) => TransportInstance
}

/**
 * Parameters of {@link pointCloud}.
 *
 * @category models
 * @since 0.1.0
 */
export interface PointCloudParameters {
  readonly n: number
  readonly m?: number
  readonly d?: number
  readonly weights?: "uniform" | "random"
  readonly normalize?: "max" | "none"
  readonly cost?: "sqeuclidean" | "euclidean"
}

/**
 * Parameters of {@link gaussianMixture}.
 *
 * @category models
 * @since 0.1.0
 */
export interface GaussianMixtureParameters extends PointCloudParameters {
  readonly components?: number
  readonly spread?: number
}

const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))

const cloudFields = {
  n: Count,
  m: Schema.optionalKey(Count),
  d: Schema.optionalKey(Count.check(Schema.isLessThanOrEqualTo(1024))),
  weights: Schema.optionalKey(Schema.Literals(["uniform", "random"])),
  normalize: Schema.optionalKey(Schema.Literals(["max", "none"])),
  cost: Schema.optionalKey(Schema.Literals(["sqeuclidean", "euclidean"]))
}

const sizeCheck = Schema.makeFilter<PointCloudParameters>((p) =>
  p.n * (p.m ?? p.n) <= MAX_ENTRIES
    ? undefined
    : { path: ["n"], issue: `n × m must be ≤ ${MAX_ENTRIES} (got ${p.n * (p.m ?? p.n)})` }
)

/** Weights of length k: uniform, or U(0.5, 1.5) draws normalized to mass 1. */
const weightsOf = (key: Random.Key, k: number, kind: "uniform" | "random"): Float64Array | undefined => {
  if (kind === "uniform") return undefined
  const w = Random.uniform(key, k, { low: 0.5, high: 1.5 })
  let s = 0
  for (let i = 0; i < k; i++) s += w[i]!
  for (let i = 0; i < k; i++) w[i] = w[i]! / s
  return w
}

/** The instance of two clouds with their parameters' weights, cost and normalization. */
const fromClouds = (
  p: PointCloudParameters,
  x: Matrix.Matrix,
  y: Matrix.Matrix,
  kw: Random.Key
): TransportInstance => {
  const [ka, kb] = Random.split(kw, 2) as [Random.Key, Random.Key]
  const cloud = Geometry.pointCloud(x, y, { cost: p.cost ?? "sqeuclidean", normalize: p.normalize ?? "max" })
  // One dense cost matrix per instance, shared by every solver that runs on it.
  const geometry = Geometry.fromCostMatrix(Geometry.materialize(cloud))
  const a = weightsOf(ka, x.rows, p.weights ?? "uniform")
  const b = weightsOf(kb, y.rows, p.weights ?? "uniform")
  const problem = LinearProblem.make(geometry, {
    ...(a === undefined ? {} : { a }),
    ...(b === undefined ? {} : { b })
  })
  return instance(problem, cloud.scale)
}

/**
 * Uniform point clouds in [0,1]^d: the benchmark problem of issue #9.
 *
 * @category problems
 * @since 0.1.0
 */
export const pointCloud: TransportGenerator<PointCloudParameters> = {
  name: "pointCloud",
  description:
    "optimal transport between n and m points uniform in [0,1]^d, squared-Euclidean cost divided by its max",
  parameters: Schema.Struct(cloudFields).check(sizeCheck),
  traits: () => ({ regularizer: false, bounds: false, domain: "transport" }),
  make: (p, key) => {
    const d = p.d ?? 2
    const m = p.m ?? p.n
    const [kx, ky, kw] = Random.split(key, 3) as [Random.Key, Random.Key, Random.Key]
    const x = Matrix.fromData(p.n, d, Random.uniform(kx, p.n * d))
    const y = Matrix.fromData(m, d, Random.uniform(ky, m * d))
    return fromClouds(p, x, y, kw)
  }
}

/** k points of a mixture of `components` Gaussians (means U([0,1]^d), std `spread`, equal weights). */
const mixtureCloud = (key: Random.Key, k: number, d: number, components: number, spread: number) => {
  const [km, kc, kz] = Random.split(key, 3) as [Random.Key, Random.Key, Random.Key]
  const means = Random.uniform(km, components * d)
  const pick = Random.uniform(kc, k)
  const z = Random.normal(kz, k * d)
  const X = Matrix.zeros(k, d)
  for (let i = 0; i < k; i++) {
    const c = Math.min(components - 1, Math.floor(pick[i]! * components))
    for (let t = 0; t < d; t++) X.data[i * d + t] = means[c * d + t]! + spread * z[i * d + t]!
  }
  return X
}

/**
 * Two point clouds, each drawn from its own Gaussian mixture.
 *
 * @category problems
 * @since 0.1.0
 */
export const gaussianMixture: TransportGenerator<GaussianMixtureParameters> = {
  name: "gaussianMixture",
  description:
    "optimal transport between two Gaussian-mixture point clouds (means uniform in [0,1]^d), squared-Euclidean cost divided by its max",
  parameters: Schema.Struct({
    ...cloudFields,
    components: Schema.optionalKey(Count.check(Schema.isLessThanOrEqualTo(1024))),
    spread: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThan(0)))
  }).check(sizeCheck),
  traits: () => ({ regularizer: false, bounds: false, domain: "transport" }),
  make: (p, key) => {
    const d = p.d ?? 2
    const m = p.m ?? p.n
    const components = p.components ?? 3
    const spread = p.spread ?? 0.1
    const [kx, ky, kw] = Random.split(key, 3) as [Random.Key, Random.Key, Random.Key]
    return fromClouds(
      p,
      mixtureCloud(kx, p.n, d, components, spread),
      mixtureCloud(ky, m, d, components, spread),
      kw
    )
  }
}

// ---------------------------------------------------------------------------
// Machines

/**
 * The state of an OT machine: the ot solver's state, the iteration count and
 * the plan buffer (the iterate), refreshed on demand.
 *
 * @category models
 * @since 0.1.0
 */
export interface TransportState<S> {
  inner: S
  readonly problem: TransportInstance
  iteration: number
  readonly plan: Float64Array
  /** The iteration `plan` was computed at (−1: never). */
  planAt: number
  /** The solver's summary (costs, potentials) and the iteration it was computed at. */
  summary: Summary | undefined
  summaryAt: number
}

/**
 * What a machine reports besides the plan.
 *
 * @category models
 * @since 0.1.0
 */
export interface Summary {
  /** ⟨C, P⟩ as the solver computes it. */
  readonly transportCost: number
  /** ⟨C, P⟩ − ε·H(P) (= ⟨C, P⟩ for EMD). */
  readonly regularizedCost: number
  /** The potentials and ε of an entropic plan P_ij = exp((f_i + g_j − C_ij)/ε) (undefined for EMD). */
  readonly f?: Float64Array
  readonly g?: Float64Array
  readonly epsilon?: number
}

const EXP_CHUNK = 8192

/**
 * P_ij = exp((f_i + g_j − C_ij)/ε) into `out`: the formula and the exponential
 * (core's SIMD exp) of the ot solvers' `plan()`, so the numbers are the same.
 *
 * @category evaluators
 * @since 0.1.0
 */
export const entropicPlanInto = (
  C: Float64Array,
  f: Float64Array,
  g: Float64Array,
  epsilon: number,
  out: Float64Array
): Float64Array => {
  const n = f.length
  const m = g.length
  const inv = 1 / epsilon
  for (let i = 0; i < n; i++) {
    const fi = f[i]!
    const o = i * m
    for (let j = 0; j < m; j++) out[o + j] = (fi + g[j]! - C[o + j]!) * inv
  }
  for (let o = 0; o < out.length; o += EXP_CHUNK) {
    const e = Tensor.exp(Tensor.from(out.subarray(o, Math.min(out.length, o + EXP_CHUNK))))
    out.set(e.data, o)
    Memory.free(e.data)
  }
  return out
}

const requireTransport = (name: string, problem: ProblemInstance): TransportInstance => {
  if (!isTransportInstance(problem))
    throw new Error(`${name} solves optimal transport problems (pointCloud, gaussianMixture) only`)
  return problem
}

interface Adapter<O, S> {
  readonly name: string
  readonly solver: Solver.IterativeSolver<LinearProblem.LinearProblem, O, S, unknown>
  /** The budget in the solver's own iterations (EMD: pivots). */
  readonly budget: (options: O) => number
  /** The solver's own iteration count (EMD: pivots). */
  readonly count: (s: TransportState<S>) => number
  /** Advances the inner state by one machine step. */
  readonly step: (s: TransportState<S>, options: O) => void
  readonly summary: (s: TransportState<S>) => Summary
  /** Writes the current plan into `s.plan` (`summary` gives the cached summary at this iteration). */
  readonly planInto: (s: TransportState<S>, summary: () => Summary) => void
  /** Cheap extra metrics (no O(n·m) work). */
  readonly extraMetrics?: (s: TransportState<S>) => Solver.Metrics
}

const summaryOf = <S>(adapter: Adapter<unknown, S>, s: TransportState<S>): Summary => {
  if (s.summary === undefined || s.summaryAt !== s.iteration) {
    s.summary = adapter.summary(s)
    s.summaryAt = s.iteration
  }
  return s.summary
}

const currentPlan = <S>(adapter: Adapter<unknown, S>, s: TransportState<S>): Float64Array => {
  if (s.planAt !== s.iteration) {
    adapter.planInto(s, () => summaryOf(adapter, s))
    s.planAt = s.iteration
  }
  return s.plan
}

const makeMachine = <O, S>(adapter: Adapter<O, S>, options: O): Machine<TransportState<S>> => {
  const budget = adapter.budget(options)
  const a = adapter as unknown as Adapter<unknown, S>
  return {
    name: adapter.name,
    init: (problem) => {
      const p = requireTransport(adapter.name, problem)
      const t = p.transport
      return {
        inner: adapter.solver.init(t, options),
        problem: p,
        iteration: 0,
        plan: Vector.zeros(t.geometry.rows * t.geometry.cols),
        planAt: -1,
        summary: undefined,
        summaryAt: -1
      }
    },
    step: (s) => {
      adapter.step(s, options)
      s.iteration++
      return s
    },
    status: (s) =>
      adapter.solver.status(s.inner) ?? (adapter.count(s) >= budget ? "maxIterations" : undefined),
    residual: (s) => adapter.solver.residual(s.inner),
    metrics: (s) => {
      const metrics: Record<string, number> = { ...adapter.solver.metrics(s.inner) }
      if (adapter.extraMetrics !== undefined) Object.assign(metrics, adapter.extraMetrics(s))
      // The costs need an O(n·m) pass: computed when read (trace samples), not when a rule reads another metric.
      for (const name of ["transportCost", "regularizedCost"] as const) {
        Object.defineProperty(metrics, name, {
          enumerable: true,
          get: () => summaryOf(a, s)[name]
        })
      }
      return metrics
    },
    output: (s) => Vector.clone(currentPlan(a, s)),
    iterate: (s) => currentPlan(a, s),
    stateSize: (s) => {
      const t = s.problem.transport
      const shared = [s.problem, t, t.geometry, t.a, t.b, Geometry.materialize(t.geometry).data]
      return GradientTransform.stateSize(s.inner, shared)
    },
    message: (s) => (s.inner as { readonly message?: string | undefined }).message,
    counts: () => Objective.zeroCounts()
  }
}

/** A tiny balanced problem `make` initializes each solver on, so that bad options fail when decoding. */
const probe = (): LinearProblem.LinearProblem =>
  LinearProblem.make(Geometry.fromCostMatrix(Matrix.fromData(2, 2, Vector.fromArray([0, 1, 1, 0]))))

const definition = <Fields extends Schema.Struct.Fields, S>(spec: {
  readonly name: string
  readonly description: string
  readonly fields: Fields
  readonly adapter: Adapter<Schema.Struct.Type<Fields>, S>
}): SolverDefinition<Schema.Struct.Type<Fields>> => ({
  name: spec.name,
  description: spec.description,
  options: Schema.Struct(spec.fields) as unknown as Schema.Codec<Schema.Struct.Type<Fields>, unknown>,
  accepts: (traits) => (traits.domain === "transport" ? undefined : "solves optimal transport problems only"),
  make: (options) => {
    // ot validates options in `init`: once on a 2 × 2 problem, so bad options fail here.
    spec.adapter.solver.init(probe(), options)
    return makeMachine(spec.adapter, options)
  }
})

// ---------------------------------------------------------------------------
// Entropic solvers

interface EntropicOutput {
  readonly f: Float64Array
  readonly g: Float64Array
  readonly cost: number
  readonly regularizedCost: number
  readonly epsilon: number
}

const entropicAdapter = <O extends { readonly maxIterations?: number }, S extends { iteration: number }>(
  name: string,
  solver: Solver.IterativeSolver<LinearProblem.LinearProblem, O, S, EntropicOutput>,
  defaultMaxIterations: number,
  output: (s: S) => EntropicOutput = solver.output
): Adapter<O, S> => ({
  name,
  solver,
  budget: (o) => o.maxIterations ?? defaultMaxIterations,
  count: (s) => s.inner.iteration,
  step: (s) => {
    s.inner = solver.step(s.inner)
  },
  summary: (s) => {
    const out = output(s.inner)
    return {
      transportCost: out.cost,
      regularizedCost: out.regularizedCost,
      f: out.f,
      g: out.g,
      epsilon: out.epsilon
    }
  },
  planInto: (s, current) => {
    const summary = current()
    entropicPlanInto(
      Geometry.materialize(s.problem.transport.geometry).data,
      summary.f!,
      summary.g!,
      summary.epsilon!,
      s.plan
    )
  }
})

const Positive = Schema.Finite.check(Schema.isGreaterThan(0))
const NonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))
const Iterations = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
const Fraction = Schema.Finite.check(Schema.isGreaterThan(0), Schema.isLessThan(1))
const Threshold = Schema.Finite.check(Schema.isGreaterThan(1))
const optional = Schema.optionalKey

const entropicFields = {
  epsilon: optional(Positive),
  tolerance: optional(NonNegative),
  maxIterations: optional(Iterations)
}

/**
 * Scaling-form Sinkhorn with the automatic log-domain fallback (`Sinkhorn.solver`).
 *
 * @category solvers
 * @since 0.1.0
 */
export const sinkhorn = definition({
  name: "sinkhorn",
  description:
    "Sinkhorn's scaling iterations (Cuturi 2013), switching to the log domain on underflow; ε default 0.05",
  fields: { ...entropicFields, logFallback: optional(Schema.Boolean) },
  adapter: entropicAdapter(
    "sinkhorn",
    Sinkhorn.solver,
    Sinkhorn.defaultSinkhornOptions.maxIterations
  ) as Adapter<Sinkhorn.SinkhornOptions, Sinkhorn.SinkhornState>
})

/**
 * Log-domain Sinkhorn (`SinkhornLog.solver`).
 *
 * @category solvers
 * @since 0.1.0
 */
export const sinkhornLog = definition({
  name: "sinkhornLog",
  description:
    "Sinkhorn in the log domain (fused log-sum-exp updates; no underflow at any ε); ε default 0.01",
  fields: entropicFields,
  adapter: entropicAdapter(
    "sinkhornLog",
    SinkhornLog.solver,
    SinkhornLog.defaultSinkhornLogOptions.maxIterations
  ) as Adapter<SinkhornLog.SinkhornLogOptions, SinkhornLog.SinkhornLogState>
})

/**
 * Stabilized Sinkhorn with absorption (`SinkhornStabilized.solver`).
 *
 * @category solvers
 * @since 0.1.0
 */
export const sinkhornStabilized = definition({
  name: "sinkhornStabilized",
  description:
    "stabilized Sinkhorn with absorption (Schmitzer 2019): scaling-form speed, no under- or overflow; ε default 0.01",
  fields: { ...entropicFields, absorptionThreshold: optional(Threshold) },
  adapter: entropicAdapter(
    "sinkhornStabilized",
    SinkhornStabilized.solver,
    SinkhornStabilized.defaultSinkhornStabilizedOptions.maxIterations
  )
})

/**
 * ε-scaling on stabilized Sinkhorn (`EpsilonScaling.solver`; one step = one inner iteration).
 *
 * @category solvers
 * @since 0.1.0
 */
export const epsilonScaling: SolverDefinition<EpsilonScaling.EpsilonScalingOptions> = definition({
  name: "epsilonScaling",
  description:
    "ε-scaling (annealing) on stabilized Sinkhorn: stages of decreasing ε warm-started from each other; ε default 1e-3",
  fields: {
    ...entropicFields,
    schedule: optional(Schedule),
    iterationsPerStage: optional(PositiveInt),
    stageTolerance: optional(NonNegative),
    maxStages: optional(Iterations),
    absorptionThreshold: optional(Threshold)
  },
  adapter: entropicAdapter(
    "epsilonScaling",
    EpsilonScaling.solver,
    EpsilonScaling.defaultEpsilonScalingOptions.maxIterations
  )
})

/**
 * Sinkhorn–Newton–Sparse (`SinkhornNewtonSparse.solver`; one step = a warm-up
 * Sinkhorn iteration or a Newton step).
 *
 * @category solvers
 * @since 0.1.0
 */
export const sinkhornNewtonSparse = definition({
  name: "sinkhornNewtonSparse",
  description:
    "Sinkhorn–Newton–Sparse (Tang et al. 2024): Sinkhorn warm-up, then Newton steps with a sparsified Hessian; ε default 0.01",
  fields: {
    ...entropicFields,
    warmupIterations: optional(Iterations),
    sparsityThreshold: optional(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0), Schema.isLessThan(1))),
    denseAbove: optional(NonNegative),
    cgTolerance: optional(Fraction),
    maxCgIterations: optional(PositiveInt),
    sufficientIncrease: optional(Fraction),
    maxLineSearchTrials: optional(PositiveInt)
  },
  adapter: entropicAdapter(
    "sinkhornNewtonSparse",
    SinkhornNewtonSparse.solver,
    SinkhornNewtonSparse.defaultSinkhornNewtonSparseOptions.maxIterations,
    (s) => {
      // In the warm-up, `output` fills SNS's Newton buffers (overwritten when
      // the Newton phase starts) and may set its kernel: keep the kernel as it
      // was, so that computing a sample never changes the run.
      const K = s.K
      const out = SinkhornNewtonSparse.solver.output(s)
      if (s.phase === "warmup") s.K = K
      return out
    }
  )
})

// ---------------------------------------------------------------------------
// EMD

/**
 * Options of the {@link emd} solver.
 *
 * @category models
 * @since 0.1.0
 */
export interface EmdMachineOptions {
  /** Pivot budget (default 10⁷). */
  readonly maxIterations?: number
  /** Entering threshold on reduced costs, relative to max|C| (default 1e-12). */
  readonly tolerance?: number
  /** Pricing block size factor (default 1). */
  readonly blockSizeFactor?: number
  /** Pivots per machine step (default 1): the check interval of the network simplex in the runner. */
  readonly pivotsPerStep?: number
}

/** The basis' real arcs (i, j, mass) of the network simplex state, read without changing it. */
const forEachArc = (s: Emd.EmdState, visit: (i: number, j: number, mass: number) => void): void => {
  const { nT, root, pred, flow } = s.net
  for (let v = 0; v < root; v++) {
    const arc = pred[v]!
    if (arc < 0) continue
    const i = (arc / nT) | 0
    visit(s.rowIndex[i]!, s.colIndex[arc - i * nT]!, flow[v]!)
  }
}

const emdAdapter: Adapter<EmdMachineOptions, Emd.EmdState> = {
  name: "emd",
  solver: Emd.solver,
  budget: (o) => o.maxIterations ?? Emd.defaultEmdOptions.maxIterations,
  count: (s) => s.inner.net.pivots,
  step: (s, options) => {
    // `pivotsPerStep` pivots, fewer when converged or at the budget.
    const perStep = options.pivotsPerStep ?? 1
    const budget = options.maxIterations ?? Emd.defaultEmdOptions.maxIterations
    for (let k = 0; k < perStep; k++) {
      if (s.inner.net.entering < 0 || s.inner.net.pivots >= budget) break
      s.inner = Emd.solver.step(s.inner)
    }
  },
  summary: (s) => {
    // The cost as Emd's output sums it (basic arcs in tree order), without its potential refresh.
    let cost = 0
    const { root, pred, flow, cost: c } = s.inner.net
    for (let v = 0; v < root; v++) {
      const arc = pred[v]!
      if (arc >= 0 && flow[v]! !== 0) cost += flow[v]! * c[arc]!
    }
    return { transportCost: cost, regularizedCost: cost }
  },
  planInto: (s) => {
    const P = s.plan
    const m = s.problem.transport.geometry.cols
    P.fill(0)
    forEachArc(s.inner, (i, j, mass) => {
      P[i * m + j] = P[i * m + j]! + mass
    })
  },
  extraMetrics: (s) => {
    // ‖P·1 − a‖₁ + ‖Pᵀ·1 − b‖₁ of the current basis (O(n + m)).
    const t = s.problem.transport
    const rows = Vector.zeros(t.geometry.rows)
    const cols = Vector.zeros(t.geometry.cols)
    forEachArc(s.inner, (i, j, mass) => {
      rows[i] = rows[i]! + mass
      cols[j] = cols[j]! + mass
    })
    let error = 0
    for (let i = 0; i < rows.length; i++) error += Math.abs(rows[i]! - t.a[i]!)
    for (let j = 0; j < cols.length; j++) error += Math.abs(cols[j]! - t.b[j]!)
    return { marginalError: error }
  }
}

/**
 * Exact OT by the network simplex (`Emd.solver`; one step = `pivotsPerStep` pivots).
 *
 * @category solvers
 * @since 0.1.0
 */
export const emd = definition({
  name: "emd",
  description:
    "exact optimal transport (earth mover's distance) by the network simplex; one step = pivotsPerStep pivots",
  fields: {
    maxIterations: optional(Iterations),
    tolerance: optional(NonNegative),
    blockSizeFactor: optional(Positive),
    pivotsPerStep: optional(PositiveInt)
  },
  adapter: emdAdapter
})

// ---------------------------------------------------------------------------
// The registry fragment

/**
 * The OT problem generators.
 *
 * @category constants
 * @since 0.1.0
 */
export const problems: ReadonlyArray<AnyProblemGenerator> = [pointCloud, gaussianMixture]

/**
 * The OT solvers.
 *
 * @category constants
 * @since 0.1.0
 */
export const solvers: ReadonlyArray<AnySolverDefinition> = [
  sinkhorn,
  sinkhornLog,
  sinkhornStabilized,
  epsilonScaling,
  sinkhornNewtonSparse,
  emd
]
