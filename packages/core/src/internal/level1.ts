/**
 * Offset-based level-1 loops shared by the public kernels.
 *
 * They take (length, array, offset) triples so level-2/3 kernels can run them on
 * rows of a matrix without creating `subarray` views inside their loops. No
 * argument checks: callers check shapes once.
 *
 * Summation order (fixed, so a SIMD backend can reproduce it bit for bit): eight
 * partial sums, s_k over the indices i ≡ k (mod 8) of the first ⌊n/8⌋·8 entries,
 * combined as ((s0+s2)+(s4+s6)) + ((s1+s3)+(s5+s7)) — the reduction of four
 * f64x2 accumulators — and then the remaining entries added in order.
 */

/** Σ x[xo+i]·y[yo+i] for i < n. */
export const dotAt = (n: number, x: Float64Array, xo: number, y: Float64Array, yo: number): number => {
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  let s4 = 0
  let s5 = 0
  let s6 = 0
  let s7 = 0
  const n8 = n - (n % 8)
  let i = 0
  for (; i < n8; i += 8) {
    // Indexing as x[xo + i + k] (not through a precomputed base) keeps V8's
    // bounds checks cheap: measured 19 GB/s against 9 GB/s for the other form.
    s0 += x[xo + i]! * y[yo + i]!
    s1 += x[xo + i + 1]! * y[yo + i + 1]!
    s2 += x[xo + i + 2]! * y[yo + i + 2]!
    s3 += x[xo + i + 3]! * y[yo + i + 3]!
    s4 += x[xo + i + 4]! * y[yo + i + 4]!
    s5 += x[xo + i + 5]! * y[yo + i + 5]!
    s6 += x[xo + i + 6]! * y[yo + i + 6]!
    s7 += x[xo + i + 7]! * y[yo + i + 7]!
  }
  let s = s0 + s2 + (s4 + s6) + (s1 + s3 + (s5 + s7))
  for (; i < n; i++) s += x[xo + i]! * y[yo + i]!
  return s
}

/**
 * From this length on, `Blas1.dot` reads its vectors as four streams (the
 * quarters), which lets one core keep more cache-line fetches in flight from
 * DRAM: measured 25.5 against 22.6 GB/s at n = 2.5e7. Below it the vectors
 * are in cache and the eight-way order of `dotAt` is as fast.
 */
export const LONG_DOT_LENGTH = 65536

/**
 * Σ x[xo+i]·y[yo+i] for long vectors, in the order of the SIMD kernel
 * `dotLong`: with q = ⌊n/4⌋ rounded down to a multiple of 4, quarter k covers
 * [k·q, (k+1)·q) and keeps four partial sums s_k0…s_k3 (index i mod 4);
 * they combine as lane 0 = ((s_00 + s_10) + (s_20 + s_30)) + ((s_02 + s_12) +
 * (s_22 + s_32)), lane 1 the same with 1 and 3, then lane 0 + lane 1, then
 * the tail [4q, n) in order.
 */
export const dotLongAt = (n: number, x: Float64Array, xo: number, y: Float64Array, yo: number): number => {
  const q = (n >> 2) & ~3
  let s00 = 0
  let s01 = 0
  let s02 = 0
  let s03 = 0
  let s10 = 0
  let s11 = 0
  let s12 = 0
  let s13 = 0
  let s20 = 0
  let s21 = 0
  let s22 = 0
  let s23 = 0
  let s30 = 0
  let s31 = 0
  let s32 = 0
  let s33 = 0
  for (let i = 0; i < q; i += 4) {
    const a = xo + i
    const b = yo + i
    s00 += x[a]! * y[b]!
    s01 += x[a + 1]! * y[b + 1]!
    s02 += x[a + 2]! * y[b + 2]!
    s03 += x[a + 3]! * y[b + 3]!
    s10 += x[a + q]! * y[b + q]!
    s11 += x[a + q + 1]! * y[b + q + 1]!
    s12 += x[a + q + 2]! * y[b + q + 2]!
    s13 += x[a + q + 3]! * y[b + q + 3]!
    s20 += x[a + 2 * q]! * y[b + 2 * q]!
    s21 += x[a + 2 * q + 1]! * y[b + 2 * q + 1]!
    s22 += x[a + 2 * q + 2]! * y[b + 2 * q + 2]!
    s23 += x[a + 2 * q + 3]! * y[b + 2 * q + 3]!
    s30 += x[a + 3 * q]! * y[b + 3 * q]!
    s31 += x[a + 3 * q + 1]! * y[b + 3 * q + 1]!
    s32 += x[a + 3 * q + 2]! * y[b + 3 * q + 2]!
    s33 += x[a + 3 * q + 3]! * y[b + 3 * q + 3]!
  }
  const lane0 = s00 + s10 + (s20 + s30) + (s02 + s12 + (s22 + s32))
  const lane1 = s01 + s11 + (s21 + s31) + (s03 + s13 + (s23 + s33))
  let s = lane0 + lane1
  for (let i = 4 * q; i < n; i++) s += x[xo + i]! * y[yo + i]!
  return s
}

