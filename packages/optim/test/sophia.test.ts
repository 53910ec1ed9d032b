import { Errors, Vector } from "@descent/core"
import { assertBitIdentical, assertClose } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { applyUpdatesInPlace } from "../src/GradientTransform.ts"
import { type ScaleBySophiaState, scaleBySophia, sophia, sophiaDefaults } from "../src/Sophia.ts"
import type { Params } from "../src/Tree.ts"
import {
  type FixtureCase,
  fixture,
  initialParams,
  named,
  objective,
  run,
  suboptimality
} from "./secondOrderProblems.ts"

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */
const FC = { seed: 20_261_122, numRuns: 40 } as const

/**
 * Tolerance of the cases that are not bit-identical, per leaf relative to the
 * leaf's largest entry. Two sources of roundoff, each bounded per step:
 * - Optax refreshes ν inside `jax.lax.cond`, which XLA compiles as one
 *   computation and contracts into a fused multiply-add,
 *   fma(β₂, ν, (1 − β₂)·D) (checked with exact rational arithmetic on the
 *   first differing entry); the plain multiply-add here differs by ≤ 1 ulp per
 *   refresh, and ν enters the step through one division;
 * - on the matrix problem, the gradient's inner products (length ≤ 6) are
 *   summed in another order by NumPy's BLAS than by core's gemm: ≤ 6u ≈ 7e-16
 *   relative per step.
 * Sophia's step is clipped (or, unclipped here, divided by max(γh, ε) ≥ ε = 10)
 * so it does not amplify these; 50 steps of ≤ 7e-16 stay below 3.5e-14.
 * (Observed: ≤ 1e-15.)
 */
const ROUNDOFF = 1e-13

/** Cases that agree with Optax bit for bit at every checkpoint. */
const bitIdentical = new Set(["sophiaDefault", "sophiaRosenbrock"])

const build = (c: FixtureCase) => {
  const h = c.hyperparameters as Record<string, never>
  return sophia(h.learningRate, h)
}

describe("sophia reproduces optax.contrib.sophia (Optax 0.2.8, float64)", () => {
  const cases = fixture.cases.filter((c) => c.optimizer === "sophia")

  it("has the fixture's cases", () =>
    expect(cases.map((c) => c.name).sort()).toEqual([
      "sophiaDefault",
      "sophiaMatrix",
      "sophiaNoClip",
      "sophiaRosenbrock"
    ]))

  // The Rademacher probes are JAX's bit for bit (core's Threefry `split` and
  // `bernoulli`), and the Hessian-vector products are exact: on the quadratic
  // λ ⊙ z, which JAX's jvp-of-grad also computes exactly, and on Rosenbrock
  // `Autodiff.hvp`, whose arithmetic happens to match JAX's here. So the
  // quadratic and Rosenbrock trajectories are bit-identical; the others differ
  // by roundoff (ROUNDOFF).
  it.each(cases.map((c) => [c.name, c] as const))("%s", (name, c) => {
    const hvp = c.problem === "quadratic" ? "exact" : "autodiff"
    run(
      build(c),
      c.problem,
      fixture.steps,
      (step, p) => {
        const expected = c.iterates[String(step)]
        if (expected === undefined) return
        for (const [leaf, values] of Object.entries(expected)) {
          const actual = named(p)[leaf]!
          const label = `${name} step ${step} leaf ${leaf}`
          if (bitIdentical.has(name)) assertBitIdentical(actual, values, label)
          else {
            const scale = Math.max(...values.map(Math.abs))
            assertClose(actual, values, { rtol: 0, atol: ROUNDOFF * scale, label })
          }
        }
      },
      hvp
    )
  })
})

