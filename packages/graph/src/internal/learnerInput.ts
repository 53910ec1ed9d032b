/**
 * Input checks and option validation shared by GOLEM, CoLiDE, TOPO and COSMO.
 *
 * @since 0.1.0
 * @internal
 */
import { Errors, type Matrix } from "@descent/core"
import * as Data from "../Data.ts"

/**
 * Throws `InvalidOptions` unless `value` is a finite number ≥ 0.
 *
 * @internal
 */
export const nonNegative = (operation: string, field: string, value: number): number => {
  if (typeof value !== "number" || !(value >= 0) || !Number.isFinite(value)) {
    throw new Errors.InvalidOptions({ operation, field, value, requirement: "a finite number ≥ 0" })
  }
  return value
}

/**
 * Throws `InvalidOptions` unless `value` is a finite number > 0.
 *
 * @internal
 */
export const positive = (operation: string, field: string, value: number): number => {
  if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value)) {
    throw new Errors.InvalidOptions({ operation, field, value, requirement: "a finite number > 0" })
  }
  return value
}

/**
 * Throws `InvalidOptions` unless `value` is an integer ≥ `min`.
 *
 * @internal
 */
export const integerAtLeast = (operation: string, field: string, value: number, min: number): number => {
  if (!Number.isInteger(value) || value < min) {
    throw new Errors.InvalidOptions({ operation, field, value, requirement: `an integer ≥ ${min}` })
  }
  return value
}

/**
 * Throws `InvalidOptions` unless `value` lies in [0, 1).
 *
 * @internal
 */
export const decay = (operation: string, field: string, value: number): number => {
  if (typeof value !== "number" || !(value >= 0 && value < 1)) {
    throw new Errors.InvalidOptions({ operation, field, value, requirement: "a number in [0, 1)" })
  }
  return value
}

/**
 * Throws `InvalidOptions` unless `value` lies in (0, 1].
 *
 * @internal
 */
export const unitInterval = (operation: string, field: string, value: number): number => {
  if (typeof value !== "number" || !(value > 0 && value <= 1)) {
    throw new Errors.InvalidOptions({ operation, field, value, requirement: "a number in (0, 1]" })
  }
  return value
}

/**
 * Checks an initial weight matrix: d × d and finite.
 *
 * @internal
 */
export const initialWeights = (
  operation: string,
  W: Matrix.Matrix | undefined,
  d: number
): Float64Array | undefined => {
  if (W === undefined) return undefined
  if (W.rows !== d || W.cols !== d) {
    throw new Errors.DimensionMismatch({
      operation,
      what: "initialWeights",
      expected: [d, d],
      actual: [W.rows, W.cols]
    })
  }
  for (let k = 0; k < W.data.length; k++) {
    const w = W.data[k]!
    if (w - w !== 0)
      throw new Errors.NonFiniteInput({ operation, what: "initialWeights", index: k, value: w })
  }
  return W.data
}

/**
 * The checked data of a learner: sample and variable counts and the
 * covariance S = XᵀX/n of the column-centered data.
 *
 * @internal
 */
export interface LearnerData {
  readonly n: number
  readonly d: number
  readonly covariance: Matrix.Matrix
}

/**
 * Checks X with `Data.checkData` (finite, n ≥ 2, no constant column) and
 * returns the covariance of its centered columns (`Data.covariance`).
 *
 * @internal
 */
export const learnerData = (operation: string, X: Matrix.Matrix): LearnerData => {
  Data.checkData(operation, X)
  return { n: X.rows, d: X.cols, covariance: Data.covariance(X, { center: true }) }
}
