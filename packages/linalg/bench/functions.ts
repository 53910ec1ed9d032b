/**
 * Matrix-function benchmarks: expm (d = 50 and 200), SPD inverse fourth roots
 * (eigen and coupled Newton routes) and Muon's quintic Newton–Schulz, each
 * beside SciPy's figure measured in the same run (single-threaded BLAS) when a
 * Python with SciPy is importable (`$DESCENT_PYTHON`, else `python3`).
 *
 * Run with `node packages/linalg/bench/functions.ts`. Goal: expm at d = 50
 * within 3× SciPy's time.
 */
import { Blas3, Matrix, Vector } from "@descent/core"
import { measure, PYTHON_BEST, row, runPythonAnchor } from "@descent/testing"
import * as Expm from "../src/Expm.ts"
import * as Roots from "../src/MatrixRoots.ts"
import * as NewtonSchulz from "../src/NewtonSchulz.ts"

const sizes = [50, 200]

/** A_ij = sin(0.7·(i·n + j) + phase)·scale, the same formula as the Python anchor. */
const filled = (n: number, phase: number, scale: number): Matrix.Matrix => {
  const x = Vector.zeros(n * n)
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.7 + phase) * scale
  return Matrix.fromData(n, n, x)
}
/** B·Bᵀ/n + I: SPD, κ ≈ 4. */
const spd = (n: number): Matrix.Matrix => {
  const B = filled(n, 1.1, 1)
  const A = Matrix.identity(n)
  Blas3.gemm(false, true, 1 / n, B, B, 1, A)
  return A
}

const script = `
import json, numpy as np, scipy, scipy.linalg as sl
${PYTHON_BEST}
res = {"version": scipy.__version__, "expm": {}, "invroot": {}, "eigh": {}, "ns": {}}
def filled(n, phase, scale):
    return (np.sin(np.arange(n*n)*0.7 + phase)*scale).reshape(n, n)
def ns5(G):
    a, b, c = 3.4445, -4.7750, 2.0315
    X = G / (np.linalg.norm(G) + 1e-7)
    for _ in range(5):
        A = X @ X.T
        X = a*X + (b*A + c*A@A) @ X
    return X
for n in ${JSON.stringify(sizes)}:
    A = filled(n, 0.3, 8.0/n)
    res["expm"][n] = best(lambda: sl.expm(A))
    B = filled(n, 1.1, 1.0); S = B @ B.T / n + np.eye(n)
    res["invroot"][n] = best(lambda: sl.fractional_matrix_power(S, -0.25))
    def eigroute():
        w, V = np.linalg.eigh(S)
        return (V * w**-0.25) @ V.T
    res["eigh"][n] = best(eigroute)
    res["ns"][n] = best(lambda: ns5(B))
print(json.dumps(res))
`
type Anchor = {
  version: string
  expm: Record<string, number>
  invroot: Record<string, number>
  eigh: Record<string, number>
  ns: Record<string, number>
}
const anchor = runPythonAnchor<Anchor>(script, ["numpy", "scipy"])
const ms = (s: number | undefined): string => (s === undefined ? "—" : (s * 1e3).toPrecision(3))
const ratio = (ours: number, theirs: number | undefined): string =>
  theirs === undefined ? "—" : `${(ours / theirs).toFixed(2)}×`
const w = [40, 12, 12, 12]

console.log(
  `@descent/linalg matrix functions (Node ${process.version}; SciPy ${anchor?.version ?? "not available"})`
)
console.log(row(["operation (ms per call)", "ours", "scipy", "ours/scipy"], w))
for (const n of sizes) {
  const A = filled(n, 0.3, 8 / n)
  const t = measure(() => Expm.expm(A), { batches: 3 })
  console.log(row([`expm d=${n} (‖A‖₁ ≈ 5)`, ms(t), ms(anchor?.expm[n]), ratio(t, anchor?.expm[n])], w))
  const S = spd(n)
  const te = measure(() => Roots.inverseRootEigen(S, 4), { batches: 3 })
  console.log(
    row([`inverseRootEigen p=4 d=${n} (vs eigh)`, ms(te), ms(anchor?.eigh[n]), ratio(te, anchor?.eigh[n])], w)
  )
  const tn = measure(() => Roots.inverseRootNewton(S, 4), { batches: 3 })
  console.log(
    row(
      [
        `inverseRootNewton p=4 d=${n} (vs fmp)`,
        ms(tn),
        ms(anchor?.invroot[n]),
        ratio(tn, anchor?.invroot[n])
      ],
      w
    )
  )
  const G = filled(n, 1.1, 1)
  const tq = measure(() => NewtonSchulz.quintic(G), { batches: 3 })
  console.log(
    row([`quintic Newton–Schulz d=${n} (vs NumPy)`, ms(tq), ms(anchor?.ns[n]), ratio(tq, anchor?.ns[n])], w)
  )
}
