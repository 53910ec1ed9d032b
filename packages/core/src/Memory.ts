/**
 * Where core's arrays live, and which kernel backend runs on them.
 *
 * With the WebAssembly SIMD backend (the default wherever the engine supports
 * WebAssembly SIMD and shared memory), arrays made by core's constructors live
 * in one WebAssembly linear memory and the kernels run on them in place. Plain
 * `Float64Array`s from elsewhere are still accepted everywhere: the kernels
 * then take the TypeScript path, which computes the same bits.
 *
 * Memory is returned by `free` (explicit, immediate) or, as a safety net, when
 * the garbage collector finds an array unreachable. `DESCENT_BACKEND=typescript`
 * (or `wasm`) in the environment forces a backend.
 *
 * @since 0.1.0
 */
import { backendName, wasm } from "./internal/wasm/runtime.ts"

/**
 * The kernel backends: WebAssembly SIMD, or the portable TypeScript loops.
 *
 * @category models
 * @since 0.1.0
 */
export type Backend = "wasm-simd" | "typescript"

/**
 * The backend in use in this process (recorded in experiment provenance).
 *
 * @category getters
 * @since 0.1.0
 */
export const backend = (): Backend => backendName

/**
 * Returns `x`'s storage to the allocator now, instead of waiting for the
 * garbage collector. `x` and every view of it must not be used afterwards.
 * Returns false (and does nothing) for arrays not allocated by core.
 *
 * @category memory
 * @since 0.1.0
 */
export const free = (x: Float64Array): boolean => (wasm === undefined ? false : wasm.heap.free(x))

/**
 * True when `x` lives in the kernels' WebAssembly memory (kernels run on it in place).
 *
 * @category memory
 * @since 0.1.0
 */
export const isWasmResident = (x: Float64Array): boolean => wasm?.heap.contains(x) === true

/**
 * Memory statistics: bytes reserved by the WebAssembly memory and bytes in live arrays.
 *
 * @category memory
 * @since 0.1.0
 */
export const stats = (): {
  readonly backend: Backend
  readonly reservedBytes: number
  readonly liveBytes: number
} => ({
  backend: backendName,
  reservedBytes: wasm === undefined ? 0 : wasm.heap.byteLength(),
  liveBytes: wasm === undefined ? 0 : wasm.heap.liveBytes()
})

/**
 * Runs `fn`, then frees every array allocated during the call except those
 * `keep` names from its result: temporaries of a computation are returned at
 * once instead of waiting for the garbage collector (whose finalizers cannot
 * run inside one synchronous loop). Arrays created inside must not be used
 * after the call unless kept. Scopes nest. With the TypeScript backend this
 * simply calls `fn`.
 *
 * @category memory
 * @since 0.1.0
 */
export const scoped = <A>(fn: () => A, keep: (result: A) => Iterable<Float64Array>): A => {
  if (wasm === undefined) return fn()
  const token = wasm.heap.openScope()
  let result: A
  try {
    result = fn()
  } catch (error) {
    wasm.heap.closeScope(token, new Set())
    throw error
  }
  wasm.heap.closeScope(token, new Set(keep(result)))
  return result
}
