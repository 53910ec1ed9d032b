/**
 * The combinators (Masking, InjectHyperparams, MultiSteps, Ema, Lookahead)
 * against Optax 0.2.8 float64 trajectories (fixtures/generate_combinators.py).
 * Every TypeScript form of a case (mask as a tree, a path predicate or
 * `fromParams`; injected values read through `h` or `live`; …) must reproduce
 * the same trajectory.
 */
import { Vector } from "@descent/core"
import { assertBitIdentical, assertClose, loadFixture } from "@descent/testing"
import { describe, expect, it } from "vitest"
import { averagedParams, type EmaParamsState, ema, emaParams } from "../src/Ema.ts"
import { applyUpdatesInPlace, chain, type GradientTransform } from "../src/GradientTransform.ts"
import { type InjectHyperparamsState, injectHyperparams } from "../src/InjectHyperparams.ts"
import { type LookaheadState, lookahead, slowParams } from "../src/Lookahead.ts"
import { fromParams, masked, partition } from "../src/Masking.ts"
import { type MultiStepsState, multiSteps, skipNotFinite } from "../src/MultiSteps.ts"
import * as Optimizers from "../src/Optimizers.ts"
import { addDecayedWeights, scale, scaleByAdam } from "../src/Transforms.ts"
import type { Params } from "../src/Tree.ts"
import * as Tree from "../src/Tree.ts"

interface Case {
  readonly problem: "rosenbrock" | "quadratic"
  readonly combinator: string
  readonly representation: "flat" | "tree" | "lookahead"
  readonly hyperparameters: Record<string, never>
  readonly x0: ReadonlyArray<number>
  readonly iterates: Record<string, ReadonlyArray<number>>
  /** Lookahead's slow weights (`LookaheadParams.slow`). */
  readonly slow?: Record<string, ReadonlyArray<number>>
  /** The parameter EMA (emaParams cases). */
  readonly averages?: Record<string, ReadonlyArray<number>>
  readonly finalState?: Record<string, unknown>
}

interface Fixture {
  readonly steps: number
  readonly checkpoints: ReadonlyArray<number>
  readonly lambdas: ReadonlyArray<number>
  readonly cases: ReadonlyArray<Case>
}

const fixture = loadFixture<Fixture>(import.meta.url, "./fixtures/combinators.json")
const lambdas = Vector.fromArray(fixture.lambdas)

// biome-ignore lint/suspicious/noExplicitAny: the cases' state types differ; the loop only threads them.
type AnyTransform = GradientTransform<any>

/** One TypeScript form of a fixture case. */
interface Built {
  readonly tx: AnyTransform
  /** Called after every step (changes hyperparameters by hand). */
  readonly afterStep?: (step: number, state: unknown) => void
  /** Lookahead's slow weights. */
  readonly slow?: (state: unknown) => Params
  /** The parameter EMA. */
  readonly average?: (state: unknown) => Params
}

/** The adam-then-sgd partition and the masks are over `{ b: x[:1], w: x[1:] }`. */
const MASK = { b: false, w: true } as const
const LABELS = { b: "sgd", w: "adam" } as const

