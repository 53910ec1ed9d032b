/**
 * Causal structure learning in experiments: the simulators of
 * `@descent/graph` as problem generators, its learners as solvers adapted to
 * the registry's step machine, and its accuracy metrics as the solvers'
 * recorded metrics (issue #10, "DSL").
 *
 * **Problems.** `linearSem` draws a random DAG, its edge weights and n samples
 * of the linear SEM X = X·W + Z from the cell's instance key
 * (`Simulate.linear`, core's Threefry generator: the same parameters and key
 * give the same data on every machine). The instance keeps the data X, the
 * true weighted adjacency W and the true DAG B.
 *
 * | name | parameters |
 * | --- | --- |
 * | `linearSem` | `nodes` d, `samples` n, `graph` `"ER"` \| `"SF"` (Erdős–Rényi or scale-free; default ER), `edgesPerNode` k (k·d edges, the papers' ERk/SFk; default 2), `noise` `"gaussian"` \| `"exponential"` \| `"gumbel"` \| `"uniform"` (default gaussian), `noiseScale` (default 1), `standardize` (default false) |
 *
 * **The iterate is the learned graph.** Every machine exposes the learner's
 * current output graph Ŵ (d × d, row-major: thresholded, and a DAG where the
 * learner prunes to one) as its iterate, and the instance's objective is the
 * least-squares score f(W) = (1/2n)‖X − XW‖²_F = ½ tr((I − W)ᵀ Σ (I − W))
 * (Σ the centered covariance, 1/n), so `Evaluators.objective` is the score of
 * the learned graph, the same way for every learner. The start x₀ is W = 0;
 * there is no known optimum.
 *
 * **Solvers** (one step = one step of the learner's `IterativeSolver`):
 *
 * | solver | one step | budget |
 * | --- | --- | --- |
 * | `notears` | a dual-ascent step (L-BFGS-B solves of the augmented Lagrangian) | `maxIterations` (default 100) |
 * | `dagma` | a central-path stage (up to `warmIterations` / `finalIterations` Adam steps) | `stages` (ends by itself) |
 * | `golem` | an Adam step (GOLEM-EV: equal noise variances) | `maxIterations` (default 10⁵) |
 * | `colide` | an Adam step of the central path | `stages`, `warmIterations`, `finalIterations` (ends by itself) |
 * | `topo` | a pass of swap search over the topological order | `maxPasses` (default 1000) |
 * | `cosmo` | an Adam step on the smooth orientation | `maxIterations` (default 3000) |
 *
 * Options are the learners' own (`lambda1`, `threshold` on |w|, iteration
 * budgets, step sizes, …) as Schemas; a budget reached is the status
 * `maxIterations`, the learner's own stopping test `converged`.
 *
 * **Metrics.** The solvers' metrics are recorded under `solver.`: each
 * learner's own (NOTEARS's ρ, DAGMA's stage, GOLEM's score, …) plus the
 * accuracy of the learned graph against the true DAG (`Metrics.accuracy`,
 * NOTEARS's `count_accuracy` convention, a reversed edge counting once):
 * **`shd`**, **`tpr`**, **`fdr`**, **`edges`** (predicted edges), and **`h`**
 * = tr(e^{W∘W}) − d (`Dag.expAcyclicity`) of the learner's raw (unthresholded)
 * weights: how far the continuous estimate is from a DAG. They are computed
 * only when read (trace samples and the end of a cell), from the learner's
 * `output`, never on the per-step path, and computing them never changes the
 * run: a cell's graph is that of the learner's plain `fit`, bit for bit (for
 * the learners whose `fit` is `Solver.run` over the same steps).
 *
 * GOLEM is registered in its equal-variance form only: `Golem.fit`'s
 * non-equal-variance variant first runs GOLEM-EV to start from, which is two
 * runs, not one step machine.
 *
 * @since 0.1.0
 */
