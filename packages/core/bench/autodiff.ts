/**
 * Autodiff overhead: what `Autodiff` costs over a hand-written gradient on the
 * problem it is most often used for.
 *
 * Problem: L2-regularized logistic regression, n = 10,000 samples, d = 100
 * features, data drawn from core's `Random` (JAX-compatible keys),
 *
 *   f(w) = mean(softplus(Xw) − y ⊙ Xw) + λ/2 ‖w‖²,
 *   ∇f(w) = Xᵀ(σ(Xw) − y)/n + λw,   ∇²f(w)·v = Xᵀ(σ(1 − σ) ⊙ Xv)/n + λv.
 *
 * Measured in one run:
 * 1. `Autodiff.valueAndGrad` against a hand-written loss + gradient on core's
 *    kernels (gemv, gemvT, one loop with Math.exp / Math.log1p, preallocated
 *    buffers); goal ≤ 2×;
 * 2. one `Autodiff.hvp` against one gradient; goal ≤ 4×;
 * 3. 10,000 gradient calls: `Memory.stats().liveBytes` and the JS heap before
 *    and after, with a forced garbage collection (and its finalizers) before
 *    each reading;
 * 4. for context, JAX's jit-compiled `value_and_grad` (and HVP) on the same
 *    data, float64, one thread, when `$DESCENT_PYTHON` (else `python3`) has jax.
 *
 * Run on demand: `node --expose-gc packages/core/bench/autodiff.ts` (without
 * the flag, the collector is exposed through `v8.setFlagsFromString`). Not a
 * test: the results are checked for agreement, the timings only printed.
 */
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { assertClose, compareClose, measure, PYTHON_BEST, row, runPythonAnchor } from "@descent/testing"
import * as Autodiff from "../src/Autodiff.ts"
import * as Blas1 from "../src/Blas1.ts"
import * as Blas2 from "../src/Blas2.ts"
import * as Matrix from "../src/Matrix.ts"
import * as Memory from "../src/Memory.ts"
import * as Random from "../src/Random.ts"
import * as T from "../src/Tensor.ts"
import * as Vector from "../src/Vector.ts"

const n = 10_000
const d = 100
const lambda = 1e-3
const seed = 2026
const repeatedCalls = 10_000

// ── data ────────────────────────────────────────────────────────────────────
// X ~ N(0, 1); labels yᵢ = [uᵢ < σ(xᵢ·w*)] with w* ~ N(0, 1/d), u ~ U[0, 1);
// the evaluation point w ~ N(0, 0.1²) and the HVP direction v ~ N(0, 1).
const [kX, kTrue, kU, kW, kV] = Random.split(Random.key(seed), 5)
const X = Matrix.fromData(n, d, Random.normal(kX!, n * d))
const wTrue = Random.normal(kTrue!, d, { scale: 1 / Math.sqrt(d) })
const u = Random.uniform(kU!, n)
const y = Vector.zeros(n)
{
  const logits = Vector.zeros(n)
  Blas2.gemv(1, X, wTrue, 0, logits)
  for (let i = 0; i < n; i++) y[i] = u[i]! < 1 / (1 + Math.exp(-logits[i]!)) ? 1 : 0
}
const w = Random.normal(kW!, d, { scale: 0.1 })
const v = Random.normal(kV!, d)

// ── the loss, written once with Tensor operations ──────────────────────────
const loss = (w: T.Tensor): T.Tensor => {
  const z = T.matmul(X, w)
  const data = T.mean(T.sub(T.softplus(z), T.mul(y, z)))
  return T.add(data, T.mul(0.5 * lambda, T.dot(w, w)))
}
const adValueAndGrad = Autodiff.valueAndGrad<[Float64Array]>(loss)
const adGrad = Autodiff.grad<[Float64Array]>(loss)