/** Every TypeScript form of each fixture case, by name. */
const forms = (c: Case): ReadonlyArray<readonly [string, () => Built]> => {
  const h = c.hyperparameters
  switch (c.combinator) {
    case "lookaheadSgd":
    case "lookaheadAdam":
    case "lookaheadAdamReset": {
      const fast = (): AnyTransform =>
        c.combinator === "lookaheadSgd" ? Optimizers.sgd(h.learningRate) : Optimizers.adam(h.learningRate)
      return [
        [
          "lookahead",
          () => ({
            tx: lookahead(fast(), {
              syncPeriod: h.syncPeriod,
              slowStepSize: h.slowStepSize,
              resetState: h.resetState
            }),
            slow: (s) => slowParams(s as LookaheadState<unknown>)
          })
        ]
      ]
    }
    case "maskedAdam": {
      const make = (mask: Parameters<typeof masked>[1]) => (): Built => ({
        tx: chain(masked(scaleByAdam(), mask), scale(-h.learningRate))
      })
      const out: Array<readonly [string, () => Built]> = [
        ["mask tree", make(MASK)],
        ["path predicate", make((path) => path !== "b")],
        ["fromParams", make(fromParams(() => MASK))]
      ]
      // On the quadratic the leaves differ in length: select by the leaf itself.
      if (c.problem === "quadratic") out.push(["leaf predicate", make((_path, leaf) => leaf.length > 1)])
      return out
    }
    case "maskedWeightDecay": {
      const make = (mask: Parameters<typeof masked>[1]) => () => ({
        tx: chain(masked(addDecayedWeights(h.weightDecay), mask), Optimizers.adam(h.learningRate))
      })
      return [
        ["mask tree", make(MASK)],
        ["fromParams", make(fromParams((p) => ({ b: false, w: Object.keys(p as object).length === 2 })))],
        ["path predicate", make((path) => path.startsWith("w"))]
      ]
    }
    case "partition": {
      const make = (labels: Parameters<typeof partition>[1]) => () => ({
        tx: partition(
          {
            adam: Optimizers.adam(h.adamLearningRate),
            sgd: Optimizers.sgd(h.sgdLearningRate, { momentum: h.momentum })
          },
          labels
        )
      })
      return [
        ["label tree", make(LABELS)],
        ["label function", make((path) => (path === "b" ? "sgd" : "adam"))]
      ]
    }
    case "injectAdam": {
      type H = { learningRate: number; b1: number; b2: number }
      const change = (step: number, state: unknown): void => {
        if (step !== h.changeAfter) return
        const s = state as InjectHyperparamsState<H, unknown>
        s.hyperparams.learningRate = h.changedLearningRate
        s.hyperparams.b2 = h.changedB2
      }
      const values = { learningRate: h.learningRate, b1: h.b1, b2: h.b2 }
      return [
        [
          "rebuilt on change",
          () => ({
            tx: injectHyperparams((p: H) => Optimizers.adam(p.learningRate, { b1: p.b1, b2: p.b2 }))(values),
            afterStep: change
          })
        ],
        [
          "live learning rate",
          () => ({
            tx: injectHyperparams((p: H, live) => Optimizers.adam(live.learningRate, { b1: p.b1, b2: p.b2 }))(
              values
            ),
            afterStep: change
          })
        ]
      ]
    }
    case "injectAdamSchedule": {
      type H = { learningRate: number; b1: number }
      // The same expression as the Python lambda of the fixture.
      const values = { learningRate: (t: number) => 1e-2 / (1 + t / 10), b1: h.b1 }
      return [
        [
          "rebuilt on change",
          () => ({ tx: injectHyperparams((p: H) => Optimizers.adam(p.learningRate, { b1: p.b1 }))(values) })
        ],
        [
          "live learning rate",
          () => ({
            tx: injectHyperparams((p: H, live) => Optimizers.adam(live.learningRate, { b1: p.b1 }))(values)
          })
        ]
      ]
    }
    case "multiStepsAdam":
      return [
        ["everyK number", () => ({ tx: multiSteps(Optimizers.adam(h.learningRate), { everyK: h.everyK }) })],
        [
          "everyK function",
          () => ({ tx: multiSteps(Optimizers.adam(h.learningRate), { everyK: () => h.everyK }) })
        ]
      ]
    case "multiStepsAdamSkip":
      return [
        [
          "skipNotFinite",
          () => ({
            tx: multiSteps(Optimizers.adam(h.learningRate), {
              everyK: h.everyK,
              shouldSkipUpdate: skipNotFinite
            })
          })
        ]
      ]
    case "multiStepsSgdSum":
      return [
        [
          "sum",
          () => ({
            tx: multiSteps(Optimizers.sgd(h.learningRate), { everyK: h.everyK, useGradMean: h.useGradMean })
          })
        ]
      ]
    case "emaDebias":
    case "emaDebiasTree":
    case "emaBiased":
      return [["ema", () => ({ tx: chain(ema(h.decay, { debias: h.debias }), scale(-h.learningRate)) })]]
    case "emaParamsAdam":
      return [
        [
          "emaParams last in a chain",
          () => ({
            tx: chain(Optimizers.adam(h.learningRate), emaParams(h.decay)),
            average: (s) => averagedParams((s as [unknown, EmaParamsState])[1])
          })
        ]
      ]
    default:
      throw new Error(`unknown fixture combinator ${c.combinator}`)
  }
}

