/**
 * The machinery shared by the entropic solvers (Sinkhorn in both domains,
 * Anderson-accelerated Sinkhorn, Sinkhorn–Newton–Sparse's warm-up): option
 * validation, the dense cost, the kernel, one Sinkhorn iteration in the
 * scaling or the log domain with the switch between them, and the result
 * fields every entropic solver reports.
 *
 * Conventions (Peyré & Cuturi, "Computational Optimal Transport", 2019, §4):
 * potentials f, g are in cost units, the plan is
 * P_ij = exp((f_i + g_j − C_ij)/ε) = u_i K_ij v_j with u = exp(f/ε),
 * v = exp(g/ε), K = exp(−C/ε), and the regularized cost is
 * ⟨C, P⟩ − ε·H(P), H(P) = −Σ P_ij (log P_ij − 1).
 */
import { Blas1, Blas2, Elementwise, Errors, Matrix, Solver, Vector } from "@descent/core"
import * as Geometry from "../Geometry.ts"
import type { LinearProblem } from "../LinearProblem.ts"
import type { TransportResult } from "../TransportResult.ts"
import {
  type CostSource,
  lseCols,
  lseRows,
  matrixSource,
  onlineSource,
  planRows,
  transportCost as sourceCost
} from "./costSource.ts"

// ── validation ──────────────────────────────────────────────────────────────

export const invalid = (operation: string, field: string, value: unknown, requirement: string) =>
  new Errors.InvalidOptions({ operation, field, value, requirement })

export const positiveFinite = (operation: string, field: string, value: unknown): number => {
  if (typeof value !== "number" || !(value > 0) || value === Number.POSITIVE_INFINITY)
    throw invalid(operation, field, value, "a finite number > 0")
  return value
}

export const nonNegative = (operation: string, field: string, value: number): number => {
  if (typeof value !== "number" || !(value >= 0)) throw invalid(operation, field, value, "a number ≥ 0")
  return value
}

export const count = (operation: string, field: string, value: number, min: number): number => {
  if (!Number.isInteger(value) || value < min) throw invalid(operation, field, value, `an integer ≥ ${min}`)
  return value
}

export const fraction = (operation: string, field: string, value: number): number => {
  if (typeof value !== "number" || !(value > 0 && value < 1))
    throw invalid(operation, field, value, "a number in (0, 1)")
  return value
}

/** Options every entropic solver takes. */
export interface CommonOptions {
  /** ε > 0, the entropic regularization, in the geometry's (normalized) cost units. */
  readonly epsilon?: number
  /** Stop when ‖P·1 − a‖₁ + ‖Pᵀ·1 − b‖₁ ≤ tolerance. */
  readonly tolerance?: number
  /** Iteration budget. */
  readonly maxIterations?: number
  /** Check the marginal error (and record it in `marginalErrors`) every this many iterations. */
  readonly checkEvery?: number
}

export interface Common {
  readonly epsilon: number
  readonly tolerance: number
  readonly maxIterations: number
  readonly checkEvery: number
}

export const readCommon = (
  operation: string,
  options: CommonOptions,
  defaults: { epsilon: number; tolerance: number; maxIterations: number; checkEvery: number }
): Common => ({
  epsilon: positiveFinite(operation, "epsilon", options.epsilon ?? defaults.epsilon),
  tolerance: nonNegative(operation, "tolerance", options.tolerance ?? defaults.tolerance),
  maxIterations: count(operation, "maxIterations", options.maxIterations ?? defaults.maxIterations, 0),
  checkEvery: count(operation, "checkEvery", options.checkEvery ?? defaults.checkEvery, 1)
})

