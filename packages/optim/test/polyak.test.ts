import { Vector } from "@descent/core"
import { assertBitIdentical, assertClose } from "@descent/testing"
import { describe, expect, it } from "vitest"
import { applyUpdatesInPlace, chain, stateSize } from "../src/GradientTransform.ts"
import { momo, polyakSgd, scaleByPolyak } from "../src/Polyak.ts"
import * as Schedules from "../src/Schedules.ts"
import { trace } from "../src/Transforms.ts"
import * as Tree from "../src/Tree.ts"
import { type AnyTransform, casesOf, fixture, invalidField, type PaperCase, run } from "./paper-fixture.ts"

/**
 * MoMo against Optax proper. Optax computes the inner products ⟨g, x⟩ and
 * ⟨d, x⟩ with `vdot`, which XLA:CPU evaluates as a chain of fused
 * multiply-adds s ← fma(aᵢ, bᵢ, s) (verified against exact rational
 * arithmetic); `momo` rounds each product, so an inner product can differ by
 * an ulp or two. With `optax.tree.vdot` replaced by an index-order sum the
 * fixture's `iterates` agree with `momo` bit for bit (first block below), so
 * these ulps are the only difference from `optaxIterates`. They stay small
 * where the step is a smooth function of the state: at most 4.8e-14
 * relative over 100 steps in three of the four cases, within the budget of
 * 1e-13.
 */
const FMA_DOT = 1e-13

/**
 * MoMo* (adaptLowerBound) on Rosenbrock amplifies those ulps: its lower bound
 * is reset by the comparison cap < (1 + αλ)·lb and re-estimated from
 * f̄ + ⟨d, x⟩ − γ each step, a feedback loop along Rosenbrock's curved valley.
 * The first difference (2 ulps in γ, at step 8) grows to 1.1e-11 relative at
 * step 50 (9.9e-12 at step 100); 1e-10 bounds it with a 10× margin. The
 * bit-for-bit comparison with the index-order reference is the test of the
 * arithmetic for this case.
 */
const AMPLIFIED_FMA_DOT = 1e-10

/** A copy of a parameter tree (updates are written in place). */
const copyTree = <T>(params: T): T => structuredClone(params)

const build = (c: PaperCase): AnyTransform => {
  const h = c.hyperparameters as Record<string, never>
  switch (c.optimizer) {
    case "polyakSgd":
    case "polyakSgdFull":
      return polyakSgd(h)
    case "momo":
    case "momoFull":
      return momo(h.learningRate, h)
    default:
      throw new Error(`unknown fixture optimizer ${c.optimizer}`)
  }
}

describe("Polyak step sizes reproduce Optax 0.2.8 (float64)", () => {
  // optax.polyak_sgd: bit for bit (the same operations; the squared norm of a
  // leaf of ≤ 17 entries is summed in the same order, see Tree.squaredNorm).
  const polyak = casesOf("polyakSgd", "polyakSgdFull")
  it.each(polyak.map((c) => [`${c.optimizer} on ${c.problem}`, c] as const))("%s", (_name, c) => {
    const seen: number[] = []
    run(build(c), c, (step, p) => {
      const expected = c.iterates[String(step)]
      if (expected === undefined) return
      assertBitIdentical(p, expected, `${c.optimizer}/${c.problem} step ${step}`)
      seen.push(step)
    })
    expect(seen).toEqual(fixture.checkpoints)
  })

  // optax.contrib.momo with index-order inner products: bit for bit; Optax
  // proper (XLA's fused dot products): to FMA_DOT, see above.
  const momos = casesOf("momo", "momoFull")
  it.each(momos.map((c) => [`${c.optimizer} on ${c.problem}`, c] as const))("%s", (_name, c) => {
    const seen: number[] = []
    const rtol = c.optimizer === "momoFull" && c.problem === "rosenbrock" ? AMPLIFIED_FMA_DOT : FMA_DOT
    run(build(c), c, (step, p) => {
      const expected = c.iterates[String(step)]
      if (expected === undefined) return
      assertBitIdentical(p, expected, `${c.optimizer}/${c.problem} step ${step}`)
      const optax = c.optaxIterates![String(step)]!
      assertClose(p, optax, { rtol, atol: 0, label: `${c.optimizer}/${c.problem} vs Optax, step ${step}` })
      seen.push(step)
    })
    expect(seen).toEqual(fixture.checkpoints)
  })

  it("covers SPS, SPS+ with scaling, MoMo and MoMo* on both problems", () => {
    expect(polyak.length).toBe(4)
    expect(momos.length).toBe(4)
  })
})

