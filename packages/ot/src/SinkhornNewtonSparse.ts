/**
 * Sinkhorn–Newton–Sparse (SNS; Tang, Shavlovsky, Rahmanian, Tardini,
 * Thekumparampil, Xiao & Ying, "Accelerating Sinkhorn Algorithm with Sparse
 * Newton Iterations", ICLR 2024). Sinkhorn converges linearly, slowly at
 * small ε; SNS runs a few Sinkhorn iterations to reach the region where the
 * optimal plan is numerically sparse, then takes Newton steps on the
 * concave dual (Lyapunov) function
 *
 *   D(f, g) = ⟨f, a⟩ + ⟨g, b⟩ − ε·Σ_ij exp((f_i + g_j − C_ij)/ε),
 *
 * whose gradient is the marginal residual (a − P·1, b − Pᵀ·1) and whose
 * Hessian is −(1/ε)·[[diag(P·1), P], [Pᵀ, diag(Pᵀ·1)]]. The Hessian is
 * sparsified by keeping, in each row of P, the entries at least
 * `sparsityThreshold` times the row's largest one (the diagonal blocks are
 * kept exact, so the sparsified matrix stays positive semidefinite), the
 * Newton system is solved by Jacobi-preconditioned conjugate gradients (to an
 * inexact-Newton forcing tolerance, `forcingTerm`), and
 * a backtracking (Armijo) line search on D sets the step. Each Newton
 * iteration costs O(n²) — one pass to sparsify and one sweep for both
 * marginals per line-search trial (core's `gemvPair` on the kernel) — plus
 * O(nnz) per CG iteration, as in the paper.
 *
 * When the kernel exp(−C/ε) would underflow (|C|/ε > 700) everything runs
 * on exp((f_i + g_j − C_ij)/ε) directly (log-domain warm-up, core's fused
 * log-sum-exp for the marginals), so small ε gives no NaN here either. When
 * a Newton direction fails the line search, a Sinkhorn iteration is taken
 * instead (the run never stalls).
 *
 * @since 0.1.0
 */
import { Blas1, Blas2, Elementwise, Matrix, Reductions, type Solver, Vector } from "@descent/core"
import { type CgWorkspace, cgWorkspace, pcg } from "./internal/conjugateGradient.ts"
import {
  count,
  type Dense,
  dense,
  type Engine,
  type EntropicFields,
  entropicOutput,
  fraction,
  invalid,
  iterate,
  makeEngine,
  nonNegative,
  potentialsInto,
  readCommon,
  runToResult,
  scalingCost,
  TINY,
  transportCost
} from "./internal/entropic.ts"
import type { LinearProblem } from "./LinearProblem.ts"
import type { TransportResult } from "./TransportResult.ts"

/**
 * Options of `solve`.
 *
 * @category models
 * @since 0.1.0
 */
export interface SinkhornNewtonSparseOptions {
  /** ε > 0, in the geometry's (normalized) cost units. Default 0.01. */
  readonly epsilon?: number
  /** Stop when ‖P·1 − a‖₁ + ‖Pᵀ·1 − b‖₁ ≤ tolerance (≥ 0). Default 1e-9. */
  readonly tolerance?: number
  /** Budget of iterations, Sinkhorn warm-up and Newton steps together (≥ 0). Default 500. */
  readonly maxIterations?: number
  /** Check and record the marginal error every this many iterations (≥ 1). Default 1. */
  readonly checkEvery?: number
  /** Sinkhorn iterations before the first Newton step (≥ 0). Default 5. */
  readonly warmupIterations?: number
  /** Keep P_ij in the Hessian when P_ij ≥ threshold · max_j P_ij (in [0, 1); 0 keeps all). Default 1e-3. */
  readonly sparsityThreshold?: number
  /**
   * When a sparsified plan keeps more than this fraction of the entries, the
   * exact Hessian is applied by SIMD sweeps over the kernel instead, for the
   * rest of the run (scaling mode only; ≥ 0, 1 never switches). Default 0.1.
   */
  readonly denseAbove?: number
  /**
   * CG stops at ‖residual‖₂ ≤ η·‖gradient‖₂ (in (0, 1)): η = cgTolerance with a
   * sparsified Hessian; with the exact one η = min(cgTolerance, max(e, 3·tolerance/e))
   * for the marginal error e, loose while e is large and never tighter than
   * reaching `tolerance` needs (see `forcingTerm`). Default 1e-2.
   */
  readonly cgTolerance?: number
  /** CG iterations per Newton step (≥ 1). Default 100. */
  readonly maxCgIterations?: number
  /** Armijo constant c₁ ∈ (0, 1) of the line search on the dual. Default 1e-4. */
  readonly sufficientIncrease?: number
  /** Step halvings before a Newton direction is given up for a Sinkhorn iteration (≥ 1). Default 30. */
  readonly maxLineSearchTrials?: number
}

