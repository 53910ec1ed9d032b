/**
 * Frank–Wolfe (conditional gradient) methods: minimize a smooth f over a
 * compact convex set C given only by a linear minimization oracle (LMO)
 * s = argmin_{s∈C} ⟨c, s⟩ — no projection needed, iterates stay sparse
 * convex combinations of few vertices (atoms).
 *
 * Each iteration takes s = LMO(∇f(xₖ)) and the Frank–Wolfe duality gap
 *
 *   gₖ = ⟨∇f(xₖ), xₖ − s⟩ ≥ f(xₖ) − f*,
 *
 * a certificate of suboptimality (for convex f) used as the stopping test.
 *
 * - Vanilla FW: xₖ₊₁ = xₖ + γ(s − xₖ), γ = 2/(k + 2) or a line search; O(1/k),
 *   and not faster when the solution lies on a face of a polytope (the
 *   iterates zig-zag between vertices).
 * - Away-step FW: the iterate is kept as a convex combination Σ αᵥ·v of an
 *   active set of vertices; when moving away from the worst active vertex
 *   v = argmax_{v∈S} ⟨∇f, v⟩ decreases f faster than moving to s, it steps
 *   along x − v (up to the step that drops v).
 * - Pairwise FW: moves weight from v to s directly, along s − v.
 *   Both converge linearly for strongly convex f over polytopes.
 *
 * Step rules: `openLoop` γ = 2/(k + 2); `exact`, the minimizer of f along the
 * direction for quadratic f (γ = −⟨∇f, d⟩/⟨d, ∇²f·d⟩ with the objective's
 * Hessian-vector product); `backtracking`, the adaptive step of Pedregosa et
 * al. (2020): γ = min(−⟨∇f, d⟩/(M‖d‖²), γ_max) with the local Lipschitz
 * estimate M increased until f(x + γd) ≤ f(x) + γ⟨∇f, d⟩ + γ²M‖d‖²/2.
 *
 * References: Frank & Wolfe, *Naval Res. Logist. Q.* 3 (1956); Jaggi,
 * "Revisiting Frank–Wolfe: projection-free sparse convex optimization", ICML
 * 2013; Lacoste-Julien & Jaggi, "On the global linear convergence of
 * Frank–Wolfe optimization variants", NeurIPS 2015 (Alg. 1 and 2); Pedregosa,
 * Negiar, Askari & Jaggi, "Linearly convergent Frank–Wolfe with backtracking
 * line-search", AISTATS 2020.
 *
 * @since 0.1.0
 */
import { Blas1, Errors, Matrix, Objective, type Solver, Vector } from "@descent/core"
import { Svd } from "@descent/linalg"
import { allFinite } from "./internal/secondOrder.ts"
import { invalid, requireNonNegative, requirePositive, requirePositiveInteger } from "./internal/validate.ts"
import {
  checkStart,
  evaluateStart,
  type MinimizeOptions,
  type MinimizeResult,
  runSolver,
  type SolverOutput
} from "./Minimize.ts"

// ---------------------------------------------------------------------------
// Linear minimization oracles

/**
 * A linear minimization oracle of a compact convex set C.
 *
 * @category models
 * @since 0.1.0
 */
export interface LinearMinimizationOracle {
  /** A stable identifier ("simplex", "l1Ball", …). */
  readonly name: string
  /** The dimension n of the space C lives in. */
  readonly dimension: number
  /**
   * Writes a vertex s ∈ argmin_{s∈C} ⟨c, s⟩ into `out` and returns its key:
   * equal keys mean equal vertices (the away-step and pairwise variants merge
   * them in the active set); `undefined` when vertices have no finite
   * enumeration (each returned atom is then kept separately).
   */
  minimize(c: Float64Array, out: Float64Array): string | number | undefined
}

const checkDimension = (operation: string, n: number): void => {
  if (!Number.isInteger(n) || n < 1) throw invalid(operation, "dimension", n, "an integer ≥ 1")
}

