/**
 * Factorization benchmarks: Cholesky and LU factor-and-solve at n = 250, 500,
 * 1000, in GFLOP/s counted as n³/3 (Cholesky) and 2n³/3 (LU) flops.
 *
 * Run with `node packages/linalg/bench/factorizations.ts`. When a Python with
 * NumPy and SciPy is importable (`$DESCENT_PYTHON`, else `python3`), SciPy's
 * `cho_factor` + `cho_solve` and `lu_factor` + `lu_solve` are measured in the
 * same run with BLAS pinned to one thread, and the ratio printed (ours /
 * SciPy's throughput: > 1 means faster).
 */
import { Blas3, Matrix, Memory, Vector } from "@descent/core"
import { measure, PYTHON_BEST, row, runPythonAnchor } from "@descent/testing"
import * as Cholesky from "../src/Cholesky.ts"
import * as Lu from "../src/Lu.ts"

const sizes = [250, 500, 1000]

// Deterministic fill without the RNG, so the bench measures the factorizations only.
const fill = (x: Float64Array, phase: number): Float64Array => {
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.7 + phase)
  return x
}

/** A general matrix (LU) and B·Bᵀ + n·I (Cholesky), built the same way on both sides. */
const general = (n: number): Matrix.Matrix => {
  const A = Matrix.fromData(n, n, fill(Vector.zeros(n * n), 0))
  for (let i = 0; i < n; i++) A.data[i * n + i] = A.data[i * n + i]! + n
  return A
}
const spd = (n: number): Matrix.Matrix => {
  const B = Matrix.fromData(n, n, fill(Vector.zeros(n * n), 1))
  const A = Matrix.zeros(n, n)
  Blas3.gemm(false, true, 1, B, B, 0, A)
  for (let i = 0; i < n; i++) A.data[i * n + i] = A.data[i * n + i]! + n
  return A
}

const scipyScript = `
import json, numpy as np, scipy, scipy.linalg as sl
${PYTHON_BEST}
res = {"version": scipy.__version__, "cholesky": {}, "lu": {}}
for n in ${JSON.stringify(sizes)}:
    a = np.sin(np.arange(n*n)*0.7).reshape(n, n) + n*np.eye(n)
    g = np.sin(np.arange(n*n)*0.7 + 1).reshape(n, n); s = g @ g.T + n*np.eye(n)
    b = np.ones(n)
    res["cholesky"][n] = best(lambda: sl.cho_solve(sl.cho_factor(s, lower=True), b))
    res["lu"][n] = best(lambda: sl.lu_solve(sl.lu_factor(a), b))
print(json.dumps(res))
`

type ScipyTimes = { version: string; cholesky: Record<string, number>; lu: Record<string, number> }
const scipy = runPythonAnchor<ScipyTimes>(scipyScript, ["numpy", "scipy"])
const gflops = (flops: number, seconds: number | undefined): number | string =>
  seconds === undefined ? "—" : flops / seconds / 1e9
const ratio = (ours: number, theirs: number | undefined): string =>
  theirs === undefined ? "—" : `${(theirs / ours).toFixed(2)}×`
const widths = [28, 10, 10, 8]

console.log(
  `@descent/linalg factorizations (Node ${process.version}; backend ${Memory.backend()}; SciPy ${scipy?.version ?? "not available"})`
)
console.log(row(["factor + solve", "ours", "scipy", "speed"], widths))

for (const n of sizes) {
  const A = spd(n)
  const b = Vector.ones(n)
  // Free the solution at once (SciPy frees by reference counting): see Memory.free.
  const t = measure(() => Memory.free(Cholesky.solve(A, b)), { batches: 3 })
  const flops = n ** 3 / 3
  const theirs = scipy?.cholesky[n]
  console.log(
    row([`Cholesky n=${n} GFLOP/s`, gflops(flops, t), gflops(flops, theirs), ratio(t, theirs)], widths)
  )
}
for (const n of sizes) {
  const A = general(n)
  const b = Vector.ones(n)
  const t = measure(() => Memory.free(Lu.solve(A, b)), { batches: 3 })
  const flops = (2 * n ** 3) / 3
  const theirs = scipy?.lu[n]
  console.log(row([`LU n=${n} GFLOP/s`, gflops(flops, t), gflops(flops, theirs), ratio(t, theirs)], widths))
}
