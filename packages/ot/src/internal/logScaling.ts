/**
 * Log-domain scaling iterations shared by the solvers of part C (unbalanced
 * Sinkhorn, Sinkhorn divergence, Gromov–Wasserstein's inner problems, the
 * differentiable cost): the generalized Sinkhorn updates of Chizat, Peyré,
 * Schmitzer & Vialard (2018) written on core's fused
 * `Reductions.logSumExpAffineRows/Cols`.
 *
 * Convention: the plan of potentials (f, g) is
 *
 *   P_ij = a_i b_j exp((f_i + g_j − C_ij)/ε),
 *
 * the minimizer of ⟨C, P⟩ + ε·KL(P | a⊗b) + ρ_a·KL(P1 | a) + ρ_b·KL(Pᵀ1 | b)
 * (generalized KL, p log(p/q) − p + q). With s_i = log Σ_j b_j exp((g_j − C_ij)/ε)
 * the f-update is f_i ← −τ_a·ε·s_i, τ_a = ρ_a/(ρ_a + ε) (τ_a = 1 when ρ_a = ∞:
 * the balanced c-transform), and symmetrically for g.
 *
 * State invariant (after `initScaling` and every `scalingStep`): g has just
 * been updated, so the columns of P meet their optimality condition exactly
 * (Pᵀ1 = b·exp(−g/ρ_b), = b when balanced), and `rowLse` holds s for the
 * current g, from which the row error of the current plan costs O(n). One
 * step is two fused passes over C.
 */
import { Blas1, Errors, type Matrix, Reductions, Vector } from "@descent/core"
import { NegativeMass, UnbalancedMarginals } from "../Errors.ts"
import { checkAllowedPairs, positiveFinite } from "./entropic.ts"

/** Mutable state of the scaling iterations on one dense cost matrix. */
export interface ScalingState {
  /** The cost (may be rewritten between solves, e.g. GW's linearized cost). */
  readonly C: Matrix.Matrix
  readonly a: Float64Array
  readonly b: Float64Array
  readonly logA: Float64Array
  readonly logB: Float64Array
  readonly epsilon: number
  readonly rhoA: number
  readonly rhoB: number
  readonly tauA: number
  readonly tauB: number
  readonly f: Float64Array
  readonly g: Float64Array
  /** s_i = log Σ_j b_j exp((g_j − C_ij)/ε) for the current g. */
  readonly rowLse: Float64Array
  readonly colLse: Float64Array
  readonly shiftN: Float64Array
  readonly shiftM: Float64Array
  readonly zerosN: Float64Array
  readonly zerosM: Float64Array
  /** ‖P1 − ã‖₁ + ‖Pᵀ1 − b̃‖₁ of the current plan (ã = a·exp(−f/ρ_a), = a when balanced). */
  error: number
}

/** log of each entry (−∞ for zeros). */
export const logOf = (x: Float64Array): Float64Array => {
  const out = Vector.zeros(x.length)
  for (let i = 0; i < x.length; i++) out[i] = Math.log(x[i]!)
  return out
}

/** ρ/(ρ + ε), 1 for ρ = ∞. */
export const exponent = (rho: number, epsilon: number): number =>
  rho === Number.POSITIVE_INFINITY ? 1 : rho / (rho + epsilon)

/** out_j ← v_j + ε·logW_j (the weights folded into a potential for the fused kernels). */
const shiftInto = (v: Float64Array, logW: Float64Array, epsilon: number, out: Float64Array): void => {
  Blas1.copy(v, out)
  Blas1.axpy(epsilon, logW, out)
}

/** colLse_j ← log Σ_i a_i exp((f_i − C_ij)/ε); g_j ← −τ_b·ε·colLse_j. */
const updateG = (s: ScalingState): void => {
  shiftInto(s.f, s.logA, s.epsilon, s.shiftN)
  Reductions.logSumExpAffineCols(s.C, s.shiftN, s.zerosM, s.epsilon, s.colLse)
  const c = -s.tauB * s.epsilon
  for (let j = 0; j < s.g.length; j++) s.g[j] = c * s.colLse[j]!
}

