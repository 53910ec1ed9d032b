/**
 * Optimizer benchmarks: what one Adam step costs, alone and inside a training
 * loop.
 *
 * 1. One `Optimizers.adam(1e-3)` step (`update` + `applyUpdatesInPlace`) on
 *    10⁶ parameters: time per step and effective memory bandwidth; goal
 *    ≥ 20 GB/s. NumPy's in-place Adam arithmetic on the same size, for
 *    context, when numpy is importable.
 * 2. Full-batch Adam on L2-regularized logistic regression (n = 10,000,
 *    d = 100, data from core's `Random`),
 *
 *      f(w) = mean(softplus(Xw) − y ⊙ Xw) + λ/2 ‖w‖²,
 *
 *    in steps per second, with a hand-written gradient on core's kernels
 *    (gemv, gemvT, one loop) and with `Autodiff.valueAndGrad`, against JAX +
 *    Optax with the whole step (value_and_grad, `optax.adam` update,
 *    `apply_updates`) fused by `jax.jit`, float64, one thread, measured in the
 *    same run when `$DESCENT_PYTHON` (else `python3`) has jax and optax.
 *    Goal ≥ 0.7× JAX's steps/s.
 *
 * Run on demand: `node packages/optim/bench/run.ts` (not a test; the
 * trajectories are checked for agreement, the timings only printed).
 */
import { Autodiff, Memory, Tensor as T, Vector } from "@descent/core"
import { assertClose, compareClose, measure, PYTHON_BEST, row, runPythonAnchor } from "@descent/testing"
import { applyUpdatesInPlace, step } from "../src/GradientTransform.ts"
import * as Optimizers from "../src/Optimizers.ts"
import { logisticRegression, pythonData } from "./logisticRegression.ts"

const learningRate = 1e-3
const size = 1_000_000

// ── 1. one Adam step on 10⁶ parameters ─────────────────────────────────────
// Bytes an Adam step must move per parameter, as a single fused pass does:
// read g, μ, ν, p (4 × 8 B) and write μ, ν, p (3 × 8 B) = 56 B. Unfused, three
// passes: `scaleByAdam` (reads g, μ, ν; writes μ, ν and the update into the
// incoming gradient array: 48 B), `scale(−η)` (reads and writes u: 16 B), then
// `applyUpdatesInPlace` (reads p, u; writes p: 24 B), 88 B in all. Bandwidth is
// reported against the 56 B a step must move.
const ADAM_BYTES_PER_PARAM = 56
const THREE_PASS_BYTES_PER_PARAM = 88

// Deterministic fill without the RNG, so the bench measures the step only.
const fill = (x: Float64Array, phase: number): Float64Array => {
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.7 + phase)
  return x
}
const params = fill(Vector.zeros(size), 0)
// The gradient buffer receives the updates in place (the transform consumes
// it), so each timed step feeds the previous update back in as the next
// gradient: Adam's arithmetic is the same for any finite input (no branches),
// and the values stay O(η), far from subnormals.
const grad = fill(Vector.zeros(size), 1)
const adam = Optimizers.adam(learningRate)
let adamState = adam.init(params)
// The library's step: `step` runs adam's fused kernel (one pass, 56 B).
const tAdam = measure(() => {
  adamState = step(adam, params, grad, adamState)
})
// The same step unfused: `update` (scaleByAdam's kernel, then scale(−η)) and
// `applyUpdatesInPlace`, three passes (88 B); the same bits.
const tUnfused = measure(() => {
  const r = adam.update(grad, adamState, params)
  adamState = r.state
  applyUpdatesInPlace(params, r.updates)
})
// The update pass alone and the apply pass alone, to see where the time goes.
const tUpdate = measure(() => {
  adamState = adam.update(grad, adamState, params).state
})
const tApply = measure(() => {
  applyUpdatesInPlace(params, grad)
})
// Reference, not the library: the same arithmetic (ε_root = 0, no Nesterov)
// as ONE scalar loop reading g, μ, ν, p and writing μ, ν, p, i.e. the 56 B a
// step must move, to show what plain JavaScript reaches on this machine.
const refMu = Vector.zeros(size)
const refNu = Vector.zeros(size)
let refCount = 0
const fusedReference = (): void => {
  refCount++
  const b1 = 0.9
  const b2 = 0.999
  const r1 = -learningRate / (1 - b1 ** refCount)
  const r2 = 1 / (1 - b2 ** refCount)
  for (let i = 0; i < size; i++) {
    const gi = grad[i]!
    const m = (1 - b1) * gi + b1 * refMu[i]!
    const v = (1 - b2) * (gi * gi) + b2 * refNu[i]!
    refMu[i] = m
    refNu[i] = v
    params[i] = params[i]! + (m * r1) / (Math.sqrt(v * r2) + 1e-8)
  }
}
const tFused = measure(fusedReference)
for (const x of [params, grad, refMu, refNu]) {
  if (!x.every(Number.isFinite)) throw new Error("Adam bench: non-finite values")
}

