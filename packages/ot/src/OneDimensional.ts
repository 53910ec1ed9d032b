/**
 * Optimal transport on the real line in closed form. For weighted points
 * x_1 … x_n (weights a) and y_1 … y_m (weights b, same total mass) and the
 * cost |x − y|^p with p ≥ 1,
 *
 *   W_p^p(α, β) = ∫₀¹ |F_α⁻¹(t) − F_β⁻¹(t)|^p dt,
 *
 * attained by the monotone (quantile) coupling: sort both point sets and
 * merge their cumulative weights, moving mass from the k-th source quantile
 * to the k-th target quantile (the north-west corner rule on sorted points,
 * optimal because |x − y|^p is a Monge cost for p ≥ 1; Villani, *Topics in
 * Optimal Transportation*, 2003, Thm 2.18; Peyré & Cuturi, *Computational
 * Optimal Transport*, 2019, §2.6). O((n + m) log(n + m)) for the sorts, then
 * one linear merge.
 *
 * The plan is the staircase of the merge: exactly n + m − 1 entries (a
 * spanning tree of the bipartite graph; some may carry 0 mass when cumulative
 * weights coincide). Dual potentials come from that tree
 * (f_i + g_j = |x_i − y_j|^p on it, ≤ elsewhere by the Monge property),
 * centered so that aᵀf = bᵀg. Costs are in the points' own units (no
 * normalization).
 *
 * @since 0.1.0
 */
import { Errors, Vector } from "@descent/core"
import { NegativeMass, UnbalancedMarginals } from "./Errors.ts"
import { defaultLinearProblemOptions } from "./LinearProblem.ts"
import { type SparsePlan, toDense } from "./SparsePlan.ts"
import type { TransportResult } from "./TransportResult.ts"

/**
 * Options of `solve`.
 *
 * @category models
 * @since 0.1.0
 */
export interface OneDimensionalOptions {
  /** Weights of x (length n, ≥ 0, positive total); default uniform 1/n. */
  readonly a?: ArrayLike<number>
  /** Weights of y (length m); default uniform 1/m. Total must match a's to `massTolerance` (b is rescaled to it). */
  readonly b?: ArrayLike<number>
  /** The exponent p ≥ 1 of the cost |x − y|^p. Default 2. */
  readonly p?: number
  /** Relative tolerance on |Σa − Σb|. Default 1e-9 (as `LinearProblem`). */
  readonly massTolerance?: number
}

/**
 * Defaults of `OneDimensionalOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultOneDimensionalOptions = {
  p: 2,
  massTolerance: defaultLinearProblemOptions.massTolerance
} as const

/**
 * The result: `cost` is W_p^p = Σ mass·|x_i − y_j|^p, `distance` is W_p.
 *
 * @category models
 * @since 0.1.0
 */
export interface OneDimensionalResult extends TransportResult {
  readonly p: number
  /** W_p = cost^(1/p). */
  readonly distance: number
  /** The monotone plan (n + m − 1 entries, original indices). */
  readonly transport: SparsePlan
}

const NAME = "OneDimensional.solve"

const checkPoints = (what: string, x: ArrayLike<number>): void => {
  if (x.length === 0) throw new Errors.EmptyInput({ operation: NAME, what })
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!))
      throw new Errors.NonFiniteInput({ operation: NAME, what, index: i, value: x[i]! })
  }
}

const weights = (
  what: "a" | "b",
  values: ArrayLike<number> | undefined,
  length: number
): { readonly w: Float64Array; readonly mass: number } => {
  if (values === undefined) return { w: Vector.full(length, 1 / length), mass: 1 }
  if (values.length !== length) {
    throw new Errors.DimensionMismatch({ operation: NAME, what, expected: [length], actual: [values.length] })
  }
  const w = Vector.fromArray(values)
  let mass = 0
  for (let i = 0; i < length; i++) {
    const v = w[i]!
    if (!Number.isFinite(v)) throw new Errors.NonFiniteInput({ operation: NAME, what, index: i, value: v })
    if (v < 0) throw new NegativeMass({ operation: NAME, what, index: i, value: v })
    mass += v
  }
  if (!(mass > 0)) {
    throw new Errors.InvalidOptions({
      operation: NAME,
      field: what,
      value: mass,
      requirement: "a total mass > 0"
    })
  }
  return { w, mass }
}

