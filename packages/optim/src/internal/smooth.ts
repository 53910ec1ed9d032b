/**
 * What the smooth first-order solvers (GradientDescent, NonlinearCg, Lbfgs,
 * LbfgsB) share: the start (metered objective, checked x0, f and ∇f there),
 * the stopping tests, and the output record.
 */
import { Objective, Vector } from "@descent/core"
import type { LineSearchResult } from "../LineSearch.ts"
import { checkStart, evaluateStart, type SolverOutput } from "../Minimize.ts"
import { requireNonNegative } from "./validate.ts"

/** max |vᵢ| (NaN if any entry is NaN). */
export const infinityNorm = (v: Float64Array): number => {
  let m = 0
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]!)
    if (a > m || a !== a) m = a
  }
  return m
}

/** Whether every entry is finite. */
export const allFinite = (v: Float64Array): boolean => {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) return false
  return true
}

/**
 * The relative-decrease test of L-BFGS-B:
 * (f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) ≤ tolerance.
 */
export const smallDecrease = (previous: number, value: number, tolerance: number): boolean =>
  previous - value <= tolerance * Math.max(Math.abs(previous), Math.abs(value), 1)

/** The common part of every smooth solver's state. */
export interface SmoothState {
  readonly objective: Objective.MeteredObjective
  x: Float64Array
  gradient: Float64Array
  value: number
  gradientNorm: number
  /** Set when the run must end (converged by a test, stalled, diverged). */
  end: "converged" | "stalled" | "diverged" | undefined
  message: string | undefined
}

/** Meters the objective, checks x0 and evaluates f and ∇f there. */
export const start = (
  operation: string,
  problem: { readonly objective: Objective.Objective; readonly x0: Float64Array }
): {
  readonly objective: Objective.MeteredObjective
  readonly x: Float64Array
  readonly gradient: Float64Array
  readonly value: number
} => {
  const objective = Objective.meter(problem.objective)
  const x = checkStart(operation, objective, problem.x0)
  const gradient = Vector.zeros(x.length)
  const value = evaluateStart(operation, objective, x, gradient)
  return { objective, x, gradient, value }
}

/** The gradient tolerance and relative-decrease tolerance options, checked. */
export const tolerances = (
  operation: string,
  options: { readonly tolerance?: number; readonly functionTolerance?: number },
  defaults: { readonly tolerance: number; readonly functionTolerance: number }
): { readonly tolerance: number; readonly functionTolerance: number } => ({
  tolerance: requireNonNegative(operation, "tolerance", options.tolerance ?? defaults.tolerance),
  functionTolerance: requireNonNegative(
    operation,
    "functionTolerance",
    options.functionTolerance ?? defaults.functionTolerance
  )
})

/** The solver verdict of a smooth state. */
export const smoothStatus = (state: SmoothState): "converged" | "stalled" | "diverged" | undefined =>
  state.end

/** The residual of a smooth state: the gradient norm (NaN once diverged). */
export const smoothResidual = (state: SmoothState): number =>
  state.end === "diverged" ? Number.NaN : state.gradientNorm

/** The output record of a smooth state (copies, so later steps cannot change it). */
export const smoothOutput = (state: SmoothState): SolverOutput => ({
  x: Vector.clone(state.x),
  fun: state.value,
  gradient: Vector.clone(state.gradient),
  gradientNorm: state.gradientNorm,
  counts: { ...state.objective.counts },
  ...(state.message === undefined ? {} : { message: state.message })
})

/** Swaps the current point and gradient with the trial buffers (after an accepted step). */
export const acceptTrial = (
  state: SmoothState & { xTrial: Float64Array; gradientTrial: Float64Array },
  value: number
): void => {
  const x = state.x
  state.x = state.xTrial
  state.xTrial = x
  const g = state.gradient
  state.gradient = state.gradientTrial
  state.gradientTrial = g
  state.value = value
  state.gradientNorm = infinityNorm(state.gradient)
}

/** The message of a converged run. */
export const convergedMessage = (
  kind: "gradient" | "decrease",
  state: SmoothState,
  tolerance: number
): string =>
  kind === "gradient"
    ? `gradient norm ${state.gradientNorm.toExponential(2)} ≤ tolerance ${tolerance}`
    : `relative decrease of f ≤ functionTolerance ${tolerance} (gradient norm ${state.gradientNorm.toExponential(2)})`

/**
 * Whether an unconstrained solver takes the step a strong Wolfe search
 * returned: a strong Wolfe step, or a positive step where the search had to
 * stop (interval too small, rounding errors, largest step) that still
 * decreases f sufficiently.
 */
export const acceptableStep = (search: LineSearchResult): boolean =>
  search.termination === "strongWolfe" ||
  (search.satisfiesArmijo &&
    search.step > 0 &&
    (search.termination === "stepAtMaximum" ||
      search.termination === "roundingErrors" ||
      search.termination === "intervalTooSmall"))
