/**
 * What is measured in a cell: evaluators as plain, serializable data, and the
 * functions that compute them on a problem instance.
 *
 * Every evaluator is computed by the runner from the problem and the solver's
 * current iterate x, the same way for every solver, so numbers are comparable
 * across methods (a solver's own `metrics` are recorded too, under `solver.`):
 *
 * | evaluator | metrics | definition |
 * | --- | --- | --- |
 * | `objective` | `objective` | F(x) = f(x) + g(x) (g the problem's regularizer, if any) |
 * | `suboptimality({ reference })` | `suboptimality` | F(x) − F*, F* the problem's known optimum (`"known"`), or, when it has none, the value a high-accuracy reference solve reaches on the same instance (`"bestFound"`) |
 * | `gradientNorm` | `gradientNorm` | ‖x − prox_g(x − ∇f(x))‖₂, the gradient-mapping norm (= ‖∇f(x)‖₂ without regularizer or bounds; the projection onto the box for bounds) |
 * | `constraintViolation` | `constraintViolation` | maxᵢ max(lᵢ − xᵢ, xᵢ − uᵢ, 0) for problems with bounds (absent otherwise) |
 * | `wallTime` | `wallTimeMs` | milliseconds spent in the solver's `step` (evaluations excluded) |
 * | `oracleCounts` | `valueCalls`, `gradientCalls`, `hessianVectorCalls` | oracle calls made by the solver (`Objective.meter`) |
 * | `stateSize` | `stateScalars`, `stateBytes` | memory the method holds besides the iterate (`GradientTransform.stateSize`: Adam 2 scalars per parameter, SGD 0; for deterministic solvers every buffer of their state but x) |
 *
 * All values are deterministic except `wallTimeMs`.
 *
 * @since 0.1.0
 */
import { Blas1, Vector } from "@descent/core"
import { Schema } from "effect"
import type { ProblemInstance } from "./Registry.ts"

/**
 * @category models
 * @since 0.1.0
 */
export interface ObjectiveEvaluator {
  readonly _tag: "Objective"
}

/**
 * @category models
 * @since 0.1.0
 */
export interface SuboptimalityEvaluator {
  readonly _tag: "Suboptimality"
  /** `"known"`: the problem's known optimum only (NaN without one); `"bestFound"`: fall back to a reference solve. */
  readonly reference: "known" | "bestFound"
}

/**
 * @category models
 * @since 0.1.0
 */
export interface GradientNormEvaluator {
  readonly _tag: "GradientNorm"
}

/**
 * @category models
 * @since 0.1.0
 */
export interface ConstraintViolationEvaluator {
  readonly _tag: "ConstraintViolation"
}

/**
 * @category models
 * @since 0.1.0
 */
export interface WallTimeEvaluator {
  readonly _tag: "WallTime"
}

/**
 * @category models
 * @since 0.1.0
 */
export interface OracleCountsEvaluator {
  readonly _tag: "OracleCounts"
}

/**
 * @category models
 * @since 0.1.0
 */
export interface StateSizeEvaluator {
  readonly _tag: "StateSize"
}

/**
 * An evaluator.
 *
 * @category models
 * @since 0.1.0
 */
export type Evaluator =
  | ObjectiveEvaluator
  | SuboptimalityEvaluator
  | GradientNormEvaluator
  | ConstraintViolationEvaluator
  | WallTimeEvaluator
  | OracleCountsEvaluator
  | StateSizeEvaluator

/**
 * The Schema of evaluators.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Evaluator: Schema.Codec<Evaluator> = Schema.Union([
  Schema.TaggedStruct("Objective", {}),
  Schema.TaggedStruct("Suboptimality", { reference: Schema.Literals(["known", "bestFound"]) }),
  Schema.TaggedStruct("GradientNorm", {}),
  Schema.TaggedStruct("ConstraintViolation", {}),
  Schema.TaggedStruct("WallTime", {}),
  Schema.TaggedStruct("OracleCounts", {}),
  Schema.TaggedStruct("StateSize", {})
])

/**
 * @category constructors
 * @since 0.1.0
 */
export const objective: ObjectiveEvaluator = { _tag: "Objective" }

/**
 * Suboptimality against the known optimum, or a reference solve's (`"bestFound"`, the default).
 *
 * @category constructors
 * @since 0.1.0
 */
export const suboptimality = (
  options: { readonly reference?: "known" | "bestFound" } = {}
): SuboptimalityEvaluator => ({ _tag: "Suboptimality", reference: options.reference ?? "bestFound" })

/**
 * @category constructors
 * @since 0.1.0
 */
export const gradientNorm: GradientNormEvaluator = { _tag: "GradientNorm" }

/**
 * @category constructors
 * @since 0.1.0
 */
export const constraintViolation: ConstraintViolationEvaluator = { _tag: "ConstraintViolation" }

