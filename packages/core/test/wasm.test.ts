/**
 * The WebAssembly SIMD kernels against their TypeScript fallback: bit-identical
 * results on random shapes (sizes 0, 1, odd, not multiples of 8, offset views),
 * and the memory design (growth keeps earlier arrays intact, freed blocks are
 * reused, a long allocation loop stays bounded).
 */
import { spawnSync } from "node:child_process"
import { assertBitIdentical } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Blas1 from "../src/Blas1.ts"
import * as Blas2 from "../src/Blas2.ts"
import * as Blas3 from "../src/Blas3.ts"
import { createWasmHeap } from "../src/internal/wasm/memory.ts"
import * as Matrix from "../src/Matrix.ts"
import * as Memory from "../src/Memory.ts"
import * as Reductions from "../src/Reductions.ts"
import * as Vector from "../src/Vector.ts"

const wasmActive = Memory.backend() === "wasm-simd"
const SEED = 20261122

/** A wasm-resident copy (kernels run SIMD) and a heap copy (kernels run TypeScript). */
const both = (values: Float64Array): [Float64Array, Float64Array] => {
  const w = Vector.fromArray(values)
  return [w, Float64Array.from(values)]
}
const values = (n: number) =>
  fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: n, maxLength: n })
const size = fc.oneof(fc.constantFrom(0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 33), fc.integer({ min: 0, max: 300 }))

