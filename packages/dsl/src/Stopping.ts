/**
 * When a cell stops: stopping rules as plain, serializable data that compose.
 *
 * A rule is checked by the runner at every check point of a cell (every
 * `sampling.checkEvery` iterations, and at every trace sample) on the cell's
 * iteration count, its solver time and the metrics the rule names:
 *
 * | rule | holds when | cell status |
 * | --- | --- | --- |
 * | `maxIterations(n)` | iterations ≥ n | `maxIterations` |
 * | `tolerance(metric, ε)` | metric ≤ ε (e.g. `gradientNorm` ≤ 1e-6) | `converged` |
 * | `targetObjective(f)` | objective ≤ f | `converged` |
 * | `timeBudget(ms)` | solver time ≥ ms (checked between step chunks) | `timeout` |
 * | `sufficientProgress({ metric, window, relativeDecrease })` | over the last `window` iterations the metric fell by less than `relativeDecrease`·max(\|old\|, 1) | `stalled` |
 * | `anyOf(r₁, …)` | some rᵢ holds (the first in order decides the status) | rᵢ's |
 * | `allOf(r₁, …)` | every rᵢ holds at the same check | r₁'s |
 *
 * Independently of the rules, a cell also ends when its solver says so
 * (converged, stalled) or diverges. A rule must bound the run — hold after
 * finitely many iterations or a finite time whatever the metrics do —, which
 * {@link isBounded} checks and experiment decoding enforces.
 *
 * Metric names are those of the evaluators (`objective`, `suboptimality`,
 * `gradientNorm`, `constraintViolation`, …) and the solver's own metrics
 * under `solver.` (e.g. `solver.pairs`).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const NonNegativeFinite = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))

/**
 * Stop after `iterations` iterations (a cell's total, or a pipeline stage's own).
 *
 * @category models
 * @since 0.1.0
 */
export interface MaxIterations {
  readonly _tag: "MaxIterations"
  readonly iterations: number
}

/**
 * Stop (converged) once `metric` ≤ `tolerance`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Tolerance {
  readonly _tag: "Tolerance"
  readonly metric: string
  readonly tolerance: number
}

/**
 * Stop (timeout) once the solver has run for `milliseconds` (time in `step`, not in evaluators).
 *
 * @category models
 * @since 0.1.0
 */
export interface TimeBudget {
  readonly _tag: "TimeBudget"
  readonly milliseconds: number
}

/**
 * Stop (converged) once the objective is ≤ `target`.
 *
 * @category models
 * @since 0.1.0
 */
export interface TargetObjective {
  readonly _tag: "TargetObjective"
  readonly target: number
}

/**
 * Stop (stalled) when `metric` decreased by less than
 * `relativeDecrease`·max(|m_old|, 1) over the last `window` iterations, m_old
 * being its value at the last check at least `window` iterations back.
 *
 * @category models
 * @since 0.1.0
 */
export interface SufficientProgress {
  readonly _tag: "SufficientProgress"
  readonly metric: string
  readonly window: number
  readonly relativeDecrease: number
}

/**
 * Stop when any rule holds; the first that holds (in order) gives the status.
 *
 * @category models
 * @since 0.1.0
 */
export interface AnyOf {
  readonly _tag: "AnyOf"
  readonly rules: ReadonlyArray<StoppingRule>
}

/**
 * Stop when every rule holds at the same check; the first rule gives the status.
 *
 * @category models
 * @since 0.1.0
 */
export interface AllOf {
  readonly _tag: "AllOf"
  readonly rules: ReadonlyArray<StoppingRule>
}

/**
 * A stopping rule.
 *
 * @category models
 * @since 0.1.0
 */
export type StoppingRule =
  | MaxIterations
  | Tolerance
  | TimeBudget
  | TargetObjective
  | SufficientProgress
  | AnyOf
  | AllOf

/**
 * The Schema of stopping rules (their JSON form is the value itself).
 *
 * @category schemas
 * @since 0.1.0
 */
