import { Vector } from "@descent/core"
import { assertBitIdentical } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  adamwCautious,
  addCautiousDecayedWeights,
  cautious,
  cautiousMinKeptFraction,
  lionCautious
} from "../src/CautiousWeightDecay.ts"
import {
  applyUpdatesInPlace,
  chain,
  type GradientTransform,
  stateSize,
  type UpdateExtras
} from "../src/GradientTransform.ts"
import * as Optimizers from "../src/Optimizers.ts"
import * as Schedules from "../src/Schedules.ts"
import { addDecayedWeights, scaleByAdam, scaleByLearningRate } from "../src/Transforms.ts"
import { type AnyTransform, casesOf, fixture, invalidField, type PaperCase, run } from "./paper-fixture.ts"

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */
const FC = { seed: 20_260_512, numRuns: 200 } as const

const build = (c: PaperCase): AnyTransform => {
  const h = c.hyperparameters as Record<string, never>
  switch (c.optimizer) {
    case "adamwCautious":
      return adamwCautious(h.learningRate, h)
    case "lionCautious":
      return lionCautious(h.learningRate, h)
    case "cautiousAdamw":
      return chain(
        cautious(scaleByAdam(h)),
        addDecayedWeights(h.weightDecay),
        scaleByLearningRate(h.learningRate)
      )
    default:
      throw new Error(`unknown fixture optimizer ${c.optimizer}`)
  }
}

describe("cautious weight decay and masking reproduce the NumPy implementations of the papers (float64)", () => {
  // Bit for bit: the script's NumPy AdamW and Lion are checked against
  // optax.adamw / optax.lion bit for bit, and the cautious masks select
  // between values computed by the same operations.
  const cases = casesOf("adamwCautious", "lionCautious", "cautiousAdamw")
  it.each(cases.map((c) => [`${c.optimizer} on ${c.problem}`, c] as const))("%s", (_name, c) => {
    const seen: number[] = []
    run(build(c), c, (step, p) => {
      const expected = c.iterates[String(step)]
      if (expected === undefined) return
      assertBitIdentical(p, expected, `${c.optimizer}/${c.problem} step ${step}`)
      seen.push(step)
    })
    expect(seen).toEqual(fixture.checkpoints)
  })

  it("covers AdamW and Lion with cautious decay and C-AdamW on both problems", () => {
    expect(cases.length).toBe(6)
  })
})

const entry = fc.oneof(
  fc.double({ min: -1e3, max: 1e3, noNaN: true }),
  fc.constantFrom(0, -0, 1e-300, -1e-300, 5e-324)
)
const pairs = fc.array(fc.tuple(entry, entry), { minLength: 1, maxLength: 16 })
const decay = fc.double({ min: 0, max: 10, noNaN: true })

describe("addCautiousDecayedWeights", () => {
  it("decays exactly the coordinates where update and parameter agree in sign", () => {
    fc.assert(
      fc.property(pairs, decay, (ups, lambda) => {
        const u = Vector.fromArray(ups.map(([a]) => a))
        const p = Vector.fromArray(ups.map(([, b]) => b))
        const out = addCautiousDecayedWeights(lambda).update(Vector.clone(u), { _tag: "EmptyState" }, p)
          .updates as Float64Array
        for (let i = 0; i < u.length; i++) {
          const agree = Math.sign(u[i]!) * Math.sign(p[i]!) >= 0
          expect(Object.is(out[i], agree && lambda !== 0 ? u[i]! + lambda * p[i]! : u[i]!)).toBe(true)
          // The decay never cancels part of the update: |u + λ·p·𝕀| ≥ |u|.
          expect(Math.abs(out[i]!)).toBeGreaterThanOrEqual(Math.abs(u[i]!))
        }
      }),
      FC
    )
  })

  it("decides on the signs even where u·p underflows to −0", () => {
    const p = Vector.fromArray([1e-200, -1e-200])
    const u = Vector.fromArray([-1e-200, 1e-200]) // u·p = −1e-400 → −0, yet the signs disagree
    const out = addCautiousDecayedWeights(1).update(Vector.clone(u), { _tag: "EmptyState" }, p).updates
    assertBitIdentical(out as Float64Array, u)
  })

  it("equals addDecayedWeights when every sign agrees; λ may be a schedule", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1e-3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.double({ min: 1e-3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        (gs, ps, flip) => {
          const n = Math.min(gs.length, ps.length)
          const s = flip ? -1 : 1
          const g = Vector.fromArray(gs.slice(0, n).map((x) => s * x))
          const p = Vector.fromArray(ps.slice(0, n).map((x) => s * x))
          // One AdamW step: the direction has the sign of g, which agrees with p.
          const a = adamwCautious(0.1, { weightDecay: Schedules.constant(0.5) })
          const b = Optimizers.adamw(0.1, { weightDecay: 0.5 })
          const ra = a.update(Vector.clone(g), a.init(p), p).updates as Float64Array
          const rb = b.update(Vector.clone(g), b.init(p), p).updates as Float64Array
          assertBitIdentical(ra, rb)
        }
      ),
      FC
    )
  })

  it("Lion's decay confines x to ‖x‖∞ ≤ 1/λ, cautious decay does not", () => {
    // f(x) = −x: the gradient −1 pushes x up forever; Lion with decay λ stops
    // at 1/λ = 2 (its fixed point), cautious decay never opposes the push.
    const run = (tx: AnyTransform): number => {
      const p = Vector.fromArray([0])
      let state = tx.init(p)
      for (let t = 0; t < 400; t++) {
        const r = tx.update(Vector.fromArray([-1]), state, p)
        state = r.state
        applyUpdatesInPlace(p, r.updates)
      }
      return p[0]!
    }
    expect(run(Optimizers.lion(0.05, { weightDecay: 0.5 }))).toBeLessThanOrEqual(2 * (1 + 4 * Number.EPSILON))
    expect(run(lionCautious(0.05, { weightDecay: 0.5 }))).toBeCloseTo(400 * 0.05, 10)
  })
})

