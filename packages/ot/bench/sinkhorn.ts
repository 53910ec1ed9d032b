/**
 * Entropic OT benchmarks against POT, measured in the same run (issue #9).
 *
 * Problems: n uniform points in [0,1]² on each side (core's `Random`, seed
 * 2026), squared-Euclidean cost divided by its max, uniform weights.
 *
 * 1. Time per iteration, n = 500, 1000, 2000, 4000:
 *    - scaling-form `Sinkhorn` at ε = 0.05 vs `ot.sinkhorn` (reg 0.05); goal ≤ 1.0× at n ≥ 1000;
 *    - `SinkhornLog` at ε = 0.01 vs `ot.bregman.sinkhorn_log` (reg 0.01); goal ≤ 0.3×;
 *    - `SinkhornLog` on the online point cloud (costs recomputed in row
 *      blocks every pass, nothing n × m stored), for its price over the
 *      materialized cost; without `--quick` also at n = 20,000, where the
 *      cost matrix alone would take 3.2 GB.
 *    Ours: one `step` of the solver (`measure`, best batch mean). POT: the
 *    difference of two runs with fixed iteration counts (stopThr = 0) divided
 *    by the difference of the counts, so its setup (exp(−M/reg)) cancels; its
 *    every-10-iterations error check is part of its iteration, as in use.
 * 2. Sinkhorn–Newton–Sparse vs Sinkhorn at n = 2000, ε = 0.01, to a marginal
 *    error of 1e-9: iterations and wall time of the whole `solve` (best of 3);
 *    goal ≥ 10× fewer iterations and ≥ 3× less time.
 *
 * Run on demand: `node packages/ot/bench/sinkhorn.ts [--quick]` (not a test;
 * `--quick` stops at n = 2000). Python: `$DESCENT_PYTHON` (else python3)
 * with POT; without it only our columns are printed.
 */
import { writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Matrix, Random } from "@descent/core"
import { measure, row, runPythonAnchor } from "@descent/testing"
import * as Geometry from "../src/Geometry.ts"
import * as LinearProblem from "../src/LinearProblem.ts"
import * as Sinkhorn from "../src/Sinkhorn.ts"
import * as SinkhornLog from "../src/SinkhornLog.ts"
import * as SinkhornNewtonSparse from "../src/SinkhornNewtonSparse.ts"

const quick = process.argv.includes("--quick")
const sizes = quick ? [500, 1000, 2000] : [500, 1000, 2000, 4000]

/** Points and the max-normalized squared-Euclidean cost (normalized here: see the report on Geometry's normalization). */
const makeProblem = (n: number) => {
  const [kx, ky] = Random.split(Random.key(2026 + n))
  const x = Matrix.fromData(n, 2, Random.uniform(kx!, 2 * n))
  const y = Matrix.fromData(n, 2, Random.uniform(ky!, 2 * n))
  const C = Geometry.materialize(Geometry.pointCloud(x, y))
  let max = 0
  for (let i = 0; i < C.data.length; i++) if (C.data[i]! > max) max = C.data[i]!
  for (let i = 0; i < C.data.length; i++) C.data[i] = C.data[i]! / max
  return { x, y, problem: LinearProblem.make(Geometry.fromCostMatrix(C)) }
}

const pointsFile = (n: number, x: Matrix.Matrix, y: Matrix.Matrix): string => {
  const file = join(tmpdir(), `descent-ot-bench-${process.pid}-${n}.json`)
  writeFileSync(file, JSON.stringify({ x: Array.from(x.data), y: Array.from(y.data) }))
  return file
}

const potScript = (file: string, n: number, log: boolean, sns: boolean) => `
import json, time, numpy as np, ot
d = json.load(open(${JSON.stringify(file)}))
n = ${n}
x = np.array(d["x"]).reshape(n, 2); y = np.array(d["y"]).reshape(n, 2)
M = ot.dist(x, y); M /= M.max()
a = np.ones(n) / n; b = np.ones(n) / n
def timed(f, reps):
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter(); f(); best = min(best, time.perf_counter() - t0)
    return best
out = {"version": ot.__version__}
big = n >= 4000
k1, k2 = (10, 40) if not big else (10, 30)
t1 = timed(lambda: ot.sinkhorn(a, b, M, 0.05, numItermax=k1, stopThr=0, warn=False), 3)
t2 = timed(lambda: ot.sinkhorn(a, b, M, 0.05, numItermax=k2, stopThr=0, warn=False), 3)
out["sinkhorn"] = max(t2 - t1, 0) / (k2 - k1)
if ${log ? "True" : "False"}:
    l1, l2 = (2, 6) if n <= 1000 else (1, 4)
    reps = 3 if n <= 1000 else 2
    t1 = timed(lambda: ot.bregman.sinkhorn_log(a, b, M, 0.01, numItermax=l1, stopThr=0, warn=False), reps)
    t2 = timed(lambda: ot.bregman.sinkhorn_log(a, b, M, 0.01, numItermax=l2, stopThr=0, warn=False), reps)
    out["sinkhorn_log"] = max(t2 - t1, 0) / (l2 - l1)
if ${sns ? "True" : "False"}:
    t0 = time.perf_counter()
    P, lg = ot.sinkhorn(a, b, M, 0.01, numItermax=100000, stopThr=1e-9, log=True, warn=False)
    out["sinkhorn_to_1e-9"] = {"time": time.perf_counter() - t0, "iterations": int(lg["niter"])}
print(json.dumps(out))
`