const numpyScript = `
import json, numpy as np
${PYTHON_BEST}
n, lr, b1, b2, eps = ${size}, ${learningRate}, 0.9, 0.999, 1e-8
p = np.sin(np.arange(n) * 0.7); g = np.sin(np.arange(n) * 0.7 + 1)
m = np.zeros(n); v = np.zeros(n); u = np.empty(n); tmp = np.empty(n)
count = [0]
def step():
    count[0] += 1; t = count[0]
    r1 = 1 / (1 - b1 ** t); r2 = 1 / (1 - b2 ** t)
    np.multiply(g, 1 - b1, out=tmp); m.__imul__(b1); m.__iadd__(tmp)
    np.multiply(g, g, out=tmp); tmp.__imul__(1 - b2); v.__imul__(b2); v.__iadd__(tmp)
    np.multiply(v, r2, out=tmp); np.sqrt(tmp, out=tmp); tmp.__iadd__(eps)
    np.multiply(m, -lr * r1, out=u); u.__itruediv__(tmp)
    p.__iadd__(u)
print(json.dumps({"version": np.__version__, "adam": best(step)}))
`
const numpy = runPythonAnchor<{ version: string; adam: number }>(numpyScript, ["numpy"])

// ── 2. full-batch Adam on logistic regression ──────────────────────────────
// Same data as packages/core/bench/autodiff.ts (bench/logisticRegression.ts).
const problem = logisticRegression(10_000, 100, 1e-3, 2026)
const { n, d, lambda, X, y, w0 } = problem
const checkSteps = 100

const loss = (w: T.Tensor): T.Tensor => {
  const z = T.matmul(X, w)
  const data = T.mean(T.sub(T.softplus(z), T.mul(y, z)))
  return T.add(data, T.mul(0.5 * lambda, T.dot(w, w)))
}
const adValueAndGrad = Autodiff.valueAndGrad<[Float64Array]>(loss)

// Hand-written value and gradient on core's kernels, buffers allocated once:
// z = Xw (gemv), the loss and residuals r = (σ(z) − y)/n in one SIMD pass
// (Logistic.logisticLoss), then Xᵀr (gemvT).
const handValueAndGrad = problem.valueAndGradient

// The same in row blocks (X read from memory once per step instead of
// twice), bit for bit the same gradient.
const blockedValueAndGrad = problem.blockedValueAndGradient

/** A training loop's step function over its own copy of w₀ and Adam state. */
const handTrainer = (valueAndGrad: (w: Float64Array, g: Float64Array) => number) => {
  const w = Vector.clone(w0)
  const g = Vector.zeros(d)
  const opt = Optimizers.adam(learningRate)
  let state = opt.init(w)
  const run = (): void => {
    valueAndGrad(w, g)
    state = step(opt, w, g, state)
  }
  return { w, step: run }
}
const adTrainer = () => {
  const w = Vector.clone(w0)
  const opt = Optimizers.adam(learningRate)
  let state = opt.init(w)
  const run = (): void => {
    const { gradient } = adValueAndGrad(w)
    state = step(opt, w, gradient as Float64Array, state)
  }
  return { w, step: run }
}

// Agreement first: both loops from w₀ for `checkSteps` steps. The gradients
// differ by a few ulp (core's exp/log1p vs Math's, summation order); Adam
// divides by √ν̂, which can amplify relative differences in small gradient
// components, so 1e-9 relative over 100 steps is honest and still catches any
// real error.
const TRAJECTORY = { rtol: 1e-9, atol: 1e-12 }
const handCheck = handTrainer(handValueAndGrad)
const blockedCheck = handTrainer(blockedValueAndGrad)
const adCheck = adTrainer()
for (let k = 0; k < checkSteps; k++) {
  handCheck.step()
  blockedCheck.step()
  adCheck.step()
}
assertClose(blockedCheck.w, handCheck.w, {
  rtol: 0,
  atol: 0,
  label: "row-blocked vs hand-written trajectory"
})
assertClose(adCheck.w, handCheck.w, { ...TRAJECTORY, label: "Autodiff vs hand-written Adam trajectory" })

const tHandStep = measure(handTrainer(handValueAndGrad).step)
const tBlockedStep = measure(handTrainer(blockedValueAndGrad).step)
const gScratch = Vector.zeros(d)
const wScratch = Vector.clone(w0)
const tHandGradient = measure(() => {
  handValueAndGrad(wScratch, gScratch)
})
const tAdStep = measure(adTrainer().step)

