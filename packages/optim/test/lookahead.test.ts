import { Errors, Memory, Vector } from "@descent/core"
import { assertBitIdentical, assertClose, finiteDouble } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  applyUpdatesInPlace,
  chain,
  type EmptyState,
  emptyState,
  type GradientTransform
} from "../src/GradientTransform.ts"
import { type LookaheadOptions, lookahead, slowParams } from "../src/Lookahead.ts"
import { masked } from "../src/Masking.ts"
import * as Optimizers from "../src/Optimizers.ts"
import { type ScaleByAdamState, zeroNans } from "../src/Transforms.ts"
import type { Params } from "../src/Tree.ts"
import * as Tree from "../src/Tree.ts"

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */
const FC = { seed: 20_260_313, numRuns: 60 } as const

// biome-ignore lint/suspicious/noExplicitAny: the pool mixes transforms of different state types.
type AnyTransform = GradientTransform<any>

const pool: ReadonlyArray<() => AnyTransform> = [
  () => Optimizers.sgd(0.05),
  () => Optimizers.adam(0.05),
  () => Optimizers.sgd(0.05, { momentum: 0.9, nesterov: true }),
  () => Optimizers.lion(0.01)
]

/** The gradient of f(x) = Σ λᵢ xᵢ²/2 + xᵢ⁴/4 with λᵢ = 1 + i. */
const gradient = (x: Float64Array, g: Float64Array): void => {
  for (let i = 0; i < x.length; i++) g[i] = (1 + i) * x[i]! + x[i]! ** 3
}

