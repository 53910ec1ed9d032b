// WebAssembly SIMD kernels of @descent/core, in AssemblyScript.
//
// Every function takes byte addresses into the module's (imported, shared)
// linear memory. Each kernel reproduces, operation for operation, the
// summation order of its TypeScript fallback in ../src, so both backends give
// bit-identical results: plain IEEE mul then add (no fused multiply-add), f64x2
// lanes standing for the TypeScript code's independent partial sums.
//
// Compiled by scripts/wasm.ts into src/internal/wasm/kernelsModule.ts.

// ── level 1 ────────────────────────────────────────────────────────────────

// Four f64x2 accumulators = the eight partial sums s0…s7 of internal/level1.ts:
// acc0 = (s0, s1), acc1 = (s2, s3), acc2 = (s4, s5), acc3 = (s6, s7), combined as
// ((s0+s2)+(s4+s6)) + ((s1+s3)+(s5+s7)).
@inline function combine(a0: v128, a1: v128, a2: v128, a3: v128): f64 {
  const t = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3))
  return f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1)
}

export function dot(n: i32, x: usize, y: usize): f64 {
  let a0 = f64x2.splat(0)
  let a1 = f64x2.splat(0)
  let a2 = f64x2.splat(0)
  let a3 = f64x2.splat(0)
  const n8 = n & ~7
  let i = 0
  for (; i < n8; i += 8) {
    const o = (<usize>i) << 3
    a0 = f64x2.add(a0, f64x2.mul(v128.load(x + o), v128.load(y + o)))
    a1 = f64x2.add(a1, f64x2.mul(v128.load(x + o, 16), v128.load(y + o, 16)))
    a2 = f64x2.add(a2, f64x2.mul(v128.load(x + o, 32), v128.load(y + o, 32)))
    a3 = f64x2.add(a3, f64x2.mul(v128.load(x + o, 48), v128.load(y + o, 48)))
  }
  let s = combine(a0, a1, a2, a3)
  for (; i < n; i++) {
    const o = (<usize>i) << 3
    s += load<f64>(x + o) * load<f64>(y + o)
  }
  return s
}

export function sumSquares(n: i32, x: usize): f64 {
  let a0 = f64x2.splat(0)
  let a1 = f64x2.splat(0)
  let a2 = f64x2.splat(0)
  let a3 = f64x2.splat(0)
  const n8 = n & ~7
  let i = 0
  for (; i < n8; i += 8) {
    const o = (<usize>i) << 3
    const v0 = v128.load(x + o)
    const v1 = v128.load(x + o, 16)
    const v2 = v128.load(x + o, 32)
    const v3 = v128.load(x + o, 48)
    a0 = f64x2.add(a0, f64x2.mul(v0, v0))
    a1 = f64x2.add(a1, f64x2.mul(v1, v1))
    a2 = f64x2.add(a2, f64x2.mul(v2, v2))
    a3 = f64x2.add(a3, f64x2.mul(v3, v3))
  }
  let s = combine(a0, a1, a2, a3)
  for (; i < n; i++) {
    const v = load<f64>(x + ((<usize>i) << 3))
    s += v * v
  }
  return s
}

export function absSum(n: i32, x: usize): f64 {
  let a0 = f64x2.splat(0)
  let a1 = f64x2.splat(0)
  let a2 = f64x2.splat(0)
  let a3 = f64x2.splat(0)
  const n8 = n & ~7
  let i = 0
  for (; i < n8; i += 8) {
    const o = (<usize>i) << 3
    a0 = f64x2.add(a0, f64x2.abs(v128.load(x + o)))
    a1 = f64x2.add(a1, f64x2.abs(v128.load(x + o, 16)))
    a2 = f64x2.add(a2, f64x2.abs(v128.load(x + o, 32)))
    a3 = f64x2.add(a3, f64x2.abs(v128.load(x + o, 48)))
  }
  let s = combine(a0, a1, a2, a3)
  for (; i < n; i++) s += Math.abs(load<f64>(x + ((<usize>i) << 3)))
  return s
}

export function sum(n: i32, x: usize): f64 {
  let a0 = f64x2.splat(0)
  let a1 = f64x2.splat(0)
  let a2 = f64x2.splat(0)
  let a3 = f64x2.splat(0)
  const n8 = n & ~7
  let i = 0
  for (; i < n8; i += 8) {
    const o = (<usize>i) << 3
    a0 = f64x2.add(a0, v128.load(x + o))
    a1 = f64x2.add(a1, v128.load(x + o, 16))
    a2 = f64x2.add(a2, v128.load(x + o, 32))
    a3 = f64x2.add(a3, v128.load(x + o, 48))
  }
  let s = combine(a0, a1, a2, a3)
  for (; i < n; i++) s += load<f64>(x + ((<usize>i) << 3))
  return s
}

