/**
 * fast-check arbitraries for numeric property tests: vectors, matrices, SPD
 * matrices and probability vectors, with sizes that include 0 and 1.
 */
import fc from "fast-check"

export interface MatrixValue {
  readonly rows: number
  readonly cols: number
  readonly data: Float64Array
}

export interface SizeOptions {
  readonly minLength?: number
  readonly maxLength?: number
  /** Bound on |entry|; default 10. */
  readonly magnitude?: number
}

/** A finite double in [−magnitude, magnitude], never NaN or −0. */
export const finiteDouble = (magnitude = 10): fc.Arbitrary<number> =>
  fc
    .double({ min: -magnitude, max: magnitude, noNaN: true, noDefaultInfinity: true })
    .map((x) => (x === 0 ? 0 : x))

/** A Float64Array of length in [minLength, maxLength] (default 0…64). */
export const vector = (options: SizeOptions = {}): fc.Arbitrary<Float64Array> =>
  fc
    .array(finiteDouble(options.magnitude), {
      minLength: options.minLength ?? 0,
      maxLength: options.maxLength ?? 64
    })
    .map((xs) => Float64Array.from(xs))

/** A Float64Array of exactly length n. */
export const vectorOfLength = (n: number, magnitude = 10): fc.Arbitrary<Float64Array> =>
  fc.array(finiteDouble(magnitude), { minLength: n, maxLength: n }).map((xs) => Float64Array.from(xs))

/** A rows × cols matrix with the given shape. */
export const matrixOfShape = (rows: number, cols: number, magnitude = 10): fc.Arbitrary<MatrixValue> =>
  vectorOfLength(rows * cols, magnitude).map((data) => ({ rows, cols, data }))

/** A matrix with each dimension in [0, maxDim] (default 12). */
export const matrix = (maxDim = 12, magnitude = 10): fc.Arbitrary<MatrixValue> =>
  fc
    .tuple(fc.integer({ min: 0, max: maxDim }), fc.integer({ min: 0, max: maxDim }))
    .chain(([r, c]) => matrixOfShape(r, c, magnitude))

/**
 * A symmetric positive definite n × n matrix: B·Bᵀ + n·I for a random B, so the
 * smallest eigenvalue is at least n and the condition number stays moderate.
 */
export const spdMatrix = (maxDim = 12): fc.Arbitrary<MatrixValue> =>
  fc
    .integer({ min: 1, max: maxDim })
    .chain((n) => matrixOfShape(n, n, 1))
    .map(({ rows: n, data: b }) => {
      const data = new Float64Array(n * n)
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0
          for (let k = 0; k < n; k++) s += b[i * n + k]! * b[j * n + k]!
          data[i * n + j] = s + (i === j ? n : 0)
        }
      }
      return { rows: n, cols: n, data }
    })

/** A probability vector (positive entries summing to 1) of length in [1, maxLength]. */
export const probabilityVector = (maxLength = 32): fc.Arbitrary<Float64Array> =>
  fc.array(fc.double({ min: 1e-3, max: 1, noNaN: true }), { minLength: 1, maxLength }).map((xs) => {
    const s = xs.reduce((a, b) => a + b, 0)
    return Float64Array.from(xs, (x) => x / s)
  })
