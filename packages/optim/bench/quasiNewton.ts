/**
 * Quasi-Newton benchmark: L-BFGS on L2-regularized logistic regression
 * (n = 10,000 samples, d = 100 features, data from core's `Random`:
 * bench/logisticRegression.ts, as bench/run.ts),
 *
 *   f(w) = mean(softplus(Xw) − y ⊙ Xw) + λ/2 ‖w‖²,   λ = 1e-3,
 *
 * with the value and gradient on core's kernels (gemv, one fused
 * `Logistic.logisticLoss` pass, gemvT), solved from w₀ to SciPy's default
 * stopping tests (m = 10, gtol = 1e-5, ftol = 2.22e-9) by
 *
 * - `Lbfgs.minimize` (two-loop recursion, Moré–Thuente line search), and
 * - `LbfgsB.minimize` without bounds (L-BFGS-B from Byrd et al. 1995),
 * - `Lbfgs.minimize` with the row-blocked oracle (the same bits, X read
 *   once per evaluation),
 *
 * against `scipy.optimize.minimize(method="L-BFGS-B")` with a NumPy value
 * and gradient, run in the same process as this script (one BLAS thread)
 * when `$DESCENT_PYTHON` (else `python3`) has numpy, scipy and jax (jax
 * only to draw the same data: core's `Random` equals `jax.random`). Reports
 * time per solve, iterations, function evaluations, time per oracle call,
 * and the ratio SciPy time ÷ ours.
 *
 * Run on demand: `node packages/optim/bench/quasiNewton.ts` (not a test).
 */
import { Memory, Vector } from "@descent/core"
import { measure, PYTHON_BEST, row, runPythonAnchor } from "@descent/testing"
import * as Lbfgs from "../src/Lbfgs.ts"
import * as LbfgsB from "../src/LbfgsB.ts"
import type { MinimizeResult } from "../src/Minimize.ts"
import { logisticRegression, pythonData } from "./logisticRegression.ts"

const problem = logisticRegression(10_000, 100, 1e-3, 2026)
const { n, d, lambda, w0, valueAndGradient, blockedValueAndGradient } = problem
const gScratch = Vector.zeros(d)
const objective = {
  dimension: d,
  value: (w: Float64Array) => valueAndGradient(w, gScratch),
  valueAndGradient
}
const blockedObjective = {
  dimension: d,
  value: (w: Float64Array) => blockedValueAndGradient(w, gScratch),
  valueAndGradient: blockedValueAndGradient
}

/** The two settings: SciPy's defaults, and a tight run to ‖∇f‖∞ ≤ 1e-9 with the f test off. */
const settings = [
  { label: "SciPy's default tolerances (gtol 1e-5, ftol 2.2e-9)", ours: {}, scipy: "{}" },
  {
    label: "tight: ‖∇f‖∞ ≤ 1e-9, relative-decrease test off",
    ours: { tolerance: 1e-9, functionTolerance: 0 },
    scipy: '{"gtol": 1e-9, "ftol": 0.0}'
  }
] as const

interface Timed {
  time: number
  result: MinimizeResult | undefined
}
const timed = (): Timed => ({ time: Number.POSITIVE_INFINITY, result: undefined })
const best = (t: Timed, run: () => MinimizeResult): void => {
  t.time = Math.min(
    t.time,
    measure(() => {
      t.result = run()
    })
  )
}
const runs = settings.map(() => ({ lbfgs: timed(), lbfgsb: timed(), blocked: timed() }))
const wScratch = Vector.clone(w0)
let tOracle = Number.POSITIVE_INFINITY
let tBlockedOracle = Number.POSITIVE_INFINITY
// The machine may be shared: the measurements are interleaved over rounds
// and the best of each kept, so a busy period hits all of them alike.
for (let round = 0; round < 3; round++) {
  settings.forEach((setting, k) => {
    const r = runs[k]!
    best(r.lbfgs, () => Lbfgs.minimize(objective, w0, setting.ours))
    best(r.lbfgsb, () => LbfgsB.minimize(objective, w0, setting.ours))
    best(r.blocked, () => Lbfgs.minimize(blockedObjective, w0, setting.ours))
  })
  tOracle = Math.min(
    tOracle,
    measure(() => {
      valueAndGradient(wScratch, gScratch)
    })
  )
  tBlockedOracle = Math.min(
    tBlockedOracle,
    measure(() => {
      blockedValueAndGradient(wScratch, gScratch)
    })
  )
}
/**
 * Solver time outside the oracle, per solve: `repeats` solves with a timer
 * around each oracle call (two `performance.now()` reads per call, ~0.1 µs).
 */