const fUpdate = (s: ScalingState): void => {
  const c = -s.tauA * s.epsilon
  for (let i = 0; i < s.f.length; i++) s.f[i] = c * s.rowLse[i]!
}

/** rowLse_i ← log Σ_j b_j exp((g_j − C_ij)/ε), and the error of the current plan. */
const refreshRows = (s: ScalingState): void => {
  shiftInto(s.g, s.logB, s.epsilon, s.shiftM)
  Reductions.logSumExpAffineRows(s.C, s.zerosN, s.shiftM, s.epsilon, s.rowLse)
  s.error = rowError(s)
}

/**
 * ‖P1 − ã‖₁ for the current (f, g): (P1)_i = a_i·exp(f_i/ε + s_i); the
 * columns are exact by the invariant. Rows of zero mass contribute 0.
 */
export const rowError = (s: ScalingState): number => {
  const inv = 1 / s.epsilon
  const relaxed = s.rhoA !== Number.POSITIVE_INFINITY
  let e = 0
  for (let i = 0; i < s.a.length; i++) {
    const ai = s.a[i]!
    if (ai === 0) continue
    const fi = s.f[i]!
    const r = ai * Math.exp(fi * inv + s.rowLse[i]!)
    const target = relaxed ? ai * Math.exp(-fi / s.rhoA) : ai
    e += Math.abs(r - target)
  }
  return e
}

/**
 * A scaling state on C (not copied) with potentials started at `f0`, `g0`
 * (copied; default 0). Performs the g-update so the invariant holds.
 */
export const initScaling = (
  C: Matrix.Matrix,
  a: Float64Array,
  b: Float64Array,
  epsilon: number,
  rhoA: number,
  rhoB: number,
  f0?: ArrayLike<number>,
  g0?: ArrayLike<number>
): ScalingState => {
  const n = C.rows
  const m = C.cols
  const f = Vector.zeros(n)
  const g = Vector.zeros(m)
  if (f0 !== undefined) f.set(f0)
  if (g0 !== undefined) g.set(g0)
  const s: ScalingState = {
    C,
    a,
    b,
    logA: logOf(a),
    logB: logOf(b),
    epsilon,
    rhoA,
    rhoB,
    tauA: exponent(rhoA, epsilon),
    tauB: exponent(rhoB, epsilon),
    f,
    g,
    rowLse: Vector.zeros(n),
    colLse: Vector.zeros(m),
    shiftN: Vector.zeros(n),
    shiftM: Vector.zeros(m),
    zerosN: Vector.zeros(n),
    zerosM: Vector.zeros(m),
    error: Number.POSITIVE_INFINITY
  }
  // g is always recomputed from f; a warm start given by g alone first sets f from it.
  if (f0 === undefined && g0 !== undefined) {
    refreshRows(s)
    fUpdate(s)
  }
  updateG(s)
  refreshRows(s)
  return s
}

/** Restores the invariant after C was rewritten in place (keeps f as a warm start). */
export const resetScaling = (s: ScalingState): void => {
  updateG(s)
  refreshRows(s)
}

/** One generalized Sinkhorn iteration: f-update, g-update, then the error. */
export const scalingStep = (s: ScalingState): void => {
  fUpdate(s)
  updateG(s)
  refreshRows(s)
}

/**
 * Runs `scalingStep` until the error is ≤ tolerance or `maxIterations`
 * steps; returns the steps taken.
 */
export const runScaling = (s: ScalingState, tolerance: number, maxIterations: number): number => {
  let k = 0
  while (k < maxIterations && !(s.error <= tolerance)) {
    scalingStep(s)
    k++
    if (!Number.isFinite(s.error)) break
  }
  return k
}