/**
 * The LMO of the simplex Δ_r = {s ≥ 0, Σs = r}: s = r·e_i, i = argmin_i cᵢ.
 *
 * @throws InvalidOptions when `dimension` < 1 or `radius` ≤ 0.
 * @category constructors
 * @since 0.1.0
 */
export const simplex = (dimension: number, radius = 1): LinearMinimizationOracle => {
  checkDimension("FrankWolfe.simplex", dimension)
  requirePositive("FrankWolfe.simplex", "radius", radius)
  return {
    name: "simplex",
    dimension,
    minimize: (c, out) => {
      let best = 0
      for (let i = 1; i < c.length; i++) if (c[i]! < c[best]!) best = i
      out.fill(0)
      out[best] = radius
      return best
    }
  }
}

/**
 * The LMO of the ℓ1 ball {‖s‖₁ ≤ r}: s = −r·sign(cᵢ)·e_i, i = argmax |cᵢ|.
 * Vertex keys: 2i for +r·e_i, 2i + 1 for −r·e_i.
 *
 * @throws InvalidOptions when `dimension` < 1 or `radius` ≤ 0.
 * @category constructors
 * @since 0.1.0
 */
export const l1Ball = (dimension: number, radius: number): LinearMinimizationOracle => {
  checkDimension("FrankWolfe.l1Ball", dimension)
  requirePositive("FrankWolfe.l1Ball", "radius", radius)
  return {
    name: "l1Ball",
    dimension,
    minimize: (c, out) => {
      const i = Math.max(Blas1.iamax(c), 0)
      out.fill(0)
      const negative = c[i]! > 0
      out[i] = negative ? -radius : radius
      return 2 * i + (negative ? 1 : 0)
    }
  }
}

/**
 * The LMO of the box {lower ≤ s ≤ upper}: sᵢ = lowerᵢ when cᵢ > 0, else upperᵢ.
 * Keys: the pattern of chosen sides as a string.
 *
 * @throws InvalidOptions when a bound is not finite or lower > upper somewhere.
 * @throws DimensionMismatch when the bounds differ in length.
 * @category constructors
 * @since 0.1.0
 */
export const box = (lower: ArrayLike<number>, upper: ArrayLike<number>): LinearMinimizationOracle => {
  const operation = "FrankWolfe.box"
  if (lower.length !== upper.length)
    throw new Errors.DimensionMismatch({
      operation,
      what: "upper",
      expected: [lower.length],
      actual: [upper.length]
    })
  checkDimension(operation, lower.length)
  const lo = Vector.fromArray(lower)
  const hi = Vector.fromArray(upper)
  for (let i = 0; i < lo.length; i++) {
    if (!Number.isFinite(lo[i]!) || !Number.isFinite(hi[i]!) || lo[i]! > hi[i]!)
      throw invalid(operation, `lower[${i}]`, lo[i], `a finite number at most upper[${i}] = ${hi[i]}`)
  }
  return {
    name: "box",
    dimension: lo.length,
    minimize: (c, out) => {
      let key = ""
      for (let i = 0; i < c.length; i++) {
        const atLower = c[i]! > 0
        out[i] = atLower ? lo[i]! : hi[i]!
        key += atLower ? "0" : "1"
      }
      return key
    }
  }
}

/**
 * The LMO of the nuclear-norm ball {S ∈ ℝ^{rows×cols} : ‖S‖_* ≤ r} (row-major
 * vectors of length rows·cols): S = −r·u₁v₁ᵀ for the top singular pair of
 * the matrix C, computed with `@descent/linalg`'s `Svd`. Atoms have no key.
 *
 * Reference: Jaggi & Sulovský, "A simple algorithm for nuclear norm
 * regularized problems", ICML 2010.
 *
 * @throws InvalidOptions when a dimension < 1 or `radius` ≤ 0.
 * @category constructors
 * @since 0.1.0
 */