// ── and by hand, as a careful user writes it ────────────────────────────────
// One exp per sample: with e = exp(−|z|), softplus(z) = max(z, 0) + log1p(e) and
// σ(z) = 1/(1 + e) for z ≥ 0, e/(1 + e) otherwise. Buffers are allocated once.
const z = Vector.zeros(n)
const r = Vector.zeros(n)
const xv = Vector.zeros(n)
const gradient = Vector.zeros(d)
const handValueAndGrad = (w: Float64Array, g: Float64Array): number => {
  Blas2.gemv(1, X, w, 0, z)
  const inv = 1 / n
  let s = 0
  for (let i = 0; i < n; i++) {
    const zi = z[i]!
    const yi = y[i]!
    const e = Math.exp(-Math.abs(zi))
    s += Math.max(zi, 0) + Math.log1p(e) - yi * zi
    const sigma = zi >= 0 ? 1 / (1 + e) : e / (1 + e)
    r[i] = (sigma - yi) * inv
  }
  Blas2.gemvT(1, X, r, 0, g)
  Blas1.axpy(lambda, w, g)
  return s * inv + 0.5 * lambda * Blas1.dot(w, w)
}
const handHvp = (w: Float64Array, v: Float64Array, out: Float64Array): void => {
  Blas2.gemv(1, X, w, 0, z)
  Blas2.gemv(1, X, v, 0, xv)
  for (let i = 0; i < n; i++) {
    const sigma = 1 / (1 + Math.exp(-z[i]!))
    r[i] = (sigma * (1 - sigma) * xv[i]!) / n
  }
  Blas2.gemvT(1, X, r, 0, out)
  Blas1.axpy(lambda, v, out)
}

// ── agreement first: timings of wrong results are worthless ────────────────
// The AD forward pass uses core's deterministic exp/log1p, the hand-written
// one Math.exp/Math.log1p, and the sums run in different orders: a few ulp per
// term over 10⁴ terms, so 1e-10 relative is ample and still catches any error.
const AGREEMENT = { rtol: 1e-10, atol: 1e-14 }
const ad = adValueAndGrad(w)
const handValue = handValueAndGrad(w, gradient)
assertClose(ad.value, handValue, { ...AGREEMENT, label: "loss" })
assertClose(ad.gradient as Float64Array, gradient, { ...AGREEMENT, label: "gradient" })
const hv = Vector.zeros(d)
handHvp(w, v, hv)
assertClose(Autodiff.hvp(loss, w, v) as Float64Array, hv, { ...AGREEMENT, label: "hvp" })

// ── JAX, for context ───────────────────────────────────────────────────────
// The same keys give the same data in JAX (Random's uniforms are JAX's bit for
// bit; its normals agree to ~1e-13). XLA ignores the BLAS thread variables, so
// the script pins itself to one CPU and turns off Eigen's thread pool.
const jaxScript = `
import os
os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
try:
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
except (AttributeError, OSError):
    pass
import json, time
import jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp

${PYTHON_BEST}

n, d, lam = ${n}, ${d}, ${lambda}
kX, kTrue, kU, kW, kV = jax.random.split(jax.random.PRNGKey(${seed}), 5)
X = jax.random.normal(kX, (n * d,), jnp.float64).reshape(n, d)
w_true = jax.random.normal(kTrue, (d,), jnp.float64) * (1 / d ** 0.5)
u = jax.random.uniform(kU, (n,), jnp.float64)
y = (u < 1 / (1 + jnp.exp(-(X @ w_true)))).astype(jnp.float64)
w = jax.random.normal(kW, (d,), jnp.float64) * 0.1
v = jax.random.normal(kV, (d,), jnp.float64)

def loss(w):
    z = X @ w
    return jnp.mean(jax.nn.softplus(z) - y * z) + 0.5 * lam * jnp.dot(w, w)

vg = jax.jit(jax.value_and_grad(loss))
hvp = jax.jit(lambda w, v: jax.jvp(jax.grad(loss), (w,), (v,))[1])
value, grad = vg(w)
t_vg = best(lambda: jax.block_until_ready(vg(w)))
t_hvp = best(lambda: jax.block_until_ready(hvp(w, v)))
print(json.dumps({"version": jax.__version__, "valueAndGrad": t_vg, "hvp": t_hvp,
                  "value": float(value), "gradient": [float(g) for g in grad]}))
`
interface JaxTimes {
  readonly version: string
  readonly valueAndGrad: number
  readonly hvp: number
  readonly value: number
  readonly gradient: ReadonlyArray<number>
}
const jax = runPythonAnchor<JaxTimes>(jaxScript, ["jax"])
// Different normals (XLA's erfinv vs Wichura's) and summation orders: 1e-9.
// JAX is context only, so a mismatch (another JAX's samplers) is reported, not fatal.
const JAX_AGREEMENT = { rtol: 1e-9, atol: 1e-12 }
const jaxAgrees =
  jax !== undefined &&
  compareClose(jax.value, handValue, JAX_AGREEMENT).worstIndex === -1 &&
  compareClose(jax.gradient, gradient, JAX_AGREEMENT).worstIndex === -1

// ── timings ────────────────────────────────────────────────────────────────
const tHand = measure(() => {
  handValueAndGrad(w, gradient)
})
const tAd = measure(() => {
  adValueAndGrad(w)
})
const tHvp = measure(() => {
  Autodiff.hvp(loss, w, v)
})
const tHandHvp = measure(() => handHvp(w, v, hv))

