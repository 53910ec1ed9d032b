/**
 * Core kernel benchmarks: gemm (GFLOP/s), gemv (GB/s), dot and axpy (GB/s).
 *
 * Run with `pnpm bench` (all packages) or `node packages/core/bench/run.ts`.
 * When a Python with NumPy is importable (`$DESCENT_PYTHON`, else `python3`),
 * NumPy's figure is measured in the same run, single-threaded, and the ratio
 * printed (ours / NumPy's throughput: > 1 means faster).
 */
import { measure, PYTHON_BEST, row, runPythonAnchor } from "@descent/testing"
import * as Blas1 from "../src/Blas1.ts"
import * as Blas2 from "../src/Blas2.ts"
import * as Blas3 from "../src/Blas3.ts"
import * as Matrix from "../src/Matrix.ts"
import * as Reductions from "../src/Reductions.ts"
import * as Vector from "../src/Vector.ts"

// Deterministic fill without the RNG, so the bench measures kernels only.
const fill = (x: Float64Array, phase: number): Float64Array => {
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.7 + phase)
  return x
}

const gemmSizes = [128, 256, 512, 1024]
const gemvSizes = [1000, 2000, 4000]
const vectorSizes = [1_000_000, 25_000_000]

const numpyScript = `
import json, time, numpy as np
${PYTHON_BEST}
res = {"version": np.__version__, "gemm": {}, "gemv": {}, "dot": {}, "axpy": {}}
for n in ${JSON.stringify(gemmSizes)}:
    a = np.sin(np.arange(n*n)*0.7).reshape(n, n); b = np.sin(np.arange(n*n)*0.7+1).reshape(n, n); c = np.empty((n, n))
    res["gemm"][n] = best(lambda: np.matmul(a, b, out=c))
for n in ${JSON.stringify(gemvSizes)}:
    a = np.sin(np.arange(n*n)*0.7).reshape(n, n); x = np.sin(np.arange(n)*0.7+1); y = np.empty(n)
    res["gemv"][n] = best(lambda: np.dot(a, x, out=y))
for n in ${JSON.stringify(vectorSizes)}:
    x = np.sin(np.arange(n)*0.7); y = np.sin(np.arange(n)*0.7+1)
    res["dot"][n] = best(lambda: np.dot(x, y))
    # in-place axpy: y += 1e-9 * x, as BLAS daxpy does
    import scipy.linalg.blas as blas
    res["axpy"][n] = best(lambda: blas.daxpy(x, y, a=1e-9))
print(json.dumps(res))
`

type NumpyTimes = {
  version: string
  gemm: Record<string, number>
  gemv: Record<string, number>
  dot: Record<string, number>
  axpy: Record<string, number>
}
const numpy = runPythonAnchor<NumpyTimes>(numpyScript, ["numpy", "scipy"])
const ratio = (ours: number, theirs: number | undefined): string =>
  theirs === undefined ? "—" : `${(theirs / ours).toFixed(2)}×`
const w = [22, 12, 12, 10]

console.log(`@descent/core kernels (Node ${process.version}; NumPy ${numpy?.version ?? "not available"})`)
console.log(row(["kernel", "ours", "numpy", "speed"], w))