export const nuclearNormBall = (rows: number, cols: number, radius: number): LinearMinimizationOracle => {
  const operation = "FrankWolfe.nuclearNormBall"
  checkDimension(operation, rows)
  checkDimension(operation, cols)
  requirePositive(operation, "radius", radius)
  const u = Vector.zeros(rows)
  return {
    name: "nuclearNormBall",
    dimension: rows * cols,
    minimize: (c, out) => {
      const { U, Vt } = Svd.svd(Matrix.fromData(rows, cols, c))
      Matrix.getColumn(U, 0, u)
      for (let i = 0; i < rows; i++) {
        const ui = -radius * u[i]!
        for (let j = 0; j < cols; j++) out[i * cols + j] = ui * Vt.data[j]!
      }
      return undefined
    }
  }
}

// ---------------------------------------------------------------------------
// Solvers

/**
 * How the step γ is chosen.
 * - `openLoop`: γ = 2/(k + 2) (clipped to the variant's γ_max).
 * - `exact`: the exact line minimizer for quadratic f, from the objective's Hessian-vector product.
 * - `backtracking`: the adaptive Lipschitz step of Pedregosa et al. (2020).
 *
 * @category models
 * @since 0.1.0
 */
export type StepRule = "openLoop" | "exact" | "backtracking"

/**
 * Options of the Frank–Wolfe solvers.
 *
 * @category models
 * @since 0.1.0
 */
export interface FrankWolfeOptions extends MinimizeOptions {
  /** Stop when the Frank–Wolfe duality gap is ≤ tolerance (≥ 0). Default 1e-6. */
  readonly tolerance?: number
  /** Step rule. Default "backtracking". */
  readonly stepRule?: StepRule
  /**
   * First Lipschitz estimate M > 0 of the backtracking rule; default: estimated
   * from a gradient difference along the first direction.
   */
  readonly initialLipschitz?: number
  /** Backtracking trials per iteration before the run ends as `stalled`. Default 60. */
  readonly maxBacktracks?: number
}

/**
 * Defaults of `FrankWolfeOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultFrankWolfeOptions = {
  maxIterations: 1000,
  tolerance: 1e-6,
  stepRule: "backtracking",
  maxBacktracks: 60
} as const

/**
 * A Frank–Wolfe problem: the objective, the LMO of the feasible set, and a
 * start. Vanilla FW starts at x0 (which must lie in C); the away-step and
 * pairwise variants start at the vertex LMO(∇f(x0)), whose decomposition is known.
 *
 * @category models
 * @since 0.1.0
 */
export interface FrankWolfeProblem {
  readonly objective: Objective.Objective
  readonly oracle: LinearMinimizationOracle
  readonly x0: Float64Array
}

/**
 * A Frank–Wolfe result. `gradientNorm` is the duality gap too (the
 * stationarity measure of constrained problems).
 *
 * @category models
 * @since 0.1.0
 */
export interface FrankWolfeResult extends MinimizeResult {
  /** The Frank–Wolfe duality gap ⟨∇f(x), x − s⟩ ≥ f(x) − f* at x. */
  readonly dualityGap: number
  /** Vertices with positive weight (away-step and pairwise; 0 for vanilla). */
  readonly activeSetSize: number
  /** Away steps taken (away-step variant). */
  readonly awaySteps: number
  /** Steps that removed a vertex from the active set. */
  readonly dropSteps: number
}

/**
 * Frank–Wolfe output (before `runSolver` adds status, iterations and trace).
 *
 * @category models
 * @since 0.1.0
 */
export type FrankWolfeOutput = SolverOutput & Omit<FrankWolfeResult, keyof MinimizeResult>

type Variant = "vanilla" | "away" | "pairwise"

/**
 * State of the Frank–Wolfe solvers. `x`, `gradient`, `value` are the last
 * finite iterate; for the away-step and pairwise variants
 * x = Σᵢ weights[i]·vertices[i].
 *
 * @category models
 * @since 0.1.0
 */
