/**
 * Memory of repeated differentiation: every `Autodiff` transformation frees the
 * temporaries of its call when it returns (`Memory.scoped`), so a training loop
 * of 10,000 gradient calls neither grows the kernels' WebAssembly memory
 * (`Memory.stats().liveBytes`) nor, after a forced collection, the JS heap.
 *
 * The workload is the logistic loss mean(softplus(Xw) − y⊙Xw) on a 200 × 20
 * design: each call records a graph of ~10 nodes and allocates ~8 arrays of 200
 * or 20 entries.
 */
import { spawnSync } from "node:child_process"
import { describe, expect, it } from "vitest"
import * as Autodiff from "../src/Autodiff.ts"
import type { Matrix } from "../src/Matrix.ts"
import * as Memory from "../src/Memory.ts"
import * as T from "../src/Tensor.ts"

type Tensor = T.Tensor

const wasmActive = Memory.backend() === "wasm-simd"

const ROWS = 200
const COLS = 20
/** Deterministic data (no randomness needed): X entries sin(0.37·k), labels 1 for every third row. */
const X: Matrix = {
  rows: ROWS,
  cols: COLS,
  data: Float64Array.from({ length: ROWS * COLS }, (_, k) => Math.sin(k * 0.37))
}
const y = Float64Array.from({ length: ROWS }, (_, i) => (i % 3 === 0 ? 1 : 0))
const w = Float64Array.from({ length: COLS }, (_, j) => 0.1 * Math.cos(j))

const logisticLoss = (v: Tensor): Tensor => {
  const z = T.matmul(X, v)
  return T.mean(T.sub(T.softplus(z), T.mul(y, z)))
}
const gradient = Autodiff.grad<[Float64Array]>(logisticLoss)

/** `n` gradient calls, each result returned to the allocator at once. */
const run = (n: number): void => {
  for (let i = 0; i < n; i++) Memory.free(gradient(w))
}

describe.runIf(wasmActive)("WebAssembly memory of repeated autodiff calls", () => {
  // Everything below is synchronous, so no finalizer of an earlier test's garbage can
  // change liveBytes between two readings: the counts are exact, not statistical.

  it("10,000 grad calls: liveBytes is the same after 1,000 and after 10,000 calls (and before)", () => {
    const before = Memory.stats()
    run(1_000)
    const after1000 = Memory.stats()
    run(9_000)
    const after10000 = Memory.stats()
    expect(after10000.liveBytes).toBe(after1000.liveBytes)
    expect(after1000.liveBytes).toBe(before.liveBytes)
    // Freed blocks are reused, so the memory itself does not grow either.
    expect(after10000.reservedBytes).toBe(after1000.reservedBytes)
  })

  it("the returned gradients are the only arrays a call leaves live", () => {
    const before = Memory.stats().liveBytes
    const one = gradient(w)
    const perGradient = Memory.stats().liveBytes - before
    // A 20-entry gradient (160 bytes) in a power-of-two block: 160 ≤ size < 320.
    expect(perGradient).toBeGreaterThanOrEqual(COLS * 8)
    expect(perGradient).toBeLessThan(2 * COLS * 8)
    const kept = [one]
    for (let i = 1; i < 10; i++) kept.push(gradient(w))
    expect(Memory.stats().liveBytes - before).toBe(10 * perGradient)
    for (const g of kept) expect(Memory.free(g)).toBe(true)
    expect(Memory.stats().liveBytes).toBe(before)
  })

  it("valueAndGrad, hvp, jvp, jacobian, hessian and checkGrad free their temporaries too", () => {
    const small = (v: Tensor): Tensor => T.logSumExp(T.matmul(T.reshape(T.slice(X.data, 0, 12), [3, 4]), v))
    const x4 = new Float64Array([0.1, -0.2, 0.3, 0.4])
    const before = Memory.stats().liveBytes
    for (let i = 0; i < 200; i++) {
      Memory.free(Autodiff.valueAndGrad<[Float64Array]>(logisticLoss)(w).gradient as Float64Array)
      Memory.free(Autodiff.hvp<Float64Array>(logisticLoss, w, w))
      const { output, tangent } = Autodiff.jvp<Float64Array>((v) => T.softmax(v), x4, x4)
      Memory.free(output as Float64Array)
      Memory.free(tangent as Float64Array)
      Memory.free(Autodiff.jacobian((v) => T.softmax(v), x4).data)
      Memory.free(Autodiff.hessian(small, x4).data)
      Autodiff.checkGrad(small, x4)
    }
    // checkGrad's two result arrays are plain Float64Arrays (not in wasm memory).
    expect(Memory.stats().liveBytes).toBe(before)
  })

  it("a function that throws inside grad leaves nothing live", () => {
    const before = Memory.stats().liveBytes
    const failing = (v: Tensor): Tensor => {
      const z = T.matmul(X, v) // allocated inside the call's scope
      return T.sum(T.add(z, new Float64Array(3)))
    }
    for (let i = 0; i < 100; i++) expect(() => Autodiff.grad<[Float64Array]>(failing)(w)).toThrow()
    expect(Memory.stats().liveBytes).toBe(before)
  })
})