/** Checks optional warm-start potentials (length, no NaN, no +∞). */
export const readPotential = (
  operation: string,
  field: string,
  x: ArrayLike<number> | undefined,
  length: number
): Float64Array | undefined => {
  if (x === undefined) return undefined
  if (x.length !== length)
    throw new Errors.DimensionMismatch({ operation, what: field, expected: [length], actual: [x.length] })
  for (let i = 0; i < length; i++) {
    const value = x[i]!
    if (Number.isNaN(value) || value === Number.POSITIVE_INFINITY)
      throw new Errors.NonFiniteInput({ operation, what: field, index: i, value })
  }
  return Vector.fromArray(x)
}

// ── the problem as the solvers see it ───────────────────────────────────────

/** Exponents |C_ij/ε| up to this keep exp(−C_ij/ε) a normal double (e^±700 ≈ 10^±304). */
export const SAFE_EXPONENT = 700

/** Row or column products below this (or non-finite) mean the scaling form has left the safe range. */
export const TINY = 1e-280

/** The problem as the Sinkhorn engine sees it: weights, their logs and where the costs come from. */
export interface EngineInput {
  readonly n: number
  readonly m: number
  /** The materialized cost; undefined for an online geometry (log domain only). */
  readonly C: Matrix.Matrix | undefined
  readonly source: CostSource
  readonly a: Float64Array
  readonly b: Float64Array
  readonly logA: Float64Array
  readonly logB: Float64Array
  /** Largest |C_ij| over finite entries (+∞ when unknown: the scaling form is then not tried). */
  readonly maxAbsCost: number
}

/** A problem with its cost materialized. */
export interface Dense extends EngineInput {
  readonly C: Matrix.Matrix
}

/**
 * Largest finite |C_ij| and whether some C_ij = +∞, cached per cost array
 * (geometries do not change their costs), so solvers run one after another
 * on one geometry, as ε-paths and benchmarks do, scan it once.
 */
const rangeCache = new WeakMap<Float64Array, { maxAbsCost: number; forbidden: boolean }>()
const costRange = (c: Float64Array): { maxAbsCost: number; forbidden: boolean } => {
  const cached = rangeCache.get(c)
  if (cached !== undefined) return cached
  let maxAbsCost = 0
  let forbidden = false
  for (let k = 0; k < c.length; k++) {
    const cij = c[k]!
    if (cij === Number.POSITIVE_INFINITY) forbidden = true
    else {
      const abs = cij < 0 ? -cij : cij
      if (abs > maxAbsCost) maxAbsCost = abs
    }
  }
  const range = { maxAbsCost, forbidden }
  rangeCache.set(c, range)
  return range
}

const logsOf = (x: Float64Array): Float64Array => {
  const out = Vector.zeros(x.length)
  for (let i = 0; i < x.length; i++) out[i] = Math.log(x[i]!)
  return out
}

/**
 * The dense cost and logs of the weights; checks that every point with
 * positive mass has an allowed pair (finite cost) with a point of positive
 * mass on the other side, without which no plan exists.
 */
export const dense = (operation: string, problem: LinearProblem): Dense => {
  const C = Geometry.materialize(problem.geometry)
  const { rows: n, cols: m, data: c } = C
  const { a, b } = problem
  const { maxAbsCost, forbidden } = costRange(c)
  let zeroMass = false
  for (let i = 0; i < n; i++) if (!(a[i]! > 0)) zeroMass = true
  for (let j = 0; j < m; j++) if (!(b[j]! > 0)) zeroMass = true
  if (forbidden || zeroMass) checkAllowedPairs(operation, C, a, b)
  return { n, m, C, source: matrixSource(C), a, b, logA: logsOf(a), logB: logsOf(b), maxAbsCost }
}

/**
 * `dense`, except for an online point cloud (`Geometry.pointCloud` with
 * `online`): its costs stay unmaterialized and are recomputed in row blocks
 * by the log-domain updates. Point-cloud costs are finite, so every pair is
 * allowed and no support check is needed.
 */
