/**
 * Kernels of bound-constrained methods over a box lower ≤ x ≤ upper (per
 * coordinate, any side may be ±∞; lower ≤ upper): the projected step
 * P(x + α·d), the projected-gradient norm ‖P(x − g) − x‖∞, the breakpoints of
 * the projected steepest-descent path and its end (the generalized Cauchy
 * point of L-BFGS-B), and the largest feasible step along a direction. Each is
 * a pass over n coordinates that L-BFGS-B (`@descent/optim`) makes once or
 * more per iteration; as scalar loops with unpredictable branches per
 * coordinate they (with the gathers of the subspace step) took about 40 % of
 * an iteration on NOTEARS' subproblems (n = 2d² = 5000).
 *
 * The projection is clamp(v) = min(max(v, lower), upper) in the form
 * `v < lower ? lower : v`, then `upper < v ? upper : v`: a NaN v stays NaN,
 * and for lower ≤ upper it is the scalar `if (v < lower) v = lower; else if
 * (v > upper) v = upper`. The SIMD kernels and the TypeScript loops compute
 * the same bits.
 *
 * @since 0.1.0
 */
import { DimensionMismatch } from "./Errors.ts"
import { resident } from "./internal/dispatch.ts"
import { requireLength } from "./internal/lengths.ts"
import { wasm } from "./internal/wasm/runtime.ts"

const heap = wasm?.heap
const simd = wasm?.kernels

/**
 * outᵢ ← clamp(xᵢ + α·dᵢ, lowerᵢ, upperᵢ): the point x + αd projected onto
 * the box (a NaN entry stays NaN). `out` may be `x`.
 *
 * @throws DimensionMismatch when the lengths differ.
 * @category kernels
 * @since 0.1.0
 */
export const projectedAxpy = (
  x: Float64Array,
  alpha: number,
  d: Float64Array,
  lower: Float64Array,
  upper: Float64Array,
  out: Float64Array
): void => {
  const n = x.length
  requireLength("BoxKernels.projectedAxpy", "d", d, n)
  requireLength("BoxKernels.projectedAxpy", "lower", lower, n)
  requireLength("BoxKernels.projectedAxpy", "upper", upper, n)
  requireLength("BoxKernels.projectedAxpy", "out", out, n)
  if (simd !== undefined && resident(x, d, lower) && resident(upper, out)) {
    simd!.projectedAxpy(
      n,
      x.byteOffset,
      alpha,
      d.byteOffset,
      lower.byteOffset,
      upper.byteOffset,
      out.byteOffset
    )
    return
  }
  for (let i = 0; i < n; i++) {
    let v = x[i]! + alpha * d[i]!
    const lo = lower[i]!
    const hi = upper[i]!
    if (v < lo) v = lo
    if (hi < v) v = hi
    out[i] = v
  }
}

/**
 * ‖P(x − g) − x‖∞ = maxᵢ |clamp(xᵢ − gᵢ, lowerᵢ, upperᵢ) − xᵢ|, the
 * first-order optimality measure of a box-constrained problem (zero exactly
 * at a stationary point); NaN when any term is NaN. 0 for n = 0.
 *
 * @throws DimensionMismatch when the lengths differ.
 * @category kernels
 * @since 0.1.0
 */
export const projectedGradientNorm = (
  x: Float64Array,
  g: Float64Array,
  lower: Float64Array,
  upper: Float64Array
): number => {
  const n = x.length
  requireLength("BoxKernels.projectedGradientNorm", "g", g, n)
  requireLength("BoxKernels.projectedGradientNorm", "lower", lower, n)
  requireLength("BoxKernels.projectedGradientNorm", "upper", upper, n)
  if (simd !== undefined && resident(x, g, lower) && heap!.contains(upper)) {
    return simd!.projectedGradientNorm(n, x.byteOffset, g.byteOffset, lower.byteOffset, upper.byteOffset)
  }
  let norm = 0
  for (let i = 0; i < n; i++) {
    const xi = x[i]!
    let t = xi - g[i]!
    const lo = lower[i]!
    const hi = upper[i]!
    if (t < lo) t = lo
    if (hi < t) t = hi
    const a = Math.abs(t - xi)
    // The maximum of terms ≥ +0 does not depend on the order; NaN sticks.
    if (a > norm || a !== a) norm = a
  }
  return norm
}

