/**
 * The WebAssembly linear memory that core's arrays live in, and its allocator.
 *
 * Design (see the package README, "Memory"):
 * - One *shared* `WebAssembly.Memory` with a declared maximum (4 GiB). Growing a
 *   shared memory never detaches its buffer, so every array handed out earlier
 *   stays valid; V8 reserves the address range up front and grows in place.
 * - Blocks are handed out in power-of-two size classes (≥ 64 bytes, 16-byte
 *   aligned for SIMD loads) from a bump pointer, and returned to per-class free
 *   lists. Reuse is exact-class, so there is no fragmentation bookkeeping; the
 *   price is at most 2× slack per array.
 * - Arrays are returned by an explicit `free`, or by a `FinalizationRegistry`
 *   once unreachable. A `subarray` view keeps its parent reachable (a WeakMap
 *   from view to parent), so the registry never frees memory a view still shows.
 * - An array carries its block (a field of the subclass), and the registry
 *   entry has no unregister token: `free` marks the block released, and the
 *   registry's later callback skips it. A WeakMap from array to block plus a
 *   token cost 2–5 µs per allocation (ephemeron and token tables the collector
 *   must process), the field and a plain entry about 0.15 µs.
 * - Past a soft limit the allocator stops growing the memory and hands out
 *   ordinary heap arrays instead; those count towards V8's heap, so the
 *   collector runs, the registry returns dead blocks, and wasm allocation resumes.
 *   A long loop of allocations therefore stays bounded.
 */

const PAGE_BYTES = 65536
/** 4 GiB: the whole 32-bit address space of wasm32. */
const MAXIMUM_PAGES = 65536
const MIN_CLASS = 6 // 64 bytes
/**
 * Colour step for large arrays: a 64 KiB page plus four cache lines (bytes; a
 * multiple of 16). Measured against 4 KiB + 64 B, 8 KiB + 192 B and
 * 2 KiB + 64 B: the largest step read DRAM fastest (dot at 2.5e7: 26 GB/s
 * against 23–25).
 */
const COLOUR_STEP = 65536 + 256
/** Number of distinct colours (start offsets 0 … 15 steps). */
const COLOURS = 16
/** Beyond this, allocate on the JS heap rather than grow (bytes). */
const DEFAULT_SOFT_LIMIT = 2 ** 31

export interface WasmHeap {
  readonly memory: WebAssembly.Memory
  /** Allocates a zeroed array of n doubles in linear memory, or undefined past the soft limit. */
  allocate(n: number): Float64Array | undefined
  /** Returns an array's block to the free lists; a no-op for arrays not from this heap. */
  free(x: Float64Array): boolean
  /** True when `x` lies in this heap's memory (kernels may run on it in place). */
  contains(x: Float64Array): boolean
  /** Bytes currently reserved by the memory. */
  byteLength(): number
  /** Bytes in live (not freed) blocks. */
  liveBytes(): number
  /** Allocates raw scratch bytes that are never freed (packing buffers). */
  scratch(bytes: number): number
  /** Starts recording allocations; returns a token for `closeScope`. */
  openScope(): number
  /** Frees every array allocated since `openScope(token)` except those in `keep`. */
  closeScope(token: number, keep: ReadonlySet<Float64Array>): void
}

interface Block {
  readonly address: number
  readonly sizeClass: number
  /** False once the block is back on a free list (by `free`, a scope, or the registry). */
  live: boolean
}

/**
 * Arrays allocated in wasm memory. A subclass only so that `subarray` can tie a
 * view's lifetime to its parent; `Symbol.species` is plain Float64Array, so
 * views, `slice` and `map` produce ordinary Float64Arrays.
 */
const Float64ArrayLike: new (
  buffer: ArrayBufferLike,
  byteOffset: number,
  length: number
) => Float64Array<ArrayBufferLike> = Float64Array
class WasmFloat64Array extends Float64ArrayLike {
  // Private, so not an own property: deep equality (`toEqual`, `isDeepStrictEqual`)
  // sees a plain Float64Array.
  readonly #block: Block | undefined
  constructor(buffer: ArrayBufferLike, byteOffset: number, length: number, block: Block) {
    super(buffer, byteOffset, length)
    this.#block = block
  }
  /**
   * The block the array lives in; undefined for an array made by calling the
   * class directly (`new x.constructor(n)`), which lives on the JS heap.
   */
  get block(): Block | undefined {
    return this.#block
  }
  static get [Symbol.species]() {
    return Float64Array
  }
  override subarray(begin?: number, end?: number): Float64Array<ArrayBufferLike> {
    const view = super.subarray(begin, end)
    parentOf.set(view, this)
    return view
  }
}
const parentOf = new WeakMap<Float64Array, Float64Array>()

