/**
 * Small helpers shared by the stochastic, zeroth-order and operator solvers
 * (FiniteSum, Svrg, Sarah, Sps, ZerothOrder, MonotoneOperator, Halpern,
 * Extragradient, VarianceReducedHalpern): option checks that throw
 * `Errors.InvalidOptions` naming the field, the ∞-norm through core's
 * `iamax`, and finiteness tests through `Vector.findNonFinite`.
 */
import { Blas1, Random, Vector } from "@descent/core"
import { invalid } from "./validate.ts"

/** ‖x‖∞ = |x[iamax(x)]| (NaN when x holds a NaN, 0 for an empty vector). */
export const normInf = (x: Float64Array): number => {
  const i = Blas1.iamax(x)
  return i < 0 ? 0 : Math.abs(x[i]!)
}

/** Whether every entry of `x` is finite. */
export const allFinite = (x: Float64Array): boolean => Vector.findNonFinite(x) < 0

/** A PRNG key option: two integers in [0, 2^32 − 1] (as made by `Random.key`). */
export const requireKey = (operation: string, field: string, key: Random.Key): Random.Key => {
  const ok =
    key !== null &&
    typeof key === "object" &&
    key.length === 2 &&
    typeof key[0] === "number" &&
    typeof key[1] === "number" &&
    key[0] >>> 0 === key[0] &&
    key[1] >>> 0 === key[1]
  if (!ok) throw invalid(operation, field, key, "a key: two integers in [0, 2^32 − 1], as made by Random.key")
  return Random.fromKeyData(key)
}

/** An integer ≥ `min`. */
export const requireInteger = (operation: string, field: string, value: number, min: number): number => {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw invalid(operation, field, value, `an integer ≥ ${min}`)
  }
  return value
}

/** A number in [0, 1). */
export const requireUnitInterval = (operation: string, field: string, value: number): number => {
  if (typeof value !== "number" || !(value >= 0 && value < 1)) {
    throw invalid(operation, field, value, "a number in [0, 1)")
  }
  return value
}

/** One of the listed string values. */
export const requireOneOf = <const T extends string>(
  operation: string,
  field: string,
  value: T,
  allowed: ReadonlyArray<T>
): T => {
  if (!allowed.includes(value)) {
    throw invalid(operation, field, value, `one of ${allowed.map((a) => `"${a}"`).join(", ")}`)
  }
  return value
}

/**
 * A step size given explicitly, or `factor / lipschitz` from the problem's
 * Lipschitz (smoothness) constant; throws `InvalidOptions` naming `stepSize`
 * when neither is available.
 */
export const stepSizeOrDefault = (
  operation: string,
  stepSize: number | undefined,
  lipschitz: number | undefined,
  factor: number,
  constantName: string
): number => {
  if (stepSize !== undefined) {
    if (typeof stepSize !== "number" || !Number.isFinite(stepSize) || stepSize <= 0) {
      throw invalid(operation, "stepSize", stepSize, "a finite number > 0")
    }
    return stepSize
  }
  if (lipschitz === undefined || !Number.isFinite(lipschitz) || lipschitz <= 0) {
    throw invalid(
      operation,
      "stepSize",
      stepSize,
      `a finite number > 0 (required: the problem has no finite positive ${constantName} to derive it from)`
    )
  }
  return factor / lipschitz
}