const ms = (s: number | undefined): string => (s === undefined ? "—" : (s * 1e3).toPrecision(3))
const times = (a: number, b: number | undefined): string => (b === undefined ? "—" : `${(a / b).toFixed(2)}×`)
const widths = [34, 10, 12, 12]
console.log(
  `@descent/core autodiff (Node ${process.version}; backend ${Memory.backend()}; ` +
    `jax ${jax?.version ?? "not available"}); logistic regression n=${n} d=${d}`
)
console.log(row(["", "ms", "ratio", "goal"], widths))
console.log(row(["hand-written value+gradient", ms(tHand), "1.00×", ""], widths))
console.log(row(["Autodiff.valueAndGrad", ms(tAd), times(tAd, tHand), "≤ 2×"], widths))
console.log(row(["Autodiff.hvp (vs AD gradient)", ms(tHvp), times(tHvp, tAd), "≤ 4×"], widths))
console.log(row(["Autodiff.hvp (vs hand gradient)", ms(tHvp), times(tHvp, tHand), ""], widths))
console.log(row(["hand-written hvp", ms(tHandHvp), times(tHandHvp, tHand), ""], widths))
console.log(row(["jax jit value_and_grad", ms(jax?.valueAndGrad), times(tAd, jax?.valueAndGrad), ""], widths))
console.log(row(["jax jit hvp (jvp of grad)", ms(jax?.hvp), times(tHvp, jax?.hvp), ""], widths))
console.log(
  jax === undefined
    ? "(jax: not importable from $DESCENT_PYTHON or python3)"
    : `(jax rows: ratio = ours / jax; jax's loss and gradient ${jaxAgrees ? "agree with ours to 1e-9" : "DIFFER from ours: its data are not the same"})`
)

// ── memory over repeated calls ─────────────────────────────────────────────
// Gradients are dropped as an optimizer loop drops them: their arrays go back
// to the allocator through the collector's finalizers, which only run between
// tasks, so each reading collects and then yields once before reading.
const exposedGc = typeof globalThis.gc === "function"
if (!exposedGc) setFlagsFromString("--expose-gc")
const gc = (exposedGc ? globalThis.gc : runInNewContext("gc")) as () => void
const settle = async (): Promise<void> => {
  for (let k = 0; k < 3; k++) {
    gc()
    await new Promise((resolve) => setTimeout(resolve, 0))
  }
}
interface Reading {
  readonly liveBytes: number
  readonly heapUsed: number
  readonly arrayBuffers: number
}
const read = (): Reading => {
  const m = process.memoryUsage()
  return { liveBytes: Memory.stats().liveBytes, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers }
}
await settle()
const before = read()
const t0 = performance.now()
let checksum = 0
for (let k = 0; k < repeatedCalls; k++) checksum += adGrad(w)[0]!
const loopMs = performance.now() - t0
const unsettled = read()
await settle()
const after = read()
if (!(Math.abs(checksum / repeatedCalls - gradient[0]!) <= 1e-12))
  throw new Error("repeated gradients drifted")

const mib = (b: number): string => (b / 2 ** 20).toFixed(2)
// Growth beyond one gradient's block (liveBytes) or 1 MiB (JS heap noise) counts as growth.
const grew = (key: keyof Reading, slack: number): string =>
  after[key] - before[key] > slack ? "grew" : "stable"
console.log(
  `\n${repeatedCalls} Autodiff.grad calls: ${(loopMs / repeatedCalls).toFixed(3)} ms/call; ` +
    `GC ${exposedGc ? "--expose-gc" : "exposed via v8.setFlagsFromString"}`
)
const mw = [26, 12, 16, 12, 8]
console.log(row(["MiB", "before", "after (no GC)", "after GC", ""], mw))
console.log(
  row(
    [
      "Memory liveBytes",
      mib(before.liveBytes),
      mib(unsettled.liveBytes),
      mib(after.liveBytes),
      grew("liveBytes", 1024)
    ],
    mw
  )
)
console.log(
  row(
    [
      "heapUsed",
      mib(before.heapUsed),
      mib(unsettled.heapUsed),
      mib(after.heapUsed),
      grew("heapUsed", 2 ** 20)
    ],
    mw
  )
)
console.log(
  row(
    [
      "arrayBuffers",
      mib(before.arrayBuffers),
      mib(unsettled.arrayBuffers),
      mib(after.arrayBuffers),
      grew("arrayBuffers", 2 ** 20)
    ],
    mw
  )
)