export interface FrankWolfeState {
  readonly objective: Objective.MeteredObjective
  readonly oracle: LinearMinimizationOracle
  readonly variant: Variant
  readonly stepRule: StepRule
  readonly tolerance: number
  readonly maxBacktracks: number
  x: Float64Array
  gradient: Float64Array
  xTrial: Float64Array
  gradientTrial: Float64Array
  /** The FW vertex s = LMO(∇f(x)). */
  readonly vertex: Float64Array
  vertexKey: string | number | undefined
  readonly direction: Float64Array
  value: number
  /** f at the last trial point. */
  trialValue: number
  dualityGap: number
  lipschitz: number
  iteration: number
  readonly vertices: Float64Array[]
  readonly weights: number[]
  readonly keys: Array<string | number | undefined>
  /** Buffers of dropped vertices, reused for new ones. */
  readonly spare: Float64Array[]
  awaySteps: number
  dropSteps: number
  end: "stalled" | "diverged" | undefined
  message: string | undefined
}

/** Rounding level of f (relative) below which the backtracking test uses directional derivatives. */
const FUNCTION_NOISE = 100 * Number.EPSILON
/** Pedregosa et al.'s factors: try M·η first, multiply by τ on failure. */
const LIPSCHITZ_DECREASE = 0.9
const LIPSCHITZ_INCREASE = 2

const refreshGap = (state: FrankWolfeState): void => {
  state.vertexKey = state.oracle.minimize(state.gradient, state.vertex)
  state.dualityGap = Blas1.dot(state.gradient, state.x) - Blas1.dot(state.gradient, state.vertex)
}

const addVertex = (state: FrankWolfeState, key: string | number | undefined, weight: number): void => {
  if (key !== undefined) {
    const at = state.keys.indexOf(key)
    if (at >= 0) {
      state.weights[at] = state.weights[at]! + weight
      return
    }
  }
  const buffer = state.spare.pop() ?? Vector.zeros(state.x.length)
  Blas1.copy(state.vertex, buffer)
  state.vertices.push(buffer)
  state.weights.push(weight)
  state.keys.push(key)
}

const removeVertex = (state: FrankWolfeState, index: number): void => {
  const last = state.vertices.length - 1
  state.spare.push(state.vertices[index]!)
  state.vertices[index] = state.vertices[last]!
  state.weights[index] = state.weights[last]!
  state.keys[index] = state.keys[last]
  state.vertices.pop()
  state.weights.pop()
  state.keys.pop()
  state.dropSteps++
}

/** What `chooseStep` returns when the backtracking search fails, or f is NaN/−∞ on the line. */
const SEARCH_FAILED = -1
const NON_FINITE = -2

/** f at x + γ·d into the trial buffers (point, value, gradient); returns the value. */
const evaluateAt = (state: FrankWolfeState, gamma: number): number => {
  Blas1.copy(state.x, state.xTrial)
  Blas1.axpy(gamma, state.direction, state.xTrial)
  state.trialValue = state.objective.valueAndGradient(state.xTrial, state.gradientTrial)
  return state.trialValue
}

/**
 * The step along `direction` by the state's rule; leaves x + γd, f and ∇f
 * there in `xTrial`, `trialValue`, `gradientTrial`. Returns γ, or
 * SEARCH_FAILED / NON_FINITE.
 */