interface Pot {
  readonly version: string
  readonly sinkhorn: number
  readonly sinkhorn_log?: number
  readonly "sinkhorn_to_1e-9"?: { readonly time: number; readonly iterations: number }
}

const ms = (seconds: number | undefined): string =>
  seconds === undefined ? "–" : (seconds * 1e3).toPrecision(3)
const ratio = (ours: number, theirs: number | undefined): string =>
  theirs === undefined || theirs === 0 ? "–" : (ours / theirs).toFixed(2)

const widths = [6, 12, 12, 8, 12, 12, 8, 12]
console.log("Per-iteration time (ms); ratio = descent / POT")
console.log(row(["n", "Sinkhorn", "POT", "ratio", "SinkhornLog", "POT log", "ratio", "log online"], widths))

/** Time per log-domain iteration (ε = 0.01) on the online point cloud of x, y (costs divided by their max). */
const onlineIteration = (x: Matrix.Matrix, y: Matrix.Matrix, n: number): number => {
  const online = LinearProblem.make(Geometry.pointCloud(x, y, { normalize: "max", online: true }))
  const state = SinkhornLog.solver.init(online, { epsilon: 0.01 })
  return measure(() => SinkhornLog.solver.step(state), {
    minTimeMs: n >= 2000 ? 400 : 200,
    batches: n >= 4000 ? 2 : 3,
    warmup: 1
  })
}
let potAt2000: Pot | undefined
for (const n of sizes) {
  const { x, y, problem } = makeProblem(n)
  const file = pointsFile(n, x, y)
  const pot = runPythonAnchor<Pot>(potScript(file, n, true, n === 2000), ["ot", "numpy"])
  if (n === 2000) potAt2000 = pot
  const scaling = Sinkhorn.solver.init(problem, { epsilon: 0.05 })
  const tScaling = measure(() => Sinkhorn.solver.step(scaling), { minTimeMs: 200, batches: 5 })
  const logState = SinkhornLog.solver.init(problem, { epsilon: 0.01 })
  const tLog = measure(() => SinkhornLog.solver.step(logState), {
    minTimeMs: n >= 2000 ? 400 : 200,
    batches: n >= 4000 ? 2 : 3,
    warmup: 1
  })
  console.log(
    row(
      [
        String(n),
        ms(tScaling),
        ms(pot?.sinkhorn),
        ratio(tScaling, pot?.sinkhorn),
        ms(tLog),
        ms(pot?.sinkhorn_log),
        ratio(tLog, pot?.sinkhorn_log),
        ms(onlineIteration(x, y, n))
      ],
      widths
    )
  )
}

if (!quick) {
  const n = 20_000
  const [kx, ky] = Random.split(Random.key(2026 + n))
  const x = Matrix.fromData(n, 2, Random.uniform(kx!, 2 * n))
  const y = Matrix.fromData(n, 2, Random.uniform(ky!, 2 * n))
  const online = LinearProblem.make(Geometry.pointCloud(x, y, { normalize: "max", online: true }))
  const state = SinkhornLog.solver.init(online, { epsilon: 0.01 })
  const t0 = performance.now()
  for (let k = 0; k < 3; k++) SinkhornLog.solver.step(state)
  const perIteration = (performance.now() - t0) / 3
  console.log(
    `\nOnline log-domain Sinkhorn, n = m = ${n} (4·10⁸ pairs, never stored): ${perIteration.toFixed(0)} ms per iteration`
  )
}

// ── SNS vs Sinkhorn, n = 2000, ε = 0.01, to 1e-9 ───────────────────────────
{
  const { problem } = makeProblem(2000)
  const best = <R>(f: () => R): { result: R; time: number } => {
    let time = Number.POSITIVE_INFINITY
    let result: R | undefined
    for (let k = 0; k < 3; k++) {
      const t0 = performance.now()
      result = f()
      time = Math.min(time, (performance.now() - t0) / 1e3)
    }
    return { result: result!, time }
  }
  const options = { epsilon: 0.01, tolerance: 1e-9, maxIterations: 100_000 }
  const sk = best(() => Sinkhorn.solve(problem, options))
  const sns = best(() => SinkhornNewtonSparse.solve(problem, options))
  console.log("\nn = 2000, ε = 0.01, marginal error ≤ 1e-9 (whole solve, best of 3)")
  const w = [30, 12, 12, 14, 16]
  console.log(row(["solver", "status", "iterations", "time (ms)", "cost"], w))
  console.log(
    row(["Sinkhorn", sk.result.status, sk.result.iterations, ms(sk.time), sk.result.cost.toPrecision(12)], w)
  )
  console.log(
    row(
      [
        `SNS (${sns.result.sinkhornIterations} Sinkhorn + ${sns.result.newtonSteps} Newton)`,
        sns.result.status,
        sns.result.iterations,
        ms(sns.time),
        sns.result.cost.toPrecision(12)
      ],
      w
    )
  )
  const potRun = potAt2000?.["sinkhorn_to_1e-9"]
  if (potRun !== undefined)
    console.log(row(["POT ot.sinkhorn (‖·‖₂ col. err)", "", potRun.iterations, ms(potRun.time), ""], w))
  console.log(
    `SNS: ${(sk.result.iterations / sns.result.iterations).toFixed(1)}× fewer iterations, ` +
      `${(sk.time / sns.time).toFixed(1)}× less time (${sns.result.cgIterations} CG iterations, ` +
      `mean Hessian density ${sns.result.meanDensity.toFixed(2)})`
  )
  if (potAt2000 !== undefined) console.log(`POT ${potAt2000.version}`)
}
