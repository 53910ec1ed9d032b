/**
 * Variance-reduced Halpern iteration for finite-sum monotone inclusions
 * 0 ∈ F(u) + N_C(u), F = (1/n)·Σᵢ Fᵢ (`FiniteSumOperator`), C a box or ℝᵈ:
 * Algorithm 1 of Cai, Alacaoglu & Diakonikolas, "Variance Reduced Halpern
 * Iteration for Finite-Sum Monotone Inclusions" (ICLR 2024; arXiv 2310.02987),
 * for operators that are cocoercive on average. It runs the one-step
 * (anchored) Halpern iteration
 *
 *   u_{k+1} = P_C( λ_k·u₀ + (1 − λ_k)·u_k − η·F̃_k ),   λ_k = 2/(k + 4),
 *
 * with the recursive (PAGE/SARAH-type) estimate F̃_k of F(u_k):
 *
 *   F̃_k = F(u_k)                                        with probability p_k,
 *   F̃_k = F̃_{k−1} + (1/b)·Σ_{j∈B_k} (F_j(u_k) − F_j(u_{k−1}))   otherwise,
 *
 * B_k a minibatch of b indices drawn uniformly WITH replacement, p_k = 1 for
 * k ≤ 1 and p_k = max(4/(k + 4), 4/(√n + 5)) after, b = ⌊√n⌋. The
 * probabilities, λ_k, b and the update are those of the authors' experiment
 * code (the Python implementation of "Algorithm 1 in our paper" for their
 * matrix games, read via the search tool); the paper's text itself could not
 * be retrieved, so the theoretical constants (the step size in particular)
 * are not reproduced: η is a required option here. The expected cost is
 * O(n + √n·L/ε) component evaluations for E‖F(u)‖ ≤ ε, against O(n·L/ε) for
 * the deterministic Halpern iteration. Their code samples B_k without
 * replacement; with replacement (used here) keeps the estimate unbiased
 * given the past and the sampler allocation-free.
 *
 * One solver `step` runs iterations until a full evaluation F(u_k) happens
 * (probability p_k each), so every step ends at a point with an EXACT
 * residual, the natural residual ‖u − P_C(u − F(u))‖₂ (‖F(u)‖₂ without a
 * box); that point is the one returned. A run of minibatch iterations is
 * capped at ⌈8/p_min⌉ (probability ≈ e⁻⁸ of being reached), after which the
 * full evaluation is forced: a bounded loop, and a higher p only lowers the
 * estimate's variance.
 *
 * Restarts (`restartFactor` β ∈ (0, 1), an addition for strongly monotone
 * problems): when the residual at a full evaluation is ≤ β times the
 * residual at the anchor, the anchor moves there and k restarts at 0 (as in
 * `Halpern`); the anchored iteration alone converges at the O(1/k) rate.
 *
 * Counts: `counts.operator` full evaluations of F, `counts.component`
 * evaluations of single Fⱼ (2 per minibatch index). Randomness: iteration t
 * draws its coin from `Random.foldIn(coinKey, t)` and its minibatch from
 * `Random.foldIn(indexKey, t)`, [coinKey, indexKey] = `Random.split(key)`:
 * bit-reproducible from the key.
 *
 * @since 0.1.0
 */
import { Blas1, Errors, Random, type Solver, Vector } from "@descent/core"
import { requireInteger, requireKey, requireUnitInterval } from "./internal/stochastic.ts"
import { invalid, requireNonNegative, requirePositive } from "./internal/validate.ts"
import { type Bounds, makeBounds, projectOntoBounds } from "./Minimize.ts"
import {
  checkStart,
  type FiniteSumOperator,
  type InclusionOptions,
  type InclusionOutput,
  type InclusionResult,
  inclusionDefaults,
  type MeteredFiniteSumOperator,
  meterFiniteSum,
  naturalResidual,
  runInclusion
} from "./MonotoneOperator.ts"

/**
 * Options of the variance-reduced Halpern iteration.
 *
 * @category models
 * @since 0.1.0
 */
export interface VarianceReducedHalpernOptions extends InclusionOptions {
  /**
   * η > 0, required: for the update to be a nonexpansive anchored step η
   * must not exceed 1/L̃ for F 1/L̃-cocoercive (on average), e.g. μ/L² for a
   * μ-strongly monotone, L-Lipschitz F.
   */
  readonly stepSize: number
  /** b ≥ 1, the minibatch size. Default ⌊√n⌋. */
  readonly batchSize?: number
  /** β ∈ [0, 1): re-anchor when the residual ≤ β·(the anchor's residual); 0 never. Default 0. */
  readonly restartFactor?: number
  /** Lower bounds of the box C (a number for every coordinate, or an array; −∞ for none). Default −∞. */
  readonly lower?: number | ArrayLike<number>
  /** Upper bounds of the box C (a number or an array; +∞ for none). Default +∞. */
  readonly upper?: number | ArrayLike<number>
  /** The PRNG key. Default `Random.key(0)`. */
  readonly key?: Random.Key
}