describe.runIf(wasmActive)("SIMD kernels equal the TypeScript fallback bit for bit", () => {
  it("long dot products (four streams from 65,536 entries on), with offset views", () => {
    for (const n of [65535, 65536, 65537, 65551, 100003]) {
      for (const off of [0, 1]) {
        const xs = new Float64Array(n + 1)
        const ys = new Float64Array(n + 1)
        for (let i = 0; i <= n; i++) {
          xs[i] = Math.sin(0.37 * i + n)
          ys[i] = Math.cos(0.11 * i - off)
        }
        const [xw, xh] = both(xs)
        const [yw, yh] = both(ys)
        const a = Blas1.dot(xw.subarray(off, off + n), yw.subarray(off, off + n))
        const b = Blas1.dot(xh.subarray(off, off + n), yh.subarray(off, off + n))
        expect(Object.is(a, b), `n = ${n}, offset ${off}`).toBe(true)
        // Against a sequential sum: any order agrees to ~n·ε relative to Σ|xᵢyᵢ|.
        let s = 0
        let abs = 0
        for (let i = off; i < off + n; i++) {
          s += xs[i]! * ys[i]!
          abs += Math.abs(xs[i]! * ys[i]!)
        }
        expect(Math.abs(a - s)).toBeLessThan(n * Number.EPSILON * abs)
      }
    }
  })

  it("level 1: dot, axpy, scal, rot, copy, nrm2, asum, sum (with offset views)", () => {
    fc.assert(
      fc.property(
        size.chain((n) => fc.tuple(values(n + 3), values(n + 3), fc.integer({ min: 0, max: 3 }))),
        ([xs, ys, off]) => {
          const [xw0, xh0] = both(Float64Array.from(xs))
          const [yw0, yh0] = both(Float64Array.from(ys))
          const n = xs.length - 3
          // Views at an offset exercise unaligned SIMD loads.
          const xw = xw0.subarray(off, off + n)
          const yw = yw0.subarray(off, off + n)
          const xh = xh0.subarray(off, off + n)
          const yh = yh0.subarray(off, off + n)
          expect(Memory.isWasmResident(xw)).toBe(true)
          expect(Memory.isWasmResident(xh)).toBe(false)
          expect(Object.is(Blas1.dot(xw, yw), Blas1.dot(xh, yh))).toBe(true)
          expect(Object.is(Blas1.nrm2(xw), Blas1.nrm2(xh))).toBe(true)
          expect(Object.is(Blas1.asum(xw), Blas1.asum(xh))).toBe(true)
          expect(Object.is(Reductions.sum(xw), Reductions.sum(xh))).toBe(true)
          Blas1.axpy(0.37, xw, yw)
          Blas1.axpy(0.37, xh, yh)
          assertBitIdentical(yw, yh, "axpy")
          Blas1.scal(-1.3, yw)
          Blas1.scal(-1.3, yh)
          assertBitIdentical(yw, yh, "scal")
          Blas1.rot(0.6, -0.8, xw, yw)
          Blas1.rot(0.6, -0.8, xh, yh)
          assertBitIdentical(xw, xh, "rot x")
          assertBitIdentical(yw, yh, "rot y")
          Blas1.copy(xw, yw)
          Blas1.copy(xh, yh)
          assertBitIdentical(yw, yh, "copy")
          assertBitIdentical(yw, xh, "copy equals its source")
          // Overlapping ranges (a memmove, as `set`): shift the parent left by `off`.
          if (n > 0) {
            Blas1.copy(xw0.subarray(off, off + n), xw0.subarray(0, n))
            Blas1.copy(xh0.subarray(off, off + n), xh0.subarray(0, n))
            assertBitIdentical(xw0, xh0, "overlapping copy")
          }
        }
      ),
      { seed: SEED, numRuns: 150 }
    )
  })

  it("gemv, gemvT and gemvPair", () => {
    fc.assert(
      fc.property(
        fc
          .tuple(size, size)
          .chain(([m, n]) => fc.tuple(fc.constant(m), fc.constant(n), values(m * n), values(m), values(n))),
        ([m, n, a, xm, xn]) => {
          const Aw = Matrix.fromData(m, n, Vector.fromArray(a))
          const Ah = { rows: m, cols: n, data: Float64Array.from(a) }
          const [xnw, xnh] = both(Float64Array.from(xn))
          const [xmw, xmh] = both(Float64Array.from(xm))
          const [yw, yh] = both(Float64Array.from(xm))
          Blas2.gemv(1.5, Aw, xnw, 0.5, yw)
          Blas2.gemv(1.5, Ah, xnh, 0.5, yh)
          assertBitIdentical(yw, yh, "gemv")
          const [zw, zh] = both(Float64Array.from(xn))
          Blas2.gemvT(-0.75, Aw, xmw, 2, zw)
          Blas2.gemvT(-0.75, Ah, xmh, 2, zh)
          assertBitIdentical(zw, zh, "gemvT")
          // The one-sweep pair equals gemv and gemvT, on both backends.
          const [pyw, pyh] = both(new Float64Array(m))
          const [pzw, pzh] = both(new Float64Array(n))
          Blas2.gemvPair(Aw, xnw, pyw, xmw, pzw)
          Blas2.gemvPair(Ah, xnh, pyh, xmh, pzh)
          assertBitIdentical(pyw, pyh, "gemvPair y")
          assertBitIdentical(pzw, pzh, "gemvPair z")
          const gy = Vector.zeros(m)
          const gz = Vector.zeros(n)
          Blas2.gemv(1, Aw, xnw, 0, gy)
          Blas2.gemvT(1, Aw, xmw, 0, gz)
          assertBitIdentical(pyw, gy, "gemvPair y = gemv")
          assertBitIdentical(pzw, gz, "gemvPair z = gemvT")
        }
      ),
      { seed: SEED, numRuns: 60 }
    )
  })

  it("trsv, trsm, symv and ger (row kernels dispatched to SIMD)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 20 }),
        fc.boolean(),
        fc.boolean(),
        (n, k, lower, transpose) => {
          // A well-conditioned triangular matrix: unit-ish diagonal, small off-diagonal.
          const a = new Float64Array(n * n).map((_, i) =>
            i % (n + 1) === 0 ? 2 + Math.sin(i) : 0.1 * Math.cos(i * 1.7)
          )
          const b = new Float64Array(n * k).map((_, i) => Math.sin(i * 0.3))
          const Aw = Matrix.fromData(n, n, Vector.fromArray(a))
          const Ah = { rows: n, cols: n, data: Float64Array.from(a) }
          const [bw, bh] = both(b.subarray(0, n))
          Blas2.trsv(Aw, bw, { lower, transpose })
          Blas2.trsv(Ah, bh, { lower, transpose })
          assertBitIdentical(bw, bh, "trsv")
          for (const side of ["left", "right"] as const) {
            const shape = side === "left" ? { rows: n, cols: k } : { rows: k, cols: n }
            const Bw = { ...shape, data: Vector.fromArray(b) }
            const Bh = { ...shape, data: Float64Array.from(b) }
            Blas3.trsm(Aw, Bw, { side, lower, transpose, alpha: 0.5 })
            Blas3.trsm(Ah, Bh, { side, lower, transpose, alpha: 0.5 })
            assertBitIdentical(Bw.data, Bh.data, `trsm ${side}`)
          }
          const [xw, xh] = both(b.subarray(0, n))
          const [yw, yh] = both(b.subarray(0, n).map((v) => v * 3))
          Blas2.symv(1.5, Aw, xw, 0.25, yw)
          Blas2.symv(1.5, Ah, xh, 0.25, yh)
          assertBitIdentical(yw, yh, "symv")
          Blas2.ger(-0.5, xw, yw, Aw)
          Blas2.ger(-0.5, xh, yh, Ah)
          assertBitIdentical(Aw.data, Ah.data, "ger")
        }
      ),
      { seed: SEED, numRuns: 60 }
    )
  })

  it("gemm, all transpose combinations, across block boundaries", () => {
    const dims = fc.oneof(fc.constantFrom(0, 1, 3, 4, 5, 129), fc.integer({ min: 1, max: 70 }))
    fc.assert(
      fc.property(
        fc.tuple(dims, dims, fc.oneof(dims, fc.constant(260)), fc.boolean(), fc.boolean()),
        ([m, n, k, tA, tB]) => {
          const a = new Float64Array(m * k).map((_, i) => Math.sin(i * 1.3 + m))
          const b = new Float64Array(k * n).map((_, i) => Math.cos(i * 0.7 + n))
          const c = new Float64Array(m * n).map((_, i) => Math.sin(i))
          const A = (data: Float64Array) => (tA ? { rows: k, cols: m, data } : { rows: m, cols: k, data })
          const B = (data: Float64Array) => (tB ? { rows: n, cols: k, data } : { rows: k, cols: n, data })
          const Cw = Matrix.fromData(m, n, Vector.fromArray(c))
          const Ch = { rows: m, cols: n, data: Float64Array.from(c) }
          Blas3.gemm(tA, tB, 1.25, A(Vector.fromArray(a)), B(Vector.fromArray(b)), 0.5, Cw)
          Blas3.gemm(tA, tB, 1.25, A(Float64Array.from(a)), B(Float64Array.from(b)), 0.5, Ch)
          assertBitIdentical(Cw.data, Ch.data, "gemm")
        }
      ),
      { seed: SEED, numRuns: 40 }
    )
  })
})

