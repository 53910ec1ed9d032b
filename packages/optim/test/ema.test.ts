import { Errors, Vector } from "@descent/core"
import { assertBitIdentical, assertClose, finiteDouble } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { averagedParams, ema, emaParams } from "../src/Ema.ts"
import { applyUpdatesInPlace, chain, type GradientTransform } from "../src/GradientTransform.ts"
import * as Optimizers from "../src/Optimizers.ts"
import type { Params } from "../src/Tree.ts"
import * as Tree from "../src/Tree.ts"

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */
const FC = { seed: 20_260_314, numRuns: 60 } as const

/**
 * The debiased EMA of a constant u is m/(1 − βᵗ) with m = (1 − βᵗ)·u up to
 * the rounding of t recursive multiply-adds (each ≤ ε relative) and of the
 * correction: after 20 steps, 32 ε relative bounds it.
 */
const RECURRENCE_ROUNDING = 32 * Number.EPSILON

// biome-ignore lint/suspicious/noExplicitAny: the pool mixes transforms of different state types.
type AnyTransform = GradientTransform<any>

const expectInvalid = (f: () => unknown, field: string): void => {
  let error: unknown
  try {
    f()
  } catch (e) {
    error = e
  }
  expect(error).toBeInstanceOf(Errors.InvalidOptions)
  expect((error as Errors.InvalidOptions).field).toBe(field)
}

describe("ema (of the updates)", () => {
  it("debiased, returns a constant update unchanged (up to rounding); biased, (1 − βᵗ)·u", () => {
    for (const tree of [false, true]) {
      const u = (): Params =>
        tree ? { a: Vector.fromArray([2]), b: Vector.fromArray([-3, 0.5]) } : Vector.fromArray([2, -3, 0.5])
      const debiased = ema(0.9)
      const biased = ema(0.9, { debias: false })
      const s1 = debiased.init(u())
      const s2 = biased.init(u())
      for (let t = 1; t <= 20; t++) {
        const a = debiased.update(u(), s1)
        expect(a.state).toBe(s1)
        assertClose(Tree.flatten(a.updates), [2, -3, 0.5], {
          rtol: RECURRENCE_ROUNDING,
          label: `debiased t=${t}`
        })
        const b = biased.update(u(), s2)
        const f = 1 - 0.9 ** t
        assertClose(Tree.flatten(b.updates), [2 * f, -3 * f, 0.5 * f], {
          rtol: RECURRENCE_ROUNDING,
          label: `biased t=${t}`
        })
      }
      expect(s1.count).toBe(20)
    }
  })

  it("with decay 0 is the identity, bit for bit (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(finiteDouble(5), { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 5 }),
        (us) => {
          const tx = ema(0)
          const s = tx.init(Vector.zeros(3))
          for (const u of us)
            assertBitIdentical(tx.update(Vector.fromArray(u), s).updates as Float64Array, u, "ema(0)")
        }
      ),
      FC
    )
  })

  it("rejects a decay outside [0, 1) and updates of another structure", () => {
    expectInvalid(() => ema(1), "decay")
    expectInvalid(() => ema(-0.1), "decay")
    expectInvalid(() => ema(Number.NaN), "decay")
    const tx = ema(0.9)
    expect(() => tx.update(Vector.zeros(3), tx.init(Vector.zeros(2)))).toThrow(Errors.DimensionMismatch)
  })
})

const pool: ReadonlyArray<() => AnyTransform> = [
  () => Optimizers.sgd(0.05, { momentum: 0.9 }),
  () => Optimizers.adam(0.05),
  () => Optimizers.lion(0.01)
]

describe("emaParams (of the parameters)", () => {
  it("leaves the trajectory unchanged and tracks θ̄ ← (1 − β)·θ + β·θ̄ from θ̄₀ = θ₀, bit for bit (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: pool.length - 1 }),
        fc.array(finiteDouble(2), { minLength: 1, maxLength: 4 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (which, x0, decay) => {
          const withEma = chain(pool[which]!(), emaParams(decay))
          const without = pool[which]!()
          const x = Vector.fromArray(x0)
          const y = Vector.fromArray(x0)
          const average = Vector.fromArray(x0)
          let s = withEma.init(x)
          let t = without.init(y)
          for (let step = 0; step < 8; step++) {
            const g = Vector.zeros(x.length)
            for (let i = 0; i < g.length; i++) g[i] = x[i]! ** 3 - 1
            const r = withEma.update(Vector.clone(g), s, x)
            s = r.state
            applyUpdatesInPlace(x, r.updates)
            const q = without.update(g, t, y)
            t = q.state
            applyUpdatesInPlace(y, q.updates)
            for (let i = 0; i < x.length; i++) average[i] = (1 - decay) * x[i]! + decay * average[i]!
            assertBitIdentical(x, y, `trajectory, step ${step}`)
            assertBitIdentical(averagedParams(s[1]) as Float64Array, average, `average, step ${step}`)
          }
          expect(s[1].count).toBe(8)
        }
      ),
      FC
    )
  })

  it("keeps its own copy of the initial parameters (trees too)", () => {
    const p: Params = { b: Vector.fromArray([1]), w: [Vector.fromArray([2, 3])] }
    const tx = emaParams(0.5)
    const s = tx.init(p)
    expect(Tree.leaves(averagedParams(s))[0]).not.toBe(Tree.leaves(p)[0])
    const u = Tree.fullLike(p, 2)
    const r = tx.update(u, s, p)
    expect(r.updates).toBe(u)
    assertBitIdentical(Tree.flatten(u), [2, 2, 2], "updates unchanged")
    // 0.5·(p + 2) + 0.5·p = p + 1
    assertBitIdentical(Tree.flatten(averagedParams(s)), [2, 3, 4], "average")
  })

  it("requires params, a decay in [0, 1) and matching structures", () => {
    const tx = emaParams(0.9)
    const x = Vector.zeros(2)
    expectInvalid(() => tx.update(Vector.zeros(2), tx.init(x)), "params")
    expectInvalid(() => emaParams(1), "decay")
    expect(() => tx.update(Vector.zeros(2), tx.init(x), Vector.zeros(3))).toThrow(Errors.DimensionMismatch)
  })
})
