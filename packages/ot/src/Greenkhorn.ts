/**
 * Greenkhorn (Altschuler, Weed & Rigollet, "Near-linear time approximation
 * algorithms for optimal transport via Sinkhorn iteration", NeurIPS 2017,
 * Alg. 2; POT's `greenkhorn`): a greedy coordinate version of Sinkhorn. With
 * P = diag(u)·K̃·diag(v), r = P·1, c = Pᵀ·1 and the divergence
 * ρ(x, y) = y − x + x·log(x/y), each update picks the row i with the largest
 * ρ(a_i, r_i) or the column j with the largest ρ(b_j, c_j), whichever is
 * larger, and fixes that one marginal exactly (u_i ← a_i/(K̃_i·v), or the
 * same for v_j), updating r and c in O(n).
 *
 * One `step` is n + m greedy updates (about the work of one Sinkhorn
 * iteration); r and c are then recomputed exactly (no drift) and the
 * marginal error recorded. The kernel is the stabilized one of
 * `SinkhornStabilized` (K̃_ij = exp((α_i + β_j − C_ij)/ε), a 1 in every row
 * and column at the start, scalings absorbed when they leave [1/τ, τ]), so
 * small ε gives no NaN. Columns are read from a transposed copy of K̃.
 *
 * @since 0.1.0
 */
import { Blas2, Matrix, type Solver, Vector } from "@descent/core"
import {
  type Common,
  dense,
  type EntropicFields,
  invalid,
  positiveFinite,
  readCommon,
  runToResult
} from "./internal/entropic.ts"
import { absorb, makeStabilized, type Stabilized } from "./internal/stabilized.ts"
import type { LinearProblem } from "./LinearProblem.ts"
import { stabilizedOutput } from "./SinkhornStabilized.ts"
import type { TransportResult } from "./TransportResult.ts"

/**
 * Options of `solve`.
 *
 * @category models
 * @since 0.1.0
 */
export interface GreenkhornOptions {
  /** ε > 0, in the geometry's (normalized) cost units. Default 0.05. */
  readonly epsilon?: number
  /** Stop when ‖P·1 − a‖₁ + ‖Pᵀ·1 − b‖₁ ≤ tolerance (≥ 0). Default 1e-9. */
  readonly tolerance?: number
  /** Budget of sweeps of n + m greedy updates (≥ 0). Default 1000. */
  readonly maxIterations?: number
  /** Check and record the marginal error every this many sweeps (≥ 1). Default 1. */
  readonly checkEvery?: number
  /** Absorb when a scaling leaves [1/τ, τ] (τ > 1). Default 1e4. */
  readonly absorptionThreshold?: number
}

/**
 * Defaults of `GreenkhornOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultGreenkhornOptions = {
  epsilon: 0.05,
  tolerance: 1e-9,
  maxIterations: 1000,
  checkEvery: 1,
  absorptionThreshold: 1e4
} as const

/**
 * A Greenkhorn result (`iterations` counts sweeps of n + m updates).
 *
 * @category models
 * @since 0.1.0
 */
export interface GreenkhornResult extends TransportResult, EntropicFields {
  readonly absorptions: number
  /** Greedy coordinate updates done. */
  readonly updates: number
}

/**
 * The solver state.
 *
 * @category models
 * @since 0.1.0
 */
export interface GreenkhornState {
  readonly problem: LinearProblem
  readonly core: Stabilized
  readonly common: Common
  readonly Kt: Matrix.Matrix
  readonly r: Float64Array
  readonly c: Float64Array
  readonly marginalErrors: number[]
  iteration: number
  updates: number
  error: number
}

type Output = Omit<GreenkhornResult, "status" | "iterations">

const NAME = "Greenkhorn"

/**
 * ρ(x, y) = y − x + x log(x/y) (0 log 0 = 0), as x·(δ − log(1 + δ)) with
 * δ = (y − x)/x, by its series near δ = 0: the direct formula cancels to noise
 * at δ ≈ 1e-8 and the greedy choice would then be random.
 */
const rho = (x: number, y: number): number => {
  if (!(x > 0)) return y
  const delta = (y - x) / x
  if (Math.abs(delta) < 1e-3) {
    const d2 = delta * delta
    return x * d2 * (0.5 - delta / 3 + d2 / 4 - (d2 * delta) / 5)
  }
  return x * (delta - Math.log1p(delta))
}

/** r ← u ∘ K̃v, c ← v ∘ K̃ᵀu (exact, one sweep). */
const exactMarginals = (s: GreenkhornState): void => {
  const { core, r, c } = s
  Blas2.gemvPair(core.K, core.v, core.kv, core.u, core.ktu)
  for (let i = 0; i < r.length; i++) r[i] = core.u[i]! * core.kv[i]!
  for (let j = 0; j < c.length; j++) c[j] = core.v[j]! * core.ktu[j]!
}