export const engineInput = (operation: string, problem: LinearProblem): EngineInput => {
  const geometry = problem.geometry
  if (geometry._tag !== "PointCloudGeometry" || !geometry.online) return dense(operation, problem)
  const { a, b } = problem
  return {
    n: geometry.rows,
    m: geometry.cols,
    C: undefined,
    source: onlineSource(geometry),
    a,
    b,
    logA: logsOf(a),
    logB: logsOf(b),
    maxAbsCost: Number.POSITIVE_INFINITY
  }
}

/**
 * Throws `InvalidOptions` (field "geometry") unless every point of positive
 * mass has a finite cost to some point of positive mass on the other side:
 * otherwise its potential is infinite and no (balanced) plan exists.
 */
export const checkAllowedPairs = (
  operation: string,
  C: Matrix.Matrix,
  a: Float64Array,
  b: Float64Array
): void => {
  const { rows: n, cols: m, data: c } = C
  const colOk = new Uint8Array(m)
  for (let i = 0; i < n; i++) {
    let rowOk = false
    const o = i * m
    for (let j = 0; j < m; j++) {
      if (c[o + j] === Number.POSITIVE_INFINITY) continue
      if (b[j]! > 0) rowOk = true
      if (a[i]! > 0) colOk[j] = 1
    }
    if (a[i]! > 0 && !rowOk)
      throw invalid(
        operation,
        "geometry",
        `row ${i}`,
        "every source point with positive mass has a finite cost to some target point with positive mass"
      )
  }
  for (let j = 0; j < m; j++) {
    if (b[j]! > 0 && colOk[j] === 0)
      throw invalid(
        operation,
        "geometry",
        `column ${j}`,
        "every target point with positive mass has a finite cost to some source point with positive mass"
      )
  }
}

/** True when exp(−C/ε) is a normal double for every finite cost (never for an online cost). */
export const kernelIsSafe = (d: EngineInput, epsilon: number): boolean =>
  d.C !== undefined && d.maxAbsCost / epsilon <= SAFE_EXPONENT

/** K ← exp(−C/ε) (a +∞ cost gives 0); once per ε, not per iteration. */
export const kernelInto = (C: Matrix.Matrix, epsilon: number, K: Matrix.Matrix): void => {
  Blas1.copy(C.data, K.data)
  Blas1.scal(-1 / epsilon, K.data)
  Elementwise.exp(K.data, K.data)
}

// ── one Sinkhorn iteration, scaling or log domain ───────────────────────────

/** Row blocks of the fused scaling sweep (each block stays in cache between its two products). */
interface Block {
  readonly K: Matrix.Matrix
  readonly kv: Float64Array
  readonly u: Float64Array
  readonly a: Float64Array
}

/**
 * The state of a Sinkhorn iteration in either domain. In the scaling domain
 * `u`, `v`, `K` are authoritative and `ktu` = Kᵀu is cached for the next
 * column update; in the log domain `f`, `g` are, and `colLse` =
 * LSE_i((f_i − C_ij)/ε) is cached. After `iterate` the row marginals are
 * exact (up to rounding) and both marginal errors of the current pair are
 * known without extra work.
 */
export interface Engine {
  readonly d: EngineInput
  readonly epsilon: number
  domain: "scaling" | "log"
  /** Iteration at which the scaling form hit underflow and the log domain took over. */
  switchedAt: number | undefined
  readonly f: Float64Array
  readonly g: Float64Array
  readonly zerosN: Float64Array
  readonly zerosM: Float64Array
  readonly rowLse: Float64Array
  readonly colLse: Float64Array
  K: Matrix.Matrix | undefined
  readonly u: Float64Array
  readonly v: Float64Array
  readonly kv: Float64Array
  readonly ktu: Float64Array
  readonly vBackup: Float64Array
  readonly blocks: ReadonlyArray<Block>
  rowError: number
  colError: number
  iterations: number
}

