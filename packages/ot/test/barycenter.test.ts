import { Errors, Matrix } from "@descent/core"
import { assertClose } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Barycenter from "../src/Barycenter.ts"
import * as Geometry from "../src/Geometry.ts"
import { fixture } from "./otMoreFixture.ts"

const SEED = 20260709
const { n, histograms, cases } = fixture.barycenter

/** ot.utils.dist0(n) / max: squared grid distances (i − j)², normalized. */
const gridCost = (): Matrix.Matrix => {
  const C = Matrix.zeros(n, n)
  const max = (n - 1) ** 2
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) C.data[i * n + j] = (i - j) ** 2 / max
  return C
}
const geometry = Geometry.fromCostMatrix(gridCost())

/**
 * POT iterated until the spread of the plans' column marginals fell below
 * 1e-14; ours stop at max_k ‖π_kᵀ1 − q‖₁ ≤ 1e-13. Entries of q are ≤ 0.06;
 * a marginal error δ moves them by O(δ) (the IBP map is a contraction near
 * its fixed point), so 1e-11 absolute leaves a margin of ~100. POT's
 * log-domain barycenter also replaces log A by log(A + 1e-16), which moves
 * entries where the histograms are ~1e-16 by about that much: covered.
 */
const BARYCENTER = { atol: 1e-11, rtol: 0 }

describe("Barycenter against POT (ot.bregman.barycenter)", () => {
  for (const c of cases) {
    it(c.name, () => {
      const problem = Barycenter.make(
        geometry,
        c.which.map((k) => histograms[k]!),
        { weights: c.weights }
      )
      const r = Barycenter.solve(problem, { epsilon: c.reg, tolerance: 1e-13, maxIterations: 20_000 })
      expect(r.status).toBe("converged")
      for (const [method, expected] of Object.entries(c.results)) {
        assertClose(r.barycenter, expected.barycenter, { ...BARYCENTER, label: method })
      }
      assertClose(
        Matrix.toRows(Matrix.fromData(1, n, r.barycenter))[0]!.reduce((s, v) => s + v, 0),
        1,
        {
          atol: 1e-12
        }
      )
      // The fixed-point condition: Σ_k λ_k g_k is constant where q carries mass.
      const s = new Float64Array(n)
      r.g.forEach((g, k) => {
        for (let j = 0; j < n; j++) s[j] = s[j]! + problem.weights[k]! * g[j]!
      })
      const support = Array.from(s).filter((_, j) => r.barycenter[j]! > 1e-10)
      // ε × (relative marginal error) bounds the spread: ≤ 1e-2 × 1e-8 here.
      expect(Math.max(...support) - Math.min(...support)).toBeLessThan(1e-8)
    })
  }
})

describe("Barycenter properties", () => {
  it("each plan has marginals b_k and q; the objective is Σ λ_k (⟨C, π_k⟩ − ε·H(π_k))", () => {
    const epsilon = 0.01
    const problem = Barycenter.make(geometry, [histograms[0]!, histograms[1]!], { weights: [0.4, 0.6] })
    const r = Barycenter.solve(problem, { epsilon, tolerance: 1e-12, maxIterations: 5000 })
    let objective = 0
    r.plans().forEach((P, k) => {
      const rows = new Float64Array(n)
      const cols = new Float64Array(n)
      let value = 0
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          const p = P.data[i * n + j]!
          rows[i] = rows[i]! + p
          cols[j] = cols[j]! + p
          value += p * geometry.cost.data[i * n + j]! + (p > 0 ? epsilon * p * (Math.log(p) - 1) : 0)
        }
      objective += problem.weights[k]! * value
      // Row error ≤ the reported one; columns are q up to rounding.
      expect(rows.reduce((e, v, i) => e + Math.abs(v - histograms[k]![i]!), 0)).toBeLessThanOrEqual(
        r.marginalError + 1e-15
      )
      assertClose(cols, r.barycenter, { atol: 1e-15, rtol: 1e-12 })
    })
    assertClose(r.objective, objective, { rtol: 1e-10 })
  })

  it("with all the weight on one histogram b, q = Kᵀ(b ⊘ K1), K = exp(−C/ε) (the column constraint is free)", () => {
    const epsilon = 0.05
    const problem = Barycenter.make(geometry, [histograms[0]!, histograms[1]!], { weights: [1, 0] })
    const r = Barycenter.solve(problem, { epsilon, tolerance: 1e-13, maxIterations: 5000 })
    expect(r.status).toBe("converged")
    const b = histograms[0]!
    const K = (i: number, j: number) => Math.exp(-geometry.cost.data[i * n + j]! / epsilon)
    const expected = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      let s = 0
      for (let j = 0; j < n; j++) s += K(i, j)
      for (let j = 0; j < n; j++) expected[j] = expected[j]! + (b[i]! * K(i, j)) / s
    }
    // One projection reaches the fixed point; rounding of exp/log sums only.
    assertClose(r.barycenter, expected, { atol: 1e-15, rtol: 1e-11 })
  })

  it("is invariant to the order of the histograms, on random histograms", () => {
    const m = 12
    const C = Matrix.zeros(m, m)
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) C.data[i * m + j] = ((i - j) / (m - 1)) ** 2
    const g = Geometry.fromCostMatrix(C)
    const histogram = fc
      .array(fc.double({ min: 0.01, max: 1, noNaN: true }), { minLength: m, maxLength: m })
      .map((v) => {
        const s = v.reduce((p, q) => p + q, 0)
        return v.map((x) => x / s)
      })
    fc.assert(
      fc.property(histogram, histogram, fc.double({ min: 0.1, max: 0.9, noNaN: true }), (h1, h2, w) => {
        const options = { epsilon: 0.05, tolerance: 1e-13, maxIterations: 20_000 }
        const r1 = Barycenter.solve(Barycenter.make(g, [h1, h2], { weights: [w, 1 - w] }), options)
        const r2 = Barycenter.solve(Barycenter.make(g, [h2, h1], { weights: [1 - w, w] }), options)
        expect(r1.status).toBe("converged")
        assertClose(r1.barycenter, r2.barycenter, { atol: 1e-11 })
      }),
      { seed: SEED, numRuns: 20 }
    )
  })

  it("rejects bad inputs with typed errors", () => {
    expect(() => Barycenter.make(geometry, [])).toThrow(Errors.EmptyInput)
    expect(() => Barycenter.make(geometry, [histograms[0]!, histograms[1]!.map((v) => 2 * v)])).toThrow(
      /masses differ/
    )
    expect(() => Barycenter.make(geometry, [histograms[0]!], { weights: [-1] })).toThrow(/negative/)
    expect(() => Barycenter.make(geometry, [[1, 2]])).toThrow(Errors.DimensionMismatch)
    const problem = Barycenter.make(geometry, [histograms[0]!])
    expect(() => Barycenter.solve(problem, { epsilon: 0 })).toThrow(Errors.InvalidOptions)
  })
})