const outsideOracle = (solve: (o: typeof objective) => MinimizeResult, repeats = 200): number => {
  let inside = 0
  const timedObjective = {
    dimension: d,
    value: objective.value,
    valueAndGradient: (w: Float64Array, g: Float64Array): number => {
      const t0 = performance.now()
      const v = valueAndGradient(w, g)
      inside += performance.now() - t0
      return v
    }
  }
  const t0 = performance.now()
  for (let k = 0; k < repeats; k++) solve(timedObjective)
  return (performance.now() - t0 - inside) / repeats / 1e3
}
const overhead = settings.map((setting) => ({
  lbfgs: outsideOracle((o) => Lbfgs.minimize(o, w0, setting.ours)),
  lbfgsb: outsideOracle((o) => LbfgsB.minimize(o, w0, setting.ours))
}))
for (const r of runs) {
  // The blocked oracle computes the same gradient bits (f differs in its last
  // bits: the loss is summed per block), so the run is the same up to rounding.
  const a = r.lbfgs.result!
  const b = r.blocked.result!
  if (Math.abs(a.fun - b.fun) > 1e-14 * a.fun || Math.abs(a.iterations - b.iterations) > 1) {
    throw new Error("row-blocked and plain oracles gave different L-BFGS runs")
  }
}

const script = `
import os
os.environ["JAX_PLATFORMS"] = "cpu"
import json
import time
import jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
import numpy as np
import scipy
from scipy.optimize import minimize
${PYTHON_BEST}
${pythonData(problem)}
X, y, w0 = np.asarray(X), np.asarray(y), np.asarray(w0)

def fg(w):
    z = X @ w
    e = np.exp(-np.abs(z))
    loss = np.mean(np.maximum(z, 0) + np.log1p(e) - y * z) + 0.5 * lam * (w @ w)
    s = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    return loss, X.T @ (s - y) / n + lam * w

inside = [0.0]
def timed_fg(w):
    t0 = time.perf_counter()
    v = fg(w)
    inside[0] += time.perf_counter() - t0
    return v

out = {"scipy": scipy.__version__, "numpy": np.__version__, "runs": []}
for options in [${settings.map((x) => x.scipy).join(", ")}]:
    res = [None]
    def solve():
        res[0] = minimize(fg, w0, jac=True, method="L-BFGS-B", options=options)
    t = min(best(solve) for _ in range(3))
    r = res[0]
    inside[0] = 0.0
    t0 = time.perf_counter()
    for _ in range(100):
        minimize(timed_fg, w0, jac=True, method="L-BFGS-B", options=options)
    outside = (time.perf_counter() - t0 - inside[0]) / 100
    out["runs"].append({"solve": t, "outside": outside, "nit": int(r.nit), "nfev": int(r.nfev), "fun": float(r.fun), "message": str(r.message)})
out["oracle"] = min(best(lambda: fg(w0)) for _ in range(3))
print(json.dumps(out))
`
interface AnchorRun {
  readonly solve: number
  readonly outside: number
  readonly nit: number
  readonly nfev: number
  readonly fun: number
  readonly message: string
}
interface Anchor {
  readonly scipy: string
  readonly numpy: string
  readonly oracle: number
  readonly runs: ReadonlyArray<AnchorRun>
}
const anchor = runPythonAnchor<Anchor>(script, ["numpy", "scipy", "jax"])

const ms = (s: number | undefined): string => (s === undefined ? "—" : (s * 1e3).toPrecision(3))
const w = [42, 10, 7, 8, 20, 12]
console.log(
  `@descent/optim quasi-Newton (Node ${process.version}; backend ${Memory.backend()}; ` +
    `SciPy ${anchor?.scipy ?? "not available"}, NumPy ${anchor?.numpy ?? "not available"})`
)
settings.forEach((setting, k) => {
  const r = runs[k]!
  const ref = anchor?.runs[k]
  const ratio = (s: number): string => (ref === undefined ? "—" : `${(ref.solve / s).toFixed(2)}×`)
  console.log(`\nL-BFGS, L2-logistic regression n=${n} d=${d} λ=${lambda}; ${setting.label}`)
  console.log(row(["", "ms/solve", "iters", "f evals", "f", "SciPy ÷ ours"], w))
  for (const [label, t] of [
    ["Lbfgs.minimize (two-loop)", r.lbfgs],
    ["LbfgsB.minimize, no bounds", r.lbfgsb],
    ["Lbfgs.minimize, row-blocked oracle", r.blocked]
  ] as const) {
    const res = t.result!
    console.log(
      row([label, ms(t.time), res.iterations, res.counts.value, res.fun.toPrecision(15), ratio(t.time)], w)
    )
  }
  console.log(
    row(
      [
        'scipy minimize(method="L-BFGS-B")',
        ms(ref?.solve),
        ref?.nit ?? "—",
        ref?.nfev ?? "—",
        ref?.fun.toPrecision(15) ?? "—",
        ref === undefined ? "—" : "1.00×"
      ],
      w
    )
  )
  const o = overhead[k]!
  console.log(
    `time per solve outside the oracle: Lbfgs ${ms(o.lbfgs)} ms, LbfgsB ${ms(o.lbfgsb)} ms, SciPy ${ms(ref?.outside)} ms`
  )
  if (ref !== undefined) console.log(`SciPy: ${ref.message}; Lbfgs: ${r.lbfgs.result!.message}`)
})
console.log(
  `\none value + gradient: ours ${ms(tOracle)} ms (row-blocked ${ms(tBlockedOracle)} ms), NumPy ${ms(anchor?.oracle)} ms`
)
