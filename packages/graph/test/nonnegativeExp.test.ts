import { Matrix, Random } from "@descent/core"
import { Expm } from "@descent/linalg"
import { assertClose } from "@descent/testing"
import { describe, expect, it } from "vitest"
import { exponentialMinusIdentity, makeExpWorkspace } from "../src/internal/nonnegativeExp.ts"

/**
 * e^A − I (NOTEARS' acyclicity kernel) against `Expm.expm(A) − I`. The
 * reference's subtraction of I loses log₁₀(1/‖e^A − I‖) digits and linalg's
 * Padé expm with its linear solve a few more than the nonnegative Taylor
 * series, so the comparison is relative to the largest entry: both are
 * accurate to a few hundred ulp of it, and 1e-12 relative (1e-13 absolute,
 * scaled by the largest entry) leaves room for that.
 */
const EXPONENTIAL = { rtol: 1e-12, atol: 1e-13 }

const compare = (A: Matrix.Matrix) => {
  const d = A.rows
  const F = Matrix.zeros(d, d)
  exponentialMinusIdentity(A, F, makeExpWorkspace(d))
  const E = Expm.expm(A)
  for (let i = 0; i < d; i++) E.data[i * d + i] = E.data[i * d + i]! - 1
  assertClose(F.data, E.data, { ...EXPONENTIAL, atol: EXPONENTIAL.atol * Math.max(1, Math.max(...E.data)) })
}

describe("e^A − I for nearly nilpotent nonnegative A (the A⁸ bound)", () => {
  // W∘W of a near-DAG as NOTEARS meets it: large weights on a random order
  // (‖A‖₁ ≈ 10–40, which α from A² … A⁴ would scale by 2² … 2⁴), plus
  // back edges of weight `back` that make A not nilpotent. (Measured: the
  // bound from A² … A⁴ alone asks for degree 19 and 3 squarings on all five;
  // through ‖A⁸‖ the kernel takes degree 15 with 0, 0, 1 squarings, then
  // degree 19 with 1 and 2.)
  it.each([0, 1e-8, 1e-4, 1e-2, 0.3])("matches Expm.expm with back edges of weight %s", (back) => {
    const d = 15
    const u = Random.uniform(Random.key(7), d * d, { low: 0, high: 1 })
    const A = Matrix.zeros(d, d)
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        const w = u[i * d + j]!
        if (i < j && w < 0.35) A.data[i * d + j] = (1 + 3 * w) ** 2
        else if (i > j && w < 0.1) A.data[i * d + j] = back
      }
    }
    compare(A)
  })
})

describe("e^A − I for nonnegative A (internal kernel)", () => {
  it("matches Expm.expm over norms from 1e-6 to 50", () => {
    for (const scale of [1e-6, 1e-3, 0.1, 1, 5, 50]) {
      const A = Matrix.fromData(6, 6, Random.uniform(Random.key(5), 36, { low: 0, high: scale / 6 }))
      compare(A)
    }
  })

  it("is exact on nilpotent (DAG) matrices and zero", () => {
    const A = Matrix.fromRows([
      [0, 2, 0, 3],
      [0, 0, 4, 0],
      [0, 0, 0, 1],
      [0, 0, 0, 0]
    ])
    const F = Matrix.zeros(4, 4)
    exponentialMinusIdentity(A, F, makeExpWorkspace(4))
    // e^A − I = A + A²/2 + A³/6 for A⁴ = 0: entry (0, 3) is 3 + 0/2 + (2·4·1)/6.
    assertClose(F.data[0 * 4 + 3]!, 3 + 8 / 6, { rtol: 1e-15, atol: 0 })
    expect(F.data[0]).toBe(0)
    compare(A)
    exponentialMinusIdentity(Matrix.zeros(3, 3), F, makeExpWorkspace(3))
  })

  it("keeps h = tr(e^A − I) accurate when h ≪ d (tr e^A − d would keep 4 digits here)", () => {
    // A 2-cycle with weight ε: (e^A − I)₀₀ = cosh ε − 1 = ε²/2·(1 + ε²/12 + …), h = twice that.
    const eps = 1e-6
    const expected = ((eps * eps) / 2) * (1 + (eps * eps) / 12)
    const A = Matrix.fromRows([
      [0, eps, 0],
      [eps, 0, 0],
      [0, 0, 0]
    ])
    const F = Matrix.zeros(3, 3)
    exponentialMinusIdentity(A, F, makeExpWorkspace(3))
    // The truncation error is ≤ u·‖e^A − I‖₁ ≈ 1e-22 (norm-wise), i.e. 1e-10 relative to h here;
    // the series actually stops after ε⁴/24, a relative error of ε²/12 ≈ 1e-13.
    assertClose(F.data[0]! + F.data[4]! + F.data[8]!, 2 * expected, { rtol: 1e-12, atol: 0 })
  })
})