/**
 * The breakpoints of the projected steepest-descent path x(t) = P(x − t·g)
 * (Byrd, Lu, Nocedal & Zhu, "A limited memory algorithm for bound
 * constrained optimization", SIAM J. Sci. Comput. 16(5), 1995, §4): with
 * tᵢ = (xᵢ − bᵢ)/gᵢ, bᵢ the bound coordinate i moves towards (upperᵢ when
 * gᵢ < 0, else lowerᵢ), a moving coordinate (tᵢ > 0) gets dᵢ = −gᵢ and
 * keyᵢ = tᵢ (+∞ when that bound is infinite), the others (at their bound,
 * gᵢ = 0 or NaN) dᵢ = +0 and keyᵢ = +∞. Writes the slope gᵀd = −Σ gᵢ² over
 * the moving coordinates, subtracted in index order, to `summary[0]`, and the
 * first breakpoint minᵢ keyᵢ (+∞ for none) to `summary[1]`: a caller that
 * stops before it needs no ordering of the breakpoints.
 *
 * @throws DimensionMismatch when the lengths differ, or `summary` has fewer than 2 entries.
 * @category kernels
 * @since 0.1.0
 */
export const cauchyBreakpoints = (
  x: Float64Array,
  g: Float64Array,
  lower: Float64Array,
  upper: Float64Array,
  d: Float64Array,
  key: Float64Array,
  summary: Float64Array
): void => {
  const n = x.length
  requireLength("BoxKernels.cauchyBreakpoints", "g", g, n)
  requireLength("BoxKernels.cauchyBreakpoints", "lower", lower, n)
  requireLength("BoxKernels.cauchyBreakpoints", "upper", upper, n)
  requireLength("BoxKernels.cauchyBreakpoints", "d", d, n)
  requireLength("BoxKernels.cauchyBreakpoints", "key", key, n)
  if (summary.length < 2) {
    throw new DimensionMismatch({
      operation: "BoxKernels.cauchyBreakpoints",
      what: "summary",
      expected: [2],
      actual: [summary.length]
    })
  }
  if (simd !== undefined && resident(x, g, lower) && resident(upper, d, key) && heap!.contains(summary)) {
    simd!.cauchyBreakpoints(
      n,
      x.byteOffset,
      g.byteOffset,
      lower.byteOffset,
      upper.byteOffset,
      d.byteOffset,
      key.byteOffset,
      summary.byteOffset
    )
    return
  }
  let slope = 0
  let first = Number.POSITIVE_INFINITY
  for (let i = 0; i < n; i++) {
    const gi = g[i]!
    // gᵢ = 0 gives ±∞ or NaN; a NaN gᵢ gives NaN: neither moves.
    const ti = (x[i]! - (gi < 0 ? upper[i]! : lower[i]!)) / gi
    if (ti > 0) {
      d[i] = -gi
      key[i] = ti
      slope -= gi * gi
      // The keys are > 0 (no NaN, no signed zero): any order finds the same minimum.
      if (ti < first) first = ti
    } else {
      d[i] = 0
      key[i] = Number.POSITIVE_INFINITY
    }
  }
  summary[0] = slope
  summary[1] = first
}

/**
 * The end of the projected path at time t (BLNZ §4): where dᵢ ≠ 0,
 * xcᵢ ← clamp(xᵢ + t·dᵢ) (the other entries of `xc` are kept: coordinates
 * stopped earlier at their bounds); then directionᵢ ← xcᵢ − xᵢ and
 * freeᵢ ← 1 when lowerᵢ < xcᵢ < upperᵢ (coordinate i is free at xc), else 0.
 * With `free` holding the previous flags on entry, writes the indices i whose
 * flag changed, in increasing order, to `changed` (as numbers) and returns how
 * many: a caller tracking the free set gets its changes without a scan.
 *
 * @throws DimensionMismatch when the lengths differ.
 * @category kernels
 * @since 0.1.0
 */