describe("JS heap of repeated autodiff calls", () => {
  /**
   * A leak of the call's graph or of the wrappers of its arrays would retain
   * ≥ 1 kB per call — ≥ 9 MB over the 9,000 calls between the readings. With
   * nothing retained, heapUsed after a forced collection still moves by a few
   * hundred kB (optimized code, inline caches and feedback vectors created as the
   * loop warms up; ±0.2 MB observed). 1 MiB separates the two, and catches any
   * retention of ≥ 117 bytes per call.
   */
  const HEAP_GROWTH_BOUND = 1024 * 1024

  it("10,000 grad calls do not grow heapUsed (after a forced GC) beyond a small bound", () => {
    // In a child process with --expose-gc, so the collector can be driven deterministically;
    // it inherits DESCENT_BACKEND, so this runs on the backend of the vitest project.
    const path = (p: string) => JSON.stringify(new URL(p, import.meta.url).pathname)
    const script = `
      import * as T from ${path("../src/Tensor.ts")}
      import * as Autodiff from ${path("../src/Autodiff.ts")}
      import * as Memory from ${path("../src/Memory.ts")}
      const X = { rows: ${ROWS}, cols: ${COLS}, data: Float64Array.from({ length: ${ROWS * COLS} }, (_, k) => Math.sin(k * 0.37)) }
      const y = Float64Array.from({ length: ${ROWS} }, (_, i) => (i % 3 === 0 ? 1 : 0))
      const w = Float64Array.from({ length: ${COLS} }, (_, j) => 0.1 * Math.cos(j))
      const loss = (v) => { const z = T.matmul(X, v); return T.mean(T.sub(T.softplus(z), T.mul(y, z))) }
      const gradient = Autodiff.grad(loss)
      let check = 0
      const run = (n) => { for (let i = 0; i < n; i++) { const g = gradient(w); check += g[0]; Memory.free(g) } }
      const settle = async () => {
        for (let k = 0; k < 3; k++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 0)) }
      }
      const reading = () => ({ ...process.memoryUsage(), liveBytes: Memory.stats().liveBytes })
      run(1000); await settle(); const after1000 = reading()
      run(9000); await settle(); const after10000 = reading()
      console.log(JSON.stringify({ backend: Memory.backend(), calls: 10000, check, after1000, after10000 }))
    `
    const r = spawnSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", script], {
      encoding: "utf8"
    })
    expect(r.stderr).toBe("")
    const out = JSON.parse(r.stdout) as {
      backend: string
      check: number
      after1000: { heapUsed: number; arrayBuffers: number; liveBytes: number }
      after10000: { heapUsed: number; arrayBuffers: number; liveBytes: number }
    }
    expect(out.backend).toBe(Memory.backend())
    expect(Number.isFinite(out.check)).toBe(true)
    expect(out.after10000.heapUsed - out.after1000.heapUsed).toBeLessThan(HEAP_GROWTH_BOUND)
    // Array storage outside the JS heap (TypeScript backend) and the wasm memory: no growth at all
    // beyond the same bound, and the wasm allocator's live bytes are exactly unchanged.
    expect(out.after10000.arrayBuffers - out.after1000.arrayBuffers).toBeLessThan(HEAP_GROWTH_BOUND)
    expect(out.after10000.liveBytes).toBe(out.after1000.liveBytes)
  })
})
