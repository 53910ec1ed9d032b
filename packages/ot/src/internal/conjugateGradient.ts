/**
 * Preconditioned conjugate gradients for a symmetric positive semidefinite
 * operator with a diagonal (Jacobi) preconditioner (Hestenes & Stiefel 1952;
 * Saad, "Iterative Methods for Sparse Linear Systems", 2nd ed., Alg. 9.1).
 * @descent/linalg has no Krylov solver yet; this small one serves the Newton
 * systems of Sinkhorn–Newton–Sparse. A consistent singular system (the
 * Hessian of the entropic dual has the null vector (1, −1)) is fine: the
 * iterates stay in the range of the operator when x₀ = 0.
 */
import { Blas1, Vector } from "@descent/core"

export interface CgWorkspace {
  readonly r: Float64Array
  readonly z: Float64Array
  readonly p: Float64Array
  readonly q: Float64Array
}

export const cgWorkspace = (n: number): CgWorkspace => ({
  r: Vector.zeros(n),
  z: Vector.zeros(n),
  p: Vector.zeros(n),
  q: Vector.zeros(n)
})

/**
 * Solves A·x = rhs from x = 0 until ‖r‖₂ ≤ relTolerance·‖rhs‖₂ or `maxIterations`;
 * `inverseDiagonal` is M⁻¹; `onStep(α)`, when given, is called after each update
 * x ← x + α·p (the caller may accumulate a linear image of x from the products
 * `apply` just computed). Returns the iterations done; stops early (keeping the
 * last iterate) on non-positive curvature.
 */
export const pcg = (
  apply: (x: Float64Array, out: Float64Array) => void,
  inverseDiagonal: Float64Array,
  rhs: Float64Array,
  x: Float64Array,
  relTolerance: number,
  maxIterations: number,
  ws: CgWorkspace,
  onStep?: (alpha: number) => void
): number => {
  const { r, z, p, q } = ws
  const n = rhs.length
  x.fill(0)
  Blas1.copy(rhs, r)
  const target = relTolerance * Blas1.nrm2(rhs)
  for (let i = 0; i < n; i++) z[i] = r[i]! * inverseDiagonal[i]!
  Blas1.copy(z, p)
  let rz = Blas1.dot(r, z)
  let k = 0
  while (k < maxIterations && Blas1.nrm2(r) > target) {
    apply(p, q)
    const curvature = Blas1.dot(p, q)
    if (!(curvature > 0)) break
    const alpha = rz / curvature
    Blas1.axpy(alpha, p, x)
    if (onStep !== undefined) onStep(alpha)
    Blas1.axpy(-alpha, q, r)
    for (let i = 0; i < n; i++) z[i] = r[i]! * inverseDiagonal[i]!
    const rzNext = Blas1.dot(r, z)
    const beta = rzNext / rz
    rz = rzNext
    for (let i = 0; i < n; i++) p[i] = z[i]! + beta * p[i]!
    k++
  }
  return k
}
