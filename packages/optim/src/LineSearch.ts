/**
 * Line searches: how far to go along a descent direction. Every smooth
 * solver of this package (gradient descent, nonlinear conjugate gradients,
 * L-BFGS, L-BFGS-B) picks its step with one of these, on the restriction of
 * the objective to the search line,
 *
 *   φ(α) = f(x + α·d),   φ'(α) = ∇f(x + α·d)ᵀd,   φ'(0) < 0.
 *
 * Two conditions judge a step α (Nocedal & Wright, Numerical Optimization,
 * 2nd ed., §3.1):
 *
 *   sufficient decrease (Armijo)   φ(α) ≤ φ(0) + c₁·α·φ'(0),
 *   strong curvature               |φ'(α)| ≤ c₂·|φ'(0)|,      0 < c₁ ≤ c₂ < 1.
 *
 * - `backtracking`: the Armijo backtracking search — try α₀, then shrink by a
 *   constant factor until sufficient decrease holds.
 * - `strongWolfe`: the search of J. J. Moré and D. J. Thuente, "Line search
 *   algorithms with guaranteed sufficient decrease", ACM TOMS 20(3), 1994
 *   (written from the paper, "MT" below), which finds a step satisfying
 *   both conditions inside an interval of uncertainty I that it shrinks by
 *   safeguarded cubic, quadratic and secant steps:
 *   - The interval I = [αₗ, αᵤ] (either order) is updated by MT's rules
 *     U1–U3 (§2) on the auxiliary function ψ(α) = φ(α) − φ(0) − c₁·α·φ'(0)
 *     (MT §2), which keep ψ(αₗ) ≤ 0, ψ(αₗ) ≤ ψ(αᵤ) and
 *     ψ'(αₗ)(αᵤ − αₗ) < 0, so that I holds a step of
 *     T(c₁) = {α > 0 : ψ(α) ≤ 0, |φ'(α)| ≤ c₁|φ'(0)|} (MT §2).
 *     Updating on φ keeps ψ(αₗ) ≤ 0 too, except for a trial with
 *     φ(αₜ) ≤ φ(αₗ) but ψ(αₜ) > 0: only there ψ decides (and its values are
 *     interpolated); every other update and trial uses φ. Once a trial has ψ(αₜ) ≤ 0 and
 *     φ'(αₜ) ≥ 0, I holds a minimizer of φ at which ψ ≤ 0, and the search
 *     uses φ alone (MT §3).
 *   - The next trial (MT §4, cases 1–4) comes from a cubic fitted to the
 *     values and slopes at αₗ and αₜ, a quadratic fitted to both values and
 *     the slope at αₗ, or a secant step on the slopes. While no minimizer is
 *     bracketed the trial extrapolates into [αₜ + 1.1·(αₜ − αₗ), αₜ + 4·(αₜ − αₗ)];
 *     once bracketed, a bisection replaces any trial after which |I| would
 *     not have shrunk by the factor 0.66 over two trials.
 *   - With these choices the search reproduces the evaluation counts of all
 *     24 runs of MT's Tables 1–6 (test/line-search.test.ts).
 *
 *   It runs as a reverse-communication state machine (`moreThuenteStart`,
 *   `moreThuenteUpdate`, `moreThuenteReject`), so that a solver can compute
 *   each trial point itself (L-BFGS-B projects it onto its box), and as a
 *   driver (`strongWolfe`) over a `Restriction`.
 *
 * Non-finite values: a trial where φ(α) or φ'(α) is NaN or ±∞ never becomes
 * the result. The search shrinks instead — halfway back to the best step
 * found so far — and never again tries a step at or beyond the failed one;
 * if only non-finite trials remain, it ends with termination `nonFinite`.
 *
 * Both searches report how they ended (`termination`), the number of trials
 * (evaluations of φ), and whether the returned step satisfies each condition,
 * recomputed from the returned values. A search that fails (`maxTrials`,
 * `nonFinite`, `notDescent`, or a Moré–Thuente warning without sufficient
 * decrease) is what makes a solver report status `stalled`.
 *
 * @since 0.1.0
 */
import { Blas1, type Objective } from "@descent/core"
import { invalid } from "./internal/validate.ts"

/**
 * φ(α) and φ'(α) at one trial step.
 *
 * @category models
 * @since 0.1.0
 */