/** The gradient of the fixture problem at p, in the fixture script's operation order. */
const gradient = (problem: Case["problem"], p: Float64Array, g: Float64Array): void => {
  if (problem === "rosenbrock") {
    const x = p[0]!
    const y = p[1]!
    const r = y - x * x
    g[0] = -2.0 * (1.0 - x) - 400.0 * x * r
    g[1] = 200.0 * r
  } else {
    for (let i = 0; i < p.length; i++) g[i] = lambdas[i]! * p[i]!
  }
}

/** `{ b: x[:1], w: x[1:] }` (copies). */
const toTree = (x: Float64Array): Params => ({
  b: Vector.clone(x.subarray(0, 1)),
  w: Vector.clone(x.subarray(1))
})

/** Runs a form of a case, calling `check(step, params, state)` after every step. */
const run = (
  c: Case,
  built: Built,
  check: (step: number, flat: Float64Array, state: unknown) => void
): unknown => {
  const nanSteps = (c.hyperparameters as { nanSteps?: ReadonlyArray<number> }).nanSteps ?? []
  const tree = c.representation === "tree"
  const x = Vector.fromArray(c.x0)
  const params: Params = tree ? toTree(x) : x
  const g = Vector.zeros(x.length)
  let state = built.tx.init(params)
  for (let step = 1; step <= fixture.steps; step++) {
    const flat = tree ? Tree.flatten(params) : (params as Float64Array)
    gradient(c.problem, flat, g)
    if (nanSteps.includes(step)) g[0] = Number.NaN
    const grad = tree ? toTree(g) : Vector.clone(g)
    const r = built.tx.update(grad, state, params)
    state = r.state
    applyUpdatesInPlace(params, r.updates)
    built.afterStep?.(step, state)
    check(step, tree ? Tree.flatten(params) : (params as Float64Array), state)
  }
  return state
}

/**
 * Tolerance of the MultiSteps trajectories on the quadratic.
 * `optax.MultiSteps` selects its branch with `lax.cond`, which compiles the
 * accumulation and the inner Adam update into one XLA computation, where
 * XLA:CPU may fuse multiply-adds (as `applyIfFinite` in transforms.test.ts);
 * every other reference update runs eagerly, op by op. Measured: bit-identical
 * up to step 50, 0.63 ε relative at step 100 (both MultiSteps cases);
 * 4 ε bounds it with margin. On Rosenbrock the trajectories are bit-identical.
 */
const COMPILED_BRANCH = 4 * Number.EPSILON

/**
 * Tolerance of `chain(masked(addDecayedWeights), adam)` on the quadratic's
 * two-leaf tree { b: 1 entry, w: 9 entries }. There Adam runs on the whole
 * tree, and Optax's jitted bias correction divides each leaf by 1 − βᵗ (XLA
 * rewrites the division into a multiplication by the reciprocal only for a
 * tree with a single leaf of ≥ 2 entries), while `Transforms.scaleByAdam`
 * always multiplies by the reciprocal (exactly right for single vectors): a
 * different operation order, hence not bit-identical. Measured: bit-identical
 * up to step 2, at most 1.37 ε relative (step 50); 4 ε bounds it. The masked
 * part (the weight decay on w only) is exact: the Rosenbrock tree (two
 * 1-entry leaves) and the other masking cases, where Adam sees one leaf, are
 * bit-identical.
 */