for (const n of gemmSizes) {
  const A = Matrix.fromData(n, n, fill(Vector.zeros(n * n), 0))
  const B = Matrix.fromData(n, n, fill(Vector.zeros(n * n), 1))
  const C = Matrix.zeros(n, n)
  const t = measure(() => Blas3.gemm(false, false, 1, A, B, 0, C), { batches: 3 })
  const flops = 2 * n ** 3
  const theirs = numpy?.gemm[n]
  console.log(
    row(
      [
        `gemm n=${n} GFLOP/s`,
        flops / t / 1e9,
        theirs === undefined ? "—" : flops / theirs / 1e9,
        ratio(t, theirs)
      ],
      w
    )
  )
}
for (const n of gemvSizes) {
  const A = Matrix.fromData(n, n, fill(Vector.zeros(n * n), 0))
  const x = fill(Vector.zeros(n), 1)
  const y = Vector.zeros(n)
  const t = measure(() => Blas2.gemv(1, A, x, 0, y))
  const bytes = 8 * (n * n + 2 * n)
  const theirs = numpy?.gemv[n]
  console.log(
    row(
      [
        `gemv n=${n} GB/s`,
        bytes / t / 1e9,
        theirs === undefined ? "—" : bytes / theirs / 1e9,
        ratio(t, theirs)
      ],
      w
    )
  )
}
for (const n of vectorSizes) {
  const x = fill(Vector.zeros(n), 0)
  const y = fill(Vector.zeros(n), 1)
  let sink = 0
  const td = measure(() => {
    sink += Blas1.dot(x, y)
  })
  const ta = measure(() => Blas1.axpy(1e-9, x, y))
  const theirsD = numpy?.dot[n]
  const theirsA = numpy?.axpy[n]
  // dot reads two vectors; axpy reads two and writes one.
  console.log(
    row(
      [
        `dot n=${n.toExponential(1)} GB/s`,
        (16 * n) / td / 1e9,
        theirsD ? (16 * n) / theirsD / 1e9 : "—",
        ratio(td, theirsD)
      ],
      w
    )
  )
  console.log(
    row(
      [
        `axpy n=${n.toExponential(1)} GB/s`,
        (24 * n) / ta / 1e9,
        theirsA ? (24 * n) / theirsA / 1e9 : "—",
        ratio(ta, theirsA)
      ],
      w
    )
  )
  if (sink === 0.5) console.log("")
}

// ── fused affine log-sum-exp (log-domain Sinkhorn's inner loop) ─────────────
// Compared with (a) the TypeScript fallback on heap arrays (same bits, portable
// exp) and (b) a straightforward TypeScript port with Math.exp and a temporary
// (f + g − C)/ε matrix, as a first JS implementation of log-domain Sinkhorn would do.
const naiveLseRows = (C: Float64Array, f: Float64Array, g: Float64Array, eps: number, out: Float64Array) => {
  const m = f.length
  const n = g.length
  const Z = new Float64Array(m * n)
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) Z[i * n + j] = (f[i]! + g[j]! - C[i * n + j]!) / eps
  for (let i = 0; i < m; i++) {
    let mx = Number.NEGATIVE_INFINITY
    for (let j = 0; j < n; j++) mx = Math.max(mx, Z[i * n + j]!)
    let s = 0
    for (let j = 0; j < n; j++) s += Math.exp(Z[i * n + j]! - mx)
    out[i] = mx + Math.log(s)
  }
}
console.log(
  row(["log-sum-exp (ms)", "simd", "ts", "naive ts", "simd vs ts", "vs naive"], [22, 10, 10, 10, 11, 10])
)
for (const n of [1000, 2000]) {
  const C = Matrix.fromData(n, n, fill(Vector.zeros(n * n), 0))
  const f = fill(Vector.zeros(n), 1)
  const g = fill(Vector.zeros(n), 2)
  const out = Vector.zeros(n)
  const Ch = { rows: n, cols: n, data: Float64Array.from(C.data) }
  const fh = Float64Array.from(f)
  const gh = Float64Array.from(g)
  const outh = new Float64Array(n)
  const opts = { batches: 3, minTimeMs: 150 }
  for (const [label, simdCall, tsCall] of [
    [
      "rows",
      () => Reductions.logSumExpAffineRows(C, f, g, 0.01, out),
      () => Reductions.logSumExpAffineRows(Ch, fh, gh, 0.01, outh)
    ],
    [
      "cols",
      () => Reductions.logSumExpAffineCols(C, f, g, 0.01, out),
      () => Reductions.logSumExpAffineCols(Ch, fh, gh, 0.01, outh)
    ]
  ] as const) {
    const ts = measure(simdCall, opts)
    const tt = measure(tsCall, opts)
    const tn = label === "rows" ? measure(() => naiveLseRows(Ch.data, fh, gh, 0.01, outh), opts) : Number.NaN
    console.log(
      row(
        [
          `lse ${label} n=${n}`,
          ts * 1e3,
          tt * 1e3,
          label === "rows" ? tn * 1e3 : "—",
          `${(tt / ts).toFixed(2)}×`,
          label === "rows" ? `${(tn / ts).toFixed(2)}×` : "—"
        ],
        [22, 10, 10, 10, 11, 10]
      )
    )
  }
}
