import { Errors, Vector } from "@descent/core"
import { assertBitIdentical, assertClose } from "@descent/testing"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { adahessian, adahessianDefaults, scaleByAdaHessian } from "../src/AdaHessian.ts"
import type { Params } from "../src/Tree.ts"
import {
  type FixtureCase,
  fixture,
  initialParams,
  named,
  objective,
  run,
  suboptimality
} from "./secondOrderProblems.ts"

/** fast-check runs from a pinned seed, so a failure reproduces exactly. */
const FC = { seed: 20_261_122, numRuns: 40 } as const

/** Four units in the last place: a closed form against the implemented operation order. */
const FEW_ULPS = 4 * Number.EPSILON

/**
 * Tolerance of the matrix least-squares case (per leaf, relative to the leaf's
 * largest entry). The reference's Hessian-vector product is NumPy's
 * Aᵀ(A·V·B)Bᵀ and the test's is `Autodiff.hvp`; both, like the gradients, are
 * inner products of length ≤ 6 summed in different orders: ≤ 6u ≈ 7e-16
 * relative per step. AdaHessian's step m̂/(|D̂| + ε) is Lipschitz in both with
 * a constant of order 1 here, so 50 steps stay below 50 · 7e-16 ≈ 3.5e-14.
 * (Observed: 1.6e-15.)
 */
const ROUNDOFF = 1e-13

/** Cases that agree with the reference bit for bit at every checkpoint. */
const bitIdentical = new Set(["adahessianQuadratic", "adahessianRosenbrock"])

const build = (c: FixtureCase) => {
  const h = c.hyperparameters as Record<string, never>
  return adahessian(h.learningRate, h)
}

describe("adahessian reproduces the NumPy reference of generate_second_order.py", () => {
  const cases = fixture.cases.filter((c) => c.optimizer === "adahessian")

  it("has the fixture's cases", () =>
    expect(cases.map((c) => c.name).sort()).toEqual([
      "adahessianMatrix",
      "adahessianQuadratic",
      "adahessianRosenbrock"
    ]))

  // The reference draws its Rademacher probes with jax.random (the key
  // schedule of optax.contrib's Hutchinson estimator), which core's Threefry
  // reproduces bit for bit, and takes closed-form Hessian-vector products;
  // here they come from `Autodiff.hvp`, exact on the quadratic and, on
  // Rosenbrock, equal to the closed form in every step.
  it.each(cases.map((c) => [c.name, c] as const))("%s", (name, c) => {
    run(
      build(c),
      c.problem,
      fixture.steps,
      (step, p) => {
        const expected = c.iterates[String(step)]
        if (expected === undefined) return
        for (const [leaf, values] of Object.entries(expected)) {
          const actual = named(p)[leaf]!
          const label = `${name} step ${step} leaf ${leaf}`
          if (bitIdentical.has(name)) assertBitIdentical(actual, values, label)
          else {
            const scale = Math.max(...values.map(Math.abs))
            assertClose(actual, values, { rtol: 0, atol: ROUNDOFF * scale, label })
          }
        }
      },
      "autodiff"
    )
  })
})

/** ½ Σ cᵢ xᵢ²: gradient c ⊙ x, Hessian diag(c). */
const diagonalHvp =
  (c: Float64Array) =>
  (v: Params): Params => {
    const out = Vector.zeros(c.length)
    for (let i = 0; i < c.length; i++) out[i] = c[i]! * (v as Float64Array)[i]!
    return out
  }

const runDiagonal = (
  tx: ReturnType<typeof adahessian>,
  c: Float64Array,
  x0: ReadonlyArray<number>,
  steps: number
): Float64Array[] => {
  const x = Vector.fromArray(x0)
  const g = Vector.zeros(x.length)
  let state = tx.init(x)
  const path: Float64Array[] = []
  for (let t = 0; t < steps; t++) {
    for (let i = 0; i < x.length; i++) g[i] = c[i]! * x[i]!
    const r = tx.update(g, state, x, { hessianVectorProduct: diagonalHvp(c) })
    state = r.state
    const u = r.updates as Float64Array
    for (let i = 0; i < x.length; i++) x[i] = x[i]! + u[i]!
    path.push(Vector.clone(x))
  }
  return path
}