export interface Trial {
  readonly value: number
  readonly derivative: number
}

/**
 * The restriction of an objective to a line: α ↦ (φ(α), φ'(α)).
 *
 * @category models
 * @since 0.1.0
 */
export type Restriction = (step: number) => Trial

/**
 * How a line search ended.
 * - `armijo`: sufficient decrease holds (backtracking's success).
 * - `strongWolfe`: sufficient decrease and strong curvature hold (Moré–Thuente's success).
 * - `stepAtMaximum`: α reached the largest allowed step with sufficient
 *   decrease and φ still decreasing (Moré–Thuente warning; bound-constrained
 *   solvers accept it — the step to the boundary).
 * - `stepAtMinimum`: α reached the smallest allowed step (warning).
 * - `roundingErrors`: rounding errors prevent progress (warning).
 * - `intervalTooSmall`: the bracketing interval is below the relative
 *   tolerance (warning).
 * - `maxTrials`: the trial budget ran out.
 * - `nonFinite`: φ was NaN or ±∞ at every remaining trial.
 * - `notDescent`: φ'(0) ≥ 0 (or non-finite): no descent along d.
 *
 * @category models
 * @since 0.1.0
 */
export type Termination =
  | "armijo"
  | "strongWolfe"
  | "stepAtMaximum"
  | "stepAtMinimum"
  | "roundingErrors"
  | "intervalTooSmall"
  | "maxTrials"
  | "nonFinite"
  | "notDescent"

/**
 * What a line search returns. `value` and `derivative` are φ and φ' at
 * `step` (the last trial evaluated); `satisfiesArmijo` and
 * `satisfiesCurvature` are recomputed from them with the search's constants
 * (`satisfiesCurvature` is the strong form |φ'(α)| ≤ c₂|φ'(0)|; always false
 * for `backtracking`, which has no curvature condition).
 *
 * @category models
 * @since 0.1.0
 */
export interface LineSearchResult {
  readonly step: number
  readonly value: number
  readonly derivative: number
  readonly trials: number
  readonly termination: Termination
  readonly satisfiesArmijo: boolean
  readonly satisfiesCurvature: boolean
}

/**
 * Whether φ(α) ≤ φ(0) + c₁·α·φ'(0) (false for a non-finite φ(α)).
 *
 * @category evaluators
 * @since 0.1.0
 */
export const armijo = (
  value0: number,
  derivative0: number,
  step: number,
  value: number,
  sufficientDecrease: number
): boolean => Number.isFinite(value) && value <= value0 + sufficientDecrease * step * derivative0

/**
 * Whether |φ'(α)| ≤ c₂·|φ'(0)| (false for a non-finite φ'(α)).
 *
 * @category evaluators
 * @since 0.1.0
 */
export const strongCurvature = (derivative0: number, derivative: number, curvature: number): boolean =>
  Number.isFinite(derivative) && Math.abs(derivative) <= curvature * Math.abs(derivative0)

/**
 * The restriction φ(α) = f(x + α·d) of `objective`: each call writes the
 * trial point x + α·d into `xTrial` and ∇f there into `gradientTrial`, so
 * after a search ends the buffers hold the point of the returned step.
 *
 * @category constructors
 * @since 0.1.0
 */
export const restriction =
  (
    objective: Objective.Objective,
    x: Float64Array,
    direction: Float64Array,
    xTrial: Float64Array,
    gradientTrial: Float64Array
  ): Restriction =>
  (step) => {
    Blas1.copy(x, xTrial)
    Blas1.axpy(step, direction, xTrial)
    const value = objective.valueAndGradient(xTrial, gradientTrial)
    return { value, derivative: Blas1.dot(gradientTrial, direction) }
  }

/** A line-search result from its last trial, with the conditions recomputed. */
const result = (
  value0: number,
  derivative0: number,
  step: number,
  value: number,
  derivative: number,
  trials: number,
  termination: Termination,
  sufficientDecrease: number,
  curvature: number | undefined
): LineSearchResult => ({
  step,
  value,
  derivative,
  trials,
  termination,
  satisfiesArmijo: armijo(value0, derivative0, step, value, sufficientDecrease),
  satisfiesCurvature: curvature === undefined ? false : strongCurvature(derivative0, derivative, curvature)
})

