import { Errors, Vector } from "@descent/core"
import { assertBitIdentical, finiteDouble } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { type EmptyState, emptyState, type GradientTransform } from "../src/GradientTransform.ts"
import {
  hasUpdated,
  type MultiStepsOptions,
  multiSteps,
  type ShouldSkipUpdate,
  skipLargeUpdates,
  skipNotFinite
} from "../src/MultiSteps.ts"
import * as Optimizers from "../src/Optimizers.ts"
import { clipByGlobalNorm, scaleByAdam, scaleByLearningRate } from "../src/Transforms.ts"

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */
const FC = { seed: 20_260_312, numRuns: 80 } as const

// biome-ignore lint/suspicious/noExplicitAny: the pool mixes transforms of different state types.
type AnyTransform = GradientTransform<any>

const pool: ReadonlyArray<() => AnyTransform> = [
  () => Optimizers.adam(0.05),
  () => Optimizers.sgd(0.1, { momentum: 0.9 }),
  () => Optimizers.adamw(0.05, { weightDecay: 0.1 }),
  () => Optimizers.lion(0.01),
  () => Optimizers.rmsprop(0.01, { centered: true }),
  () => clipByGlobalNorm(0.5)
]

const gradsArb = (n: number) =>
  fc.array(fc.array(finiteDouble(3), { minLength: n, maxLength: n }), { minLength: 1, maxLength: 9 })

