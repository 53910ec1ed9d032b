/**
 * A linear optimal transport problem (OTT-JAX's `LinearProblem`): a geometry
 * and two marginals a ∈ ℝⁿ₊, b ∈ ℝᵐ₊,
 *
 *   min_{P ≥ 0} ⟨C, P⟩   s.t.  P·1 = a,  Pᵀ·1 = b           (balanced), or
 *   min_{P ≥ 0} ⟨C, P⟩ + ρ_a·KL(P·1 | a) + ρ_b·KL(Pᵀ·1 | b)   (unbalanced),
 *
 * with the entropic solvers adding ε·KL(P | a bᵀ) (or −ε·H(P), depending on
 * the solver's convention, stated there). Marginals default to uniform. The
 * constructor is where inputs are checked, once, for every solver:
 *
 * - lengths match the geometry (`DimensionMismatch`), none is empty
 *   (`EmptyInput`);
 * - entries are finite (`NonFiniteInput`) and non-negative (`NegativeMass`),
 *   with positive total mass;
 * - a balanced problem's masses agree to a relative tolerance
 *   (`UnbalancedMarginals`, stating both sums).
 *
 * @since 0.1.0
 */
import { Errors, Vector } from "@descent/core"
import { NegativeMass, UnbalancedMarginals } from "./Errors.ts"
import type { Geometry } from "./Geometry.ts"

/**
 * A validated linear OT problem.
 *
 * @category models
 * @since 0.1.0
 */
export interface LinearProblem {
  readonly geometry: Geometry
  readonly a: Float64Array
  readonly b: Float64Array
  /** Σa and Σb. */
  readonly massA: number
  readonly massB: number
  /**
   * KL penalties on the marginals: `Infinity` (default) for a hard
   * constraint (balanced); finite ρ > 0 relaxes that side (unbalanced).
   */
  readonly rhoA: number
  readonly rhoB: number
}

/**
 * Options of `make`.
 *
 * @category models
 * @since 0.1.0
 */
export interface LinearProblemOptions {
  /** Source weights (length `geometry.rows`); default uniform 1/n. */
  readonly a?: ArrayLike<number>
  /** Target weights (length `geometry.cols`); default uniform 1/m. */
  readonly b?: ArrayLike<number>
  /** KL penalty ρ_a > 0 on the source marginal; default ∞ (hard constraint). */
  readonly rhoA?: number
  /** KL penalty ρ_b > 0 on the target marginal; default ∞ (hard constraint). */
  readonly rhoB?: number
  /** Relative tolerance on |Σa − Σb| for balanced problems. Default 1e-9. */
  readonly massTolerance?: number
}

/**
 * Defaults of `LinearProblemOptions`.
 *
 * @category constants
 * @since 0.1.0
 */
export const defaultLinearProblemOptions = { massTolerance: 1e-9 } as const

const marginal = (
  operation: string,
  what: "a" | "b",
  values: ArrayLike<number> | undefined,
  length: number
): { readonly weights: Float64Array; readonly mass: number } => {
  if (values === undefined) return { weights: Vector.zeros(length).fill(1 / length), mass: 1 }
  if (values.length !== length) {
    throw new Errors.DimensionMismatch({ operation, what, expected: [length], actual: [values.length] })
  }
  if (length === 0) throw new Errors.EmptyInput({ operation, what })
  const weights = Vector.fromArray(values)
  let mass = 0
  for (let i = 0; i < length; i++) {
    const v = weights[i]!
    if (!Number.isFinite(v)) throw new Errors.NonFiniteInput({ operation, what, index: i, value: v })
    if (v < 0) throw new NegativeMass({ operation, what, index: i, value: v })
    mass += v
  }
  if (!(mass > 0)) {
    throw new Errors.InvalidOptions({ operation, field: what, value: mass, requirement: "a total mass > 0" })
  }
  return { weights, mass }
}

const penalty = (operation: string, field: string, value: number | undefined): number => {
  if (value === undefined) return Number.POSITIVE_INFINITY
  if (typeof value !== "number" || Number.isNaN(value) || value <= 0) {
    throw new Errors.InvalidOptions({
      operation,
      field,
      value,
      requirement: "a number > 0 (∞ for a hard constraint)"
    })
  }
  return value
}

/**
 * A linear problem on `geometry`, validated (see the module comment).
 *
 * @throws DimensionMismatch, EmptyInput, NonFiniteInput, NegativeMass,
 *   UnbalancedMarginals, InvalidOptions.
 * @category constructors
 * @since 0.1.0
 */
export const make = (geometry: Geometry, options: LinearProblemOptions = {}): LinearProblem => {
  const operation = "LinearProblem.make"
  const { weights: a, mass: massA } = marginal(operation, "a", options.a, geometry.rows)
  const { weights: b, mass: massB } = marginal(operation, "b", options.b, geometry.cols)
  const rhoA = penalty(operation, "rhoA", options.rhoA)
  const rhoB = penalty(operation, "rhoB", options.rhoB)
  const tolerance = options.massTolerance ?? defaultLinearProblemOptions.massTolerance
  if (!(tolerance >= 0)) {
    throw new Errors.InvalidOptions({
      operation,
      field: "massTolerance",
      value: tolerance,
      requirement: "a number ≥ 0"
    })
  }
  if (rhoA === Number.POSITIVE_INFINITY && rhoB === Number.POSITIVE_INFINITY) {
    if (Math.abs(massA - massB) > tolerance * Math.max(massA, massB)) {
      throw new UnbalancedMarginals({ operation, sumA: massA, sumB: massB, tolerance })
    }
  }
  return { geometry, a, b, massA, massB, rhoA, rhoB }
}

/**
 * True when both marginals are hard constraints.
 *
 * @category guards
 * @since 0.1.0
 */
export const isBalanced = (problem: LinearProblem): boolean =>
  problem.rhoA === Number.POSITIVE_INFINITY && problem.rhoB === Number.POSITIVE_INFINITY