const notDescent = (
  value0: number,
  derivative0: number,
  sufficientDecrease: number,
  curvature: number | undefined
): LineSearchResult =>
  result(value0, derivative0, 0, value0, derivative0, 0, "notDescent", sufficientDecrease, curvature)

/** Whether φ'(0) is a finite negative slope at a finite φ(0). */
const isDescent = (value0: number, derivative0: number): boolean =>
  Number.isFinite(value0) && Number.isFinite(derivative0) && derivative0 < 0

// ---------------------------------------------------------------------------
// Option checks

const requireOpenUnit = (operation: string, field: string, value: number): number => {
  if (typeof value !== "number" || !(value > 0 && value < 1))
    throw invalid(operation, field, value, "a number in (0, 1)")
  return value
}

const requirePositiveStep = (operation: string, field: string, value: number): number => {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0)
    throw invalid(operation, field, value, "a finite number > 0")
  return value
}

const requireTrials = (operation: string, value: number): number => {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1)
    throw invalid(operation, "maxTrials", value, "an integer ≥ 1")
  return value
}

// ---------------------------------------------------------------------------
// Backtracking

/**
 * Options of `backtracking`.
 *
 * @category models
 * @since 0.1.0
 */
export interface BacktrackingOptions {
  /** The first trial step α₀ > 0. Default 1. */
  readonly initialStep?: number
  /** c₁ ∈ (0, 1) of the sufficient-decrease condition. Default 1e-4. */
  readonly sufficientDecrease?: number
  /** The factor ρ ∈ (0, 1) a rejected step is multiplied by. Default 0.5. */
  readonly shrink?: number
  /** The trial budget (an integer ≥ 1). Default 30. */
  readonly maxTrials?: number
}

/**
 * Defaults of `BacktrackingOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultBacktrackingOptions = {
  initialStep: 1,
  sufficientDecrease: 1e-4,
  shrink: 0.5,
  maxTrials: 30
} as const

/**
 * Checked backtracking options with defaults filled in.
 *
 * @throws InvalidOptions for an out-of-range field.
 * @category constructors
 * @since 0.1.0
 */
export const backtrackingOptions = (
  operation: string,
  options: BacktrackingOptions = {}
): Required<BacktrackingOptions> => {
  const d = defaultBacktrackingOptions
  return {
    initialStep: requirePositiveStep(operation, "initialStep", options.initialStep ?? d.initialStep),
    sufficientDecrease: requireOpenUnit(
      operation,
      "sufficientDecrease",
      options.sufficientDecrease ?? d.sufficientDecrease
    ),
    shrink: requireOpenUnit(operation, "shrink", options.shrink ?? d.shrink),
    maxTrials: requireTrials(operation, options.maxTrials ?? d.maxTrials)
  }
}

/**
 * Backtracking (Armijo) line search: α = α₀, ρα₀, ρ²α₀, … until
 * φ(α) ≤ φ(0) + c₁αφ'(0) (Nocedal & Wright, Algorithm 3.1). A non-finite
 * φ(α) or φ'(α) is rejected like an insufficient decrease. Ends `armijo`,
 * or `maxTrials` / `nonFinite` (the last trial's values are returned;
 * `nonFinite` when that trial was not finite), or `notDescent` without
 * evaluating φ when φ'(0) is not negative.
 *
 * @throws InvalidOptions for an out-of-range option.
 * @category line searches
 * @since 0.1.0
 */
export const backtracking = (
  phi: Restriction,
  value0: number,
  derivative0: number,
  options: BacktrackingOptions = {}
): LineSearchResult =>
  backtrackingWith(phi, value0, derivative0, backtrackingOptions("backtracking", options))

/**
 * `backtracking` with options already checked by `backtrackingOptions` (no
 * validation per call: for a solver that searches every iteration).
 *
 * @category line searches
 * @since 0.1.0
 */
export const backtrackingWith = (
  phi: Restriction,
  value0: number,
  derivative0: number,
  o: Required<BacktrackingOptions>
): LineSearchResult => {
  const c1 = o.sufficientDecrease
  if (!isDescent(value0, derivative0)) return notDescent(value0, derivative0, c1, undefined)
  let step = o.initialStep
  let trial: Trial = { value: Number.NaN, derivative: Number.NaN }
  for (let k = 1; k <= o.maxTrials; k++) {
    trial = phi(step)
    const finite = Number.isFinite(trial.value) && Number.isFinite(trial.derivative)
    if (finite && armijo(value0, derivative0, step, trial.value, c1)) {
      return result(value0, derivative0, step, trial.value, trial.derivative, k, "armijo", c1, undefined)
    }
    if (k < o.maxTrials) step *= o.shrink
  }
  const finite = Number.isFinite(trial.value) && Number.isFinite(trial.derivative)
  return result(
    value0,
    derivative0,
    step,
    trial.value,
    trial.derivative,
    o.maxTrials,
    finite ? "maxTrials" : "nonFinite",
    c1,
    undefined
  )
}