/**
 * Defaults of `SinkhornNewtonSparseOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultSinkhornNewtonSparseOptions = {
  epsilon: 0.01,
  tolerance: 1e-9,
  maxIterations: 500,
  checkEvery: 1,
  warmupIterations: 5,
  sparsityThreshold: 1e-3,
  denseAbove: 0.1,
  cgTolerance: 1e-2,
  maxCgIterations: 100,
  sufficientIncrease: 1e-4,
  maxLineSearchTrials: 30
} as const

/**
 * An SNS result.
 *
 * @category models
 * @since 0.1.0
 */
export interface SinkhornNewtonSparseResult extends TransportResult, SnsFields {}

/**
 * The fields SNS adds to `TransportResult`.
 *
 * @category models
 * @since 0.1.0
 */
export interface SnsFields extends EntropicFields {
  /** Sinkhorn iterations run (warm-up, and fallbacks after a failed line search). */
  readonly sinkhornIterations: number
  /** Accepted Newton steps. */
  readonly newtonSteps: number
  /** CG iterations over all Newton steps. */
  readonly cgIterations: number
  /** Mean fraction of the plan's entries kept in the Hessians (1 for exact dense steps). */
  readonly meanDensity: number
}

type SnsOutput = Omit<TransportResult, "status" | "iterations"> & SnsFields

/**
 * The SNS state (buffers mutated by `step`).
 *
 * @category models
 * @since 0.1.0
 */
export interface SinkhornNewtonSparseState {
  readonly problem: LinearProblem
  readonly d: Dense
  readonly epsilon: number
  readonly tolerance: number
  readonly checkEvery: number
  readonly warmup: number
  readonly threshold: number
  readonly cgTolerance: number
  readonly maxCg: number
  readonly c1: number
  readonly maxTrials: number
  readonly engine: Engine
  phase: "warmup" | "newton"
  /** The kernel exp(−C/ε) in the scaling mode of the Newton phase; undefined in the log mode. */
  K: Matrix.Matrix | undefined
  readonly f: Float64Array
  readonly g: Float64Array
  readonly u: Float64Array
  readonly v: Float64Array
  readonly r: Float64Array
  readonly c: Float64Array
  readonly fTrial: Float64Array
  readonly gTrial: Float64Array
  readonly uTrial: Float64Array
  readonly vTrial: Float64Array
  readonly rTrial: Float64Array
  readonly cTrial: Float64Array
  readonly rowWork: Float64Array
  readonly colWork: Float64Array
  /** The Newton system: right-hand side ε·∇D, solution (Δf, Δg), the Schur system's right-hand side and preconditioner. */
  readonly rhs: Float64Array
  readonly delta: Float64Array
  readonly schurRhs: Float64Array
  readonly inverseDiagonal: Float64Array
  /** Views of `rhs` and `delta`: the f and g parts. */
  readonly rhoF: Float64Array
  readonly rhoG: Float64Array
  readonly deltaF: Float64Array
  readonly deltaG: Float64Array
  /** Row blocks of the kernel for the dense Schur product (empty in log mode). */
  blocks: ReadonlyArray<KernelBlock>
  readonly cg: CgWorkspace
  /** The Schur product and the CG step hook, bound to this state once. */
  readonly schur: (x: Float64Array, out: Float64Array) => void
  readonly onCgStep: (alpha: number) => void
  /** K·(v∘p) for the last CG direction p (dense path), and Σ α·K·(v∘p) over CG steps: P·Δg = u∘(the sum). */
  readonly kernelTimesDirection: Float64Array
  readonly kernelTimesSolution: Float64Array
  /** Buffers of the dense Hessian product. */
  readonly xScaledF: Float64Array
  readonly xScaledG: Float64Array
  readonly productRow: Float64Array
  readonly productCol: Float64Array
  readonly denseAbove: number
  /** True once a sparsified plan was denser than `denseAbove`. */
  denseHessian: boolean
  /** CSR sparsified plan. */
  readonly rowStart: Int32Array
  columns: Int32Array
  values: Float64Array
  dual: number
  iteration: number
  error: number
  sinkhornIterations: number
  newtonSteps: number
  cgIterations: number
  densitySum: number
  newtonAttempts: number
  readonly marginalErrors: number[]
}

