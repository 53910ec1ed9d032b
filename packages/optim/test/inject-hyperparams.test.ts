import { Errors, Vector } from "@descent/core"
import { assertBitIdentical, finiteDouble } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { GradientTransform } from "../src/GradientTransform.ts"
import { type InjectedHyperparams, injectHyperparams } from "../src/InjectHyperparams.ts"
import * as Optimizers from "../src/Optimizers.ts"
import * as Schedules from "../src/Schedules.ts"
import { type ScaleByAdamState, scaleByRms } from "../src/Transforms.ts"

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */
const FC = { seed: 20_260_315, numRuns: 60 } as const

// biome-ignore lint/suspicious/noExplicitAny: the runs mix transforms of different state types.
type AnyTransform = GradientTransform<any>

type AdamH = { learningRate: number; b1: number; b2: number }

const gradsArb = fc.array(fc.array(finiteDouble(3), { minLength: 3, maxLength: 3 }), {
  minLength: 1,
  maxLength: 8
})

/** The updates of every step of `tx` on `grads` (parameters fixed), with `between(step, state)` after each. */
const updatesOf = (
  tx: AnyTransform,
  grads: ReadonlyArray<ReadonlyArray<number>>,
  between?: (step: number, state: unknown) => void
): Float64Array[] => {
  const params = Vector.fromArray([0.5, -1, 2])
  let state = tx.init(params)
  return grads.map((g, t) => {
    const r = tx.update(Vector.fromArray(g), state, params)
    state = r.state
    between?.(t + 1, state)
    return Vector.clone(r.updates as Float64Array)
  })
}

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