// y ← y + α·x
export function axpy(n: i32, alpha: f64, x: usize, y: usize): void {
  const va = f64x2.splat(alpha)
  const n8 = n & ~7
  let i = 0
  for (; i < n8; i += 8) {
    const o = (<usize>i) << 3
    v128.store(y + o, f64x2.add(v128.load(y + o), f64x2.mul(va, v128.load(x + o))))
    v128.store(y + o, f64x2.add(v128.load(y + o, 16), f64x2.mul(va, v128.load(x + o, 16))), 16)
    v128.store(y + o, f64x2.add(v128.load(y + o, 32), f64x2.mul(va, v128.load(x + o, 32))), 32)
    v128.store(y + o, f64x2.add(v128.load(y + o, 48), f64x2.mul(va, v128.load(x + o, 48))), 48)
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 3
    store<f64>(y + o, load<f64>(y + o) + alpha * load<f64>(x + o))
  }
}

// x ← α·x
export function scal(n: i32, alpha: f64, x: usize): void {
  const va = f64x2.splat(alpha)
  const n2 = n & ~1
  let i = 0
  for (; i < n2; i += 2) {
    const o = (<usize>i) << 3
    v128.store(x + o, f64x2.mul(va, v128.load(x + o)))
  }
  if (i < n) {
    const o = (<usize>i) << 3
    store<f64>(x + o, alpha * load<f64>(x + o))
  }
}

// ── level 2 ────────────────────────────────────────────────────────────────

// y_i ← α·dot(A_i, x) (+ β·y_i when beta is nonzero)
export function gemv(m: i32, n: i32, alpha: f64, a: usize, x: usize, beta: f64, y: usize): void {
  const rowBytes = (<usize>n) << 3
  for (let i = 0; i < m; i++) {
    const d = alpha * dot(n, a + (<usize>i) * rowBytes, x)
    const o = (<usize>i) << 3
    if (beta == 0) store<f64>(y + o, d)
    else store<f64>(y + o, d + beta * load<f64>(y + o))
  }
}

// y ← y + Σ_i (α x_i)·A_i, four rows per sweep; y already scaled by β.
export function gemvTUpdate(m: i32, n: i32, alpha: f64, a: usize, x: usize, y: usize): void {
  const rowBytes = (<usize>n) << 3
  let i = 0
  for (; i + 4 <= m; i += 4) {
    const xo = (<usize>i) << 3
    const t0 = alpha * load<f64>(x + xo)
    const t1 = alpha * load<f64>(x + xo, 8)
    const t2 = alpha * load<f64>(x + xo, 16)
    const t3 = alpha * load<f64>(x + xo, 24)
    const v0 = f64x2.splat(t0)
    const v1 = f64x2.splat(t1)
    const v2 = f64x2.splat(t2)
    const v3 = f64x2.splat(t3)
    const r0 = a + (<usize>i) * rowBytes
    const r1 = r0 + rowBytes
    const r2 = r1 + rowBytes
    const r3 = r2 + rowBytes
    const n2 = n & ~1
    let j = 0
    for (; j < n2; j += 2) {
      const o = (<usize>j) << 3
      let acc = f64x2.add(v128.load(y + o), f64x2.mul(v0, v128.load(r0 + o)))
      acc = f64x2.add(acc, f64x2.mul(v1, v128.load(r1 + o)))
      acc = f64x2.add(acc, f64x2.mul(v2, v128.load(r2 + o)))
      acc = f64x2.add(acc, f64x2.mul(v3, v128.load(r3 + o)))
      v128.store(y + o, acc)
    }
    if (j < n) {
      const o = (<usize>j) << 3
      store<f64>(
        y + o,
        load<f64>(y + o) + t0 * load<f64>(r0 + o) + t1 * load<f64>(r1 + o) + t2 * load<f64>(r2 + o) + t3 * load<f64>(r3 + o)
      )
    }
  }
  for (; i < m; i++) axpy(n, alpha * load<f64>(x + ((<usize>i) << 3)), a + (<usize>i) * rowBytes, y)
}

// ── level 3: gemm micro-kernel and packing ────────────────────────────────

// Packs α·op(A)[ic:ic+mc, pc:pc+kc] into row panels of 4 (k-major, zero-padded).
export function packA(trans: i32, alpha: f64, a: usize, lda: i32, ic: i32, mc: i32, pc: i32, kc: i32, out: usize): void {
  let o = out
  for (let r0 = 0; r0 < mc; r0 += 4) {
    const rows = min(4, mc - r0)
    for (let p = 0; p < kc; p++) {
      for (let r = 0; r < 4; r++) {
        let v: f64 = 0
        if (r < rows) {
          const i = ic + r0 + r
          const idx = trans ? (pc + p) * lda + i : i * lda + pc + p
          v = alpha * load<f64>(a + ((<usize>idx) << 3))
        }
        store<f64>(o, v)
        o += 8
      }
    }
  }
}