/**
 * Defaults of `VarianceReducedHalpernOptions` (`maxIterations` counts
 * steps, i.e. full evaluations; `minibatchRunCapTimesPMin` is the cap on
 * consecutive minibatch iterations times p_min).
 *
 * @category constants
 * @since 0.1.0
 */
export const varianceReducedHalpernDefaults = {
  ...inclusionDefaults,
  restartFactor: 0,
  seed: 0,
  minibatchRunCapTimesPMin: 8
} as const

/**
 * The result: `residual` is the natural residual at x, the last point where
 * F was evaluated in full.
 *
 * @category models
 * @since 0.1.0
 */
export interface VarianceReducedHalpernResult extends InclusionResult {
  /** How many times the anchor moved. */
  readonly restarts: number
  /** Halpern iterations performed (minibatch and full). */
  readonly innerIterations: number
  /** (counts.operator·n + counts.component)/n: the cost in passes over the n components. */
  readonly passes: number
}

/**
 * State of the variance-reduced Halpern iteration.
 *
 * @category models
 * @since 0.1.0
 */
export interface VarianceReducedHalpernState {
  readonly operator: MeteredFiniteSumOperator
  readonly n: number
  readonly batchSize: number
  readonly stepSize: number
  readonly tolerance: number
  readonly restartFactor: number
  readonly bounds: Bounds | undefined
  readonly coinKey: Random.Key
  readonly indexKey: Random.Key
  readonly minimumProbability: number
  readonly runCap: number
  readonly anchor: Float64Array
  u: Float64Array
  previous: Float64Array
  next: Float64Array
  readonly estimate: Float64Array
  readonly componentAtU: Float64Array
  readonly componentAtPrevious: Float64Array
  readonly work: Float64Array
  readonly reported: Float64Array
  readonly indices: Float64Array
  readonly coin: Float64Array
  /** Whether `estimate` already holds F(u) exactly (at the start). */
  fresh: boolean
  residual: number
  anchorResidual: number
  /** Iterations since the anchor was set. */
  k: number
  /** Iterations in total (the key counter). */
  t: number
  restarts: number
  diverged: boolean
}

const op = "VarianceReducedHalpern"

/** u_{k+1} = P_C(λ_k·u₀ + (1 − λ_k)·u_k − η·F̃_k), then rotate (u_{k−1}, u_k) ← (u_k, u_{k+1}). */
const advance = (state: VarianceReducedHalpernState): void => {
  const lambda = 2 / (state.k + 4)
  const { next, u } = state
  Blas1.copy(u, next)
  Blas1.axpby(lambda, state.anchor, 1 - lambda, next)
  Blas1.axpy(-state.stepSize, state.estimate, next)
  if (state.bounds !== undefined) projectOntoBounds(next, state.bounds)
  state.next = state.previous
  state.previous = u
  state.u = next
  state.k++
  state.t++
}

