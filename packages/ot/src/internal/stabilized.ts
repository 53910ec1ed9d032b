/**
 * The stabilized scaling iteration with absorption (Schmitzer, "Stabilized
 * Sparse Scaling Algorithms for Entropy Regularized Transport Problems",
 * SIAM J. Sci. Comput. 41(3), 2019, Alg. 2), shared by `SinkhornStabilized`
 * and `EpsilonScaling`.
 *
 * The plan is written P_ij = u_i·K̃_ij·v_j with the stabilized kernel
 * K̃_ij = exp((α_i + β_j − C_ij)/ε): the scalings u, v stay near 1 and the
 * large parts of the potentials f = α + ε·log u, g = β + ε·log v live in α,
 * β. When a scaling leaves [1/τ, τ], it is absorbed (α ← α + ε·log u,
 * β ← β + ε·log v, u = v = 1) and K̃ is rebuilt. Entries of K̃ that underflow
 * are pairs the plan does not use (Schmitzer's truncation, here implicit).
 * The start α_i = min_j C_ij, β_j = min_i (C_ij − α_i) puts a 1 in every row
 * and column of K̃, so no row sum underflows at any ε. If a product still
 * leaves the safe range (a large ε change), the potentials are repaired by
 * one exact log-domain row update (core's fused log-sum-exp) before the
 * kernel is rebuilt.
 */
import { Blas2, Elementwise, Matrix, Reductions, Vector } from "@descent/core"
import { type Dense, TINY } from "./entropic.ts"

export interface Stabilized {
  readonly d: Dense
  epsilon: number
  readonly tau: number
  readonly alpha: Float64Array
  readonly beta: Float64Array
  readonly K: Matrix.Matrix
  readonly u: Float64Array
  readonly v: Float64Array
  readonly kv: Float64Array
  readonly ktu: Float64Array
  readonly vBackup: Float64Array
  readonly zerosN: Float64Array
  readonly zerosM: Float64Array
  readonly work: Float64Array
  rowError: number
  colError: number
  absorptions: number
}

/** K̃ ← exp((α_i + β_j − C_ij)/ε), with core's SIMD exp. */
const rebuild = (s: Stabilized): void => {
  const { n, m, C } = s.d
  const k = s.K.data
  const c = C.data
  const inv = 1 / s.epsilon
  const { alpha, beta } = s
  for (let i = 0; i < n; i++) {
    const ai = alpha[i]!
    const o = i * m
    for (let j = 0; j < m; j++) k[o + j] = (ai + beta[j]! - c[o + j]!) * inv
  }
  Elementwise.exp(k, k)
  s.u.fill(1)
  s.v.fill(1)
  for (let i = 0; i < n; i++) if (!(s.d.a[i]! > 0)) s.u[i] = 0
  for (let j = 0; j < m; j++) if (!(s.d.b[j]! > 0)) s.v[j] = 0
  Blas2.gemvT(1, s.K, s.u, 0, s.ktu)
}

/** The c-transform-like start: a 1 in every row and column of K̃ (see the module comment). */
const minStart = (d: Dense, alpha: Float64Array, beta: Float64Array): void => {
  const { n, m, C } = d
  const c = C.data
  for (let i = 0; i < n; i++) {
    let min = Number.POSITIVE_INFINITY
    for (let j = 0; j < m; j++) if (c[i * m + j]! < min) min = c[i * m + j]!
    alpha[i] = Number.isFinite(min) ? min : 0
  }
  beta.fill(Number.POSITIVE_INFINITY)
  for (let i = 0; i < n; i++) {
    const o = i * m
    const ai = alpha[i]!
    for (let j = 0; j < m; j++) {
      const t = c[o + j]! - ai
      if (t < beta[j]!) beta[j] = t
    }
  }
  for (let j = 0; j < m; j++) if (!Number.isFinite(beta[j]!)) beta[j] = 0
}