const chooseStep = (state: FrankWolfeState, slope: number, maxStep: number): number => {
  const { objective, x, direction: d, gradientTrial } = state
  if (state.stepRule !== "backtracking") {
    let gamma = Math.min(2 / (state.iteration + 2), maxStep)
    if (state.stepRule === "exact") {
      objective.hessianVectorProduct!(x, d, gradientTrial)
      const curvature = Blas1.dot(d, gradientTrial)
      gamma = curvature > 0 ? Math.min(slope / curvature, maxStep) : maxStep
    }
    const f = evaluateAt(state, gamma)
    return Number.isFinite(f) && allFinite(gradientTrial) ? gamma : NON_FINITE
  }
  // Backtracking (Pedregosa et al. 2020, Alg. 1).
  const dd = Blas1.dot(d, d)
  if (!(state.lipschitz > 0)) {
    // Estimate M by a gradient difference along d.
    const eps = 1e-3 * Math.min(1, maxStep)
    evaluateAt(state, eps)
    Blas1.axpy(-1, state.gradient, gradientTrial)
    const estimate = Blas1.nrm2(gradientTrial) / (eps * Math.sqrt(dd))
    state.lipschitz = Number.isFinite(estimate) && estimate > 0 ? estimate : 1
  }
  let m = state.lipschitz * LIPSCHITZ_DECREASE
  const noise = FUNCTION_NOISE * Math.abs(state.value)
  for (let trial = 0; trial < state.maxBacktracks; trial++) {
    const gamma = Math.min(slope / (m * dd), maxStep)
    const f = evaluateAt(state, gamma)
    if (Number.isNaN(f) || f === Number.NEGATIVE_INFINITY) return NON_FINITE
    // f(x + γd) − f(x); at the rounding level of f, the trapezoid rule on the
    // directional derivatives instead (exact for quadratic f): the function
    // values no longer resolve the decrease, and accepting on noise would let
    // M shrink without bound (Hager & Zhang's approximate Wolfe idea).
    let decrease = f - state.value
    if (Math.abs(decrease) <= noise) decrease = 0.5 * gamma * (Blas1.dot(gradientTrial, d) - slope)
    if (decrease <= -gamma * slope + 0.5 * gamma * gamma * m * dd) {
      state.lipschitz = m
      return allFinite(gradientTrial) ? gamma : NON_FINITE
    }
    m *= LIPSCHITZ_INCREASE
  }
  return SEARCH_FAILED
}