import { Matrix, Objective, type Random, type Solver, Vector } from "@descent/core"
import { Colide, Cosmo, Dag, Dagma, Data, Golem, Metrics, Notears, Simulate, Topo } from "@descent/graph"
import { GradientTransform } from "@descent/optim"
import { Schema } from "effect"
import type {
  AnyProblemGenerator,
  AnySolverDefinition,
  Machine,
  ProblemGenerator,
  ProblemInstance,
  SolverDefinition
} from "./Registry.ts"

// ---------------------------------------------------------------------------
// Instances

/**
 * A structure-learning instance: a `ProblemInstance` whose variable is a
 * weighted adjacency W (d² entries, row-major, W_ij ≠ 0: i → j), with the
 * data and the true graph it was simulated from.
 *
 * @category models
 * @since 0.1.0
 */
export interface StructureInstance extends ProblemInstance {
  /** The data, n × d, one sample per row. */
  readonly X: Matrix.Matrix
  /** The true weighted adjacency, d × d. */
  readonly W: Matrix.Matrix
  /** The true DAG, d × d binary. */
  readonly B: Matrix.Matrix
  /** The centered covariance Σ = (X − 1x̄ᵀ)ᵀ(X − 1x̄ᵀ)/n of the score. */
  readonly covariance: Matrix.Matrix
}

/**
 * Whether a problem instance is a structure-learning instance.
 *
 * @category guards
 * @since 0.1.0
 */
export const isStructureInstance = (problem: ProblemInstance): problem is StructureInstance =>
  (problem as { readonly B?: unknown; readonly X?: unknown }).B !== undefined &&
  (problem as { readonly X?: unknown }).X !== undefined

/**
 * The least-squares score ½ tr((I − W)ᵀ Σ (I − W)) = (1/2n)‖X − XW‖²_F (Σ the
 * centered covariance) as an objective over W (d² entries, row-major), with
 * gradient −Σ(I − W) and Hessian-vector product Σ·V.
 *
 * @category constructors
 * @since 0.1.0
 */
export const leastSquaresScore = (covariance: Matrix.Matrix): Objective.Objective => {
  const d = covariance.rows
  const S = covariance.data
  const R = Vector.zeros(d * d)
  const SR = Vector.zeros(d * d)
  const product = (A: Float64Array, out: Float64Array): void => {
    out.fill(0)
    for (let i = 0; i < d; i++) {
      for (let k = 0; k < d; k++) {
        const s = S[i * d + k]!
        if (s === 0) continue
        for (let j = 0; j < d; j++) out[i * d + j] = out[i * d + j]! + s * A[k * d + j]!
      }
    }
  }
  const value = (W: Float64Array, gradient: Float64Array | undefined): number => {
    for (let k = 0; k < d * d; k++) R[k] = -W[k]!
    for (let i = 0; i < d; i++) R[i * d + i] = R[i * d + i]! + 1
    product(R, SR)
    let total = 0
    for (let k = 0; k < d * d; k++) total += R[k]! * SR[k]!
    if (gradient !== undefined) for (let k = 0; k < d * d; k++) gradient[k] = -SR[k]!
    return 0.5 * total
  }
  return {
    dimension: d * d,
    value: (W) => value(W, undefined),
    valueAndGradient: (W, g) => value(W, g),
    hessianVectorProduct: (_W, v, out) => product(v, out)
  }
}

/**
 * The structure-learning instance of a simulated sample: objective the
 * least-squares score, start W = 0, no known optimum.
 *
 * @category constructors
 * @since 0.1.0
 */
export const instance = (sample: Simulate.Sample): StructureInstance => {
  const covariance = Data.covariance(sample.X, { center: true })
  return {
    objective: leastSquaresScore(covariance),
    x0: Vector.zeros(sample.W.rows * sample.W.cols),
    X: sample.X,
    W: sample.W,
    B: sample.B,
    covariance
  }
}

// ---------------------------------------------------------------------------
// Evaluators

/**
 * What the structure machines record about a learned graph (besides the
 * learner's own metrics).
 *
 * @category models
 * @since 0.1.0
 */