// ---------------------------------------------------------------------------
// Moré–Thuente

/**
 * Options of the Moré–Thuente search.
 *
 * @category models
 * @since 0.1.0
 */
export interface MoreThuenteOptions {
  /** c₁ (MT's μ) ∈ (0, 1). Default 1e-3 (the constant L-BFGS-B uses). */
  readonly sufficientDecrease?: number
  /** c₂ (MT's η) ∈ [c₁, 1). Default 0.9 (the constant L-BFGS-B uses). */
  readonly curvature?: number
  /** Relative width below which the bracketing interval ends the search (≥ 0). Default 0.1. */
  readonly intervalTolerance?: number
  /** The smallest step α_min (≥ 0). Default 0. */
  readonly minStep?: number
  /** The largest step α_max (≥ minStep, > 0). Default 1e10. */
  readonly maxStep?: number
}

/**
 * Defaults of `MoreThuenteOptions` (the constants L-BFGS-B's line search uses).
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultMoreThuenteOptions = {
  sufficientDecrease: 1e-3,
  curvature: 0.9,
  intervalTolerance: 0.1,
  minStep: 0,
  maxStep: 1e10
} as const

/**
 * The state of a Moré–Thuente search between two evaluations of φ. When
 * `task` is `"evaluate"`, the caller evaluates φ and φ' at `step` and passes
 * them to `moreThuenteUpdate` (or, if either is NaN or ±∞, calls
 * `moreThuenteReject`); otherwise the search has ended at `step` with
 * `termination` (`"converged"` for a strong Wolfe step, `"warning"` for any
 * other end), and the step's values are the last ones passed.
 *
 * The interval of uncertainty I has the endpoints `best` = αₗ (the trial
 * with the least ψ, or φ once `auxiliary` is false) and `other` = αᵤ, with
 * φ and φ' stored at both; `bracketed` says whether I is bounded (αᵤ an
 * evaluated step) or still [αₗ, ∞). `rangeLow`, `rangeHigh` bound the
 * current trial, and `width`, `previousWidth` are the last two lengths of a
 * bracketing I (the bisection safeguard).
 *
 * @category models
 * @since 0.1.0
 */
export interface MoreThuenteState {
  readonly task: "evaluate" | "converged" | "warning"
  readonly termination: Termination | undefined
  readonly step: number
  readonly trials: number
  readonly sufficientDecrease: number
  readonly curvature: number
  readonly intervalTolerance: number
  readonly minStep: number
  readonly maxStep: number
  /** φ(0) and φ'(0). */
  readonly value0: number
  readonly derivative0: number
  /** Whether the search still works on ψ (MT §2) rather than φ (MT §3). */
  readonly auxiliary: boolean
  readonly bracketed: boolean
  readonly best: number
  readonly bestValue: number
  readonly bestDerivative: number
  readonly other: number
  readonly otherValue: number
  readonly otherDerivative: number
  readonly rangeLow: number
  readonly rangeHigh: number
  readonly width: number
  readonly previousWidth: number
}

/**
 * Checked Moré–Thuente options with defaults filled in.
 *
 * @throws InvalidOptions for an out-of-range field.
 * @category constructors
 * @since 0.1.0
 */
