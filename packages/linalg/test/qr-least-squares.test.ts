import { Errors, Matrix, Random } from "@descent/core"
import { assertClose } from "@descent/testing"
import fc from "fast-check"
import { expect, it } from "vitest"
import * as LeastSquares from "../src/LeastSquares.ts"
import * as Qr from "../src/Qr.ts"

// Both are backward-stable solvers of the same well-conditioned (κ ≲ 10³ for
// Gaussian tall matrices with m ≥ n + 5) problem; their solutions differ by at
// most ~κ²·n·u·‖x‖ ≈ 1e-9 in the worst case and far less in practice.
const AGREEMENT_RTOL = 1e-9

it("QR least squares agrees with the SVD route on full-rank tall problems", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 5, max: 30 }),
      fc.nat(),
      (n, extra, seed) => {
        const m = n + extra
        const [ka, kb] = Random.split(Random.key(seed), 2)
        const A = Matrix.fromData(m, n, Random.normal(ka!, m * n))
        const b = Random.normal(kb!, m)
        const x = Qr.solveLeastSquares(A, b)
        const ref = LeastSquares.lstsq(A, b).x
        assertClose(x, ref, { rtol: AGREEMENT_RTOL, atol: AGREEMENT_RTOL })
        // The same through a stored factorization.
        assertClose(Qr.solveLeastSquares(Qr.qr(A), b), x, { rtol: 0, atol: 0 })
      }
    ),
    { seed: 20261122, numRuns: 40 }
  )
})

it("rejects wide matrices, mismatched b and rank-deficient A with typed errors", () => {
  expect(() => Qr.solveLeastSquares(Matrix.zeros(2, 3), new Float64Array(2))).toThrow(
    Errors.DimensionMismatch
  )
  expect(() => Qr.solveLeastSquares(Matrix.identity(3), new Float64Array(2))).toThrow(
    Errors.DimensionMismatch
  )
  const rankDeficient = Matrix.fromRows([
    [1, 2],
    [2, 4],
    [3, 6]
  ])
  expect(() => Qr.solveLeastSquares(rankDeficient, new Float64Array([1, 2, 3]))).toThrow(Errors.Singular)
})