const l1 = (x: Float64Array, y: Float64Array): number => {
  let t = 0
  for (let i = 0; i < x.length; i++) t += Math.abs(x[i]! - y[i]!)
  return t
}

const sweep = (s: GreenkhornState): void => {
  const { core, r, c, Kt } = s
  const { n, m, a, b } = core.d
  const K = core.K.data
  const kt = Kt.data
  const { u, v } = core
  const tau = core.tau
  for (let t = 0; t < n + m; t++) {
    let bestRow = -1
    let bestRowGain = -1
    for (let i = 0; i < n; i++) {
      const gain = rho(a[i]!, r[i]!)
      if (gain > bestRowGain) {
        bestRowGain = gain
        bestRow = i
      }
    }
    let bestCol = -1
    let bestColGain = -1
    for (let j = 0; j < m; j++) {
      const gain = rho(b[j]!, c[j]!)
      if (gain > bestColGain) {
        bestColGain = gain
        bestCol = j
      }
    }
    if (bestRowGain >= bestColGain) {
      const i = bestRow
      const o = i * m
      let kv = 0
      for (let j = 0; j < m; j++) kv += K[o + j]! * v[j]!
      const old = u[i]!
      const next = a[i]! > 0 && kv > 0 ? a[i]! / kv : 0
      u[i] = next
      r[i] = next * kv
      const delta = next - old
      for (let j = 0; j < m; j++) c[j] = c[j]! + delta * K[o + j]! * v[j]!
      if (next > tau || (next > 0 && next < 1 / tau)) break
    } else {
      const j = bestCol
      const o = j * n
      let ktu = 0
      for (let i = 0; i < n; i++) ktu += kt[o + i]! * u[i]!
      const old = v[j]!
      const next = b[j]! > 0 && ktu > 0 ? b[j]! / ktu : 0
      v[j] = next
      c[j] = next * ktu
      const delta = next - old
      for (let i = 0; i < n; i++) r[i] = r[i]! + delta * kt[o + i]! * u[i]!
      if (next > tau || (next > 0 && next < 1 / tau)) break
    }
    s.updates++
  }
  // Absorb scalings out of range, then exact marginals.
  let out = false
  for (let i = 0; i < n && !out; i++) if (u[i]! > 0 && (u[i]! > tau || u[i]! < 1 / tau)) out = true
  for (let j = 0; j < m && !out; j++) if (v[j]! > 0 && (v[j]! > tau || v[j]! < 1 / tau)) out = true
  if (out) {
    absorb(core)
    Matrix.transposeInto(core.K, s.Kt)
  }
  exactMarginals(s)
}

/**
 * Greenkhorn as a `Solver.IterativeSolver` (one step = n + m greedy updates).
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<LinearProblem, GreenkhornOptions, GreenkhornState, Output> = {
  name: NAME,
  init: (problem, options) => {
    const defaults = defaultGreenkhornOptions
    const common = readCommon(NAME, options, defaults)
    const tau = positiveFinite(
      NAME,
      "absorptionThreshold",
      options.absorptionThreshold ?? defaults.absorptionThreshold
    )
    if (!(tau > 1)) throw invalid(NAME, "absorptionThreshold", tau, "a finite number > 1")
    const d = dense(NAME, problem)
    const core = makeStabilized(d, common.epsilon, tau)
    const state: GreenkhornState = {
      problem,
      core,
      common,
      Kt: Matrix.transpose(core.K),
      r: Vector.zeros(d.n),
      c: Vector.zeros(d.m),
      marginalErrors: [],
      iteration: 0,
      updates: 0,
      error: problem.massA + problem.massB
    }
    exactMarginals(state)
    return state
  },
  step: (s) => {
    sweep(s)
    s.iteration++
    s.error = l1(s.r, s.core.d.a) + l1(s.c, s.core.d.b)
    if (s.iteration % s.common.checkEvery === 0) s.marginalErrors.push(s.error)
    return s
  },
  status: (s) => (s.error <= s.common.tolerance ? "converged" : undefined),
  residual: (s) => s.error,
  metrics: (s) => ({ marginalError: s.error, updates: s.updates }),
  output: (s) => ({ ...stabilizedOutput(s.problem, s.core, s.marginalErrors, s.error), updates: s.updates })
}

/**
 * Solves the entropic problem by Greenkhorn's greedy updates.
 *
 * @example
 * const result = Greenkhorn.solve(problem, { epsilon: 0.05 })
 * @throws InvalidOptions when an option is out of range (e.g. ε ≤ 0) or a point of positive mass has no allowed pair.
 * @category solvers
 * @since 0.1.0
 */
export const solve = (problem: LinearProblem, options: GreenkhornOptions = {}): GreenkhornResult =>
  runToResult(solver, problem, options, {
    maxIterations: options.maxIterations ?? defaultGreenkhornOptions.maxIterations,
    checkEvery: options.checkEvery ?? defaultGreenkhornOptions.checkEvery
  })