export const moreThuenteOptions = (
  operation: string,
  options: MoreThuenteOptions = {}
): Required<MoreThuenteOptions> => {
  const d = defaultMoreThuenteOptions
  const sufficientDecrease = requireOpenUnit(
    operation,
    "sufficientDecrease",
    options.sufficientDecrease ?? d.sufficientDecrease
  )
  const curvature = options.curvature ?? d.curvature
  if (typeof curvature !== "number" || !(curvature >= sufficientDecrease && curvature < 1))
    throw invalid(
      operation,
      "curvature",
      curvature,
      `a number in [sufficientDecrease = ${sufficientDecrease}, 1)`
    )
  const intervalTolerance = options.intervalTolerance ?? d.intervalTolerance
  if (typeof intervalTolerance !== "number" || !Number.isFinite(intervalTolerance) || intervalTolerance < 0)
    throw invalid(operation, "intervalTolerance", intervalTolerance, "a finite number ≥ 0")
  const minStep = options.minStep ?? d.minStep
  if (typeof minStep !== "number" || !Number.isFinite(minStep) || minStep < 0)
    throw invalid(operation, "minStep", minStep, "a finite number ≥ 0")
  const maxStep = options.maxStep ?? d.maxStep
  if (typeof maxStep !== "number" || Number.isNaN(maxStep) || maxStep <= 0 || maxStep < minStep)
    throw invalid(operation, "maxStep", maxStep, `a number > 0 and ≥ minStep = ${minStep}`)
  return { sufficientDecrease, curvature, intervalTolerance, minStep, maxStep }
}

/** The extrapolation range of an unbracketed search: [αₜ + 1.1Δ, αₜ + 4Δ], Δ = αₜ − αₗ. */
const EXTRAPOLATE_LOW = 1.1
const EXTRAPOLATE_HIGH = 4
/** MT §4's δ: |I| must shrink by this factor every two trials, else bisect. */
const SHRINK = 0.66

/**
 * Starts a Moré–Thuente search from φ(0) = `value0`, φ'(0) = `derivative0`
 * (< 0) with first trial `step` ∈ [minStep, maxStep]: I₀ = [0, ∞). The
 * options must be checked (`moreThuenteOptions`).
 *
 * @throws InvalidOptions when φ'(0) is not negative and finite, or `step` is outside [minStep, maxStep].
 * @category line searches
 * @since 0.1.0
 */
export const moreThuenteStart = (
  value0: number,
  derivative0: number,
  step: number,
  options: Required<MoreThuenteOptions>
): MoreThuenteState => {
  if (!isDescent(value0, derivative0))
    throw invalid(
      "moreThuenteStart",
      "derivative0",
      derivative0,
      "a finite negative slope at a finite value0"
    )
  if (!(step >= options.minStep && step <= options.maxStep))
    throw invalid("moreThuenteStart", "step", step, `a number in [${options.minStep}, ${options.maxStep}]`)
  const width = options.maxStep - options.minStep
  return {
    task: "evaluate",
    termination: undefined,
    step,
    trials: 0,
    ...options,
    value0,
    derivative0,
    auxiliary: true,
    bracketed: false,
    best: 0,
    bestValue: value0,
    bestDerivative: derivative0,
    other: 0,
    otherValue: value0,
    otherDerivative: derivative0,
    rangeLow: 0,
    rangeHigh: step + EXTRAPOLATE_HIGH * step,
    width,
    previousWidth: 2 * width
  }
}

/**
 * The minimizer of the cubic with values fa, fb and slopes ga, gb at a ≠ b
 * (Nocedal & Wright eq. 3.59), or NaN when the cubic has no local
 * minimizer. The radicand is scaled by the largest of |d₁|, |ga|, |gb|
 * against overflow.
 */
const cubicMinimizer = (a: number, fa: number, ga: number, b: number, fb: number, gb: number): number => {
  const d1 = ga + gb - (3 * (fa - fb)) / (a - b)
  const scale = Math.max(Math.abs(d1), Math.abs(ga), Math.abs(gb))
  if (scale === 0) return Number.NaN
  const radicand = (d1 / scale) * (d1 / scale) - (ga / scale) * (gb / scale)
  if (!(radicand >= 0)) return Number.NaN
  const d2 = Math.sign(b - a) * scale * Math.sqrt(radicand)
  const denominator = gb - ga + 2 * d2
  if (denominator === 0) return Number.NaN
  return b - ((b - a) * (gb + d2 - d1)) / denominator
}

/** The minimizer of the quadratic with value fa and slope ga at a and value fb at b. */
const quadraticMinimizer = (a: number, fa: number, ga: number, b: number, fb: number): number =>
  a + (ga * (b - a) * (b - a)) / (2 * (fa - fb + ga * (b - a)))

/** The zero of the line through the slopes ga at a and gb at b (the secant step). */
const secantStep = (a: number, ga: number, b: number, gb: number): number => b - (gb * (b - a)) / (gb - ga)