export const createWasmHeap = (softLimit = DEFAULT_SOFT_LIMIT): WasmHeap => {
  const memory = new WebAssembly.Memory({ initial: 16, maximum: MAXIMUM_PAGES, shared: true })
  // Every buffer object the memory has produced (one per growth, so a few
  // dozen at most). Arrays made before a growth keep the old object, and
  // kernels ask `contains` on every call: a scan of this short list, newest
  // first, costs a few pointer comparisons where a WeakSet lookup costs a
  // hash probe (measured: 18 % of a 10-dimensional SGD step in the runner).
  const buffers: Array<ArrayBufferLike> = [memory.buffer]
  let current: ArrayBufferLike = memory.buffer
  // Address 0 stays unused so that 0 never names a live block.
  let top = 1024
  let live = 0
  const freeLists: number[][] = []
  const registry = new FinalizationRegistry<Block>((block) => release(block))
  // Arrays allocated while a scope is open, in allocation order; scopes nest as
  // positions in this list.
  const scoped: Float64Array[] = []
  let openScopes = 0

  /** Returns a live block to its free list (once: a freed block's registry callback comes later). */
  const release = (block: Block): void => {
    if (!block.live) return
    block.live = false
    live -= 2 ** block.sizeClass
    ;(freeLists[block.sizeClass] ??= []).push(block.address)
  }

  const ensure = (end: number): boolean => {
    const have = memory.buffer.byteLength
    if (end <= have) return true
    if (end > softLimit) return false
    const pages = Math.ceil((end - have) / PAGE_BYTES)
    // Grow geometrically so a sequence of allocations grows O(log) times
    // (by half the current size), but never past the soft limit or the maximum.
    const cap = Math.min(MAXIMUM_PAGES, Math.floor(softLimit / PAGE_BYTES)) - have / PAGE_BYTES
    const want = Math.min(cap, Math.max(pages, Math.floor(have / PAGE_BYTES / 2)))
    try {
      memory.grow(Math.max(pages, want))
    } catch {
      return false
    }
    current = memory.buffer
    buffers.push(current)
    return true
  }

  let colour = 0
  /** A byte offset (a multiple of 16) for the next large array, at most `slack`. */
  const colourOffset = (slack: number): number => {
    if (slack < COLOUR_STEP) return 0
    colour = (colour + 1) % COLOURS
    return Math.min(colour, Math.floor(slack / COLOUR_STEP)) * COLOUR_STEP
  }

  const scratch = (bytes: number): number => {
    const address = (top + 15) & ~15
    if (!ensure(address + bytes)) throw new RangeError("descent: WebAssembly memory exhausted")
    top = address + bytes
    return address
  }

  return {
    memory,
    allocate: (n) => {
      const bytes = Math.max(n * 8, 1)
      const sizeClass = Math.max(MIN_CLASS, Math.ceil(Math.log2(bytes)))
      let address = freeLists[sizeClass]?.pop()
      // A block past the old top has never been handed out, and memory grows
      // zero-filled, so only reused blocks need clearing (a fresh large array
      // then touches no page until it is written).
      const reused = address !== undefined
      if (address === undefined) {
        const size = 2 ** sizeClass
        const start = (top + 15) & ~15
        if (!ensure(start + size)) return undefined
        address = start
        top = start + size
      }
      // Cache colouring: two large arrays in same-class blocks start exactly a
      // power of two apart, so x[i] and y[i] map to the same cache sets and
      // DRAM banks and a two-stream kernel (dot, axpy) thrashes (measured:
      // dot at 2.5e7 reads 19 GB/s with aligned starts, 25 with staggered
      // ones). Where the block has room, the array starts a varying number of
      // colour steps into it; the block itself is unchanged.
      const offset = colourOffset(2 ** sizeClass - n * 8)
      const block: Block = { address, sizeClass, live: true }
      const x = new WasmFloat64Array(current, address + offset, n, block)
      if (reused && n > 0) x.fill(0)
      live += 2 ** sizeClass
      registry.register(x, block)
      if (openScopes > 0) scoped.push(x)
      return x
    },
    free: (x) => {
      if (x.constructor !== WasmFloat64Array) return false
      const block = (x as WasmFloat64Array).block
      if (block === undefined || !block.live) return false
      release(block)
      return true
    },
    contains: (x) => {
      // Arrays this heap allocated are WasmFloat64Arrays (views, slices and
      // maps are plain Float64Arrays: see `Symbol.species`). Comparing the
      // constructor takes ≈ 1 ns; reading `x.buffer` ≈ 14 ns and `instanceof`
      // a subclass of a typed array ≈ 28 ns in V8, several times per kernel
      // call: most of the cost of a kernel on 10 entries.
      if (x.constructor === WasmFloat64Array && (x as WasmFloat64Array).block !== undefined) return true
      const b = x.buffer
      if (b === current) return true
      for (let i = buffers.length - 2; i >= 0; i--) if (buffers[i] === b) return true
      return false
    },
    byteLength: () => memory.buffer.byteLength,
    liveBytes: () => live,
    scratch,
    openScope: () => {
      openScopes++
      return scoped.length
    },
    closeScope: (token, keep) => {
      openScopes--
      for (let i = token; i < scoped.length; i++) {
        const x = scoped[i]!
        if (keep.has(x)) continue
        release((x as WasmFloat64Array).block!)
      }
      // Kept arrays stay recorded for an enclosing scope.
      const kept = scoped.slice(token).filter((x) => keep.has(x))
      scoped.length = token
      if (openScopes > 0) scoped.push(...kept)
    }
  }
}