const makeSolver = (
  name: string,
  variant: Variant
): Solver.IterativeSolver<FrankWolfeProblem, FrankWolfeOptions, FrankWolfeState, FrankWolfeOutput> => ({
  name,
  init: (problem, options) => {
    const d = defaultFrankWolfeOptions
    const tolerance = requireNonNegative(name, "tolerance", options.tolerance ?? d.tolerance)
    const stepRule = options.stepRule ?? d.stepRule
    if (stepRule !== "openLoop" && stepRule !== "exact" && stepRule !== "backtracking")
      throw invalid(name, "stepRule", stepRule, `"openLoop", "exact" or "backtracking"`)
    if (stepRule === "exact" && problem.objective.hessianVectorProduct === undefined)
      throw invalid(name, "stepRule", stepRule, "an objective with hessianVectorProduct for the exact step")
    const lipschitz =
      options.initialLipschitz === undefined
        ? 0
        : requirePositive(name, "initialLipschitz", options.initialLipschitz)
    const maxBacktracks = requirePositiveInteger(
      name,
      "maxBacktracks",
      options.maxBacktracks ?? d.maxBacktracks
    )
    const objective = Objective.meter(problem.objective)
    if (problem.oracle.dimension !== objective.dimension) {
      throw new Errors.DimensionMismatch({
        operation: name,
        what: "oracle dimension",
        expected: [objective.dimension],
        actual: [problem.oracle.dimension]
      })
    }
    const x = checkStart(name, objective, problem.x0)
    const n = x.length
    const gradient = Vector.zeros(n)
    let value = evaluateStart(name, objective, x, gradient)
    const vertex = Vector.zeros(n)
    const state: FrankWolfeState = {
      objective,
      oracle: problem.oracle,
      variant,
      stepRule,
      tolerance,
      maxBacktracks,
      x,
      gradient,
      xTrial: Vector.zeros(n),
      gradientTrial: Vector.zeros(n),
      vertex,
      vertexKey: undefined,
      direction: Vector.zeros(n),
      value,
      trialValue: value,
      dualityGap: 0,
      lipschitz,
      iteration: 0,
      vertices: [],
      weights: [],
      keys: [],
      spare: [],
      awaySteps: 0,
      dropSteps: 0,
      end: undefined,
      message: undefined
    }
    if (variant !== "vanilla") {
      // Start at the vertex LMO(∇f(x0)), the one-element active set.
      state.vertexKey = problem.oracle.minimize(gradient, vertex)
      Blas1.copy(vertex, x)
      value = objective.valueAndGradient(x, gradient)
      if (!Number.isFinite(value) || !allFinite(gradient))
        throw new Errors.NonFiniteInput({
          operation: name,
          what: "objective at the starting vertex",
          index: 0,
          value
        })
      state.value = value
      addVertex(state, state.vertexKey, 1)
    }
    refreshGap(state)
    return state
  },
  step: (state) => {
    const { x, gradient: g, vertex: s, direction: d } = state
    let maxStep = 1
    let away = -1
    let kind: "frankWolfe" | "away" | "pairwise" = "frankWolfe"
    if (state.variant !== "vanilla") {
      // The worst active vertex v = argmax ⟨g, v⟩.
      let best = Number.NEGATIVE_INFINITY
      for (let i = 0; i < state.vertices.length; i++) {
        const gv = Blas1.dot(g, state.vertices[i]!)
        if (gv > best) {
          best = gv
          away = i
        }
      }
      const weight = state.weights[away]!
      if (state.variant === "pairwise") {
        kind = "pairwise"
        maxStep = weight
      } else {
        const awayGap = best - Blas1.dot(g, x)
        if (awayGap > state.dualityGap && weight < 1) {
          kind = "away"
          maxStep = weight / (1 - weight)
        }
      }
    }
    // The direction: s − x (FW), x − v (away), s − v (pairwise).
    if (kind === "frankWolfe") {
      Blas1.copy(s, d)
      Blas1.axpy(-1, x, d)
    } else if (kind === "away") {
      Blas1.copy(x, d)
      Blas1.axpy(-1, state.vertices[away]!, d)
    } else {
      Blas1.copy(s, d)
      Blas1.axpy(-1, state.vertices[away]!, d)
    }
    const slope = -Blas1.dot(g, d)
    if (!(slope > 0)) {
      state.end = "stalled"
      state.message = `no descent direction (slope ${slope.toExponential(2)}, gap ${state.dualityGap.toExponential(2)})`
      return state
    }
    const gamma = chooseStep(state, slope, maxStep)
    if (gamma === NON_FINITE) {
      state.end = "diverged"
      state.message =
        "the objective or its gradient became NaN or infinite on the line; x is the last finite iterate"
      return state
    }
    if (gamma === SEARCH_FAILED) {
      state.end = "stalled"
      state.message = `the backtracking line search found no acceptable step in ${state.maxBacktracks} trials`
      return state
    }
    state.iteration++
    // Commit x ← x + γd (the trial buffers hold it, with f and ∇f).
    state.x = state.xTrial
    state.xTrial = x
    state.gradient = state.gradientTrial
    state.gradientTrial = g
    state.value = state.trialValue
    if (state.variant !== "vanilla") {
      const { weights } = state
      if (kind === "frankWolfe") {
        for (let i = 0; i < weights.length; i++) weights[i] = weights[i]! * (1 - gamma)
        addVertex(state, state.vertexKey, gamma)
      } else if (kind === "away") {
        state.awaySteps++
        for (let i = 0; i < weights.length; i++) weights[i] = weights[i]! * (1 + gamma)
        weights[away] = weights[away]! - gamma
      } else {
        weights[away] = weights[away]! - gamma
        addVertex(state, state.vertexKey, gamma)
      }
      // A drop step (γ = γ_max) removes v; a full FW step (γ = 1) zeroes every other weight.
      if (kind !== "frankWolfe" && gamma >= maxStep) weights[away] = 0
      for (let i = state.vertices.length - 1; i >= 0; i--) if (!(weights[i]! > 0)) removeVertex(state, i)
    }
    refreshGap(state)
    return state
  },
  status: (state) =>
    state.end === "stalled" ? "stalled" : state.dualityGap <= state.tolerance ? "converged" : undefined,
  residual: (state) => (state.end === "diverged" ? Number.NaN : Math.max(state.dualityGap, 0)),
  metrics: (state) => ({
    objective: state.value,
    dualityGap: state.dualityGap,
    activeSetSize: state.vertices.length
  }),
  output: (state) => ({
    x: Vector.clone(state.x),
    fun: state.value,
    gradient: Vector.clone(state.gradient),
    gradientNorm: Math.max(state.dualityGap, 0),
    counts: { ...state.objective.counts },
    dualityGap: state.dualityGap,
    activeSetSize: state.vertices.length,
    awaySteps: state.awaySteps,
    dropSteps: state.dropSteps,
    ...(state.message === undefined ? {} : { message: state.message })
  })
})

