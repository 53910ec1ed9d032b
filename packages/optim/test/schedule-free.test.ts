import { Vector } from "@descent/core"
import { assertBitIdentical, assertClose } from "@descent/testing"
import { describe, expect, it } from "vitest"
import {
  applyUpdatesInPlace,
  chain,
  type GradientTransform,
  stateSize,
  type UpdateExtras
} from "../src/GradientTransform.ts"
import * as Optimizers from "../src/Optimizers.ts"
import {
  evalParams,
  evalParamsInto,
  type ScheduleFreeState,
  scheduleFree,
  scheduleFreeAdamw,
  scheduleFreeSgd
} from "../src/ScheduleFree.ts"
import * as Tree from "../src/Tree.ts"
import { type AnyTransform, casesOf, fixture, invalidField, type PaperCase, run } from "./paper-fixture.ts"

/** Four units in the last place: one or two roundings apart from a closed form. */
const FEW_ULPS = 4 * Number.EPSILON

const build = (c: PaperCase): AnyTransform => {
  const h = c.hyperparameters as Record<string, never>
  switch (c.optimizer) {
    case "scheduleFreeSgd":
    case "scheduleFreeSgdFull":
      return scheduleFreeSgd(h.learningRate, h)
    case "scheduleFreeAdamw":
    case "scheduleFreeAdamwFull":
      return scheduleFreeAdamw(h.learningRate, h)
    default:
      throw new Error(`unknown fixture optimizer ${c.optimizer}`)
  }
}

const cases = casesOf("scheduleFreeSgd", "scheduleFreeSgdFull", "scheduleFreeAdamw", "scheduleFreeAdamwFull")

describe("schedule-free SGD and AdamW reproduce optax.contrib (Optax 0.2.8, float64)", () => {
  // Bit for bit at every checkpoint, for both the gradient point y (the
  // parameters) and the evaluation point x (evalParams): the same IEEE
  // operations in the same order, including XLA's rewrite of `(·)/β` as a
  // multiplication by 1/β, the 1-based step count of the averaging weight and
  // the 0-based count of the base optimizer's warmup schedule.
  it.each(cases.map((c) => [`${c.optimizer} on ${c.problem}`, c] as const))("%s", (_name, c) => {
    const seen: number[] = []
    run(build(c), c, (step, p, state) => {
      const expected = c.iterates[String(step)]
      if (expected === undefined) return
      assertBitIdentical(p, expected, `${c.optimizer}/${c.problem} y at step ${step}`)
      const x = evalParams(state as ScheduleFreeState<unknown>, p) as Float64Array
      assertBitIdentical(x, c.evalIterates![String(step)]!, `${c.optimizer}/${c.problem} x at step ${step}`)
      seen.push(step)
    })
    expect(seen).toEqual(fixture.checkpoints)
  })

  it("covers both optimizers, with and without warmup, on both problems", () => {
    expect(cases.length).toBe(8)
    expect(cases.some((c) => c.hyperparameters.warmupSteps !== undefined)).toBe(true)
  })
})

