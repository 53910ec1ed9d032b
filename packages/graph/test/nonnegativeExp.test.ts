import { Matrix, Random } from "@descent/core"
import { Expm } from "@descent/linalg"
import { assertClose } from "@descent/testing"
import { describe, it } from "vitest"
import { exponentialMinusIdentity, makeExpWorkspace } from "../src/internal/nonnegativeExp.ts"

/**
 * The same tolerance as notears.test.ts's EXPONENTIAL: both codes are
 * accurate to a few units of roundoff relative to the largest entry, and
 * linalg's Padé expm with its linear solve loses a few more digits than the
 * nonnegative Taylor series, so 1e-12 relative (1e-13 absolute, scaled by
 * the largest entry) leaves room for it.
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