const NAME = "SinkhornNewtonSparse"

const l1Error = (x: Float64Array, target: Float64Array): number => {
  let s = 0
  for (let i = 0; i < x.length; i++) s += Math.abs(x[i]! - target[i]!)
  return s
}

/** ⟨f, a⟩ + ⟨g, b⟩ − ε·mass over points of positive mass. */
const dualValue = (d: Dense, f: Float64Array, g: Float64Array, mass: number, epsilon: number): number => {
  let s = 0
  for (let i = 0; i < d.n; i++) if (d.a[i]! > 0) s += f[i]! * d.a[i]!
  for (let j = 0; j < d.m; j++) if (d.b[j]! > 0) s += g[j]! * d.b[j]!
  return s - epsilon * mass
}

/**
 * Marginals r, c of P(f, g) into the given arrays; returns ΣP, or NaN when the
 * scalings leave the floating-point range (scaling mode).
 */
const marginals = (
  s: SinkhornNewtonSparseState,
  f: Float64Array,
  g: Float64Array,
  u: Float64Array,
  v: Float64Array,
  r: Float64Array,
  c: Float64Array
): number => {
  const { d, epsilon } = s
  const inv = 1 / epsilon
  if (s.K !== undefined) {
    for (let i = 0; i < d.n; i++) {
      const ui = d.a[i]! > 0 ? Math.exp(f[i]! * inv) : 0
      if (d.a[i]! > 0 && !(ui > TINY && ui < 1 / TINY)) return Number.NaN
      u[i] = ui
    }
    for (let j = 0; j < d.m; j++) {
      const vj = d.b[j]! > 0 ? Math.exp(g[j]! * inv) : 0
      if (d.b[j]! > 0 && !(vj > TINY && vj < 1 / TINY)) return Number.NaN
      v[j] = vj
    }
    // Kv and Kᵀu in one sweep over K.
    Blas2.gemvPair(s.K, v, s.rowWork, u, s.colWork)
    for (let i = 0; i < d.n; i++) r[i] = u[i]! * s.rowWork[i]!
    for (let j = 0; j < d.m; j++) c[j] = v[j]! * s.colWork[j]!
  } else {
    Reductions.logSumExpAffineRows(d.C, f, g, epsilon, s.rowWork)
    Reductions.logSumExpAffineCols(d.C, f, g, epsilon, s.colWork)
    for (let i = 0; i < d.n; i++) r[i] = Math.exp(s.rowWork[i]!)
    for (let j = 0; j < d.m; j++) c[j] = Math.exp(s.colWork[j]!)
  }
  let mass = 0
  for (let i = 0; i < d.n; i++) mass += r[i]!
  return Number.isFinite(mass) ? mass : Number.NaN
}

/** Rows sampled to estimate the density of the sparsified plan before building it. */
const DENSITY_SAMPLE_ROWS = 64

/**
 * The fraction of entries the sparsification would keep, estimated on evenly
 * spaced rows (scaling mode), so a plan too dense to pay is never built.
 */
const sampledDensity = (s: SinkhornNewtonSparseState): number => {
  const { n, m, a } = s.d
  const K = s.K!.data
  const row = s.colWork
  const { u, v } = s
  const stride = Math.max(1, Math.floor(n / DENSITY_SAMPLE_ROWS))
  let kept = 0
  let seen = 0
  for (let i = 0; i < n; i += stride) {
    if (!(a[i]! > 0)) continue
    const o = i * m
    let max = 0
    for (let j = 0; j < m; j++) {
      const p = u[i]! * K[o + j]! * v[j]!
      row[j] = p
      if (p > max) max = p
    }
    const cut = s.threshold * max
    for (let j = 0; j < m; j++) if (row[j]! >= cut && row[j]! > 0) kept++
    seen += m
  }
  return seen === 0 ? 0 : kept / seen
}