// JAX + Optax, the whole step under one jit. The same keys give the same data
// (Random's uniforms are JAX's bit for bit, its normals agree to ~1e-13). XLA
// ignores the BLAS thread variables, so the script pins itself to one CPU and
// turns off Eigen's thread pool.
const jaxScript = `
import os
os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
try:
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
except (AttributeError, OSError):
    pass
import json
import jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
import optax

${PYTHON_BEST}

${pythonData(problem)}
lr = ${learningRate}

def loss(w):
    z = X @ w
    return jnp.mean(jax.nn.softplus(z) - y * z) + 0.5 * lam * jnp.dot(w, w)

opt = optax.adam(lr)

@jax.jit
def step(w, s):
    value, g = jax.value_and_grad(loss)(w)
    updates, s = opt.update(g, s, w)
    return optax.apply_updates(w, updates), s, value

w, s = w0, opt.init(w0)
for _ in range(${checkSteps}):
    w, s, _ = step(w, s)
w_check = [float(x) for x in jax.block_until_ready(w)]

carry = [w0, opt.init(w0)]
def run():
    w, s, value = step(carry[0], carry[1])
    carry[0] = w; carry[1] = s
    jax.block_until_ready(w)
t_step = best(run)
print(json.dumps({"version": jax.__version__, "optax": optax.__version__, "step": t_step, "w": w_check}))
`
interface JaxTimes {
  readonly version: string
  readonly optax: string
  readonly step: number
  readonly w: ReadonlyArray<number>
}
const jax = runPythonAnchor<JaxTimes>(jaxScript, ["jax", "optax"])
// XLA's normals (erfinv) differ from core's by ~1e-13 and summation orders
// differ; 1e-8 after 100 Adam steps. Context only: a mismatch is reported.
const JAX_AGREEMENT = { rtol: 1e-8, atol: 1e-11 }
const jaxAgrees = jax !== undefined && compareClose(jax.w, handCheck.w, JAX_AGREEMENT).worstIndex === -1

// ── report ─────────────────────────────────────────────────────────────────
const ms = (s: number | undefined): string => (s === undefined ? "—" : (s * 1e3).toPrecision(3))
const gbps = (s: number | undefined, bytes: number): string =>
  s === undefined ? "—" : ((bytes * size) / s / 1e9).toPrecision(3)
const w1 = [44, 10, 12, 10]
console.log(
  `@descent/optim (Node ${process.version}; backend ${Memory.backend()}; NumPy ${numpy?.version ?? "not available"}; ` +
    `jax ${jax?.version ?? "not available"}, optax ${jax?.optax ?? "not available"})`
)
console.log(`\n1. one Adam step, ${size.toLocaleString("en-US")} parameters (GB/s counts 56 B/parameter)`)
console.log(row(["", "ms/step", "GB/s", "goal"], w1))
console.log(row(["step(adam, …): fused kernel", ms(tAdam), gbps(tAdam, ADAM_BYTES_PER_PARAM), "≥ 20"], w1))
console.log(
  row(["adam update + applyUpdatesInPlace", ms(tUnfused), gbps(tUnfused, ADAM_BYTES_PER_PARAM), ""], w1)
)
console.log(
  row(["  (same, counting the 88 B moved)", ms(tUnfused), gbps(tUnfused, THREE_PASS_BYTES_PER_PARAM), ""], w1)
)
console.log(row(["  update alone (adam 48 B + scale 16 B)", ms(tUpdate), gbps(tUpdate, 64), ""], w1))
console.log(row(["  applyUpdatesInPlace alone (24 B)", ms(tApply), gbps(tApply, 24), ""], w1))
console.log(
  row(["reference: one fused scalar JS loop", ms(tFused), gbps(tFused, ADAM_BYTES_PER_PARAM), ""], w1)
)
console.log(row(["numpy in-place Adam", ms(numpy?.adam), gbps(numpy?.adam, ADAM_BYTES_PER_PARAM), ""], w1))

const perSecond = (s: number | undefined): string => (s === undefined ? "—" : Math.round(1 / s).toString())
const vsJax = (s: number): string => (jax === undefined ? "—" : `${(jax.step / s).toFixed(2)}×`)
const w2 = [42, 10, 12, 10]
console.log(`\n2. full-batch Adam, logistic regression n=${n} d=${d} (ratio = our steps/s ÷ jax's)`)
console.log(row(["", "steps/s", "vs jax", "goal"], w2))
console.log(row(["hand-written gradient + adam", perSecond(tHandStep), vsJax(tHandStep), "≥ 0.70×"], w2))
console.log(
  row(["  hand-written value + gradient alone", perSecond(tHandGradient), vsJax(tHandGradient), ""], w2)
)
console.log(
  row(
    ["row-blocked hand-written gradient + adam", perSecond(tBlockedStep), vsJax(tBlockedStep), "≥ 0.70×"],
    w2
  )
)
console.log(row(["Autodiff.valueAndGrad + adam", perSecond(tAdStep), vsJax(tAdStep), ""], w2))
console.log(row(["jax jit(value_and_grad + optax.adam)", perSecond(jax?.step), "1.00×", ""], w2))
console.log(
  jax === undefined
    ? "(jax: jax or optax not importable from $DESCENT_PYTHON or python3)"
    : `(after ${checkSteps} steps jax's w ${jaxAgrees ? "agrees with ours to 1e-8" : "DIFFERS from ours: not the same data or arithmetic"}; Autodiff's agrees with the hand-written one to 1e-9, the row-blocked one bit for bit)`
)