describe("cautious (Liang et al. masking)", () => {
  it("keeps the coordinates that agree with the gradient, rescaled by the kept fraction", () => {
    fc.assert(
      fc.property(pairs, (ugs) => {
        // A fake inner transform returns the first component as the update.
        const us = Vector.fromArray(ugs.map(([a]) => a))
        const inner: GradientTransform<null> = {
          init: () => null,
          update: (updates, state) => {
            ;(updates as Float64Array).set(us)
            return { updates, state }
          }
        }
        const g = Vector.fromArray(ugs.map(([, b]) => b))
        const tx = cautious(inner)
        const out = tx.update(Vector.clone(g), tx.init(g)).updates as Float64Array
        const n = us.length
        const keep = (i: number) => (us[i]! > 0 && g[i]! > 0) || (us[i]! < 0 && g[i]! < 0)
        let kept = 0
        for (let i = 0; i < n; i++) if (keep(i)) kept++
        const c = 1 / Math.max(kept / n, cautiousMinKeptFraction)
        for (let i = 0; i < n; i++) {
          expect(Object.is(out[i], keep(i) ? us[i]! * c : 0)).toBe(true)
          expect(out[i]! * g[i]!).toBeGreaterThanOrEqual(0)
        }
      }),
      FC
    )
  })

  it("rescales leaf by leaf and passes params and extras to the inner transform", () => {
    const seen: Array<UpdateExtras | undefined> = []
    const inner: GradientTransform<null> = {
      init: () => null,
      update: (updates, state, params, extras) => {
        expect(params).toBeDefined()
        seen.push(extras)
        return { updates, state }
      }
    }
    const tx = cautious(inner)
    const params = { a: Vector.fromArray([1, 2]), b: Vector.fromArray([3, 4, 5, 6]) }
    const g = { a: Vector.fromArray([1, -2]), b: Vector.fromArray([1, 1, 1, 1]) }
    const extras = { value: 1 }
    const r = tx.update(g, tx.init(params), params, extras)
    // identity inner: every coordinate agrees; the scaling is 1 on both leaves.
    expect(r.updates).toEqual({ a: Vector.fromArray([1, -2]), b: Vector.fromArray([1, 1, 1, 1]) })
    expect(seen).toEqual([extras])
    expect(stateSize(tx.init(params)).scalars).toBe(6)
  })

  it("throws InvalidOptions naming the field on bad hyperparameters", () => {
    expect(invalidField(() => addCautiousDecayedWeights(-1))).toBe("weightDecay")
    expect(invalidField(() => addCautiousDecayedWeights(Number.NaN))).toBe("weightDecay")
    expect(invalidField(() => adamwCautious(0.1, { weightDecay: Number.POSITIVE_INFINITY }))).toBe(
      "weightDecay"
    )
    expect(invalidField(() => adamwCautious(-0.1))).toBe("learningRate")
    expect(invalidField(() => adamwCautious(0.1, { b2: 1 }))).toBe("b2")
    expect(invalidField(() => lionCautious(0.1, { b1: -0.5 }))).toBe("b1")
    expect(invalidField(() => lionCautious(0.1, { weightDecay: -1e-3 }))).toBe("weightDecay")
    const tx = addCautiousDecayedWeights(0.1)
    const g = Vector.fromArray([1])
    expect(invalidField(() => tx.update(g, tx.init(g)))).toBe("params")
  })
})
