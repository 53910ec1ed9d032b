/**
 * The optimizer zoo sweep (in the spirit of Optax's `alias_test`): every named
 * optimizer, with the hyperparameters stated in the table below, drives the
 * 10-d ill-conditioned quadratic (condition number 10³) and Rosenbrock from
 * (−1.5, 2) below a stated threshold. The thresholds are loose multiples of
 * what the optimizers reach (a regression shows up as orders of magnitude),
 * and the table doubles as documentation of hyperparameters that work.
 */
import { Vector } from "@descent/core"
import { describe, expect, it } from "vitest"
import * as AdaHessian from "../src/AdaHessian.ts"
import * as CautiousWeightDecay from "../src/CautiousWeightDecay.ts"
import { type GradientTransform, step } from "../src/GradientTransform.ts"
import * as Grams from "../src/Grams.ts"
import * as Lookahead from "../src/Lookahead.ts"
import * as Optimizers from "../src/Optimizers.ts"
import * as Polyak from "../src/Polyak.ts"
import * as ScheduleFree from "../src/ScheduleFree.ts"
import * as Schedules from "../src/Schedules.ts"
import * as Shampoo from "../src/Shampoo.ts"
import * as Sophia from "../src/Sophia.ts"

/** ½ Σ λᵢ xᵢ², λ = logspace(0, 3, 10), from xᵢ = 1 + i/10: f(x₀) ≈ 1.2e3. */
const lambda = Array.from({ length: 10 }, (_, i) => 10 ** ((3 * i) / 9))
const quadratic = {
  name: "quadratic",
  steps: 2000,
  value: (x: Float64Array) => x.reduce((s, v, i) => s + 0.5 * lambda[i]! * v * v, 0),
  gradient: (x: Float64Array) => Vector.fromArray(Array.from(x, (v, i) => lambda[i]! * v)),
  hessianVectorProduct: (_x: Float64Array, v: Float64Array) =>
    Vector.fromArray(Array.from(v, (vi, i) => lambda[i]! * vi)),
  start: () => Vector.fromArray(Array.from({ length: 10 }, (_, i) => 1 + i / 10))
}
/** (1 − x)² + 100 (y − x²)² from (−1.5, 2): f(x₀) = 12.5, minimum 0 at (1, 1). */
const rosenbrock = {
  name: "rosenbrock",
  steps: 5000,
  value: (p: Float64Array) => (1 - p[0]!) ** 2 + 100 * (p[1]! - p[0]! ** 2) ** 2,
  gradient: (p: Float64Array) => {
    const x = p[0]!
    const r = p[1]! - x * x
    return Vector.fromArray([-2 * (1 - x) - 400 * x * r, 200 * r])
  },
  // ∇²f = [[2 − 400(y − 3x²), −400x], [−400x, 200]].
  hessianVectorProduct: (p: Float64Array, v: Float64Array) => {
    const x = p[0]!
    const hxx = 2 - 400 * (p[1]! - 3 * x * x)
    return Vector.fromArray([hxx * v[0]! - 400 * x * v[1]!, -400 * x * v[0]! + 200 * v[1]!])
  },
  start: () => Vector.fromArray([-1.5, 2])
}
type Problem = typeof quadratic

interface Entry {
  readonly name: string
  /** The optimizer for a run of `steps` steps (schedules decay over the run). */
  // biome-ignore lint/suspicious/noExplicitAny: the zoo mixes optimizers with different state types.
  readonly make: (steps: number) => GradientTransform<any>
  /** f(x_T) must be below these. */
  readonly quadratic: number
  readonly rosenbrock: number
  /** Schedule-free methods are evaluated at their averaged point x, not at the gradient point y. */
  readonly evaluateAt?: "x"
}

/** Linear decay to zero over the run ("When, Why and How Much?", Defazio et al. 2023). */
const decay = (peak: number, steps: number) => Schedules.linearDecay(peak, steps)