const ended = (
  s: MoreThuenteState,
  trials: number,
  task: "converged" | "warning",
  termination: Termination
): MoreThuenteState => ({ ...s, trials, task, termination })

/**
 * Takes φ(α), φ'(α) at `state.step` (both finite): tests for a strong Wolfe
 * step and for the ends where the search must stop, then updates the
 * interval (MT §2 cases U1–U3, on ψ or, after the switch of MT §3, on φ)
 * and chooses the next trial (MT §4 cases 1–4, safeguarded).
 *
 * @category line searches
 * @since 0.1.0
 */
export const moreThuenteUpdate = (
  state: MoreThuenteState,
  value: number,
  derivative: number
): MoreThuenteState => {
  const s = state
  if (s.task !== "evaluate") return s
  const trials = s.trials + 1
  const t = s.step
  const mu = s.sufficientDecrease
  const phi0 = s.value0
  const slope0 = s.derivative0
  // ψ(α) = φ(α) − φ(0) − μαφ'(0), ψ'(α) = φ'(α) − μφ'(0) (MT §2).
  const psi = value - phi0 - mu * t * slope0
  const psiSlope = derivative - mu * slope0
  // Sufficient decrease and strong curvature: the search's goal (MT §1).
  if (psi <= 0 && Math.abs(derivative) <= s.curvature * -slope0)
    return ended(s, trials, "converged", "strongWolfe")
  // The ends of MT §2: α_max with ψ ≤ 0 and ψ' < 0, α_min with ψ > 0 or ψ' ≥ 0.
  if (t === s.maxStep && psi <= 0 && psiSlope < 0) return ended(s, trials, "warning", "stepAtMaximum")
  if (t === s.minStep && (psi > 0 || psiSlope >= 0)) return ended(s, trials, "warning", "stepAtMinimum")
  if (s.bracketed) {
    // The trial was chosen inside a bracket already below the relative tolerance,
    // or rounding left no step strictly inside it.
    if (s.rangeHigh - s.rangeLow <= s.intervalTolerance * s.rangeHigh)
      return ended(s, trials, "warning", "intervalTooSmall")
    if (t <= s.rangeLow || t >= s.rangeHigh) return ended(s, trials, "warning", "roundingErrors")
  }
  // MT §3: once ψ(αₜ) ≤ 0 and φ'(αₜ) ≥ 0, I holds a minimizer of φ with
  // ψ ≤ 0 there; from then on φ alone drives the update and the trial choice.
  const auxiliary = s.auxiliary && !(psi <= 0 && derivative >= 0)
  // Before that, ψ decides only where φ would make αₜ the new αₗ although
  // ψ(αₜ) > 0 (breaking ψ(αₗ) ≤ 0); elsewhere updating on φ keeps it too.
  const onPsi = auxiliary && value <= s.bestValue && psi > 0
  const shift = (alpha: number): number => (onPsi ? phi0 + mu * alpha * slope0 : 0)
  const gShift = onPsi ? mu * slope0 : 0
  const al = s.best
  const fl = s.bestValue - shift(al)
  const gl = s.bestDerivative - gShift
  const au = s.other
  const fu = s.otherValue - shift(au)
  const gu = s.otherDerivative - gShift
  const ft = value - shift(t)
  const gt = derivative - gShift

  // The range the next trial may take when I is not bracketed (extrapolation).
  const extrapolateLow = t + EXTRAPOLATE_LOW * (t - al)
  const extrapolateHigh = t + EXTRAPOLATE_HIGH * (t - al)

  let next: number
  let bracketed = s.bracketed
  let best = al
  let bestValue = s.bestValue
  let bestDerivative = s.bestDerivative
  let other = au
  let otherValue = s.otherValue
  let otherDerivative = s.otherDerivative
  if (ft > fl) {
    // Case 1 (update U1: αᵤ ← αₜ): the minimizer lies between αₗ and αₜ,
    // nearer αₗ. The cubic step if it is nearer αₗ than the quadratic step,
    // else their mean.
    const cubic = cubicMinimizer(al, fl, gl, t, ft, gt)
    const quadratic = quadraticMinimizer(al, fl, gl, t, ft)
    next =
      Number.isFinite(cubic) && Math.abs(cubic - al) < Math.abs(quadratic - al)
        ? cubic
        : 0.5 * (quadratic + cubic)
    if (!Number.isFinite(next)) next = Number.isFinite(quadratic) ? quadratic : 0.5 * (al + t)
    bracketed = true
    other = t
    otherValue = value
    otherDerivative = derivative
  } else {
    if (gt * gl < 0) {
      // Case 2 (update U3: αᵤ ← αₗ, αₗ ← αₜ): the slopes change sign between
      // αₗ and αₜ. The cubic step if it is farther from αₜ than the secant step.
      const cubic = cubicMinimizer(al, fl, gl, t, ft, gt)
      const secant = secantStep(al, gl, t, gt)
      next = Number.isFinite(cubic) && Math.abs(cubic - t) >= Math.abs(secant - t) ? cubic : secant
      bracketed = true
      other = al
      otherValue = s.bestValue
      otherDerivative = s.bestDerivative
    } else if (Math.abs(gt) <= Math.abs(gl)) {
      // Case 3 (update U2: αₗ ← αₜ): same signs, the slope decreases in
      // magnitude. The cubic step is used only when the cubic has its
      // minimizer beyond αₜ; otherwise it is the end of the range in the
      // direction of the step.
      const forward = t > al
      let cubic = cubicMinimizer(al, fl, gl, t, ft, gt)
      if (!(Number.isFinite(cubic) && (cubic - t) * (t - al) > 0)) {
        cubic = bracketed ? au : forward ? extrapolateHigh : extrapolateLow
      }
      const secant = secantStep(al, gl, t, gt)
      if (bracketed) {
        // The step nearer αₜ, kept within 0.66 of the way to αᵤ.
        next = Math.abs(cubic - t) < Math.abs(secant - t) ? cubic : secant
        const limit = t + SHRINK * (au - t)
        next = t > al ? Math.min(limit, next) : Math.max(limit, next)
      } else {
        // Extrapolation: the step farther from αₜ, within the range.
        next = Math.abs(cubic - t) > Math.abs(secant - t) ? cubic : secant
        if (!Number.isFinite(next)) next = extrapolateHigh
        next = Math.min(Math.max(next, extrapolateLow), extrapolateHigh)
      }
    } else {
      // Case 4 (update U2): the slope does not decrease in magnitude. The
      // cubic fitted at αₜ and αᵤ when bracketed, else the end of the range.
      if (bracketed) {
        next = cubicMinimizer(t, ft, gt, au, fu, gu)
        if (!Number.isFinite(next)) next = 0.5 * (t + au)
      } else {
        next = t > al ? extrapolateHigh : extrapolateLow
      }
    }
    best = t
    bestValue = value
    bestDerivative = derivative
  }

  // A degenerate fit (equal slopes, a vanishing denominator): bisect, or extrapolate.
  if (!Number.isFinite(next)) next = bracketed ? best + 0.5 * (other - best) : extrapolateHigh
  let rangeLow: number
  let rangeHigh: number
  let width = s.width
  let previousWidth = s.previousWidth
  if (bracketed) {
    rangeLow = Math.min(best, other)
    rangeHigh = Math.max(best, other)
    const length = rangeHigh - rangeLow
    // MT §4: bisect when |I| has not shrunk by δ = 0.66 over two trials.
    if (length >= SHRINK * previousWidth) next = best + 0.5 * (other - best)
    previousWidth = width
    width = length
    next = Math.min(Math.max(next, rangeLow), rangeHigh)
  } else {
    rangeLow = extrapolateLow
    rangeHigh = extrapolateHigh
  }
  next = Math.min(Math.max(next, s.minStep), s.maxStep)
  return {
    ...s,
    task: "evaluate",
    step: next,
    trials,
    auxiliary,
    bracketed,
    best,
    bestValue,
    bestDerivative,
    other,
    otherValue,
    otherDerivative,
    rangeLow,
    rangeHigh,
    width,
    previousWidth
  }
}