describe("adahessian's Hutchinson estimate", () => {
  it("is exact on a diagonal Hessian: every seed gives the same trajectory", () => {
    // z ⊙ (diag(c)·z) = c ⊙ z² = c for every Rademacher z, bit for bit.
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (curvature, seedA, seedB) => {
          const c = Vector.fromArray(curvature)
          const x0 = curvature.map((_, i) => 1 + i / 4)
          const a = runDiagonal(adahessian(0.05, { seed: seedA }), c, x0, 5)
          const b = runDiagonal(adahessian(0.05, { seed: seedB }), c, x0, 5)
          a.forEach((x, t) => {
            assertBitIdentical(x, b[t]!, `step ${t + 1}`)
          })
        }
      ),
      FC
    )
  })

  it("the same seed gives bit-identical trajectories on Rosenbrock; another seed does not", () => {
    const path = (seed: number) => {
      const out: number[] = []
      run(
        adahessian(0.02, { seed }),
        "rosenbrock",
        30,
        (_s, p) => out.push(...(p as Float64Array)),
        "autodiff"
      )
      return out
    }
    const a = path(42)
    assertBitIdentical(Vector.fromArray(a), path(42), "same seed")
    expect(path(43)).not.toEqual(a)
  })

  it("first step on a diagonal Hessian is g/(|c| + ε), per coordinate", () => {
    const c = Vector.fromArray([2, -3, 0.5, 8])
    const x = Vector.fromArray([1, 1, -2, 0.25])
    const g = Vector.zeros(4)
    for (let i = 0; i < 4; i++) g[i] = c[i]! * x[i]!
    const expected = Array.from(g, (gi, i) => gi / (Math.abs(c[i]!) + 1e-4))
    const tx = scaleByAdaHessian()
    const u = tx.update(Vector.clone(g), tx.init(x), x, { hessianVectorProduct: diagonalHvp(c) }).updates
    assertClose(u as Float64Array, expected, { rtol: FEW_ULPS })
  })

  it("spatial averaging replaces D by its block means", () => {
    // Blocks of 2: D = (2, −3 | 0.5, 8) → (−0.5, −0.5 | 4.25, 4.25).
    const c = Vector.fromArray([2, -3, 0.5, 8])
    const x = Vector.fromArray([1, 1, -2, 0.25])
    const g = Vector.zeros(4)
    for (let i = 0; i < 4; i++) g[i] = c[i]! * x[i]!
    const means = [0.5, 0.5, 4.25, 4.25]
    const expected = Array.from(g, (gi, i) => gi / (means[i]! + 1e-4))
    for (const blockSizes of [[2], { "": 2 }] as const) {
      const tx = scaleByAdaHessian({ blockSizes })
      const u = tx.update(Vector.clone(g), tx.init(x), x, { hessianVectorProduct: diagonalHvp(c) }).updates
      assertClose(u as Float64Array, expected, { rtol: FEW_ULPS })
    }
  })

  it("hessianPower 0 is bias-corrected momentum SGD: m̂/(1 + ε)", () => {
    const c = Vector.fromArray([2, -3])
    const path = runDiagonal(adahessian(0.1, { hessianPower: 0, b1: 0.5 }), c, [1, 1], 1)
    // Step 1: m̂ = g, u = −η·g/(1 + ε).
    assertClose(path[0]!, [1 - (0.1 * 2) / (1 + 1e-4), 1 + (0.1 * 3) / (1 + 1e-4)], { rtol: FEW_ULPS })
  })
})

