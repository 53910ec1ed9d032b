/**
 * The single place where descent allocates numeric storage.
 *
 * Every constructor in `Vector` and `Matrix` goes through `allocateFloat64`, so
 * arrays live in WebAssembly linear memory when the SIMD backend is active (the
 * kernels then run on them in place) and on the JS heap otherwise, with no
 * change to the public API.
 */
import { wasm } from "./wasm/runtime.ts"

/** Allocates a zero-filled Float64Array of length `n`. */
export const allocateFloat64 = (n: number): Float64Array =>
  (wasm === undefined ? undefined : wasm.heap.allocate(n)) ?? new Float64Array(n)
