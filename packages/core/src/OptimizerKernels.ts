/**
 * Fused kernels of first-order optimizers: one pass over the parameters that
 * reads the gradient and the optimizer's moment buffers and writes the
 * moments and the update (or the new parameters), instead of one pass per
 * arithmetic operation. An Adam step on 10⁶ parameters must move 56 bytes per
 * parameter (read g, m, v, p; write m, v, p); as separate passes it moves
 * 88 or more. `@descent/optim` calls these from its transforms.
 *
 * The SIMD kernel and the TypeScript loop compute the same bits, and the
 * operation order is Optax's (`optax.scale_by_adam` then the learning-rate
 * scaling), so a fused step equals the chained transforms bit for bit.
 *
 * @since 0.1.0
 */
import { requireLength } from "./internal/lengths.ts"
import { wasm } from "./internal/wasm/runtime.ts"

const heap = wasm?.heap
const simd = wasm?.kernels

/**
 * The scalars of one Adam step (Kingma & Ba, "Adam: A Method for Stochastic
 * Optimization", ICLR 2015), precomputed by the caller at step t:
 * `b1`, `b2` the decays, `r1 = 1/(1 − b1ᵗ)`, `r2 = 1/(1 − b2ᵗ)` the bias
 * corrections, `r1Next = 1/(1 − b1ᵗ⁺¹)` (Nesterov only), `epsRoot` added
 * inside and `eps` outside the square root, and `scale` the factor applied to
 * the update (1 for the raw Adam direction, −η for a descent step).
 *
 * @category models
 * @since 0.1.0
 */
export interface AdamCoefficients {
  readonly b1: number
  readonly b2: number
  readonly r1: number
  readonly r1Next: number
  readonly r2: number
  readonly epsRoot: number
  readonly eps: number
  readonly scale: number
  /** NAdam's look-ahead numerator (Dozat 2016). */
  readonly nesterov: boolean
}

/**
 * One Adam step in a single pass, in place:
 *
 *   m ← (1 − b1)·g + b1·m,   v ← (1 − b2)·g² + b2·v,
 *   u = (m·r1)/(√(v·r2 + ε_root) + ε)      (Nesterov: (b1·(m·r1Next) + (1 − b1)·(g·r1))/(…)),
 *
 * then `out ← scale·u`, or `out ← out + scale·u` when `accumulate` is true
 * (with `out` the parameters, a fused update-and-apply). `out` may be `g`.
 *
 * @throws DimensionMismatch when the lengths differ.
 * @category kernels
 * @since 0.1.0
 */
export const adam = (
  g: Float64Array,
  m: Float64Array,
  v: Float64Array,
  out: Float64Array,
  k: AdamCoefficients,
  accumulate: boolean
): void => {
  const n = g.length
  requireLength("OptimizerKernels.adam", "m", m, n)
  requireLength("OptimizerKernels.adam", "v", v, n)
  requireLength("OptimizerKernels.adam", "out", out, n)
  const c1 = 1 - k.b1
  const c2 = 1 - k.b2
  if (
    simd !== undefined &&
    heap!.contains(g) &&
    heap!.contains(m) &&
    heap!.contains(v) &&
    heap!.contains(out)
  ) {
    const flags = (k.nesterov ? 1 : 0) | (accumulate ? 2 : 0)
    simd.adam(
      n,
      g.byteOffset,
      m.byteOffset,
      v.byteOffset,
      out.byteOffset,
      k.b1,
      c1,
      k.b2,
      c2,
      k.r1,
      k.r1Next,
      k.r2,
      k.epsRoot,
      k.eps,
      k.scale,
      flags
    )
    return
  }
  // Four loops rather than per-element branches: a branch in the loop body
  // made V8's code 2.7× slower (measured on 10⁶ parameters).
  const { b1, b2, r1, r1Next, r2, epsRoot, eps, scale: s } = k
  if (k.nesterov) {
    for (let i = 0; i < n; i++) {
      const gi = g[i]!
      const mi = c1 * gi + b1 * m[i]!
      const vi = c2 * (gi * gi) + b2 * v[i]!
      m[i] = mi
      v[i] = vi
      const u = s * ((b1 * (mi * r1Next) + c1 * (gi * r1)) / (Math.sqrt(vi * r2 + epsRoot) + eps))
      out[i] = accumulate ? out[i]! + u : u
    }
  } else if (accumulate) {
    for (let i = 0; i < n; i++) {
      const gi = g[i]!
      const mi = c1 * gi + b1 * m[i]!
      const vi = c2 * (gi * gi) + b2 * v[i]!
      m[i] = mi
      v[i] = vi
      out[i] = out[i]! + s * ((mi * r1) / (Math.sqrt(vi * r2 + epsRoot) + eps))
    }
  } else {
    for (let i = 0; i < n; i++) {
      const gi = g[i]!
      const mi = c1 * gi + b1 * m[i]!
      const vi = c2 * (gi * gi) + b2 * v[i]!
      m[i] = mi
      v[i] = vi
      out[i] = s * ((mi * r1) / (Math.sqrt(vi * r2 + epsRoot) + eps))
    }
  }
}

