/**
 * Shared by the paper-optimizer tests: the fixture written by
 * fixtures/generate_paper_optimizers.py, its two problems (gradients and
 * values in the script's operation order) and the optimization loop.
 */
import { Errors, Vector } from "@descent/core"
import { loadFixture } from "@descent/testing"
import { applyUpdatesInPlace, type GradientTransform } from "../src/GradientTransform.ts"

export interface PaperCase {
  readonly problem: "rosenbrock" | "quadratic"
  readonly optimizer: string
  readonly reference: string
  readonly hyperparameters: Record<string, number | boolean | string>
  readonly x0: ReadonlyArray<number>
  /** Parameters after each checkpoint step (for schedule-free: the gradient point y). */
  readonly iterates: Record<string, ReadonlyArray<number>>
  /** Schedule-free only: the evaluation point x after each checkpoint step. */
  readonly evalIterates?: Record<string, ReadonlyArray<number>>
  /** MoMo only: Optax proper (XLA's fused dot products); `iterates` use index-order dot products. */
  readonly optaxIterates?: Record<string, ReadonlyArray<number>>
}

export interface RefinedCase {
  readonly name: string
  readonly norm: "l1" | "l2"
  readonly source: string
  readonly smoothing: number
  readonly peakValue: number
  readonly gradientNorms: ReadonlyArray<number>
  readonly smoothed: ReadonlyArray<number>
  readonly values: ReadonlyArray<number>
}

export interface PaperFixture {
  readonly versions: Record<string, string>
  readonly steps: number
  readonly checkpoints: ReadonlyArray<number>
  readonly lambdas: ReadonlyArray<number>
  readonly cases: ReadonlyArray<PaperCase>
  readonly refined: ReadonlyArray<RefinedCase>
}

export const fixture = loadFixture<PaperFixture>(import.meta.url, "./fixtures/paper_optimizers.json")

const lambdas = Vector.fromArray(fixture.lambdas)

/** The fixture's cases of the given optimizers. */
export const casesOf = (...optimizers: ReadonlyArray<string>): ReadonlyArray<PaperCase> =>
  fixture.cases.filter((c) => optimizers.includes(c.optimizer))

/** ∇f in the operation order of the script's NumPy expressions. */
export const gradient = (problem: PaperCase["problem"], p: Float64Array, g: Float64Array): void => {
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

/** f in the operation order of the script. */
export const value = (problem: PaperCase["problem"], p: Float64Array): number => {
  if (problem === "rosenbrock") {
    const x = p[0]!
    const y = p[1]!
    const a = 1.0 - x
    const r = y - x * x
    return a * a + 100.0 * (r * r)
  }
  let s = 0
  for (let i = 0; i < p.length; i++) s += lambdas[i]! * p[i]! * p[i]!
  return 0.5 * s
}

// biome-ignore lint/suspicious/noExplicitAny: the optimizers' state types differ; the loop only threads them.
export type AnyTransform = GradientTransform<any>

/**
 * Runs `tx` on the case's problem for the fixture's number of steps, passing
 * f(x) in `extras.value`, and calls `onStep(step, params, state)` after each
 * update.
 */
export const run = (
  tx: AnyTransform,
  c: PaperCase,
  onStep: (step: number, params: Float64Array, state: unknown) => void
): void => {
  const p = Vector.fromArray(c.x0)
  const g = Vector.zeros(p.length)
  let state = tx.init(p)
  for (let step = 1; step <= fixture.steps; step++) {
    gradient(c.problem, p, g)
    const r = tx.update(g, state, p, { value: value(c.problem, p) })
    state = r.state
    applyUpdatesInPlace(p, r.updates)
    onStep(step, p, state)
  }
}

/** The `field` of the `Errors.InvalidOptions` thrown by `thunk` (rethrows other errors; undefined if none). */
export const invalidField = (thunk: () => unknown): string | undefined => {
  try {
    thunk()
  } catch (e) {
    if (e instanceof Errors.InvalidOptions) return e.field
    throw e
  }
  return undefined
}