/** Row marginal r = P1 (from rowLse: r_i = a_i exp(f_i/ε + s_i)) into `out`. */
export const rowMarginal = (s: ScalingState, out: Float64Array): Float64Array => {
  const inv = 1 / s.epsilon
  for (let i = 0; i < out.length; i++) {
    const ai = s.a[i]!
    out[i] = ai === 0 ? 0 : ai * Math.exp(s.f[i]! * inv + s.rowLse[i]!)
  }
  return out
}

/** Column marginal c = Pᵀ1 (one fused pass with the current f, g) into `out`. */
export const colMarginal = (s: ScalingState, out: Float64Array): Float64Array => {
  shiftInto(s.f, s.logA, s.epsilon, s.shiftN)
  shiftInto(s.g, s.logB, s.epsilon, s.shiftM)
  Reductions.logSumExpAffineCols(s.C, s.shiftN, s.shiftM, s.epsilon, out)
  for (let j = 0; j < out.length; j++) out[j] = Math.exp(out[j]!)
  return out
}

/**
 * Writes P_ij = exp((f_i + ε log a_i + g_j + ε log b_j − C_ij)/ε) into `out`
 * (C_ij = +∞ gives 0).
 */
export const planInto = (
  C: Matrix.Matrix,
  f: Float64Array,
  g: Float64Array,
  logA: Float64Array,
  logB: Float64Array,
  epsilon: number,
  out: Matrix.Matrix
): Matrix.Matrix => {
  const n = C.rows
  const m = C.cols
  const inv = 1 / epsilon
  const c = C.data
  const p = out.data
  for (let i = 0; i < n; i++) {
    const fi = f[i]! * inv + logA[i]!
    const o = i * m
    if (fi === Number.NEGATIVE_INFINITY) {
      p.fill(0, o, o + m)
      continue
    }
    for (let j = 0; j < m; j++) p[o + j] = Math.exp(fi + g[j]! * inv + logB[j]! - c[o + j]! * inv)
  }
  return out
}

/**
 * ⟨C, P⟩ and Σ P of the plan of (f, g) in one pass, without storing P
 * (forbidden pairs, C = +∞, carry no mass and add nothing).
 */
export const linearCost = (
  C: Matrix.Matrix,
  f: Float64Array,
  g: Float64Array,
  logA: Float64Array,
  logB: Float64Array,
  epsilon: number
): { readonly cost: number; readonly mass: number } => {
  const n = C.rows
  const m = C.cols
  const inv = 1 / epsilon
  const c = C.data
  let cost = 0
  let mass = 0
  for (let i = 0; i < n; i++) {
    const fi = f[i]! * inv + logA[i]!
    if (fi === Number.NEGATIVE_INFINITY) continue
    const o = i * m
    let rowCost = 0
    let rowMass = 0
    for (let j = 0; j < m; j++) {
      const cij = c[o + j]!
      if (cij === Number.POSITIVE_INFINITY) continue
      const p = Math.exp(fi + g[j]! * inv + logB[j]! - cij * inv)
      rowCost += p * cij
      rowMass += p
    }
    cost += rowCost
    mass += rowMass
  }
  return { cost, mass }
}

/** Generalized KL(p | q) = Σ p log(p/q) − p + q, with 0·log 0 = 0. */
export const generalizedKl = (p: Float64Array, q: Float64Array): number => {
  let s = 0
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]!
    const qi = q[i]!
    s += (pi > 0 ? pi * Math.log(pi / qi) - pi : 0) + qi
  }
  return s
}

/**
 * Throws `InvalidOptions` (field "geometry") unless every point of positive
 * mass has a finite cost to some point of positive mass on the other side:
 * otherwise its potential is infinite and no (balanced) plan exists.
 */