/**
 * Handles a trial where φ(α) or φ'(α) is NaN or ±∞ (outside MT's
 * algorithm): the largest allowed step becomes the midpoint between the best
 * step αₗ and the failed one, and the next trial is that midpoint, so no
 * step at or beyond a failed one is tried again. Ends the search with
 * `nonFinite` when the midpoint no longer differs from αₗ, or when the
 * failed step lies below αₗ (φ finite further out but not nearer: nothing
 * to shrink towards).
 *
 * @category line searches
 * @since 0.1.0
 */
export const moreThuenteReject = (state: MoreThuenteState): MoreThuenteState => {
  const s = state
  if (s.task !== "evaluate") return s
  const trials = s.trials + 1
  const t = s.step
  const mid = s.best + 0.5 * (t - s.best)
  if (!(t > s.best) || mid <= s.best || mid >= t) return ended(s, trials, "warning", "nonFinite")
  const maxStep = Math.max(mid, s.minStep)
  if (maxStep >= t) return ended(s, trials, "warning", "nonFinite")
  // A bracket [αₗ, αᵤ] with αᵤ beyond the failed step still holds the midpoint
  // strictly inside; without one, the range for the next trial ends there.
  return {
    ...s,
    trials,
    step: maxStep,
    maxStep,
    rangeLow: s.bracketed ? Math.min(s.best, s.other) : s.best,
    rangeHigh: s.bracketed ? Math.max(s.best, s.other) : maxStep
  }
}