const makeBlocks = (K: Matrix.Matrix, kv: Float64Array, u: Float64Array, a: Float64Array): Block[] => {
  const { rows: n, cols: m } = K
  // ≈ 256 KiB of K per block: the block is still in L2 when gemvT reads it again.
  const rows = Math.max(4, Math.min(64, Math.floor(32768 / Math.max(1, m))))
  const blocks: Block[] = []
  for (let s = 0; s < n; s += rows) {
    const e = Math.min(n, s + rows)
    blocks.push({
      K: Matrix.rowRange(K, s, e),
      kv: kv.subarray(s, e),
      u: u.subarray(s, e),
      a: a.subarray(s, e)
    })
  }
  return blocks
}

/**
 * A Sinkhorn engine from potentials f0, g0 (default 0) in the scaling domain
 * when `preferScaling` and the kernel is safe, else in the log domain. `K`,
 * if given, must hold exp(−C/ε) already (reused across solvers).
 */
export const makeEngine = (
  d: EngineInput,
  epsilon: number,
  preferScaling: boolean,
  f0?: Float64Array,
  K?: Matrix.Matrix
): Engine => {
  const { n, m } = d
  const scaling = preferScaling && kernelIsSafe(d, epsilon)
  let kernel: Matrix.Matrix | undefined
  if (scaling) {
    kernel = K ?? Matrix.zeros(n, m)
    if (K === undefined) kernelInto(d.C!, epsilon, kernel)
  }
  const u = Vector.zeros(n)
  const kv = Vector.zeros(n)
  const e: Engine = {
    d,
    epsilon,
    domain: scaling ? "scaling" : "log",
    switchedAt: undefined,
    f: Vector.zeros(n),
    g: Vector.zeros(m),
    zerosN: Vector.zeros(n),
    zerosM: Vector.zeros(m),
    rowLse: Vector.zeros(n),
    colLse: Vector.zeros(m),
    K: kernel,
    u,
    v: Vector.zeros(m),
    kv,
    ktu: Vector.zeros(m),
    vBackup: Vector.zeros(m),
    blocks: kernel === undefined ? [] : makeBlocks(kernel, kv, u, d.a),
    rowError: Number.POSITIVE_INFINITY,
    colError: Number.POSITIVE_INFINITY,
    iterations: 0
  }
  if (f0 !== undefined) e.f.set(f0)
  for (let i = 0; i < n; i++) if (!(d.a[i]! > 0)) e.f[i] = Number.NEGATIVE_INFINITY
  if (scaling && !setScalingFromF(e)) toLog(e)
  if (e.domain === "log") lseCols(d.source, e.f, e.zerosM, epsilon, e.colLse)
  return e
}

/** u ← exp(f/ε), ktu ← Kᵀu; false when u or Kᵀu leaves the safe range. */
const setScalingFromF = (e: Engine): boolean => {
  const { f, u, ktu } = e
  const inv = 1 / e.epsilon
  const a = e.d.a
  for (let i = 0; i < u.length; i++) {
    const ui = a[i]! > 0 ? Math.exp(f[i]! * inv) : 0
    if (a[i]! > 0 && !(ui > TINY && ui < 1 / TINY)) return false
    u[i] = ui
  }
  Blas2.gemvT(1, e.K!, u, 0, ktu)
  for (let j = 0; j < ktu.length; j++) if (!(ktu[j]! < Number.POSITIVE_INFINITY)) return false
  return true
}

/** Leaves the scaling domain for good (the kernel is dropped). */
const toLog = (e: Engine): void => {
  e.domain = "log"
  e.K = undefined
}

/**
 * Switches to the log domain from the column potential g (cost units):
 * f ← row update, then the cached column sums for the next iteration.
 */
const switchFromG = (e: Engine): void => {
  toLog(e)
  e.switchedAt = e.iterations
  logRowUpdate(e)
  lseCols(e.d.source, e.f, e.zerosM, e.epsilon, e.colLse)
}

const logRowUpdate = (e: Engine): void => {
  const { d, f, rowLse, epsilon } = e
  lseRows(d.source, e.zerosN, e.g, epsilon, rowLse)
  for (let i = 0; i < d.n; i++) f[i] = epsilon * (d.logA[i]! - rowLse[i]!)
}