/**
 * g ← g + λ·sign(x), in place: the l1 subgradient λ·∂‖x‖₁ added to a
 * gradient, with sign(±0) = sign(NaN) = 0 (the term then adds +0). The SIMD
 * kernel selects the term with comparison masks, so unlike a branch per
 * entry it costs the same whatever the signs (near an l1 minimizer they flip
 * unpredictably); both paths compute the same bits.
 *
 * @throws DimensionMismatch when the lengths differ.
 * @category kernels
 * @since 0.1.0
 */
export const addL1Subgradient = (lambda: number, x: Float64Array, g: Float64Array): void => {
  const n = x.length
  requireLength("OptimizerKernels.addL1Subgradient", "g", g, n)
  if (simd !== undefined && heap!.contains(x) && heap!.contains(g)) {
    simd.addL1Subgradient(n, lambda, x.byteOffset, g.byteOffset)
    return
  }
  for (let i = 0; i < n; i++) {
    const xi = x[i]!
    g[i] = g[i]! + (xi > 0 ? lambda : xi < 0 ? -lambda : 0)
  }
}

/**
 * g ← base + (α·x)∘y + λ·sign(x) in one pass, and whether y ≥ 0 entrywise
 * (false on a negative or NaN entry of y). With x = W, y = (sI − W∘W)⁻ᵀ and
 * α = 2 the product is the gradient of the log-determinant barrier
 * −log det(sI − W∘W) (DAGMA, Bello et al. 2022, eq. (7)), the l1 term is
 * λ·∂‖W‖₁ as in `addL1Subgradient` (sign(±0) = sign(NaN) = 0, selected
 * without branches), and the sign test is the M-matrix test of the inverse.
 * The order of operations is fixed: (base + (α·x)·y) + λ·sign(x); both
 * backends compute the same bits. `base` may be `g`.
 *
 * @throws DimensionMismatch when the lengths differ.
 * @category kernels
 * @since 0.1.0
 */
export const hadamardL1Gradient = (
  base: Float64Array,
  alpha: number,
  x: Float64Array,
  y: Float64Array,
  lambda: number,
  g: Float64Array
): boolean => {
  const n = x.length
  requireLength("OptimizerKernels.hadamardL1Gradient", "base", base, n)
  requireLength("OptimizerKernels.hadamardL1Gradient", "y", y, n)
  requireLength("OptimizerKernels.hadamardL1Gradient", "g", g, n)
  if (
    simd !== undefined &&
    heap!.contains(base) &&
    heap!.contains(x) &&
    heap!.contains(y) &&
    heap!.contains(g)
  ) {
    return (
      simd.hadamardL1Gradient(n, base.byteOffset, alpha, x.byteOffset, y.byteOffset, lambda, g.byteOffset) ===
      1
    )
  }
  let ok = 1
  for (let i = 0; i < n; i++) {
    const xi = x[i]!
    const yi = y[i]!
    ok &= +(yi >= 0)
    g[i] = base[i]! + alpha * xi * yi + (xi > 0 ? lambda : xi < 0 ? -lambda : 0)
  }
  return ok === 1
}
