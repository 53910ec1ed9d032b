import { Errors, Matrix } from "@descent/core"
import { assertClose } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as GromovWasserstein from "../src/GromovWasserstein.ts"
import { fixture, matrix } from "./otMoreFixture.ts"

const SEED = 20260709

/**
 * Both runs start from p⊗q and apply the same map T ↦ Sinkhorn(∇E(T)): POT
 * with inner Sinkhorn to 1e-13 and the outer loop to ‖ΔT‖_F ≤ 1e-13 (checked
 * every 10 iterations), ours with inner marginal error ≤ 1e-13 and
 * ‖ΔT‖_F ≤ 1e-12. Inner errors perturb each iterate by ~1e-13, and the map
 * is contracting at the reached fixed point, so plan entries (≤ 0.1) agree to
 * ~1e-12: 1e-10 absolute leaves a margin of 100. Values are quadratic in T
 * with coefficients ≤ 1: the same bound.
 */
const PLAN = { atol: 1e-10, rtol: 0 }
const VALUE = { atol: 1e-10, rtol: 1e-9 }

describe("GromovWasserstein against POT (entropic_gromov_wasserstein / entropic_fused_gromov_wasserstein)", () => {
  for (const c of fixture.gromov) {
    it(c.name, () => {
      const problem = GromovWasserstein.make(matrix(c.C1), matrix(c.C2), {
        a: c.p,
        b: c.q,
        ...(c.kind === "fgw" ? { featureCost: matrix(c.M!), alpha: c.alpha! } : {})
      })
      const r = GromovWasserstein.solve(problem, {
        epsilon: c.epsilon,
        tolerance: 1e-12,
        maxIterations: 2000,
        innerTolerance: 1e-13,
        innerMaxIterations: 100_000
      })
      expect(r.status).toBe("converged")
      expect(r.innerFailures).toBe(0)
      assertClose(r.plan(), matrix(c.plan), { ...PLAN, label: "plan" })
      assertClose(r.cost, c.value, { ...VALUE, label: "value" })
    })
  }
})

describe("GromovWasserstein properties", () => {
  /** Distances between points of a random cloud, normalized. */
  const distances = (points: ReadonlyArray<number>, d: number): Matrix.Matrix => {
    const n = points.length / d
    const C = Matrix.zeros(n, n)
    let max = 0
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0
        for (let k = 0; k < d; k++) s += (points[i * d + k]! - points[j * d + k]!) ** 2
        C.data[i * n + j] = Math.sqrt(s)
        max = Math.max(max, C.data[i * n + j]!)
      }
    for (let k = 0; k < C.data.length; k++) C.data[k] = C.data[k]! / (max || 1)
    return C
  }

  it("GW between a space and a relabeling of itself finds the permutation: value ≈ the entropic floor, plan ≈ permutation/n", () => {
    const x = [0, 0, 1, 0, 0, 2, 3, 1, 1.5, 2.5]
    const perm = [3, 0, 4, 1, 2]
    const y = perm.flatMap((k) => [x[2 * k]!, x[2 * k + 1]!])
    const C1 = distances(x, 2)
    const C2 = distances(y, 2)
    const r = GromovWasserstein.solve(GromovWasserstein.make(C1, C2), { epsilon: 1e-3, tolerance: 1e-10 })
    expect(r.status).toBe("converged")
    const P = r.plan()
    for (let j = 0; j < 5; j++) expect(P.data[perm[j]! * 5 + j]!).toBeGreaterThan(0.2 - 1e-6)
    expect(r.gwLoss).toBeLessThan(1e-6)
  })

  it("plans stay in U(a, b) to the inner tolerance and GW(T) ≥ 0 on random spaces; the objective is symmetric in the spaces", () => {
    const cloud = (k: number) =>
      fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 2 * k, maxLength: 2 * k })
    fc.assert(
      fc.property(cloud(5), cloud(4), (xs, ys) => {
        const C1 = distances(xs, 2)
        const C2 = distances(ys, 2)
        const options = { epsilon: 0.05, tolerance: 1e-11, innerTolerance: 1e-12, innerMaxIterations: 10_000 }
        const r = GromovWasserstein.solve(GromovWasserstein.make(C1, C2), options)
        const P = r.plan()
        expect(r.marginalErrors[r.marginalErrors.length - 1]!).toBeLessThanOrEqual(1e-12)
        let rowError = 0
        for (let i = 0; i < 5; i++) {
          let s = 0
          for (let j = 0; j < 4; j++) s += P.data[i * 4 + j]!
          rowError += Math.abs(s - 0.2)
        }
        expect(rowError).toBeLessThanOrEqual(1e-11)
        expect(r.gwLoss).toBeGreaterThanOrEqual(-1e-14)
        // GW(T) for (C1, C2) equals GW(Tᵀ) for (C2, C1).
        const swapped = GromovWasserstein.make(C2, C1)
        const value = GromovWasserstein.solve(swapped, {
          ...options,
          initialPlan: Matrix.transpose(P),
          maxIterations: 0
        })
        assertClose(value.gwLoss, r.gwLoss, { rtol: 1e-10, atol: 1e-14 })
      }),
      { seed: SEED, numRuns: 15 }
    )
  })

  it("fused GW with α = 0 is entropic OT on the feature cost", () => {
    const C1 = Matrix.fromRows([
      [0, 1],
      [1, 0]
    ])
    const M = Matrix.fromRows([
      [0, 1, 0.5],
      [0.7, 0.1, 0.2]
    ])
    const C2 = Matrix.fromRows([
      [0, 1, 2],
      [1, 0, 1],
      [2, 1, 0]
    ])
    const r = GromovWasserstein.solve(GromovWasserstein.make(C1, C2, { featureCost: M, alpha: 0 }), {
      epsilon: 0.1,
      innerTolerance: 1e-14
    })
    expect(r.status).toBe("converged")
    // One step solves it: the gradient is M whatever T is; the second step changes nothing.
    expect(r.iterations).toBe(2)
    assertClose(r.cost, r.linearLoss, { rtol: 0 })
  })

  it("rejects bad problems and options", () => {
    const C = Matrix.fromRows([
      [0, 1],
      [1, 0]
    ])
    expect(() => GromovWasserstein.make(C, Matrix.zeros(2, 3))).toThrow(Errors.DimensionMismatch)
    expect(() => GromovWasserstein.make(C, C, { alpha: 0.5 })).toThrow(Errors.InvalidOptions)
    expect(() => GromovWasserstein.make(C, C, { featureCost: C, alpha: 2 })).toThrow(Errors.InvalidOptions)
    expect(() =>
      GromovWasserstein.make(
        Matrix.fromRows([
          [0, Number.NaN],
          [1, 0]
        ]),
        C
      )
    ).toThrow(Errors.NonFiniteInput)
    const problem = GromovWasserstein.make(C, C)
    expect(() => GromovWasserstein.solve(problem, { epsilon: 0 })).toThrow(Errors.InvalidOptions)
    expect(() => GromovWasserstein.solve(problem, { innerMaxIterations: 0 })).toThrow(Errors.InvalidOptions)
    expect(() => GromovWasserstein.solve(problem, { initialPlan: Matrix.full(2, 2, -1) })).toThrow(
      Errors.InvalidOptions
    )
  })
})