/** Σ_j |exp(g_j/ε + colLse_j) − b_j| and Σ_i |exp(f_i/ε + rowLse_i) − a_i| (log-domain marginal errors). */
const logErrors = (e: Engine): void => {
  const { d, f, g, rowLse, colLse, epsilon } = e
  const inv = 1 / epsilon
  let rowError = 0
  for (let i = 0; i < d.n; i++)
    if (d.a[i]! > 0) rowError += Math.abs(Math.exp(f[i]! * inv + rowLse[i]!) - d.a[i]!)
  let colError = 0
  for (let j = 0; j < d.m; j++) {
    const cj = d.b[j]! > 0 ? Math.exp(g[j]! * inv + colLse[j]!) : 0
    colError += Math.abs(cj - d.b[j]!)
  }
  e.rowError = rowError
  e.colError = colError
}

const logIterate = (e: Engine): void => {
  const { d, g, colLse, epsilon } = e
  for (let j = 0; j < d.m; j++) g[j] = epsilon * (d.logB[j]! - colLse[j]!)
  logRowUpdate(e)
  lseCols(d.source, e.f, e.zerosM, epsilon, colLse)
}

/**
 * The scaling iteration: v ← b/Kᵀu, then one sweep over K in row blocks:
 * u_B ← a_B/(K_B v) and Kᵀu accumulated from the same block while it is in
 * cache. Returns OK, or where a product left the safe range: COLUMN_FAILED
 * (v is partly overwritten) or ROW_FAILED (v is valid).
 */
const OK = 0
const COLUMN_FAILED = 1
const ROW_FAILED = 2

const scalingIterate = (e: Engine): number => {
  const { d, v, ktu, u, kv, blocks } = e
  const { a, b } = d
  for (let j = 0; j < d.m; j++) {
    const bj = b[j]!
    if (bj > 0) {
      const t = ktu[j]!
      if (!(t > TINY && t < Number.POSITIVE_INFINITY)) return COLUMN_FAILED
      v[j] = bj / t
    } else v[j] = 0
  }
  ktu.fill(0)
  for (let k = 0; k < blocks.length; k++) {
    const blk = blocks[k]!
    Blas2.gemv(1, blk.K, v, 0, blk.kv)
    const bu = blk.u
    const bkv = blk.kv
    const ba = blk.a
    for (let i = 0; i < bu.length; i++) {
      const ai = ba[i]!
      if (ai > 0) {
        const t = bkv[i]!
        if (!(t > TINY && t < Number.POSITIVE_INFINITY)) return ROW_FAILED
        bu[i] = ai / t
      } else bu[i] = 0
    }
    Blas2.gemvT(1, blk.K, bu, 1, ktu)
  }
  let rowError = 0
  for (let i = 0; i < d.n; i++) rowError += Math.abs(u[i]! * kv[i]! - a[i]!)
  let colError = 0
  for (let j = 0; j < d.m; j++) {
    const t = ktu[j]!
    if (!(t < Number.POSITIVE_INFINITY)) return ROW_FAILED
    colError += Math.abs(v[j]! * t - b[j]!)
  }
  e.rowError = rowError
  e.colError = colError
  return OK
}

/** g ← ε log v (−∞ where v = 0). */
const gFromV = (e: Engine): void => {
  const { g, v, epsilon } = e
  for (let j = 0; j < g.length; j++) g[j] = epsilon * Math.log(v[j]!)
}

/**
 * One Sinkhorn iteration (column update, then row update). In the scaling
 * domain, underflow or overflow (a zero or non-finite product, a scaling out
 * of range) switches to the log domain from the last valid column scaling;
 * returns false when that happened and `fallback` is off (the caller then
 * stops, with the valid potentials of the switch).
 */