export const checkSupport = (operation: string, C: Matrix.Matrix, a: Float64Array, b: Float64Array): void => {
  const c = C.data
  let forbidden = false
  for (let k = 0; k < c.length; k++) {
    if (c[k] === Number.POSITIVE_INFINITY) {
      forbidden = true
      break
    }
  }
  // Without forbidden pairs every point with mass sees every other one.
  if (forbidden) checkAllowedPairs(operation, C, a, b)
}

export { positiveFinite }

/** Throws `InvalidOptions` unless `value` is a number ≥ 0. */
export const nonNegative = (operation: string, field: string, value: unknown): number => {
  if (typeof value !== "number" || !(value >= 0))
    throw new Errors.InvalidOptions({ operation, field, value, requirement: "a number ≥ 0" })
  return value
}

/** Throws `InvalidOptions` unless `value` is an integer ≥ min. */
export const integerAtLeast = (operation: string, field: string, value: unknown, min: number): number => {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min)
    throw new Errors.InvalidOptions({ operation, field, value, requirement: `an integer ≥ ${min}` })
  return value
}

/**
 * Validated weights of length n (default uniform 1/n): finite
 * (`NonFiniteInput`), ≥ 0 (`NegativeMass`), positive total (`InvalidOptions`).
 */
export const readWeights = (
  operation: string,
  what: string,
  values: ArrayLike<number> | undefined,
  n: number
): { readonly w: Float64Array; readonly mass: number } => {
  if (values === undefined) return { w: Vector.full(n, 1 / n), mass: 1 }
  if (values.length !== n)
    throw new Errors.DimensionMismatch({ operation, what, expected: [n], actual: [values.length] })
  const w = Vector.fromArray(values)
  let mass = 0
  for (let i = 0; i < n; i++) {
    const v = w[i]!
    if (!Number.isFinite(v)) throw new Errors.NonFiniteInput({ operation, what, index: i, value: v })
    if (v < 0) throw new NegativeMass({ operation, what, index: i, value: v })
    mass += v
  }
  if (!(mass > 0))
    throw new Errors.InvalidOptions({ operation, field: what, value: mass, requirement: "a total mass > 0" })
  return { w, mass }
}

/** Throws `UnbalancedMarginals` unless the masses agree to the relative tolerance. */
export const checkBalanced = (operation: string, massA: number, massB: number, tolerance: number): void => {
  if (Math.abs(massA - massB) > tolerance * Math.max(massA, massB))
    throw new UnbalancedMarginals({ operation, sumA: massA, sumB: massB, tolerance })
}

/** Throws unless `C` is a finite (or +∞ where `allowInfinity`) non-empty matrix of the given shape. */
export const checkMatrix = (
  operation: string,
  what: string,
  C: Matrix.Matrix,
  rows: number,
  cols: number,
  allowInfinity: boolean
): void => {
  if (rows === 0 || cols === 0) throw new Errors.EmptyInput({ operation, what })
  if (C.rows !== rows || C.cols !== cols || C.data.length !== rows * cols)
    throw new Errors.DimensionMismatch({ operation, what, expected: [rows, cols], actual: [C.rows, C.cols] })
  for (let k = 0; k < C.data.length; k++) {
    const v = C.data[k]!
    if (
      Number.isNaN(v) ||
      v === Number.NEGATIVE_INFINITY ||
      (!allowInfinity && v === Number.POSITIVE_INFINITY)
    )
      throw new Errors.NonFiniteInput({ operation, what, index: k, value: v })
  }
}

/** A checked copy of an optional warm-start potential (length n, no NaN or ±∞). */
export const readPotentialInto = (
  operation: string,
  what: string,
  x: ArrayLike<number> | undefined,
  n: number
): Float64Array | undefined => {
  if (x === undefined) return undefined
  if (x.length !== n)
    throw new Errors.DimensionMismatch({ operation, what, expected: [n], actual: [x.length] })
  const out = Vector.fromArray(x)
  const k = Vector.findNonFinite(out)
  if (k >= 0) throw new Errors.NonFiniteInput({ operation, what, index: k, value: out[k]! })
  return out
}
