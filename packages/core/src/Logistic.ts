/**
 * The logistic (binary cross-entropy with logits) loss with its gradient in
 * one pass: the kernel behind logistic regression, the most common objective
 * of optimization benchmarks (benchopt's logreg, the L2-regularized
 * classification problems of the optimizer papers).
 *
 * For logits zᵢ = xᵢᵀw and labels yᵢ ∈ [0, 1],
 *
 *   ℓ(z, y) = softplus(z) − y·z,   softplus(z) = max(z, 0) + log(1 + e^−|z|),
 *   ∂ℓ/∂z = σ(z) − y,              σ(z) = 1/(1 + e^−z),
 *
 * evaluated without overflow for any finite z. With a matrix X, the loss of
 * w is `logisticLoss` of z = Xw (Blas2.gemv), and its gradient Xᵀr
 * (Blas2.gemvT) of the residuals r written here.
 *
 * The SIMD kernel (two lanes: exp and a log1p specialised to (0, 1]) and the
 * TypeScript loop compute the same bits: both use core's deterministic
 * exp/log1p (internal/detmath.ts), never the engine's `Math.exp`, and sum in
 * the same order (even and odd indices separately, then the last odd entry).
 *
 * @since 0.1.0
 */
import { DimensionMismatch } from "./Errors.ts"
import { exp, log1p } from "./internal/detmath.ts"
import { wasm } from "./internal/wasm/runtime.ts"

const heap = wasm?.heap
const simd = wasm?.kernels

/**
 * Σᵢ softplus(zᵢ) − yᵢzᵢ, the summed logistic loss of logits `z` against
 * labels `y`, and, written into `residual`, `scale`·(σ(zᵢ) − yᵢ): the
 * derivative of `scale` times the sum (pass `scale = 1/n` for the mean loss).
 * `residual` may alias `z`. Never allocates.
 *
 * @throws DimensionMismatch when the lengths differ.
 * @category kernels
 * @since 0.1.0
 */
export const logisticLoss = (z: Float64Array, y: Float64Array, residual: Float64Array, scale = 1): number => {
  const n = z.length
  if (y.length !== n)
    throw new DimensionMismatch({ operation: "logisticLoss", what: "y", expected: [n], actual: [y.length] })
  if (residual.length !== n) {
    throw new DimensionMismatch({
      operation: "logisticLoss",
      what: "residual",
      expected: [n],
      actual: [residual.length]
    })
  }
  if (simd !== undefined && heap!.contains(z) && heap!.contains(y) && heap!.contains(residual)) {
    return simd.logisticLoss(n, z.byteOffset, y.byteOffset, residual.byteOffset, scale)
  }
  let s0 = 0
  let s1 = 0
  const n2 = n & ~1
  let i = 0
  for (; i < n2; i += 2) {
    s0 += logisticTerm(z, y, residual, scale, i)
    s1 += logisticTerm(z, y, residual, scale, i + 1)
  }
  let s = s0 + s1
  if (i < n) s += logisticTerm(z, y, residual, scale, i)
  return s
}

/** Term i of the loss; writes residual i. Read z and y before writing (aliasing). */
const logisticTerm = (
  z: Float64Array,
  y: Float64Array,
  residual: Float64Array,
  scale: number,
  i: number
): number => {
  const zi = z[i]!
  const yi = y[i]!
  const e = exp(-Math.abs(zi))
  const sigma = (zi >= 0 ? 1 : e) / (1 + e)
  residual[i] = (sigma - yi) * scale
  return Math.max(zi, 0) + log1p(e) - yi * zi
}
