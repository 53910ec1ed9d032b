/**
 * Sinkhorn with Anderson acceleration (Anderson 1965; Walker & Ni, "Anderson
 * acceleration for fixed-point iterations", SIAM J. Numer. Anal. 2011; the
 * regularized extrapolation of Scieur, d'Aspremont & Bach, "Regularized
 * nonlinear acceleration", NeurIPS 2016; for Sinkhorn, Chizat, "Sparse
 * optimization on measures with over-parameterized gradient descent", and
 * Chizat 2020 on Anderson-accelerated Sinkhorn). One Sinkhorn iteration is a
 * fixed-point map on the source potential, f ↦ T(f) (column update, then row
 * update); Anderson mixing replaces f_{k+1} = T(f_k) by
 *
 *   f_{k+1} = Σ_i θ_i·T(f_i),   θ = argmin ‖Σ_i θ_i (T(f_i) − f_i)‖² + λ‖θ‖²·‖R‖²,  Σ θ_i = 1,
 *
 * over the last `memory` iterates (residuals R). Safeguard: if the marginal
 * error after an extrapolated step is not below `safeguard` × the previous
 * one, the history is cleared and the plain iterate T(f_k) is taken, so the
 * run is never worse than Sinkhorn by more than one iteration per rejection.
 *
 * The map is evaluated with `Sinkhorn`'s engine: scaling form with the
 * automatic switch to the log domain (small ε gives no NaN). Each step costs
 * one Sinkhorn iteration plus the restart Kᵀ·exp(f/ε) (about 1.5 iterations).
 *
 * @since 0.1.0
 */
import { type Solver, Vector } from "@descent/core"
import {
  type Common,
  count,
  dense,
  type Engine,
  type EntropicFields,
  engineCost,
  entropicOutput,
  invalid,
  iterate,
  makeEngine,
  marginalsInto,
  nonNegative,
  potentialsInto,
  readCommon,
  runToResult,
  setF
} from "./internal/entropic.ts"
import type { LinearProblem } from "./LinearProblem.ts"
import type { TransportResult } from "./TransportResult.ts"

/**
 * Options of `solve`.
 *
 * @category models
 * @since 0.1.0
 */
export interface SinkhornAndersonOptions {
  /** ε > 0, in the geometry's (normalized) cost units. Default 0.01. */
  readonly epsilon?: number
  /** Stop when ‖P·1 − a‖₁ + ‖Pᵀ·1 − b‖₁ ≤ tolerance (≥ 0). Default 1e-9. */
  readonly tolerance?: number
  /** Iteration budget (≥ 0). Default 1000. */
  readonly maxIterations?: number
  /** Check and record the marginal error every this many iterations (≥ 1). Default 1. */
  readonly checkEvery?: number
  /** Number of past iterates mixed (≥ 1). Default 5. */
  readonly memory?: number
  /** Tikhonov regularization λ ≥ 0 of the mixing least squares, relative to ‖RᵀR‖. Default 1e-10. */
  readonly regularization?: number
  /** Reject an extrapolation whose error exceeds this × the previous error (≥ 1). Default 1. */
  readonly safeguard?: number
}

/**
 * Defaults of `SinkhornAndersonOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultSinkhornAndersonOptions = {
  epsilon: 0.01,
  tolerance: 1e-9,
  maxIterations: 1000,
  checkEvery: 1,
  memory: 5,
  regularization: 1e-10,
  safeguard: 1
} as const

/**
 * An Anderson-accelerated Sinkhorn result.
 *
 * @category models
 * @since 0.1.0
 */
export interface SinkhornAndersonResult extends TransportResult, EntropicFields {
  /** Extrapolations rejected by the safeguard. */
  readonly rejections: number
  readonly domain: "scaling" | "log"
}

/**
 * The solver state.
 *
 * @category models
 * @since 0.1.0
 */