export const iterate = (e: Engine, fallback: boolean): boolean => {
  e.iterations++
  if (e.domain === "log") {
    logIterate(e)
    logErrors(e)
    return true
  }
  // The v of the previous iteration, in case the column step fails half way.
  e.vBackup.set(e.v)
  const outcome = scalingIterate(e)
  if (outcome === OK) return true
  if (outcome === COLUMN_FAILED) e.v.set(e.vBackup)
  // Restart from the last valid column scaling: its row update in the log
  // domain completes this iteration (or redoes the previous one's). Without
  // `fallback` the caller stops here, with valid potentials.
  gFromV(e)
  switchFromG(e)
  if (outcome === COLUMN_FAILED && fallback) logIterate(e)
  logErrors(e)
  return fallback
}

/**
 * Restarts the iteration from the source potential f (cost units): the next
 * `iterate` reads it. In the scaling domain, an f whose scalings leave the
 * safe range moves the engine to the log domain.
 */
export const setF = (e: Engine, f: Float64Array): void => {
  e.f.set(f)
  for (let i = 0; i < e.d.n; i++) if (!(e.d.a[i]! > 0)) e.f[i] = Number.NEGATIVE_INFINITY
  if (e.domain === "scaling" && !setScalingFromF(e)) {
    toLog(e)
    e.switchedAt = e.iterations
  }
  if (e.domain === "log") lseCols(e.d.source, e.f, e.zerosM, e.epsilon, e.colLse)
}

/** The potentials (f, g) in cost units into the given arrays. */
export const potentialsInto = (e: Engine, f: Float64Array, g: Float64Array): void => {
  if (e.domain === "log") {
    f.set(e.f)
    g.set(e.g)
    return
  }
  const eps = e.epsilon
  for (let i = 0; i < f.length; i++) f[i] = eps * Math.log(e.u[i]!)
  for (let j = 0; j < g.length; j++) g[j] = eps * Math.log(e.v[j]!)
}

/** The current row and column marginals of the engine's pair (f, g). */
export const marginalsInto = (e: Engine, r: Float64Array, c: Float64Array): void => {
  const { d } = e
  if (e.domain === "scaling") {
    for (let i = 0; i < d.n; i++) r[i] = e.u[i]! * e.kv[i]!
    for (let j = 0; j < d.m; j++) c[j] = e.v[j]! * e.ktu[j]!
    return
  }
  const inv = 1 / e.epsilon
  for (let i = 0; i < d.n; i++) r[i] = d.a[i]! > 0 ? Math.exp(e.f[i]! * inv + e.rowLse[i]!) : 0
  for (let j = 0; j < d.m; j++) c[j] = d.b[j]! > 0 ? Math.exp(e.g[j]! * inv + e.colLse[j]!) : 0
}

// ── results ─────────────────────────────────────────────────────────────────

/**
 * What every entropic solver adds to `TransportResult`.
 *
 * @category models
 * @since 0.1.0
 */
export interface EntropicFields {
  /** The ε the result was computed at. */
  readonly epsilon: number
  /**
   * The entropic objective ⟨C, P⟩ − ε·H(P) with H(P) = −Σ P_ij (log P_ij − 1)
   * (Peyré & Cuturi's convention; `cost` is ⟨C, P⟩ alone, what POT's
   * `sinkhorn2` returns). Equals ⟨f, P·1⟩ + ⟨g, Pᵀ·1⟩ − ε·Σ P_ij, and at
   * convergence the dual objective ⟨f, a⟩ + ⟨g, b⟩ − ε·Σ P_ij.
   */
  readonly regularizedCost: number
  /** The last marginal error ‖P·1 − a‖₁ + ‖Pᵀ·1 − b‖₁. */
  readonly marginalError: number
  /** Why the run ended early (`diverged`/`stalled`), when it did. */
  readonly message: string | undefined
}

/**
 * ⟨C, P⟩ for P_ij = exp((f_i + g_j − C_ij)/ε), skipping zero entries (so +∞
 * costs of forbidden pairs contribute 0); in blocks of rows with core's SIMD exp.
 */