/** A stabilized state at ε from potentials f0, g0 (default: the min start). */
export const makeStabilized = (
  d: Dense,
  epsilon: number,
  tau: number,
  f0?: Float64Array,
  g0?: Float64Array
): Stabilized => {
  const { n, m } = d
  const s: Stabilized = {
    d,
    epsilon,
    tau,
    alpha: Vector.zeros(n),
    beta: Vector.zeros(m),
    K: Matrix.zeros(n, m),
    u: Vector.zeros(n),
    v: Vector.zeros(m),
    kv: Vector.zeros(n),
    ktu: Vector.zeros(m),
    vBackup: Vector.zeros(m),
    zerosN: Vector.zeros(n),
    zerosM: Vector.zeros(m),
    work: Vector.zeros(n),
    rowError: Number.POSITIVE_INFINITY,
    colError: Number.POSITIVE_INFINITY,
    absorptions: 0
  }
  if (f0 !== undefined && g0 !== undefined) {
    s.alpha.set(f0)
    s.beta.set(g0)
    sanitize(s)
  } else minStart(d, s.alpha, s.beta)
  rebuild(s)
  return s
}

/** Zero-mass points carry −∞ potentials; the kernel needs finite shifts there. */
const sanitize = (s: Stabilized): void => {
  for (let i = 0; i < s.alpha.length; i++) if (!Number.isFinite(s.alpha[i]!)) s.alpha[i] = 0
  for (let j = 0; j < s.beta.length; j++) if (!Number.isFinite(s.beta[j]!)) s.beta[j] = 0
}

/** f = α + ε log u, g = β + ε log v (−∞ on zero-mass points). */
export const stabilizedPotentials = (s: Stabilized, f: Float64Array, g: Float64Array): void => {
  const eps = s.epsilon
  for (let i = 0; i < f.length; i++)
    f[i] = s.d.a[i]! > 0 ? s.alpha[i]! + eps * Math.log(s.u[i]!) : Number.NEGATIVE_INFINITY
  for (let j = 0; j < g.length; j++)
    g[j] = s.d.b[j]! > 0 ? s.beta[j]! + eps * Math.log(s.v[j]!) : Number.NEGATIVE_INFINITY
}

/** Absorbs the scalings into α, β and rebuilds K̃. */
export const absorb = (s: Stabilized): void => {
  const eps = s.epsilon
  for (let i = 0; i < s.alpha.length; i++) if (s.u[i]! > 0) s.alpha[i] = s.alpha[i]! + eps * Math.log(s.u[i]!)
  for (let j = 0; j < s.beta.length; j++) if (s.v[j]! > 0) s.beta[j] = s.beta[j]! + eps * Math.log(s.v[j]!)
  s.absorptions++
  rebuild(s)
}

/**
 * Moves to a new ε keeping the potentials (ε-scaling's warm start): absorb,
 * then rebuild K̃ at the new ε.
 */
export const setEpsilon = (s: Stabilized, epsilon: number): void => {
  const eps = s.epsilon
  for (let i = 0; i < s.alpha.length; i++) if (s.u[i]! > 0) s.alpha[i] = s.alpha[i]! + eps * Math.log(s.u[i]!)
  for (let j = 0; j < s.beta.length; j++) if (s.v[j]! > 0) s.beta[j] = s.beta[j]! + eps * Math.log(s.v[j]!)
  s.epsilon = epsilon
  repairRows(s)
  rebuild(s)
}

/**
 * α ← the exact log-domain row update from β (the scalings absorbed), then
 * β ← the column update from α: no column sum of the rebuilt K̃ underflows,
 * and the next iteration starts from exact column marginals.
 */