export interface GraphMetrics {
  /** Structural Hamming distance, NOTEARS's convention (a reversed edge counts once). */
  readonly shd: number
  /** True positive rate. */
  readonly tpr: number
  /** False discovery rate. */
  readonly fdr: number
  /** Predicted edges (directed edges plus undirected pairs). */
  readonly edges: number
  /** tr(e^{W∘W}) − d of the raw (unthresholded) weights. */
  readonly h: number
}

/**
 * The accuracy of a learned graph `estimate` against the instance's true DAG
 * (`Metrics.accuracy`, `reversal: 1`) and h(W) of the learner's raw weights
 * `raw` (`Dag.expAcyclicity`). NaN for a non-finite estimate.
 *
 * @category evaluators
 * @since 0.1.0
 */
export const graphMetrics = (
  problem: StructureInstance,
  estimate: Matrix.Matrix,
  raw: Matrix.Matrix
): GraphMetrics => {
  const h = Vector.findNonFinite(raw.data) < 0 ? Dag.expAcyclicity(raw) : Number.NaN
  if (Vector.findNonFinite(estimate.data) >= 0) {
    return { shd: Number.NaN, tpr: Number.NaN, fdr: Number.NaN, edges: Number.NaN, h }
  }
  const a = Metrics.accuracy(problem.B, estimate, { reversal: 1 })
  return { shd: a.shd, tpr: a.tpr, fdr: a.fdr, edges: a.predictedEdges, h }
}

// ---------------------------------------------------------------------------
// Problem generators

/**
 * Parameters of {@link linearSem}.
 *
 * @category models
 * @since 0.1.0
 */
export interface LinearSemParameters {
  readonly nodes: number
  readonly samples: number
  readonly graph?: "ER" | "SF"
  readonly edgesPerNode?: number
  readonly noise?: "gaussian" | "exponential" | "gumbel" | "uniform"
  readonly noiseScale?: number
  readonly standardize?: boolean
}

/**
 * A problem generator whose instances are structure-learning instances.
 *
 * @category models
 * @since 0.1.0
 */
export interface StructureGenerator<P> extends ProblemGenerator<P> {
  readonly make: (parameters: P, key: Random.Key) => StructureInstance
}

/** Largest graph a generator builds (d² scalars per weight matrix; the learners are O(d³) per step). */
const MAX_NODES = 1024
/** Largest data matrix (2^24 entries = 128 MiB). */
const MAX_ENTRIES = 2 ** 24

/**
 * A linear SEM benchmark (`Simulate.linear`): an ERk or SFk DAG on `nodes`
 * variables, weights uniform on ±[0.5, 2], `samples` rows of X = X·W + Z.
 *
 * @category problems
 * @since 0.1.0
 */
export const linearSem: StructureGenerator<LinearSemParameters> = {
  name: "linearSem",
  description:
    "data of a linear SEM X = XW + Z on a random ERk/SFk DAG (weights ±[0.5, 2]), the NOTEARS benchmark simulator",
  parameters: Schema.Struct({
    nodes: Schema.Int.check(Schema.isGreaterThanOrEqualTo(2), Schema.isLessThanOrEqualTo(MAX_NODES)),
    samples: Schema.Int.check(Schema.isGreaterThanOrEqualTo(2)),
    graph: Schema.optionalKey(Schema.Literals(["ER", "SF"])),
    edgesPerNode: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))),
    noise: Schema.optionalKey(Schema.Literals(["gaussian", "exponential", "gumbel", "uniform"])),
    noiseScale: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThan(0))),
    standardize: Schema.optionalKey(Schema.Boolean)
  }).check(
    Schema.makeFilter<LinearSemParameters>((p) =>
      p.nodes * p.samples <= MAX_ENTRIES
        ? undefined
        : {
            path: ["samples"],
            issue: `nodes × samples must be ≤ ${MAX_ENTRIES} (got ${p.nodes * p.samples})`
          }
    )
  ) as unknown as Schema.Codec<LinearSemParameters, unknown>,
  traits: () => ({ regularizer: false, bounds: false, domain: "structure" }),
  make: (p, key) =>
    instance(
      Simulate.linear(key, {
        nodes: p.nodes,
        samples: p.samples,
        graph: (p.graph ?? "ER") === "ER" ? "erdosRenyi" : "scaleFree",
        edgesPerNode: p.edgesPerNode ?? Simulate.defaults.edgesPerNode,
        noise: p.noise ?? "gaussian",
        noiseScale: p.noiseScale ?? Simulate.defaults.noiseScale,
        standardize: p.standardize ?? false
      })
    )
}