describe("Polyak step semantics", () => {
  it("SPS_max: the step is min((f − f*)/‖g‖², γ_max)·g", () => {
    const g = Vector.fromArray([3, 4])
    const tx = scaleByPolyak({ fMin: 1, maxLearningRate: 10 })
    const r = tx.update(Vector.clone(g), tx.init(g), undefined, { value: 51 })
    assertBitIdentical(r.updates as Float64Array, Vector.fromArray([6, 8])) // (51 − 1)/25 = 2
    const capped = scaleByPolyak({ maxLearningRate: 0.5 })
    const c = capped.update(Vector.clone(g), capped.init(g), undefined, { value: 1e6 })
    assertBitIdentical(c.updates as Float64Array, Vector.fromArray([1.5, 2]))
  })

  it("a zero gradient takes no step; SPS+ takes none below f*, SPS ascends", () => {
    const zero = Vector.zeros(3)
    const tx = scaleByPolyak()
    const r = tx.update(Vector.clone(zero), tx.init(zero), undefined, { value: 5 })
    assertBitIdentical(r.updates as Float64Array, zero)
    const g = Vector.fromArray([1])
    const plus = scaleByPolyak({ fMin: 2, variant: "sps+" })
    expect(
      (plus.update(Vector.clone(g), plus.init(g), undefined, { value: 1 }).updates as Float64Array)[0]
    ).toBe(0)
    const sps = scaleByPolyak({ fMin: 2 })
    expect(
      (sps.update(Vector.clone(g), sps.init(g), undefined, { value: 1 }).updates as Float64Array)[0]
    ).toBe(-1)
  })

  it("polyakSgd solves a quadratic with f* = 0 in one step per eigen-direction", () => {
    // f(x) = ½‖x‖²: the Polyak step (½‖x‖²)/‖x‖² = ½ halves x each step.
    const p = Vector.fromArray([4, -2, 1])
    const tx = polyakSgd()
    let state = tx.init(p)
    for (let t = 0; t < 3; t++) {
      let f = 0
      for (let i = 0; i < p.length; i++) f += 0.5 * p[i]! * p[i]!
      const r = tx.update(Vector.clone(p), state, p, { value: f })
      state = r.state
      applyUpdatesInPlace(p, r.updates)
    }
    assertBitIdentical(p, Vector.fromArray([0.5, -0.25, 0.125]))
  })

  it("works on trees and with schedules (scaling, MoMo's learning rate)", () => {
    const params = { a: Vector.fromArray([1, 2]), b: [Vector.fromArray([3])] }
    const tx = polyakSgd({ scaling: Schedules.constant(1) })
    const r = tx.update(copyTree(params), tx.init(params), params, { value: 7 })
    // step = 7/14 = ½ of the gradient, negated.
    assertBitIdentical(Tree.flatten(r.updates), Vector.fromArray([-0.5, -1, -1.5]))
    const m = momo((t) => 1 / (t + 1))
    const s = m.update(copyTree(params), m.init(params), params, { value: 7 })
    expect(s.state.count).toBe(1)
  })

  it("MoMo's first step is the capped Polyak step on the first gradient", () => {
    // β₀ = 0: d = g, f̄ = f, γ = ⟨g, x⟩, so τ = min(α, (f − f*)/‖g‖²) and x ← x − τ·g.
    const p = Vector.fromArray([2, -1])
    const g = Vector.fromArray([2, -1])
    const m = momo(10)
    const r = m.update(Vector.clone(g), m.init(p), p, { value: 2.5 })
    assertClose(r.updates as Float64Array, Vector.fromArray([-1, 0.5]), { rtol: 1e-15, atol: 0 })
    const capped = momo(0.1)
    const c = capped.update(Vector.clone(g), capped.init(p), p, { value: 2.5 })
    assertClose(c.updates as Float64Array, Vector.fromArray([-0.2, 0.1]), { rtol: 1e-15, atol: 0 })
  })

  it("MoMo holds one momentum buffer; the Polyak transform none", () => {
    const p = Vector.zeros(5)
    expect(stateSize(momo().init(p)).scalars).toBe(5)
    expect(stateSize(polyakSgd().init(p)).scalars).toBe(0)
    expect(stateSize(chain(trace({ decay: 0.9 }), scaleByPolyak()).init(p)).scalars).toBe(5)
  })
})

describe("bad hyperparameters and missing extras throw InvalidOptions naming the field", () => {
  it("constructors", () => {
    expect(invalidField(() => scaleByPolyak({ maxLearningRate: -1 }))).toBe("maxLearningRate")
    expect(invalidField(() => scaleByPolyak({ fMin: Number.NaN }))).toBe("fMin")
    expect(invalidField(() => scaleByPolyak({ eps: -1e-9 }))).toBe("eps")
    expect(invalidField(() => scaleByPolyak({ variant: "sps++" as "sps" }))).toBe("variant")
    expect(invalidField(() => polyakSgd({ scaling: -1 }))).toBe("learningRate")
    expect(invalidField(() => momo(-1))).toBe("learningRate")
    expect(invalidField(() => momo(1, { beta: 1 }))).toBe("beta")
    expect(invalidField(() => momo(1, { lowerBound: Number.POSITIVE_INFINITY }))).toBe("lowerBound")
    expect(invalidField(() => momo(1, { weightDecay: -0.1 }))).toBe("weightDecay")
    expect(invalidField(() => momo(1, { adaptLowerBound: 1 as unknown as boolean }))).toBe("adaptLowerBound")
  })

  it("update without extras.value (or without params for MoMo)", () => {
    const p = Vector.fromArray([1, 2])
    const sps = scaleByPolyak()
    expect(invalidField(() => sps.update(Vector.clone(p), sps.init(p), p))).toBe("value")
    expect(invalidField(() => sps.update(Vector.clone(p), sps.init(p), p, {}))).toBe("value")
    const sgd = polyakSgd()
    expect(invalidField(() => sgd.update(Vector.clone(p), sgd.init(p), p))).toBe("value")
    const m = momo()
    expect(invalidField(() => m.update(Vector.clone(p), m.init(p), p))).toBe("value")
    expect(invalidField(() => m.update(Vector.clone(p), m.init(p), undefined, { value: 1 }))).toBe("params")
  })
})