describe("adahessian reduces the test problems", () => {
  it("10-d quadratic (κ = 1e3): f drops below 1e-6·f(x₀) in 200 steps (the paper's η = 0.15)", () => {
    const f0 = objective("quadratic", initialParams("quadratic"))
    const p = run(adahessian(0.15), "quadratic", 200, () => {}, "exact")
    expect(objective("quadratic", p)).toBeLessThan(1e-6 * f0)
  })

  it("Rosenbrock: f drops below ½·f(x₀) in 300 steps", () => {
    // Diagonal Newton-like steps crawl along the curved valley (f = 5.78 after
    // 300 steps, 5.40 after 1000, from 12.5): a sanity check, not a race.
    const f0 = objective("rosenbrock", initialParams("rosenbrock"))
    const p = run(adahessian(0.15), "rosenbrock", 300, () => {}, "autodiff")
    expect(objective("rosenbrock", p)).toBeLessThan(0.5 * f0)
  })

  it("matrix least squares: f − f* < 2e-2·(f(x₀) − f*) in 100 steps", () => {
    const gap0 = suboptimality("matrixLs", initialParams("matrixLs"))
    const p = run(adahessian(0.1), "matrixLs", 100, () => {}, "autodiff")
    expect(suboptimality("matrixLs", p)).toBeLessThan(2e-2 * gap0)
  })
})

describe("adahessian's errors", () => {
  const invalid: ReadonlyArray<readonly [string, () => unknown]> = [
    ["b1", () => scaleByAdaHessian({ b1: -0.5 })],
    ["b2", () => scaleByAdaHessian({ b2: 1 })],
    ["eps", () => scaleByAdaHessian({ eps: Number.POSITIVE_INFINITY })],
    ["hessianPower", () => scaleByAdaHessian({ hessianPower: 1.5 })],
    ["seed", () => scaleByAdaHessian({ seed: 0.5 })],
    ["blockSizes", () => scaleByAdaHessian({ blockSizes: [0] }).init(Vector.zeros(4))],
    ["blockSizes", () => scaleByAdaHessian({ blockSizes: { w: 2 } }).init({ v: Vector.zeros(4) })],
    ["blockSizes", () => scaleByAdaHessian({ blockSizes: [2, 2] }).init(Vector.zeros(4))],
    ["weightDecay", () => adahessian(0.1, { weightDecay: -1 })],
    ["learningRate", () => adahessian(Number.NaN)]
  ]
  it.each(invalid)("InvalidOptions names %s", (field, make) => {
    try {
      make()
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(Errors.InvalidOptions)
      expect((e as Errors.InvalidOptions).field).toBe(field)
    }
  })

  it("a missing Hessian-vector product is InvalidOptions naming hessianVectorProduct", () => {
    const tx = adahessian(0.1)
    const x = Vector.fromArray([1, 2])
    expect(() => tx.update(Vector.fromArray([1, 1]), tx.init(x), x, {})).toThrow(
      expect.objectContaining({ _tag: "InvalidOptions", field: "hessianVectorProduct" })
    )
  })

  it("a leaf that is not a whole number of blocks, or mismatched updates, are DimensionMismatch", () => {
    expect(() => scaleByAdaHessian({ blockSizes: [3] }).init(Vector.zeros(4))).toThrow(
      Errors.DimensionMismatch
    )
    const tx = adahessian(0.1)
    const x = Vector.fromArray([1, 2])
    expect(() =>
      tx.update(Vector.fromArray([1]), tx.init(x), x, { hessianVectorProduct: (v: Params) => v })
    ).toThrow(Errors.DimensionMismatch)
  })

  it("documents the reference implementation's defaults", () => {
    expect(adahessianDefaults).toEqual({
      b1: 0.9,
      b2: 0.999,
      eps: 1e-4,
      hessianPower: 1,
      seed: 0,
      blockSizes: {},
      weightDecay: 0
    })
  })
})