/** Σ x[xo+i]² for i < n, in the same order as `dotAt`. */
export const sumSquaresAt = (n: number, x: Float64Array, xo: number): number => {
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  let s4 = 0
  let s5 = 0
  let s6 = 0
  let s7 = 0
  const n8 = n - (n % 8)
  let i = 0
  for (; i < n8; i += 8) {
    const v0 = x[xo + i]!
    const v1 = x[xo + i + 1]!
    const v2 = x[xo + i + 2]!
    const v3 = x[xo + i + 3]!
    const v4 = x[xo + i + 4]!
    const v5 = x[xo + i + 5]!
    const v6 = x[xo + i + 6]!
    const v7 = x[xo + i + 7]!
    s0 += v0 * v0
    s1 += v1 * v1
    s2 += v2 * v2
    s3 += v3 * v3
    s4 += v4 * v4
    s5 += v5 * v5
    s6 += v6 * v6
    s7 += v7 * v7
  }
  let s = s0 + s2 + (s4 + s6) + (s1 + s3 + (s5 + s7))
  for (; i < n; i++) {
    const v = x[xo + i]!
    s += v * v
  }
  return s
}

/** Σ |x[xo+i]| for i < n, in the same order as `dotAt`. */
export const absSumAt = (n: number, x: Float64Array, xo: number): number => {
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  let s4 = 0
  let s5 = 0
  let s6 = 0
  let s7 = 0
  const n8 = n - (n % 8)
  let i = 0
  for (; i < n8; i += 8) {
    s0 += Math.abs(x[xo + i]!)
    s1 += Math.abs(x[xo + i + 1]!)
    s2 += Math.abs(x[xo + i + 2]!)
    s3 += Math.abs(x[xo + i + 3]!)
    s4 += Math.abs(x[xo + i + 4]!)
    s5 += Math.abs(x[xo + i + 5]!)
    s6 += Math.abs(x[xo + i + 6]!)
    s7 += Math.abs(x[xo + i + 7]!)
  }
  let s = s0 + s2 + (s4 + s6) + (s1 + s3 + (s5 + s7))
  for (; i < n; i++) s += Math.abs(x[xo + i]!)
  return s
}

/** Σ x[xo+i] for i < n, in the same order as `dotAt`. */
export const sumAt = (n: number, x: Float64Array, xo: number): number => {
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  let s4 = 0
  let s5 = 0
  let s6 = 0
  let s7 = 0
  const n8 = n - (n % 8)
  let i = 0
  for (; i < n8; i += 8) {
    s0 += x[xo + i]!
    s1 += x[xo + i + 1]!
    s2 += x[xo + i + 2]!
    s3 += x[xo + i + 3]!
    s4 += x[xo + i + 4]!
    s5 += x[xo + i + 5]!
    s6 += x[xo + i + 6]!
    s7 += x[xo + i + 7]!
  }
  let s = s0 + s2 + (s4 + s6) + (s1 + s3 + (s5 + s7))
  for (; i < n; i++) s += x[xo + i]!
  return s
}

/** y[yo+i] += alpha·x[xo+i] for i < n. */
export const axpyAt = (
  n: number,
  alpha: number,
  x: Float64Array,
  xo: number,
  y: Float64Array,
  yo: number
): void => {
  const n4 = n - (n % 4)
  let i = 0
  for (; i < n4; i += 4) {
    y[yo + i] = y[yo + i]! + alpha * x[xo + i]!
    y[yo + i + 1] = y[yo + i + 1]! + alpha * x[xo + i + 1]!
    y[yo + i + 2] = y[yo + i + 2]! + alpha * x[xo + i + 2]!
    y[yo + i + 3] = y[yo + i + 3]! + alpha * x[xo + i + 3]!
  }
  for (; i < n; i++) y[yo + i] = y[yo + i]! + alpha * x[xo + i]!
}

/** x[xo+i] *= alpha for i < n. */
export const scalAt = (n: number, alpha: number, x: Float64Array, xo: number): void => {
  for (let i = 0; i < n; i++) x[xo + i] = alpha * x[xo + i]!
}

/** max |x[xo+i]| for i < n (0 for n = 0; NaN if any entry is NaN). */
export const absMaxAt = (n: number, x: Float64Array, xo: number): number => {
  let m = 0
  for (let i = 0; i < n; i++) {
    const v = Math.abs(x[xo + i]!)
    if (v > m || v !== v) {
      if (v !== v) return Number.NaN
      m = v
    }
  }
  return m
}
