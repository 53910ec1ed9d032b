/**
 * The problem of optim's benchmarks: L2-regularized logistic regression,
 *
 *   f(w) = mean(softplus(Xw) − y ⊙ Xw) + λ/2 ‖w‖²,
 *
 * with X ~ N(0, 1) (n × d), labels yᵢ = [uᵢ < σ(xᵢ·w*)] with w* ~ N(0, 1/d),
 * and a start w₀ ~ N(0, 0.1²), all from core's `Random` (the data of
 * packages/core/bench/autodiff.ts), and its value and gradient on core's
 * kernels: z = Xw (gemv), the loss and the residuals r = (σ(z) − y)/n in one
 * fused pass (`Logistic.logisticLoss`), then Xᵀr (gemvT).
 *
 * `pythonData` draws the same data with `jax.random` (core's `Random`
 * equals it: uniforms bit for bit, normals to ~1e-13) for the anchors.
 */
import { Blas1, Blas2, Logistic, Matrix, Random, Vector } from "@descent/core"

export interface LogisticRegression {
  readonly n: number
  readonly d: number
  readonly lambda: number
  readonly seed: number
  readonly X: Matrix.Matrix
  readonly y: Float64Array
  readonly w0: Float64Array
  /** Writes ∇f(w) into g and returns f(w); buffers allocated once. */
  readonly valueAndGradient: (w: Float64Array, g: Float64Array) => number
  /**
   * The same in row blocks of 128: gemv on a block, the loss pass, then gemvT
   * of the same block accumulated into g while the block is still in cache,
   * so X (8 MB at 10,000 × 100) is read from memory once per call instead of
   * twice. Same operations in the same order per gradient component, hence
   * the same gradient bit for bit; the loss is summed per block, so f can
   * differ in its last bits.
   */
  readonly blockedValueAndGradient: (w: Float64Array, g: Float64Array) => number
}

export const logisticRegression = (
  n: number,
  d: number,
  lambda: number,
  seed: number
): LogisticRegression => {
  const [kX, kTrue, kU, kW] = Random.split(Random.key(seed), 4)
  const X = Matrix.fromData(n, d, Random.normal(kX!, n * d))
  const wTrue = Random.normal(kTrue!, d, { scale: 1 / Math.sqrt(d) })
  const u = Random.uniform(kU!, n)
  const y = Vector.zeros(n)
  const z = Vector.zeros(n)
  Blas2.gemv(1, X, wTrue, 0, z)
  for (let i = 0; i < n; i++) y[i] = u[i]! < 1 / (1 + Math.exp(-z[i]!)) ? 1 : 0
  const w0 = Random.normal(kW!, d, { scale: 0.1 })
  const r = Vector.zeros(n)
  const valueAndGradient = (w: Float64Array, g: Float64Array): number => {
    Blas2.gemv(1, X, w, 0, z)
    const inv = 1 / n
    const s = Logistic.logisticLoss(z, y, r, inv)
    Blas2.gemvT(1, X, r, 0, g)
    Blas1.axpy(lambda, w, g)
    return s * inv + 0.5 * lambda * Blas1.dot(w, w)
  }
  const blockRows = 128
  const blocks: Array<{
    readonly A: Matrix.Matrix
    readonly z: Float64Array
    readonly r: Float64Array
    readonly y: Float64Array
  }> = []
  for (let i0 = 0; i0 < n; i0 += blockRows) {
    const m = Math.min(blockRows, n - i0)
    blocks.push({
      A: Matrix.fromData(m, d, X.data.subarray(i0 * d, (i0 + m) * d)),
      z: z.subarray(i0, i0 + m),
      r: r.subarray(i0, i0 + m),
      y: y.subarray(i0, i0 + m)
    })
  }
  const blockedValueAndGradient = (w: Float64Array, g: Float64Array): number => {
    const inv = 1 / n
    let s = 0
    g.fill(0)
    for (const block of blocks) {
      Blas2.gemv(1, block.A, w, 0, block.z)
      s += Logistic.logisticLoss(block.z, block.y, block.r, inv)
      Blas2.gemvT(1, block.A, block.r, 1, g)
    }
    Blas1.axpy(lambda, w, g)
    return s * inv + 0.5 * lambda * Blas1.dot(w, w)
  }
  return { n, d, lambda, seed, X, y, w0, valueAndGradient, blockedValueAndGradient }
}

/**
 * Python (jax + jax.numpy as jnp, float64 enabled) defining `n, d, lam` and
 * the same `X, y, w0` as jax arrays.
 */
export const pythonData = (p: LogisticRegression): string => `
n, d, lam = ${p.n}, ${p.d}, ${p.lambda}
kX, kTrue, kU, kW = jax.random.split(jax.random.PRNGKey(${p.seed}), 4)
X = jax.random.normal(kX, (n * d,), jnp.float64).reshape(n, d)
w_true = jax.random.normal(kTrue, (d,), jnp.float64) * (1 / d ** 0.5)
u = jax.random.uniform(kU, (n,), jnp.float64)
y = (u < 1 / (1 + jnp.exp(-(X @ w_true)))).astype(jnp.float64)
w0 = jax.random.normal(kW, (d,), jnp.float64) * 0.1
`