describe("injectHyperparams", () => {
  it("with constant values equals the plain optimizer, bit for bit (property)", () => {
    fc.assert(
      fc.property(gradsArb, fc.double({ min: 1e-4, max: 1, noNaN: true }), (grads, lr) => {
        const injected = injectHyperparams((h: AdamH) =>
          Optimizers.adam(h.learningRate, { b1: h.b1, b2: h.b2 })
        )({
          learningRate: lr,
          b1: 0.8,
          b2: 0.99
        })
        const a = updatesOf(injected, grads)
        const b = updatesOf(Optimizers.adam(lr, { b1: 0.8, b2: 0.99 }), grads)
        grads.forEach((_, t) => {
          assertBitIdentical(a[t]!, b[t]!, `step ${t}`)
        })
      }),
      FC
    )
  })

  it("with a schedule equals the optimizer given that schedule, in both factory forms (property)", () => {
    fc.assert(
      fc.property(gradsArb, (grads) => {
        const schedule = Schedules.warmupCosine({
          initValue: 0,
          peakValue: 0.1,
          warmupSteps: 2,
          decaySteps: 6
        })
        const reference = updatesOf(Optimizers.adam(schedule), grads)
        const rebuilt = updatesOf(
          injectHyperparams((h: { learningRate: number }) => Optimizers.adam(h.learningRate))({
            learningRate: schedule
          }),
          grads
        )
        const live = updatesOf(
          injectHyperparams((_h: { learningRate: number }, l) => Optimizers.adam(l.learningRate))({
            learningRate: schedule
          }),
          grads
        )
        grads.forEach((_, t) => {
          assertBitIdentical(rebuilt[t]!, reference[t]!, `rebuilt, step ${t}`)
          assertBitIdentical(live[t]!, reference[t]!, `live, step ${t}`)
        })
      }),
      FC
    )
  })

  it("applies a value changed in the state from the next step on, keeping the moments", () => {
    const grads = [
      [1, -2, 3],
      [0.5, 0.5, -1],
      [2, 1, 0],
      [-1, 3, 0.25]
    ]
    const tx = injectHyperparams((h: AdamH) => Optimizers.adam(h.learningRate, { b1: h.b1, b2: h.b2 }))({
      learningRate: 0.1,
      b1: 0.9,
      b2: 0.999
    })
    const got = updatesOf(tx, grads, (step, s) => {
      if (step === 2) {
        const state = s as { hyperparams: AdamH }
        state.hyperparams.learningRate = 0.01
        state.hyperparams.b2 = 0.9
      }
    })
    // Reference: Adam(0.1, b2 0.999) for two steps, then Adam(0.01, b2 0.9) on the same state.
    const params = Vector.fromArray([0.5, -1, 2])
    const first = Optimizers.adam(0.1)
    const second = Optimizers.adam(0.01, { b2: 0.9 })
    const state = first.init(params)
    grads.forEach((g, t) => {
      const u = (t < 2 ? first : second).update(Vector.fromArray(g), state, params).updates as Float64Array
      assertBitIdentical(got[t]!, u, `step ${t + 1}`)
    })
    expect(state[0].count).toBe(4)
  })

  it("rebuilds the inner transform only when a value it read changes; live values never rebuild", () => {
    let calls = 0
    const tx = injectHyperparams((h: AdamH) => {
      calls++
      return Optimizers.adam(h.learningRate, { b1: h.b1, b2: h.b2 })
    })({ learningRate: 0.1, b1: 0.9, b2: 0.999 })
    expect(calls).toBe(1)
    const p = Vector.zeros(1)
    const s = tx.init(p)
    for (let i = 0; i < 10; i++) tx.update(Vector.fromArray([1]), s, p)
    expect(calls).toBe(1)
    s.hyperparams.learningRate = 0.05
    for (let i = 0; i < 10; i++) tx.update(Vector.fromArray([1]), s, p)
    expect(calls).toBe(2)
    // init with the initial values rebuilds once more (the inner init may depend on them).
    tx.init(p)
    expect(calls).toBe(3)

    let liveCalls = 0
    const scheduled = injectHyperparams((h: { learningRate: number; b1: number }, live) => {
      liveCalls++
      return Optimizers.adam(live.learningRate, { b1: h.b1 })
    })({ learningRate: (t: number) => 0.1 / (1 + t), b1: 0.9 })
    const t = scheduled.init(p)
    for (let i = 0; i < 50; i++) scheduled.update(Vector.fromArray([1]), t, p)
    expect(liveCalls).toBe(1)
    expect(t.hyperparams.learningRate).toBe(0.1 / 50)
    expect(t.count).toBe(50)
  })

  it("a schedule overrides a value set by hand (as Optax); the state shows the value used", () => {
    const tx = injectHyperparams((h: { learningRate: number }) => Optimizers.sgd(h.learningRate))({
      learningRate: (t: number) => 1 / (1 + t)
    })
    const p = Vector.zeros(1)
    const s = tx.init(p)
    expect(s.hyperparams.learningRate).toBe(1)
    s.hyperparams.learningRate = 100
    const r = tx.update(Vector.fromArray([1]), s, p)
    assertBitIdentical(r.updates as Float64Array, [-1], "schedule at step 0")
    expect(s.hyperparams.learningRate).toBe(1)
    tx.update(Vector.fromArray([1]), s, p)
    expect(s.hyperparams.learningRate).toBe(0.5)
  })

  it("keeps independent runs independent (values live in each state)", () => {
    const tx = injectHyperparams((h: { learningRate: number }) => Optimizers.sgd(h.learningRate))({
      learningRate: 1
    })
    const p = Vector.zeros(1)
    const a = tx.init(p)
    const b = tx.init(p)
    a.hyperparams.learningRate = 2
    assertBitIdentical(tx.update(Vector.fromArray([1]), a, p).updates as Float64Array, [-2], "run a")
    assertBitIdentical(tx.update(Vector.fromArray([1]), b, p).updates as Float64Array, [-1], "run b")
    assertBitIdentical(tx.update(Vector.fromArray([1]), a, p).updates as Float64Array, [-2], "run a again")
  })

  it("initializes the inner state with the initial values", () => {
    type H = { initialScale: number }
    const tx = injectHyperparams((h: H) => scaleByRms({ initialScale: h.initialScale }))({
      initialScale: 0.5
    })
    const p = Vector.zeros(2)
    const s = tx.init(p)
    s.hyperparams.initialScale = 4
    tx.update(Vector.zeros(2), s, p)
    const fresh = tx.init(p)
    assertBitIdentical(fresh.innerState.nu as Float64Array, [0.5, 0.5], "init uses the initial value")
  })

  it("passes params and extras to the inner transform", () => {
    const seen: unknown[] = []
    const tx = injectHyperparams((h: { scale: number }) => ({
      init: () => ({}),
      update: (updates, state, params, extras) => {
        seen.push([h.scale, params, extras?.value])
        return { updates, state }
      }
    }))({ scale: 3 })
    const p = Vector.zeros(1)
    tx.update(Vector.zeros(1), tx.init(p), p, { value: 9 })
    expect(seen).toEqual([[3, p, 9]])
  })

  it("rejects bad values with InvalidOptions naming them", () => {
    const make = injectHyperparams((h: { learningRate: number }) => Optimizers.adam(h.learningRate))
    expectInvalid(
      () => make({ learningRate: "0.1" } as unknown as InjectedHyperparams<{ learningRate: number }>),
      "learningRate"
    )
    expectInvalid(() => make({ learningRate: Number.NaN }), "learningRate")
    // The factory's own validation, at construction …
    expectInvalid(() => make({ learningRate: -1 }), "learningRate")
    // … and after a change by hand.
    const tx = make({ learningRate: 0.1 })
    const p = Vector.zeros(1)
    const s = tx.init(p)
    s.hyperparams.learningRate = -1
    expectInvalid(() => tx.update(Vector.zeros(1), s, p), "learningRate")
    s.hyperparams.learningRate = Number.POSITIVE_INFINITY
    expectInvalid(() => tx.update(Vector.zeros(1), s, p), "hyperparams.learningRate")
    const scheduled = make({ learningRate: (t: number) => (t < 1 ? 0.1 : Number.NaN) })
    const t = scheduled.init(p)
    scheduled.update(Vector.zeros(1), t, p)
    expectInvalid(() => scheduled.update(Vector.zeros(1), t, p), "hyperparams.learningRate")
    expectInvalid(() => injectHyperparams(null as never)({}), "factory")
  })

  it("the Adam state inside is the plain optimizer's", () => {
    const tx = injectHyperparams((h: { learningRate: number }) => Optimizers.adam(h.learningRate))({
      learningRate: 0.1
    })
    const s = tx.init(Vector.zeros(2))
    const adam: ScaleByAdamState = s.innerState[0]
    expect(adam.count).toBe(0)
  })
})