/**
 * @category constructors
 * @since 0.1.0
 */
export const wallTime: WallTimeEvaluator = { _tag: "WallTime" }

/**
 * @category constructors
 * @since 0.1.0
 */
export const oracleCounts: OracleCountsEvaluator = { _tag: "OracleCounts" }

/**
 * @category constructors
 * @since 0.1.0
 */
export const stateSize: StateSizeEvaluator = { _tag: "StateSize" }

/**
 * The evaluators of an experiment that does not name any.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaults: ReadonlyArray<Evaluator> = [objective, gradientNorm, wallTime, oracleCounts]

/**
 * The metric names an evaluator produces.
 *
 * @category accessors
 * @since 0.1.0
 */
export const outputs = (evaluator: Evaluator): ReadonlyArray<string> => {
  switch (evaluator._tag) {
    case "Objective":
      return ["objective"]
    case "Suboptimality":
      return ["suboptimality"]
    case "GradientNorm":
      return ["gradientNorm"]
    case "ConstraintViolation":
      return ["constraintViolation"]
    case "WallTime":
      return ["wallTimeMs"]
    case "OracleCounts":
      return ["valueCalls", "gradientCalls", "hessianVectorCalls"]
    case "StateSize":
      return ["stateScalars", "stateBytes"]
  }
}

/**
 * Every metric name an evaluator can produce (what stopping rules may read,
 * besides the solver's own `solver.*` metrics).
 *
 * @category constants
 * @since 0.1.0
 */
export const metricNames: ReadonlyArray<string> = [
  "objective",
  "suboptimality",
  "gradientNorm",
  "constraintViolation",
  "wallTimeMs",
  "valueCalls",
  "gradientCalls",
  "hessianVectorCalls",
  "stateScalars",
  "stateBytes"
]

/**
 * Whether a stopping rule may read `name`: an evaluator metric or a `solver.` metric.
 *
 * @category guards
 * @since 0.1.0
 */
export const isMetricName = (name: string): boolean =>
  metricNames.includes(name) || (name.startsWith("solver.") && name.length > "solver.".length)

// ---------------------------------------------------------------------------
// Computations on a problem instance

/**
 * F(x) = f(x) + g(x), with the problem's unmetered objective.
 *
 * @category evaluators
 * @since 0.1.0
 */
export const objectiveValue = (problem: ProblemInstance, x: Float64Array): number => {
  const f = problem.objective.value(x)
  return problem.regularizer === undefined ? f : f + problem.regularizer.value(x)
}

/**
 * ‖x − P(x − ∇f(x))‖₂ with P the prox of g (step 1), the projection onto the
 * bounds, or the identity; `scratch` (length n) receives ∇f(x) and is
 * overwritten.
 *
 * @category evaluators
 * @since 0.1.0
 */
export const gradientMappingNorm = (
  problem: ProblemInstance,
  x: Float64Array,
  scratch: Float64Array
): number => {
  problem.objective.valueAndGradient(x, scratch)
  return gradientMappingNormFrom(problem, x, scratch)
}

/**
 * {@link gradientMappingNorm} from ∇f(x) already in `gradient` (which is overwritten).
 *
 * @category evaluators
 * @since 0.1.0
 */
export const gradientMappingNormFrom = (
  problem: ProblemInstance,
  x: Float64Array,
  gradient: Float64Array
): number => {
  const g = problem.regularizer
  const b = problem.bounds
  if (g === undefined && b === undefined) return Blas1.nrm2(gradient)
  for (let i = 0; i < x.length; i++) gradient[i] = x[i]! - gradient[i]!
  if (g !== undefined) g.prox(gradient, 1, gradient)
  if (b !== undefined) {
    for (let i = 0; i < x.length; i++)
      gradient[i] = Math.min(Math.max(gradient[i]!, b.lower[i]!), b.upper[i]!)
  }
  for (let i = 0; i < x.length; i++) gradient[i] = x[i]! - gradient[i]!
  return Blas1.nrm2(gradient)
}

/**
 * maxᵢ max(lᵢ − xᵢ, xᵢ − uᵢ, 0) for a problem with bounds; 0 without.
 *
 * @category evaluators
 * @since 0.1.0
 */
export const constraintViolationOf = (problem: ProblemInstance, x: Float64Array): number => {
  const b = problem.bounds
  if (b === undefined) return 0
  let v = 0
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!
    const d = Math.max(b.lower[i]! - xi, xi - b.upper[i]!)
    if (d > v || d !== d) v = d
  }
  return v
}

/**
 * A scratch vector for {@link gradientMappingNorm}.
 *
 * @category constructors
 * @since 0.1.0
 */
export const scratchFor = (problem: ProblemInstance): Float64Array => Vector.zeros(problem.x0.length)