/** Grows the CSR arrays to hold at least `needed` entries (keeping the first `keep`). */
const reserve = (s: SinkhornNewtonSparseState, needed: number, keep: number): void => {
  if (needed <= s.columns.length) return
  const capacity = Math.max(needed, 2 * s.columns.length)
  const columns = new Int32Array(capacity)
  columns.set(s.columns.subarray(0, keep))
  const values = Vector.zeros(capacity)
  values.set(s.values.subarray(0, keep))
  s.columns = columns
  s.values = values
}

/**
 * Builds the CSR sparsified plan at the current (f, g): in each row, the
 * entries ≥ threshold · (row max). Returns the number of kept entries.
 */
const sparsify = (s: SinkhornNewtonSparseState): number => {
  const { d, epsilon, threshold, rowStart } = s
  const { n, m } = d
  const row = s.colWork
  const K = s.K
  const kd = K === undefined ? d.C.data : K.data
  const u = s.u
  const v = s.v
  const f = s.f
  const g = s.g
  const a = d.a
  let nnz = 0
  rowStart[0] = 0
  for (let i = 0; i < n; i++) {
    const o = i * m
    let max = 0
    if (a[i]! > 0) {
      if (K !== undefined) {
        const ui = u[i]!
        for (let j = 0; j < m; j++) {
          const p = ui * kd[o + j]! * v[j]!
          row[j] = p
          if (p > max) max = p
        }
      } else {
        const fi = f[i]!
        const inv = 1 / epsilon
        for (let j = 0; j < m; j++) row[j] = (fi + g[j]! - kd[o + j]!) * inv
        Elementwise.exp(row, row)
        for (let j = 0; j < m; j++) if (row[j]! > max) max = row[j]!
      }
    }
    if (max > 0) {
      reserve(s, nnz + m, nnz)
      const cut = threshold * max
      const cols = s.columns
      const vals = s.values
      for (let j = 0; j < m; j++) {
        const p = row[j]!
        if (p >= cut && p > 0) {
          cols[nnz] = j
          vals[nnz] = p
          nnz++
        }
      }
    }
    rowStart[i + 1] = nnz
  }
  return nnz
}

/** A row block of the kernel with views of two length-n buffers over its rows. */
interface KernelBlock {
  readonly K: Matrix.Matrix
  /** K_B·w (kept for the back substitution). */
  readonly product: Float64Array
  /** The scaled product fed to K_Bᵀ. */
  readonly t: Float64Array
  readonly start: number
}

/** Row blocks of K (≈ 256 KiB each) with views of two length-n buffers. */
const kernelBlocks = (K: Matrix.Matrix, product: Float64Array, buffer: Float64Array): KernelBlock[] => {
  const rows = Math.max(4, Math.min(64, Math.floor(32768 / Math.max(1, K.cols))))
  const blocks: KernelBlock[] = []
  for (let start = 0; start < K.rows; start += rows) {
    const end = Math.min(K.rows, start + rows)
    blocks.push({
      K: Matrix.rowRange(K, start, end),
      product: product.subarray(start, end),
      t: buffer.subarray(start, end),
      start
    })
  }
  return blocks
}

/** Takes the engine's potentials into the Newton phase. */
const enterNewton = (s: SinkhornNewtonSparseState): void => {
  s.phase = "newton"
  const e = s.engine
  if (e.domain === "scaling") {
    s.K = e.K
    s.blocks = kernelBlocks(e.K!, s.kernelTimesDirection, s.rowWork)
  }
  potentialsInto(e, s.f, s.g)
  let mass = marginals(s, s.f, s.g, s.u, s.v, s.r, s.c)
  if (Number.isNaN(mass) && s.K !== undefined) {
    s.K = undefined
    mass = marginals(s, s.f, s.g, s.u, s.v, s.r, s.c)
  }
  s.dual = dualValue(s.d, s.f, s.g, mass, s.epsilon)
  s.error = l1Error(s.r, s.d.a) + l1Error(s.c, s.d.b)
}

