/**
 * Hyperparameter validation and small helpers shared by every transform and
 * optimizer module: a value outside its range throws `Errors.InvalidOptions`
 * naming the operation and the field, when the transform is constructed.
 */
import { Errors } from "@descent/core"
import { isSchedule, type Schedule } from "../Schedules.ts"
import type { Params } from "../Tree.ts"
import * as Tree from "../Tree.ts"

/** A constant, a serializable schedule or a function of the step (see `Transforms.StepSize`). */
export type StepSizeLike = number | Schedule | ((step: number) => number)

const INT32_MAX = 2147483647

/** Optax's `numerics.safe_increment` for an int32 counter: saturates. */
export const increment = (count: number): number => (count < INT32_MAX ? count + 1 : count)

export const invalid = (
  operation: string,
  field: string,
  value: unknown,
  requirement: string
): Errors.InvalidOptions => new Errors.InvalidOptions({ operation, field, value, requirement })

export const requireFinite = (operation: string, field: string, value: number): number => {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw invalid(operation, field, value, "a finite number")
  }
  return value
}

export const requireNonNegative = (operation: string, field: string, value: number): number => {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw invalid(operation, field, value, "a finite number ≥ 0")
  }
  return value
}

export const requirePositive = (operation: string, field: string, value: number): number => {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw invalid(operation, field, value, "a finite number > 0")
  }
  return value
}

/** A decay or momentum coefficient: a number in [0, 1). */
export const requireDecay = (operation: string, field: string, value: number): number => {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value >= 1) {
    throw invalid(operation, field, value, "a number in [0, 1)")
  }
  return value
}

/** A positive integer (update intervals, accumulation steps, block sizes). */
export const requirePositiveInteger = (operation: string, field: string, value: number): number => {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw invalid(operation, field, value, "an integer ≥ 1")
  }
  return value
}

export const requireStepSize = <T extends StepSizeLike>(operation: string, field: string, value: T): T => {
  if (typeof value === "number") return requireNonNegative(operation, field, value) as T
  if (typeof value !== "function" && !isSchedule(value)) {
    throw invalid(operation, field, value, "a finite number ≥ 0, a Schedule or a function of the step")
  }
  return value
}

/** `update` of a transform that reads the parameters: they must be passed. */
export const requireParams = (operation: string, params: Params | undefined): Params => {
  if (params === undefined) throw invalid(operation, "params", params, "the parameters, passed to update")
  return params
}

/**
 * The leaves of `updates`, checked against the leaves of a state buffer
 * (same count and lengths). Throws `Errors.DimensionMismatch` otherwise.
 */
export const leavesLike = (
  operation: string,
  updates: Params,
  like: ReadonlyArray<Float64Array>
): Float64Array[] => {
  const g = Tree.leaves(updates)
  if (g.length !== like.length) {
    throw new Errors.DimensionMismatch({
      operation,
      what: "number of leaves of the updates tree",
      expected: [like.length],
      actual: [g.length]
    })
  }
  for (let k = 0; k < g.length; k++) {
    if (g[k]!.length !== like[k]!.length) {
      throw new Errors.DimensionMismatch({
        operation,
        what: `length of leaf ${k} of the updates tree`,
        expected: [like[k]!.length],
        actual: [g[k]!.length]
      })
    }
  }
  return g
}
