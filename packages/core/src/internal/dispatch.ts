/**
 * Level-1 loops that run on the WebAssembly SIMD kernels when asked: level-2/3
 * kernels decide once per call whether all their operands live in WebAssembly
 * memory (`resident`), then call these per row. Both paths compute the same
 * bits (the SIMD kernels keep the TypeScript summation order).
 */
import { axpyAt, dotAt, scalAt } from "./level1.ts"
import { wasm } from "./wasm/runtime.ts"

const heap = wasm?.heap
const simd = wasm?.kernels

/** True when the SIMD backend is active and every array lives in its memory. */
export const resident = (a: Float64Array, b: Float64Array, c?: Float64Array): boolean =>
  heap !== undefined && heap.contains(a) && heap.contains(b) && (c === undefined || heap.contains(c))

/** Σ x[xo+i]·y[yo+i], i < n. */
export const dotRow = (
  useSimd: boolean,
  n: number,
  x: Float64Array,
  xo: number,
  y: Float64Array,
  yo: number
): number => (useSimd ? simd!.dot(n, x.byteOffset + 8 * xo, y.byteOffset + 8 * yo) : dotAt(n, x, xo, y, yo))

/** y[yo+i] += α·x[xo+i], i < n. */
export const axpyRow = (
  useSimd: boolean,
  n: number,
  alpha: number,
  x: Float64Array,
  xo: number,
  y: Float64Array,
  yo: number
): void => {
  if (useSimd) simd!.axpy(n, alpha, x.byteOffset + 8 * xo, y.byteOffset + 8 * yo)
  else axpyAt(n, alpha, x, xo, y, yo)
}

/** x[xo+i] *= α, i < n. */
export const scalRow = (useSimd: boolean, n: number, alpha: number, x: Float64Array, xo: number): void => {
  if (useSimd) simd!.scal(n, alpha, x.byteOffset + 8 * xo)
  else scalAt(n, alpha, x, xo)
}
