/**
 * Derivative rules of the differentiable linear-algebra operations against
 * central finite differences (`Autodiff.checkGrad`), including second
 * derivatives through the rules (Hessian-vector products against finite
 * differences of gradients).
 */
import { Autodiff, Matrix, Random, Tensor as T, type Tensor as TensorType } from "@descent/core"
import { assertClose } from "@descent/testing"
import { describe, expect, it } from "vitest"
import * as D from "../src/Differentiable.ts"
import { expmTraced } from "../src/Expm.ts"

type Tensor = TensorType.Tensor

const n = 5
const [k1, k2, k3, k4] = Random.split(Random.key(20261122), 4)
/** A well-conditioned general matrix (diagonally weighted), as a flat parameter vector. */
const a0 = Random.normal(k1!, n * n, { scale: 0.3 })
for (let i = 0; i < n; i++) a0[i * n + i] = a0[i * n + i]! + 2
const b0 = Random.normal(k2!, n)
const r = Random.normal(k3!, n * n)
const direction = Random.normal(k4!, n * n)

const matrixOf = (x: Tensor): Tensor => T.reshape(x, [n, n])
/** An SPD matrix B·Bᵀ + n·I from unconstrained parameters (symmetric by construction). */
const spdOf = (x: Tensor): Tensor => {
  const B = matrixOf(x)
  return T.add(T.matmul(B, T.transpose(B)), T.mul(n, T.from(Matrix.identity(n))))
}
/** A symmetric matrix (B + Bᵀ)/2 from parameters. */
const symOf = (x: Tensor): Tensor => {
  const B = matrixOf(x)
  return T.mul(0.5, T.add(B, T.transpose(B)))
}
const weights = T.reshape(T.from(r), [n, n])

// Central differences with h = 1e-6·max(1, |x|) on O(1)–O(10) functions:
// truncation h²·|f'''|/6 ≈ 1e-11, rounding ε·|f|/h ≈ 1e-9; 1e-6 relative
// (plus 1e-7 absolute for entries near 0) leaves a wide margin while still
// catching any wrong rule (errors there are O(1)).
const FD = { eps: 1e-6, rtol: 1e-6, atol: 1e-7 }

const cases: Array<[string, (x: Tensor) => Tensor]> = [
  ["solve (vector b)", (x) => T.dot(D.solve(matrixOf(x), b0), T.slice(T.from(r), 0, n))],
  ["solve (matrix b)", (x) => T.sum(T.mul(D.solve(matrixOf(x), T.transpose(matrixOf(x))), weights))],
  ["inverse", (x) => T.sum(T.mul(D.inverse(matrixOf(x)), weights))],
  ["logAbsDeterminant", (x) => D.logAbsDeterminant(matrixOf(x))],
  ["logDeterminantSpd", (x) => D.logDeterminantSpd(spdOf(x))],
  ["cholesky", (x) => T.sum(T.mul(D.cholesky(spdOf(x)), weights))],
  ["eigvalsh", (x) => T.sum(T.mul(D.eigvalsh(symOf(x)), T.slice(T.from(r), 0, n)))],
  // V·diag(λ)²·Vᵀ = A², a sign-invariant use of the eigenvectors.
  [
    "eigenvectors",
    (x) => {
      const A = symOf(x)
      const V = D.eigenvectors(A)
      const l = D.eigvalsh(A)
      const VL = T.mul(V, T.reshape(T.mul(l, l), [1, n]))
      return T.sum(T.mul(T.matmul(VL, T.transpose(V)), weights))
    }
  ],
  ["expm", (x) => T.sum(T.mul(expmTraced(T.mul(0.3, matrixOf(x))), weights))]
]

describe("derivative rules agree with finite differences", () => {
  for (const [name, f] of cases) {
    it(`gradient of ${name}`, () => {
      const result = Autodiff.checkGrad(f, a0, FD)
      expect(
        result.ok,
        `${name}: worst entry ${result.worstIndex}, max rel error ${result.maxRelError}`
      ).toBe(true)
    })
  }
})

// H·v against (∇f(x + hv) − ∇f(x − hv))/2h with h = 1e-5: truncation h²·|f''''|
// ≈ 1e-9 and rounding ε·|∇f|/h ≈ 1e-10 for these O(1) functions → 1e-6 relative
// to the largest entry is ample yet far below the O(1) error of a wrong rule.
const HVP_TOL = 1e-6

describe("Hessian-vector products through the rules", () => {
  for (const [name, f] of cases) {
    it(`hvp of ${name}`, () => {
      const hv = Autodiff.hvp(f, a0, direction) as Float64Array
      const h = 1e-5
      const plus = Float64Array.from(a0, (v, i) => v + h * direction[i]!)
      const minus = Float64Array.from(a0, (v, i) => v - h * direction[i]!)
      const gp = Autodiff.grad(f)(plus) as Float64Array
      const gm = Autodiff.grad(f)(minus) as Float64Array
      const fd = Float64Array.from(gp, (v, i) => (v - gm[i]!) / (2 * h))
      const scale = Math.max(...fd.map(Math.abs), 1)
      assertClose(hv, fd, { atol: HVP_TOL * scale, rtol: 0, label: name })
    })
  }
})

describe("values", () => {
  it("solve, inverse and log-determinants agree with each other", () => {
    const A = T.reshape(T.from(a0), [n, n])
    const x = D.solve(A, b0)
    const viaInverse = T.matmul(D.inverse(A), b0)
    assertClose(x.data, viaInverse.data, { rtol: 1e-12, atol: 1e-14 })
    const S = spdOf(T.from(a0))
    const L = D.cholesky(S)
    const twiceLogDiag =
      2 * Array.from({ length: n }, (_, i) => Math.log(L.data[i * n + i]!)).reduce((s, v) => s + v, 0)
    assertClose(D.logDeterminantSpd(S).item(), twiceLogDiag, { rtol: 1e-13 })
    assertClose(D.logAbsDeterminant(S).item(), twiceLogDiag, { rtol: 1e-12 })
  })
})