describe("scheduleFree semantics", () => {
  it("the first step is the base optimizer's step (c₁ = 1, so x₁ = y₁ = z₁)", () => {
    const p = Vector.fromArray([1, -2, 3])
    const g = Vector.fromArray([0.5, 0.25, -1])
    const sgdStep = Vector.fromArray([1 - 0.1 * 0.5, -2 - 0.1 * 0.25, 3 + 0.1])
    const tx = scheduleFreeSgd(0.1)
    const r = tx.update(Vector.clone(g), tx.init(p), p)
    applyUpdatesInPlace(p, r.updates)
    assertClose(p, sgdStep, { rtol: FEW_ULPS, atol: 0 })
    assertClose(evalParams(r.state, p) as Float64Array, sgdStep, { rtol: FEW_ULPS, atol: 4 * FEW_ULPS })
  })

  it("z is a copy of the parameters, y = β·x + (1 − β)·z after every step", () => {
    const p = Vector.fromArray([0.3, -0.7])
    const tx = scheduleFreeSgd(0.05, { b1: 0.8 })
    let state = tx.init(p)
    expect(state.z).not.toBe(p)
    for (let t = 0; t < 20; t++) {
      const g = Vector.fromArray([2 * p[0]!, 4 * p[1]!])
      const r = tx.update(g, state, p)
      state = r.state
      applyUpdatesInPlace(p, r.updates)
      const x = evalParams(state, p) as Float64Array
      const z = state.z as Float64Array
      const y = Vector.fromArray([0.8 * x[0]! + 0.2 * z[0]!, 0.8 * x[1]! + 0.2 * z[1]!])
      assertClose(y, p, { rtol: 1e-14, atol: 1e-16 })
    }
    expect(state.stepCount).toBe(21)
  })

  it("evalParamsInto writes into a caller's tree and matches evalParams", () => {
    const params = { b: Vector.fromArray([1, 2]), w: [Vector.fromArray([3]), Vector.fromArray([4, 5, 6])] }
    const tx = scheduleFreeAdamw(0.1)
    let state = tx.init(params)
    for (let t = 0; t < 3; t++) {
      const r = tx.update(
        Tree.map(params, (l) => Vector.clone(l)),
        state,
        params
      )
      state = r.state
      applyUpdatesInPlace(params, r.updates)
    }
    const out = Tree.zerosLike(params)
    expect(evalParamsInto(out, state, params)).toBe(out)
    assertBitIdentical(Tree.flatten(out), Tree.flatten(evalParams(state, params)))
  })

  it("b1 = 1 makes the gradient point the average: evalParams(state, y) = y", () => {
    const p = Vector.fromArray([1, 2])
    const tx = scheduleFreeSgd(0.1, { b1: 1 })
    let state = tx.init(p)
    for (let t = 0; t < 5; t++) {
      const r = tx.update(Vector.clone(p), state, p)
      state = r.state
      applyUpdatesInPlace(p, r.updates)
    }
    assertBitIdentical(evalParams(state, p) as Float64Array, p)
  })

  it("holds one copy of the parameters besides the base optimizer's state", () => {
    const p = Vector.zeros(7)
    expect(stateSize(scheduleFreeSgd(0.1).init(p)).scalars).toBe(7)
    expect(stateSize(scheduleFreeAdamw(0.1).init(p)).scalars).toBe(14)
  })

  it("passes params and extras to the base optimizer", () => {
    const seen: Array<UpdateExtras | undefined> = []
    const spy: GradientTransform<null> = {
      init: () => null,
      update: (updates, state, params, extras) => {
        expect(params).toBeDefined()
        seen.push(extras)
        return { updates, state }
      }
    }
    const tx = scheduleFree(chain(spy, Optimizers.sgd(0.1)), 0.1)
    const p = Vector.fromArray([1])
    const extras = { value: 3 }
    tx.update(Vector.fromArray([1]), tx.init(p), p, extras)
    expect(seen).toEqual([extras])
  })

  it("throws InvalidOptions naming the field on bad hyperparameters", () => {
    const g = Vector.fromArray([1])
    expect(invalidField(() => scheduleFreeSgd(-1))).toBe("learningRate")
    expect(invalidField(() => scheduleFreeSgd(Number.NaN))).toBe("learningRate")
    expect(invalidField(() => scheduleFreeSgd(0.1, { b1: 0 }))).toBe("b1")
    expect(invalidField(() => scheduleFreeSgd(0.1, { b1: 1.5 }))).toBe("b1")
    expect(invalidField(() => scheduleFreeAdamw(0.1, { b1: Number.NaN }))).toBe("b1")
    expect(invalidField(() => scheduleFreeSgd(0.1, { weightLrPower: -1 }))).toBe("weightLrPower")
    expect(invalidField(() => scheduleFreeSgd(0.1, { warmupSteps: 0 }))).toBe("warmupSteps")
    expect(invalidField(() => scheduleFreeAdamw(0.1, { warmupSteps: 2.5 }))).toBe("warmupSteps")
    expect(invalidField(() => scheduleFreeSgd(0.1, { weightDecay: -1 }))).toBe("weightDecay")
    expect(invalidField(() => scheduleFreeAdamw(0.1, { weightDecay: Number.POSITIVE_INFINITY }))).toBe(
      "weightDecay"
    )
    expect(invalidField(() => scheduleFreeAdamw(0.1, { b2: 1 }))).toBe("b2")
    expect(invalidField(() => scheduleFreeAdamw(0.1, { eps: -1e-8 }))).toBe("eps")
    expect(invalidField(() => scheduleFree(Optimizers.sgd(0.1), -0.5))).toBe("learningRate")
    const tx = scheduleFreeSgd(0.1)
    expect(invalidField(() => tx.update(g, tx.init(g)))).toBe("params")
  })
})