const repairRows = (s: Stabilized): void => {
  const { d, alpha, beta, work } = s
  const eps = s.epsilon
  const g = s.vBackup
  for (let j = 0; j < d.m; j++) g[j] = d.b[j]! > 0 ? beta[j]! : Number.NEGATIVE_INFINITY
  Reductions.logSumExpAffineRows(d.C, s.zerosN, g, eps, work)
  for (let i = 0; i < d.n; i++)
    alpha[i] = d.a[i]! > 0 ? eps * (d.logA[i]! - work[i]!) : Number.NEGATIVE_INFINITY
  // Then the columns from these rows: every column sum of K̃ is b_j.
  const colWork = s.ktu
  Reductions.logSumExpAffineCols(d.C, alpha, s.zerosM, eps, colWork)
  for (let j = 0; j < d.m; j++) beta[j] = d.b[j]! > 0 ? eps * (d.logB[j]! - colWork[j]!) : 0
  sanitize(s)
}

const inRange = (x: number, tau: number): boolean => x <= tau && x >= 1 / tau

/**
 * One iteration v ← b ⊘ K̃ᵀu, u ← a ⊘ K̃v (K̃ᵀu cached for the next one),
 * with the marginal errors of the new pair; then absorption when a scaling
 * left [1/τ, τ]. A product out of the safe range triggers the repair.
 */
export const stabilizedIterate = (s: Stabilized): void => {
  const { d, u, v, kv, ktu, K } = s
  const { a, b } = d
  s.vBackup.set(v)
  let ok = true
  for (let j = 0; j < d.m && ok; j++) {
    if (b[j]! > 0) {
      const t = ktu[j]!
      if (!(t > TINY && t < Number.POSITIVE_INFINITY)) ok = false
      else v[j] = b[j]! / t
    }
  }
  if (ok) {
    Blas2.gemv(1, K, v, 0, kv)
    for (let i = 0; i < d.n && ok; i++) {
      if (a[i]! > 0) {
        const t = kv[i]!
        if (!(t > TINY && t < Number.POSITIVE_INFINITY)) ok = false
        else u[i] = a[i]! / t
      }
    }
  }
  if (ok) {
    Blas2.gemvT(1, K, u, 0, ktu)
    for (let j = 0; j < d.m && ok; j++) if (!(ktu[j]! < Number.POSITIVE_INFINITY)) ok = false
  }
  if (!ok) {
    // Back to the last valid v, absorb it into β and redo the rows exactly.
    v.set(s.vBackup)
    const eps = s.epsilon
    for (let j = 0; j < d.m; j++) if (v[j]! > 0) s.beta[j] = s.beta[j]! + eps * Math.log(v[j]!)
    repairRows(s)
    s.absorptions++
    rebuild(s)
    // One clean iteration on the repaired kernel.
    for (let j = 0; j < d.m; j++) v[j] = b[j]! > 0 ? b[j]! / ktu[j]! : 0
    Blas2.gemv(1, K, v, 0, kv)
    for (let i = 0; i < d.n; i++) u[i] = a[i]! > 0 ? a[i]! / kv[i]! : 0
    Blas2.gemvT(1, K, u, 0, ktu)
  }
  let rowError = 0
  for (let i = 0; i < d.n; i++) rowError += Math.abs(u[i]! * kv[i]! - a[i]!)
  let colError = 0
  for (let j = 0; j < d.m; j++) colError += Math.abs(v[j]! * ktu[j]! - b[j]!)
  s.rowError = rowError
  s.colError = colError
  let absorbNow = false
  for (let i = 0; i < d.n && !absorbNow; i++) if (a[i]! > 0 && !inRange(u[i]!, s.tau)) absorbNow = true
  for (let j = 0; j < d.m && !absorbNow; j++) if (b[j]! > 0 && !inRange(v[j]!, s.tau)) absorbNow = true
  if (absorbNow) {
    absorb(s)
    // After absorption u = v = 1 and K̃ is the plan: the cached products follow.
    Blas2.gemv(1, K, v, 0, kv)
  }
}

/** The marginals of the current pair. */
export const stabilizedMarginals = (s: Stabilized, r: Float64Array, c: Float64Array): void => {
  for (let i = 0; i < r.length; i++) r[i] = s.u[i]! * s.kv[i]!
  for (let j = 0; j < c.length; j++) c[j] = s.v[j]! * s.ktu[j]!
}
