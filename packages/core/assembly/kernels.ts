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

// The dot product of long vectors (internal/level1.ts `dotLongAt`, same
// order): four streams, the quarters of the vectors, each with two f64x2
// accumulators (a_k: indices ≡ 0, 1 mod 4; b_k: ≡ 2, 3), so the core keeps
// fetches from four places in flight.
export function dotLong(n: i32, x: usize, y: usize): f64 {
  let a0 = f64x2.splat(0)
  let a1 = f64x2.splat(0)
  let a2 = f64x2.splat(0)
  let a3 = f64x2.splat(0)
  let b0 = f64x2.splat(0)
  let b1 = f64x2.splat(0)
  let b2 = f64x2.splat(0)
  let b3 = f64x2.splat(0)
  const q = (n >> 2) & ~3
  const qb = (<usize>q) << 3
  for (let i = 0; i < q; i += 4) {
    const o0 = (<usize>i) << 3
    a0 = f64x2.add(a0, f64x2.mul(v128.load(x + o0), v128.load(y + o0)))
    b0 = f64x2.add(b0, f64x2.mul(v128.load(x + o0, 16), v128.load(y + o0, 16)))
    const o1 = o0 + qb
    a1 = f64x2.add(a1, f64x2.mul(v128.load(x + o1), v128.load(y + o1)))
    b1 = f64x2.add(b1, f64x2.mul(v128.load(x + o1, 16), v128.load(y + o1, 16)))
    const o2 = o1 + qb
    a2 = f64x2.add(a2, f64x2.mul(v128.load(x + o2), v128.load(y + o2)))
    b2 = f64x2.add(b2, f64x2.mul(v128.load(x + o2, 16), v128.load(y + o2, 16)))
    const o3 = o2 + qb
    a3 = f64x2.add(a3, f64x2.mul(v128.load(x + o3), v128.load(y + o3)))
    b3 = f64x2.add(b3, f64x2.mul(v128.load(x + o3, 16), v128.load(y + o3, 16)))
  }
  const t = f64x2.add(f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3)), f64x2.add(f64x2.add(b0, b1), f64x2.add(b2, b3)))
  let s = f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1)
  for (let i = 4 * q; i < n; i++) {
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

// Plane rotation: (x, y) ← (c·x + s·y, c·y − s·x)
export function rot(n: i32, c: f64, s: f64, x: usize, y: usize): void {
  const vc = f64x2.splat(c)
  const vs = f64x2.splat(s)
  const n2 = n & ~1
  let i = 0
  for (; i < n2; i += 2) {
    const o = (<usize>i) << 3
    const xv = v128.load(x + o)
    const yv = v128.load(y + o)
    v128.store(x + o, f64x2.add(f64x2.mul(vc, xv), f64x2.mul(vs, yv)))
    v128.store(y + o, f64x2.sub(f64x2.mul(vc, yv), f64x2.mul(vs, xv)))
  }
  if (i < n) {
    const o = (<usize>i) << 3
    const xv = load<f64>(x + o)
    const yv = load<f64>(y + o)
    store<f64>(x + o, c * xv + s * yv)
    store<f64>(y + o, c * yv - s * xv)
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

// y_i ← α·dot(A_i, x) (+ β·y_i when beta is nonzero). Two rows per sweep share
// the loads of x; each row keeps its own four accumulators, so every row sum is
// exactly dot(A_i, x).
export function gemv(m: i32, n: i32, alpha: f64, a: usize, x: usize, beta: f64, y: usize): void {
  const rowBytes = (<usize>n) << 3
  const n8 = n & ~7
  let i = 0
  for (; i + 2 <= m; i += 2) {
    const r0 = a + (<usize>i) * rowBytes
    const r1 = r0 + rowBytes
    let a0 = f64x2.splat(0)
    let a1 = f64x2.splat(0)
    let a2 = f64x2.splat(0)
    let a3 = f64x2.splat(0)
    let b0 = f64x2.splat(0)
    let b1 = f64x2.splat(0)
    let b2 = f64x2.splat(0)
    let b3 = f64x2.splat(0)
    let j = 0
    for (; j < n8; j += 8) {
      const o = (<usize>j) << 3
      const x0 = v128.load(x + o)
      const x1 = v128.load(x + o, 16)
      const x2 = v128.load(x + o, 32)
      const x3 = v128.load(x + o, 48)
      a0 = f64x2.add(a0, f64x2.mul(v128.load(r0 + o), x0))
      a1 = f64x2.add(a1, f64x2.mul(v128.load(r0 + o, 16), x1))
      a2 = f64x2.add(a2, f64x2.mul(v128.load(r0 + o, 32), x2))
      a3 = f64x2.add(a3, f64x2.mul(v128.load(r0 + o, 48), x3))
      b0 = f64x2.add(b0, f64x2.mul(v128.load(r1 + o), x0))
      b1 = f64x2.add(b1, f64x2.mul(v128.load(r1 + o, 16), x1))
      b2 = f64x2.add(b2, f64x2.mul(v128.load(r1 + o, 32), x2))
      b3 = f64x2.add(b3, f64x2.mul(v128.load(r1 + o, 48), x3))
    }
    let s0 = combine(a0, a1, a2, a3)
    let s1 = combine(b0, b1, b2, b3)
    for (; j < n; j++) {
      const o = (<usize>j) << 3
      const xj = load<f64>(x + o)
      s0 += load<f64>(r0 + o) * xj
      s1 += load<f64>(r1 + o) * xj
    }
    storeGemv(y + ((<usize>i) << 3), alpha * s0, beta)
    storeGemv(y + ((<usize>(i + 1)) << 3), alpha * s1, beta)
  }
  if (i < m) storeGemv(y + ((<usize>i) << 3), alpha * dot(n, a + (<usize>i) * rowBytes, x), beta)
}

@inline function storeGemv(p: usize, d: f64, beta: f64): void {
  if (beta == 0) store<f64>(p, d)
  else store<f64>(p, d + beta * load<f64>(p))
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

// y ← A·x and z ← Aᵀ·w in one sweep over A (Sinkhorn's two marginals of
// diag(u)·K·diag(v) read K once). Row i gives y_i = dot(A_i, x) in the order of
// dot and then z += w_i·A_i, so the results equal gemv and gemvT bit for bit.
export function gemvPair(m: i32, n: i32, a: usize, x: usize, y: usize, w: usize, z: usize): void {
  const rowBytes = (<usize>n) << 3
  const n8 = n & ~7
  for (let j = 0; j < n; j++) store<f64>(z + ((<usize>j) << 3), 0)
  for (let i = 0; i < m; i++) {
    const r = a + (<usize>i) * rowBytes
    const wi = load<f64>(w + ((<usize>i) << 3))
    const vw = f64x2.splat(wi)
    let a0 = f64x2.splat(0)
    let a1 = f64x2.splat(0)
    let a2 = f64x2.splat(0)
    let a3 = f64x2.splat(0)
    let j = 0
    for (; j < n8; j += 8) {
      const o = (<usize>j) << 3
      const v0 = v128.load(r + o)
      const v1 = v128.load(r + o, 16)
      const v2 = v128.load(r + o, 32)
      const v3 = v128.load(r + o, 48)
      a0 = f64x2.add(a0, f64x2.mul(v0, v128.load(x + o)))
      a1 = f64x2.add(a1, f64x2.mul(v1, v128.load(x + o, 16)))
      a2 = f64x2.add(a2, f64x2.mul(v2, v128.load(x + o, 32)))
      a3 = f64x2.add(a3, f64x2.mul(v3, v128.load(x + o, 48)))
      v128.store(z + o, f64x2.add(v128.load(z + o), f64x2.mul(vw, v0)))
      v128.store(z + o, f64x2.add(v128.load(z + o, 16), f64x2.mul(vw, v1)), 16)
      v128.store(z + o, f64x2.add(v128.load(z + o, 32), f64x2.mul(vw, v2)), 32)
      v128.store(z + o, f64x2.add(v128.load(z + o, 48), f64x2.mul(vw, v3)), 48)
    }
    let s = combine(a0, a1, a2, a3)
    for (; j < n; j++) {
      const o = (<usize>j) << 3
      const v = load<f64>(r + o)
      s += v * load<f64>(x + o)
      store<f64>(z + o, load<f64>(z + o) + wi * v)
    }
    store<f64>(y + ((<usize>i) << 3), s)
  }
}

// Stores u_p, v_p as entries cu, cv of row p of A (m × n), then adds row p to
// a and b with the factors u_p, v_p (rows p < f) or to c with v_p (rows p ≥ f),
// src/Blas2.ts `storeColumnsGemvT`: one sweep over A for three products, each
// summed over the rows in order as gemvTUpdate (four rows per sweep over the
// outputs, the additions still in the order of p).
export function storeColumnsGemvT(
  m: i32,
  n: i32,
  ad: usize,
  cu: i32,
  cv: i32,
  u: usize,
  v: usize,
  f: i32,
  a: usize,
  b: usize,
  c: usize
): void {
  const rowBytes = (<usize>n) << 3
  const cuo = (<usize>cu) << 3
  const cvo = (<usize>cv) << 3
  memory.fill(a, 0, rowBytes)
  memory.fill(b, 0, rowBytes)
  memory.fill(c, 0, rowBytes)
  const n2 = n & ~1
  let p = 0
  for (; p + 4 <= f; p += 4) {
    const po = (<usize>p) << 3
    const r0 = ad + (<usize>p) * rowBytes
    const r1 = r0 + rowBytes
    const r2 = r1 + rowBytes
    const r3 = r2 + rowBytes
    const u0 = load<f64>(u + po)
    const u1 = load<f64>(u + po, 8)
    const u2 = load<f64>(u + po, 16)
    const u3 = load<f64>(u + po, 24)
    const v0 = load<f64>(v + po)
    const v1 = load<f64>(v + po, 8)
    const v2 = load<f64>(v + po, 16)
    const v3 = load<f64>(v + po, 24)
    storePair(r0, cuo, cvo, u0, v0)
    storePair(r1, cuo, cvo, u1, v1)
    storePair(r2, cuo, cvo, u2, v2)
    storePair(r3, cuo, cvo, u3, v3)
    const su0 = f64x2.splat(u0)
    const su1 = f64x2.splat(u1)
    const su2 = f64x2.splat(u2)
    const su3 = f64x2.splat(u3)
    const sv0 = f64x2.splat(v0)
    const sv1 = f64x2.splat(v1)
    const sv2 = f64x2.splat(v2)
    const sv3 = f64x2.splat(v3)
    let j = 0
    for (; j < n2; j += 2) {
      const o = (<usize>j) << 3
      const x0 = v128.load(r0 + o)
      const x1 = v128.load(r1 + o)
      const x2 = v128.load(r2 + o)
      const x3 = v128.load(r3 + o)
      let ta = f64x2.add(v128.load(a + o), f64x2.mul(su0, x0))
      let tb = f64x2.add(v128.load(b + o), f64x2.mul(sv0, x0))
      ta = f64x2.add(ta, f64x2.mul(su1, x1))
      tb = f64x2.add(tb, f64x2.mul(sv1, x1))
      ta = f64x2.add(ta, f64x2.mul(su2, x2))
      tb = f64x2.add(tb, f64x2.mul(sv2, x2))
      v128.store(a + o, f64x2.add(ta, f64x2.mul(su3, x3)))
      v128.store(b + o, f64x2.add(tb, f64x2.mul(sv3, x3)))
    }
    if (j < n) {
      const o = (<usize>j) << 3
      const x0 = load<f64>(r0 + o)
      const x1 = load<f64>(r1 + o)
      const x2 = load<f64>(r2 + o)
      const x3 = load<f64>(r3 + o)
      store<f64>(a + o, load<f64>(a + o) + u0 * x0 + u1 * x1 + u2 * x2 + u3 * x3)
      store<f64>(b + o, load<f64>(b + o) + v0 * x0 + v1 * x1 + v2 * x2 + v3 * x3)
    }
  }
  for (; p < f; p++) {
    const po = (<usize>p) << 3
    const u0 = load<f64>(u + po)
    const v0 = load<f64>(v + po)
    const r0 = ad + (<usize>p) * rowBytes
    storePair(r0, cuo, cvo, u0, v0)
    for (let j = 0; j < n; j++) {
      const o = (<usize>j) << 3
      const x0 = load<f64>(r0 + o)
      store<f64>(a + o, load<f64>(a + o) + u0 * x0)
      store<f64>(b + o, load<f64>(b + o) + v0 * x0)
    }
  }
  for (; p + 4 <= m; p += 4) {
    const po = (<usize>p) << 3
    const r0 = ad + (<usize>p) * rowBytes
    const r1 = r0 + rowBytes
    const r2 = r1 + rowBytes
    const r3 = r2 + rowBytes
    const v0 = load<f64>(v + po)
    const v1 = load<f64>(v + po, 8)
    const v2 = load<f64>(v + po, 16)
    const v3 = load<f64>(v + po, 24)
    storePair(r0, cuo, cvo, load<f64>(u + po), v0)
    storePair(r1, cuo, cvo, load<f64>(u + po, 8), v1)
    storePair(r2, cuo, cvo, load<f64>(u + po, 16), v2)
    storePair(r3, cuo, cvo, load<f64>(u + po, 24), v3)
    const sv0 = f64x2.splat(v0)
    const sv1 = f64x2.splat(v1)
    const sv2 = f64x2.splat(v2)
    const sv3 = f64x2.splat(v3)
    let j = 0
    for (; j < n2; j += 2) {
      const o = (<usize>j) << 3
      let tc = f64x2.add(v128.load(c + o), f64x2.mul(sv0, v128.load(r0 + o)))
      tc = f64x2.add(tc, f64x2.mul(sv1, v128.load(r1 + o)))
      tc = f64x2.add(tc, f64x2.mul(sv2, v128.load(r2 + o)))
      v128.store(c + o, f64x2.add(tc, f64x2.mul(sv3, v128.load(r3 + o))))
    }
    if (j < n) {
      const o = (<usize>j) << 3
      store<f64>(
        c + o,
        load<f64>(c + o) +
          v0 * load<f64>(r0 + o) +
          v1 * load<f64>(r1 + o) +
          v2 * load<f64>(r2 + o) +
          v3 * load<f64>(r3 + o)
      )
    }
  }
  for (; p < m; p++) {
    const po = (<usize>p) << 3
    const v0 = load<f64>(v + po)
    const r0 = ad + (<usize>p) * rowBytes
    storePair(r0, cuo, cvo, load<f64>(u + po), v0)
    for (let j = 0; j < n; j++) {
      const o = (<usize>j) << 3
      store<f64>(c + o, load<f64>(c + o) + v0 * load<f64>(r0 + o))
    }
  }
}

@inline function storePair(row: usize, cuo: usize, cvo: usize, u: f64, v: f64): void {
  store<f64>(row + cuo, u)
  store<f64>(row + cvo, v)
}

// ── level 3: gemm micro-kernel and packing ────────────────────────────────

// Packs α·op(A)[ic:ic+mc, pc:pc+kc] into row panels of 4 (k-major, zero-padded).
export function packA(trans: i32, alpha: f64, a: usize, lda: i32, ic: i32, mc: i32, pc: i32, kc: i32, out: usize): void {
  let o = out
  const ldaBytes = (<usize>lda) << 3
  const va = f64x2.splat(alpha)
  for (let r0 = 0; r0 < mc; r0 += 4) {
    const rows = min(4, mc - r0)
    if (rows == 4) {
      // A full panel without per-entry branches: the same values, same order.
      if (trans) {
        let src = a + (((<usize>pc) * lda + ic + r0) << 3)
        for (let p = 0; p < kc; p++) {
          v128.store(o, f64x2.mul(va, v128.load(src)))
          v128.store(o, f64x2.mul(va, v128.load(src, 16)), 16)
          src += ldaBytes
          o += 32
        }
      } else {
        let src = a + (((<usize>(ic + r0)) * lda + pc) << 3)
        for (let p = 0; p < kc; p++) {
          store<f64>(o, alpha * load<f64>(src))
          store<f64>(o, alpha * load<f64>(src + ldaBytes), 8)
          store<f64>(o, alpha * load<f64>(src + 2 * ldaBytes), 16)
          store<f64>(o, alpha * load<f64>(src + 3 * ldaBytes), 24)
          src += 8
          o += 32
        }
      }
      continue
    }
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
  const ldbBytes = (<usize>ldb) << 3
  for (let j0 = 0; j0 < nc; j0 += 4) {
    const cols = min(4, nc - j0)
    if (cols == 4) {
      // A full panel without per-entry branches: the same values, same order.
      if (trans) {
        let src = b + (((<usize>(jc + j0)) * ldb + pc) << 3)
        for (let p = 0; p < kc; p++) {
          store<f64>(o, load<f64>(src))
          store<f64>(o, load<f64>(src + ldbBytes), 8)
          store<f64>(o, load<f64>(src + 2 * ldbBytes), 16)
          store<f64>(o, load<f64>(src + 3 * ldbBytes), 24)
          src += 8
          o += 32
        }
      } else {
        let src = b + (((<usize>pc) * ldb + jc + j0) << 3)
        for (let p = 0; p < kc; p++) {
          v128.store(o, v128.load(src))
          v128.store(o, v128.load(src, 16), 16)
          src += ldbBytes
          o += 32
        }
      }
      continue
    }
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
      if (mr <= 2 || nr <= 2) {
        // An edge tile of at most two rows or two columns: only its half of the
        // accumulators (the same sums; the padding's products were dropped anyway).
        edgeTile(kc, mr, nr, aPanel, bPanel, c + (((<usize>(ic + ir)) * ldc + jc + jr) << 3), (<usize>ldc) << 3)
        continue
      }
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

// C tile += packedA · packedB for a tile of mr ≤ 2 rows or nr ≤ 2 columns.
function edgeTile(kc: i32, mr: i32, nr: i32, aPanel: usize, bPanel: usize, co: usize, ldcBytes: usize): void {
  let pa = aPanel
  let pb = bPanel
  if (nr <= 2) {
    let c0 = f64x2.splat(0)
    let c1 = f64x2.splat(0)
    let c2 = f64x2.splat(0)
    let c3 = f64x2.splat(0)
    if (mr <= 2) {
      for (let p = 0; p < kc; p++) {
        const b01 = v128.load(pb)
        c0 = f64x2.add(c0, f64x2.mul(v128.load64_splat(pa), b01))
        c1 = f64x2.add(c1, f64x2.mul(v128.load64_splat(pa, 8), b01))
        pa += 32
        pb += 32
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const b01 = v128.load(pb)
        c0 = f64x2.add(c0, f64x2.mul(v128.load64_splat(pa), b01))
        c1 = f64x2.add(c1, f64x2.mul(v128.load64_splat(pa, 8), b01))
        c2 = f64x2.add(c2, f64x2.mul(v128.load64_splat(pa, 16), b01))
        c3 = f64x2.add(c3, f64x2.mul(v128.load64_splat(pa, 24), b01))
        pa += 32
        pb += 32
      }
    }
    const zero = f64x2.splat(0)
    storeEdge(co, nr, c0, zero)
    if (mr > 1) storeEdge(co + ldcBytes, nr, c1, zero)
    if (mr > 2) storeEdge(co + 2 * ldcBytes, nr, c2, zero)
    if (mr > 3) storeEdge(co + 3 * ldcBytes, nr, c3, zero)
    return
  }
  // mr ≤ 2 rows, nr > 2 columns.
  let c0a = f64x2.splat(0)
  let c0b = f64x2.splat(0)
  let c1a = f64x2.splat(0)
  let c1b = f64x2.splat(0)
  for (let p = 0; p < kc; p++) {
    const b01 = v128.load(pb)
    const b23 = v128.load(pb, 16)
    const a0 = v128.load64_splat(pa)
    const a1 = v128.load64_splat(pa, 8)
    c0a = f64x2.add(c0a, f64x2.mul(a0, b01))
    c0b = f64x2.add(c0b, f64x2.mul(a0, b23))
    c1a = f64x2.add(c1a, f64x2.mul(a1, b01))
    c1b = f64x2.add(c1b, f64x2.mul(a1, b23))
    pa += 32
    pb += 32
  }
  storeEdge(co, nr, c0a, c0b)
  if (mr > 1) storeEdge(co + ldcBytes, nr, c1a, c1b)
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

// ── exp and the fused log-sum-exp kernels ─────────────────────────────────

// The operations of detmath.ts `exp`, two lanes at a time: clamp (pmax/pmin are
// `x < lo ? lo : x` and `hi < x ? hi : x`, as detmath.ts, NaN kept; one
// instruction each on x86, where max/min take several), Cody–Waite
// reduction with the 1.5·2^52 rounding shifter, degree-13 polynomial (Estrin),
// scaling by 2^⌊k/2⌋ then 2^(k−⌊k/2⌋) built from exponent bits.
// The constants live in linear memory, written once by the JS side from the
// same values the TypeScript exp uses (setExpConstants), each in both lanes:
// 0 −746, 1 710, 2 log2 e, 3 1.5·2^52, 4 ln2_hi, 5 ln2_lo, 6…19 c0…c13 (1/n!),
// 20 the bits of 1.5·2^52 (i64), 21 the exponent bias 1023 (i64). A load with a
// memory operand is cheaper than rebuilding a splat in every iteration.
let EXP_CONSTANTS: usize = 0
export function setExpConstants(address: usize): void {
  EXP_CONSTANTS = address
}

@inline function expV(x: v128, k: usize): v128 {
  const xc = f64x2.pmin(f64x2.pmax(x, v128.load(k, 0)), v128.load(k, 16))
  const t = f64x2.add(f64x2.mul(xc, v128.load(k, 32)), v128.load(k, 48))
  const kf = f64x2.sub(t, v128.load(k, 48))
  const r = f64x2.sub(f64x2.sub(xc, f64x2.mul(kf, v128.load(k, 64))), f64x2.mul(kf, v128.load(k, 80)))
  // Estrin's scheme: the same polynomial with a dependency chain of four
  // multiply-add levels instead of thirteen.
  const r2 = f64x2.mul(r, r)
  const r4 = f64x2.mul(r2, r2)
  const r8 = f64x2.mul(r4, r4)
  const p01 = f64x2.add(v128.load(k, 96), f64x2.mul(v128.load(k, 112), r))
  const p23 = f64x2.add(v128.load(k, 128), f64x2.mul(v128.load(k, 144), r))
  const p45 = f64x2.add(v128.load(k, 160), f64x2.mul(v128.load(k, 176), r))
  const p67 = f64x2.add(v128.load(k, 192), f64x2.mul(v128.load(k, 208), r))
  const p89 = f64x2.add(v128.load(k, 224), f64x2.mul(v128.load(k, 240), r))
  const pab = f64x2.add(v128.load(k, 256), f64x2.mul(v128.load(k, 272), r))
  const pcd = f64x2.add(v128.load(k, 288), f64x2.mul(v128.load(k, 304), r))
  const q0 = f64x2.add(p01, f64x2.mul(p23, r2))
  const q1 = f64x2.add(p45, f64x2.mul(p67, r2))
  const q2 = f64x2.add(p89, f64x2.mul(pab, r2))
  const e0 = f64x2.add(q0, f64x2.mul(q1, r4))
  const e1 = f64x2.add(q2, f64x2.mul(pcd, r4))
  const p = f64x2.add(e0, f64x2.mul(e1, r8))
  // t = 1.5·2^52 + k exactly, so the integer difference of their bits is k.
  const kk = i64x2.sub(t, v128.load(k, 320))
  const k1 = i64x2.shr_s(kk, 1)
  const k2 = i64x2.sub(kk, k1)
  const s1 = i64x2.shl(i64x2.add(k1, v128.load(k, 336)), 52)
  const s2 = i64x2.shl(i64x2.add(k2, v128.load(k, 336)), 52)
  return f64x2.mul(f64x2.mul(p, s1), s2)
}

// out[i] ← exp(x[i]), for tests of the vector exp against the scalar one.
export function expVector(n: i32, x: usize, out: usize): void {
  const K = EXP_CONSTANTS
  const n2 = n & ~1
  let i = 0
  for (; i < n2; i += 2) {
    const o = (<usize>i) << 3
    v128.store(out + o, expV(v128.load(x + o), K))
  }
  if (i < n) {
    const o = (<usize>i) << 3
    store<f64>(out + o, f64x2.extract_lane(expV(f64x2.splat(load<f64>(x + o)), K), 0))
  }
}

// Row i of the affine log-sum-exp: with w_j = g_j − C_ij and M = max_j w_j over
// the non-NaN w_j (pmax, `M < w ? w : M`: one instruction, where max takes
// several; a NaN w_j still makes the sum NaN), writes M to maxOut[i] and
// Σ_j exp((w_j − M)·invEps) to sumOut[i], the sum in the eight-way order of dot.
// Non-finite M: the sum is left 0 (the caller turns M, or a NaN in the row,
// into the result).
export function lseAffineRows(m: i32, n: i32, g: usize, c: usize, invEps: f64, maxOut: usize, sumOut: usize): void {
  const K = EXP_CONSTANTS
  const rowBytes = (<usize>n) << 3
  const vInv = f64x2.splat(invEps)
  for (let i = 0; i < m; i++) {
    const row = c + (<usize>i) * rowBytes
    let mx = f64x2.splat(-Infinity)
    const n2 = n & ~1
    let j = 0
    for (; j < n2; j += 2) {
      const o = (<usize>j) << 3
      mx = f64x2.pmax(mx, f64x2.sub(v128.load(g + o), v128.load(row + o)))
    }
    const m0 = f64x2.extract_lane(mx, 0)
    const m1 = f64x2.extract_lane(mx, 1)
    let M = m0 < m1 ? m1 : m0
    if (j < n) {
      const o = (<usize>j) << 3
      const w = load<f64>(g + o) - load<f64>(row + o)
      if (M < w) M = w
    }
    const io = (<usize>i) << 3
    store<f64>(maxOut + io, M)
    if (!(M > -Infinity && M < Infinity)) {
      store<f64>(sumOut + io, 0)
      continue
    }
    const vM = f64x2.splat(M)
    let a0 = f64x2.splat(0)
    let a1 = f64x2.splat(0)
    let a2 = f64x2.splat(0)
    let a3 = f64x2.splat(0)
    const n8 = n & ~7
    j = 0
    for (; j < n8; j += 8) {
      const o = (<usize>j) << 3
      const p = row + o
      const q = g + o
      a0 = f64x2.add(a0, expV(f64x2.mul(f64x2.sub(f64x2.sub(v128.load(q), v128.load(p)), vM), vInv), K))
      a1 = f64x2.add(a1, expV(f64x2.mul(f64x2.sub(f64x2.sub(v128.load(q, 16), v128.load(p, 16)), vM), vInv), K))
      a2 = f64x2.add(a2, expV(f64x2.mul(f64x2.sub(f64x2.sub(v128.load(q, 32), v128.load(p, 32)), vM), vInv), K))
      a3 = f64x2.add(a3, expV(f64x2.mul(f64x2.sub(f64x2.sub(v128.load(q, 48), v128.load(p, 48)), vM), vInv), K))
    }
    let s = combine(a0, a1, a2, a3)
    for (; j < n; j++) {
      const o = (<usize>j) << 3
      const z = (load<f64>(g + o) - load<f64>(row + o) - M) * invEps
      s += f64x2.extract_lane(expV(f64x2.splat(z), K), 0)
    }
    store<f64>(sumOut + io, s)
  }
}

// Columns of the affine log-sum-exp in one pass over C: with w_i = f_i − C_ij,
// keeps per column j a shift M_j (the running maximum of the non-NaN w_i, in
// maxOut) and the sum S_j = Σ exp((w_i − M_j)·invEps) (in sumOut). Rows come in
// blocks of `blockRows`: the block's column maxima (in blockMax, by pmax as in
// lseAffineRows) move the shifts first,
// rescaling S_j by exp((M_old − M_new)·invEps); then the block's terms are
// added in order of i. While M_j is −∞ the shift used is 0, and S_j = 0 is
// never rescaled (0·exp(…) could be 0·∞).
export function lseAffineCols(
  m: i32,
  n: i32,
  f: usize,
  c: usize,
  invEps: f64,
  blockRows: i32,
  maxOut: usize,
  sumOut: usize,
  blockMax: usize
): void {
  const K = EXP_CONSTANTS
  const rowBytes = (<usize>n) << 3
  const vInv = f64x2.splat(invEps)
  const negInf = f64x2.splat(-Infinity)
  const zero = f64x2.splat(0)
  const n2 = n & ~1
  for (let j = 0; j < n; j++) {
    store<f64>(maxOut + ((<usize>j) << 3), -Infinity)
    store<f64>(sumOut + ((<usize>j) << 3), 0)
  }
  for (let i0 = 0; i0 < m; i0 += blockRows) {
    const i1 = min(m, i0 + blockRows)
    for (let j = 0; j < n; j++) store<f64>(blockMax + ((<usize>j) << 3), -Infinity)
    for (let i = i0; i < i1; i++) {
      const vf = f64x2.splat(load<f64>(f + ((<usize>i) << 3)))
      const row = c + (<usize>i) * rowBytes
      let j = 0
      for (; j < n2; j += 2) {
        const o = (<usize>j) << 3
        v128.store(blockMax + o, f64x2.pmax(v128.load(blockMax + o), f64x2.sub(vf, v128.load(row + o))))
      }
      if (j < n) {
        const o = (<usize>j) << 3
        const w = f64x2.extract_lane(vf, 0) - load<f64>(row + o)
        if (load<f64>(blockMax + o) < w) store<f64>(blockMax + o, w)
      }
    }
    // Move the shifts.
    for (let j = 0; j < n; j += 2) {
      const o = (<usize>j) << 3
      const lanes = j + 1 < n ? 2 : 1
      const mOld = lanes == 2 ? v128.load(maxOut + o) : f64x2.splat(load<f64>(maxOut + o))
      const sOld = lanes == 2 ? v128.load(sumOut + o) : f64x2.splat(load<f64>(sumOut + o))
      const bm = lanes == 2 ? v128.load(blockMax + o) : f64x2.splat(load<f64>(blockMax + o))
      const mNew = f64x2.max(mOld, bm)
      const shiftOld = v128.bitselect(zero, mOld, f64x2.eq(mOld, negInf))
      const shiftNew = v128.bitselect(zero, mNew, f64x2.eq(mNew, negInf))
      const scaled = f64x2.mul(sOld, expV(f64x2.mul(f64x2.sub(shiftOld, shiftNew), vInv), K))
      const sNew = v128.bitselect(zero, scaled, f64x2.eq(sOld, zero))
      if (lanes == 2) {
        v128.store(maxOut + o, mNew)
        v128.store(sumOut + o, sNew)
      } else {
        store<f64>(maxOut + o, f64x2.extract_lane(mNew, 0))
        store<f64>(sumOut + o, f64x2.extract_lane(sNew, 0))
      }
    }
    // Add the block's terms, using the shifts (0 where still −∞).
    for (let j = 0; j < n; j++) {
      const o = (<usize>j) << 3
      const mj = load<f64>(maxOut + o)
      store<f64>(blockMax + o, mj == -Infinity ? 0 : mj)
    }
    for (let i = i0; i < i1; i++) {
      const vf = f64x2.splat(load<f64>(f + ((<usize>i) << 3)))
      const row = c + (<usize>i) * rowBytes
      let j = 0
      for (; j < n2; j += 2) {
        const o = (<usize>j) << 3
        const z = f64x2.mul(f64x2.sub(f64x2.sub(vf, v128.load(row + o)), v128.load(blockMax + o)), vInv)
        v128.store(sumOut + o, f64x2.add(v128.load(sumOut + o), expV(z, K)))
      }
      if (j < n) {
        const o = (<usize>j) << 3
        const z = (f64x2.extract_lane(vf, 0) - load<f64>(row + o) - load<f64>(blockMax + o)) * invEps
        store<f64>(sumOut + o, load<f64>(sumOut + o) + f64x2.extract_lane(expV(f64x2.splat(z), K), 0))
      }
    }
  }
}

// ── logistic loss ──────────────────────────────────────────────────────────

// log(1 + e) for e in [0, 1], the operations of detmath.ts `log1p` on that
// range, two lanes at a time: below √2 − 1 the argument is reduced already
// (f = e, k = 0, c = 0); above, u = 1 + e with the rounding correction
// c = ((1 + e) − u)/u and u halved (k = 1) when its mantissa passes fdlibm's
// √2 cut. Then fdlibm's log kernel on f, with the same literals.
@inline function log1pUnitV(e: v128): v128 {
  const one = f64x2.splat(1)
  const u = f64x2.add(one, e)
  const cNum = v128.bitselect(
    f64x2.sub(one, f64x2.sub(u, e)),
    f64x2.sub(e, f64x2.sub(u, one)),
    f64x2.ge(u, f64x2.splat(2))
  )
  const cLarge = f64x2.div(cNum, u)
  // u ≥ 0x3FF6A09C00000000 ⇔ the top 20 mantissa bits of u reach 0x6a09c.
  const halve = f64x2.ge(u, f64x2.splat(reinterpret<f64>(0x3ff6a09c00000000)))
  const fLarge = v128.bitselect(f64x2.sub(f64x2.mul(u, f64x2.splat(0.5)), one), f64x2.sub(u, one), halve)
  const small = f64x2.lt(e, f64x2.splat(0.41421356237309503))
  const zero = f64x2.splat(0)
  const f = v128.bitselect(e, fLarge, small)
  const k = v128.bitselect(zero, v128.and(halve, one), small)
  const c = v128.bitselect(zero, cLarge, small)
  const s = f64x2.div(f, f64x2.add(f64x2.splat(2), f))
  const z = f64x2.mul(s, s)
  const w = f64x2.mul(z, z)
  const odd = f64x2.mul(
    z,
    f64x2.add(
      f64x2.splat(0.6666666666666735),
      f64x2.mul(
        w,
        f64x2.add(
          f64x2.splat(0.2857142874366239),
          f64x2.mul(w, f64x2.add(f64x2.splat(0.1818357216161805), f64x2.mul(w, f64x2.splat(0.14798198605116586))))
        )
      )
    )
  )
  const even = f64x2.mul(
    w,
    f64x2.add(
      f64x2.splat(0.3999999999940942),
      f64x2.mul(w, f64x2.add(f64x2.splat(0.22222198432149784), f64x2.mul(w, f64x2.splat(0.15313837699209373))))
    )
  )
  const r = f64x2.add(odd, even)
  const hfsq = f64x2.mul(f64x2.mul(f64x2.splat(0.5), f), f)
  const inner = f64x2.add(f64x2.mul(s, f64x2.add(hfsq, r)), f64x2.add(f64x2.mul(k, f64x2.splat(1.9082149292705877e-10)), c))
  const result = f64x2.sub(
    f64x2.mul(k, f64x2.splat(0.6931471803691238)),
    f64x2.sub(f64x2.sub(hfsq, inner), f)
  )
  // |e| < 2^−54: log1p(e) rounds to e.
  return v128.bitselect(e, result, f64x2.lt(e, f64x2.splat(5.551115123125783e-17)))
}

// The logistic loss of logits z against labels y, fused with its gradient:
// returns Σᵢ softplus(zᵢ) − yᵢzᵢ (softplus(z) = max(z, 0) + log1p(e^−|z|)) and
// writes rᵢ = scale·(σ(zᵢ) − yᵢ). The sum has two partial sums (even and odd
// i, the lanes), added at the end, then the odd tail.
export function logisticLoss(n: i32, z: usize, y: usize, r: usize, scale: f64): f64 {
  const K = EXP_CONSTANTS
  const vScale = f64x2.splat(scale)
  const zero = f64x2.splat(0)
  const one = f64x2.splat(1)
  let acc = zero
  const n2 = n & ~1
  let i = 0
  for (; i < n2; i += 2) {
    const o = (<usize>i) << 3
    const zi = v128.load(z + o)
    const yi = v128.load(y + o)
    const e = expV(f64x2.neg(f64x2.abs(zi)), K)
    acc = f64x2.add(acc, f64x2.sub(f64x2.add(f64x2.max(zi, zero), log1pUnitV(e)), f64x2.mul(yi, zi)))
    const sigma = f64x2.div(v128.bitselect(one, e, f64x2.ge(zi, zero)), f64x2.add(one, e))
    v128.store(r + o, f64x2.mul(f64x2.sub(sigma, yi), vScale))
  }
  let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1)
  if (i < n) {
    const o = (<usize>i) << 3
    const zi = f64x2.splat(load<f64>(z + o))
    const yi = f64x2.splat(load<f64>(y + o))
    const e = expV(f64x2.neg(f64x2.abs(zi)), K)
    s += f64x2.extract_lane(f64x2.sub(f64x2.add(f64x2.max(zi, zero), log1pUnitV(e)), f64x2.mul(yi, zi)), 0)
    const sigma = f64x2.div(v128.bitselect(one, e, f64x2.ge(zi, zero)), f64x2.add(one, e))
    store<f64>(r + o, f64x2.extract_lane(f64x2.mul(f64x2.sub(sigma, yi), vScale), 0))
  }
  return s
}

// ── Adam ───────────────────────────────────────────────────────────────────

// One Adam step over n coordinates (Kingma & Ba 2015, in Optax's operation
// order): m ← c1·g + b1·m, v ← c2·g² + b2·v, u = (m·r1)/(√(v·r2 + εroot) + ε)
// (Nesterov: (b1·(m·r1n) + c1·(g·r1))/(…)), then out ← s·u, or out ← out + s·u
// when accumulate is set (out = the parameters: a fused update-and-apply).
// out may be g. Flags: 1 nesterov, 2 accumulate. The flags are the same for
// every element, so their branches are perfectly predicted; the loop stays
// memory-bound (measured: no difference to four specialised loops).
export function adam(
  n: i32,
  g: usize,
  m: usize,
  v: usize,
  out: usize,
  b1: f64,
  c1: f64,
  b2: f64,
  c2: f64,
  r1: f64,
  r1n: f64,
  r2: f64,
  epsRoot: f64,
  eps: f64,
  s: f64,
  flags: i32
): void {
  const nesterov = (flags & 1) != 0
  const accumulate = (flags & 2) != 0
  const vb1 = f64x2.splat(b1)
  const vc1 = f64x2.splat(c1)
  const vb2 = f64x2.splat(b2)
  const vc2 = f64x2.splat(c2)
  const vr1 = f64x2.splat(r1)
  const vr1n = f64x2.splat(r1n)
  const vr2 = f64x2.splat(r2)
  const vEpsRoot = f64x2.splat(epsRoot)
  const vEps = f64x2.splat(eps)
  const vs = f64x2.splat(s)
  const n2 = n & ~1
  let i = 0
  for (; i < n2; i += 2) {
    const o = (<usize>i) << 3
    const gi = v128.load(g + o)
    const mi = f64x2.add(f64x2.mul(vc1, gi), f64x2.mul(vb1, v128.load(m + o)))
    const vi = f64x2.add(f64x2.mul(vc2, f64x2.mul(gi, gi)), f64x2.mul(vb2, v128.load(v + o)))
    v128.store(m + o, mi)
    v128.store(v + o, vi)
    const num = nesterov
      ? f64x2.add(f64x2.mul(vb1, f64x2.mul(mi, vr1n)), f64x2.mul(vc1, f64x2.mul(gi, vr1)))
      : f64x2.mul(mi, vr1)
    const u = f64x2.mul(vs, f64x2.div(num, f64x2.add(f64x2.sqrt(f64x2.add(f64x2.mul(vi, vr2), vEpsRoot)), vEps)))
    v128.store(out + o, accumulate ? f64x2.add(v128.load(out + o), u) : u)
  }
  if (i < n) {
    const o = (<usize>i) << 3
    const gi = load<f64>(g + o)
    const mi = c1 * gi + b1 * load<f64>(m + o)
    const vi = c2 * (gi * gi) + b2 * load<f64>(v + o)
    store<f64>(m + o, mi)
    store<f64>(v + o, vi)
    const num = nesterov ? b1 * (mi * r1n) + c1 * (gi * r1) : mi * r1
    const u = s * (num / (Math.sqrt(vi * r2 + epsRoot) + eps))
    store<f64>(out + o, accumulate ? load<f64>(out + o) + u : u)
  }
}

// ── Gauss–Jordan inversion without pivoting ───────────────────────────────

// src/GaussJordan.ts `invertPositivePivots`, operation for operation: pivots in
// blocks of four (single pivots for the last n mod 4); the block's pivot rows
// are eliminated among themselves (in one pass over their columns, see
// gjBlockRows) and copied to `rows` (4 × n, then 16 doubles of multipliers)
// after scaling, then every other row takes the block's four updates in one pass. Returns n,
// or the index of the first pivot that is not > 0.
export function gaussJordanInverse(n: i32, a: usize, pivots: usize, rows: usize): i32 {
  const rowBytes = (<usize>n) << 3
  let k0 = 0
  while (k0 < n) {
    const b = n - k0 >= 4 ? 4 : 1
    // Phase 1: eliminate within the block's own rows; snapshot each pivot row after scaling.
    if (b == 4) {
      const failed = gjBlockRows(n, k0, a, pivots, rows, rowBytes)
      if (failed >= 0) return failed
    } else {
      const rk = a + (<usize>k0) * rowBytes
      const pivot = load<f64>(rk + ((<usize>k0) << 3))
      if (!(pivot > 0)) return k0
      store<f64>(pivots + ((<usize>k0) << 3), pivot)
      store<f64>(rk + ((<usize>k0) << 3), 1)
      gjScaleRow(n, 1 / pivot, rk)
      memory.copy(rows, rk, rowBytes)
    }
    // Phase 2: every other row, all b pivots in one pass (blocks: two rows
    // per pass, sharing the loads of the pivot rows).
    if (b == 1) {
      for (let i = 0; i < n; i++) {
        if (i == k0) continue
        const ri = a + (<usize>i) * rowBytes
        const f = load<f64>(ri + ((<usize>k0) << 3))
        store<f64>(ri + ((<usize>k0) << 3), 0)
        gjSubScaledRow(n, f, rows, ri)
      }
    } else {
      let pending = -1
      for (let i = 0; i < n; i++) {
        if (i >= k0 && i < k0 + b) continue
        if (pending < 0) {
          pending = i
          continue
        }
        gjBlockUpdatePair(n, k0, a + (<usize>pending) * rowBytes, a + (<usize>i) * rowBytes, rows, rowBytes)
        pending = -1
      }
      if (pending >= 0) gjBlockUpdate(n, k0, a + (<usize>pending) * rowBytes, rows, rowBytes)
    }
    k0 += b
  }
  return n
}

// Phase 1 for a block of four pivot rows k0…k0+3, in the operations of the
// one-pivot-at-a-time loop above: first on the block's own four columns
// (pivots, their reciprocals and the multipliers, kept in a 4 × 4 table after
// the pivot rows' snapshots: entry (e, c) the multiplier of row e by pivot c,
// (c, c) the reciprocal of pivot c), then every other column of the four rows
// in one pass, each entry taking the same operations in the same order.
// Returns −1, or the index of the first pivot that is not > 0.
function gjBlockRows(n: i32, k0: i32, a: usize, pivots: usize, rows: usize, rowBytes: usize): i32 {
  const kb = (<usize>k0) << 3
  const top = a + (<usize>k0) * rowBytes
  const table = rows + 4 * rowBytes
  for (let c = 0; c < 4; c++) {
    const rk = top + (<usize>c) * rowBytes + kb
    const pivot = load<f64>(rk + ((<usize>c) << 3))
    if (!(pivot > 0)) return k0 + c
    store<f64>(pivots + ((<usize>(k0 + c)) << 3), pivot)
    store<f64>(rk + ((<usize>c) << 3), 1)
    const inv = 1 / pivot
    store<f64>(table + ((<usize>(c * 5)) << 3), inv)
    const snapshot = rows + (<usize>c) * rowBytes + kb
    for (let q = 0; q < 4; q++) {
      const o = (<usize>q) << 3
      const v = load<f64>(rk + o) * inv
      store<f64>(rk + o, v)
      store<f64>(snapshot + o, v)
    }
    for (let e = 0; e < 4; e++) {
      if (e == c) continue
      const re = top + (<usize>e) * rowBytes + kb
      const f = load<f64>(re + ((<usize>c) << 3))
      store<f64>(table + ((<usize>(e * 4 + c)) << 3), f)
      store<f64>(re + ((<usize>c) << 3), 0)
      for (let q = 0; q < 4; q++) {
        const o = (<usize>q) << 3
        store<f64>(re + o, load<f64>(re + o) - f * load<f64>(rk + o))
      }
    }
  }
  // The other columns: before the block (k0 is even: pairs), then after it (odd tail).
  gjBlockColumns(0, kb, top, rows, rowBytes, table)
  const end = (<usize>n) << 3
  const pairsEnd = kb + 32 + ((end - kb - 32) & ~15)
  gjBlockColumns(kb + 32, pairsEnd, top, rows, rowBytes, table)
  if (pairsEnd < end) {
    const o = pairsEnd
    let x0 = load<f64>(top + o)
    let x1 = load<f64>(top + rowBytes + o)
    let x2 = load<f64>(top + 2 * rowBytes + o)
    let x3 = load<f64>(top + 3 * rowBytes + o)
    x0 = x0 * load<f64>(table)
    store<f64>(rows + o, x0)
    x1 = x1 - load<f64>(table, 32) * x0
    x2 = x2 - load<f64>(table, 64) * x0
    x3 = x3 - load<f64>(table, 96) * x0
    x1 = x1 * load<f64>(table, 40)
    store<f64>(rows + rowBytes + o, x1)
    x0 = x0 - load<f64>(table, 8) * x1
    x2 = x2 - load<f64>(table, 72) * x1
    x3 = x3 - load<f64>(table, 104) * x1
    x2 = x2 * load<f64>(table, 80)
    store<f64>(rows + 2 * rowBytes + o, x2)
    x0 = x0 - load<f64>(table, 16) * x2
    x1 = x1 - load<f64>(table, 48) * x2
    x3 = x3 - load<f64>(table, 112) * x2
    x3 = x3 * load<f64>(table, 120)
    store<f64>(rows + 3 * rowBytes + o, x3)
    x0 = x0 - load<f64>(table, 24) * x3
    x1 = x1 - load<f64>(table, 56) * x3
    x2 = x2 - load<f64>(table, 88) * x3
    store<f64>(top + o, x0)
    store<f64>(top + rowBytes + o, x1)
    store<f64>(top + 2 * rowBytes + o, x2)
    store<f64>(top + 3 * rowBytes + o, x3)
  }
  return -1
}

// Byte offsets [from, to) (a multiple of 16 apart) of the four block rows at
// top: pivot by pivot, scale the pivot row (and snapshot it), then subtract
// its multiples from the other three.
@inline function gjBlockColumns(from: usize, to: usize, top: usize, rows: usize, rowBytes: usize, table: usize): void {
  for (let o = from; o < to; o += 16) {
    let x0 = v128.load(top + o)
    let x1 = v128.load(top + rowBytes + o)
    let x2 = v128.load(top + 2 * rowBytes + o)
    let x3 = v128.load(top + 3 * rowBytes + o)
    x0 = f64x2.mul(x0, v128.load64_splat(table))
    v128.store(rows + o, x0)
    x1 = f64x2.sub(x1, f64x2.mul(v128.load64_splat(table, 32), x0))
    x2 = f64x2.sub(x2, f64x2.mul(v128.load64_splat(table, 64), x0))
    x3 = f64x2.sub(x3, f64x2.mul(v128.load64_splat(table, 96), x0))
    x1 = f64x2.mul(x1, v128.load64_splat(table, 40))
    v128.store(rows + rowBytes + o, x1)
    x0 = f64x2.sub(x0, f64x2.mul(v128.load64_splat(table, 8), x1))
    x2 = f64x2.sub(x2, f64x2.mul(v128.load64_splat(table, 72), x1))
    x3 = f64x2.sub(x3, f64x2.mul(v128.load64_splat(table, 104), x1))
    x2 = f64x2.mul(x2, v128.load64_splat(table, 80))
    v128.store(rows + 2 * rowBytes + o, x2)
    x0 = f64x2.sub(x0, f64x2.mul(v128.load64_splat(table, 16), x2))
    x1 = f64x2.sub(x1, f64x2.mul(v128.load64_splat(table, 48), x2))
    x3 = f64x2.sub(x3, f64x2.mul(v128.load64_splat(table, 112), x2))
    x3 = f64x2.mul(x3, v128.load64_splat(table, 120))
    v128.store(rows + 3 * rowBytes + o, x3)
    x0 = f64x2.sub(x0, f64x2.mul(v128.load64_splat(table, 24), x3))
    x1 = f64x2.sub(x1, f64x2.mul(v128.load64_splat(table, 56), x3))
    x2 = f64x2.sub(x2, f64x2.mul(v128.load64_splat(table, 88), x3))
    v128.store(top + o, x0)
    v128.store(top + rowBytes + o, x1)
    v128.store(top + 2 * rowBytes + o, x2)
    v128.store(top + 3 * rowBytes + o, x3)
  }
}

@inline function gjScaleRow(n: i32, s: f64, r: usize): void {
  const vs = f64x2.splat(s)
  const n2 = n & ~1
  let j = 0
  for (; j < n2; j += 2) {
    const o = r + ((<usize>j) << 3)
    v128.store(o, f64x2.mul(v128.load(o), vs))
  }
  if (j < n) {
    const o = r + ((<usize>j) << 3)
    store<f64>(o, load<f64>(o) * s)
  }
}

// y ← y − f·x
@inline function gjSubScaledRow(n: i32, f: f64, x: usize, y: usize): void {
  const vf = f64x2.splat(f)
  const n2 = n & ~1
  let j = 0
  for (; j < n2; j += 2) {
    const o = (<usize>j) << 3
    v128.store(y + o, f64x2.sub(v128.load(y + o), f64x2.mul(vf, v128.load(x + o))))
  }
  if (j < n) {
    const o = (<usize>j) << 3
    store<f64>(y + o, load<f64>(y + o) - f * load<f64>(x + o))
  }
}

// Row ri after pivots k0…k0+3 (snapshots R0…R3 at rows), in the unblocked order.
function gjBlockUpdate(n: i32, k0: i32, ri: usize, rows: usize, rowBytes: usize): void {
  const r0 = rows
  const r1 = rows + rowBytes
  const r2 = rows + 2 * rowBytes
  const r3 = rows + 3 * rowBytes
  const kb = (<usize>k0) << 3
  // The multipliers, each after the earlier pivots of the block.
  const x0 = load<f64>(ri + kb)
  const x1 = load<f64>(ri + kb, 8)
  const x2 = load<f64>(ri + kb, 16)
  const x3 = load<f64>(ri + kb, 24)
  const f0 = x0
  const f1 = x1 - f0 * load<f64>(r0 + kb, 8)
  const f2 = (x2 - f0 * load<f64>(r0 + kb, 16)) - f1 * load<f64>(r1 + kb, 16)
  const f3 = ((x3 - f0 * load<f64>(r0 + kb, 24)) - f1 * load<f64>(r1 + kb, 24)) - f2 * load<f64>(r2 + kb, 24)
  // The block's columns: zeroed at their own pivot, then updated by the later ones.
  let y0 = 0 - f0 * load<f64>(r0 + kb)
  y0 = y0 - f1 * load<f64>(r1 + kb)
  y0 = y0 - f2 * load<f64>(r2 + kb)
  y0 = y0 - f3 * load<f64>(r3 + kb)
  let y1 = 0 - f1 * load<f64>(r1 + kb, 8)
  y1 = y1 - f2 * load<f64>(r2 + kb, 8)
  y1 = y1 - f3 * load<f64>(r3 + kb, 8)
  let y2 = 0 - f2 * load<f64>(r2 + kb, 16)
  y2 = y2 - f3 * load<f64>(r3 + kb, 16)
  const y3 = 0 - f3 * load<f64>(r3 + kb, 24)
  const v0 = f64x2.splat(f0)
  const v1 = f64x2.splat(f1)
  const v2 = f64x2.splat(f2)
  const v3 = f64x2.splat(f3)
  // Columns before the block (k0 is even: pairs), then after it (odd tail).
  const before = <usize>k0 << 3
  let o: usize = 0
  for (; o < before; o += 16) {
    let x = v128.load(ri + o)
    x = f64x2.sub(x, f64x2.mul(v0, v128.load(r0 + o)))
    x = f64x2.sub(x, f64x2.mul(v1, v128.load(r1 + o)))
    x = f64x2.sub(x, f64x2.mul(v2, v128.load(r2 + o)))
    x = f64x2.sub(x, f64x2.mul(v3, v128.load(r3 + o)))
    v128.store(ri + o, x)
  }
  o = before + 32
  const end = (<usize>n) << 3
  for (; o + 16 <= end; o += 16) {
    let x = v128.load(ri + o)
    x = f64x2.sub(x, f64x2.mul(v0, v128.load(r0 + o)))
    x = f64x2.sub(x, f64x2.mul(v1, v128.load(r1 + o)))
    x = f64x2.sub(x, f64x2.mul(v2, v128.load(r2 + o)))
    x = f64x2.sub(x, f64x2.mul(v3, v128.load(r3 + o)))
    v128.store(ri + o, x)
  }
  if (o < end) {
    let x = load<f64>(ri + o)
    x = x - f0 * load<f64>(r0 + o)
    x = x - f1 * load<f64>(r1 + o)
    x = x - f2 * load<f64>(r2 + o)
    x = x - f3 * load<f64>(r3 + o)
    store<f64>(ri + o, x)
  }
  store<f64>(ri + kb, y0)
  store<f64>(ri + kb, y1, 8)
  store<f64>(ri + kb, y2, 16)
  store<f64>(ri + kb, y3, 24)
}

// gjBlockUpdate on rows ri and rj in one pass (each entry: the same operations;
// their multipliers and block columns computed together, one row per lane).
function gjBlockUpdatePair(n: i32, k0: i32, ri: usize, rj: usize, rows: usize, rowBytes: usize): void {
  const r0 = rows
  const r1 = rows + rowBytes
  const r2 = rows + 2 * rowBytes
  const r3 = rows + 3 * rowBytes
  const kb = (<usize>k0) << 3
  // The multipliers and block columns of both rows at once: ri in lane 0, rj in lane 1.
  const x0 = f64x2.replace_lane(f64x2.splat(load<f64>(ri + kb)), 1, load<f64>(rj + kb))
  const x1 = f64x2.replace_lane(f64x2.splat(load<f64>(ri + kb + 8)), 1, load<f64>(rj + kb + 8))
  const x2 = f64x2.replace_lane(f64x2.splat(load<f64>(ri + kb + 16)), 1, load<f64>(rj + kb + 16))
  const x3 = f64x2.replace_lane(f64x2.splat(load<f64>(ri + kb + 24)), 1, load<f64>(rj + kb + 24))
  const f0 = x0
  const f1 = f64x2.sub(x1, f64x2.mul(f0, v128.load64_splat(r0 + kb, 8)))
  const f2 = f64x2.sub(f64x2.sub(x2, f64x2.mul(f0, v128.load64_splat(r0 + kb, 16))), f64x2.mul(f1, v128.load64_splat(r1 + kb, 16)))
  const f3 = f64x2.sub(
    f64x2.sub(f64x2.sub(x3, f64x2.mul(f0, v128.load64_splat(r0 + kb, 24))), f64x2.mul(f1, v128.load64_splat(r1 + kb, 24))),
    f64x2.mul(f2, v128.load64_splat(r2 + kb, 24))
  )
  const zero = f64x2.splat(0)
  let y0 = f64x2.sub(zero, f64x2.mul(f0, v128.load64_splat(r0 + kb)))
  y0 = f64x2.sub(y0, f64x2.mul(f1, v128.load64_splat(r1 + kb)))
  y0 = f64x2.sub(y0, f64x2.mul(f2, v128.load64_splat(r2 + kb)))
  y0 = f64x2.sub(y0, f64x2.mul(f3, v128.load64_splat(r3 + kb)))
  let y1 = f64x2.sub(zero, f64x2.mul(f1, v128.load64_splat(r1 + kb, 8)))
  y1 = f64x2.sub(y1, f64x2.mul(f2, v128.load64_splat(r2 + kb, 8)))
  y1 = f64x2.sub(y1, f64x2.mul(f3, v128.load64_splat(r3 + kb, 8)))
  let y2 = f64x2.sub(zero, f64x2.mul(f2, v128.load64_splat(r2 + kb, 16)))
  y2 = f64x2.sub(y2, f64x2.mul(f3, v128.load64_splat(r3 + kb, 16)))
  const y3 = f64x2.sub(zero, f64x2.mul(f3, v128.load64_splat(r3 + kb, 24)))
  store<f64>(ri + kb, f64x2.extract_lane(y0, 0))
  store<f64>(ri + kb + 8, f64x2.extract_lane(y1, 0))
  store<f64>(ri + kb + 16, f64x2.extract_lane(y2, 0))
  store<f64>(ri + kb + 24, f64x2.extract_lane(y3, 0))
  store<f64>(rj + kb, f64x2.extract_lane(y0, 1))
  store<f64>(rj + kb + 8, f64x2.extract_lane(y1, 1))
  store<f64>(rj + kb + 16, f64x2.extract_lane(y2, 1))
  store<f64>(rj + kb + 24, f64x2.extract_lane(y3, 1))
  const u0 = v128.shuffle<f64>(f0, f0, 0, 0)
  const u1 = v128.shuffle<f64>(f1, f1, 0, 0)
  const u2 = v128.shuffle<f64>(f2, f2, 0, 0)
  const u3 = v128.shuffle<f64>(f3, f3, 0, 0)
  const v0 = v128.shuffle<f64>(f0, f0, 1, 1)
  const v1 = v128.shuffle<f64>(f1, f1, 1, 1)
  const v2 = v128.shuffle<f64>(f2, f2, 1, 1)
  const v3 = v128.shuffle<f64>(f3, f3, 1, 1)
  const before = <usize>k0 << 3
  const end = (<usize>n) << 3
  // Columns before the block (k0 is even: pairs), then after it (odd tail).
  gjPairColumns(0, before, ri, rj, r0, r1, r2, r3, u0, u1, u2, u3, v0, v1, v2, v3)
  let o = before + 32 + ((end - before - 32) & ~15)
  gjPairColumns(before + 32, o, ri, rj, r0, r1, r2, r3, u0, u1, u2, u3, v0, v1, v2, v3)
  if (o < end) {
    const p0 = load<f64>(r0 + o)
    const p1 = load<f64>(r1 + o)
    const p2 = load<f64>(r2 + o)
    const p3 = load<f64>(r3 + o)
    store<f64>(ri + o, (((load<f64>(ri + o) - f64x2.extract_lane(u0, 0) * p0) - f64x2.extract_lane(u1, 0) * p1) - f64x2.extract_lane(u2, 0) * p2) - f64x2.extract_lane(u3, 0) * p3)
    store<f64>(rj + o, (((load<f64>(rj + o) - f64x2.extract_lane(v0, 0) * p0) - f64x2.extract_lane(v1, 0) * p1) - f64x2.extract_lane(v2, 0) * p2) - f64x2.extract_lane(v3, 0) * p3)
  }
}

// Byte offsets [from, to) (a multiple of 16 apart) of rows ri and rj, each
// minus its four multiples of the pivot rows.
@inline function gjPairColumns(
  from: usize,
  to: usize,
  ri: usize,
  rj: usize,
  r0: usize,
  r1: usize,
  r2: usize,
  r3: usize,
  u0: v128,
  u1: v128,
  u2: v128,
  u3: v128,
  v0: v128,
  v1: v128,
  v2: v128,
  v3: v128
): void {
  for (let o = from; o < to; o += 16) {
    const p0 = v128.load(r0 + o)
    const p1 = v128.load(r1 + o)
    const p2 = v128.load(r2 + o)
    const p3 = v128.load(r3 + o)
    let x = v128.load(ri + o)
    let y = v128.load(rj + o)
    x = f64x2.sub(x, f64x2.mul(u0, p0))
    y = f64x2.sub(y, f64x2.mul(v0, p0))
    x = f64x2.sub(x, f64x2.mul(u1, p1))
    y = f64x2.sub(y, f64x2.mul(v1, p1))
    x = f64x2.sub(x, f64x2.mul(u2, p2))
    y = f64x2.sub(y, f64x2.mul(v2, p2))
    x = f64x2.sub(x, f64x2.mul(u3, p3))
    y = f64x2.sub(y, f64x2.mul(v3, p3))
    v128.store(ri + o, x)
    v128.store(rj + o, y)
  }
}

// ── l1 subgradient ─────────────────────────────────────────────────────────

// g ← g + λ·sign(x) (sign 0 at ±0 and NaN), src/OptimizerKernels.ts
// `addL1Subgradient`: the term is selected with comparison masks (λ, −λ or
// +0) and added, so no branch depends on the signs.
export function addL1Subgradient(n: i32, lambda: f64, x: usize, g: usize): void {
  const vp = f64x2.splat(lambda)
  const vn = f64x2.splat(-lambda)
  const zero = f64x2.splat(0)
  const n2 = n & ~1
  let i = 0
  for (; i < n2; i += 2) {
    const o = (<usize>i) << 3
    const xi = v128.load(x + o)
    const term = v128.or(v128.and(f64x2.gt(xi, zero), vp), v128.and(f64x2.lt(xi, zero), vn))
    v128.store(g + o, f64x2.add(v128.load(g + o), term))
  }
  if (i < n) {
    const o = (<usize>i) << 3
    const xi = load<f64>(x + o)
    store<f64>(g + o, load<f64>(g + o) + (xi > 0 ? lambda : xi < 0 ? -lambda : 0))
  }
}

// ── copy ───────────────────────────────────────────────────────────────────

// y ← x (n doubles; overlapping ranges allowed), src/Blas1.ts `copy`. V8 copies
// between views of shared memory element by element with relaxed atomics
// (`set`: ≈ 4× slower at 2500 doubles); memory.copy is a plain memmove.
export function copy(n: i32, x: usize, y: usize): void {
  memory.copy(y, x, (<usize>n) << 3)
}

// x ← 0 (n doubles), src/Blas3.ts `gemm` with β = 0: `fill` on a view of shared
// memory is ≈ 3× slower than this memset (measured at 400 and 2500 doubles).
export function zero(n: i32, x: usize): void {
  memory.fill(x, 0, (<usize>n) << 3)
}

// ── M-matrix barrier ───────────────────────────────────────────────────────

// out ← sI − A∘A, or its transpose when `transposed` is set (A and out n × n
// row-major, distinct), src/Elementwise.ts `shiftedNegativeSquare`: each entry
// −(a·a), then s added on the diagonal. The transpose goes by 2 × 2 blocks (two
// rows of A loaded in pairs, swapped across lanes, stored as two rows of out).
export function shiftedNegativeSquare(n: i32, s: f64, a: usize, transposed: i32, out: usize): void {
  const rowBytes = (<usize>n) << 3
  if (transposed == 0) {
    const total = n * n
    const n2 = total & ~1
    let k = 0
    for (; k < n2; k += 2) {
      const o = (<usize>k) << 3
      const w = v128.load(a + o)
      v128.store(out + o, f64x2.neg(f64x2.mul(w, w)))
    }
    if (k < total) {
      const o = (<usize>k) << 3
      const w = load<f64>(a + o)
      store<f64>(out + o, -(w * w))
    }
  } else {
    const even = n & ~1
    // out rows i, i + 1 (columns i, i + 1 of A).
    for (let i = 0; i < even; i += 2) {
      const ci = (<usize>i) << 3
      const oi = out + (<usize>i) * rowBytes
      const oi1 = oi + rowBytes
      let j = 0
      for (; j < even; j += 2) {
        const p = a + (<usize>j) * rowBytes + ci
        const u = v128.load(p)
        const v = v128.load(p + rowBytes)
        const x = f64x2.neg(f64x2.mul(u, u))
        const y = f64x2.neg(f64x2.mul(v, v))
        const cj = (<usize>j) << 3
        v128.store(oi + cj, v128.shuffle<f64>(x, y, 0, 2))
        v128.store(oi1 + cj, v128.shuffle<f64>(x, y, 1, 3))
      }
      if (j < n) {
        const x = v128.load(a + (<usize>j) * rowBytes + ci)
        const y = f64x2.neg(f64x2.mul(x, x))
        const cj = (<usize>j) << 3
        store<f64>(oi + cj, f64x2.extract_lane(y, 0))
        store<f64>(oi1 + cj, f64x2.extract_lane(y, 1))
      }
    }
    if (even < n) {
      // The last row of out: the last column of A.
      const ci = (<usize>even) << 3
      const oi = out + (<usize>even) * rowBytes
      for (let j = 0; j < n; j++) {
        const w = load<f64>(a + (<usize>j) * rowBytes + ci)
        store<f64>(oi + ((<usize>j) << 3), -(w * w))
      }
    }
  }
  const step = rowBytes + 8
  for (let i = 0; i < n; i++) {
    const p = out + (<usize>i) * step
    store<f64>(p, load<f64>(p) + s)
  }
}

// g ← base + (α·x)∘y + λ·sign(x) (sign 0 at ±0 and NaN, selected by masks as in
// addL1Subgradient), src/OptimizerKernels.ts `hadamardL1Gradient`; returns 1
// when every y ≥ 0 (a NaN fails), else 0. base may be g.
export function hadamardL1Gradient(n: i32, base: usize, alpha: f64, x: usize, y: usize, lambda: f64, g: usize): i32 {
  const va = f64x2.splat(alpha)
  const vp = f64x2.splat(lambda)
  const vn = f64x2.splat(-lambda)
  const zero = f64x2.splat(0)
  let ok = i64x2.splat(-1)
  const n2 = n & ~1
  let i = 0
  for (; i < n2; i += 2) {
    const o = (<usize>i) << 3
    const xi = v128.load(x + o)
    const yi = v128.load(y + o)
    ok = v128.and(ok, f64x2.ge(yi, zero))
    const term = v128.or(v128.and(f64x2.gt(xi, zero), vp), v128.and(f64x2.lt(xi, zero), vn))
    const t = f64x2.add(v128.load(base + o), f64x2.mul(f64x2.mul(va, xi), yi))
    v128.store(g + o, f64x2.add(t, term))
  }
  let tailOk = true
  if (i < n) {
    const o = (<usize>i) << 3
    const xi = load<f64>(x + o)
    const yi = load<f64>(y + o)
    tailOk = yi >= 0
    const t = load<f64>(base + o) + alpha * xi * yi
    store<f64>(g + o, t + (xi > 0 ? lambda : xi < 0 ? -lambda : 0))
  }
  return v128.all_true<i64>(ok) && tailOk ? 1 : 0
}

// ── bound-constrained quasi-Newton passes (L-BFGS-B) ───────────────────────
//
// src/BoxKernels.ts, operation for operation. The clamp is the pair
// pmax(v, lo) = `v < lo ? lo : v`, pmin(v, hi) = `hi < v ? hi : v`: a NaN v
// passes through both, and for lo ≤ hi it equals the scalar
// `if (v < lo) v = lo; else if (v > hi) v = hi`.

// out ← clamp(x + α·d, lower, upper). out may be x.
export function projectedAxpy(n: i32, x: usize, alpha: f64, d: usize, lower: usize, upper: usize, out: usize): void {
  const va = f64x2.splat(alpha)
  const n2 = n & ~1
  let i = 0
  for (; i < n2; i += 2) {
    const o = (<usize>i) << 3
    const v = f64x2.add(v128.load(x + o), f64x2.mul(va, v128.load(d + o)))
    v128.store(out + o, f64x2.pmin(f64x2.pmax(v, v128.load(lower + o)), v128.load(upper + o)))
  }
  if (i < n) {
    const o = (<usize>i) << 3
    let v = load<f64>(x + o) + alpha * load<f64>(d + o)
    const lo = load<f64>(lower + o)
    const hi = load<f64>(upper + o)
    v = v < lo ? lo : v
    store<f64>(out + o, hi < v ? hi : v)
  }
}

// max_i |clamp(x_i − g_i, lower_i, upper_i) − x_i|, NaN when a term is NaN.
// The terms are ≥ +0, so the maximum does not depend on the order: two
// accumulators by pmax (one instruction, `m < a ? a : m`, which skips a NaN
// term), and the NaN terms flagged apart.
export function projectedGradientNorm(n: i32, x: usize, g: usize, lower: usize, upper: usize): f64 {
  let m0 = f64x2.splat(0)
  let m1 = f64x2.splat(0)
  let nan = i64x2.splat(0)
  const n4 = n & ~3
  let i = 0
  for (; i < n4; i += 4) {
    const o = (<usize>i) << 3
    const x0 = v128.load(x + o)
    const x1 = v128.load(x + o, 16)
    const t0 = f64x2.pmin(f64x2.pmax(f64x2.sub(x0, v128.load(g + o)), v128.load(lower + o)), v128.load(upper + o))
    const t1 = f64x2.pmin(
      f64x2.pmax(f64x2.sub(x1, v128.load(g + o, 16)), v128.load(lower + o, 16)),
      v128.load(upper + o, 16)
    )
    const a0 = f64x2.abs(f64x2.sub(t0, x0))
    const a1 = f64x2.abs(f64x2.sub(t1, x1))
    m0 = f64x2.pmax(m0, a0)
    m1 = f64x2.pmax(m1, a1)
    nan = v128.or(nan, v128.or(f64x2.ne(a0, a0), f64x2.ne(a1, a1)))
  }
  const mx = f64x2.pmax(m0, m1)
  let norm = max<f64>(f64x2.extract_lane(mx, 0), f64x2.extract_lane(mx, 1))
  if (v128.any_true(nan)) norm = NaN
  for (; i < n; i++) {
    const o = (<usize>i) << 3
    const xi = load<f64>(x + o)
    let t = xi - load<f64>(g + o)
    const lo = load<f64>(lower + o)
    const hi = load<f64>(upper + o)
    t = t < lo ? lo : t
    t = hi < t ? hi : t
    norm = max<f64>(norm, abs<f64>(t - xi))
  }
  return norm
}

// The breakpoints of the projected steepest-descent path x − t·g: with
// t_i = (x_i − b_i)/g_i (b_i = upper_i when g_i < 0, else lower_i), a moving
// coordinate (t_i > 0) gets d_i = −g_i and key_i = t_i, the others d_i = +0
// and key_i = +∞. Writes the slope −Σ g_i² over the moving coordinates,
// subtracted one coordinate at a time in index order (a masked lane
// subtracts +0, which changes nothing), to summary[0] and the smallest key
// (no NaN among them: pmin is exact) to summary[1].
export function cauchyBreakpoints(n: i32, x: usize, g: usize, lower: usize, upper: usize, d: usize, key: usize, summary: usize): void {
  const zero = f64x2.splat(0)
  const inf = f64x2.splat(Infinity)
  let first = inf
  let slope: f64 = 0
  const n2 = n & ~1
  let i = 0
  for (; i < n2; i += 2) {
    const o = (<usize>i) << 3
    const gi = v128.load(g + o)
    const bound = v128.bitselect(v128.load(upper + o), v128.load(lower + o), f64x2.lt(gi, zero))
    const ti = f64x2.div(f64x2.sub(v128.load(x + o), bound), gi)
    const moving = f64x2.gt(ti, zero)
    v128.store(d + o, v128.bitselect(f64x2.neg(gi), zero, moving))
    const k = v128.bitselect(ti, inf, moving)
    v128.store(key + o, k)
    first = f64x2.pmin(first, k)
    const sq = v128.bitselect(f64x2.mul(gi, gi), zero, moving)
    slope = slope - f64x2.extract_lane(sq, 0)
    slope = slope - f64x2.extract_lane(sq, 1)
  }
  let smallest = f64x2.extract_lane(first, 0)
  const second = f64x2.extract_lane(first, 1)
  if (second < smallest) smallest = second
  if (i < n) {
    const o = (<usize>i) << 3
    const gi = load<f64>(g + o)
    const ti = (load<f64>(x + o) - (gi < 0 ? load<f64>(upper + o) : load<f64>(lower + o))) / gi
    if (ti > 0) {
      store<f64>(d + o, -gi)
      store<f64>(key + o, ti)
      slope = slope - gi * gi
      if (ti < smallest) smallest = ti
    } else {
      store<f64>(d + o, 0)
      store<f64>(key + o, Infinity)
    }
  }
  store<f64>(summary, slope)
  store<f64>(summary, smallest, 8)
}

// The end of the Cauchy path at time t: where d_i ≠ 0, xc_i ← clamp(x_i + t·d_i)
// (elsewhere xc_i is kept); then direction_i ← xc_i − x_i and free_i ← 1 when
// lower_i < xc_i < upper_i, else 0. Writes the indices i where free_i changed,
// in increasing order, to changed[0…count) (as doubles) and returns count.
export function cauchyPointComplete(
  n: i32,
  x: usize,
  d: usize,
  t: f64,
  lower: usize,
  upper: usize,
  xc: usize,
  direction: usize,
  free: usize,
  changed: usize
): i32 {
  const vt = f64x2.splat(t)
  const zero = f64x2.splat(0)
  const one = f64x2.splat(1)
  let count = 0
  const n2 = n & ~1
  let i = 0
  for (; i < n2; i += 2) {
    const o = (<usize>i) << 3
    const xi = v128.load(x + o)
    const di = v128.load(d + o)
    const lo = v128.load(lower + o)
    const hi = v128.load(upper + o)
    const moved = f64x2.pmin(f64x2.pmax(f64x2.add(xi, f64x2.mul(vt, di)), lo), hi)
    const c = v128.bitselect(moved, v128.load(xc + o), f64x2.ne(di, zero))
    v128.store(xc + o, c)
    v128.store(direction + o, f64x2.sub(c, xi))
    const flag = v128.bitselect(one, zero, v128.and(f64x2.lt(lo, c), f64x2.lt(c, hi)))
    const change = f64x2.ne(flag, v128.load(free + o))
    v128.store(free + o, flag)
    // Changes are rare: one test per pair of lanes.
    if (v128.any_true(change)) {
      if (i64x2.extract_lane(change, 0) != 0) {
        store<f64>(changed + ((<usize>count) << 3), <f64>i)
        count++
      }
      if (i64x2.extract_lane(change, 1) != 0) {
        store<f64>(changed + ((<usize>count) << 3), <f64>(i + 1))
        count++
      }
    }
  }
  if (i < n) {
    const o = (<usize>i) << 3
    const xi = load<f64>(x + o)
    const di = load<f64>(d + o)
    const lo = load<f64>(lower + o)
    const hi = load<f64>(upper + o)
    let c = load<f64>(xc + o)
    if (di != 0) {
      c = xi + t * di
      c = c < lo ? lo : c
      c = hi < c ? hi : c
      store<f64>(xc + o, c)
    }
    store<f64>(direction + o, c - xi)
    const flag: f64 = lo < c && c < hi ? 1 : 0
    if (flag != load<f64>(free + o)) {
      store<f64>(changed + ((<usize>count) << 3), <f64>i)
      count++
    }
    store<f64>(free + o, flag)
  }
  return count
}

// min(cap, min_i λ_i), λ_i the largest step with lower_i ≤ x_i + λ·d_i ≤ upper_i:
// (upper_i − x_i)/d_i for d_i > 0 and a finite upper_i, (lower_i − x_i)/d_i for
// d_i < 0 and a finite lower_i, else no limit. f64x2.min and f64.min are
// Math.min (NaN propagates, −0 < +0): a lattice minimum, whatever the order.
export function maxFeasibleStep(n: i32, x: usize, d: usize, lower: usize, upper: usize, cap: f64): f64 {
  const zero = f64x2.splat(0)
  const inf = f64x2.splat(Infinity)
  const negInf = f64x2.splat(-Infinity)
  // The division and minimum only for lanes that limit the step (often few:
  // coordinates at a bound do not move, and many bounds are infinite).
  let mn = f64x2.splat(cap)
  const n4 = n & ~3
  let i = 0
  for (; i < n4; i += 4) {
    const o = (<usize>i) << 3
    const d0 = v128.load(d + o)
    const l0 = v128.load(lower + o)
    const h0 = v128.load(upper + o)
    const up0 = v128.and(f64x2.gt(d0, zero), f64x2.lt(h0, inf))
    const limit0 = v128.or(up0, v128.and(f64x2.lt(d0, zero), f64x2.gt(l0, negInf)))
    const d1 = v128.load(d + o, 16)
    const l1 = v128.load(lower + o, 16)
    const h1 = v128.load(upper + o, 16)
    const up1 = v128.and(f64x2.gt(d1, zero), f64x2.lt(h1, inf))
    const limit1 = v128.or(up1, v128.and(f64x2.lt(d1, zero), f64x2.gt(l1, negInf)))
    if (v128.any_true(v128.or(limit0, limit1))) {
      const r0 = f64x2.div(f64x2.sub(v128.bitselect(h0, l0, up0), v128.load(x + o)), d0)
      const r1 = f64x2.div(f64x2.sub(v128.bitselect(h1, l1, up1), v128.load(x + o, 16)), d1)
      mn = f64x2.min(mn, f64x2.min(v128.bitselect(r0, inf, limit0), v128.bitselect(r1, inf, limit1)))
    }
  }
  let bound = min<f64>(f64x2.extract_lane(mn, 0), f64x2.extract_lane(mn, 1))
  for (; i < n; i++) {
    const o = (<usize>i) << 3
    const di = load<f64>(d + o)
    const xi = load<f64>(x + o)
    const lo = load<f64>(lower + o)
    const hi = load<f64>(upper + o)
    if (di > 0 && hi < Infinity) bound = min<f64>(bound, (hi - xi) / di)
    else if (di < 0 && lo > -Infinity) bound = min<f64>(bound, (lo - xi) / di)
  }
  return bound
}

// out ← x − y, src/Elementwise.ts `sub`. out may be x or y.
export function subtract(n: i32, x: usize, y: usize, out: usize): void {
  const n2 = n & ~1
  let i = 0
  for (; i < n2; i += 2) {
    const o = (<usize>i) << 3
    v128.store(out + o, f64x2.sub(v128.load(x + o), v128.load(y + o)))
  }
  if (i < n) {
    const o = (<usize>i) << 3
    store<f64>(out + o, load<f64>(x + o) - load<f64>(y + o))
  }
}