export const cauchyPointComplete = (
  x: Float64Array,
  d: Float64Array,
  t: number,
  lower: Float64Array,
  upper: Float64Array,
  xc: Float64Array,
  direction: Float64Array,
  free: Float64Array,
  changed: Float64Array
): number => {
  const n = x.length
  requireLength("BoxKernels.cauchyPointComplete", "d", d, n)
  requireLength("BoxKernels.cauchyPointComplete", "lower", lower, n)
  requireLength("BoxKernels.cauchyPointComplete", "upper", upper, n)
  requireLength("BoxKernels.cauchyPointComplete", "xc", xc, n)
  requireLength("BoxKernels.cauchyPointComplete", "direction", direction, n)
  requireLength("BoxKernels.cauchyPointComplete", "free", free, n)
  requireLength("BoxKernels.cauchyPointComplete", "changed", changed, n)
  if (
    simd !== undefined &&
    resident(x, d, lower) &&
    resident(upper, xc, direction) &&
    resident(free, changed)
  ) {
    return simd!.cauchyPointComplete(
      n,
      x.byteOffset,
      d.byteOffset,
      t,
      lower.byteOffset,
      upper.byteOffset,
      xc.byteOffset,
      direction.byteOffset,
      free.byteOffset,
      changed.byteOffset
    )
  }
  let changes = 0
  for (let i = 0; i < n; i++) {
    const xi = x[i]!
    const di = d[i]!
    const lo = lower[i]!
    const hi = upper[i]!
    let c = xc[i]!
    if (di !== 0) {
      c = xi + t * di
      if (c < lo) c = lo
      if (hi < c) c = hi
      xc[i] = c
    }
    direction[i] = c - xi
    const flag = lo < c && c < hi ? 1 : 0
    if (flag !== free[i]) changed[changes++] = i
    free[i] = flag
  }
  return changes
}

/**
 * min(cap, minᵢ λᵢ) with λᵢ the largest step keeping lowerᵢ ≤ xᵢ + λ·dᵢ ≤ upperᵢ:
 * (upperᵢ − xᵢ)/dᵢ for dᵢ > 0 and a finite upperᵢ, (lowerᵢ − xᵢ)/dᵢ for dᵢ < 0
 * and a finite lowerᵢ, no limit otherwise. The minimum is `Math.min`'s (NaN
 * propagates, −0 < +0), so it does not depend on the order.
 *
 * @throws DimensionMismatch when the lengths differ.
 * @category kernels
 * @since 0.1.0
 */
export const maxFeasibleStep = (
  x: Float64Array,
  d: Float64Array,
  lower: Float64Array,
  upper: Float64Array,
  cap: number
): number => {
  const n = x.length
  requireLength("BoxKernels.maxFeasibleStep", "d", d, n)
  requireLength("BoxKernels.maxFeasibleStep", "lower", lower, n)
  requireLength("BoxKernels.maxFeasibleStep", "upper", upper, n)
  if (simd !== undefined && resident(x, d, lower) && heap!.contains(upper)) {
    return simd!.maxFeasibleStep(n, x.byteOffset, d.byteOffset, lower.byteOffset, upper.byteOffset, cap)
  }
  let bound = cap
  for (let i = 0; i < n; i++) {
    const di = d[i]!
    if (di > 0) {
      const hi = upper[i]!
      if (hi < Number.POSITIVE_INFINITY) bound = Math.min(bound, (hi - x[i]!) / di)
    } else if (di < 0) {
      const lo = lower[i]!
      if (lo > Number.NEGATIVE_INFINITY) bound = Math.min(bound, (lo - x[i]!) / di)
    }
  }
  return bound
}