export interface SinkhornAndersonState {
  readonly problem: LinearProblem
  readonly engine: Engine
  readonly common: Common
  readonly memory: number
  readonly lambda: number
  readonly safeguard: number
  /** Ring buffers of T(f_i) and residuals T(f_i) − f_i. */
  readonly images: Float64Array[]
  readonly residuals: Float64Array[]
  stored: number
  next: number
  readonly x: Float64Array
  readonly image: Float64Array
  readonly gWork: Float64Array
  readonly marginalErrors: number[]
  previousError: number
  extrapolated: boolean
  rejections: number
  iteration: number
  error: number
}

type Output = Omit<SinkhornAndersonResult, "status" | "iterations">

const NAME = "SinkhornAnderson"

/** Finite-part difference (−∞ entries of zero-mass points contribute 0). */
const diff = (x: Float64Array, y: Float64Array, out: Float64Array): void => {
  for (let i = 0; i < x.length; i++)
    out[i] = Number.isFinite(x[i]!) && Number.isFinite(y[i]!) ? x[i]! - y[i]! : 0
}

/** Solves the small SPD system G·z = 1 in place (Gaussian elimination without pivoting on an SPD matrix). */
const solveOnes = (G: number[][], k: number): number[] | undefined => {
  const z = new Array<number>(k).fill(1)
  for (let p = 0; p < k; p++) {
    const pivot = G[p]![p]!
    if (!(pivot > 0)) return undefined
    for (let q = p + 1; q < k; q++) {
      const factor = G[q]![p]! / pivot
      for (let t = p; t < k; t++) G[q]![t] = G[q]![t]! - factor * G[p]![t]!
      z[q] = z[q]! - factor * z[p]!
    }
  }
  for (let p = k - 1; p >= 0; p--) {
    let s = z[p]!
    for (let t = p + 1; t < k; t++) s -= G[p]![t]! * z[t]!
    z[p] = s / G[p]![p]!
  }
  return z
}

/** x ← Σ θ_i T(f_i) with θ from the regularized least squares; false if degenerate. */
const extrapolate = (s: SinkhornAndersonState): boolean => {
  const k = s.stored
  if (k < 2) return false
  const G: number[][] = []
  let trace = 0
  for (let p = 0; p < k; p++) {
    G.push(new Array<number>(k).fill(0))
    for (let q = 0; q <= p; q++) {
      const rp = s.residuals[p]!
      const rq = s.residuals[q]!
      let dot = 0
      for (let i = 0; i < rp.length; i++) dot += rp[i]! * rq[i]!
      G[p]![q] = dot
      if (q === p) trace += dot
    }
  }
  for (let p = 0; p < k; p++) for (let q = p + 1; q < k; q++) G[p]![q] = G[q]![p]!
  const shift = s.lambda * trace + 1e-300
  for (let p = 0; p < k; p++) G[p]![p] = G[p]![p]! + shift
  const z = solveOnes(G, k)
  if (z === undefined) return false
  let sum = 0
  for (let p = 0; p < k; p++) sum += z[p]!
  if (!(Math.abs(sum) > 0) || !Number.isFinite(sum)) return false
  const x = s.x
  x.fill(0)
  for (let p = 0; p < k; p++) {
    const theta = z[p]! / sum
    const img = s.images[p]!
    for (let i = 0; i < x.length; i++) x[i] = x[i]! + theta * img[i]!
  }
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return false
  return true
}

/**
 * Anderson-accelerated Sinkhorn as a `Solver.IterativeSolver`.
 *
 * @category solvers
 * @since 0.1.0
 */
export const solver: Solver.IterativeSolver<
  LinearProblem,
  SinkhornAndersonOptions,
  SinkhornAndersonState,
  Output
