/**
 * Loads the WebAssembly SIMD kernels at module load, when the engine supports
 * them, and selects the backend.
 *
 * `DESCENT_BACKEND=typescript` forces the portable TypeScript kernels,
 * `DESCENT_BACKEND=wasm` requires WebAssembly SIMD (and throws when it is
 * missing); unset, WebAssembly SIMD is used where available.
 */
import { kernelsWasmBase64 } from "./kernelsModule.ts"
import { createWasmHeap, type WasmHeap } from "./memory.ts"

/** The exported kernel functions; addresses are byte offsets into the heap. */
export interface KernelExports {
  dot(n: number, x: number, y: number): number
  sumSquares(n: number, x: number): number
  absSum(n: number, x: number): number
  sum(n: number, x: number): number
  axpy(n: number, alpha: number, x: number, y: number): void
  scal(n: number, alpha: number, x: number): void
  gemv(m: number, n: number, alpha: number, a: number, x: number, beta: number, y: number): void
  gemvTUpdate(m: number, n: number, alpha: number, a: number, x: number, y: number): void
  packA(
    trans: number,
    alpha: number,
    a: number,
    lda: number,
    ic: number,
    mc: number,
    pc: number,
    kc: number,
    out: number
  ): void
  packB(
    trans: number,
    b: number,
    ldb: number,
    pc: number,
    kc: number,
    jc: number,
    nc: number,
    out: number
  ): void
  macroKernel(
    kc: number,
    mc: number,
    nc: number,
    ap: number,
    bp: number,
    c: number,
    ldc: number,
    ic: number,
    jc: number
  ): void
}

export interface WasmRuntime {
  readonly heap: WasmHeap
  readonly kernels: KernelExports
}

export type BackendName = "wasm-simd" | "typescript"

const decodeBase64 = (b64: string): Uint8Array<ArrayBuffer> => {
  const binary = atob(b64)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

const requested = (): string | undefined => {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
  return env?.DESCENT_BACKEND
}

const load = (): WasmRuntime | undefined => {
  const want = requested()
  if (want === "typescript" || want === "ts") return undefined
  try {
    const heap = createWasmHeap()
    const module = new WebAssembly.Module(decodeBase64(kernelsWasmBase64))
    const instance = new WebAssembly.Instance(module, { env: { memory: heap.memory, abort: () => {} } })
    return { heap, kernels: instance.exports as unknown as KernelExports }
  } catch (error) {
    // No WebAssembly, no SIMD, or no shared memory (a browser page without
    // cross-origin isolation): the TypeScript kernels take over.
    if (want === "wasm")
      throw new Error(`DESCENT_BACKEND=wasm, but WebAssembly SIMD is unavailable: ${String(error)}`)
    return undefined
  }
}

/** The loaded runtime, or undefined when the TypeScript backend is in use. */
export const wasm: WasmRuntime | undefined = load()

/** The backend the kernels run on. */
export const backendName: BackendName = wasm === undefined ? "typescript" : "wasm-simd"