// ---------------------------------------------------------------------------
// Machines

/**
 * The state of a structure-learning machine: the learner's state, the step
 * count, and the learner's output and metrics of the current step (computed
 * on demand).
 *
 * @category models
 * @since 0.1.0
 */
export interface StructureState<S, Out> {
  inner: S
  readonly problem: StructureInstance
  iteration: number
  /** The learner's output at `outputAt` (−1: never computed). */
  output: Out | undefined
  outputAt: number
  graph: GraphMetrics | undefined
  graphAt: number
}

interface Adapter<O, S, Out> {
  readonly name: string
  readonly solver: Solver.IterativeSolver<Matrix.Matrix, O, S, Out>
  /** The budget in machine steps (+∞: the learner ends by itself). */
  readonly budget: (options: O) => number
  /** The learned graph (thresholded) and the raw weights of an output. */
  readonly graph: (output: Out) => Matrix.Matrix
  readonly raw: (output: Out) => Matrix.Matrix
}

const requireStructure = (name: string, problem: ProblemInstance): StructureInstance => {
  if (!isStructureInstance(problem))
    throw new Error(`${name} solves structure-learning problems (linearSem) only`)
  return problem
}

const outputOf = <S, Out>(adapter: Adapter<unknown, S, Out>, s: StructureState<S, Out>): Out => {
  if (s.output === undefined || s.outputAt !== s.iteration) {
    s.output = adapter.solver.output(s.inner)
    s.outputAt = s.iteration
  }
  return s.output
}

const graphOf = <S, Out>(adapter: Adapter<unknown, S, Out>, s: StructureState<S, Out>): GraphMetrics => {
  if (s.graph === undefined || s.graphAt !== s.iteration) {
    const out = outputOf(adapter, s)
    s.graph = graphMetrics(s.problem, adapter.graph(out), adapter.raw(out))
    s.graphAt = s.iteration
  }
  return s.graph
}

const graphMetricNames = ["shd", "tpr", "fdr", "edges", "h"] as const

const makeMachine = <O, S, Out>(adapter: Adapter<O, S, Out>, options: O): Machine<StructureState<S, Out>> => {
  const budget = adapter.budget(options)
  const a = adapter as unknown as Adapter<unknown, S, Out>
  return {
    name: adapter.name,
    init: (problem) => {
      const p = requireStructure(adapter.name, problem)
      return {
        inner: adapter.solver.init(p.X, options),
        problem: p,
        iteration: 0,
        output: undefined,
        outputAt: -1,
        graph: undefined,
        graphAt: -1
      }
    },
    step: (s) => {
      s.inner = adapter.solver.step(s.inner)
      s.iteration++
      return s
    },
    status: (s) => adapter.solver.status(s.inner) ?? (s.iteration >= budget ? "maxIterations" : undefined),
    residual: (s) => adapter.solver.residual(s.inner),
    metrics: (s) => {
      const metrics: Record<string, number> = { ...adapter.solver.metrics(s.inner) }
      // Accuracy and h need the learner's output (O(d³)): computed when read, not when a rule reads another metric.
      for (const name of graphMetricNames) {
        Object.defineProperty(metrics, name, {
          enumerable: true,
          configurable: true,
          get: () => graphOf(a, s)[name]
        })
      }
      return metrics
    },
    output: (s) => Vector.clone(adapter.graph(outputOf(a, s)).data),
    iterate: (s) => adapter.graph(outputOf(a, s)).data,
    stateSize: (s) => GradientTransform.stateSize(s.inner, [s.problem, s.problem.X, s.problem.X.data]),
    message: (s) => (s.inner as { readonly message?: string | undefined }).message,
    counts: () => Objective.zeroCounts()
  }
}