> = {
  name: NAME,
  init: (problem, options) => {
    const defaults = defaultSinkhornAndersonOptions
    const common = readCommon(NAME, options, defaults)
    const memory = count(NAME, "memory", options.memory ?? defaults.memory, 1)
    const lambda = nonNegative(NAME, "regularization", options.regularization ?? defaults.regularization)
    const safeguard = options.safeguard ?? defaults.safeguard
    if (!(safeguard >= 1) || !Number.isFinite(safeguard))
      throw invalid(NAME, "safeguard", safeguard, "a finite number ≥ 1")
    const d = dense(NAME, problem)
    const engine = makeEngine(d, common.epsilon, true)
    return {
      problem,
      engine,
      common,
      memory,
      lambda,
      safeguard,
      images: Array.from({ length: memory }, () => Vector.zeros(d.n)),
      residuals: Array.from({ length: memory }, () => Vector.zeros(d.n)),
      stored: 0,
      next: 0,
      x: Vector.zeros(d.n),
      image: Vector.zeros(d.n),
      gWork: Vector.zeros(d.m),
      marginalErrors: [],
      previousError: Number.POSITIVE_INFINITY,
      extrapolated: false,
      rejections: 0,
      iteration: 0,
      error: problem.massA + problem.massB
    }
  },
  step: (s) => {
    const e = s.engine
    // x is the current point (f_k); T(f_k) by one Sinkhorn iteration.
    if (s.iteration === 0) potentialsInto(e, s.x, s.gWork)
    iterate(e, true)
    s.iteration++
    s.error = e.rowError + e.colError
    if (s.iteration % s.common.checkEvery === 0) s.marginalErrors.push(s.error)
    potentialsInto(e, s.image, s.gWork)
    if (s.extrapolated && !(s.error < s.safeguard * s.previousError)) {
      // Safeguard: keep the plain iterate T(f_k), forget the history.
      s.rejections++
      s.stored = 0
      s.next = 0
      s.extrapolated = false
      s.previousError = s.error
      s.x.set(s.image)
      return s
    }
    s.previousError = s.error
    const slot = s.next
    s.images[slot]!.set(s.image)
    diff(s.image, s.x, s.residuals[slot]!)
    s.next = (slot + 1) % s.memory
    s.stored = Math.min(s.stored + 1, s.memory)
    if (extrapolate(s)) {
      s.extrapolated = true
      setF(e, s.x)
    } else {
      s.extrapolated = false
      s.x.set(s.image)
    }
    return s
  },
  status: (s) => (s.error <= s.common.tolerance ? "converged" : undefined),
  residual: (s) => s.error,
  metrics: (s) => ({ marginalError: s.error, rejections: s.rejections }),
  output: (s) => {
    // The engine may hold an extrapolated restart: report the last Sinkhorn iterate's pair.
    const e = s.engine
    const { n, m } = e.d
    if (s.extrapolated) {
      setF(e, s.image)
      iterate(e, true)
    }
    const f = Vector.zeros(n)
    const g = Vector.zeros(m)
    const r = Vector.zeros(n)
    const c = Vector.zeros(m)
    potentialsInto(e, f, g)
    marginalsInto(e, r, c)
    const error = e.rowError + e.colError
    return {
      ...entropicOutput(
        s.problem,
        engineCost(e, f, g),
        f,
        g,
        r,
        c,
        e.epsilon,
        s.marginalErrors,
        error,
        undefined
      ),
      rejections: s.rejections,
      domain: e.domain
    }
  }
}

/**
 * Solves the entropic problem by Anderson-accelerated Sinkhorn.
 *
 * @example
 * const result = SinkhornAnderson.solve(problem, { epsilon: 0.01, memory: 5 })
 * @throws InvalidOptions when an option is out of range (e.g. ε ≤ 0) or a point of positive mass has no allowed pair.
 * @category solvers
 * @since 0.1.0
 */
export const solve = (
  problem: LinearProblem,
  options: SinkhornAndersonOptions = {}
): SinkhornAndersonResult =>
  runToResult(solver, problem, options, {
    maxIterations: options.maxIterations ?? defaultSinkhornAndersonOptions.maxIterations,
    checkEvery: options.checkEvery ?? defaultSinkhornAndersonOptions.checkEvery
  })