/**
 * Frank–Wolfe with step γ = 2/(k+2), exact or backtracking line search, as a `Solver.IterativeSolver`.
 *
 * @category solvers
 * @since 0.1.0
 */
export const vanillaSolver = makeSolver("FrankWolfe", "vanilla")

/**
 * Away-step Frank–Wolfe (Lacoste-Julien & Jaggi 2015, Alg. 1) as a `Solver.IterativeSolver`.
 *
 * @category solvers
 * @since 0.1.0
 */
export const awayStepSolver = makeSolver("AwayStepFrankWolfe", "away")

/**
 * Pairwise Frank–Wolfe (Lacoste-Julien & Jaggi 2015, Alg. 2) as a `Solver.IterativeSolver`.
 *
 * @category solvers
 * @since 0.1.0
 */
export const pairwiseSolver = makeSolver("PairwiseFrankWolfe", "pairwise")

/**
 * Minimizes `objective` over the set of `oracle` by vanilla Frank–Wolfe from
 * x0 (which must lie in the set).
 *
 * @example
 * const result = FrankWolfe.minimize(objective, FrankWolfe.simplex(n), Vector.full(n, 1 / n), { tolerance: 1e-8 })
 * @throws DimensionMismatch when `x0` or the oracle does not have the objective's dimension.
 * @throws NonFiniteInput when `x0`, f(x0) or ∇f(x0) has a NaN or ±∞.
 * @throws InvalidOptions when an option is out of range (or `exact` without a Hessian-vector product).
 * @category solvers
 * @since 0.1.0
 */
export const minimize = (
  objective: Objective.Objective,
  oracle: LinearMinimizationOracle,
  x0: Float64Array,
  options: FrankWolfeOptions = {}
): FrankWolfeResult => runSolver(vanillaSolver, { objective, oracle, x0 }, options) as FrankWolfeResult

/**
 * Minimizes `objective` over the set of `oracle` by away-step Frank–Wolfe,
 * starting at the vertex LMO(∇f(x0)); linear convergence for strongly convex
 * f over polytopes.
 *
 * @throws DimensionMismatch when `x0` or the oracle does not have the objective's dimension.
 * @throws NonFiniteInput when `x0`, f(x0) or ∇f(x0) (or f at the start vertex) has a NaN or ±∞.
 * @throws InvalidOptions when an option is out of range.
 * @category solvers
 * @since 0.1.0
 */
export const minimizeAwayStep = (
  objective: Objective.Objective,
  oracle: LinearMinimizationOracle,
  x0: Float64Array,
  options: FrankWolfeOptions = {}
): FrankWolfeResult => runSolver(awayStepSolver, { objective, oracle, x0 }, options) as FrankWolfeResult

/**
 * Minimizes `objective` over the set of `oracle` by pairwise Frank–Wolfe,
 * starting at the vertex LMO(∇f(x0)).
 *
 * @throws DimensionMismatch when `x0` or the oracle does not have the objective's dimension.
 * @throws NonFiniteInput when `x0`, f(x0) or ∇f(x0) (or f at the start vertex) has a NaN or ±∞.
 * @throws InvalidOptions when an option is out of range.
 * @category solvers
 * @since 0.1.0
 */
export const minimizePairwise = (
  objective: Objective.Objective,
  oracle: LinearMinimizationOracle,
  x0: Float64Array,
  options: FrankWolfeOptions = {}
): FrankWolfeResult => runSolver(pairwiseSolver, { objective, oracle, x0 }, options) as FrankWolfeResult