/** Tiny data (4 × 2, non-collinear columns) `make` initializes each learner on, so that bad options fail when decoding. */
const probe = (): Matrix.Matrix => Matrix.fromData(4, 2, Vector.fromArray([1, 0, 0, 1, -1, 2, 2, -1]))

const definition = <Fields extends Schema.Struct.Fields, S, Out>(spec: {
  readonly name: string
  readonly description: string
  readonly fields: Fields
  readonly adapter: Adapter<Schema.Struct.Type<Fields>, S, Out>
}): SolverDefinition<Schema.Struct.Type<Fields>> => ({
  name: spec.name,
  description: spec.description,
  options: Schema.Struct(spec.fields) as unknown as Schema.Codec<Schema.Struct.Type<Fields>, unknown>,
  accepts: (traits) =>
    traits.domain === "structure" ? undefined : "learns structure from data (linear SEM problems) only",
  make: (options) => {
    // graph validates options in `init`: once on 4 × 2 data, so bad options fail here.
    spec.adapter.solver.init(probe(), options)
    return makeMachine(spec.adapter, options)
  }
})

const Positive = Schema.Finite.check(Schema.isGreaterThan(0))
const NonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))
const Iterations = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
const optional = Schema.optionalKey

const common = {
  lambda1: optional(NonNegative),
  threshold: optional(NonNegative)
}

// ---------------------------------------------------------------------------
// Solvers

/**
 * NOTEARS (`Notears.solver`; one step = one dual-ascent step).
 *
 * @category solvers
 * @since 0.1.0
 */
export const notears = definition({
  name: "notears",
  description:
    "NOTEARS (Zheng et al. 2018): augmented Lagrangian on h(W) = tr(e^{W∘W}) − d with L-BFGS-B subproblems; one step = one dual-ascent step",
  fields: {
    ...common,
    loss: optional(Schema.Literals(["l2", "logistic"])),
    tolerance: optional(NonNegative),
    maxPenalty: optional(Positive),
    penaltyGrowth: optional(Schema.Finite.check(Schema.isGreaterThan(1))),
    maxIterations: optional(Iterations)
  },
  adapter: {
    name: "notears",
    solver: Notears.solver,
    budget: (o: Notears.NotearsOptions) => o.maxIterations ?? Notears.defaultNotearsOptions.maxIterations,
    graph: (out: Notears.NotearsOutput) => out.W,
    raw: (out: Notears.NotearsOutput) => out.Wraw
  }
})

/**
 * DAGMA (`Dagma.solver`; one step = one central-path stage).
 *
 * @category solvers
 * @since 0.1.0
 */
export const dagma = definition({
  name: "dagma",
  description:
    "DAGMA (Bello et al. 2022): central path on the log-det acyclicity with Adam; one step = one stage (warmIterations, finalIterations Adam steps)",
  fields: {
    ...common,
    loss: optional(Schema.Literals(["l2", "logistic"])),
    stages: optional(PositiveInt),
    warmIterations: optional(PositiveInt),
    finalIterations: optional(PositiveInt),
    learningRate: optional(Positive),
    checkEvery: optional(PositiveInt),
    tolerance: optional(NonNegative),
    maxRestarts: optional(Iterations)
  },
  adapter: {
    name: "dagma",
    solver: Dagma.solver,
    budget: () => Number.POSITIVE_INFINITY,
    graph: (out: Dagma.DagmaOutput) => out.W,
    raw: (out: Dagma.DagmaOutput) => out.Wraw
  }
})

/**
 * GOLEM-EV (`Golem.solver`; one step = one Adam step).
 *
 * @category solvers
 * @since 0.1.0
 */
