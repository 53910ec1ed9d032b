/**
 * Dense vectors: a `Vector` is a `Float64Array`.
 *
 * Constructors here are the one way descent packages allocate working arrays, so
 * a faster memory backend (WebAssembly linear memory) can be swapped in beneath
 * them. Views (`slice` without copying) are plain `subarray`s.
 *
 * @since 0.1.0
 */
import { DimensionMismatch, NonFiniteInput } from "./Errors.ts"
import { allocateFloat64 } from "./internal/allocate.ts"

/**
 * A dense vector of float64 values.
 *
 * @category models
 * @since 0.1.0
 */
export type Vector = Float64Array

/**
 * A vector of `n` zeros.
 *
 * @category constructors
 * @since 0.1.0
 */
export const zeros = (n: number): Vector => {
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`Vector.zeros: length ${n} is not a non-negative integer`)
  return allocateFloat64(n)
}

/**
 * A vector of `n` copies of `value`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const full = (n: number, value: number): Vector => {
  const x = zeros(n)
  x.fill(value)
  return x
}

/**
 * A vector of `n` ones.
 *
 * @category constructors
 * @since 0.1.0
 */
export const ones = (n: number): Vector => full(n, 1)

/**
 * A vector holding a copy of `values`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromArray = (values: ArrayLike<number>): Vector => {
  const x = zeros(values.length)
  for (let i = 0; i < values.length; i++) x[i] = values[i]!
  return x
}

/**
 * `n` evenly spaced values from `start` to `stop` inclusive (NumPy's `linspace`).
 *
 * @category constructors
 * @since 0.1.0
 */
export const linspace = (start: number, stop: number, n: number): Vector => {
  const x = zeros(n)
  if (n === 1) x[0] = start
  const step = n > 1 ? (stop - start) / (n - 1) : 0
  for (let i = 0; i < n; i++) x[i] = start + i * step
  if (n > 1) x[n - 1] = stop
  return x
}

/**
 * A fresh copy of `x`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const clone = (x: Vector): Vector => {
  const y = zeros(x.length)
  y.set(x)
  return y
}

/**
 * Throws `DimensionMismatch` unless `x` has length `n`.
 *
 * @category guards
 * @since 0.1.0
 */
export const assertLength = (operation: string, what: string, x: Vector, n: number): void => {
  if (x.length !== n) throw new DimensionMismatch({ operation, what, expected: [n], actual: [x.length] })
}

/**
 * Index of the first NaN or ±Infinity in `x`, or −1 when every entry is finite.
 *
 * @category guards
 * @since 0.1.0
 */
export const findNonFinite = (x: ArrayLike<number>): number => {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!
    // v - v is NaN exactly when v is NaN or ±Infinity; cheaper than Number.isFinite.
    if (v - v !== 0) return i
  }
  return -1
}

/**
 * Throws `NonFiniteInput` naming the first NaN or ±Infinity in `x`.
 *
 * @category guards
 * @since 0.1.0
 */
export const assertFinite = (operation: string, what: string, x: ArrayLike<number>): void => {
  const i = findNonFinite(x)
  if (i >= 0) throw new NonFiniteInput({ operation, what, index: i, value: x[i]! })
}