/** Runs `tx` for `steps` steps from x0; the fast parameters after every step. */
const trajectory = (
  tx: AnyTransform,
  x0: ReadonlyArray<number>,
  steps: number,
  onStep?: (s: unknown) => void
) => {
  const x = Vector.fromArray(x0)
  const g = Vector.zeros(x.length)
  let state = tx.init(x)
  const out: Float64Array[] = []
  for (let t = 0; t < steps; t++) {
    gradient(x, g)
    const r = tx.update(g, state, x)
    state = r.state
    applyUpdatesInPlace(x, r.updates)
    out.push(Vector.clone(x))
    onStep?.(state)
  }
  return { out, state }
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

/**
 * Tolerance of the comparison with the paper's two-loop form. Both compute
 * φ ← φ + α·(θ − φ) with the same θ; they differ in the restart point: the
 * paper sets θ ← φ exactly, the single-update form reaches θ + (u − (1 − α)·d),
 * a few roundings (each ≤ ε/2 of a quantity of the size of θ) away, and these
 * differences propagate through the following (contracting) fast steps.
 * Measured worst over the 40 steps: 0.77 ε relative; 16 ε leaves margin.
 */
const TWO_LOOP_FORM = 16 * Number.EPSILON

/**
 * With α = 0 the fast weights restart at θ + (u − ((θ + u) − φ)), which is φ
 * up to four roundings, each at most ε/2 times a quantity of the size of the
 * weights and steps (|θ|, |u|, |φ| ≤ 2 here: x0 ∈ [−1, 1], 3k steps of size
 * ≤ 0.05·|∇f|): an absolute 8 ε bounds it.
 */
const RESTART_ROUNDING = 8 * Number.EPSILON

describe("lookahead", () => {
  it("matches the paper's two nested loops (k fast steps, then φ ← φ + α(θ − φ), θ ← φ)", () => {
    const k = 5
    const alpha = 0.5
    const x0 = [1.2, -0.7, 0.4]
    const steps = 40
    const slow: Float64Array[] = []
    const got = trajectory(
      lookahead(Optimizers.sgd(0.05), { syncPeriod: k, slowStepSize: alpha }),
      x0,
      steps,
      (s) => slow.push(Vector.clone(slowParams(s as never) as Float64Array))
    ).out
    // The reference: the nested loops of Zhang et al., Algorithm 1.
    const phi = Vector.fromArray(x0)
    const theta = Vector.clone(phi)
    const g = Vector.zeros(3)
    for (let t = 1; t <= steps; t++) {
      gradient(theta, g)
      for (let i = 0; i < 3; i++) theta[i] = theta[i]! + -0.05 * g[i]!
      if (t % k === 0) {
        for (let i = 0; i < 3; i++) {
          phi[i] = phi[i]! + alpha * (theta[i]! - phi[i]!)
          theta[i] = phi[i]!
        }
        assertClose(got[t - 1]!, theta, { rtol: TWO_LOOP_FORM, label: `fast weights at sync ${t}` })
      } else {
        assertClose(got[t - 1]!, theta, { rtol: TWO_LOOP_FORM, label: `fast weights at ${t}` })
      }
      assertClose(slow[t - 1]!, phi, { rtol: TWO_LOOP_FORM, label: `slow weights at ${t}` })
    }
  })

  it("with α = 1 leaves the fast trajectory of the inner optimizer unchanged, bit for bit (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: pool.length - 1 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(finiteDouble(1), { minLength: 1, maxLength: 4 }),
        (which, k, x0) => {
          // u − (1 − 1)·d = u − 0·d = u exactly (d finite).
          const a = trajectory(lookahead(pool[which]!(), { syncPeriod: k, slowStepSize: 1 }), x0, 12).out
          const b = trajectory(pool[which]!(), x0, 12).out
          a.forEach((x, t) => {
            assertBitIdentical(x, b[t]!, `step ${t + 1}`)
          })
        }
      ),
      FC
    )
  })

  it("with α = 0 keeps the slow weights at x0 and returns to them at every synchronization (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: pool.length - 1 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(finiteDouble(1), { minLength: 1, maxLength: 4 }),
        (which, k, x0) => {
          const { out, state } = trajectory(
            lookahead(pool[which]!(), { syncPeriod: k, slowStepSize: 0 }),
            x0,
            3 * k
          )
          assertBitIdentical(slowParams(state) as Float64Array, x0, "slow weights")
          // θ + (u − ((θ + u) − φ)) = φ up to the roundings (RESTART_ROUNDING).
          for (let t = k - 1; t < out.length; t += k) {
            assertClose(out[t]!, x0, { rtol: 0, atol: RESTART_ROUNDING, label: `sync ${t + 1}` })
          }
        }
      ),
      FC
    )
  })

  it("resetState re-initializes the fast state in place after each synchronization, without keeping memory", () => {
    const tx = lookahead(Optimizers.adam(0.05), { syncPeriod: 3, slowStepSize: 0.5, resetState: true })
    const x = Vector.fromArray([1, -2])
    const g = Vector.zeros(2)
    const state = tx.init(x)
    const adam = state.fastState[0] as ScaleByAdamState
    const mu = adam.mu
    const step = (): void => {
      gradient(x, g)
      const r = tx.update(g, state, x)
      expect(r.state).toBe(state)
      applyUpdatesInPlace(x, r.updates)
    }
    step()
    step()
    expect(adam.count).toBe(2)
    step() // synchronization: reset
    expect(state.fastState[0]).toBe(adam)
    expect(adam.mu).toBe(mu)
    expect(adam.count).toBe(0)
    assertBitIdentical(adam.mu as Float64Array, [0, 0], "mu reset")
    assertBitIdentical(adam.nu as Float64Array, [0, 0], "nu reset")
    expect(state.stepsSinceSync).toBe(0)
    // Each reset's fresh state is returned to the allocator at once.
    const before = Memory.stats().liveBytes
    for (let i = 0; i < 300; i++) step()
    expect(Memory.stats().liveBytes).toBe(before)
  })

  it("resetState works for nested and stateless fast optimizers", () => {
    const nested = lookahead(
      chain(
        zeroNans(),
        masked(Optimizers.adam(0.1), (path) => path === "w")
      ),
      {
        syncPeriod: 2,
        slowStepSize: 0.5,
        resetState: true
      }
    )
    const p: Params = { b: Vector.fromArray([1]), w: Vector.fromArray([1, 2]) }
    const s = nested.init(p)
    for (let t = 0; t < 4; t++) {
      const r = nested.update(Tree.fullLike(p, 0.5), s, p)
      applyUpdatesInPlace(p, r.updates)
    }
    for (const x of Tree.flatten(p)) expect(Number.isFinite(x)).toBe(true)
    const sgd = lookahead(Optimizers.sgd(0.1), { syncPeriod: 1, slowStepSize: 0.5, resetState: true })
    const x = Vector.fromArray([1])
    const t = sgd.init(x)
    sgd.update(Vector.fromArray([1]), t, x)
    expect(t.fastState[0]).toBe(emptyState)
  })

  it("passes extras to the fast optimizer and requires params", () => {
    const seen: Array<number | undefined> = []
    const probe: GradientTransform<EmptyState> = {
      init: () => emptyState,
      update: (updates, state, _params, extras) => {
        seen.push(extras?.value)
        return { updates, state }
      }
    }
    const tx = lookahead(probe, { syncPeriod: 2, slowStepSize: 0.5 })
    const x = Vector.zeros(1)
    tx.update(Vector.zeros(1), tx.init(x), x, { value: 4 })
    expect(seen).toEqual([4])
    expectInvalid(() => tx.update(Vector.zeros(1), tx.init(x)), "params")
  })

  it("rejects bad options with InvalidOptions naming the field", () => {
    const fast = Optimizers.sgd(0.1)
    expectInvalid(() => lookahead(fast, { syncPeriod: 0, slowStepSize: 0.5 }), "syncPeriod")
    expectInvalid(() => lookahead(fast, { syncPeriod: 2.5, slowStepSize: 0.5 }), "syncPeriod")
    expectInvalid(() => lookahead(fast, { slowStepSize: 0.5 } as LookaheadOptions), "syncPeriod")
    expectInvalid(() => lookahead(fast, { syncPeriod: 5, slowStepSize: -0.1 }), "slowStepSize")
    expectInvalid(() => lookahead(fast, { syncPeriod: 5, slowStepSize: 1.5 }), "slowStepSize")
    expectInvalid(() => lookahead(fast, { syncPeriod: 5, slowStepSize: Number.NaN }), "slowStepSize")
  })

  it("rejects parameters or updates of another structure with DimensionMismatch", () => {
    const tx = lookahead(Optimizers.sgd(0.1), { syncPeriod: 2, slowStepSize: 0.5 })
    const s = tx.init(Vector.zeros(2))
    expect(() => tx.update(Vector.zeros(2), s, Vector.zeros(3))).toThrow(Errors.DimensionMismatch)
    expect(() => tx.update(Vector.zeros(3), s, Vector.zeros(2))).toThrow(Errors.DimensionMismatch)
  })
})