export const golem = definition({
  name: "golem",
  description:
    "GOLEM-EV (Ng et al. 2020): Gaussian likelihood with soft sparsity and acyclicity penalties, Adam; one step = one Adam step",
  fields: {
    ...common,
    lambda2: optional(NonNegative),
    learningRate: optional(Positive),
    maxIterations: optional(Iterations),
    tolerance: optional(NonNegative),
    checkEvery: optional(PositiveInt)
  },
  adapter: {
    name: "golem",
    solver: Golem.solver,
    budget: (o: Golem.GolemOptions) => o.maxIterations ?? Golem.defaultGolemOptions.maxIterations,
    graph: (out: Golem.GolemOutput) => out.W,
    raw: (out: Golem.GolemOutput) => out.weights
  }
})

/**
 * CoLiDE (`Colide.solver`; one step = one Adam step of the central path).
 *
 * @category solvers
 * @since 0.1.0
 */
export const colide = definition({
  name: "colide",
  description:
    "CoLiDE (Saboksayr et al. 2024): concomitant lasso score with jointly estimated noise scales on DAGMA's central path; one step = one Adam step",
  fields: {
    ...common,
    equalVariances: optional(Schema.Boolean),
    stages: optional(PositiveInt),
    warmIterations: optional(PositiveInt),
    finalIterations: optional(PositiveInt),
    learningRate: optional(Positive),
    checkEvery: optional(PositiveInt),
    tolerance: optional(NonNegative)
  },
  adapter: {
    name: "colide",
    solver: Colide.solver,
    budget: () => Number.POSITIVE_INFINITY,
    graph: (out: Colide.ColideOutput) => out.W,
    raw: (out: Colide.ColideOutput) => out.weights
  }
})

/**
 * TOPO (`Topo.solver`; one step = one pass of swap search).
 *
 * @category solvers
 * @since 0.1.0
 */
export const topo = definition({
  name: "topo",
  description:
    "TOPO (Deng et al. 2023): search over topological orders by swaps, lasso regression on each order; one step = one pass",
  fields: {
    ...common,
    smallSearchSize: optional(PositiveInt),
    largeSearchSize: optional(PositiveInt),
    largeSearches: optional(Iterations),
    maxPasses: optional(Iterations)
  },
  adapter: {
    name: "topo",
    solver: Topo.solver,
    budget: (o: Topo.TopoOptions) => o.maxPasses ?? Topo.defaultTopoOptions.maxPasses,
    graph: (out: Topo.TopoOutput) => out.W,
    raw: (out: Topo.TopoOutput) => out.weights
  }
})

/**
 * COSMO (`Cosmo.solver`; one step = one Adam step).
 *
 * @category solvers
 * @since 0.1.0
 */
export const cosmo = definition({
  name: "cosmo",
  description:
    "COSMO (Massidda et al. 2024): smooth orientation by node priorities, unconstrained Adam without an acyclicity penalty; one step = one Adam step",
  fields: {
    ...common,
    lambda2: optional(NonNegative),
    priorityPenalty: optional(NonNegative),
    shift: optional(Positive),
    initialTemperature: optional(Positive),
    finalTemperature: optional(Positive),
    hardOrientation: optional(Schema.Boolean),
    learningRate: optional(Positive),
    maxIterations: optional(Iterations),
    seed: optional(Iterations)
  },
  adapter: {
    name: "cosmo",
    solver: Cosmo.solver,
    budget: (o: Cosmo.CosmoOptions) => o.maxIterations ?? Cosmo.defaultCosmoOptions.maxIterations,
    graph: (out: Cosmo.CosmoOutput) => out.W,
    raw: (out: Cosmo.CosmoOutput) => out.weights
  }
})

// ---------------------------------------------------------------------------
// The registry fragment

/**
 * The structure-learning problem generators.
 *
 * @category constants
 * @since 0.1.0
 */
export const problems: ReadonlyArray<AnyProblemGenerator> = [linearSem]

/**
 * The structure-learning solvers.
 *
 * @category constants
 * @since 0.1.0
 */
export const solvers: ReadonlyArray<AnySolverDefinition> = [notears, dagma, golem, colide, topo, cosmo]