const zoo: ReadonlyArray<Entry> = [
  // Plain gradient descent is limited by the conditioning: η < 2/λ_max = 2e-3,
  // and the slowest mode contracts by (1 − η) per step.
  { name: "sgd", make: () => Optimizers.sgd(1.5e-3), quadratic: 5e-3, rosenbrock: 1e-3 },
  { name: "momentum", make: () => Optimizers.momentum(1e-3), quadratic: 1e-12, rosenbrock: 1e-12 },
  { name: "nesterov", make: () => Optimizers.nesterov(1e-3), quadratic: 1e-12, rosenbrock: 1e-12 },
  { name: "adagrad", make: () => Optimizers.adagrad(0.5), quadratic: 1e-12, rosenbrock: 1e-2 },
  { name: "rmsprop", make: (T) => Optimizers.rmsprop(decay(1e-2, T)), quadratic: 1e-12, rosenbrock: 1e-2 },
  {
    name: "rmsprop (centered)",
    make: (T) => Optimizers.rmsprop(decay(1e-2, T), { centered: true }),
    quadratic: 1e-6,
    rosenbrock: 1e-2
  },
  { name: "adam", make: () => Optimizers.adam(1e-2), quadratic: 1e-12, rosenbrock: 1e-12 },
  {
    name: "adamw",
    make: () => Optimizers.adamw(1e-2, { weightDecay: 1e-4 }),
    // Weight decay moves the fixed point off the minimum by O(λ).
    quadratic: 1e-12,
    rosenbrock: 1e-6
  },
  { name: "amsgrad", make: () => Optimizers.amsgrad(0.3), quadratic: 1e-12, rosenbrock: 1e-2 },
  { name: "adamax", make: () => Optimizers.adamax(1e-2), quadratic: 1e-12, rosenbrock: 1e-6 },
  { name: "nadam", make: () => Optimizers.nadam(1e-2), quadratic: 1e-12, rosenbrock: 1e-5 },
  // Lion moves every coordinate by ±η: it needs a decaying η to settle.
  { name: "lion", make: (T) => Optimizers.lion(decay(3e-3, T)), quadratic: 1e-5, rosenbrock: 1e-6 },
  { name: "grams", make: (T) => Grams.grams(decay(1e-2, T)), quadratic: 1e-12, rosenbrock: 1e-4 },
  {
    name: "adamw (cautious weight decay)",
    make: () => CautiousWeightDecay.adamwCautious(1e-2, { weightDecay: 1e-4 }),
    quadratic: 1e-12,
    rosenbrock: 1e-12
  },
  {
    name: "lion (cautious weight decay)",
    make: (T) => CautiousWeightDecay.lionCautious(decay(3e-3, T)),
    quadratic: 1e-6,
    rosenbrock: 1e-6
  },
  // Like SGD, bounded by η < 2/λ_max on the quadratic; the average x lags y.
  {
    name: "schedule-free SGD",
    make: () => ScheduleFree.scheduleFreeSgd(1.5e-3),
    quadratic: 5e-2,
    rosenbrock: 2e-2,
    evaluateAt: "x"
  },
  {
    name: "schedule-free AdamW",
    make: () => ScheduleFree.scheduleFreeAdamw(3e-2),
    quadratic: 1e-7,
    rosenbrock: 1e-3,
    evaluateAt: "x"
  },
  {
    name: "Polyak SGD (SPS-max)",
    make: () => Polyak.polyakSgd({ maxLearningRate: 1e-2 }),
    quadratic: 1e-5,
    rosenbrock: 1e-5
  },
  { name: "MoMo", make: () => Polyak.momo(1), quadratic: 1e-12, rosenbrock: 1e-12 },
  {
    name: "lookahead (adam, k = 5, α = 0.5)",
    make: () => Lookahead.lookahead(Optimizers.adam(1e-2), { syncPeriod: 5, slowStepSize: 0.5 }),
    quadratic: 1e-12,
    rosenbrock: 1e-6
  },
  // Shampoo grafts AdaGrad's step length onto its direction: AdaGrad-sized η.
  { name: "shampoo", make: () => Shampoo.shampoo(0.5), quadratic: 1e-12, rosenbrock: 1e-2 },
  // Hutchinson estimates of Rosenbrock's non-diagonal Hessian are noisy (the
  // off-diagonal −400x leaks into z ⊙ Hz): slow on Rosenbrock, exact on the quadratic.
  { name: "adahessian", make: () => AdaHessian.adahessian(0.5), quadratic: 1e-12, rosenbrock: 5e-2 },
  { name: "sophia", make: () => Sophia.sophia(1e-2), quadratic: 1e-12, rosenbrock: 1e-5 }
]

const run = (entry: Entry, problem: Problem): number => {
  const opt = entry.make(problem.steps)
  const x = problem.start()
  let state = opt.init(x)
  for (let t = 0; t < problem.steps; t++) {
    // The objective value (Polyak-type step sizes) and the exact Hessian-vector
    // product at x (AdaHessian, Sophia) travel as extras.
    const at = Vector.clone(x)
    state = step(opt, x, problem.gradient(x), state, {
      value: problem.value(x),
      hessianVectorProduct: (v) => problem.hessianVectorProduct(at, v as Float64Array)
    })
  }
  if (entry.evaluateAt === "x") return problem.value(ScheduleFree.evalParams(state, x) as Float64Array)
  return problem.value(x)
}

describe("optimizer zoo", () => {
  for (const entry of zoo) {
    it(`${entry.name} reduces the quadratic below ${entry.quadratic} and Rosenbrock below ${entry.rosenbrock}`, () => {
      const fq = run(entry, quadratic)
      const fr = run(entry, rosenbrock)
      expect(fq, `${entry.name} on the quadratic`).toBeLessThan(entry.quadratic)
      expect(fr, `${entry.name} on Rosenbrock`).toBeLessThan(entry.rosenbrock)
    })
  }
})