describe("sophia's clipping and Hessian schedule", () => {
  it("no coordinate moves by more than η·ρ (weight decay 0), for any curvature", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -50, max: 50, noNaN: true }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 8, maxLength: 8 }),
        fc.double({ min: 1e-4, max: 1, noNaN: true }),
        fc.double({ min: 0.1, max: 2, noNaN: true }),
        fc.integer({ min: 0, max: 1000 }),
        (curvature, start, learningRate, clipThreshold, seed) => {
          // f(x) = ½ Σ cᵢ xᵢ², possibly indefinite: the Hessian estimate can be negative.
          const n = curvature.length
          const c = Vector.fromArray(curvature)
          const x = Vector.fromArray(start.slice(0, n))
          const g = Vector.zeros(n)
          const tx = sophia(learningRate, { clipThreshold, weightDecay: 0, updateInterval: 2, seed })
          let state = tx.init(x)
          const hvp = (v: Params): Params => {
            const out = Vector.zeros(n)
            for (let i = 0; i < n; i++) out[i] = c[i]! * (v as Float64Array)[i]!
            return out
          }
          for (let step = 0; step < 6; step++) {
            for (let i = 0; i < n; i++) g[i] = c[i]! * x[i]!
            const r = tx.update(g, state, x, { hessianVectorProduct: hvp })
            state = r.state
            const u = r.updates as Float64Array
            // u = −η·clip(·) in exact arithmetic; one rounding of the product.
            for (let i = 0; i < n; i++)
              expect(Math.abs(u[i]!)).toBeLessThanOrEqual(learningRate * clipThreshold * (1 + 2 ** -52))
            applyUpdatesInPlace(x, u)
          }
        }
      ),
      FC
    )
  })

  it("estimates the Hessian at steps 1, k + 1, 2k + 1, … and uses the estimate from before the refresh", () => {
    const k = 3
    const calls: number[] = []
    const tx = scaleBySophia({ updateInterval: k })
    const x = Vector.fromArray([1, -2])
    let state: ScaleBySophiaState = tx.init(x)
    for (let step = 1; step <= 8; step++) {
      const hvpAtStep = (v: Params): Params => {
        calls.push(step)
        const out = Vector.zeros(2)
        for (let i = 0; i < 2; i++) out[i] = 4 * (v as Float64Array)[i]!
        return out
      }
      const nuBefore = Vector.clone(state.nu as Float64Array)
      state = tx.update(Vector.fromArray([0.5, 0.5]), state, x, { hessianVectorProduct: hvpAtStep }).state
      const nuAfter = state.nu as Float64Array
      if ((step - 1) % k === 0) {
        // ν ← (1 − β₂)·D + β₂·ν with D = z ⊙ 4z = 4 exactly.
        for (let i = 0; i < 2; i++) expect(nuAfter[i]).toBe((1 - 0.99) * 4 + 0.99 * nuBefore[i]!)
      } else {
        assertBitIdentical(nuAfter, nuBefore, `ν unchanged at step ${step}`)
      }
    }
    expect(calls).toEqual([1, 4, 7])
  })

  it("the same seed gives bit-identical runs, another seed another run (Rosenbrock)", () => {
    const trajectory = (seed: number) => {
      // γ = 1 keeps the step unclipped (|m̂/h| < 1), so it depends on the probes:
      // on Rosenbrock z ⊙ Hz = diag H ± the off-diagonal term.
      const tx = sophia(1e-3, { seed, gamma: 1, updateInterval: 1, weightDecay: 0 })
      const p = run(tx, "rosenbrock", 20, () => {}, "autodiff")
      return Array.from(p as Float64Array)
    }
    assertBitIdentical(Vector.fromArray(trajectory(11)), trajectory(11), "same seed")
    expect(trajectory(11)).not.toEqual(trajectory(12))
  })
})

describe("sophia reduces the test problems", () => {
  it("10-d quadratic (κ = 1e3): f drops below 1e-4·f(x₀) in 300 steps", () => {
    // γ = 1 and a fresh estimate every step make the unclipped step a damped
    // Newton step η·m̂/λ (η = 0.5); clipping at ρ = 1 bounds the early steps.
    const f0 = objective("quadratic", initialParams("quadratic"))
    const tx = sophia(0.5, { gamma: 1, b2: 0.9, updateInterval: 1, weightDecay: 0 })
    const p = run(tx, "quadratic", 300, () => {}, "exact")
    expect(objective("quadratic", p)).toBeLessThan(1e-4 * f0)
  })

  it("matrix least squares ½‖AWB − C‖² + …: f − f* < 2e-2·(f(x₀) − f*) in 200 steps", () => {
    const gap0 = suboptimality("matrixLs", initialParams("matrixLs"))
    const tx = sophia(2e-2, { gamma: 1, updateInterval: 1, weightDecay: 0 })
    const p = run(tx, "matrixLs", 200, () => {}, "autodiff")
    expect(suboptimality("matrixLs", p)).toBeLessThan(2e-2 * gap0)
  })
})

describe("sophia's errors", () => {
  const invalid: ReadonlyArray<readonly [string, () => unknown]> = [
    ["b1", () => scaleBySophia({ b1: 1 })],
    ["b2", () => scaleBySophia({ b2: -0.1 })],
    ["eps", () => scaleBySophia({ eps: -1 })],
    ["gamma", () => scaleBySophia({ gamma: Number.NaN })],
    ["clipThreshold", () => scaleBySophia({ clipThreshold: 0 })],
    ["updateInterval", () => scaleBySophia({ updateInterval: 1.5 })],
    ["seed", () => scaleBySophia({ seed: -1 })],
    ["weightDecay", () => sophia(1e-3, { weightDecay: -1 })],
    ["learningRate", () => sophia(-1)]
  ]
  it.each(invalid)("InvalidOptions names %s", (field, make) => {
    try {
      make()
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(Errors.InvalidOptions)
      expect((e as Errors.InvalidOptions).field).toBe(field)
    }
  })

  it("a missing Hessian-vector product is InvalidOptions naming hessianVectorProduct", () => {
    const tx = sophia(1e-3)
    const x = Vector.fromArray([1, 2])
    const state = tx.init(x)
    expect(() => tx.update(Vector.fromArray([1, 1]), state, x)).toThrow(
      expect.objectContaining({ _tag: "InvalidOptions", field: "hessianVectorProduct" })
    )
  })

  it("updates or a Hessian-vector product of the wrong shape are DimensionMismatch", () => {
    const tx = sophia(1e-3)
    const x = Vector.fromArray([1, 2])
    const hessianVectorProduct = (v: Params) => v
    expect(() => tx.update(Vector.fromArray([1, 1, 1]), tx.init(x), x, { hessianVectorProduct })).toThrow(
      Errors.DimensionMismatch
    )
    expect(() =>
      tx.update(Vector.fromArray([1, 1]), tx.init(x), x, { hessianVectorProduct: () => Vector.zeros(3) })
    ).toThrow(Errors.DimensionMismatch)
  })

  it("documents Optax's defaults", () => {
    expect(sophiaDefaults).toEqual({
      b1: 0.965,
      b2: 0.99,
      eps: 1e-8,
      gamma: 0.01,
      clipThreshold: 1,
      updateInterval: 10,
      seed: 0,
      weightDecay: 1e-4
    })
  })
})
