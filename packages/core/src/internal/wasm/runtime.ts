/**
 * Loads the WebAssembly SIMD kernels at module load, when the engine supports
 * them, and selects the backend.
 *
 * `DESCENT_BACKEND=typescript` forces the portable TypeScript kernels,
 * `DESCENT_BACKEND=wasm` requires WebAssembly SIMD (and throws when it is
 * missing); unset, WebAssembly SIMD is used where available.
 */
import {
  EXP_COEFFICIENTS,
  EXP_LN2_HI,
  EXP_LN2_LO,
  EXP_MAX_INPUT,
  EXP_MIN_INPUT,
  LOG2_E,
  ROUNDING_SHIFTER
} from "../detmath.ts"
import { kernelsWasmBase64 } from "./kernelsModule.ts"
import { createWasmHeap, type WasmHeap } from "./memory.ts"

/** The exported kernel functions; addresses are byte offsets into the heap. */
export interface KernelExports {
  dot(n: number, x: number, y: number): number
  dotLong(n: number, x: number, y: number): number
  sumSquares(n: number, x: number): number
  absSum(n: number, x: number): number
  sum(n: number, x: number): number
  axpy(n: number, alpha: number, x: number, y: number): void
  scal(n: number, alpha: number, x: number): void
  rot(n: number, c: number, s: number, x: number, y: number): void
  gemv(m: number, n: number, alpha: number, a: number, x: number, beta: number, y: number): void
  gemvPair(m: number, n: number, a: number, x: number, y: number, w: number, z: number): void
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
  setExpConstants(address: number): void
  expVector(n: number, x: number, out: number): void
  logisticLoss(n: number, z: number, y: number, r: number, scale: number): number
  adam(
    n: number,
    g: number,
    m: number,
    v: number,
    out: number,
    b1: number,
    c1: number,
    b2: number,
    c2: number,
    r1: number,
    r1n: number,
    r2: number,
    epsRoot: number,
    eps: number,
    s: number,
    flags: number
  ): void
  lseAffineRows(
    m: number,
    n: number,
    g: number,
    c: number,
    invEps: number,
    maxOut: number,
    sumOut: number
  ): void
  lseAffineCols(
    m: number,
    n: number,
    f: number,
    c: number,
    invEps: number,
    blockRows: number,
    maxOut: number,
    sumOut: number,
    blockMax: number
  ): void
  gaussJordanInverse(n: number, a: number, pivots: number, rows: number): number
  addL1Subgradient(n: number, lambda: number, x: number, g: number): void
  copy(n: number, x: number, y: number): void
  zero(n: number, x: number): void
  shiftedNegativeSquare(n: number, s: number, a: number, transposed: number, out: number): void
  hadamardL1Gradient(
    n: number,
    base: number,
    alpha: number,
    x: number,
    y: number,
    lambda: number,
    g: number
  ): number
  projectedAxpy(
    n: number,
    x: number,
    alpha: number,
    d: number,
    lower: number,
    upper: number,
    out: number
  ): void
  projectedGradientNorm(n: number, x: number, g: number, lower: number, upper: number): number
  cauchyBreakpoints(
    n: number,
    x: number,
    g: number,
    lower: number,
    upper: number,
    d: number,
    key: number,
    summary: number
  ): void
  cauchyPointComplete(
    n: number,
    x: number,
    d: number,
    t: number,
    lower: number,
    upper: number,
    xc: number,
    direction: number,
    free: number,
    changed: number
  ): number
  maxFeasibleStep(n: number, x: number, d: number, lower: number, upper: number, cap: number): number
  subtract(n: number, x: number, y: number, out: number): void
  storeColumnsGemvT(
    m: number,
    n: number,
    a: number,
    cu: number,
    cv: number,
    u: number,
    v: number,
    f: number,
    outA: number,
    outB: number,
    outC: number
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

/**
 * Writes the constants of the SIMD exp into linear memory (each in both lanes),
 * taken from the same definitions as the TypeScript exp so the two agree.
 */
const writeExpConstants = (heap: WasmHeap, kernels: KernelExports): void => {
  const address = heap.scratch(22 * 16)
  const f = new Float64Array(heap.memory.buffer, address, 44)
  const values = [
    EXP_MIN_INPUT,
    EXP_MAX_INPUT,
    LOG2_E,
    ROUNDING_SHIFTER,
    EXP_LN2_HI,
    EXP_LN2_LO,
    ...EXP_COEFFICIENTS
  ]
  values.forEach((v, i) => {
    f[2 * i] = v
    f[2 * i + 1] = v
  })
  const bits = new BigInt64Array(heap.memory.buffer, address + 20 * 16, 4)
  const shifterBits = new BigInt64Array(new Float64Array([ROUNDING_SHIFTER]).buffer)[0]!
  bits[0] = shifterBits
  bits[1] = shifterBits
  bits[2] = 1023n
  bits[3] = 1023n
  kernels.setExpConstants(address)
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
    const kernels = instance.exports as unknown as KernelExports
    writeExpConstants(heap, kernels)
    return { heap, kernels }
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