/** A Sinkhorn iteration on (f, g) in the Newton phase (after a failed line search). */
const sinkhornFallback = (s: SinkhornNewtonSparseState): void => {
  const { d, epsilon, f, g } = s
  // Row update: f_i += ε log(a_i / r_i); then the column update from the new rows.
  for (let i = 0; i < d.n; i++) if (d.a[i]! > 0) f[i] = f[i]! + epsilon * Math.log(d.a[i]! / s.r[i]!)
  Reductions.logSumExpAffineCols(d.C, f, s.engine.zerosM, epsilon, s.colWork)
  for (let j = 0; j < d.m; j++) g[j] = d.b[j]! > 0 ? epsilon * (d.logB[j]! - s.colWork[j]!) : g[j]!
  let mass = marginals(s, f, g, s.u, s.v, s.r, s.c)
  if (Number.isNaN(mass)) {
    s.K = undefined
    mass = marginals(s, f, g, s.u, s.v, s.r, s.c)
  }
  s.dual = dualValue(d, f, g, mass, epsilon)
  s.error = l1Error(s.r, d.a) + l1Error(s.c, d.b)
  s.sinkhornIterations++
}

/**
 * out ← S·x for the Schur complement S = diag(c) − Pᵀ·diag(r)⁻¹·P of the
 * Newton matrix [[diag(r), P], [Pᵀ, diag(c)]] (CG on S needs about half the
 * iterations of CG on the 2×2 block system, whose Jacobi-scaled spectrum
 * comes in pairs 1 ± σ). Sparse: one pass over the CSR rows. Dense (exact
 * P = diag(u)·K·diag(v)): one sweep over K in row blocks, K_B·(v∘x) and then
 * K_Bᵀ·z_B from the same block while it is in cache (core's SIMD gemv, gemvT);
 * K·(v∘x) is kept in `kernelTimesDirection` for `accumulateBackSubstitution`.
 */
const schurApply = (s: SinkhornNewtonSparseState, x: Float64Array, out: Float64Array): void => {
  const { n, m } = s.d
  const { r, c } = s
  if (s.denseHessian) {
    const { u, v, xScaledG: w, productCol: acc, blocks } = s
    for (let j = 0; j < m; j++) w[j] = v[j]! * x[j]!
    acc.fill(0)
    for (let k = 0; k < blocks.length; k++) {
      const blk = blocks[k]!
      Blas2.gemv(1, blk.K, w, 0, blk.product)
      const { t, product } = blk
      const o = blk.start
      for (let i = 0; i < t.length; i++) {
        const ri = r[o + i]!
        const ui = u[o + i]!
        t[i] = ri > 0 ? (ui * ui * product[i]!) / ri : 0
      }
      Blas2.gemvT(1, blk.K, t, 1, acc)
    }
    for (let j = 0; j < m; j++) out[j] = c[j]! * x[j]! - v[j]! * acc[j]!
    return
  }
  const { rowStart, columns, values } = s
  for (let j = 0; j < m; j++) out[j] = c[j]! * x[j]!
  let k = 0
  for (let i = 0; i < n; i++) {
    const end = rowStart[i + 1]!
    const start = k
    let t = 0
    for (; k < end; k++) t += values[k]! * x[columns[k]!]!
    const ri = r[i]!
    if (!(ri > 0)) continue
    t /= ri
    for (let q = start; q < end; q++) out[columns[q]!] = out[columns[q]!]! - values[q]! * t
  }
}

/** out ← P·x (n from m), with the sparsified or the exact P as in `schurApply`. */
const planApply = (s: SinkhornNewtonSparseState, x: Float64Array, out: Float64Array): void => {
  const { n, m } = s.d
  if (s.denseHessian) {
    const { u, v, xScaledG: w } = s
    for (let j = 0; j < m; j++) w[j] = v[j]! * x[j]!
    Blas2.gemv(1, s.K!, w, 0, out)
    for (let i = 0; i < n; i++) out[i] = u[i]! * out[i]!
    return
  }
  const { rowStart, columns, values } = s
  let k = 0
  for (let i = 0; i < n; i++) {
    const end = rowStart[i + 1]!
    let t = 0
    for (; k < end; k++) t += values[k]! * x[columns[k]!]!
    out[i] = t
  }
}

