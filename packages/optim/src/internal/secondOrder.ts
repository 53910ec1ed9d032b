/**
 * Helpers shared by the Hessian-free solvers (NewtonCg, TrustRegionNcg) and
 * the composite/constrained solvers: the max-norm, and the Hessian-vector
 * product of an objective — exact when it provides `hessianVectorProduct`,
 * else a forward difference of gradients.
 */
import { Blas1, type Objective, Vector } from "@descent/core"

/** ‖x‖∞ (NaN when x has a NaN; 0 for an empty vector). */
export const infNorm = (x: Float64Array): number => {
  const i = Blas1.iamax(x)
  return i < 0 ? 0 : Math.abs(x[i]!)
}

/** True when every entry is finite. */
export const allFinite = (x: Float64Array): boolean => Vector.findNonFinite(x) < 0

/** v ↦ ∇²f(x)·v at a fixed x whose gradient is known. */
export interface HessianOperator {
  /** True when the objective's exact `hessianVectorProduct` is used. */
  readonly exact: boolean
  /** out ← ∇²f(x)·v; `gradient` is ∇f(x) (used by the finite difference). */
  apply(x: Float64Array, gradient: Float64Array, v: Float64Array, out: Float64Array): void
}

const SQRT_EPS = Math.sqrt(Number.EPSILON)

/**
 * The exact product when `objective.hessianVectorProduct` exists; otherwise
 * ∇²f(x)·v ≈ (∇f(x + h·v) − ∇f(x))/h with h = √ε·(1 + ‖x‖₂)/‖v‖₂ (one
 * gradient per product, as SciPy's `approx_fhess_p`; error O(h·‖∇³f‖)).
 */
export const hessianOperator = (objective: Objective.Objective): HessianOperator => {
  const hvp = objective.hessianVectorProduct
  if (hvp !== undefined) return { exact: true, apply: (x, _g, v, out) => hvp(x, v, out) }
  const point = Vector.zeros(objective.dimension)
  const shifted = Vector.zeros(objective.dimension)
  return {
    exact: false,
    apply: (x, gradient, v, out) => {
      const norm = Blas1.nrm2(v)
      if (norm === 0) {
        out.fill(0)
        return
      }
      const h = (SQRT_EPS * (1 + Blas1.nrm2(x))) / norm
      Blas1.copy(x, point)
      Blas1.axpy(h, v, point)
      objective.valueAndGradient(point, shifted)
      Blas1.copy(shifted, out)
      Blas1.axpy(-1, gradient, out)
      Blas1.scal(1 / h, out)
    }
  }
}