// Packs op(B)[pc:pc+kc, jc:jc+nc] into column panels of 4 (k-major, zero-padded).
export function packB(trans: i32, b: usize, ldb: i32, pc: i32, kc: i32, jc: i32, nc: i32, out: usize): void {
  let o = out
  for (let j0 = 0; j0 < nc; j0 += 4) {
    const cols = min(4, nc - j0)
    for (let p = 0; p < kc; p++) {
      for (let q = 0; q < 4; q++) {
        let v: f64 = 0
        if (q < cols) {
          const j = jc + j0 + q
          const idx = trans ? j * ldb + pc + p : (pc + p) * ldb + j
          v = load<f64>(b + ((<usize>idx) << 3))
        }
        store<f64>(o, v)
        o += 8
      }
    }
  }
}

// C[ic:ic+mc, jc:jc+nc] += packedA · packedB over one kc block: 4 × 4 tiles,
// each as eight f64x2 accumulators (two per row).
export function macroKernel(kc: i32, mc: i32, nc: i32, ap: usize, bp: usize, c: usize, ldc: i32, ic: i32, jc: i32): void {
  const panelBytes = (<usize>kc) << 5 // 4 doubles per k step
  for (let jr = 0; jr < nc; jr += 4) {
    const nr = min(4, nc - jr)
    const bPanel = bp + (<usize>(jr >> 2)) * panelBytes
    for (let ir = 0; ir < mc; ir += 4) {
      const mr = min(4, mc - ir)
      const aPanel = ap + (<usize>(ir >> 2)) * panelBytes
      let c0a = f64x2.splat(0)
      let c0b = f64x2.splat(0)
      let c1a = f64x2.splat(0)
      let c1b = f64x2.splat(0)
      let c2a = f64x2.splat(0)
      let c2b = f64x2.splat(0)
      let c3a = f64x2.splat(0)
      let c3b = f64x2.splat(0)
      let pa = aPanel
      let pb = bPanel
      for (let p = 0; p < kc; p++) {
        const b01 = v128.load(pb)
        const b23 = v128.load(pb, 16)
        const a0 = v128.load64_splat(pa)
        const a1 = v128.load64_splat(pa, 8)
        const a2 = v128.load64_splat(pa, 16)
        const a3 = v128.load64_splat(pa, 24)
        c0a = f64x2.add(c0a, f64x2.mul(a0, b01))
        c0b = f64x2.add(c0b, f64x2.mul(a0, b23))
        c1a = f64x2.add(c1a, f64x2.mul(a1, b01))
        c1b = f64x2.add(c1b, f64x2.mul(a1, b23))
        c2a = f64x2.add(c2a, f64x2.mul(a2, b01))
        c2b = f64x2.add(c2b, f64x2.mul(a2, b23))
        c3a = f64x2.add(c3a, f64x2.mul(a3, b01))
        c3b = f64x2.add(c3b, f64x2.mul(a3, b23))
        pa += 32
        pb += 32
      }
      const co = c + (((<usize>(ic + ir)) * ldc + jc + jr) << 3)
      const ldcBytes = (<usize>ldc) << 3
      if (mr == 4 && nr == 4) {
        storeRow(co, c0a, c0b)
        storeRow(co + ldcBytes, c1a, c1b)
        storeRow(co + 2 * ldcBytes, c2a, c2b)
        storeRow(co + 3 * ldcBytes, c3a, c3b)
      } else {
        storeEdge(co, nr, c0a, c0b)
        if (mr > 1) storeEdge(co + ldcBytes, nr, c1a, c1b)
        if (mr > 2) storeEdge(co + 2 * ldcBytes, nr, c2a, c2b)
        if (mr > 3) storeEdge(co + 3 * ldcBytes, nr, c3a, c3b)
      }
    }
  }
}

@inline function storeRow(p: usize, lo: v128, hi: v128): void {
  v128.store(p, f64x2.add(v128.load(p), lo))
  v128.store(p, f64x2.add(v128.load(p, 16), hi), 16)
}

@inline function storeEdge(p: usize, nr: i32, lo: v128, hi: v128): void {
  store<f64>(p, load<f64>(p) + f64x2.extract_lane(lo, 0))
  if (nr > 1) store<f64>(p, load<f64>(p, 8) + f64x2.extract_lane(lo, 1), 8)
  if (nr > 2) store<f64>(p, load<f64>(p, 16) + f64x2.extract_lane(hi, 0), 16)
  if (nr > 3) store<f64>(p, load<f64>(p, 24) + f64x2.extract_lane(hi, 1), 24)
}