/** out ← Pᵀ·y (m from n). */
const planTransposeApply = (s: SinkhornNewtonSparseState, y: Float64Array, out: Float64Array): void => {
  const { n, m } = s.d
  if (s.denseHessian) {
    const { u, v, xScaledF: w } = s
    for (let i = 0; i < n; i++) w[i] = u[i]! * y[i]!
    Blas2.gemvT(1, s.K!, w, 0, out)
    for (let j = 0; j < m; j++) out[j] = v[j]! * out[j]!
    return
  }
  const { rowStart, columns, values } = s
  out.fill(0)
  let k = 0
  for (let i = 0; i < n; i++) {
    const end = rowStart[i + 1]!
    const yi = y[i]!
    for (; k < end; k++) out[columns[k]!] = out[columns[k]!]! + values[k]! * yi
  }
}

/**
 * After a CG step x ← x + α·p (dense path): kernelTimesSolution += α·K·(v∘p),
 * so P·Δg = u∘kernelTimesSolution is ready when CG stops and the back
 * substitution needs no further sweep over the kernel.
 */
const accumulateBackSubstitution = (s: SinkhornNewtonSparseState, alpha: number): void => {
  if (s.denseHessian) Blas1.axpy(alpha, s.kernelTimesDirection, s.kernelTimesSolution)
}

/**
 * The inexact-Newton forcing term η (Dembo, Eisenstat & Steihaug, "Inexact
 * Newton methods", SIAM J. Numer. Anal. 19, 1982): with η ∝ e (the marginal
 * error, i.e. ‖∇D‖₁) the Newton steps keep their quadratic convergence while
 * early, far-from-optimal steps get cheap, loose solves; η is capped by
 * `cgTolerance` and floored at 3·tolerance/e, the accuracy the final step
 * needs to land below `tolerance` (the L1 error after a step is well below
 * η·e in practice), so CG never over-solves the last system. With a
 * sparsified Hessian the direction is approximate whatever CG does, so η
 * stays at `cgTolerance` there.
 */
const forcingTerm = (s: SinkhornNewtonSparseState): number => {
  if (!s.denseHessian) return s.cgTolerance
  const e = s.error
  return Math.min(s.cgTolerance, Math.max(e, (3 * s.tolerance) / e))
}

/**
 * One Newton step: the direction solves [[diag(r), P_s], [P_sᵀ, diag(c)]]·Δ =
 * ε·(a − r, b − c) (the Newton system of D scaled by −ε), by CG on the Schur
 * complement in Δg and back substitution Δf = (ε(a − r) − P_s·Δg) ⊘ r; then
 * an Armijo backtracking line search on D.
 */
