/**
 * The part of an epoch-based finite-sum solver (Svrg, Sarah, Sps) that does
 * not depend on the method: the checked start, the snapshot with its full
 * value and gradient, the acceptance of the next snapshot (a non-finite value
 * or gradient marks the state diverged and keeps the last finite snapshot),
 * and the solver-protocol functions residual / status / metrics / output.
 */
import { Blas1, type Solver, Vector } from "@descent/core"
import { assertFiniteSum, type FiniteSum, type MeteredFiniteSum, meter } from "../FiniteSum.ts"
import { checkStart, evaluateStart, type SolverOutput } from "../Minimize.ts"
import { allFinite, normInf } from "./stochastic.ts"
import { requireNonNegative } from "./validate.ts"

/** The state every epoch solver carries. */
export interface EpochState {
  readonly problem: MeteredFiniteSum
  readonly n: number
  readonly tolerance: number
  /** The snapshot x̃: the last accepted (finite) epoch output. */
  x: Float64Array
  /** ∇f(x̃). */
  gradient: Float64Array
  /** f(x̃). */
  fun: number
  /** ‖∇f(x̃)‖∞. */
  gradientNorm: number
  /** The next snapshot, written by the method's epoch, then accepted or rejected. */
  candidate: Float64Array
  candidateGradient: Float64Array
  /** Set when the candidate's value or gradient was NaN or ±∞. */
  diverged: boolean
  /** Epochs performed. */
  epoch: number
}

/** The problem handed to an epoch solver's `init`. */
export interface EpochProblem {
  readonly problem: FiniteSum
  readonly x0: Float64Array
}

/** Checks the start, meters the problem, evaluates f and ∇f at x0. */
export const initEpochState = (
  operation: string,
  { problem, x0 }: EpochProblem,
  tolerance: number
): EpochState => {
  assertFiniteSum(operation, problem)
  const metered = meter(problem)
  const x = checkStart(operation, problem, x0)
  const d = problem.dimension
  const gradient = Vector.zeros(d)
  const fun = evaluateStart(operation, metered, x, gradient)
  return {
    problem: metered,
    n: problem.count,
    tolerance: requireNonNegative(operation, "tolerance", tolerance),
    x,
    gradient,
    fun,
    gradientNorm: normInf(gradient),
    candidate: Vector.zeros(d),
    candidateGradient: Vector.zeros(d),
    diverged: false,
    epoch: 0
  }
}

/**
 * Evaluates f and ∇f at `state.candidate` (n component gradients). A finite
 * result becomes the snapshot (buffers swapped, no copy); otherwise the state
 * is marked diverged and keeps its last finite snapshot.
 */
export const acceptCandidate = (state: EpochState): void => {
  const f = state.problem.valueAndGradient(state.candidate, state.candidateGradient)
  if (!Number.isFinite(f) || !allFinite(state.candidate) || !allFinite(state.candidateGradient)) {
    state.diverged = true
    return
  }
  const x = state.x
  const g = state.gradient
  state.x = state.candidate
  state.gradient = state.candidateGradient
  state.candidate = x
  state.candidateGradient = g
  state.fun = f
  state.gradientNorm = normInf(state.gradient)
}

/** ‖∇f(x̃)‖∞, or NaN once the run diverged (the loop then stops as `diverged`). */
export const epochResidual = (state: EpochState): number => (state.diverged ? Number.NaN : state.gradientNorm)

/** `converged` when ‖∇f(x̃)‖∞ ≤ tolerance. */
export const epochStatus = (state: EpochState): Solver.Status | undefined =>
  state.gradientNorm <= state.tolerance ? "converged" : undefined

/** Objective, gradient norm and cost so far. */
export const epochMetrics = (state: EpochState): Solver.Metrics => ({
  objective: state.fun,
  gradientNorm: state.gradientNorm,
  passes: state.problem.counts.gradient / state.n
})

/** The output: copies of the snapshot and its gradient, counts in component evaluations. */
export const epochOutput = (state: EpochState): SolverOutput & { readonly passes: number } => {
  const x = Vector.zeros(state.x.length)
  Blas1.copy(state.x, x)
  const gradient = Vector.zeros(state.gradient.length)
  Blas1.copy(state.gradient, gradient)
  return {
    x,
    fun: state.fun,
    gradient,
    gradientNorm: state.gradientNorm,
    counts: { ...state.problem.counts },
    passes: state.problem.counts.gradient / state.n
  }
}