export const transportCost = (C: Matrix.Matrix, f: Float64Array, g: Float64Array, epsilon: number): number =>
  sourceCost(matrixSource(C), f, g, epsilon)

/** ⟨C, P⟩ for P = diag(u)·K·diag(v): no exponentials (entries with K_ij = 0 skipped). */
export const scalingCost = (C: Matrix.Matrix, K: Matrix.Matrix, u: Float64Array, v: Float64Array): number => {
  const { rows: n, cols: m, data: c } = C
  const k = K.data
  let total = 0
  for (let i = 0; i < n; i++) {
    const ui = u[i]!
    if (ui === 0) continue
    const o = i * m
    let s = 0
    for (let j = 0; j < m; j++) {
      const kij = k[o + j]!
      if (kij > 0) s += kij * c[o + j]! * v[j]!
    }
    total += ui * s
  }
  return total
}

/** ⟨C, P⟩ at the engine's current pair. */
export const engineCost = (e: Engine, f: Float64Array, g: Float64Array): number =>
  e.domain === "scaling" ? scalingCost(e.d.C!, e.K!, e.u, e.v) : sourceCost(e.d.source, f, g, e.epsilon)

/** ⟨f, r⟩ + ⟨g, c⟩ − ε Σ c (terms of zero mass skipped): ⟨C, P⟩ − εH(P). */
export const regularizedCost = (
  f: Float64Array,
  g: Float64Array,
  r: Float64Array,
  c: Float64Array,
  epsilon: number
): number => {
  let s = 0
  let mass = 0
  for (let i = 0; i < f.length; i++) if (r[i]! > 0) s += f[i]! * r[i]!
  for (let j = 0; j < g.length; j++) {
    if (c[j]! > 0) {
      s += g[j]! * c[j]!
      mass += c[j]!
    }
  }
  return s - epsilon * mass
}

/**
 * The plan P_ij = exp((f_i + g_j − C_ij)/ε), computed from the geometry's cost
 * rows (point clouds are not kept materialized) with core's SIMD exp.
 */
export const planFrom =
  (geometry: Geometry.Geometry, f: Float64Array, g: Float64Array, epsilon: number) => (): Matrix.Matrix => {
    const n = geometry.rows
    const m = geometry.cols
    const P = Matrix.zeros(n, m)
    for (let i = 0; i < n; i++) Geometry.costRow(geometry, i, P.data.subarray(i * m, (i + 1) * m))
    planRows(P.data, f, g, epsilon, 0, n, P.data)
    return P
  }

/**
 * The fields of an entropic result from final potentials and marginals
 * (copies; the engine's buffers may be reused).
 */
export const entropicOutput = (
  problem: LinearProblem,
  cost: number,
  f: Float64Array,
  g: Float64Array,
  r: Float64Array,
  c: Float64Array,
  epsilon: number,
  marginalErrors: ReadonlyArray<number>,
  marginalError: number,
  message: string | undefined
): Omit<TransportResult, "status" | "iterations"> & EntropicFields => {
  const fc = Vector.clone(f)
  const gc = Vector.clone(g)
  return {
    f: fc,
    g: gc,
    cost,
    marginalErrors: marginalErrors.slice(),
    plan: planFrom(problem.geometry, fc, gc, epsilon),
    epsilon,
    regularizedCost: regularizedCost(fc, gc, r, c, epsilon),
    marginalError,
    message
  }
}

/** Runs `solver` with core's generic loop and puts status and iterations into its output. */
export const runToResult = <Problem, Options, State, Output>(
  solver: Solver.IterativeSolver<Problem, Options, State, Output>,
  problem: Problem,
  options: Options,
  loop: Solver.LoopOptions<State>
): Output & { readonly status: Solver.Status; readonly iterations: number } => {
  const result = Solver.run(solver, problem, options, loop)
  return { ...result.output, status: result.status, iterations: result.iterations }
}