/** The updates of every call of `tx` on the gradients `grads` (parameters fixed at `x0`). */
const updatesOf = (
  tx: AnyTransform,
  x0: ReadonlyArray<number>,
  grads: ReadonlyArray<ReadonlyArray<number>>
) => {
  const params = Vector.fromArray(x0)
  let state = tx.init(params)
  return grads.map((g) => {
    const r = tx.update(Vector.fromArray(g), state, params)
    state = r.state
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

describe("multiSteps", () => {
  it("with k = 1 equals the inner transform, bit for bit (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: pool.length - 1 }), gradsArb(3), (which, grads) => {
        const x0 = [0.5, -1, 2]
        const a = updatesOf(multiSteps(pool[which]!(), { everyK: 1 }), x0, grads)
        const b = updatesOf(pool[which]!(), x0, grads)
        grads.forEach((_, t) => {
          assertBitIdentical(a[t]!, b[t]!, `step ${t}`)
        })
      }),
      FC
    )
  })

  it("emits zeros for k − 1 calls, then the inner update of the sum of the k gradients (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), gradsArb(2), (k, grads) => {
        // Summing, with η = 1: the k-th update is −(g₁ + … + g_k), in order.
        const got = updatesOf(
          multiSteps(scaleByLearningRate(1), { everyK: k, useGradMean: false }),
          [0, 0],
          grads
        )
        const sum = [0, 0]
        grads.forEach((g, t) => {
          sum[0] = g[0]! + sum[0]!
          sum[1] = g[1]! + sum[1]!
          if ((t + 1) % k === 0) {
            assertBitIdentical(got[t]!, [-sum[0]!, -sum[1]!], `emit at call ${t + 1}`)
            sum[0] = 0
            sum[1] = 0
          } else {
            assertBitIdentical(got[t]!, [0, 0], `zeros at call ${t + 1}`)
          }
        })
      }),
      FC
    )
  })

  it("averages with Welford's running mean (exact for a constant gradient) and counts the steps", () => {
    const tx = multiSteps(scaleByAdam(), { everyK: 3 })
    const p = Vector.fromArray([1, 2])
    const s = tx.init(p)
    for (let call = 1; call <= 7; call++) {
      const r = tx.update(Vector.fromArray([0.3, -0.7]), s, p)
      expect(r.state).toBe(s)
      expect(s.miniStep).toBe(call % 3)
      expect(s.gradientStep).toBe(Math.floor(call / 3))
      expect(s.innerState.count).toBe(Math.floor(call / 3))
      expect(hasUpdated(s)).toBe(call % 3 === 0)
      if (call % 3 !== 0) assertBitIdentical(r.updates as Float64Array, [0, 0], `call ${call}`)
      else {
        // The mean of three equal gradients is the gradient: Adam's first step.
        const u = r.updates as Float64Array
        expect(Math.abs(u[0]!)).toBeGreaterThan(0.9)
      }
    }
    assertBitIdentical(s.accGrads as Float64Array, [0.3, -0.7], "running mean after one more call")
  })

  it("skips rejected mini-steps: zero updates, nothing accumulated, counters kept", () => {
    const tx = multiSteps(Optimizers.sgd(1), { everyK: 2, shouldSkipUpdate: skipNotFinite })
    const p = Vector.fromArray([0, 0])
    const s = tx.init(p)
    tx.update(Vector.fromArray([1, 2]), s, p)
    const r = tx.update(Vector.fromArray([Number.NaN, 1]), s, p)
    assertBitIdentical(r.updates as Float64Array, [0, 0], "skipped")
    expect(s).toMatchObject({ miniStep: 1, gradientStep: 0, lastSkipped: true, totalSkipped: 1 })
    expect(hasUpdated(s)).toBe(false)
    const r2 = tx.update(Vector.fromArray([3, Number.POSITIVE_INFINITY]), s, p)
    assertBitIdentical(r2.updates as Float64Array, [0, 0], "skipped again")
    const r3 = tx.update(Vector.fromArray([3, 4]), s, p)
    assertBitIdentical(r3.updates as Float64Array, [-2, -3], "mean of the accepted gradients")
    expect(s).toMatchObject({ miniStep: 0, gradientStep: 1, lastSkipped: false, totalSkipped: 2 })
    expect(hasUpdated(s)).toBe(true)
  })

  it("skipLargeUpdates rejects updates whose squared norm is not below the bound (and NaN)", () => {
    const skip = skipLargeUpdates(25)
    expect(skip(Vector.fromArray([3, 3.9]), 0, undefined)).toBe(false)
    expect(skip(Vector.fromArray([3, 4]), 0, undefined)).toBe(true)
    expect(skip(Vector.fromArray([Number.NaN]), 0, undefined)).toBe(true)
    const tx = multiSteps(Optimizers.sgd(1), { everyK: 1, shouldSkipUpdate: skip })
    const p = Vector.zeros(2)
    const s = tx.init(p)
    assertBitIdentical(tx.update(Vector.fromArray([10, 0]), s, p).updates as Float64Array, [0, 0], "large")
    assertBitIdentical(tx.update(Vector.fromArray([1, 0]), s, p).updates as Float64Array, [-1, -0], "small")
  })

  it("passes the gradient step and params to shouldSkipUpdate, and params and extras to the inner transform", () => {
    const seenSkip: Array<[number, unknown]> = []
    const seenInner: Array<[unknown, number | undefined]> = []
    const probe: GradientTransform<EmptyState> = {
      init: () => emptyState,
      update: (updates, state, params, extras) => {
        seenInner.push([params, extras?.value])
        return { updates, state }
      }
    }
    const p = Vector.zeros(1)
    const tx = multiSteps(probe, {
      everyK: 2,
      shouldSkipUpdate: (_u, step, params) => {
        seenSkip.push([step, params])
        return false
      }
    })
    const s = tx.init(p)
    for (let i = 0; i < 4; i++) tx.update(Vector.zeros(1), s, p, { value: i })
    expect(seenSkip).toEqual([
      [0, p],
      [0, p],
      [1, p],
      [1, p]
    ])
    expect(seenInner).toEqual([
      [p, 1],
      [p, 3]
    ])
  })

  it("takes k from a function of the gradient step", () => {
    // k = gradientStep + 1: gradient steps after calls 1, 3, 6, 10.
    const tx = multiSteps(scaleByLearningRate(1), { everyK: (step) => step + 1 })
    const p = Vector.zeros(1)
    const s = tx.init(p)
    const emitted: number[] = []
    for (let call = 1; call <= 10; call++) {
      tx.update(Vector.fromArray([1]), s, p)
      if (hasUpdated(s)) emitted.push(call)
    }
    expect(emitted).toEqual([1, 3, 6, 10])
  })

  it("rejects bad options with InvalidOptions naming the field", () => {
    const inner = Optimizers.sgd(0.1)
    expectInvalid(() => multiSteps(inner, { everyK: 0 }), "everyK")
    expectInvalid(() => multiSteps(inner, { everyK: 2.5 }), "everyK")
    expectInvalid(() => multiSteps(inner, { everyK: "3" } as unknown as MultiStepsOptions), "everyK")
    expectInvalid(() => multiSteps(inner, {} as MultiStepsOptions), "everyK")
    expectInvalid(
      () => multiSteps(inner, { everyK: 2, shouldSkipUpdate: true as unknown as ShouldSkipUpdate }),
      "shouldSkipUpdate"
    )
    expectInvalid(() => skipLargeUpdates(0), "maxSquaredNorm")
    const tx = multiSteps(inner, { everyK: () => 0 })
    const p = Vector.zeros(1)
    expectInvalid(() => tx.update(Vector.zeros(1), tx.init(p), p), "everyK")
  })

  it("rejects updates of another structure with DimensionMismatch", () => {
    const tx = multiSteps(Optimizers.adam(0.1), { everyK: 2 })
    const s = tx.init(Vector.zeros(2))
    expect(() => tx.update(Vector.zeros(3), s)).toThrow(Errors.DimensionMismatch)
    expect(() => tx.update([Vector.zeros(1), Vector.zeros(1)], s)).toThrow(Errors.DimensionMismatch)
  })
})