const ADAM_ON_A_TREE = 4 * Number.EPSILON

/** Cases compared with a tolerance instead of bit identity (see above), by `combinator/problem`. */
const tolerances: Record<string, number> = {
  "multiStepsAdam/quadratic": COMPILED_BRANCH,
  "multiStepsAdamSkip/quadratic": COMPILED_BRANCH,
  "maskedWeightDecay/quadratic": ADAM_ON_A_TREE
}

const tolerance = (c: Case): number | undefined => tolerances[`${c.combinator}/${c.problem}`]

const compare = (
  actual: ArrayLike<number>,
  expected: ReadonlyArray<number>,
  rtol: number | undefined,
  label: string
) => {
  if (rtol === undefined) assertBitIdentical(actual, expected, label)
  else assertClose(actual, expected, { rtol, atol: 0, label })
}

const rows = fixture.cases.flatMap((c) =>
  forms(c).map(([form, make]) => [`${c.combinator} (${form}) on ${c.problem}`, c, make] as const)
)

describe("combinators reproduce Optax 0.2.8 (float64) trajectories", () => {
  // Bit for bit (the same IEEE operations in the same order), which is
  // stronger than the 1e-13 relative budget, except the cases in `tolerances`.
  it.each(rows)("%s", (_name, c, make) => {
    const built = make()
    const rtol = tolerance(c)
    const seen: number[] = []
    const state = run(c, built, (step, p, s) => {
      const key = String(step)
      const expected = c.iterates[key]
      if (expected === undefined) return
      seen.push(step)
      compare(p, expected, rtol, `${c.combinator}/${c.problem} step ${step}`)
      if (c.slow !== undefined) {
        compare(Tree.flatten(built.slow!(s)), c.slow[key]!, rtol, `slow weights step ${step}`)
      }
      if (c.averages !== undefined) {
        compare(Tree.flatten(built.average!(s)), c.averages[key]!, rtol, `parameter EMA step ${step}`)
      }
    })
    expect(seen).toEqual(fixture.checkpoints)
    if (c.combinator.startsWith("multiSteps")) {
      const s = state as MultiStepsState<[{ count?: number }, unknown]>
      const actual: Record<string, unknown> = { miniStep: s.miniStep, gradientStep: s.gradientStep }
      if (c.finalState?.innerCount !== undefined) actual.innerCount = s.innerState[0].count
      expect(actual).toEqual(c.finalState)
    }
    if (c.combinator.startsWith("inject")) {
      const s = state as InjectHyperparamsState<Record<string, number>, unknown>
      const optaxNames: Record<string, string> = { learningRate: "learning_rate", b1: "b1", b2: "b2" }
      const expected = c.finalState as { count: number; hyperparams: Record<string, number> }
      expect(s.count).toBe(expected.count)
      for (const [name, value] of Object.entries(s.hyperparams)) {
        expect(value).toBe(expected.hyperparams[optaxNames[name]!])
      }
    }
  })

  it("covers every combinator on both problems", () => {
    const names = new Set(fixture.cases.map((c) => c.combinator))
    for (const name of [
      "lookaheadSgd",
      "lookaheadAdam",
      "lookaheadAdamReset",
      "maskedAdam",
      "maskedWeightDecay",
      "partition",
      "injectAdam",
      "injectAdamSchedule",
      "multiStepsAdam",
      "multiStepsAdamSkip",
      "multiStepsSgdSum",
      "emaDebias",
      "emaDebiasTree",
      "emaBiased",
      "emaParamsAdam"
    ]) {
      expect(names.has(name)).toBe(true)
    }
    expect(new Set(fixture.cases.map((c) => c.problem))).toEqual(new Set(["rosenbrock", "quadratic"]))
  })
})