export const StoppingRule: Schema.Codec<StoppingRule> = Schema.Union([
  Schema.TaggedStruct("MaxIterations", { iterations: NonNegativeInt }),
  Schema.TaggedStruct("Tolerance", { metric: Schema.NonEmptyString, tolerance: Schema.Finite }),
  Schema.TaggedStruct("TimeBudget", {
    milliseconds: Schema.Finite.check(Schema.isGreaterThan(0))
  }),
  Schema.TaggedStruct("TargetObjective", { target: Schema.Finite }),
  Schema.TaggedStruct("SufficientProgress", {
    metric: Schema.NonEmptyString,
    window: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
    relativeDecrease: NonNegativeFinite
  }),
  Schema.TaggedStruct("AnyOf", {
    rules: Schema.Array(Schema.suspend((): Schema.Codec<StoppingRule> => StoppingRule)).check(
      Schema.isMinLength(1)
    )
  }),
  Schema.TaggedStruct("AllOf", {
    rules: Schema.Array(Schema.suspend((): Schema.Codec<StoppingRule> => StoppingRule)).check(
      Schema.isMinLength(1)
    )
  })
])

/**
 * `maxIterations(n)`: stop after n iterations (n a non-negative integer).
 *
 * @category constructors
 * @since 0.1.0
 */
export const maxIterations = (iterations: number): MaxIterations => ({ _tag: "MaxIterations", iterations })

/**
 * `tolerance(metric, ε)`: converged once the metric is ≤ ε.
 *
 * @example
 * Stopping.tolerance("gradientNorm", 1e-8)
 * @category constructors
 * @since 0.1.0
 */
export const tolerance = (metric: string, value: number): Tolerance => ({
  _tag: "Tolerance",
  metric,
  tolerance: value
})

/**
 * `timeBudget(ms)`: stop once the solver has run this long.
 *
 * @category constructors
 * @since 0.1.0
 */
export const timeBudget = (milliseconds: number): TimeBudget => ({ _tag: "TimeBudget", milliseconds })

/**
 * `targetObjective(f)`: converged once the objective is ≤ f.
 *
 * @category constructors
 * @since 0.1.0
 */
export const targetObjective = (target: number): TargetObjective => ({ _tag: "TargetObjective", target })

/**
 * `sufficientProgress(...)`: stalled when the metric (default `objective`)
 * decreased by less than `relativeDecrease` (relative) over `window` iterations.
 *
 * @category constructors
 * @since 0.1.0
 */
export const sufficientProgress = (options: {
  readonly metric?: string
  readonly window: number
  readonly relativeDecrease: number
}): SufficientProgress => ({
  _tag: "SufficientProgress",
  metric: options.metric ?? "objective",
  window: options.window,
  relativeDecrease: options.relativeDecrease
})

/**
 * Stop when any of the rules holds.
 *
 * @example
 * Stopping.anyOf(Stopping.maxIterations(1000), Stopping.tolerance("gradientNorm", 1e-6))
 * @category combinators
 * @since 0.1.0
 */
export const anyOf = (...rules: ReadonlyArray<StoppingRule>): AnyOf => ({ _tag: "AnyOf", rules })

/**
 * Stop when all of the rules hold at once.
 *
 * @category combinators
 * @since 0.1.0
 */
export const allOf = (...rules: ReadonlyArray<StoppingRule>): AllOf => ({ _tag: "AllOf", rules })

/**
 * Whether `rule` is guaranteed to hold after finitely many iterations or a
 * finite time: a `maxIterations` or `timeBudget`, an `anyOf` with a bounded
 * member, or an `allOf` whose members are all bounded.
 *
 * @category guards
 * @since 0.1.0
 */
export const isBounded = (rule: StoppingRule): boolean => {
  switch (rule._tag) {
    case "MaxIterations":
    case "TimeBudget":
      return true
    case "AnyOf":
      return rule.rules.some(isBounded)
    case "AllOf":
      return rule.rules.every(isBounded)
    default:
      return false
  }
}

/**
 * The metric names `rule` reads (`targetObjective` reads `objective`).
 *
 * @category accessors
 * @since 0.1.0
 */
export const metrics = (rule: StoppingRule): ReadonlySet<string> => {
  const out = new Set<string>()
  const visit = (r: StoppingRule): void => {
    switch (r._tag) {
      case "Tolerance":
      case "SufficientProgress":
        out.add(r.metric)
        return
      case "TargetObjective":
        out.add("objective")
        return
      case "AnyOf":
      case "AllOf":
        r.rules.forEach(visit)
        return
      default:
        return
    }
  }
  visit(rule)
  return out
}

/**
 * The smallest iteration count at which `rule` certainly holds (a
 * `maxIterations` bound), or `Infinity`.
 *
 * @category accessors
 * @since 0.1.0
 */
