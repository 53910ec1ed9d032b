/**
 * Level-1 BLAS kernels: vector–vector operations.
 *
 * Plain synchronous loops over `Float64Array` that write into caller-given
 * outputs and never allocate. Reductions keep eight independent partial sums:
 * a single accumulator makes V8 wait on the latency of every addition
 * (≈ 9 GB/s measured on this hardware), eight keep the loop memory-bound. The
 * summation order is fixed and documented in `internal/level1.ts`, so results
 * are reproducible bit for bit on every engine.
 *
 * @since 0.1.0
 */
import { DimensionMismatch } from "./Errors.ts"
import {
  absMaxAt,
  absSumAt,
  axpyAt,
  dotAt,
  dotLongAt,
  LONG_DOT_LENGTH,
  scalAt,
  sumSquaresAt
} from "./internal/level1.ts"
import { wasm } from "./internal/wasm/runtime.ts"

// The SIMD kernels run when every operand lives in WebAssembly memory (arrays
// made by core's constructors); other arrays take the TypeScript loop, which
// gives the same bits.
const heap = wasm?.heap
const simd = wasm?.kernels

const sameLength = (operation: string, x: Float64Array, y: Float64Array): void => {
  if (x.length !== y.length)
    throw new DimensionMismatch({ operation, what: "y", expected: [x.length], actual: [y.length] })
}

/**
 * The inner product xᵀy = Σᵢ xᵢ yᵢ. Summation order (the same on both
 * backends): eight partial sums by index mod 8; from 65,536 entries on, the
 * four quarters of the vectors are summed as four concurrent streams
 * (`internal/level1.ts`), which reads DRAM faster.
 *
 * @throws DimensionMismatch when the lengths differ.
 * @category kernels
 * @since 0.1.0
 */
export const dot = (x: Float64Array, y: Float64Array): number => {
  sameLength("dot", x, y)
  const n = x.length
  if (n >= LONG_DOT_LENGTH) {
    if (simd !== undefined && heap!.contains(x) && heap!.contains(y))
      return simd.dotLong(n, x.byteOffset, y.byteOffset)
    return dotLongAt(n, x, 0, y, 0)
  }
  if (simd !== undefined && heap!.contains(x) && heap!.contains(y))
    return simd.dot(n, x.byteOffset, y.byteOffset)
  return dotAt(n, x, 0, y, 0)
}

/**
 * y ← αx + y, in place.
 *
 * @throws DimensionMismatch when the lengths differ.
 * @category kernels
 * @since 0.1.0
 */
export const axpy = (alpha: number, x: Float64Array, y: Float64Array): void => {
  sameLength("axpy", x, y)
  if (simd !== undefined && heap!.contains(x) && heap!.contains(y))
    simd.axpy(x.length, alpha, x.byteOffset, y.byteOffset)
  else axpyAt(x.length, alpha, x, 0, y, 0)
}

/**
 * y ← αx + βy, in place (β = 0 overwrites y, so NaN in y does not propagate).
 *
 * @throws DimensionMismatch when the lengths differ.
 * @category kernels
 * @since 0.1.0
 */
export const axpby = (alpha: number, x: Float64Array, beta: number, y: Float64Array): void => {
  sameLength("axpby", x, y)
  const n = x.length
  if (beta === 0) {
    for (let i = 0; i < n; i++) y[i] = alpha * x[i]!
  } else {
    for (let i = 0; i < n; i++) y[i] = alpha * x[i]! + beta * y[i]!
  }
}

/**
 * x ← αx, in place.
 *
 * @category kernels
 * @since 0.1.0
 */
export const scal = (alpha: number, x: Float64Array): void => {
  if (simd !== undefined && heap!.contains(x)) simd.scal(x.length, alpha, x.byteOffset)
  else scalAt(x.length, alpha, x, 0)
}

