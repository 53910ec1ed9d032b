/**
 * A backtracking Armijo line search (Nocedal & Wright, *Numerical
 * Optimization*, 2nd ed., Alg. 3.1 with the safeguarded quadratic
 * interpolation of §3.5): from α = initialStep, accept the first α with
 *
 *   f(x + α·d) ≤ f(x) + c₁·α·∇f(x)ᵀd + ε_f,   ε_f = 100·ε·|f(x)|,
 *
 * where ε_f absorbs the rounding error of evaluating f (a sum of many terms):
 * once the decrease a step can make is below that level (near a minimizer,
 * ‖∇f‖² ≲ ε·|f|), the exact test compares rounding noise and backtracks to a
 * vanishing step although the step still reduces the gradient (Hager & Zhang,
 * *SIAM J. Optim.* 16 (2005), make the same relaxation in their approximate
 * Wolfe conditions). Far from the floor the relaxation changes nothing.
 *
 * else replace α by the minimizer of the quadratic interpolating f(x),
 * ∇f(x)ᵀd and f(x + α·d), kept in [0.1·α, 0.5·α]. A trial value of +∞ (outside
 * the objective's domain) halves α; a trial NaN or −∞ ends the search as
 * `nonFinite` (the caller reports `diverged`). At most `maxTrials` trials.
 *
 * Used by NewtonCg; writes the accepted point and its gradient into the
 * caller's buffers and returns the outcome in a reusable record.
 */
import { Blas1, type Objective } from "@descent/core"

/** ε_f / |f(x)|: a hundred units of rounding of the objective's value. */
const FUNCTION_NOISE = 100 * Number.EPSILON

/** What a line search ended with. */
export interface ArmijoOutcome {
  /** "accepted", "failed" (no acceptable step within maxTrials) or "nonFinite". */
  kind: "accepted" | "failed" | "nonFinite"
  /** The accepted step (or the last trial). */
  step: number
  /** f at the accepted point (or the last trial value). */
  value: number
  /** Trials performed (each one `valueAndGradient` call). */
  trials: number
}

/** A fresh outcome record to reuse across calls. */
export const makeOutcome = (): ArmijoOutcome => ({ kind: "failed", step: 0, value: 0, trials: 0 })

/** Parameters of the search. */
export interface ArmijoParameters {
  readonly initialStep: number
  /** c₁ in (0, 1). */
  readonly sufficientDecrease: number
  readonly maxTrials: number
}

/**
 * Searches along `direction` from `x` (f(x) = `value`, slope ∇f(x)ᵀd < 0),
 * writing the trial point into `xTrial` and its gradient into
 * `gradientTrial`; on acceptance they hold the new point.
 */
export const armijo = (
  objective: Objective.Objective,
  x: Float64Array,
  value: number,
  slope: number,
  direction: Float64Array,
  xTrial: Float64Array,
  gradientTrial: Float64Array,
  parameters: ArmijoParameters,
  outcome: ArmijoOutcome
): ArmijoOutcome => {
  let step = parameters.initialStep
  const noise = FUNCTION_NOISE * Math.abs(value)
  outcome.kind = "failed"
  outcome.trials = 0
  for (let trial = 0; trial < parameters.maxTrials; trial++) {
    Blas1.copy(x, xTrial)
    Blas1.axpy(step, direction, xTrial)
    const f = objective.valueAndGradient(xTrial, gradientTrial)
    outcome.trials = trial + 1
    outcome.step = step
    outcome.value = f
    if (Number.isNaN(f) || f === Number.NEGATIVE_INFINITY) {
      outcome.kind = "nonFinite"
      return outcome
    }
    if (f <= value + parameters.sufficientDecrease * step * slope + noise) {
      outcome.kind = "accepted"
      return outcome
    }
    if (f === Number.POSITIVE_INFINITY) {
      step *= 0.5
      continue
    }
    // Minimizer of q(t) = value + slope·t + a·t² through q(step) = f.
    const curvature = f - value - slope * step
    const next = curvature > 0 ? (-slope * step * step) / (2 * curvature) : 0.5 * step
    step = Math.min(Math.max(next, 0.1 * step), 0.5 * step)
  }
  return outcome
}
