/**
 * Lion with decoupled weight decay solves a box-constrained problem (Chen,
 * Liu, Liang & Liu, "Lion Secretly Solves Constrained Optimization: As
 * Lyapunov Predicts", 2023): with weight decay λ > 0 and learning rate η,
 * ηλ ≤ 1, the box ‖x‖∞ ≤ 1/λ is invariant. `Optimizers.lion` is Optax's
 * `chain(scaleByLion, addDecayedWeights(λ), scaleByLearningRate(η))`, so one
 * step is
 *
 *   x' = x − η·(s + λ·x) = (1 − ηλ)·x − η·s,   s = sign(β₁·m + (1 − β₁)·g) ∈ {−1, 0, 1},
 *
 * and |x'ᵢ| ≤ (1 − ηλ)·|xᵢ| + η ≤ (1 − ηλ)/λ + η = 1/λ whenever |xᵢ| ≤ 1/λ,
 * whatever the gradients and the momentum.
 */
import { Vector } from "@descent/core"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { applyUpdatesInPlace } from "../src/GradientTransform.ts"
import * as Optimizers from "../src/Optimizers.ts"

/** Pinned fast-check seed: a failure reproduces exactly. */
const FC = { seed: 20_230_527, numRuns: 300 } as const

/**
 * The float64 slack of the invariance, relative to 1/λ. From inside the box
 * the exact step lands in it; its four roundings (λ·x, s + λx, −η·(…),
 * x + (…)) add at most (1 + 4ηλ)·u·(1/λ) ≤ 5u/λ (u = ε/2, ηλ ≤ 1), and the
 * bound fl(1/λ) is itself within u/λ of 1/λ: 6u = 3ε. Near the boundary the
 * exact map contracts toward 1/λ, so rounding can hold an iterate an ulp or
 * two outside but cannot push it further out. 4ε covers both.
 */
const BOX_SLACK = 4 * Number.EPSILON

const supNorm = (x: Float64Array): number => {
  let m = 0
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]!))
  return m
}

/** λ = 10^e, e ∈ [−3, 3]; r = ηλ ∈ (0, 1], with η = r/λ nudged down until η·λ ≤ 1 in float64. */
const hyper = fc
  .record({
    e: fc.double({ min: -3, max: 3, noNaN: true }),
    r: fc.oneof(fc.double({ min: 1e-4, max: 1, noNaN: true }), fc.constant(1)),
    b1: fc.double({ min: 0, max: 0.999, noNaN: true }),
    b2: fc.double({ min: 0, max: 0.999, noNaN: true })
  })
  .map(({ e, r, b1, b2 }) => {
    const lambda = 10 ** e
    let eta = r / lambda
    while (eta * lambda > 1) eta *= 1 - Number.EPSILON
    return { lambda, eta, b1, b2 }
  })

const gradientEntry = fc.oneof(
  fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  fc.constantFrom(0, -0, 1e-300, -1e-300)
)

/** Dimension, a start in [−1, 1]ⁿ (scaled by 1/λ in the test) and a sequence of gradients. */
const run = fc.integer({ min: 1, max: 6 }).chain((n) =>
  fc.record({
    unit: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: n, maxLength: n }),
    gradients: fc.array(fc.array(gradientEntry, { minLength: n, maxLength: n }), {
      minLength: 1,
      maxLength: 60
    })
  })
)

describe("Lion with weight decay λ and ηλ ≤ 1 keeps ‖x‖∞ ≤ 1/λ", () => {
  it("the box is invariant from any start inside it, for any gradients", () => {
    fc.assert(
      fc.property(hyper, run, ({ lambda, eta, b1, b2 }, { unit, gradients }) => {
        const bound = 1 / lambda
        const x = Vector.fromArray(unit.map((a) => a * bound))
        expect(supNorm(x)).toBeLessThanOrEqual(bound)
        const tx = Optimizers.lion(eta, { b1, b2, weightDecay: lambda })
        let state = tx.init(x)
        for (const g of gradients) {
          const r = tx.update(Vector.fromArray(g), state, x)
          state = r.state
          applyUpdatesInPlace(x, r.updates)
          expect(supNorm(x)).toBeLessThanOrEqual(bound * (1 + BOX_SLACK))
        }
      }),
      FC
    )
  })

  it("from outside, the sup norm never grows while above 1/λ", () => {
    // |x'ᵢ| ≤ (1 − ηλ)|xᵢ| + η ≤ |xᵢ| when |xᵢ| ≥ 1/λ: the iterates move toward the box.
    fc.assert(
      fc.property(
        hyper,
        run,
        fc.double({ min: 1, max: 10, noNaN: true }),
        (h, { unit, gradients }, scale) => {
          const bound = 1 / h.lambda
          const x = Vector.fromArray(unit.map((a) => a * scale * bound))
          const tx = Optimizers.lion(h.eta, { b1: h.b1, b2: h.b2, weightDecay: h.lambda })
          let state = tx.init(x)
          for (const g of gradients) {
            const before = Math.max(supNorm(x), bound)
            const r = tx.update(Vector.fromArray(g), state, x)
            state = r.state
            applyUpdatesInPlace(x, r.updates)
            expect(supNorm(x)).toBeLessThanOrEqual(before * (1 + BOX_SLACK))
          }
        }
      ),
      FC
    )
  })

  it("the bound is attained: a constant push drives x to 1/λ", () => {
    const lambda = 0.5
    const x = Vector.fromArray([0, 0])
    const tx = Optimizers.lion(0.1, { weightDecay: lambda })
    let state = tx.init(x)
    for (let t = 0; t < 2000; t++) {
      const r = tx.update(Vector.fromArray([-1, 1]), state, x)
      state = r.state
      applyUpdatesInPlace(x, r.updates)
    }
    expect(x[0]).toBeCloseTo(2, 12)
    expect(x[1]).toBeCloseTo(-2, 12)
  })
})