/**
 * The variance-reduced Halpern iteration as a solver of core's protocol; a
 * `step` runs iterations up to and including the next full evaluation.
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<
  { readonly operator: FiniteSumOperator; readonly x0: Float64Array },
  VarianceReducedHalpernOptions,
  VarianceReducedHalpernState,
  InclusionOutput & { readonly restarts: number; readonly innerIterations: number; readonly passes: number }
> = {
  name: op,
  init: ({ operator, x0 }, options) => {
    if (
      operator === null ||
      typeof operator !== "object" ||
      !Number.isInteger(operator.count) ||
      operator.count < 1 ||
      typeof operator.component !== "function" ||
      typeof operator.apply !== "function"
    ) {
      throw invalid(op, "operator", operator, "a FiniteSumOperator: count ≥ 1, apply and component")
    }
    const metered = meterFiniteSum(operator)
    const n = operator.count
    const d = operator.dimension
    const u = checkStart(op, d, x0)
    if (options === undefined || options.stepSize === undefined) {
      throw invalid(
        op,
        "stepSize",
        undefined,
        "a finite number > 0 (required: it depends on the cocoercivity constant)"
      )
    }
    const stepSize = requirePositive(op, "stepSize", options.stepSize)
    const tolerance = requireNonNegative(
      op,
      "tolerance",
      options.tolerance ?? varianceReducedHalpernDefaults.tolerance
    )
    const batchSize = requireInteger(
      op,
      "batchSize",
      options.batchSize ?? Math.max(1, Math.floor(Math.sqrt(n))),
      1
    )
    const restartFactor = requireUnitInterval(
      op,
      "restartFactor",
      options.restartFactor ?? varianceReducedHalpernDefaults.restartFactor
    )
    const key = requireKey(op, "key", options.key ?? Random.key(varianceReducedHalpernDefaults.seed))
    const [coinKey, indexKey] = Random.split(key, 2)
    const bounds =
      options.lower === undefined && options.upper === undefined
        ? undefined
        : makeBounds(op, d, options.lower, options.upper)
    if (bounds !== undefined) projectOntoBounds(u, bounds)
    const estimate = Vector.zeros(d)
    metered.apply(u, estimate)
    const bad = Vector.findNonFinite(estimate)
    if (bad >= 0)
      throw new Errors.NonFiniteInput({ operation: op, what: "F(x0)", index: bad, value: estimate[bad]! })
    const work = Vector.zeros(d)
    const residual = naturalResidual(u, estimate, bounds, work)
    const minimumProbability = 4 / (Math.sqrt(n) + 5)
    return {
      operator: metered,
      n,
      batchSize,
      stepSize,
      tolerance,
      restartFactor,
      bounds,
      coinKey: coinKey!,
      indexKey: indexKey!,
      minimumProbability,
      runCap: Math.ceil(varianceReducedHalpernDefaults.minibatchRunCapTimesPMin / minimumProbability),
      anchor: Vector.clone(u),
      u,
      previous: Vector.clone(u),
      next: Vector.zeros(d),
      estimate,
      componentAtU: Vector.zeros(d),
      componentAtPrevious: Vector.zeros(d),
      work,
      reported: Vector.clone(u),
      indices: Vector.zeros(batchSize),
      coin: Vector.zeros(1),
      fresh: true,
      residual,
      anchorResidual: residual,
      k: 0,
      t: 0,
      restarts: 0,
      diverged: false
    }
  },
  step: (state) => {
    const { operator, estimate, indices, batchSize: b } = state
    for (let run = 0; ; run++) {
      const k = state.k
      let full = k <= 1 || run >= state.runCap
      if (!full) {
        const p = Math.max(4 / (k + 4), state.minimumProbability)
        full = Random.uniform(Random.foldIn(state.coinKey, state.t >>> 0), state.coin)[0]! < p
      }
      if (full) {
        if (!state.fresh) operator.apply(state.u, estimate)
        state.fresh = false
        if (Vector.findNonFinite(estimate) >= 0 || Vector.findNonFinite(state.u) >= 0) {
          state.diverged = true
          return state
        }
        state.residual = naturalResidual(state.u, estimate, state.bounds, state.work)
        Blas1.copy(state.u, state.reported)
        if (
          state.restartFactor > 0 &&
          k > 0 &&
          state.residual <= state.restartFactor * state.anchorResidual
        ) {
          Blas1.copy(state.u, state.anchor)
          state.anchorResidual = state.residual
          state.k = 0
          state.restarts++
        }
        advance(state)
        return state
      }
      Random.integers(Random.foldIn(state.indexKey, state.t >>> 0), indices, { high: state.n })
      const cu = state.componentAtU
      const cp = state.componentAtPrevious
      for (let j = 0; j < b; j++) {
        const i = indices[j]!
        operator.component(i, state.u, cu)
        operator.component(i, state.previous, cp)
        Blas1.axpy(1 / b, cu, estimate)
        Blas1.axpy(-1 / b, cp, estimate)
      }
      advance(state)
    }
  },
  status: (state) => (state.residual <= state.tolerance ? "converged" : undefined),
  residual: (state) => (state.diverged ? Number.NaN : state.residual),
  metrics: (state) => ({
    residual: state.residual,
    passes: state.operator.counts.operator + state.operator.counts.component / state.n
  }),
  output: (state) => ({
    x: Vector.clone(state.reported),
    residual: state.residual,
    counts: { ...state.operator.counts },
    restarts: state.restarts,
    innerIterations: state.t,
    passes: state.operator.counts.operator + state.operator.counts.component / state.n
  })
}

/**
 * Solves the finite-sum inclusion 0 ∈ F(u) + N_C(u) with the variance-reduced
 * Halpern iteration (Cai, Alacaoglu & Diakonikolas, ICLR 2024, Algorithm 1)
 * from `x0`, until the natural residual at a full evaluation ≤ tolerance.
 * `iterations` count full evaluations (solver steps), `innerIterations` all
 * Halpern iterations. A NaN or ±∞ operator value ends the run as `diverged`
 * with the last point whose full evaluation was finite.
 *
 * @example
 * const F = MonotoneOperator.affineFiniteSum(components)
 * const result = VarianceReducedHalpern.solve(F, x0, { stepSize: 0.04, restartFactor: 0.5 })
 * @throws DimensionMismatch when `x0` or a bound has the wrong length.
 * @throws NonFiniteInput when `x0` or F(x0) has a NaN or ±∞.
 * @throws InvalidOptions for a missing step size or an option out of range.
 * @category solvers
 * @since 0.1.0
 */
export const solve = (
  operator: FiniteSumOperator,
  x0: Float64Array,
  options: VarianceReducedHalpernOptions
): VarianceReducedHalpernResult => runInclusion(solver, { operator, x0 }, options)