describe.runIf(wasmActive)("WebAssembly memory", () => {
  it("growing the memory keeps earlier arrays intact", () => {
    const heap = createWasmHeap()
    const first = heap.allocate(1000)!
    for (let i = 0; i < first.length; i++) first[i] = i * 0.5
    const before = heap.byteLength()
    // 64 MiB forces several growths past the 1 MiB initial size.
    const big = heap.allocate(8 * 1024 * 1024)!
    big.fill(7)
    expect(heap.byteLength()).toBeGreaterThan(before)
    expect(first.length).toBe(1000)
    for (let i = 0; i < first.length; i++) expect(first[i]).toBe(i * 0.5)
    expect(heap.contains(first)).toBe(true)
    expect(heap.contains(big)).toBe(true)
  })

  it("freed blocks are reused and come back zeroed", () => {
    const heap = createWasmHeap()
    const a = heap.allocate(100)!
    a.fill(3)
    const address = a.byteOffset
    expect(heap.free(a)).toBe(true)
    expect(heap.free(a)).toBe(false)
    const b = heap.allocate(90)!
    expect(b.byteOffset).toBe(address)
    expect(Array.from(b).every((v) => v === 0)).toBe(true)
  })

  it("fresh blocks (never handed out, some past a growth) are zero without being cleared", () => {
    const heap = createWasmHeap()
    // Dirty every reused block on the way, and interleave raw scratch.
    for (let round = 0; round < 6; round++) {
      const sizes = [1, 7, 100, 3000, 70_000 << round]
      const arrays = sizes.map((n) => heap.allocate(n)!)
      for (const x of arrays) expect(x.every((v) => v === 0)).toBe(true)
      for (const x of arrays) x.fill(round + 1)
      heap.scratch(4096 + round)
      // Free half: the next round gets some reused blocks and some fresh ones.
      for (let i = 0; i < arrays.length; i += 2) heap.free(arrays[i]!)
    }
  })

  it("an array made by calling a heap array's constructor lives on the JS heap and is not taken for a heap block", () => {
    const heap = createWasmHeap()
    const a = heap.allocate(8)!
    // Generic code may copy an array with `new x.constructor(n)`.
    const Make = a.constructor as new (n: number) => Float64Array
    const c = new Make(4)
    expect(c.length).toBe(4)
    expect(heap.contains(c)).toBe(false)
    expect(heap.free(c)).toBe(false)
    expect(heap.contains(a)).toBe(true)
    expect(heap.free(a)).toBe(true)
  })

  it("a freed array's later finalization does not return its block a second time", () => {
    // `free` leaves the registry entry in place (no unregister token): when the
    // freed array is collected, the callback must skip its block, which by then
    // belongs to another array. Run with --expose-gc to collect deterministically.
    const script = `
      import { createWasmHeap } from ${JSON.stringify(new URL("../src/internal/wasm/memory.ts", import.meta.url).pathname)}
      const heap = createWasmHeap()
      let x = heap.allocate(10)
      const xOffset = x.byteOffset
      heap.free(x)
      const y = heap.allocate(10)          // reuses x's block
      x = undefined
      for (let k = 0; k < 3; k++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)) }
      const z = heap.allocate(10)          // must not get y's block again
      y[0] = 1
      console.log(JSON.stringify({ reused: y.byteOffset === xOffset, distinct: z.byteOffset !== y.byteOffset, z0: z[0], live: heap.liveBytes(), freedAgain: heap.free(y) && !heap.free(y) }))
    `
    const r = spawnSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", script], {
      encoding: "utf8"
    })
    expect(r.stderr).toBe("")
    // Two live 80-byte arrays in 128-byte blocks.
    expect(JSON.parse(r.stdout)).toEqual({ reused: true, distinct: true, z0: 0, live: 256, freedAgain: true })
  })

  it("past the soft limit it declines, so the caller allocates on the JS heap instead of growing", () => {
    const heap = createWasmHeap(4 * 1024 * 1024)
    const kept: Array<Float64Array | undefined> = []
    for (let i = 0; i < 20; i++) kept.push(heap.allocate(64 * 1024))
    expect(heap.byteLength()).toBeLessThanOrEqual(4 * 1024 * 1024)
    expect(kept.filter((x) => x !== undefined).length).toBeGreaterThan(0)
    expect(kept.some((x) => x === undefined)).toBe(true)
  })

  it("a long loop of allocations without free does not grow memory without bound", () => {
    // In a child process with --expose-gc, so the collector (and the
    // FinalizationRegistry safety net) can be driven deterministically.
    const script = `
      import * as Vector from ${JSON.stringify(new URL("../src/Vector.ts", import.meta.url).pathname)}
      import * as Memory from ${JSON.stringify(new URL("../src/Memory.ts", import.meta.url).pathname)}
      const sizes = []
      for (let round = 0; round < 20; round++) {
        for (let i = 0; i < 500; i++) Vector.zeros(10_000)[0] = i  // 80 kB each, 800 MB in all
        globalThis.gc(); await new Promise((r) => setTimeout(r, 10))
        sizes.push(Memory.stats().reservedBytes)
      }
      console.log(JSON.stringify(sizes))
    `
    const r = spawnSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", script], {
      encoding: "utf8"
    })
    expect(r.stderr).toBe("")
    const sizes = JSON.parse(r.stdout) as number[]
    // 500 live arrays of 128 KiB blocks need ~64 MiB; allow growth to 2× that, and
    // require that the second half of the run grows no further.
    expect(sizes.at(-1)!).toBeLessThanOrEqual(160 * 1024 * 1024)
    expect(sizes.at(-1)).toBe(sizes[9])
  })
})

describe("backend selection", () => {
  it("is queryable and honours DESCENT_BACKEND", () => {
    const forced = process.env.DESCENT_BACKEND
    expect(Memory.backend()).toBe(forced === "typescript" ? "typescript" : "wasm-simd")
    const r = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import * as M from ${JSON.stringify(new URL("../src/Memory.ts", import.meta.url).pathname)}; console.log(M.backend())`
      ],
      { encoding: "utf8", env: { ...process.env, DESCENT_BACKEND: "typescript" } }
    )
    expect(r.stdout.trim()).toBe("typescript")
  })
})