const newtonStep = (s: SinkhornNewtonSparseState): void => {
  const { d, epsilon, rhs, delta, rhoF, rhoG, deltaF, deltaG } = s
  const { n, m } = d
  for (let i = 0; i < n; i++) rhoF[i] = epsilon * (d.a[i]! - s.r[i]!)
  for (let j = 0; j < m; j++) {
    rhoG[j] = epsilon * (d.b[j]! - s.c[j]!)
    s.inverseDiagonal[j] = s.c[j]! > 0 ? 1 / s.c[j]! : 1
  }
  if (s.K === undefined) s.denseHessian = false
  else if (s.newtonAttempts === 0 && sampledDensity(s) > s.denseAbove) s.denseHessian = true
  if (!s.denseHessian) {
    const density = sparsify(s) / (n * m)
    s.densitySum += density
    // Sparse products in TypeScript cost several times a SIMD kernel sweep per
    // entry: above `denseAbove` the exact Hessian is cheaper, from now on.
    if (density > s.denseAbove && s.K !== undefined) s.denseHessian = true
  } else s.densitySum += 1
  s.newtonAttempts++
  // Schur right-hand side ρ_g − Pᵀ(ρ_f ⊘ r).
  const scaled = s.rowWork
  for (let i = 0; i < n; i++) scaled[i] = s.r[i]! > 0 ? rhoF[i]! / s.r[i]! : 0
  planTransposeApply(s, scaled, s.schurRhs)
  for (let j = 0; j < m; j++) s.schurRhs[j] = rhoG[j]! - s.schurRhs[j]!
  s.kernelTimesSolution.fill(0)
  s.cgIterations += pcg(
    s.schur,
    s.inverseDiagonal,
    s.schurRhs,
    deltaG,
    forcingTerm(s),
    s.maxCg,
    s.cg,
    s.onCgStep
  )
  if (s.denseHessian) {
    const { u, kernelTimesSolution: z } = s
    for (let i = 0; i < n; i++) deltaF[i] = u[i]! * z[i]!
  } else planApply(s, deltaG, deltaF)
  for (let i = 0; i < n; i++) deltaF[i] = s.r[i]! > 0 ? (rhoF[i]! - deltaF[i]!) / s.r[i]! : 0
  // Directional derivative ⟨∇D, Δ⟩ = ⟨ρ, Δ⟩/ε > 0 for an ascent direction.
  const slope = Blas1.dot(rhs, delta) / epsilon
  if (!(slope > 0)) {
    sinkhornFallback(s)
    return
  }
  let alpha = 1
  for (let trial = 0; trial < s.maxTrials; trial++) {
    for (let i = 0; i < n; i++) s.fTrial[i] = s.f[i]! + alpha * deltaF[i]!
    for (let j = 0; j < m; j++) s.gTrial[j] = s.g[j]! + alpha * deltaG[j]!
    const mass = marginals(s, s.fTrial, s.gTrial, s.uTrial, s.vTrial, s.rTrial, s.cTrial)
    if (!Number.isNaN(mass)) {
      const value = dualValue(d, s.fTrial, s.gTrial, mass, epsilon)
      // Armijo on D; near the optimum D's increase drops below its rounding
      // (|D|·1e-16), so a full step that shrinks the gradient (the marginal
      // error) is accepted too.
      const trialError = l1Error(s.rTrial, d.a) + l1Error(s.cTrial, d.b)
      if (value >= s.dual + s.c1 * alpha * slope || (alpha === 1 && trialError < 0.5 * s.error)) {
        s.f.set(s.fTrial)
        s.g.set(s.gTrial)
        s.u.set(s.uTrial)
        s.v.set(s.vTrial)
        s.r.set(s.rTrial)
        s.c.set(s.cTrial)
        s.dual = value
        s.error = trialError
        s.newtonSteps++
        return
      }
    }
    alpha *= 0.5
  }
  sinkhornFallback(s)
}

