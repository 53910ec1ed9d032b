import { Vector } from "@descent/core"
import { assertBitIdentical } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { stateSize } from "../src/GradientTransform.ts"
import { grams, scaleByGrams } from "../src/Grams.ts"
import * as Schedules from "../src/Schedules.ts"
import { scaleByAdam } from "../src/Transforms.ts"
import { casesOf, fixture, invalidField, run } from "./paper-fixture.ts"

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */
const FC = { seed: 20_260_512, numRuns: 100 } as const

describe("Grams reproduces the NumPy implementation of the paper's update (float64)", () => {
  // Bit for bit: the script's NumPy Adam arithmetic is itself checked against
  // optax.adamw bit for bit, and Grams only adds sign(g)·|·| (exact).
  const cases = casesOf("grams", "gramsFull")
  it.each(cases.map((c) => [`${c.optimizer} on ${c.problem}`, c] as const))("%s", (_name, c) => {
    const h = c.hyperparameters as Record<string, never>
    const seen: number[] = []
    run(grams(h.learningRate, h), c, (step, p) => {
      const expected = c.iterates[String(step)]
      if (expected === undefined) return
      assertBitIdentical(p, expected, `${c.optimizer}/${c.problem} step ${step}`)
      seen.push(step)
    })
    expect(seen).toEqual(fixture.checkpoints)
  })

  it("covers the defaults and every option with weight decay, on both problems", () => {
    expect(cases.length).toBe(4)
  })
})

describe("scaleByGrams", () => {
  const gradients = fc.array(
    fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 3, maxLength: 3 }),
    { minLength: 1, maxLength: 20 }
  )

  it("u = sign(g)·|Adam's update|, bit for bit, for any gradient sequence", () => {
    fc.assert(
      fc.property(gradients, (gs) => {
        const p = Vector.zeros(3)
        const gramsTx = scaleByGrams({ b1: 0.8, b2: 0.95, eps: 1e-6, epsRoot: 1e-12 })
        const adamTx = scaleByAdam({ b1: 0.8, b2: 0.95, eps: 1e-6, epsRoot: 1e-12 })
        let sg = gramsTx.init(p)
        let sa = adamTx.init(p)
        for (const g of gs) {
          const rg = gramsTx.update(Vector.fromArray(g), sg, p)
          const ra = adamTx.update(Vector.fromArray(g), sa, p)
          sg = rg.state
          sa = ra.state
          const a = ra.updates as Float64Array
          const expected = Vector.fromArray(g.map((gi, i) => Math.sign(gi) * Math.abs(a[i]!)))
          assertBitIdentical(rg.updates as Float64Array, expected)
          // Every coordinate moves against the current gradient (or not at all).
          for (let i = 0; i < 3; i++)
            expect(g[i]! * (rg.updates as Float64Array)[i]!).toBeGreaterThanOrEqual(0)
        }
        assertBitIdentical(sg.mu as Float64Array, sa.mu as Float64Array)
        assertBitIdentical(sg.nu as Float64Array, sa.nu as Float64Array)
        expect(sg.count).toBe(sa.count)
      }),
      FC
    )
  })

  it("a zero gradient coordinate does not move, whatever the momentum", () => {
    const p = Vector.zeros(2)
    const tx = scaleByGrams()
    let s = tx.init(p)
    s = tx.update(Vector.fromArray([1, 1]), s, p).state
    const r = tx.update(Vector.fromArray([0, -1]), s, p)
    const u = r.updates as Float64Array
    expect(u[0]).toBe(0)
    expect(u[1]).toBeLessThan(0)
  })

  it("holds Adam's two moment buffers; weight decay may be a schedule", () => {
    const p = Vector.zeros(4)
    expect(stateSize(grams(1e-3).init(p)).scalars).toBe(8)
    const tx = grams(1e-3, { weightDecay: Schedules.constant(0.1) })
    const r = tx.update(
      Vector.fromArray([0, 0, 0, 0]),
      tx.init(Vector.fromArray([1, 1, 1, 1])),
      Vector.ones(4)
    )
    // zero gradient: only the decay moves the parameters, −η·λ·p.
    assertBitIdentical(r.updates as Float64Array, Vector.full(4, -1e-3 * (0 + 0.1 * 1)))
  })

  it("throws InvalidOptions naming the field on bad hyperparameters", () => {
    expect(invalidField(() => grams(-1))).toBe("learningRate")
    expect(invalidField(() => grams(1e-3, { b1: 1 }))).toBe("b1")
    expect(invalidField(() => grams(1e-3, { b2: -0.1 }))).toBe("b2")
    expect(invalidField(() => grams(1e-3, { eps: Number.NaN }))).toBe("eps")
    expect(invalidField(() => grams(1e-3, { epsRoot: -1 }))).toBe("epsRoot")
    expect(invalidField(() => grams(1e-3, { weightDecay: -1 }))).toBe("weightDecay")
    expect(invalidField(() => scaleByGrams({ b1: Number.POSITIVE_INFINITY }))).toBe("b1")
    const tx = grams(1e-3, { weightDecay: 0.1 })
    const g = Vector.fromArray([1])
    expect(invalidField(() => tx.update(g, tx.init(g)))).toBe("params")
  })
})