/**
 * Applies the plane (Givens) rotation [c s; −s c] to the pairs (xᵢ, yᵢ) in
 * place: xᵢ ← c·xᵢ + s·yᵢ, yᵢ ← c·yᵢ − s·xᵢ (BLAS drot). Eigen- and
 * SVD-solvers apply these to rows of their accumulated transforms.
 *
 * @throws DimensionMismatch when the lengths differ.
 * @category kernels
 * @since 0.1.0
 */
export const rot = (c: number, s: number, x: Float64Array, y: Float64Array): void => {
  sameLength("rot", x, y)
  const n = x.length
  if (simd !== undefined && heap!.contains(x) && heap!.contains(y)) {
    simd.rot(n, c, s, x.byteOffset, y.byteOffset)
    return
  }
  for (let i = 0; i < n; i++) {
    const xi = x[i]!
    const yi = y[i]!
    x[i] = c * xi + s * yi
    y[i] = c * yi - s * xi
  }
}

/**
 * y ← x (element copy; x and y may overlap). Between arrays in WebAssembly
 * memory it is one memmove: V8's `set` copies between views of shared memory
 * element by element (≈ 4× slower at 2500 entries, measured).
 *
 * @throws DimensionMismatch when the lengths differ.
 * @category kernels
 * @since 0.1.0
 */
export const copy = (x: Float64Array, y: Float64Array): void => {
  sameLength("copy", x, y)
  if (simd !== undefined && heap!.contains(x) && heap!.contains(y))
    simd.copy(x.length, x.byteOffset, y.byteOffset)
  else y.set(x)
}

/**
 * Euclidean norm ‖x‖₂ = √(Σᵢ xᵢ²), safe from overflow and underflow.
 *
 * The fast path sums squares directly; only when that sum overflows or falls
 * into the range where squares lose precision (below 2⁻⁹⁶⁸) does it rescale by
 * max |xᵢ| and sum again, as LAPACK's dnrm2 does in one pass (Blue, 1978).
 *
 * @category kernels
 * @since 0.1.0
 */
export const nrm2 = (x: Float64Array): number => {
  const n = x.length
  const ss =
    simd !== undefined && heap!.contains(x) ? simd.sumSquares(n, x.byteOffset) : sumSquaresAt(n, x, 0)
  if (ss !== ss) return Number.NaN
  if (ss < Number.POSITIVE_INFINITY && ss >= SAFE_SUM_OF_SQUARES) return Math.sqrt(ss)
  const scale = absMaxAt(n, x, 0)
  if (scale === 0 || scale === Number.POSITIVE_INFINITY || scale !== scale) return scale
  let t = 0
  // Divide rather than multiply by 1 / scale: for a scale below 2⁻¹⁰²⁴ (subnormal
  // input) the reciprocal overflows to Infinity and every term becomes ∞ or NaN.
  for (let i = 0; i < n; i++) {
    const v = x[i]! / scale
    t += v * v
  }
  return scale * Math.sqrt(t)
}

/** Below this a sum of squares may hold subnormal terms with lost precision. */
const SAFE_SUM_OF_SQUARES = 2 ** -968

/**
 * Sum of absolute values Σᵢ |xᵢ| (the ℓ₁ norm).
 *
 * @category kernels
 * @since 0.1.0
 */
export const asum = (x: Float64Array): number =>
  simd !== undefined && heap!.contains(x) ? simd.absSum(x.length, x.byteOffset) : absSumAt(x.length, x, 0)

/**
 * Index of the first entry with the largest absolute value; −1 for an empty
 * vector. A NaN counts as larger than every number (its first index is returned),
 * so a poisoned vector is never reported as fine.
 *
 * @category kernels
 * @since 0.1.0
 */
export const iamax = (x: Float64Array): number => {
  const n = x.length
  if (n === 0) return -1
  let best = 0
  let m = Math.abs(x[0]!)
  if (m !== m) return 0
  for (let i = 1; i < n; i++) {
    const v = Math.abs(x[i]!)
    if (v !== v) return i
    if (v > m) {
      m = v
      best = i
    }
  }
  return best
}