export const iterationBound = (rule: StoppingRule): number => {
  switch (rule._tag) {
    case "MaxIterations":
      return rule.iterations
    case "AnyOf":
      return Math.min(...rule.rules.map(iterationBound))
    case "AllOf":
      return Math.max(...rule.rules.map(iterationBound))
    default:
      return Number.POSITIVE_INFINITY
  }
}

/**
 * What a rule sees at a check: the iteration count (of the cell, or of the
 * stage for a stage rule), the solver time in milliseconds, and a metric
 * lookup (NaN for a metric that is not available).
 *
 * @category models
 * @since 0.1.0
 */
export interface CheckInput {
  readonly iteration: number
  readonly solverTimeMs: number
  readonly metric: (name: string) => number
}

/**
 * The status a holding rule gives a cell.
 *
 * @category models
 * @since 0.1.0
 */
export type StopStatus = "maxIterations" | "converged" | "timeout" | "stalled"

/**
 * A compiled rule: `check` returns the status when the rule holds, else
 * `undefined`. It keeps the history `sufficientProgress` needs, so compile a
 * fresh checker per cell (or pipeline stage).
 *
 * @category models
 * @since 0.1.0
 */
export interface Checker {
  /** Whether `check` reads metrics (else `metric` is never called). */
  readonly needsMetrics: boolean
  /** Whether `check` reads the solver time. */
  readonly needsTime: boolean
  readonly check: (input: CheckInput) => StopStatus | undefined
}

const progressChecker = (rule: SufficientProgress): ((input: CheckInput) => StopStatus | undefined) => {
  // (iteration, value) at past checks, oldest first; entries older than the
  // newest one at least `window` back are dropped.
  const iterations: Array<number> = []
  const values: Array<number> = []
  return (input) => {
    const value = input.metric(rule.metric)
    const t = input.iteration
    iterations.push(t)
    values.push(value)
    let base = -1
    for (let i = iterations.length - 1; i >= 0; i--) {
      if (iterations[i]! <= t - rule.window) {
        base = i
        break
      }
    }
    if (base < 0) return undefined
    if (base > 0) {
      iterations.splice(0, base)
      values.splice(0, base)
    }
    const old = values[0]!
    if (!Number.isFinite(old) || !Number.isFinite(value)) return undefined
    return old - value < rule.relativeDecrease * Math.max(Math.abs(old), 1) ? "stalled" : undefined
  }
}

/**
 * Compiles `rule` into a checker.
 *
 * @category constructors
 * @since 0.1.0
 */
export const compile = (rule: StoppingRule): Checker => {
  switch (rule._tag) {
    case "MaxIterations": {
      const n = rule.iterations
      return {
        needsMetrics: false,
        needsTime: false,
        check: (i) => (i.iteration >= n ? "maxIterations" : undefined)
      }
    }
    case "Tolerance": {
      const { metric, tolerance: eps } = rule
      return {
        needsMetrics: true,
        needsTime: false,
        check: (i) => (i.metric(metric) <= eps ? "converged" : undefined)
      }
    }
    case "TargetObjective": {
      const target = rule.target
      return {
        needsMetrics: true,
        needsTime: false,
        check: (i) => (i.metric("objective") <= target ? "converged" : undefined)
      }
    }
    case "TimeBudget": {
      const ms = rule.milliseconds
      return {
        needsMetrics: false,
        needsTime: true,
        check: (i) => (i.solverTimeMs >= ms ? "timeout" : undefined)
      }
    }
    case "SufficientProgress":
      return { needsMetrics: true, needsTime: false, check: progressChecker(rule) }
    case "AnyOf": {
      const parts = rule.rules.map(compile)
      return {
        needsMetrics: parts.some((p) => p.needsMetrics),
        needsTime: parts.some((p) => p.needsTime),
        check: (i) => {
          // Every part sees every check (sufficientProgress keeps history).
          let result: StopStatus | undefined
          for (const p of parts) {
            const s = p.check(i)
            if (result === undefined) result = s
          }
          return result
        }
      }
    }
    case "AllOf": {
      const parts = rule.rules.map(compile)
      return {
        needsMetrics: parts.some((p) => p.needsMetrics),
        needsTime: parts.some((p) => p.needsTime),
        check: (i) => {
          let first: StopStatus | undefined
          let all = true
          for (let k = 0; k < parts.length; k++) {
            const s = parts[k]!.check(i)
            if (s === undefined) all = false
            if (k === 0) first = s
          }
          return all ? first : undefined
        }
      }
    }
  }
}