/**
 * Options of `strongWolfe`: the Moré–Thuente constants, the first trial
 * step and the trial budget.
 *
 * @category models
 * @since 0.1.0
 */
export interface StrongWolfeOptions extends MoreThuenteOptions {
  /** The first trial step (clamped into [minStep, maxStep]). Default 1. */
  readonly initialStep?: number
  /** The trial budget (an integer ≥ 1). Default 20 (L-BFGS-B's). */
  readonly maxTrials?: number
}

/**
 * Checked `strongWolfe` options with defaults filled in.
 *
 * @throws InvalidOptions for an out-of-range field.
 * @category constructors
 * @since 0.1.0
 */
export const strongWolfeOptions = (
  operation: string,
  options: StrongWolfeOptions = {}
): Required<StrongWolfeOptions> => ({
  ...moreThuenteOptions(operation, options),
  initialStep: requirePositiveStep(operation, "initialStep", options.initialStep ?? 1),
  maxTrials: requireTrials(operation, options.maxTrials ?? 20)
})

/**
 * The Moré–Thuente line search run on φ: returns a step with sufficient
 * decrease and strong curvature (`strongWolfe`), or a step at which the
 * search had to stop (a warning: `stepAtMaximum`, `stepAtMinimum`,
 * `roundingErrors`, `intervalTooSmall`), or a failure (`maxTrials`,
 * `nonFinite`, `notDescent`). Non-finite trials shrink the step
 * (`moreThuenteReject`). The returned step is always the last trial
 * evaluated (for `nonFinite` that trial's non-finite values), except for
 * `notDescent` (no trial, step 0).
 *
 * @throws InvalidOptions for an out-of-range option.
 * @category line searches
 * @since 0.1.0
 */
export const strongWolfe = (
  phi: Restriction,
  value0: number,
  derivative0: number,
  options: StrongWolfeOptions = {}
): LineSearchResult => strongWolfeWith(phi, value0, derivative0, strongWolfeOptions("strongWolfe", options))

/**
 * `strongWolfe` with options already checked by `strongWolfeOptions` (no
 * validation per call: for a solver that searches every iteration).
 *
 * @category line searches
 * @since 0.1.0
 */
export const strongWolfeWith = (
  phi: Restriction,
  value0: number,
  derivative0: number,
  o: Required<StrongWolfeOptions>
): LineSearchResult => {
  const { sufficientDecrease: c1, curvature: c2 } = o
  if (!isDescent(value0, derivative0)) return notDescent(value0, derivative0, c1, c2)
  const first = Math.min(Math.max(o.initialStep, o.minStep), o.maxStep)
  let s = moreThuenteStart(value0, derivative0, first, o)
  let step = first
  let trial: Trial = { value: Number.NaN, derivative: Number.NaN }
  let finite = false
  while (s.task === "evaluate" && s.trials < o.maxTrials) {
    step = s.step
    trial = phi(step)
    finite = Number.isFinite(trial.value) && Number.isFinite(trial.derivative)
    s = finite ? moreThuenteUpdate(s, trial.value, trial.derivative) : moreThuenteReject(s)
  }
  const termination: Termination = s.termination ?? (finite ? "maxTrials" : "nonFinite")
  return result(value0, derivative0, step, trial.value, trial.derivative, s.trials, termination, c1, c2)
}
