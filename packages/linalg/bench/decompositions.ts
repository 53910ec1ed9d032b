/**
 * Decomposition benchmarks: symmetric eigen (n = 200), SVD (n = 200), QR (n = 500),
 * each against NumPy/SciPy measured in the same run, single-threaded
 * (`runPythonAnchor`). Goal: `eigh` n = 200 within 8× of `numpy.linalg.eigh`.
 *
 * Run with `node packages/linalg/bench/decompositions.ts` (on demand, never in tests).
 */
import { Matrix, Vector } from "@descent/core"
import { measure, PYTHON_BEST, row, runPythonAnchor } from "@descent/testing"
import * as Qr from "../src/Qr.ts"
import * as Svd from "../src/Svd.ts"
import * as SymmetricEigen from "../src/SymmetricEigen.ts"

const EIGEN_N = 200
const SVD_N = 200
const QR_N = 500

// Deterministic dense fill without the RNG: A[i, j] = sin(0.7·(i·n + j)) + sin(1.3·j + 0.1·i).
const fill = (n: number, symmetric: boolean): Matrix.Matrix => {
  const A = Matrix.fromData(n, n, Vector.zeros(n * n))
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) A.data[i * n + j] = Math.sin(0.7 * (i * n + j)) + Math.sin(1.3 * j + 0.1 * i)
  if (symmetric) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) {
        const v = A.data[i * n + j]! + A.data[j * n + i]!
        A.data[i * n + j] = v
        A.data[j * n + i] = v
      }
    }
  }
  return A
}

const numpyScript = `
import json, numpy as np, scipy, scipy.linalg as sla
${PYTHON_BEST}
def fill(n, symmetric):
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    a = np.sin(0.7 * (i * n + j)) + np.sin(1.3 * j + 0.1 * i)
    if symmetric:
        low = np.tril(a + a.T, -1)
        a = low + low.T + np.diag(np.diag(a))
    return a
s = fill(${EIGEN_N}, True); g = fill(${SVD_N}, False); q = fill(${QR_N}, False)
res = {
  "numpy": np.__version__, "scipy": scipy.__version__,
  "eigh": best(lambda: np.linalg.eigh(s)),
  "eigvalsh": best(lambda: np.linalg.eigvalsh(s)),
  "svd": best(lambda: np.linalg.svd(g, full_matrices=False)),
  "svdvals": best(lambda: np.linalg.svd(g, compute_uv=False)),
  "qr": best(lambda: np.linalg.qr(q)),
  "qrPivoted": best(lambda: sla.qr(q, mode="economic", pivoting=True)),
}
print(json.dumps(res))
`

interface NumpyTimes {
  readonly numpy: string
  readonly scipy: string
  readonly eigh: number
  readonly eigvalsh: number
  readonly svd: number
  readonly svdvals: number
  readonly qr: number
  readonly qrPivoted: number
}
const numpy = runPythonAnchor<NumpyTimes>(numpyScript, ["numpy", "scipy"])

const S = fill(EIGEN_N, true)
const G = fill(SVD_N, false)
const Q = fill(QR_N, false)
const rows: Array<[string, () => void, number | undefined]> = [
  [`eigh n=${EIGEN_N}`, () => SymmetricEigen.eigh(S), numpy?.eigh],
  [`eigvalsh n=${EIGEN_N}`, () => SymmetricEigen.eigvalsh(S), numpy?.eigvalsh],
  [`svd thin n=${SVD_N}`, () => Svd.svd(G), numpy?.svd],
  [`singularValues n=${SVD_N}`, () => Svd.singularValues(G), numpy?.svdvals],
  [`qr + thin Q n=${QR_N}`, () => Qr.q(Qr.qr(Q)), numpy?.qr],
  [`qrPivoted n=${QR_N}`, () => Qr.qrPivoted(Q), numpy?.qrPivoted]
]

const w = [26, 12, 12, 10]
console.log(
  `@descent/linalg decompositions (Node ${process.version}; NumPy ${numpy?.numpy ?? "not available"}, SciPy ${numpy?.scipy ?? "—"})`
)
console.log(row(["operation", "ours ms", "numpy ms", "ours/numpy"], w))
for (const [name, fn, theirs] of rows) {
  const t = measure(fn, { batches: 3, warmup: 2 })
  console.log(
    row(
      [
        name,
        t * 1e3,
        theirs === undefined ? "—" : theirs * 1e3,
        theirs === undefined ? "—" : `${(t / theirs).toFixed(1)}×`
      ],
      w
    )
  )
}
