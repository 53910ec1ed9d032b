/**
 * The main job until the experiment runner exists: solve a few problems with
 * @descent/core and print what happened.
 *
 *   npx -y pnpm@12.21.0 demo
 *
 * 1. least squares by gradient descent, written as a solver on core's protocol
 *    and run by the generic loop (step 1/L with L from power iteration);
 * 2. the same problem's normal equations solved by a triangular factor;
 * 3. softmax of the residuals, gemm throughput, and the kernel backend.
 */
import {
  Blas1,
  Blas2,
  Blas3,
  Matrix,
  Memory,
  Objective,
  Random,
  Reductions,
  Solver,
  Vector
} from "@descent/core"

// ── a seeded least-squares problem ─────────────────────────────────────────
const [kX, kW, kNoise] = Random.split(Random.key(2026), 3)
const n = 500
const d = 40
const X = Matrix.fromData(n, d, Random.normal(kX!, n * d))
const wTrue = Random.normal(kW!, d)
const y = Random.normal(kNoise!, n, { scale: 0.1 })
Blas2.gemv(1, X, wTrue, 1, y) // y = X·w + noise

// f(w) = ½‖Xw − y‖², ∇f = Xᵀ(Xw − y)
const r = Vector.zeros(n)
const leastSquares: Objective.Objective = {
  dimension: d,
  value: (w) => {
    Blas1.copy(y, r)
    Blas2.gemv(1, X, w, -1, r)
    return 0.5 * Blas1.dot(r, r)
  },
  valueAndGradient: (w, g) => {
    Blas1.copy(y, r)
    Blas2.gemv(1, X, w, -1, r)
    Blas2.gemvT(1, X, r, 0, g)
    return 0.5 * Blas1.dot(r, r)
  }
}

// L = λ_max(XᵀX) by power iteration.
const v = Vector.ones(d)
const Xv = Vector.zeros(n)
let L = 0
for (let k = 0; k < 100; k++) {
  Blas2.gemv(1, X, v, 0, Xv)
  Blas2.gemvT(1, X, Xv, 0, v)
  L = Blas1.nrm2(v)
  Blas1.scal(1 / L, v)
}

// Gradient descent as a state machine on core's solver protocol.
interface GdState {
  readonly f: Objective.MeteredObjective
  readonly w: Float64Array
  readonly g: Float64Array
  value: number
  tolerance: number
}
const gradientDescent: Solver.IterativeSolver<
  Objective.Objective,
  { tolerance: number },
  GdState,
  Float64Array
> = {
  name: "gradient-descent",
  init: (objective, options) => {
    const f = Objective.meter(objective)
    const w = Vector.zeros(objective.dimension)
    const g = Vector.zeros(objective.dimension)
    return { f, w, g, value: f.valueAndGradient(w, g), tolerance: options.tolerance }
  },
  step: (s) => {
    Blas1.axpy(-1 / L, s.g, s.w)
    s.value = s.f.valueAndGradient(s.w, s.g)
    return s
  },
  status: (s) => (Blas1.nrm2(s.g) <= s.tolerance ? "converged" : undefined),
  residual: (s) => Blas1.nrm2(s.g),
  metrics: (s) => ({ objective: s.value, gradientNorm: Blas1.nrm2(s.g) }),
  output: (s) => s.w
}

const result = Solver.run(
  gradientDescent,
  leastSquares,
  { tolerance: 1e-8 },
  { maxIterations: 5000, traceEvery: 100 }
)
const err = Vector.clone(result.output)
Blas1.axpy(-1, wTrue, err)
console.log("descent demo — @descent/core")
console.log(`backend: ${Memory.backend()}`)
console.log("\n1. least squares (n = 500, d = 40) by gradient descent on the solver protocol")
console.log(
  `   status ${result.status} after ${result.iterations} iterations, ‖∇f‖ = ${result.residual.toExponential(2)}`
)
console.log(`   ‖w − w_true‖ = ${Blas1.nrm2(err).toExponential(3)} (noise level 0.1)`)
const trace = result.trace.values.objective!
console.log(`   objective: ${trace[0]!.toExponential(4)} → ${trace.at(-1)!.toExponential(4)}`)

// ── normal equations through an upper-triangular factor ────────────────────
// XᵀX = RᵀR by Cholesky (written out here; @descent/linalg provides it).
const G = Matrix.zeros(d, d)
Blas3.gemm(true, false, 1, X, X, 0, G)
const R = Matrix.zeros(d, d)
for (let j = 0; j < d; j++) {
  let s = G.data[j * d + j]!
  for (let k = 0; k < j; k++) s -= R.data[k * d + j]! ** 2
  const rjj = Math.sqrt(s)
  R.data[j * d + j] = rjj
  for (let i = j + 1; i < d; i++) {
    let t = G.data[j * d + i]!
    for (let k = 0; k < j; k++) t -= R.data[k * d + j]! * R.data[k * d + i]!
    R.data[j * d + i] = t / rjj
  }
}
const w = Vector.zeros(d)
Blas2.gemvT(1, X, y, 0, w) // Xᵀy
Blas2.trsv(R, w, { lower: false, transpose: true }) // Rᵀz = Xᵀy
Blas2.trsv(R, w, { lower: false }) // Rw = z
Blas1.axpy(-1, result.output, w)
console.log("\n2. the same problem by the normal equations (gemm + two triangular solves)")
console.log(`   ‖w_normal − w_gd‖ = ${Blas1.nrm2(w).toExponential(2)}`)

// ── softmax and throughput ─────────────────────────────────────────────────
Blas1.copy(y, r)
Blas2.gemv(1, X, result.output, -1, r)
console.log("\n3. kernels")
console.log(`   logsumexp of the residuals: ${Reductions.logSumExp(r).toFixed(6)}`)
const m = 512
const A = Matrix.fromData(m, m, Random.uniform(Random.key(1), m * m))
const B = Matrix.fromData(m, m, Random.uniform(Random.key(2), m * m))
const C = Matrix.zeros(m, m)
Blas3.gemm(false, false, 1, A, B, 0, C)
const t0 = performance.now()
const reps = 10
for (let k = 0; k < reps; k++) Blas3.gemm(false, false, 1, A, B, 0, C)
const seconds = (performance.now() - t0) / 1000 / reps
console.log(`   gemm 512×512: ${((2 * m ** 3) / seconds / 1e9).toFixed(1)} GFLOP/s`)