/** Indices of `x` in increasing order of value. */
const argsort = (x: ArrayLike<number>): Int32Array => {
  const idx = new Int32Array(x.length)
  for (let i = 0; i < idx.length; i++) idx[i] = i
  return idx.sort((i, j) => x[i]! - x[j]! || i - j)
}

/**
 * W_p between two weighted point sets on the line (see the module comment).
 *
 * @example
 * const { cost, distance, transport } = OneDimensional.solve([0, 1, 3], [0.5, 2], { p: 1 })
 * @throws EmptyInput, NonFiniteInput, DimensionMismatch, NegativeMass for bad points or weights.
 * @throws UnbalancedMarginals when Σa and Σb differ beyond `massTolerance`.
 * @throws InvalidOptions for p < 1 (or not finite) and a bad `massTolerance`.
 * @category solvers
 * @since 0.1.0
 */
export const solve = (
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  options: OneDimensionalOptions = {}
): OneDimensionalResult => {
  const p = options.p ?? defaultOneDimensionalOptions.p
  if (typeof p !== "number" || !(p >= 1) || !Number.isFinite(p)) {
    throw new Errors.InvalidOptions({
      operation: NAME,
      field: "p",
      value: p,
      requirement: "a finite number ≥ 1"
    })
  }
  const tolerance = options.massTolerance ?? defaultOneDimensionalOptions.massTolerance
  if (typeof tolerance !== "number" || !(tolerance >= 0)) {
    throw new Errors.InvalidOptions({
      operation: NAME,
      field: "massTolerance",
      value: tolerance,
      requirement: "a number ≥ 0"
    })
  }
  checkPoints("x", x)
  checkPoints("y", y)
  const n = x.length
  const m = y.length
  const { w: a, mass: massA } = weights("a", options.a, n)
  const { w: b, mass: massB } = weights("b", options.b, m)
  if (Math.abs(massA - massB) > tolerance * Math.max(massA, massB)) {
    throw new UnbalancedMarginals({ operation: NAME, sumA: massA, sumB: massB, tolerance })
  }
  const rescale = massA / massB
  const power =
    p === 1 ? (d: number) => Math.abs(d) : p === 2 ? (d: number) => d * d : (d: number) => Math.abs(d) ** p
  const ix = argsort(x)
  const iy = argsort(y)
  // The merge: n + m − 1 cells; after each, the exhausted side advances
  // (the source side when both are, unless it is at its end).
  const size = n + m - 1
  const rows = new Int32Array(size)
  const cols = new Int32Array(size)
  const mass = Vector.zeros(size)
  const f = Vector.zeros(n)
  const g = Vector.zeros(m)
  let i = 0
  let j = 0
  let ra = a[ix[0]!]!
  let rb = b[iy[0]!]! * rescale
  let cost = 0
  g[iy[0]!] = power(x[ix[0]!]! - y[iy[0]!]!)
  for (let k = 0; k < size; k++) {
    const si = ix[i]!
    const tj = iy[j]!
    const c = power(x[si]! - y[tj]!)
    const t = Math.min(ra, rb)
    rows[k] = si
    cols[k] = tj
    mass[k] = t
    cost += t * c
    ra -= t
    rb -= t
    if (k === size - 1) break
    if ((ra === 0 && i < n - 1) || j === m - 1) {
      i++
      ra = a[ix[i]!]!
      f[ix[i]!] = power(x[ix[i]!]! - y[tj]!) - g[tj]!
    } else {
      j++
      rb = b[iy[j]!]! * rescale
      g[iy[j]!] = power(x[si]! - y[iy[j]!]!) - f[si]!
    }
  }
  let af = 0
  let bg = 0
  for (let s = 0; s < n; s++) af += a[s]! * f[s]!
  for (let s = 0; s < m; s++) bg += b[s]! * g[s]!
  const shift = (bg - af) / (massA + massB)
  for (let s = 0; s < n; s++) f[s]! += shift
  for (let s = 0; s < m; s++) g[s]! -= shift
  const transport: SparsePlan = { sourceCount: n, targetCount: m, rows, cols, mass }
  return {
    status: "converged",
    iterations: 0,
    f,
    g,
    cost,
    p,
    distance: cost ** (1 / p),
    transport,
    marginalErrors: [],
    plan: () => toDense(transport)
  }
}