/**
 * Sinkhorn–Newton–Sparse as a `Solver.IterativeSolver`.
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<
  LinearProblem,
  SinkhornNewtonSparseOptions,
  SinkhornNewtonSparseState,
  SnsOutput
> = {
  name: NAME,
  init: (problem, options) => {
    const defaults = defaultSinkhornNewtonSparseOptions
    const common = readCommon(NAME, options, defaults)
    const warmup = count(NAME, "warmupIterations", options.warmupIterations ?? defaults.warmupIterations, 0)
    const threshold = nonNegative(
      NAME,
      "sparsityThreshold",
      options.sparsityThreshold ?? defaults.sparsityThreshold
    )
    if (!(threshold < 1)) throw invalid(NAME, "sparsityThreshold", threshold, "a number in [0, 1)")
    const denseAbove = nonNegative(NAME, "denseAbove", options.denseAbove ?? defaults.denseAbove)
    const cgTolerance = fraction(NAME, "cgTolerance", options.cgTolerance ?? defaults.cgTolerance)
    const maxCg = count(NAME, "maxCgIterations", options.maxCgIterations ?? defaults.maxCgIterations, 1)
    const c1 = fraction(NAME, "sufficientIncrease", options.sufficientIncrease ?? defaults.sufficientIncrease)
    const maxTrials = count(
      NAME,
      "maxLineSearchTrials",
      options.maxLineSearchTrials ?? defaults.maxLineSearchTrials,
      1
    )
    const d = dense(NAME, problem)
    const { n, m } = d
    const engine = makeEngine(d, common.epsilon, true)
    const rhs = Vector.zeros(n + m)
    const delta = Vector.zeros(n + m)
    const state: SinkhornNewtonSparseState = {
      problem,
      d,
      epsilon: common.epsilon,
      tolerance: common.tolerance,
      checkEvery: common.checkEvery,
      warmup,
      threshold,
      cgTolerance,
      maxCg,
      c1,
      maxTrials,
      engine,
      phase: "warmup",
      K: undefined,
      f: Vector.zeros(n),
      g: Vector.zeros(m),
      u: Vector.zeros(n),
      v: Vector.zeros(m),
      r: Vector.zeros(n),
      c: Vector.zeros(m),
      fTrial: Vector.zeros(n),
      gTrial: Vector.zeros(m),
      uTrial: Vector.zeros(n),
      vTrial: Vector.zeros(m),
      rTrial: Vector.zeros(n),
      cTrial: Vector.zeros(m),
      rowWork: Vector.zeros(n),
      colWork: Vector.zeros(m),
      rhs,
      delta,
      schurRhs: Vector.zeros(m),
      inverseDiagonal: Vector.zeros(m),
      rhoF: rhs.subarray(0, n),
      rhoG: rhs.subarray(n, n + m),
      deltaF: delta.subarray(0, n),
      deltaG: delta.subarray(n, n + m),
      blocks: [],
      cg: cgWorkspace(m),
      schur: (x, out) => schurApply(state, x, out),
      onCgStep: (alpha) => accumulateBackSubstitution(state, alpha),
      kernelTimesDirection: Vector.zeros(n),
      kernelTimesSolution: Vector.zeros(n),
      xScaledF: Vector.zeros(n),
      xScaledG: Vector.zeros(m),
      productRow: Vector.zeros(n),
      productCol: Vector.zeros(m),
      denseAbove,
      denseHessian: false,
      rowStart: new Int32Array(n + 1),
      columns: new Int32Array(Math.min(n * m, 16 * (n + m))),
      values: Vector.zeros(Math.min(n * m, 16 * (n + m))),
      dual: Number.NEGATIVE_INFINITY,
      iteration: 0,
      error: problem.massA + problem.massB,
      sinkhornIterations: 0,
      newtonSteps: 0,
      cgIterations: 0,
      densitySum: 0,
      newtonAttempts: 0,
      marginalErrors: []
    }
    if (warmup === 0) enterNewton(state)
    return state
  },
  step: (s) => {
    if (s.phase === "warmup") {
      iterate(s.engine, true)
      s.sinkhornIterations++
      s.error = s.engine.rowError + s.engine.colError
      if (s.sinkhornIterations >= s.warmup && s.error > s.tolerance) enterNewton(s)
    } else newtonStep(s)
    s.iteration++
    if (s.iteration % s.checkEvery === 0) s.marginalErrors.push(s.error)
    return s
  },
  status: (s) => (s.error <= s.tolerance ? "converged" : undefined),
  residual: (s) => s.error,
  metrics: (s) => ({ marginalError: s.error, dual: s.dual, newtonSteps: s.newtonSteps }),
  output: (s) => {
    const C = s.d.C
    if (s.phase === "warmup") {
      potentialsInto(s.engine, s.f, s.g)
      if (s.engine.domain === "scaling") s.K = s.engine.K
      if (Number.isNaN(marginals(s, s.f, s.g, s.u, s.v, s.r, s.c))) {
        s.K = undefined
        marginals(s, s.f, s.g, s.u, s.v, s.r, s.c)
      }
    }
    return {
      ...entropicOutput(
        s.problem,
        s.K !== undefined ? scalingCost(C, s.K, s.u, s.v) : transportCost(C, s.f, s.g, s.epsilon),
        s.f,
        s.g,
        s.r,
        s.c,
        s.epsilon,
        s.marginalErrors,
        s.error,
        undefined
      ),
      sinkhornIterations: s.sinkhornIterations,
      newtonSteps: s.newtonSteps,
      cgIterations: s.cgIterations,
      meanDensity: s.newtonAttempts > 0 ? s.densitySum / s.newtonAttempts : 0
    }
  }
}

/**
 * Solves the entropic problem by Sinkhorn–Newton–Sparse.
 *
 * @example
 * const result = SinkhornNewtonSparse.solve(problem, { epsilon: 0.01, tolerance: 1e-9 })
 * console.log(result.iterations, result.newtonSteps, result.cgIterations)
 * @throws InvalidOptions when an option is out of range (e.g. ε ≤ 0) or a point of positive mass has no allowed pair.
 * @category solvers
 * @since 0.1.0
 */
export const solve = (
  problem: LinearProblem,
  options: SinkhornNewtonSparseOptions = {}
): SinkhornNewtonSparseResult =>
  runToResult(solver, problem, options, {
    maxIterations: options.maxIterations ?? defaultSinkhornNewtonSparseOptions.maxIterations,
    checkEvery: options.checkEvery ?? defaultSinkhornNewtonSparseOptions.checkEvery
  })
